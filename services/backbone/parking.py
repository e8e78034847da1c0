"""Parked messages: what a consumer could not apply after bounded retries, kept for replay."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

_PARKED_IDS = uuid.UUID("0b8f5f3e-51c5-4c36-8f0e-6a8b0d2b8c11")


class ParkedMessage(HubAggregate):
    """A message taken off its queue with its error; replayed at most once."""

    class Event(HubAggregate.Event):
        published = False  # stays in the consumer's store

    @staticmethod
    def create_id(consumer: str, upstream: str, key: str, **_: Any) -> uuid.UUID:
        return parked_id(consumer, upstream, key)

    @event("Parked")
    def __init__(
        self,
        consumer: str,
        upstream: str,
        key: str,
        envelope: dict[str, Any],
        error: str,
        attempts: int,
    ) -> None:
        # key: the upstream notification id, or a digest of a message that could not be read
        self.consumer, self.upstream, self.key = consumer, upstream, key
        self.envelope = envelope
        self.error, self.attempts = error, attempts
        self.status = "parked"

    @event("Replayed")
    def replayed(self) -> None:
        self.status = "replayed"

    @event("ReplayFailed")
    def replay_failed(self, error: str) -> None:
        self.error = error
        self.attempts += 1


def parked_id(consumer: str, upstream: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_PARKED_IDS, f"{consumer}/{upstream}/{key}")


PARKED_TOPICS = (f"{__name__}:ParkedMessage.Parked",)
