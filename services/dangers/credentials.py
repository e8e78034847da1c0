"""A department's credentials: a token per department and scope, kept only as a hash.

A department's staff reach the hub in three roles, each with a token of its own, rotated on its own:
its inspectors (InspectionService), its platform pulling filings (FilingFeedService) and, for a town
safety office, its office (TownService). A token issued before scopes existed (no scope) still serves
every role that has no token of its own yet."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

CREDENTIALS = uuid.UUID("5e2a7d90-3b4c-4f18-a6e1-0d9c8b7f2e55")


SCOPES = ("inspections", "feed", "town")


def credential_id(department: str, scope: str = "") -> uuid.UUID:
    return uuid.uuid5(CREDENTIALS, f"{department}/{scope}" if scope else department)


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
    def create_id(department: str, scope: str = "", **_: Any) -> uuid.UUID:
        return credential_id(department, scope)

    @event("Issued")
    def __init__(self, department: str, token_hash: str, scope: str = "") -> None:
        self.department, self.token_hash, self.scope = department, token_hash, scope

    @event("Reissued")
    def reissue(self, token_hash: str) -> None:
        self.token_hash = token_hash
