"""Registry use cases: get → call → save, returning primitives."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

from eventsourcing.application import AggregateNotFoundError

from services.backbone.conflicts import retried
from services.backbone.errors import ConflictError, PermissionDeniedError, ValidationError
from services.backbone.settings import Settings
from services.kernel.fields import PROFILE_CHANGEABLE, check_changes
from services.kernel.validation import validate_uscc
from services.registry import credentials
from services.registry.base import enterprise_keys
from services.registry.departments import DIRECTORY_ID, Department, DepartmentDirectory
from services.registry.directory import Directory
from services.registry.domain import (
    Credential,
    Enterprise,
    IdempotentRequest,
    credential_id,
    enterprise_id,
    idempotency_id,
)
from services.registry.index import EnterpriseIndex
from services.registry.lifecycle import Lifecycle
from services.registry.profile import check_profile
from services.registry.removal import DepartmentRemoval
from services.registry.routing import ROUTING_TABLE_ID, RoutingTable
from services.registry.signing_keys import SigningKeys
from services.registry.supervision import Supervision


def _request_hash(request: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class RegistryApplication(Supervision, Directory, DepartmentRemoval, Lifecycle, SigningKeys):
    """The registry service's application on its own store: enterprises and their credentials here;
    departments, routing and listings in Directory, DepartmentRemoval and Supervision; enforcement
    orders in Lifecycle."""

    service = "registry"
    # Every registration reads the routing table, the department directory and its index shards, which
    # other registrations keep changing: kept in memory and brought up to date with the events stored
    # since (eventsourcing's fast-forward: one query, usually no event), not decoded from their snapshot
    # and up to a snapshot interval of events each time. Commands get a copy; a failed save leaves the
    # kept one as it was.
    env: ClassVar[dict[str, str]] = {"AGGREGATE_CACHE_MAXSIZE": "4096"}
    get_many_kept = True  # its shards, routing table and directory: read by every registration
    snapshotting_intervals = {
        Enterprise: 50,
        EnterpriseIndex: 100,
        RoutingTable: 50,
        DepartmentDirectory: 50,
        Department: 50,
    }

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        runtime_dir = self.env.get("HUB_RUNTIME_DIR") or str(Settings().runtime_dir)
        secrets_dir = self.env.get("HUB_SECRETS_DIR") or str(Settings().secrets_dir)
        self.credential_key = credentials.hub_key(
            Path(secrets_dir), self.env.get("HUB_CREDENTIAL_KEY", ""), Path(runtime_dir)
        )

    # -- enterprises ----------------------------------------------------------------------
    @retried
    def register(self, fields: dict[str, Any], idempotency_key: str = "") -> dict[str, Any]:
        """Registers an enterprise and issues its credential (the secret is returned, not kept)."""
        try:
            uscc = validate_uscc(str(fields.get("unified_social_credit_code", "")))
        except ValidationError as error:
            try:
                check_profile(fields)
            except ValidationError as more:
                raise ValidationError.many(error.violations + more.violations) from None
            raise
        profile = check_profile(fields)
        eid = enterprise_id(uscc)
        key_id = credentials.key_id_for(uscc, 1)
        answer = {"enterprise_id": str(eid), "unified_social_credit_code": uscc, "key_id": key_id}
        # the enterprise (registered before?), the routing table, the directory and the shards it will
        # likely join, read together
        shards = self._likely_shards(str(eid), str(profile.get("town", "")), str(profile.get("industry", "")))
        found = self.get_many([eid, ROUTING_TABLE_ID, DIRECTORY_ID, *shards])
        if eid in found:
            # A retry of the same request (same idempotency key) gets the same answer, secret
            # included (derived again, never stored); anything else is a second registration.
            previous = self._previous_answer("register", idempotency_key, fields) if idempotency_key else None
            if previous is None:
                raise ConflictError(
                    "unified_social_credit_code", f"an enterprise with code {uscc} is already registered"
                )
            secret = credentials.derive_secret(self.credential_key, previous["key_id"])
            return {**previous, "secret": secret, "created": False}
        enterprise = Enterprise(uscc=uscc, contacts=profile.pop("contacts", []), **profile)
        reindexer = self._reindexer({i: found.get(i) for i in shards})
        table = found.get(ROUTING_TABLE_ID) or RoutingTable()
        directory = found.get(DIRECTORY_ID) or DepartmentDirectory()
        self._route(enterprise, table, directory, reindexer, before=set())
        secret = credentials.derive_secret(self.credential_key, key_id)
        credential = Credential(eid, key_id=key_id, secret_hash=credentials.secret_hash(secret))
        records: list[Any] = [enterprise, credential, *reindexer.indexes()]
        if idempotency_key:
            records.append(self._answer("register", idempotency_key, fields, answer))
        self.save(*records)
        return {**answer, "secret": secret, "created": True}

    def get(self, enterprise: str) -> dict[str, Any]:
        found = self._enterprise(enterprise)
        return {
            "enterprise_id": str(found.id),
            "unified_social_credit_code": found.uscc,
            "name": found.name,
            "legal_representative": found.legal_representative,
            "legal_representative_mobile": found.legal_representative_mobile,
            "industry": found.industry,
            "address": found.address,
            "town": found.town,
            "contacts": found.contacts,
            "status": str(found.status),
            "supervisors": list(found.supervisors),
            "manual_supervisors": list(found.manual_supervisors),
            "public_keys": dict(found.public_keys),
            "version": found.version,
        }

    @retried
    def update(self, enterprise: str, changes: dict[str, Any], idempotency_key: str = "") -> dict[str, Any]:
        found = self._enterprise(enterprise)
        if idempotency_key:
            previous = self._previous_answer("update", idempotency_key, changes)
            if previous is not None:
                return previous
        check_changes(changes, PROFILE_CHANGEABLE)
        clean = check_profile(changes, partial=True)
        before = enterprise_keys(found)
        found.update_profile(clean)
        # A new industry or town may mean other departments (and another town office).
        reindexer = self._reindexer()
        self._route(found, self._table(), self._directory(), reindexer, before=before)
        answer = {"enterprise_id": str(found.id), "version": found.version}
        records: list[Any] = [found, *reindexer.indexes()]
        if idempotency_key:
            records.append(self._answer("update", idempotency_key, changes, answer))
        self.save(*records)
        return answer

    # -- credentials ----------------------------------------------------------------------
    def authenticate(self, key_id: str, secret: str) -> str:
        """The enterprise id a credential belongs to; PermissionDeniedError otherwise."""
        uscc, _, _ = key_id.rpartition(".")
        try:
            credential: Credential = self.repository.get(credential_id(enterprise_id(uscc)))
        except (AggregateNotFoundError, ValueError):
            raise PermissionDeniedError("credential", "unknown key id") from None
        if credential.key_id != key_id or not credentials.matches(secret, credential.secret_hash):
            raise PermissionDeniedError("credential", "key id and secret do not match")
        return str(credential.enterprise)

    # -- helpers --------------------------------------------------------------------------
    def _answer(self, scope: str, key: str, request: dict[str, Any], response: dict[str, Any]) -> Any:
        return IdempotentRequest(scope=scope, key=key, request_hash=_request_hash(request), response=response)

    def _previous_answer(self, scope: str, key: str, request: dict[str, Any]) -> dict[str, Any] | None:
        try:
            answered: IdempotentRequest = self.repository.get(idempotency_id(scope, key))
        except AggregateNotFoundError:
            return None
        if answered.request_hash != _request_hash(request):
            raise ValidationError("idempotency_key", "already used for a different request")
        return dict(answered.response)
