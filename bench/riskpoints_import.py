"""Bulk risk point import through the gateway's stream, until filing's view has applied every event,
beside eventsourcing's raw batched save of the same aggregates on PostgreSQL, in the same run.

    python -m bench.riskpoints_import [--points 20000] [--enterprises 10] [--streams 4] [--repeats 3]

Starts a whole hub as `make run` does (on PostgreSQL, its own namespace), registers the enterprises,
imports a few thousand points unmeasured (as a running hub, it has made its connections), then times from
the first streamed item until the riskpoints relay has published every event and the filing consumer
has applied every published one. `repeats` rounds, each a raw save right before an import (the hub
idles meanwhile); the round with the median ratio is reported.

Then what write-time links cost the import: `repeats` rounds of the same import with links and
without (HUB_WRITE_LINKS=false), on the same hub, the order alternating, the writers restarted in each
mode before each import (links_rounds); and, in the raw rounds, the store's own save with and without.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import grpc
from hub.v1 import enterprise_pb2, enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as pb

from bench.common import Result, cpu_between, cpu_seconds, quiet, save, show, stop_on_signals
from services.backbone import link_recorders
from services.backbone.aggregate import is_published
from services.backbone.amqp import connect, raw_channel
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.riskpoints.application import RiskPointsApplication
from services.riskpoints.domain import RiskPoint
from services.riskpoints.grading import DEFAULT_THRESHOLDS
from services.riskpoints.validation import clean_item
from tests.conftest import Hub, cleanup, isolated_hub_settings, make_settings
from tests.factories import enterprise_fields
from tests.riskpoint_factories import item, item_message

T = TypeVar("T")
PAGE = 500
CHUNK = 100  # items per stream message
LEVELS = (1, 2, 2, 3, 3, 3, 4, 4, 4, 4)  # a plausible mix: 1 in 10 major, 2 significant
WARM_UP_POINTS = 1_000  # for each of two enterprises, imported before the measured rounds


def items_for(enterprise: int, count: int) -> list[dict[str, Any]]:
    return [item(enterprise * 100_000 + i, level=LEVELS[i % len(LEVELS)]) for i in range(count)]


Saved = tuple[float, int, float]  # a raw save: points/s, events, CPU µs per point
Imported = tuple[int, float, float, int, dict[str, float]]  # an import: see _import()


def raw_batched_save(
    settings: Settings, items: list[dict[str, Any]], copy: bool = False, links: bool | None = None
) -> Saved:
    """eventsourcing on PostgreSQL, save() of PAGE risk points per transaction:
    (points/s, events, CPU µs of this process per point). With eventsourcing's own INSERT and JSON
    transcoder (the baseline), or with the hub's COPY and orjson (services.backbone.copy_events and
    .transcoder) when `copy`; with write-time links (services.backbone.link_recorders) when `links`
    (default: with the hub's store, `copy`)."""
    app = open_store(
        RiskPointsApplication,
        settings,
        HUB_COPY_EVENTS=str(copy).lower(),
        HUB_ORJSON_EVENTS=str(copy).lower(),
        HUB_WRITE_LINKS=str(copy if links is None else links).lower(),
    )
    enterprise = "00000000-0000-4000-8000-000000000001"
    points = []
    for fields in items:
        checked = clean_item(fields, DEFAULT_THRESHOLDS)
        points.append(
            RiskPoint.identify(enterprise, checked.external_id, checked.details, checked.assessment, None)
        )
    events = sum(len(p.pending_events) for p in points)
    started, cpu = time.perf_counter(), time.process_time()
    for i in range(0, len(points), PAGE):
        app.save(*points[i : i + PAGE])
    rate = len(points) / (time.perf_counter() - started)
    cpu_us = (time.process_time() - cpu) / len(points) * 1e6
    app.close()
    return rate, events, cpu_us


def register(hub: Hub, count: int, first: int = 0) -> list[list[tuple[str, str]]]:
    channel = grpc.insecure_channel(hub.gateway_address)
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    credentials = []
    for n in range(first, first + count):
        fields = enterprise_fields(900 + n)
        contacts = [enterprise_pb2.Contact(**c) for c in fields.pop("contacts")]
        answer = stub.RegisterEnterprise(
            enterprise_pb2.RegisterEnterpriseRequest(
                profile=enterprise_pb2.EnterpriseProfile(**fields, contacts=contacts)
            ),
            metadata=[("x-hub-registration-token", hub.registration_token)],
            timeout=30,
        )
        credentials.append([("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret)])
    channel.close()
    return credentials


def stream(address: str, metadata: list[tuple[str, str]], messages: list[Any], out: list[Any]) -> None:
    channel = grpc.insecure_channel(address)
    stub = riskpoint_pb2_grpc.RiskPointServiceStub(channel)

    def requests() -> Iterator[pb.ImportRiskPointsRequest]:
        yield from messages

    out.extend(stub.ImportRiskPoints(requests(), metadata=metadata, timeout=600))
    channel.close()


def last_published(riskpoints: RiskPointsApplication, after: int) -> int:
    """The id of the last published event the store holds after notification `after` (`after` when
    none): once filing has applied it, the relay has published every event and filing applied each.
    The import's own bookkeeping (internal, never published) ends the stream after it."""
    stop = riskpoints.recorder.max_notification_id() or 0
    while stop > after:
        start = max(after, stop - 500)
        page = riskpoints.recorder.select_notifications(start=start + 1, limit=stop - start, stop=stop)
        published = [n.id for n in page if is_published(n.topic)]
        if published:
            return published[-1]
        stop = start
    return after


def settled(filing: FilingApplication, last: int) -> bool:
    """Filing has applied the last published event of the import (the stream is in order)."""
    return (filing.process_recorder.max_tracking_id("riskpoints") or 0) >= last


def run(
    points: int = 20_000, enterprises: int = 10, streams: int = 4, repeats: int = 3, links_ab: bool = True
) -> list[Result]:
    """`repeats` rounds, each a raw save and then an import of the same number of points (enterprises
    of its own), so that both sides of a round meet the machine in the same state: its speed wanders
    by a fifth within an hour, and a CPU-bound import loses more to a slow spell than the raw save,
    which waits on PostgreSQL. The round of the median ratio is reported; every round is in the result."""
    per = points // enterprises
    plans = [[items_for(r * enterprises + e, per) for e in range(enterprises)] for r in range(repeats)]
    rounds: list[tuple[Saved, Saved, Imported]] = []
    waited: list[float] = []
    unlinked: list[Saved] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-riskpoints-") as tmp,
        isolated_hub_settings(Path(tmp) / "hub") as settings,
    ):
        hub = Hub(settings, Path(tmp))
        try:
            hub.start_all()
            # An import not measured first: every process's first one pays for what a running hub has
            # long done (connections and pools, reply queues, first calls), and the first round was
            # the slowest of each run.
            warm = repeats * enterprises
            _import(hub, [items_for(warm + e, WARM_UP_POINTS) for e in range(2)], streams, first=warm)
            for r, plan in enumerate(plans):
                # what the last import left (notices to send, the audit chain) must not slow the raw save
                waited.append(quiet(hub.procs))
                everything = [f for p in plan for f in p]
                baseline_settings = make_settings(Path(tmp) / f"raw-{r}", "postgres")
                copy_settings = make_settings(Path(tmp) / f"raw-copy-{r}", "postgres")
                bare_settings = make_settings(Path(tmp) / f"raw-bare-{r}", "postgres")
                try:
                    raw = raw_batched_save(baseline_settings, everything)
                    # the hub's store with its links and without, in alternating order (the machine drifts)
                    if r % 2:
                        unlinked.append(raw_batched_save(bare_settings, everything, copy=True, links=False))
                    copy = raw_batched_save(copy_settings, everything, copy=True)
                    if not r % 2:
                        unlinked.append(raw_batched_save(bare_settings, everything, copy=True, links=False))
                finally:
                    cleanup(baseline_settings)
                    cleanup(copy_settings)
                    cleanup(bare_settings)
                imported = _import(hub, plan, streams, first=r * enterprises)
                busy = {k: v for k, v in imported[4].items() if v >= 0.1}
                print(f"round {r + 1}: CPU seconds per hub process during the import:", busy)
                rounds.append((raw, copy, imported))
            ab = links_rounds(hub, points, enterprises, streams, repeats) if links_ab else []
        finally:
            hub.stop()
    raw, copy, measured = median(rounds, lambda r: r[2][0] / r[2][1] / r[0][0])  # by the round's ratio
    raw_rate, raw_events, raw_cpu = raw
    result = _result(*measured, raw_rate=raw_rate, raw_events=raw_events, raw_cpu=raw_cpu, streams=streams)
    result.extra["rounds"] = repeats
    result.extra["hub_points_per_s_each_round"] = ", ".join(f"{m[0] / m[1]:,.0f}" for _, _, m in rounds)
    result.extra["raw_points_per_s_each_round"] = ", ".join(f"{r[0]:,.0f}" for r, _, _ in rounds)
    result.extra["seconds_until_hub_quiet_each_round"] = ", ".join(f"{w:.0f}" for w in waited)
    result.extra["ratio_each_round"] = ", ".join(f"{m[0] / m[1] / r[0]:.1%}" for r, _, m in rounds)
    # the same save with the hub's COPY and orjson: what the store alone does now, for comparison (not
    # the baseline), in the reported round
    result.extra["raw_copy_points_per_s"] = round(copy[0])
    result.extra["raw_copy_cpu_us_per_point"] = round(copy[2])
    # the same save without write-time links (the store before them), medians of the rounds
    bare = median(unlinked, lambda u: u[0])
    result.extra["raw_copy_without_links_points_per_s"] = round(bare[0])
    result.extra["raw_copy_without_links_cpu_us_per_point"] = round(bare[2])
    result.extra["raw_copy_cpu_us_per_point_each_round"] = ", ".join(f"{c[2]:.0f}" for _, c, _ in rounds)
    result.extra["raw_copy_without_links_cpu_us_per_point_each_round"] = ", ".join(
        f"{u[2]:.0f}" for u in unlinked
    )
    return [result, *([links_result(ab, points)] if ab else [])]


WRITERS = ("riskpoints", "filing-stream", "notifications-stream")  # what writes events during an import


def links_rounds(
    hub: Hub, points: int, enterprises: int, streams: int, repeats: int
) -> list[tuple[float, float, float, float]]:
    """The import with write-time links and without (HUB_WRITE_LINKS=false), round after round on
    the same hub, the order alternating: each import right after its writers restarted in that mode.
    The audit worker is stopped first: its tree building is measured by bench.audit_verify, and it
    would stop at the first unlinked event (less work in one mode than in the other)."""
    hub.kill("audit", signal.SIGTERM)
    per, measured = points // enterprises, []
    first = 100 * enterprises  # enterprises of their own
    for r in range(repeats):
        rates: dict[bool, float] = {}
        cpus: dict[bool, float] = {}
        for linked in (True, False) if r % 2 == 0 else (False, True):
            for attempt in range(3):  # the broker this machine shares may restart under a round
                restart_writers(hub, linked)
                quiet(hub.procs)
                start = first + (6 * r + 2 * attempt + int(linked)) * enterprises
                plan = [items_for(start + e, per) for e in range(enterprises)]
                try:
                    created, elapsed, _, _, cpu = _import(hub, plan, streams, first=start)
                except grpc.RpcError as error:
                    print(f"links round {r + 1}: {error.code().name}, again")  # type: ignore[attr-defined]
                    time.sleep(10)
                    continue
                rates[linked] = created / elapsed
                # CPU per point of the processes that write, and the database's: what a loaded
                # machine's wall clock blurs
                cpus[linked] = sum(cpu.get(n, 0.0) for n in (*WRITERS, "riskpoints-stream", "PostgreSQL"))
                cpus[linked] *= 1e6 / created
                break
            else:
                raise RuntimeError("three imports in a row failed: is RabbitMQ restarting?")
        measured.append((rates[True], rates[False], cpus[True], cpus[False]))
        print(
            f"links round {r + 1}: with {rates[True]:,.0f}, without {rates[False]:,.0f} points/s; "
            f"{cpus[True]:.0f} and {cpus[False]:.0f} CPU µs a point"
        )
    restart_writers(hub, True)
    return measured


def restart_writers(hub: Hub, linked: bool) -> None:
    hub.env[link_recorders.ENV] = str(linked).lower()
    for name in WRITERS:
        hub.kill(name, signal.SIGTERM)
        hub.start(name)
    hub.wait_for_services()
    conn = connect(hub.settings.amqp_uri)
    try:
        for consumer in ("filing", "notifications"):

            def consuming(queue: str = hub.settings.queue(consumer, "riskpoints")) -> bool:
                _, _, consumers = raw_channel(conn).queue_declare(queue, passive=True)
                return consumers > 0

            deadline = time.monotonic() + 120
            while not consuming():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{consumer}-stream did not consume again")
                time.sleep(0.2)
    finally:
        conn.release()


def links_result(rounds: list[tuple[float, float, float, float]], points: int) -> Result:
    with_links, without, cpu_with, cpu_without = median(rounds, lambda r: r[0] / r[1])
    return Result(
        name=f"risk point import with write-time links ({points:,} points, same hub)",
        rate=with_links,
        baseline_name="the same import without them (HUB_WRITE_LINKS=false), alternating rounds",
        baseline=without,
        unit="risk points/s",
        target=0.90,
        extra={
            "ratio_each_round": ", ".join(f"{r[0] / r[1]:.1%}" for r in rounds),
            "with_links_each_round": ", ".join(f"{r[0]:,.0f}" for r in rounds),
            "without_each_round": ", ".join(f"{r[1]:,.0f}" for r in rounds),
            # writers (riskpoints, its relay, filing's and notifications' consumers) and PostgreSQL
            "writers_cpu_us_per_point_with_links_each_round": ", ".join(f"{r[2]:.0f}" for r in rounds),
            "writers_cpu_us_per_point_without_each_round": ", ".join(f"{r[3]:.0f}" for r in rounds),
            "writers_cpu_ratio_median": round(sorted(r[2] / r[3] for r in rounds)[len(rounds) // 2], 3),
        },
    )


def median(rounds: list[T], rate: Callable[[T], float]) -> T:
    """The round of the median rate (the upper one of an even number)."""
    return sorted(rounds, key=rate)[len(rounds) // 2]


def _import(hub: Hub, plan: list[list[dict[str, Any]]], streams: int, first: int = 0) -> Imported:
    """Streams every enterprise's items; (created, seconds to settle, seconds to last answer, events)."""
    credentials = register(hub, len(plan), first)
    payloads = [
        [
            pb.ImportRiskPointsRequest(
                import_id=f"bench-{first + e}", items=[item_message(f) for f in items[i : i + CHUNK]]
            )
            for i in range(0, len(items), CHUNK)
        ]
        for e, items in enumerate(plan)
    ]
    riskpoints = open_store(RiskPointsApplication, hub.settings)
    filing = open_store(FilingApplication, hub.settings)
    answers: list[list[Any]] = [[] for _ in plan]
    events_before = riskpoints.recorder.max_notification_id() or 0
    cpu_before = cpu_seconds(hub.procs, servers=True)
    started = time.perf_counter()
    # `streams` imports in flight at any time, as an integrator's worker pool keeps them: the next
    # enterprise's stream starts when one ends, not when the slowest of a round has ended
    with ThreadPoolExecutor(max_workers=streams) as pool:
        for done in [
            pool.submit(stream, hub.gateway_address, credentials[e], payloads[e], answers[e])
            for e in range(len(plan))
        ]:
            done.result()
    answered = time.perf_counter() - started
    # Every item is saved once its stream has answered: the store's events are all there now. Until
    # filing has applied the last of them that is published, not until the relay has recorded how far
    # it read the bookkeeping after it (at most once a second: that wait is not the import's work).
    last = last_published(riskpoints, events_before)
    deadline = time.monotonic() + 600
    while not settled(filing, last):
        if time.monotonic() > deadline:
            raise RuntimeError("the relay and filing did not catch up within 10 minutes")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    cpu = {k: round(v, 1) for k, v in cpu_between(cpu_before, cpu_seconds(hub.procs, servers=True)).items()}
    created = sum(a[-1].progress.created for a in answers if a)
    events = (riskpoints.recorder.max_notification_id() or 0) - events_before
    riskpoints.close()
    filing.close()
    wanted = sum(len(items) for items in plan)
    if created != wanted:
        raise RuntimeError(f"only {created} of {wanted} risk points were created")
    return created, elapsed, answered, events, cpu


PIPELINE = ("gateway", "riskpoints", "riskpoints-stream", "filing-stream")


def _result(
    created: int,
    elapsed: float,
    answered: float,
    events: int,
    cpu: dict[str, float],
    raw_rate: float,
    raw_events: int,
    raw_cpu: float,
    streams: int,
) -> Result:
    pipeline_cpu = sum(cpu.get(name, 0.0) for name in PIPELINE) / created * 1e6
    return Result(
        name=f"risk point import: gRPC stream → store → relay → filing view ({created:,} points)",
        rate=created / elapsed,
        baseline_name="eventsourcing's own save() of 500 RiskPoints per transaction, PostgreSQL",
        baseline=raw_rate,
        unit="risk points/s",
        target=0.50,  # issue 28 (was 0.40, issue 4)
        extra={
            "seconds_total": round(elapsed, 2),
            "seconds_until_last_answer": round(answered, 2),
            "points_per_s_until_last_answer": round(created / answered),
            "events_in_store": events,
            "raw_events": raw_events,
            "parallel_streams": streams,
            # CPU per risk point, which other load on the machine does not inflate as much as wall time
            "raw_save_cpu_us_per_point": round(raw_cpu),
            "pipeline_cpu_us_per_point": round(pipeline_cpu),
            **{f"cpu_s_{name}": seconds for name, seconds in cpu.items() if seconds >= 0.1},
            "load_average_1min": round(os.getloadavg()[0], 1),
        },
    )


def main() -> int:
    stop_on_signals()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--enterprises", type=int, default=10)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-links-ab", action="store_true", help="skip the import without write-time links")
    args = parser.parse_args()
    results = run(args.points, args.enterprises, args.streams, args.repeats, not args.no_links_ab)
    show(results, "Risk point bulk import")
    for r in results:
        print({k: v for k, v in r.extra.items()})
    print(f"written: {save(results, 'riskpoints-import')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
