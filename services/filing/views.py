"""The filing service's own views of other services' data, built from their events only."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate


class View(HubAggregate):
    """Base of the filing service's views: internal, never published."""

    class Event(HubAggregate.Event):
        published = False


def enterprise_view_id(enterprise_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), "filing/enterprise-view")


class EnterpriseView(View):
    """What the register needs to know about an enterprise."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return enterprise_view_id(enterprise_id)

    @event("Recorded")
    def __init__(self, enterprise_id: str, profile: dict[str, Any]) -> None:
        self.enterprise_id = enterprise_id
        self.profile = profile
        self.status = "operating"
        self.supervisors: list[str] = []
        self.public_keys: dict[str, str] = {}

    @event("ProfileChanged")
    def change_profile(self, changes: dict[str, Any]) -> None:
        self.profile = {**self.profile, **changes}

    @event("SupervisorsChanged")
    def change_supervisors(self, departments: list[str]) -> None:
        self.supervisors = departments

    @event("PublicKeyChanged")
    def change_public_key(self, role: str, public_key: str) -> None:
        self.public_keys = {**self.public_keys, role: public_key}

    @event("StatusChanged")
    def change_status(self, status: str) -> None:
        self.status = status

    def as_dict(self) -> dict[str, Any]:
        return {
            "enterprise_id": self.enterprise_id,
            **self.profile,
            "status": self.status,
            "supervisors": list(self.supervisors),
            "public_keys": dict(self.public_keys),
        }
