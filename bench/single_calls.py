"""Single calls, one at a time (the interactive path): what a call costs the whole machine, beside
the raw floor of a call measured in the same run.

    python -m bench.single_calls [--calls 200] [--rounds 5] [--no-assess]

Starts a whole hub as `make run` does (on PostgreSQL, its own namespace), warms it up, then in each
round sends `calls` sequential RegisterEnterprise, ReportDanger (and AssessDanger) calls over gRPC and
waits until the hub has finished what they set off (relays, consumers, the audit chain, the console's
read model). The CPU of a call is the CPU time (user + system, /proc) of every hub process, of the
PostgreSQL backends of the hub's own connections, of RabbitMQ's beam and of this client, from the
first call until the hub is quiet, less what the same processes spend idle over as long, divided by
the calls.

The raw floor, in the same round: a gRPC unary call to a trivial in-process servicer that saves one
small aggregate with eventsourcing on PostgreSQL and publishes one persistent message with publisher
confirms (kombu); its CPU per call counted likewise (this process, its backends, RabbitMQ).

PostgreSQL and RabbitMQ are shared with other users of the machine: a backend counts when its client
port is a socket of ours; RabbitMQ's beam is counted whole (others' traffic is noise in both figures).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from hub.v1 import danger_pb2 as dpb
from hub.v1 import enterprise_pb2 as epb
from kombu import Connection, Exchange, Producer, Queue
from rich.console import Console
from rich.table import Table

from bench.common import Result, stop_on_signals
from bench.servers import local_ports
from services.backbone.store import ensure_postgres_schema
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e.danger_client import Erp, evidence
from tests.factories import enterprise_fields

TICKS = os.sysconf("SC_CLK_TCK")
CLIENT, POSTGRES, RABBIT = "client (this process)", "PostgreSQL backends", "RabbitMQ"
PORT = re.compile(r"\((\d+)\)")
TARGET = 5.0  # issue 28: whole-system CPU per call at most 5× the raw floor


# --- CPU of processes, by process group, of our PostgreSQL backends, of RabbitMQ --------------------


def _stat(pid: str) -> tuple[str, list[str]] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def snapshot(groups: dict[str, int]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each process: {group name: {pid: seconds}}; the groups are process
    groups (each hub process runs in a session of its own) or, for CLIENT, this process; PostgreSQL
    backends are those whose client is a socket of one of these processes."""
    by_group: dict[int, str] = {pgrp: name for name, pgrp in groups.items() if name != CLIENT}
    found: dict[str, dict[int, float]] = {name: {} for name in (*groups, POSTGRES, RABBIT)}
    members: set[int] = {os.getpid()}
    backends: dict[int, tuple[int, float]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        got = _stat(entry.name)
        if got is None:
            continue
        command, fields = got
        pid, seconds = int(entry.name), (int(fields[11]) + int(fields[12])) / TICKS
        if command == "beam.smp":
            found[RABBIT][pid] = seconds
        elif command == "postgres":
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if port := PORT.search(title):
                backends[pid] = (int(port.group(1)), seconds)
        elif (name := by_group.get(int(fields[2]))) is not None:
            found[name][pid] = seconds
            members.add(pid)
    if CLIENT in groups:
        found[CLIENT][os.getpid()] = sum(os.times()[:2])
    ours = local_ports(members)
    found[POSTGRES] = {pid: s for pid, (port, s) in backends.items() if port in ours}
    return found


def used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
    """CPU seconds each group spent between two snapshots (a process new since counts from zero)."""
    return {
        name: sum(s - before.get(name, {}).get(pid, 0.0) for pid, s in procs.items())
        for name, procs in after.items()
    }


def quiet_until(groups: dict[str, int], idle: dict[str, float], timeout: float = 120.0) -> None:
    """Waits until the hub's processes spend, over a second, at most a little more than idle."""
    hub = [name for name in groups if name != CLIENT]
    floor = sum(idle.get(name, 0.0) for name in hub)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = snapshot(groups)
        time.sleep(1.0)
        spent = used(before, snapshot(groups))
        if sum(spent[name] for name in hub) <= floor + 0.03:
            return


def idle_rates(groups: dict[str, int], seconds: float = 5.0) -> dict[str, float]:
    """CPU seconds per second each group spends with nothing to do (timers, heartbeats, metrics)."""
    before = snapshot(groups)
    time.sleep(seconds)
    return {name: max(0.0, s / seconds) for name, s in used(before, snapshot(groups)).items()}


def measure(
    groups: dict[str, int], idle: dict[str, float], calls: int, one: Callable[[int], Any], settle: bool
) -> dict[str, float]:
    """CPU milliseconds per call of each group: `calls` sequential calls, then (with `settle`) until
    the hub is quiet again, less idle CPU over the same time."""
    before, started = snapshot(groups), time.monotonic()
    for i in range(calls):
        one(i)
    if settle:
        quiet_until(groups, idle)
    spent, elapsed = used(before, snapshot(groups)), time.monotonic() - started
    return {
        name: max(0.0, s - (idle.get(name, 0.0) * elapsed if name != CLIENT else 0.0)) / calls * 1000
        for name, s in spent.items()
    }


# --- the raw floor: one gRPC call, one eventsourcing save, one confirmed publish ---------------------


class Thing(Aggregate):
    @event("Made")
    def __init__(self, name: str) -> None:
        self.name = name


class RawFloor:
    """A trivial gRPC servicer in this process whose method saves one small aggregate with eventsourcing
    on PostgreSQL and publishes one persistent, confirmed message."""

    def __init__(self, settings: Any) -> None:
        env = settings._persistence("benchraw")  # noqa: SLF001 - plain eventsourcing: not encrypted
        ensure_postgres_schema(env)
        self.schema, self.database_url = env["POSTGRES_SCHEMA"], settings.database_url
        self.app = Application(
            env={**env, "PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y"}
        )
        self.amqp = Connection(settings.amqp_uri, transport_options={"confirm_publish": True})
        self.exchange = Exchange("bench.raw", type="topic", durable=True)
        self.queue = Queue("bench.raw", self.exchange, routing_key="#", durable=True)
        self.queue(self.amqp.default_channel).declare()
        self.producer = Producer(self.amqp.default_channel, exchange=self.exchange)
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        handler = grpc.unary_unary_rpc_method_handler(self.handle)
        self.server.add_generic_rpc_handlers(
            (grpc.method_handlers_generic_handler("bench.Raw", {"Call": handler}),)
        )
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.call = self.channel.unary_unary("/bench.Raw/Call")

    def handle(self, request: bytes, _context: Any) -> bytes:
        thing = Thing(name=request[:40].hex())
        self.app.save(thing)
        self.producer.publish(
            {"id": str(thing.id), "name": thing.name},
            routing_key="raw.made",
            delivery_mode=2,
            serializer="json",
        )
        return thing.id.bytes

    def close(self) -> None:
        self.channel.close()
        self.server.stop(grace=None)
        self.queue(self.amqp.default_channel).delete()
        self.exchange(self.amqp.default_channel).delete()
        self.amqp.release()
        self.app.close()
        with psycopg.connect(self.database_url, autocommit=True) as pg:
            pg.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')


# --- the hub's calls -------------------------------------------------------------------------------


class Calls:
    """RegisterEnterprise, ReportDanger and AssessDanger as an ERP sends them, each call unique."""

    def __init__(self, hub: Hub) -> None:
        self.hub, self.channel = hub, grpc.insecure_channel(hub.gateway_address)
        self.erp = Erp.register(hub, self.channel, 7_000_000)
        self.registered = 7_100_000
        self.dangers: list[str] = []

    def register(self, _i: int) -> None:
        self.registered += 1
        fields = enterprise_fields(self.registered)
        contacts = [epb.Contact(**c) for c in fields.pop("contacts")]
        self.erp.enterprises.RegisterEnterprise(
            epb.RegisterEnterpriseRequest(profile=epb.EnterpriseProfile(**fields, contacts=contacts)),
            metadata=(("x-hub-registration-token", self.hub.registration_token),),
            timeout=30,
        )

    def report(self, _i: int) -> None:
        answer = self.erp.stub.ReportDanger(
            dpb.ReportDangerRequest(
                risk_point_id=self.erp.risk_point_id,
                inspection_type=dpb.INSPECTION_TYPE_ROUTINE,
                description="配电箱接地线脱落",
                evidence=evidence("before.jpg"),
                found_on="2026-11-20",
                reported_by="赵班长",
                idempotency_key=uuid.uuid4().hex,
            ),
            metadata=self.erp.metadata,
            timeout=30,
        )
        self.dangers.append(answer.danger.danger_id)

    def assess(self, i: int) -> None:
        self.erp.stub.AssessDanger(
            dpb.AssessDangerRequest(
                danger_id=self.dangers[i], grade=dpb.DANGER_GRADE_GENERAL, assessed_by="安全科"
            ),
            metadata=self.erp.metadata,
            timeout=30,
        )


def run(calls: int = 200, rounds: int = 5, assess: bool = True) -> list[Result]:
    console = Console()
    paths = ["RegisterEnterprise", "ReportDanger", *(["AssessDanger"] if assess else [])]
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in ("raw floor", *paths)}
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        hub = Hub(settings, Path(tmp))
        raw = None
        try:
            hub.start_all()
            raw = RawFloor(settings)
            hub_calls = Calls(hub)
            do = {
                "RegisterEnterprise": hub_calls.register,
                "ReportDanger": hub_calls.report,
                "AssessDanger": hub_calls.assess,
            }
            payload = epb.RegisterEnterpriseRequest(
                profile=epb.EnterpriseProfile(**{**enterprise_fields(1), "contacts": []})
            ).SerializeToString()
            groups = {**{name: proc.pid for name, proc in hub.procs.items()}, CLIENT: os.getpid()}
            console.print(f"warming up ({max(20, calls // 10)} calls of each path) …")
            for _ in range(max(20, calls // 10)):
                raw.call(payload, timeout=10)
                for name in paths:
                    do[name](len(hub_calls.dangers) - 1)
            quiet_until(groups, {}, timeout=60)
            for r in range(rounds):
                idle = idle_rates(groups)
                idle_hub = sum(v for k, v in idle.items() if k != CLIENT)
                console.print(f"round {r + 1}/{rounds}: idle hub {idle_hub:.2f} cores")
                rows["raw floor"].append(
                    measure(groups, idle, calls, lambda _i: raw.call(payload, timeout=10), False)
                )
                first = len(hub_calls.dangers)
                for name in paths:
                    one = do[name] if name != "AssessDanger" else (lambda i, f=first: hub_calls.assess(f + i))
                    rows[name].append(measure(groups, idle, calls, one, True))
        finally:
            if raw is not None:
                raw.close()
            hub.stop()
    return report(console, rows, calls, rounds)


def report(
    console: Console, rows: dict[str, list[dict[str, float]]], calls: int, rounds: int
) -> list[Result]:
    """Per path, the median per-call CPU of each process over the rounds, and the ratio of the sums."""
    medians = {
        path: {name: statistics.median(r[name] for r in runs) for name in runs[0]}
        for path, runs in rows.items()
    }
    totals = {path: statistics.median(sum(r.values()) for r in runs) for path, runs in rows.items()}
    floor = totals["raw floor"]
    table = Table(title=f"CPU per call, ms (median of {rounds} rounds of {calls} sequential calls)")
    table.add_column("process")
    for path in medians:
        table.add_column(path, justify="right")
    names = sorted(
        {n for m in medians.values() for n in m}, key=lambda n: -max(m.get(n, 0) for m in medians.values())
    )
    for name in names:
        if max(m.get(name, 0.0) for m in medians.values()) >= 0.05:
            table.add_row(name, *(f"{m.get(name, 0.0):.2f}" for m in medians.values()))
    table.add_row("[b]whole system[/b]", *(f"[b]{totals[p]:.2f}[/b]" for p in medians))
    table.add_row("× raw floor", *(f"{totals[p] / floor:.1f}×" for p in medians))
    console.print(table)
    return [
        Result(
            f"{path}, sequential: whole-system CPU per call",
            1000 / totals[path],
            "raw floor: gRPC + save + confirmed publish",
            1000 / floor,
            unit="calls/CPU-s",
            target=1 / TARGET,
            extra={
                "cpu_ms_per_call": round(totals[path], 3),
                "floor_cpu_ms_per_call": round(floor, 3),
                "times_floor": round(totals[path] / floor, 2),
                **{f"cpu_ms_{name}": round(ms, 3) for name, ms in medians[path].items() if ms >= 0.01},
            },
        )
        for path in medians
        if path != "raw floor"
    ]


def main() -> None:
    from bench.common import save, show

    stop_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-assess", action="store_true")
    args = parser.parse_args()
    results = run(args.calls, args.rounds, not args.no_assess)
    show(results, "Single calls (ratio = floor's CPU per call / the hub's)")
    print(f"written: {save(results, 'single_calls')}")


if __name__ == "__main__":
    main()
