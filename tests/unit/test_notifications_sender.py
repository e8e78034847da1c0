"""The sender: channel failure then recovery, backoff and giving up, rate limits, resends after a crash."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.backbone.settings import Settings
from services.notifications import channels
from services.notifications.application import NotificationsApplication
from services.notifications.channels import control
from services.notifications.channels.outbox import Outbox
from services.notifications.config import Config, Rate, Retry
from services.notifications.ratelimit import TokenBucket
from services.notifications.sender import Sender
from tests.notifications_data import AJ, POPO, Feed, answer, register, registry_with_departments, submit
from tests.riskpoint_factories import item


@dataclass
class Clocks:
    # the notifications are requested at the real time (their causes' times): start a little after it
    start: datetime = field(default_factory=lambda: datetime.now(UTC) + timedelta(minutes=1))
    mono: float = 0.0

    def __post_init__(self) -> None:
        self.wall = self.start

    def advance(self, seconds: float) -> None:
        self.wall += timedelta(seconds=seconds)
        self.mono += seconds


@dataclass
class World:
    app: NotificationsApplication
    outbox: Outbox
    clocks: Clocks
    feed: Feed
    upstream: dict[str, Any] = field(default_factory=dict)

    def sender(self, rate: float = 1000, burst: float = 1000, attempts: int = 4) -> Sender:
        config = Config(
            rates={"sms": Rate(rate, burst), "department": Rate(rate, burst)},
            retry=Retry(base_seconds=10, max_seconds=60, max_attempts=attempts),
        )
        settings = Settings(runtime_dir=self.outbox.directory.parent)
        return Sender(
            self.app, channels.build(settings), config, lambda: self.clocks.wall, lambda: self.clocks.mono
        )


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    app = NotificationsApplication(env=POPO)
    registry = registry_with_departments()
    found = World(app, Outbox(tmp_path / "outbox"), Clocks(), Feed(app), {"registry": registry})
    found.upstream["ours"] = register(registry, 1)
    found.upstream["neighbour"] = register(registry, 2, name="鲁南化肥厂")
    found.feed.follow(registry)
    yield found
    app.close()


def rejected_filing(world: World, enterprise: str) -> None:
    from services.filing.application import FilingApplication

    filing = world.upstream.setdefault("filing", FilingApplication(env=POPO))
    record = submit(filing, enterprise, 1, [AJ], "2026-11-10T02:00:00+00:00")
    answer(filing, record, AJ, "rejected", "材料不全")
    world.feed.follow(filing)


def test_a_channel_that_fails_then_recovers_sends_each_message_once(world: World) -> None:
    rejected_filing(world, world.upstream["ours"])
    control.write(world.outbox.directory, "sms", "down", "短信网关超时")
    sender = world.sender()
    assert sender.run_once() == {"failed": 2}
    assert world.outbox.read() == []
    notes = world.app.notifications()
    assert {(n["state"], n["attempts"], n["last_error"]) for n in notes} == {("failed", 1, "短信网关超时")}
    world.clocks.advance(5)  # before the retry is due: nothing is tried
    assert sender.run_once() == {}
    control.write(world.outbox.directory, "sms", "up")
    world.clocks.advance(5)
    assert sender.run_once() == {"sent": 2}
    world.clocks.advance(3600)
    assert sender.run_once() == {}
    sent = world.outbox.read(channel="sms")
    assert sorted(m["address"] for m in sent) == ["13800000001", "13912345678"]
    assert {n["state"] for n in world.app.notifications()} == {"sent"}
    assert all(n["attempts"] == 2 and n["receipt"].startswith("outbox:") for n in world.app.notifications())


def test_backoff_doubles_and_the_last_attempt_gives_up(world: World) -> None:
    rejected_filing(world, world.upstream["ours"])
    control.write(world.outbox.directory, "sms", "down")
    sender = world.sender(attempts=3)
    retry_ats = []
    for pause in (0, 10, 20):
        world.clocks.advance(pause)
        sender.run_once()
        retry_ats.append(world.app.notifications()[0]["retry_at"])
    first, second, _ = (datetime.fromisoformat(r) for r in retry_ats)
    start = world.clocks.start
    assert first == start + timedelta(seconds=10) and second == start + timedelta(seconds=10 + 20)
    assert {n["state"] for n in world.app.notifications()} == {"given_up"}
    control.write(world.outbox.directory, "sms", "up")
    world.clocks.advance(3600)
    assert sender.run_once() == {} and world.outbox.read() == []


def test_a_channel_sends_no_faster_than_its_bucket(world: World) -> None:
    from services.riskpoints.application import RiskPointsApplication

    riskpoints = RiskPointsApplication(env=POPO)
    for n in range(3):  # three level-1 points next to the neighbour: 2 SMS each
        riskpoints.create(world.upstream["ours"], item(n, level=1, adjacent_units=["鲁南化肥厂"]))
    world.feed.follow(riskpoints)
    sender = world.sender(rate=1, burst=2)
    assert sender.run_once() == {"sent": 2, "throttled": 1}  # the rest of the lane waits for the same rate
    world.clocks.advance(1)
    assert sender.run_once()["sent"] == 1
    world.clocks.advance(10)
    assert sender.run_once()["sent"] == 2
    assert len(world.outbox.read()) == 5


def test_a_send_repeated_after_a_crash_reaches_the_recipient_once(world: World) -> None:
    rejected_filing(world, world.upstream["ours"])
    sender = world.sender()
    for note in world.app.notifications():  # sent, then the process died before recording it
        message = world.app.message_of(note["notification_id"])
        assert message is not None
        sender.channels["sms"].send(message)
    assert sender.run_once() == {"sent": 2}
    assert len(world.outbox.read()) == 2


def test_an_enterprise_address_unknown_at_first_is_sent_once_the_registry_tells(world: World) -> None:
    from tests.factories import enterprise_fields

    registry = world.upstream["registry"]
    late = str(registry.register(enterprise_fields(9, town="张山子镇"))["enterprise_id"])
    rejected_filing(world, late)  # the filing's events arrive before the registry's
    sender = world.sender()
    assert sender.run_once() == {"failed": 1}
    world.feed.follow(registry)
    world.clocks.advance(10)
    assert sender.run_once() == {"sent": 1}
    [message] = world.outbox.read()
    assert message["address"] == "13800000009"


def test_token_bucket_refills_at_its_rate_up_to_its_burst() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=2, burst=3, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [True, True, True, False]
    assert bucket.wait_time() == pytest.approx(0.5)
    now[0] = 0.5
    assert bucket.take() and not bucket.take()
    now[0] = 100
    assert sum(bucket.take() for _ in range(10)) == 3


def test_a_pass_records_its_sends_in_batches_and_keeps_them_when_it_breaks_off(world: World) -> None:
    from services.notifications.queues import QUEUE_ID
    from services.notifications.sender import RECORD_EVERY
    from services.riskpoints.application import RiskPointsApplication

    riskpoints = RiskPointsApplication(env=POPO)
    for n in range(60):  # 120 SMS: the legal representative and the contact of the neighbour, each
        riskpoints.create(world.upstream["ours"], item(n, level=1, adjacent_units=["鲁南化肥厂"]))
    world.feed.follow(riskpoints)
    sender = world.sender()
    sms, calls = sender.channels["sms"], []

    def breaks_on_the_71st(message: Any) -> str:
        calls.append(message)
        if len(calls) == 71:
            raise RuntimeError("the process is going down")
        return str(sms.send(message))

    sender.channels["sms"] = type("Breaking", (), {"send": staticmethod(breaks_on_the_71st)})()
    sender.batch = 200
    with pytest.raises(RuntimeError):
        sender.run_once()
    states = [n["state"] for n in world.app.notifications()]
    assert states.count("sent") == 70 and states.count("requested") == 50  # what went out is recorded
    finished = [e for e in world.app.recorder.select_events(QUEUE_ID) if e.topic.endswith("Finished")]
    assert len(finished) == -(-70 // RECORD_EVERY)  # one queue event per batch, not one per message
    sender.channels["sms"] = sms
    assert sender.run_once() == {"sent": 50}
    assert len(world.outbox.read()) == 120 == len({m["message_id"] for m in world.outbox.read()})


def test_the_send_queue_is_read_from_the_store_once_while_only_the_sender_writes_it(world: World) -> None:
    from services.notifications.queues import QUEUE_ID
    from services.riskpoints.application import RiskPointsApplication

    riskpoints = RiskPointsApplication(env=POPO)
    for n in range(30):
        riskpoints.create(world.upstream["ours"], item(n, level=1, adjacent_units=["鲁南化肥厂"]))
    world.feed.follow(riskpoints)
    stored_get, reads = world.app.repository.get, []

    def counted(aggregate_id: Any, **kwargs: Any) -> Any:
        reads.append(aggregate_id)
        return stored_get(aggregate_id, **kwargs)

    world.app.repository.get = counted  # type: ignore[method-assign]
    sender = world.sender()
    sender.batch = 10
    for _ in range(6):  # 60 SMS, ten a pass
        assert sender.run_once() == {"sent": 10}
    assert reads.count(QUEUE_ID) == 1
    assert world.app._queue().size() == 0 and stored_get(QUEUE_ID).size() == 0
    # someone else changes the queue (a standby sender, an operator): the next pass reads it afresh
    outside = stored_get(QUEUE_ID)
    outside.enqueue(entries={"0f0f0f0f-0000-4000-8000-000000000000": "2000-01-01T00:00:00+00:00"})
    world.app.save(outside)
    assert world.app._queue().holds("0f0f0f0f-0000-4000-8000-000000000000")
    assert reads.count(QUEUE_ID) == 2


def test_messages_held_back_by_the_rate_are_not_read_again_and_the_sender_rests(world: World) -> None:
    from services.riskpoints.application import RiskPointsApplication

    riskpoints = RiskPointsApplication(env=POPO)
    for n in range(10):  # ten level-1 points next to the neighbour, told one by one: 20 SMS
        riskpoints.create(world.upstream["ours"], item(n, level=1, adjacent_units=["鲁南化肥厂"]))
    world.feed.follow(riskpoints)
    notes = {n["notification_id"] for n in world.app.notifications()}
    stored_get, reads = world.app.repository.get, []

    def counted(aggregate_id: Any, **kwargs: Any) -> Any:
        reads.append(str(aggregate_id))
        return stored_get(aggregate_id, **kwargs)

    world.app.repository.get = counted  # type: ignore[method-assign]
    sender = world.sender(rate=2, burst=2)
    passes: list[Any] = []
    rests: list[float] = []

    class Stop:
        def is_set(self) -> bool:
            return len(passes) >= 5

        def wait(self, seconds: float) -> None:
            rests.append(seconds)
            world.clocks.advance(1)

    once = sender.run_once
    sender.run_once = lambda: passes.append(once()) or passes[-1]  # type: ignore[method-assign]
    sender.run(Stop())  # type: ignore[arg-type]
    assert [p["sent"] for p in passes] == [2, 2, 2, 2, 2]
    assert len(rests) == 5  # each pass held back by the rate rests before the next
    read = [r for r in reads if r in notes]
    # each message read once, however many passes it waited; and only the first the rate held back in a
    # pass, not the whole lane behind it: the ten sent, and the one waiting at the front
    assert len(read) == len(set(read)) == 11
    assert len(world.outbox.read()) == 10


def test_due_messages_come_in_the_order_they_were_queued_and_a_retry_keeps_its_place(world: World) -> None:
    queue = world.app._queue()
    queue.enqueue(entries={"a": "2026-11-20T09:00:00+00:00", "b": "2026-11-20T09:00:01+00:00"})
    queue.enqueue(entries={"c": "2026-11-20T09:00:02+00:00", "d": "2026-11-20T09:00:03+00:00"})
    queue.reschedule("a", "2026-11-20T09:10:00+00:00")  # a failed: tried again in ten minutes
    world.app.save(queue)
    assert due(world.app, "2026-11-20T09:05:00+00:00", 10) == ["b", "c", "d"]
    assert due(world.app, "2026-11-20T09:05:00+00:00", 2) == ["b", "c"]
    assert due(world.app, "2026-11-20T09:10:00+00:00", 10) == ["a", "b", "c", "d"]
    assert due(world.app, "2026-11-20T09:00:01+00:00", 10) == ["b"]


def test_the_intake_reads_each_stretch_of_the_log_once(world: World) -> None:
    """What requests nothing (cards, the directory, ledgers: most of a province's log) is read by the
    sender's intake once, not again on every pass until the next notification is requested."""
    reads: list[tuple[Any, Any]] = []
    select = world.app.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append((kwargs.get("start"), kwargs.get("stop")))
        return select(*args, **kwargs)

    world.app.recorder.select_notifications = counted  # type: ignore[method-assign]
    sender = world.sender()
    sender.run_once()
    head = world.app.recorder.max_notification_id()
    reads.clear()
    assert sender.run_once() == {} and reads == []  # nothing new since: the log is not read
    register(world.upstream["registry"], 3)
    world.feed.follow(world.upstream["registry"])
    newer = world.app.recorder.max_notification_id()
    assert newer > head  # the new enterprise's card and directory entry, which request nothing
    assert sender.run_once() == {}
    assert reads == [(head, newer)]  # read once, from where the last pass ended
    reads.clear()
    assert sender.run_once() == {} and reads == []
    rejected_filing(world, world.upstream["ours"])  # two notifications requested
    assert sender.run_once() == {"sent": 2}
    starts = [start for start, _ in reads]
    assert starts[0] == newer and all(s > newer for s in starts[1:])  # then on past what it took in


def test_what_was_requested_by_the_intake_s_time_is_due_at_once_without_a_time_of_its_own(
    world: World,
) -> None:
    """A backlog's entries share one None instead of a time each (in memory, in events, in snapshots);
    what a clock ahead of the sender's requested later keeps its time and waits for it."""
    from services.notifications import clock
    from services.notifications.queues import QUEUE_ID

    now = clock.utc(world.clocks.wall)
    rejected_filing(world, world.upstream["ours"])  # two SMS
    assert world.app.intake(clock.utc(world.clocks.wall - timedelta(days=365))) == 2  # a sender a year behind
    held = entries(world.app.repository.get(QUEUE_ID))
    assert sorted(held.values()) == sorted(n["requested_at"] for n in world.app.notifications())
    assert due(world.app, clock.utc(world.clocks.wall - timedelta(days=365)), 10) == []
    assert due(world.app, now, 10) == list(held)
    rejected_filing(world, world.upstream["neighbour"])  # two more, taken in by a sender on time
    assert world.app.intake(now) == 2
    stored = entries(world.app.repository.get(QUEUE_ID))  # as the store has it, not only as kept
    fresh = [k for k in stored if k not in held]
    assert len(fresh) == 2 and all(stored[k] is None for k in fresh)
    assert due(world.app, clock.utc(world.clocks.wall - timedelta(days=365)), 10) == fresh
    assert due(world.app, now, 10) == [*held, *fresh]  # in the order they were taken in
    assert world.sender().run_once() == {"sent": 4}
    assert entries(world.app.repository.get(QUEUE_ID)) == {}


def entries(queue: Any) -> dict[str, str | None]:
    return {n: due for _, lane in queue.waiting() for n, due in lane.items()}


def requested(world: World, n: int, channel: str) -> Any:
    from services.notifications import clock
    from services.notifications.domain import Notification

    recipient = (
        {"kind": "person", "name": "张三", "address": f"1380000{n:04d}"}
        if channel == "sms"
        else {"kind": "department", "name": "镇安委办", "address": "TOWN-ZSZ"}
    )
    return Notification(
        enterprise_id=world.upstream["ours"],
        kind="adjacent_risk",
        channel=channel,
        recipient=recipient,
        cause={
            "event_id": f"e-{channel}-{n}",
            "type": "RiskPoint.AdjacentNotificationRequired",
            "upstream": "riskpoints",
        },
        text=f"消息 {n}",
        requested_at=clock.utc(world.clocks.start - timedelta(seconds=1)),
    )


@pytest.mark.parametrize("backlog", [1, 199, 200, 201, 1000])
def test_a_channel_s_backlog_does_not_hold_back_another_channel_s_messages(
    world: World, backlog: int
) -> None:
    """An import's SMS wait for their rate by the hundred thousand: a department's notice requested
    after them goes out at its own channel's rate, not after them."""
    world.app.save(*(requested(world, n, "sms") for n in range(backlog)), requested(world, 0, "department"))
    sender = world.sender()
    sender.buckets["sms"] = TokenBucket(1, 1, lambda: world.clocks.mono)  # one SMS now, one a second after
    counts = sender.run_once()
    assert counts["sent"] == 2
    assert [m["address"] for m in world.outbox.read(channel="department")] == ["TOWN-ZSZ"]
    assert len(world.outbox.read(channel="sms")) == 1


def test_a_queue_from_before_the_lanes_is_drained_as_it_was_beside_the_lanes(world: World) -> None:
    """Entries taken in before there were lanes (one queue of every channel) are sent as before: past
    a message its channel's rate holds back, to the next of another channel."""
    from services.notifications.queues import SendQueue

    notes = [requested(world, n, "sms") for n in range(5)] + [requested(world, 0, "department")]
    world.app.save(*notes)
    queue = world.app._queue()
    queue.enqueue(entries={str(n.id): None for n in notes})  # as an Enqueued event from before: no channel
    world.app.save(queue)
    assert [c for c, _ in world.app._queue().waiting()] == [""]
    sender = world.sender()
    sender.buckets["sms"] = TokenBucket(1, 1, lambda: world.clocks.mono)
    assert sender.run_once() == {"sent": 2, "throttled": 4}
    assert [m["address"] for m in world.outbox.read(channel="department")] == ["TOWN-ZSZ"]
    older = SendQueue()  # a snapshot from before the lanes has no `lanes`
    del older.__dict__["lanes"]
    older.enqueue(entries={"a": None}, channel="sms")
    older.enqueue(entries={"b": None}, channel="carrier-pigeon")  # a channel this hub does not know
    assert [(c, list(lane)) for c, lane in older.waiting()] == [("", ["b"]), ("sms", ["a"])]


def due(app: NotificationsApplication, now: str, limit: int) -> list[str]:
    """The notifications due at `now`, lane after lane (up to `limit` of each)."""
    return [n for _, lane in app.due_by_lane(now, limit) for n in lane]
