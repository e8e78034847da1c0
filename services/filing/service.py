"""The filing service's nameko entrypoints."""

from __future__ import annotations

from typing import Any

import structlog

from services.backbone.nameko_store import EventStore
from services.backbone.rpc import rpc
from services.filing.application import FilingApplication

log = structlog.get_logger(__name__)


class FilingService:
    name = "filing"

    app: FilingApplication = EventStore(FilingApplication)

    @rpc
    def enterprise_view(self, enterprise_id: str) -> dict[str, Any]:
        return self.app.enterprise_view(enterprise_id)

    @rpc
    def compile(self, enterprise_id: str, after: dict[str, int] | None = None) -> dict[str, Any]:
        compiled = self.app.compile(enterprise_id, after=after)
        log.info("register_compiled", enterprise_id=enterprise_id, version=compiled["version"])
        return compiled

    @rpc
    def submit(self, enterprise_id: str, version: int, signatures: dict[str, str]) -> dict[str, Any]:
        summary = self.app.submit(enterprise_id, version, signatures)
        log.info(
            "register_submitted", enterprise_id=enterprise_id, version=version, to=len(summary["ledger"])
        )
        return summary

    @rpc
    def status(self, enterprise_id: str, version: int = 0) -> dict[str, Any]:
        return self.app.status(enterprise_id, version)

    @rpc
    def document_hash(self, enterprise_id: str, version: int, department: str = "") -> str:
        return self.app.document_hash(enterprise_id, version, department)

    @rpc
    def deliveries(self, department: str = "") -> dict[str, Any]:
        return self.app.deliveries(department)

    @rpc
    def versions(self, enterprise_id: str) -> list[dict[str, Any]]:
        return self.app.versions(enterprise_id)

    @rpc
    def get_version(self, enterprise_id: str, version: int) -> dict[str, Any]:
        return self.app.get_version(enterprise_id, version)

    @rpc
    def diff(self, enterprise_id: str, old: int, new: int) -> dict[str, Any]:
        return self.app.diff(enterprise_id, old, new)

    @rpc
    def record_delivery(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str = "",
        receipt: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.app.record_delivery(enterprise_id, version, department, outcome, reason, receipt)

    @rpc
    def record_deliveries(self, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return self.app.record_deliveries(moves)

    @rpc
    def open_campaign(self, town: str, name: str, deadline: str) -> dict[str, Any]:
        return self.app.open_campaign(town, name, deadline)

    @rpc
    def campaign_status(self, town: str, name: str, at: str = "") -> dict[str, Any]:
        return self.app.campaign_status(town, name, at)

    @rpc
    def town_book(self, town: str) -> dict[str, Any]:
        return self.app.town_book(town)

    @rpc
    def export_town_book(self, town: str, fmt: str) -> str:
        import base64

        return base64.b64encode(self.app.export_town_book(town, fmt)).decode("ascii")

    @rpc
    def feed(self, department: str, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        return self.app.feed(department, after, limit)
