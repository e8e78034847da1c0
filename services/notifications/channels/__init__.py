"""Channels: how a notification leaves the hub. One interface, adapters behind it.

    sms         an SMS gateway (channels/sms.py); the default adapter writes to the local outbox
    department  notices to department platforms; written to the local outbox (channels/department.py)

The department contract (protos/hub/v1/department.proto) carries signed filings and their receipts, and
the per-department AMQP queues carry filings too: notices are not filings, so they are not mixed in there.
Every adapter can be switched down (channels/control.py) to show failure and recovery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from services.backbone.settings import Settings


class ChannelError(RuntimeError):
    """A send that did not go through; the sender retries it later."""


@dataclass(frozen=True)
class Message:
    """One notification as a channel sends it."""

    notification_id: str
    channel: str
    kind: str
    address: str  # a mobile number, a department code
    name: str  # who it is for, as the message addresses them
    text: str
    enterprise_id: str = ""


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> str:
        """Sends the message; returns the channel's receipt. Raises ChannelError when it cannot.
        Sending the same notification id twice delivers it once (the sender may retry after a crash)."""
        ...


def build(settings: Settings) -> dict[str, Channel]:
    """The channels of this hub, by name."""
    from services.notifications.channels.department import DepartmentChannel
    from services.notifications.channels.outbox import Outbox
    from services.notifications.channels.sms import OutboxSmsGateway, SmsChannel

    outbox = Outbox.of(settings)
    return {
        "sms": SmsChannel(OutboxSmsGateway(outbox), outbox.directory),
        "department": DepartmentChannel(outbox, outbox.directory),
    }
