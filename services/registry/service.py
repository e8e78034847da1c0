"""The registry's nameko service: parse, call the application, return primitives."""

from __future__ import annotations

from typing import Any

import structlog

from services.backbone.nameko_store import EventStore
from services.backbone.rpc import rpc
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
    def register_public_key(self, enterprise_id: str, role: str, public_key: str) -> dict[str, Any]:
        return self.app.register_public_key(enterprise_id, role, public_key)

    @rpc
    def authenticate(self, key_id: str, secret: str) -> str:
        return self.app.authenticate(key_id, secret)

    # -- enforcement orders (the dangers service's process manager, hubctl) -------------------
    @rpc
    def suspend(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        answer = self.app.suspend(enterprise_id, reason, document_no, authority, ordered_on)
        log.info("production_suspended", enterprise_id=enterprise_id, document_no=document_no)
        return answer

    @rpc
    def resume(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        answer = self.app.resume(enterprise_id, reason, document_no, authority, ordered_on)
        log.info("production_resumed", enterprise_id=enterprise_id, document_no=document_no)
        return answer

    @rpc
    def close(
        self, enterprise_id: str, reason: str, document_no: str, authority: str, ordered_on: str
    ) -> dict[str, Any]:
        answer = self.app.close_enterprise(enterprise_id, reason, document_no, authority, ordered_on)
        log.info("enterprise_closed", enterprise_id=enterprise_id, document_no=document_no)
        return answer

    # -- departments and routing (operator side: hubctl, never the ERP gateway) ---------------
    @rpc
    def add_department(self, fields: dict[str, Any]) -> dict[str, Any]:
        answer = self.app.add_department(fields)
        log.info("department_added", code=answer["code"], created=answer["created"])
        return answer

    @rpc
    def update_department(self, code: str, changes: dict[str, Any]) -> dict[str, Any]:
        return self.app.update_department(code, changes)

    @rpc
    def pin_receipt_key(self, code: str, public_key: str) -> dict[str, Any]:
        return self.app.pin_receipt_key(code, public_key)

    @rpc
    def get_department(self, code: str) -> dict[str, Any]:
        return self.app.get_department(code)

    @rpc
    def list_departments(self, include_removed: bool = False) -> list[dict[str, Any]]:
        return self.app.list_departments(include_removed)

    @rpc
    def remove_department(self, code: str) -> dict[str, Any]:
        answer = self.app.remove_department(code)
        log.info("department_removed", **answer)
        return answer

    @rpc
    def set_routing_rule(self, industry: str, town: str, departments: list[str]) -> dict[str, Any]:
        answer = self.app.set_routing_rule(industry, town, departments)
        log.info("routing_rule_set", industry=industry, town=town, reassigned=answer["reassigned"])
        return answer

    @rpc
    def apply_routing(self) -> dict[str, Any]:
        answer = self.app.apply_routing()
        log.info("routing_applied", **answer)
        return answer

    @rpc
    def routing_table(self) -> dict[str, Any]:
        return self.app.routing_table()

    @rpc
    def add_supervisor(self, enterprise_id: str, department: str, actor: str = "") -> dict[str, Any]:
        answer = self.app.add_supervisor(enterprise_id, department)
        log.info("supervisor_added", enterprise_id=enterprise_id, department=department, actor=actor)
        return answer

    @rpc
    def remove_supervisor(self, enterprise_id: str, department: str, actor: str = "") -> dict[str, Any]:
        answer = self.app.remove_supervisor(enterprise_id, department)
        log.info("supervisor_removed", enterprise_id=enterprise_id, department=department, actor=actor)
        return answer

    @rpc
    def list_enterprises(
        self, town: str | None = None, department: str | None = None
    ) -> list[dict[str, Any]]:
        return self.app.list_enterprises(town, department)
