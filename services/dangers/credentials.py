"""Inspectors' credentials: one token per supervising department, kept only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

CREDENTIALS = uuid.UUID("5e2a7d90-3b4c-4f18-a6e1-0d9c8b7f2e55")


def credential_id(department: str) -> uuid.UUID:
    return uuid.uuid5(CREDENTIALS, department)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # 256 random bits: a plain digest cannot be brute-forced.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored_hash)


class InspectorCredential(HubAggregate):
    """A department's inspector token (as a hash). Never published; reissuing replaces it."""

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(department: str, **_: Any) -> uuid.UUID:
        return credential_id(department)

    @event("Issued")
    def __init__(self, department: str, token_hash: str) -> None:
        self.department, self.token_hash = department, token_hash

    @event("Reissued")
    def reissue(self, token_hash: str) -> None:
        self.token_hash = token_hash
