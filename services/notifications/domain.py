"""Notifications: one message to one recipient on one channel, caused by one event, sent at most once.

A notification is requested (by the consumer, in the transaction that applies its cause), then the
sender tries it: sent, or failed and retried later with backoff, or given up after the last attempt.
Its id is uuid5(recipient, channel, cause event id), so a cause applied twice creates it once.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import TransitionError

NOTIFICATIONS = uuid.UUID("5b0c9d1e-7a2f-4e63-9c8d-1f4a6b2e3d70")


class State(StrEnum):
    REQUESTED = "requested"
    FAILED = "failed"  # an attempt failed; retried at retry_at
    SENT = "sent"
    GIVEN_UP = "given_up"


class Channel(StrEnum):
    SMS = "sms"
    DEPARTMENT = "department"


def recipient_key(recipient: dict[str, str]) -> str:
    """Who a notification goes to, as part of its identity: the address, or the enterprise it stands for."""
    return recipient.get("address") or f"{recipient['kind']}:{recipient.get('enterprise_id', '')}"


def notification_id(recipient: dict[str, str], channel: str, cause_event_id: str) -> uuid.UUID:
    return uuid.uuid5(NOTIFICATIONS, f"{recipient_key(recipient)}|{channel}|{cause_event_id}")


class Notification(HubAggregate):
    """A message for a person or a unit. `recipient`: kind (person, department, enterprise), name,
    address (a mobile or a department code; empty for "enterprise": resolved when it is sent)."""

    @staticmethod
    def create_id(recipient: dict[str, str], channel: str, cause: dict[str, str], **_: Any) -> uuid.UUID:
        return notification_id(recipient, channel, cause["event_id"])

    @event("Requested")
    def __init__(
        self,
        enterprise_id: str,
        kind: str,
        channel: str,
        recipient: dict[str, str],
        cause: dict[str, str],
        text: str,
        requested_at: str,
    ) -> None:
        self.enterprise_id, self.kind, self.channel = enterprise_id, kind, channel
        self.recipient, self.cause, self.text = recipient, cause, text
        self.requested_at = requested_at
        self.state = State.REQUESTED
        self.attempts = 0
        self.retry_at = requested_at
        self.last_error = ""
        self.receipt = ""
        self.sent_at = ""

    def _open(self) -> None:
        if self.state not in (State.REQUESTED, State.FAILED):
            raise TransitionError(
                "state", f"a notification that is {self.state} is not sent again", self.state
            )

    def sent(self, receipt: str, at: str) -> None:
        self._open()
        self._sent(enterprise_id=self.enterprise_id, attempt=self.attempts + 1, receipt=receipt, sent_at=at)

    @event("Sent")
    def _sent(self, enterprise_id: str, attempt: int, receipt: str, sent_at: str) -> None:
        self.state, self.attempts, self.receipt, self.sent_at = State.SENT, attempt, receipt, sent_at

    def failed(self, error: str, at: str, retry_at: str | None) -> None:
        """Records a failed attempt; `retry_at` None: that was the last one."""
        self._open()
        attempt = self.attempts + 1
        if retry_at is None:
            self._gave_up(enterprise_id=self.enterprise_id, attempts=attempt, error=error, given_up_at=at)
        else:
            self._failed(
                enterprise_id=self.enterprise_id,
                attempt=attempt,
                error=error,
                failed_at=at,
                retry_at=retry_at,
            )

    @event("Failed")
    def _failed(self, enterprise_id: str, attempt: int, error: str, failed_at: str, retry_at: str) -> None:
        self.state, self.attempts, self.last_error, self.retry_at = State.FAILED, attempt, error, retry_at

    @event("GaveUp")
    def _gave_up(self, enterprise_id: str, attempts: int, error: str, given_up_at: str) -> None:
        self.state, self.attempts, self.last_error = State.GIVEN_UP, attempts, error

    def as_dict(self) -> dict[str, Any]:
        return {
            "notification_id": str(self.id),
            "enterprise_id": self.enterprise_id,
            "kind": self.kind,
            "channel": self.channel,
            "recipient": dict(self.recipient),
            "cause": dict(self.cause),
            "text": self.text,
            "state": str(self.state),
            "attempts": self.attempts,
            "requested_at": self.requested_at,
            "retry_at": self.retry_at,
            "sent_at": self.sent_at,
            "receipt": self.receipt,
            "last_error": self.last_error,
        }
