"""SMS: the channel, and the gateway interface a real SMS provider's adapter implements."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from services.notifications.channels import ChannelError, Message, control
from services.notifications.channels.outbox import Outbox, OutboxError


class SmsGateway(Protocol):
    def send(self, mobile: str, text: str, client_id: str, enterprise_id: str = "", kind: str = "") -> str:
        """Sends one SMS; the gateway's receipt. `client_id` makes a repeated send a no-op."""
        ...


class OutboxSmsGateway:
    """The default gateway: writes each SMS to the local outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def send(self, mobile: str, text: str, client_id: str, enterprise_id: str = "", kind: str = "") -> str:
        try:
            return self.outbox.put("sms", client_id, kind, mobile, "", text, enterprise_id)
        except OutboxError as error:
            raise ChannelError(f"SMS outbox: {error}") from error


class SmsChannel:
    name = "sms"

    def __init__(self, gateway: SmsGateway, control_dir: Path) -> None:
        self.gateway, self.control_dir = gateway, control_dir

    def send(self, message: Message) -> str:
        down = control.failure(self.control_dir, self.name)
        if down:
            raise ChannelError(down)
        if not message.address:
            raise ChannelError("no mobile number for the recipient yet")
        try:
            return self.gateway.send(
                message.address, message.text, message.notification_id, message.enterprise_id, message.kind
            )
        except OSError as error:  # a real gateway's network failure
            raise ChannelError(f"SMS gateway: {error}") from error
