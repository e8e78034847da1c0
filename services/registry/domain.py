"""The enterprise registry: enterprises, their lifecycle and the departments that supervise them."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import TransitionError

ENTERPRISES = uuid.UUID("5d0c7a7e-8a57-4b3c-9f0f-2f8f7d0f1a01")


class Status(StrEnum):
    OPERATING = "operating"
    SUSPENDED = "suspended"  # 停产整顿
    CLOSED = "closed"  # 关闭取缔


def enterprise_id(uscc: str) -> uuid.UUID:
    """One enterprise per unified social credit code: registering twice finds the same id."""
    return uuid.uuid5(ENTERPRISES, uscc)


class Enterprise(HubAggregate):
    """An enterprise under safety supervision, as its ERP registered it."""

    @staticmethod
    def create_id(uscc: str, **_: Any) -> uuid.UUID:
        return enterprise_id(uscc)

    @event("Registered")
    def __init__(
        self,
        uscc: str,
        name: str,
        legal_representative: str,
        legal_representative_mobile: str,
        industry: str,
        address: str,
        town: str,
        contacts: list[dict[str, str]],
    ) -> None:
        self.uscc, self.name = uscc, name
        self.legal_representative = legal_representative
        self.legal_representative_mobile = legal_representative_mobile
        self.industry, self.address, self.town = industry, address, town
        self.contacts = contacts
        self.status = Status.OPERATING
        self.supervisors: list[str] = []  # department codes, routed and manual
        self.manual_supervisors: list[str] = []
        self.public_keys: dict[str, str] = {}
        self.order_no = ""  # document number of the last enforcement order applied

    def _require(self, allowed: set[Status], action: str) -> None:
        if self.status not in allowed:
            raise TransitionError(
                "status", f"cannot {action} an enterprise that is {self.status}", str(self.status)
            )

    def update_profile(self, changes: dict[str, Any]) -> None:
        self._require({Status.OPERATING, Status.SUSPENDED}, "update")
        changed = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if changed:
            self._profile_updated(changes=changed)

    @event("ProfileUpdated")
    def _profile_updated(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            setattr(self, key, value)

    def assign_supervisors(self, routed: list[str], manual: list[str] | None = None) -> None:
        manual = sorted(set(self.manual_supervisors if manual is None else manual))
        departments = sorted(set(routed) | set(manual))
        if departments != self.supervisors or manual != self.manual_supervisors:
            self._supervisors_assigned(departments=departments, manual=manual)

    @event("SupervisorsAssigned")
    def _supervisors_assigned(self, departments: list[str], manual: list[str]) -> None:
        self.supervisors, self.manual_supervisors = departments, manual

    def register_public_key(self, role: str, public_key: str) -> None:
        if self.public_keys.get(role) != public_key:
            self._public_key_registered(role=role, public_key=public_key)

    @event("PublicKeyRegistered")
    def _public_key_registered(self, role: str, public_key: str) -> None:
        self.public_keys = {**self.public_keys, role: public_key}

    def suspend(self, reason: str, document_no: str, authority: str, ordered_on: str) -> None:
        # The same order delivered twice (a retried call) changes nothing; any other is a transition.
        if (self.status, self.order_no) == (Status.SUSPENDED, document_no):
            return
        self._require({Status.OPERATING}, "suspend production of")
        self._suspended(reason=reason, document_no=document_no, authority=authority, ordered_on=ordered_on)

    @event("ProductionSuspended")
    def _suspended(self, reason: str, document_no: str, authority: str, ordered_on: str) -> None:
        self.status, self.order_no = Status.SUSPENDED, document_no

    def resume(self, reason: str, document_no: str, authority: str, ordered_on: str) -> None:
        if (self.status, self.order_no) == (Status.OPERATING, document_no):
            return
        self._require({Status.SUSPENDED}, "resume production of")
        self._resumed(document_no=document_no, authority=authority, ordered_on=ordered_on, reason=reason)

    @event("ProductionResumed")
    def _resumed(self, document_no: str, authority: str, ordered_on: str, reason: str = "") -> None:
        self.status, self.order_no = Status.OPERATING, document_no

    def close(self, reason: str, document_no: str, authority: str, ordered_on: str) -> None:
        if (self.status, self.order_no) == (Status.CLOSED, document_no):
            return
        self._require({Status.OPERATING, Status.SUSPENDED}, "close")
        self._closed(reason=reason, document_no=document_no, authority=authority, ordered_on=ordered_on)

    @event("Closed")
    def _closed(self, reason: str, document_no: str, authority: str, ordered_on: str) -> None:
        self.status, self.order_no = Status.CLOSED, document_no


class Credential(HubAggregate):
    """An enterprise's gateway credential, stored only as a hash. Never published."""

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(enterprise: uuid.UUID, **_: Any) -> uuid.UUID:
        return credential_id(enterprise)

    @event("Issued")
    def __init__(self, enterprise: uuid.UUID, key_id: str, secret_hash: str) -> None:
        self.enterprise, self.key_id, self.secret_hash = enterprise, key_id, secret_hash

    @event("Rotated")
    def rotate(self, key_id: str, secret_hash: str) -> None:
        self.key_id, self.secret_hash = key_id, secret_hash


def credential_id(enterprise: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(enterprise, "credential")


class IdempotentRequest(HubAggregate):
    """The answer given to a write carrying an idempotency key; a retry gets it again."""

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(scope: str, key: str, **_: Any) -> uuid.UUID:
        return idempotency_id(scope, key)

    @event("Answered")
    def __init__(self, scope: str, key: str, request_hash: str, response: dict[str, Any]) -> None:
        self.scope, self.key, self.request_hash, self.response = scope, key, request_hash, response


def idempotency_id(scope: str, key: str) -> uuid.UUID:
    return uuid.uuid5(ENTERPRISES, f"idempotency/{scope}/{key}")
