"""The registry's nameko service: parse, call the application, return primitives."""

from __future__ import annotations

from typing import Any

import structlog
from nameko.rpc import rpc

from services.backbone import rpc as _domain_errors  # noqa: F401 - registers error round-tripping
from services.backbone.nameko_store import EventStore
from services.registry.application import RegistryApplication

log = structlog.get_logger(__name__)


class RegistryService:
    name = "registry"

    app: RegistryApplication = EventStore(RegistryApplication)

    @rpc
    def register(self, fields: dict[str, Any], idempotency_key: str = "") -> dict[str, Any]:
        answer = self.app.register(fields, idempotency_key)
        log.info(
            "enterprise_registered",
            enterprise_id=answer["enterprise_id"],
            created=answer["created"],
            legal_representative=fields.get("legal_representative", ""),
            legal_representative_mobile=fields.get("legal_representative_mobile", ""),
        )
        return answer

    @rpc
    def get(self, enterprise_id: str) -> dict[str, Any]:
        return self.app.get(enterprise_id)

    @rpc
    def update(
        self, enterprise_id: str, changes: dict[str, Any], idempotency_key: str = ""
    ) -> dict[str, Any]:
        return self.app.update(enterprise_id, changes, idempotency_key)

    @rpc
    def authenticate(self, key_id: str, secret: str) -> str:
        return self.app.authenticate(key_id, secret)
