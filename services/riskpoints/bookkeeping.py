"""The service's own bookkeeping, kept in its store and never published: an index of each
enterprise's risk points, and the progress of each bulk import."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import CheapCopies, InternalAggregate
from services.backbone.errors import TransitionError
from services.backbone.ids import per_enterprise

RETIRED = "-"  # the fingerprint of a retired risk point in the index


@per_enterprise
def index_id(enterprise_id: str | uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), "riskpoints/index")


class RiskPointIndex(CheapCopies, InternalAggregate):
    """An enterprise's risk points by ERP id, each with the fingerprint of its current import form.

    Saved in the same transaction as the risk points it describes, so an unchanged item of a re-sent
    import is recognised without loading its aggregate, and listing needs no scan.
    """

    flat = ("entries",)  # ERP id → fingerprint (texts): copied as a dict, not value by value

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return index_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.entries: dict[str, str] = {}

    def record(self, fingerprints: dict[str, str]) -> None:
        changed = {k: v for k, v in fingerprints.items() if self.entries.get(k) != v}
        if changed:
            self._recorded(entries=changed)

    @event("Recorded")
    def _recorded(self, entries: dict[str, str]) -> None:
        self.entries.update(entries)

    def standing(self, external_id: str, fingerprint: str) -> str:
        """Where an item stands against what is stored: "new", "unchanged" or "changed". A retired
        risk point is never changed again, by a single call or an import (TransitionError)."""
        known = self.entries.get(external_id)
        if known is None:
            return "new"
        if known == RETIRED:
            raise TransitionError("external_id", "this risk point was retired; it is not changed", "retired")
        return "unchanged" if known == fingerprint else "changed"

    def active(self) -> list[str]:
        return sorted(k for k, v in self.entries.items() if v != RETIRED)


COUNTS = ("received", "accepted", "created", "changed", "unchanged", "rejected")


def import_id_of(enterprise_id: str | uuid.UUID, import_id: str) -> uuid.UUID:
    return uuid.uuid5(uuid.UUID(str(enterprise_id)), f"riskpoints/import/{import_id}")


class Import(InternalAggregate):
    """How far an ERP's bulk import has come: its counts are saved with each page's risk points."""

    @staticmethod
    def create_id(enterprise_id: str, import_id: str, **_: Any) -> uuid.UUID:
        return import_id_of(enterprise_id, import_id)

    @event("Started")
    def __init__(self, enterprise_id: str, import_id: str) -> None:
        self.enterprise_id, self.import_id = enterprise_id, import_id
        self.counts = dict.fromkeys(COUNTS, 0)
        self.pages = 0
        self.status = "running"

    @event("PageSaved")
    def page_saved(self, counts: dict[str, int]) -> None:
        self.counts = {k: self.counts[k] + counts.get(k, 0) for k in COUNTS}
        self.pages += 1

    def finish(self) -> None:
        if self.status != "finished":
            self._finished()

    @event("Finished")
    def _finished(self) -> None:
        self.status = "finished"

    def as_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "enterprise_id": self.enterprise_id,
            "status": self.status,
            "pages": self.pages,
            **self.counts,
            "started_at": self.created_on.isoformat(),
            "updated_at": self.modified_on.isoformat(),
        }


STARTED_TOPIC = f"{__name__}:Import.Started"
