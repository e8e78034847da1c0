"""The filing service's nameko entrypoints."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from services.backbone import rpc as _domain_errors  # noqa: F401 - registers error round-tripping
from services.backbone.nameko_store import EventStore
from services.filing.application import FilingApplication


class FilingService:
    name = "filing"

    app: FilingApplication = EventStore(FilingApplication)

    @rpc
    def enterprise_view(self, enterprise_id: str) -> dict[str, Any]:
        return self.app.enterprise_view(enterprise_id)
