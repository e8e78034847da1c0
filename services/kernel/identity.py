"""Ids the hub derives from names, so that a re-sent request or a redelivered event finds the same
aggregate instead of making a second one (uuid5 of a namespace and a name)."""

from __future__ import annotations

import uuid


def risk_point_id(enterprise_id: str | uuid.UUID, external_id: str) -> uuid.UUID:
    """One risk point per (enterprise, ERP id): a re-sent import finds the same aggregate, and an
    ERP may address a risk point by its own id."""
    namespace = enterprise_id if isinstance(enterprise_id, uuid.UUID) else uuid.UUID(str(enterprise_id))
    return uuid.uuid5(namespace, external_id)
