"""The notifications service fed from the real upstream applications (in memory): their stores' own
notification logs, read as the relay reads them (so every envelope passed its contract)."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone.envelope import Envelope
from services.backbone.handlers import UnitOfWork
from services.backbone.relay import envelopes_after
from services.backbone.store import HubApplication
from services.filing.application import FilingApplication
from services.filing.domain import Filing, opened_ledger
from services.notifications.application import NotificationsApplication
from services.notifications.handlers import handlers
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
TOWN = "张山子镇"
AJ, TOWN_OFFICE, ZJ = "AJJ-TEZ", "TOWN-ZSZ", "ZJ-TEZ"
DOCUMENT = {"format": "一企一册/v1", "enterprise": {}, "risk_points": [], "supervising_departments": []}


class Feed:
    """Applies each upstream's new envelopes to the notifications handlers, a tracked transaction each."""

    def __init__(self, app: NotificationsApplication) -> None:
        self.app = app
        self.positions: dict[str, int] = {}

    def apply(self, envelope: Envelope) -> bool:
        return self.apply_page([envelope])

    def apply_page(self, envelopes: list[Envelope]) -> bool:
        """Applies envelopes in one unit of work, as a consumer applies a page; True if any was handled."""
        uow = UnitOfWork(self.app)
        handled = [handlers.apply(uow, envelope) for envelope in envelopes]
        processing = ProcessingEvent(Tracking(envelopes[-1].upstream, envelopes[-1].notification_id))
        uow.collect(processing)
        self.app.record(processing)
        return any(handled)

    def follow(self, upstream: HubApplication, at: str | None = None, page: int = 1) -> list[Envelope]:
        """Applies what `upstream` stored since the last call, `page` envelopes to a unit of work, as if it
        happened `at` (when given: the envelopes' time, and the time a deadline timer found a danger
        overdue)."""
        envelopes, last = envelopes_after(upstream, self.positions.get(upstream.service, 0), 100_000)
        if at is not None:
            envelopes = [self._at(e, at) for e in envelopes]
        for start in range(0, len(envelopes), page):
            self.apply_page(envelopes[start : start + page])
        self.positions[upstream.service] = last
        return envelopes

    @staticmethod
    def _at(envelope: Envelope, at: str) -> Envelope:
        payload = (
            {**envelope.payload, "detected_at": at} if "detected_at" in envelope.payload else envelope.payload
        )
        return envelope.replace(occurred_at=at, payload=payload)


def registry_with_departments(registry: RegistryApplication | None = None) -> RegistryApplication:
    """The registry (in memory unless given) with 安监, 住建 and the town office, and routing rules."""
    registry = registry or RegistryApplication(env=POPO)
    for code, kind, town in ((AJ, "安监", ""), (TOWN_OFFICE, "镇安委会办公室", TOWN), (ZJ, "住建", "")):
        registry.add_department(
            {"code": code, "name": f"{kind}部门", "kind": kind, "town": town, "endpoint": ""}
        )
    registry.set_routing_rule("化工", "*", [AJ])
    registry.set_routing_rule("建筑", "*", [ZJ])
    return registry


def register(registry: RegistryApplication, n: int, **overrides: Any) -> str:
    fields = enterprise_fields(n, town=TOWN, **overrides)
    return str(registry.register(fields)["enterprise_id"])


def submit(
    filing: FilingApplication, enterprise_id: str, version: int, departments: list[str], at: str
) -> Filing:
    """A real Filing of the filing service, compiled and submitted (signatures are the filing service's
    business: its own tests check them; here only the events matter)."""
    record = Filing(
        enterprise_id=enterprise_id,
        version=version,
        document=DOCUMENT,
        document_hash="0" * 64,
        reason="requested",
    )
    record.submit(
        {"legal_representative": "a" * 128, "enterprise_seal": "b" * 128},
        {"legal_representative": "04", "enterprise_seal": "04"},
        departments,
        at,
    )
    filing.save(record, opened_ledger(record))  # as the filing service submits
    return record


def answer(
    filing: FilingApplication, record: Filing, department: str, outcome: str, reason: str = ""
) -> None:
    filing.record_delivery(record.enterprise_id, record.register_version, department, outcome, reason)


def uid() -> str:
    return str(uuid.uuid4())
