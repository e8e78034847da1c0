"""The sender: takes due notifications from the send queue and sends them, outside any consumer transaction.

Each send is recorded afterwards (Sent, or Failed with the time of the next try, or GaveUp after the
last attempt). A crash between sending and recording sends again: channels take the notification id
as the message's client id, so the recipient still gets it once. Each channel has a token bucket.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from services.notifications import clock
from services.notifications.application import NotificationsApplication
from services.notifications.channels import Channel, ChannelError
from services.notifications.config import Config
from services.notifications.ratelimit import TokenBucket

log = structlog.get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Sends are recorded in batches of this many (one transaction, one queue event). A crash between a
# send and its record repeats at most this many sends; channels take a repeat once (the message id).
RECORD_EVERY = 50


class Sender:
    def __init__(
        self,
        app: NotificationsApplication,
        channels: dict[str, Channel],
        config: Config,
        now: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
        batch: int = 200,
        idle: float = 0.5,
    ) -> None:
        self.app, self.channels, self.config, self.now = app, channels, config, now
        self.batch, self.idle = batch, idle
        self.buckets = {
            name: TokenBucket(config.rate(name).rate, config.rate(name).burst, monotonic) for name in channels
        }

    def run_once(self) -> Counter[str]:
        """One pass over what is due now. Counts sent, failed, given_up, throttled."""
        counts: Counter[str] = Counter()
        while self.app.intake(clock.utc(self.now())):
            pass
        sent: list[tuple[str, str]] = []
        try:
            self._send_due(counts, sent)
        finally:  # what went out is recorded even when a later send of the pass raised
            self._record(sent)
        return counts

    def _record(self, sent: list[tuple[str, str]]) -> None:
        if sent:
            self.app.record_sent_many(sent, self.now())
            sent.clear()

    def _send_due(self, counts: Counter[str], sent: list[tuple[str, str]]) -> None:
        for lane, due in self.app.due_by_lane(clock.utc(self.now()), self.batch):
            self._send_lane(lane, due, counts, sent)

    def _send_lane(
        self, lane: str, due: list[str], counts: Counter[str], sent: list[tuple[str, str]]
    ) -> None:
        """Sends a lane's due messages while its channel's rate allows: the rest of a channel's lane
        waits for the same rate (the lane of every channel, from before the lanes, goes on past one)."""
        for notification_id in due:
            message = self.app.message_of(notification_id)
            if message is None:  # done already (recorded, the queue entry left behind by a crash)
                self.app.dequeue(notification_id)
                continue
            channel = self.channels.get(message.channel)
            bucket = self.buckets.get(message.channel)
            if bucket is not None and not bucket.take():
                counts["throttled"] += 1
                if lane:
                    return
                continue
            try:
                if channel is None:
                    raise ChannelError(f"no channel {message.channel!r} on this hub")
                receipt = channel.send(message)
            except ChannelError as error:
                state = self.app.record_failure(notification_id, str(error), self.now(), self.config.retry)
                counts[state] += 1
                log.warning(
                    "notification_failed",
                    notification_id=notification_id,
                    channel=message.channel,
                    state=state,
                    error=str(error),
                )
                continue
            sent.append((notification_id, receipt))
            counts["sent"] += 1
            log.info(
                "notification_sent",
                notification_id=notification_id,
                channel=message.channel,
                kind=message.kind,
            )
            if len(sent) >= RECORD_EVERY:
                self._record(sent)

    def run(self, stop: threading.Event) -> None:
        """Sends until `stop` is set; never dies of one bad pass."""
        log.info("sender_started", channels=sorted(self.channels))
        while not stop.is_set():
            try:
                counts = self.run_once()
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("sender_pass_failed")
                counts = Counter()
            if not counts["sent"] or counts["throttled"]:
                # nothing to send, or the channels' rate is what holds the rest back: passing again
                # at once would read the same due messages again only to find the buckets empty
                stop.wait(self.idle)
        log.info("sender_stopped")
