"""Notices to departments (supervising departments and town safety offices), by department code.

Written to the local outbox, where a department's platform (or its liaison) picks them up.
"""

from __future__ import annotations

from pathlib import Path

from services.notifications.channels import ChannelError, Message, control
from services.notifications.channels.outbox import Outbox, OutboxError


class DepartmentChannel:
    name = "department"

    def __init__(self, outbox: Outbox, control_dir: Path) -> None:
        self.outbox, self.control_dir = outbox, control_dir

    def send(self, message: Message) -> str:
        down = control.failure(self.control_dir, self.name)
        if down:
            raise ChannelError(down)
        if not message.address:
            raise ChannelError("no department code")
        try:
            return self.outbox.put(
                self.name,
                message.notification_id,
                message.kind,
                message.address,
                message.name,
                message.text,
                message.enterprise_id,
            )
        except OutboxError as error:
            raise ChannelError(f"department outbox: {error}") from error
