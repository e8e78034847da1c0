"""How a handler asks for a message: who it goes to, and the notification it becomes (once)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from services.backbone.handlers import UnitOfWork
from services.backbone.view_cache import ViewCache
from services.notifications import clock
from services.notifications.domain import Channel, Notification, notification_id
from services.notifications.views import DIRECTORY_ID, Directory, EnterpriseCard, card_id


class Cause(Protocol):
    """The event a notification is caused by (an Envelope is one)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def upstream(self) -> str: ...
    @property
    def occurred_at(self) -> str: ...
    @property
    def enterprise_id(self) -> str | None: ...


@dataclass(frozen=True)
class OwnCause:
    """One of this service's own events (a published report) as a cause."""

    event_id: str
    type: str
    occurred_at: str
    upstream: str = "notifications"
    enterprise_id: str | None = None


# The directory names every enterprise of the province: kept between pages, not replayed per page.
DIRECTORY = ViewCache(maxsize=1)
# Each enterprise's risk, danger and filing ledgers grow with every event of an import: kept too
# (not one whose gathered grades were left unsaved by a failed page).
LEDGERS = ViewCache(is_clean=lambda ledger: not getattr(ledger, "_staged", None), maxsize=128)


def directory(uow: UnitOfWork) -> Directory:
    found = DIRECTORY.get(uow, DIRECTORY_ID)
    return found if found is not None else Directory()  # read-only use: not added, never saved


def directory_to_change(uow: UnitOfWork) -> Directory:
    return DIRECTORY.get_or_add(uow, DIRECTORY_ID, Directory)  # type: ignore[no-any-return]


def card(uow: UnitOfWork, enterprise_id: str) -> EnterpriseCard | None:
    return uow.get(card_id(enterprise_id))  # type: ignore[no-any-return]


def enterprise_name(uow: UnitOfWork, enterprise_id: str) -> str:
    found = card(uow, enterprise_id)
    return found.name if found is not None else directory(uow).names.get(enterprise_id, "贵单位")


def people_of(uow: UnitOfWork, enterprise_id: str) -> list[dict[str, str]]:
    """The enterprise's legal representative and contacts; while the registry's events have not reached
    this service yet, the enterprise itself (its legal representative, looked up when sending)."""
    found = card(uow, enterprise_id)
    people = found.people() if found is not None else []
    return people or [
        {"kind": "enterprise", "name": "法定代表人", "address": "", "enterprise_id": enterprise_id}
    ]


def department(uow: UnitOfWork, code: str) -> dict[str, str]:
    return {"kind": "department", "name": directory(uow).department_name(code), "address": code}


def channel_of(recipient: dict[str, str]) -> str:
    return str(Channel.DEPARTMENT if recipient["kind"] == "department" else Channel.SMS)


def requested_ids(cause: Cause, recipients: list[dict[str, str]]) -> list[uuid.UUID]:
    """The ids of the notifications `request` makes for a cause: the same cause asks for them once."""
    return [notification_id(r, channel_of(r), cause.event_id) for r in recipients]


def request(
    uow: UnitOfWork,
    cause: Cause,
    kind: str,
    recipients: list[dict[str, str]],
    text: str,
) -> list[Notification]:
    """One notification per recipient (the sender takes it in from the notification log); none that this
    cause requested before."""
    made = []
    caused_by = {"event_id": cause.event_id, "type": cause.type, "upstream": cause.upstream}
    at = clock.utc(cause.occurred_at)
    ids = requested_ids(cause, recipients)
    uow.prefetch(ids)  # whether any was requested before: one read for all (none for ids read already)
    for recipient, requested in zip(recipients, ids, strict=True):
        channel = channel_of(recipient)
        if uow.get(requested) is not None:
            continue
        note = uow.add(
            Notification(
                enterprise_id=str(cause.enterprise_id or ""),
                kind=kind,
                channel=channel,
                recipient=recipient,
                cause=caused_by,
                text=text,
                requested_at=at,
            )
        )
        made.append(note)
    return made
