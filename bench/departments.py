"""Department exchange: 200 filings × 20 departments, submission → last receipt, beside raw gRPC.

    python -m bench.departments [--filings 200 --departments 20 --rate 20]

Twenty reference platforms run as processes of their own, as departments' platforms would; routing
sends every filing to all of them (and the town office). The enterprises are registered, compiled and
their signatures made beforehand; then filings are submitted on a fixed schedule (several ERP
threads, so a slow answer does not delay the next submission). The latency of a filing is the time
from its Submitted event to the last department's acknowledgement, read from the filing store's own
event timestamps. The raw baseline is the same ReceiveFiling call made directly to one platform.

CPU is counted for every process (hub, platforms, PostgreSQL, RabbitMQ) and shown per filing, beside
the floor no hub can go under on this machine: one raw call per department (caller and platform) and
the hub's own signature checks. The platforms share the machine's cores with the hub here; a
department's platform would run on its own machine.

Issue 28's ratio is printed too: the hub's and the servers' CPU per filing over the hub's irreducible
work measured in the same run (23 SM2 checks and 21 gRPC client calls of the filing's payload:
bench/irreducible.py); the servers' part is this hub's PostgreSQL backends and RabbitMQ net of what
it used before the run (bench/servers.py), since other hubs may share them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import grpc
from hub.v1 import filing_pb2 as fpb
from nameko.standalone.rpc import ClusterRpcProxy
from rich.console import Console
from rich.table import Table

from bench.common import Result, cpu_between, cpu_seconds, quiet, stop_on_signals
from bench.irreducible import raw_calls, sample_filing, sm2_cost
from bench.servers import PostgresShare
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.kernel import signatures
from tests.conftest import Hub, free_port, isolated_hub_settings
from tests.e2e.filing_flow import Filer

SUBMITTED = "services.filing.domain:Filing.Submitted"
RECORDED = "services.filing.domain:DeliveryLedger.Recorded"
WARM_UP = 5  # filings submitted and answered before the measured ones
BACKGROUND_S = 3.0  # seconds of RabbitMQ's CPU measured while this hub is quiet


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)] if ordered else 0.0


def latencies_from_store(filing: FilingApplication, measured: set[str]) -> tuple[list[float], float, float]:
    """Per measured enterprise's filing: last acknowledgement − submission (s); and the first and
    last event times among them."""
    submitted: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    for topic, target in ((SUBMITTED, submitted), (RECORDED, last)):
        start = 1
        while page := filing.recorder.select_notifications(start=start, limit=5000, topics=[topic]):
            for n in page:
                event = filing.mapper.to_domain_event(n)
                if str(vars(event)["enterprise_id"]) not in measured:
                    continue
                key = f"{vars(event)['enterprise_id']}/{vars(event)['version']}"
                if topic == RECORDED and all(m["outcome"] != "acknowledged" for m in vars(event)["moves"]):
                    continue
                target[key] = max(target.get(key, event.timestamp), event.timestamp)
            start = page[-1].id + 1
    spans = [(last[k] - submitted[k]).total_seconds() for k in submitted if k in last]
    return spans, min(submitted.values()).timestamp(), max(last.values()).timestamp()


def answered_in_store(
    filing: FilingApplication, measured: set[str], expected: int, timeout: float = 600
) -> None:
    """Waits until the filing store holds `expected` answers (acknowledged or rejected) to the measured
    enterprises' filings, reading its log from where the last look stopped."""
    deadline, start, answered = time.monotonic() + timeout, 1, 0
    while answered < expected:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{answered} of {expected} answers stored after {timeout:g} s")
        page = filing.recorder.select_notifications(start=start, limit=5000, topics=[RECORDED])
        for n in page:
            event = vars(filing.mapper.to_domain_event(n))
            if str(event["enterprise_id"]) in measured:
                answered += sum(m["outcome"] in ("acknowledged", "rejected") for m in event["moves"])
        if page:
            start = page[-1].id + 1
        else:
            time.sleep(0.2)


def start_platforms(codes: list[str], root: Path) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    """Each department's reference platform in a process of its own, as `make run` starts them."""
    procs, addresses = [], []
    for code in codes:
        address = f"127.0.0.1:{free_port()}"
        (root / code).mkdir(parents=True, exist_ok=True)
        log = open(root / code / "platform.log", "ab")  # noqa: SIM115 - kept with the process
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "departments.reference.server",
                    "--code",
                    code,
                    "--address",
                    address,
                    "--data-dir",
                    str(root / code),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own: its CPU is counted by group
            )
        )
        addresses.append(address)
    for address in addresses:
        channel = grpc.insecure_channel(address)
        grpc.channel_ready_future(channel).result(timeout=60)
        channel.close()
    return procs, addresses


def run(filings: int = 200, departments: int = 20, rate: float = 20.0) -> list[Result]:
    console = Console()
    with tempfile.TemporaryDirectory() as tmp, isolated_hub_settings(Path(tmp)) as settings:
        codes = [f"BENCH-{i:02d}" for i in range(departments)]
        platforms, addresses = start_platforms(codes, Path(tmp) / "platforms")
        hub = Hub(settings, Path(tmp))
        try:
            hub.start_all()
            with ClusterRpcProxy(settings.nameko_config) as rpc:
                for code, address in zip(codes, addresses, strict=True):
                    rpc.registry.add_department(
                        {"code": code, "name": code, "kind": "安监", "town": "", "endpoint": address}
                    )
                rpc.registry.add_department(
                    {
                        "code": "TOWN-ZSZ",
                        "name": "张山子镇安委会办公室",
                        "kind": "镇安委会办公室",
                        "town": "张山子镇",
                        "endpoint": hub.platforms["TOWN-ZSZ"],
                    }
                )
                rpc.registry.set_routing_rule("*", "*", codes)
            console.print(f"registering, compiling and signing {filings} registers (+{WARM_UP} to warm up) …")
            warm_up = [prepared(Filer.register(hub, 4000 + n)) for n in range(WARM_UP)]
            requests = [prepared(Filer.register(hub, 5000 + n)) for n in range(filings)]
            filers = [filer for filer, _, _ in requests]
            # A few filings first, not measured: every process's first call pays for connections
            # (the adapter's to each platform, RPC reply queues) that a running hub has made long ago.
            submit_on_schedule(warm_up, 2.0)
            for filer, c, _ in warm_up:
                filer.wait_answered(int(c.version.version), timeout=120)
            groups = {**hub.procs, **{f"platform-{c}": p for c, p in zip(codes, platforms, strict=True)}}
            # Whatever the registrations and compilations just made left the consumers to catch up on
            # (the notices' directory, the audit chain) is done before the measured submissions, as a
            # running hub would have done it long ago (here it took about a second).
            waited = quiet(groups)
            # RabbitMQ serves the other hubs on this machine too: what it uses while this one is quiet
            background = cpu_seconds({}, servers=True)
            time.sleep(BACKGROUND_S)
            broker_background = (
                cpu_between(background, cpu_seconds({}, servers=True))["RabbitMQ"] / BACKGROUND_S
            )
            console.print(f"hub quiet after {waited:.0f} s; submitting at {rate:g}/s …")
            share = PostgresShare(groups).start()
            cpu_before, clock = cpu_seconds(groups, servers=True), time.monotonic()
            store = open_store(FilingApplication, settings)
            offered = submit_on_schedule(requests, rate)
            # the end is read from the filing store, not by asking the hub every filing's ledger (200
            # status calls of 21 entries each were the bench's work, counted as the hub's)
            answered_in_store(store, {f.enterprise_id for f in filers}, filings * (departments + 1))
            used = cpu_between(cpu_before, cpu_seconds(groups, servers=True))
            elapsed, postgres_hub = time.monotonic() - clock, share.stop()
            for filer, c, _ in requests:  # and every filing answered, as its enterprise sees it
                filer.wait_answered(int(c.version.version), timeout=600)
            cpu = {k: v for k, v in used.items() if not k.startswith("platform-BENCH")}
            cpu["platforms"] = sum(v for k, v in used.items() if k.startswith("platform-BENCH"))
            # the shared servers' part this hub caused (see bench/servers.py)
            cpu["PostgreSQL (this hub)"] = postgres_hub
            cpu["RabbitMQ (net)"] = max(0.0, cpu["RabbitMQ"] - broker_background * elapsed)
            console.print("CPU ms per filing by process, from the first submission to the last receipt:")
            console.print(
                {
                    k: round(v / filings * 1000, 1)
                    for k, v in sorted(cpu.items(), key=lambda kv: -kv[1])
                    if v >= 0.02
                }
            )
            spans, first, last = latencies_from_store(store, {f.enterprise_id for f in filers})
            store.close()
            raw_rate, raw_latencies, raw_cpu, client_cpu = raw_calls(
                addresses[0], platforms[0], sample_filing(filers[0], requests[0][1], codes[0]), 500
            )
            verify_s, sign_s = sm2_cost(filers[0], requests[0][1].canonical_document)
        finally:
            hub.stop()
            for proc in platforms:
                proc.terminate()
            for proc in platforms:
                proc.wait(timeout=20)
    deliveries = filings * (departments + 1)
    hub_rate = deliveries / (last - first)
    table = Table(title=f"{filings} filings × {departments + 1} departments at {rate:g} filings/s")
    for column in ("", "hub (submission → last receipt)", "raw gRPC ReceiveFiling"):
        table.add_column(column)
    table.add_row("filings submitted/s", f"{offered:,.1f}", "")
    table.add_row("deliveries/s", f"{hub_rate:,.0f}", f"{raw_rate:,.0f}")
    table.add_row(
        "p50", f"{percentile(spans, 0.5) * 1000:,.0f} ms", f"{percentile(raw_latencies, 0.5) * 1000:,.1f} ms"
    )
    table.add_row(
        "p99",
        f"{percentile(spans, 0.99) * 1000:,.0f} ms",
        f"{percentile(raw_latencies, 0.99) * 1000:,.1f} ms",
    )
    # What SM2 alone asks of this machine: each platform checks both enterprise signatures and signs
    # its receipt, the adapter checks each receipt, filing checks both signatures at submission.
    recipients = departments + 1
    verifies, signs = 2 + 3 * recipients, recipients
    sm2_ms = (verifies * verify_s + signs * sign_s) * 1000
    cores = os.cpu_count() or 1
    window = last - first
    attributed = ("PostgreSQL (this hub)", "RabbitMQ (net)")
    busy = sum(v for k, v in cpu.items() if k not in attributed)
    servers = cpu.get("PostgreSQL", 0.0) + cpu.get("RabbitMQ", 0.0)
    platforms_s = cpu["platforms"] + cpu.get("platform-town", 0.0)
    hub_s = busy - platforms_s - servers
    servers_hub = sum(cpu[k] for k in attributed)
    per_filing_ms = busy / filings * 1000
    # The hub's irreducible work per filing, measured here: the two enterprise signatures checked at
    # submission and each department's receipt, and one gRPC client call per department.
    irreducible_ms = ((recipients + 2) * verify_s + recipients * client_cpu) * 1000
    ratio = (hub_s + servers_hub) / filings * 1000 / irreducible_ms
    # The least a filing can cost on this machine, whatever the hub does: one raw call per department
    # (caller and platform, the platform's own checks and signature included) and the hub's checks of
    # the receipts and of the two signatures at submission.
    floor_ms = (recipients * raw_cpu + (recipients + 2) * verify_s) * 1000
    table.add_row(
        "CPU used (hub, platforms, PostgreSQL, RabbitMQ)", f"{busy / window:.1f} cores of {cores}", ""
    )
    table.add_row(
        "CPU per filing",
        f"{per_filing_ms:.0f} ms: platforms {platforms_s / filings * 1000:.0f},"
        f" hub {(busy - platforms_s - servers) / filings * 1000:.0f},"
        f" PostgreSQL and RabbitMQ {servers / filings * 1000:.0f}",
        f"{raw_cpu * 1000:.1f} ms a call (caller and platform)",
    )
    table.add_row(
        f"floor per filing ({recipients} raw calls, {recipients + 2} checks by the hub)",
        f"{floor_ms:.0f} ms: at most {cores / floor_ms * 1000:.0f} filings/s on {cores} cores",
        "",
    )
    table.add_row(
        f"hub's irreducible work ({recipients + 2} SM2 checks, {recipients} gRPC client calls)",
        f"{irreducible_ms:.1f} ms a filing",
        f"{verify_s * 1e6:.0f} µs a check, {client_cpu * 1e6:.0f} µs a client call",
    )
    table.add_row(
        "(hub + servers) / irreducible",
        f"{ratio:.1f}×: hub {hub_s / filings * 1000:.0f} ms + servers {servers_hub / filings * 1000:.0f} ms"
        f" (PostgreSQL this hub's backends, RabbitMQ net of {broker_background:.2f} cores before)",
        "target ≤ 3×",
    )
    table.add_row(
        f"SM2 per filing ({verifies} verifications, {signs} signatures)",
        f"{sm2_ms:.0f} ms = {rate * sm2_ms / 1000:.2f} cores at {rate:g}/s",
        f"{verify_s * 1e6:.0f} / {sign_s * 1e6:.0f} µs each",
    )
    console.print(table)
    return [
        Result(
            f"deliveries to department platforms at {rate:g} filings/s × {departments + 1}"
            f" (p99 {percentile(spans, 0.99) * 1000:,.0f} ms)",
            hub_rate,
            "raw gRPC ReceiveFiling, sequential",
            raw_rate,
            unit="deliveries/s",
            extra={
                "p50_ms": percentile(spans, 0.5) * 1000,
                "p99_ms": percentile(spans, 0.99) * 1000,
                "raw_p50_ms": percentile(raw_latencies, 0.5) * 1000,
                "raw_p99_ms": percentile(raw_latencies, 0.99) * 1000,
                "mean_ms": statistics.fmean(spans) * 1000 if spans else 0.0,
                "filings_submitted_per_s": round(offered, 2),
                **{f"cpu_s_{name}": round(seconds, 2) for name, seconds in cpu.items() if seconds >= 0.1},
                "p99_target_ms": 300,
                "cores_used": round(busy / window, 2),
                "sm2_ms_per_filing": round(sm2_ms, 1),
                "sm2_cores_at_rate": round(rate * sm2_ms / 1000, 2),
                "cpu_ms_per_filing": round(per_filing_ms, 1),
                "floor_ms_per_filing": round(floor_ms, 1),
                "raw_call_cpu_ms": round(raw_cpu * 1000, 2),
                "client_call_cpu_ms": round(client_cpu * 1000, 3),
                "irreducible_ms_per_filing": round(irreducible_ms, 2),
                "hub_ms_per_filing": round(hub_s / filings * 1000, 1),
                "servers_hub_ms_per_filing": round(servers_hub / filings * 1000, 1),
                "ratio_to_irreducible": round(ratio, 2),
                "seconds_until_quiet": round(waited, 1),
            },
        )
    ]


def prepared(filer: Filer) -> tuple[Filer, Any, fpb.SubmitRegisterRequest]:
    """An enterprise's register compiled, and its submission signed by both signers."""
    c = filer.filings.CompileRegister(fpb.CompileRegisterRequest(), metadata=filer.metadata)
    data = c.canonical_document
    return (
        filer,
        c,
        fpb.SubmitRegisterRequest(
            version=c.version.version,
            legal_representative_signature=signatures.sign(
                filer.keys["legal_representative"].private_key_hex, data
            ),
            enterprise_seal_signature=signatures.sign(filer.keys["enterprise_seal"].private_key_hex, data),
        ),
    )


def submit_on_schedule(requests: list[tuple[Filer, Any, Any]], rate: float) -> float:
    """Submits request i at start + i / rate from a pool of ERP threads; the rate achieved."""
    started = time.perf_counter()

    def submit(i: int) -> None:
        pause = started + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        filer, _, request = requests[i]
        filer.filings.SubmitRegister(request, metadata=filer.metadata, timeout=60)

    with ThreadPoolExecutor(max_workers=16) as pool:
        for future in [pool.submit(submit, i) for i in range(len(requests))]:
            future.result()
    return len(requests) / (time.perf_counter() - started)


def main() -> None:
    stop_on_signals()
    parser = argparse.ArgumentParser()
    parser.add_argument("--filings", type=int, default=200)
    parser.add_argument("--departments", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    run(args.filings, args.departments, args.rate)


if __name__ == "__main__":
    main()
