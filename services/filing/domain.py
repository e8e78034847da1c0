"""The register (一企一册): versioned, hashed, signed filings and their per-department ledger."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate
from services.backbone.errors import DomainError, TransitionError, ValidationError
from services.backbone.ids import per_enterprise

FILINGS = uuid.UUID("a3c1d3f0-6b1e-4a59-8d1e-0f6c1d9b7e21")


class FilingStatus(StrEnum):
    COMPILED = "compiled"  # waiting for the enterprise's signatures
    SUBMITTED = "submitted"
    SUPERSEDED = "superseded"  # a newer version was filed, or compiled before this one was filed


class Delivery(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PARKED = "parked"  # delivery attempts exhausted; replayable by the operator


# Which ledger moves are allowed: a department's answer is final, a re-delivery is harmless.
_MOVES: dict[Delivery, set[Delivery]] = {
    Delivery.PENDING: {Delivery.DELIVERED, Delivery.ACKNOWLEDGED, Delivery.REJECTED, Delivery.PARKED},
    Delivery.PARKED: {Delivery.DELIVERED, Delivery.ACKNOWLEDGED, Delivery.REJECTED, Delivery.PARKED},
    Delivery.DELIVERED: {Delivery.ACKNOWLEDGED, Delivery.REJECTED},
    Delivery.ACKNOWLEDGED: set(),
    Delivery.REJECTED: set(),
}


def filing_id(enterprise_id: str, version: int) -> uuid.UUID:
    return uuid.uuid5(FILINGS, f"{enterprise_id}/{version}")


class Filing(HubAggregate):
    """One version of an enterprise's register, from compilation to every department's answer."""

    @staticmethod
    def create_id(enterprise_id: str, version: int, **_: Any) -> uuid.UUID:
        return filing_id(enterprise_id, version)

    @event("Compiled")
    def __init__(
        self, enterprise_id: str, version: int, document: dict[str, Any], document_hash: str, reason: str
    ) -> None:
        # not `version`: that is the aggregate's own event count in eventsourcing
        self.enterprise_id, self.register_version = enterprise_id, version
        self.document, self.document_hash, self.reason = document, document_hash, reason
        self.status = FilingStatus.COMPILED
        self.signatures: dict[str, str] = {}
        self.public_keys: dict[str, str] = {}
        self.departments: list[str] = []
        self.submitted_at: str | None = None

    def submit(
        self, signatures: dict[str, str], public_keys: dict[str, str], departments: list[str], at: str
    ) -> None:
        if self.status != FilingStatus.COMPILED:
            raise TransitionError(
                "version", f"version {self.register_version} is {self.status}", str(self.status)
            )
        self._submitted(
            enterprise_id=self.enterprise_id,
            version=self.register_version,
            document=self.document,
            document_hash=self.document_hash,
            signatures=signatures,
            public_keys=public_keys,
            departments=sorted(departments),
            submitted_at=at,
        )

    @event("Submitted")
    def _submitted(
        self,
        enterprise_id: str,
        version: int,
        document: dict[str, Any],
        document_hash: str,
        signatures: dict[str, str],
        public_keys: dict[str, str],
        departments: list[str],
        submitted_at: str,
    ) -> None:
        self.status = FilingStatus.SUBMITTED
        self.signatures, self.public_keys = signatures, public_keys
        self.departments = departments
        self.submitted_at = submitted_at

    def supersede(self, by_version: int) -> None:
        """A newer version was compiled before this one was filed: this one will never be."""
        if self.status == FilingStatus.COMPILED:
            self._superseded(enterprise_id=self.enterprise_id, by_version=by_version)

    def replaced_by_filing(self, by_version: int) -> None:
        """A newer version was filed: this filed one is history (its ledger stays, and departments may
        still answer it)."""
        if self.status == FilingStatus.SUBMITTED:
            self._superseded(enterprise_id=self.enterprise_id, by_version=by_version)

    @event("Superseded")
    def _superseded(self, enterprise_id: str, by_version: int) -> None:
        self.status = FilingStatus.SUPERSEDED

    def summary(self) -> dict[str, Any]:
        return {
            "filing_id": str(self.id),
            "enterprise_id": self.enterprise_id,
            "version": self.register_version,
            "status": str(self.status),
            "document_hash": self.document_hash,
            "reason": self.reason,
            "submitted_at": self.submitted_at,
        }


def delivery_entry_id(enterprise_id: str, version: int, department: str) -> uuid.UUID:
    return uuid.uuid5(FILINGS, f"{enterprise_id}/{int(version)}/{department}")


class FilingDelivery(HubAggregate):
    """One department's entry in the ledger of a version filed before DeliveryLedger: read, never
    written any more (its events stay in the store, and in the notification log consumers replay).
    A version filed before whose departments answer now gets a DeliveryLedger opened from these."""

    class Opened(HubAggregate.Created):
        published = False  # implied by Filing.Submitted; only the moves are news
        enterprise_id: str
        version: int
        department: str

    @staticmethod
    def create_id(enterprise_id: str, version: int, department: str, **_: Any) -> uuid.UUID:
        return delivery_entry_id(enterprise_id, version, department)

    @event(Opened)
    def __init__(self, enterprise_id: str, version: int, department: str) -> None:
        self.enterprise_id, self.register_version, self.department = enterprise_id, version, department
        self.state, self.reason = Delivery.PENDING, ""

    @event("Recorded")
    def _recorded(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str,
        receipt: dict[str, Any],
    ) -> None:
        self.state, self.reason = Delivery(outcome), reason


def ledger_id(enterprise_id: str, version: int) -> uuid.UUID:
    return uuid.uuid5(FILINGS, f"{enterprise_id}/{int(version)}/ledger")


Entries = dict[str, list[str]]  # department -> [state, reason]


class DeliveryLedger(HubAggregate):
    """A filed version's ledger: where each department it went to stands, one aggregate per filing.

    A batch of answers is one event: the adapter hands a filing's twenty answers over together, and an
    entry per department (FilingDelivery, which versions filed before stay in) cost an Opened and a
    Recorded event per department, 42 for a filing, each stored, chained, relayed and consumed.
    Departments answering one filing at once do contend for its version number now: the save that
    loses runs again on the ledger as the other left it (the moves are the same either way)."""

    class Opened(HubAggregate.Created):
        published = False  # implied by Filing.Submitted (or, for a version filed before, by its entries)
        enterprise_id: str
        version: int
        entries: Entries

    @staticmethod
    def create_id(enterprise_id: str, version: int, **_: Any) -> uuid.UUID:
        return ledger_id(enterprise_id, version)

    @event(Opened)
    def __init__(self, enterprise_id: str, version: int, entries: Entries) -> None:
        self.enterprise_id, self.register_version = enterprise_id, version
        self.entries = entries

    def state(self, department: str) -> str:
        return self.entries.get(department, [Delivery.PENDING.value, ""])[0]

    def reason(self, department: str) -> str:
        return self.entries.get(department, [Delivery.PENDING.value, ""])[1]

    def record(self, moves: list[dict[str, Any]]) -> list[DomainError | None]:
        """Moves entries in the order given, each from where the moves before it left it: None for a
        move taken or harmless (a repeat, noise after an answer), the error that refused one. The
        moves taken are one event; a refused move does not stop the others."""
        entries, taken, results = dict(self.entries), [], []
        for move in moves:
            department = str(move.get("department", ""))
            try:
                if department not in entries:
                    raise TransitionError(
                        "department", f"{department} is not a recipient of this filing", "absent"
                    )
                outcome = _outcome(move.get("outcome", ""))
                if not _moves(Delivery(entries[department][0]), outcome):
                    results.append(None)
                    continue
            except DomainError as error:
                results.append(error)
                continue
            reason = str(move.get("reason") or "")
            entries[department] = [outcome.value, reason]
            taken.append(
                {
                    "department": department,
                    "outcome": outcome.value,
                    "reason": reason,
                    "receipt": move.get("receipt") or {},
                }
            )
            results.append(None)
        if taken:
            self._recorded(enterprise_id=self.enterprise_id, version=self.register_version, moves=taken)
        return results

    @event("Recorded")
    def _recorded(self, enterprise_id: str, version: int, moves: list[dict[str, Any]]) -> None:
        entries = dict(self.entries)
        for move in moves:
            entries[move["department"]] = [move["outcome"], move["reason"]]
        self.entries = entries


def opened_ledger(filing: Filing) -> DeliveryLedger:
    """The ledger of a version filed this instant: every department it went to, pending."""
    return DeliveryLedger(
        enterprise_id=filing.enterprise_id,
        version=filing.register_version,
        entries={d: [Delivery.PENDING.value, ""] for d in filing.departments},
    )


def _outcome(value: Any) -> Delivery:
    try:
        return Delivery(str(value))
    except ValueError:
        raise ValidationError("outcome", f"one of {', '.join(d.value for d in Delivery)}") from None


def _moves(state: Delivery, outcome: Delivery) -> bool:
    """Whether an entry in `state` moves to `outcome`: False when it is there already (a redelivery) or
    the department has answered (later noise changes nothing); TransitionError when it cannot go."""
    if state == outcome and outcome != Delivery.PARKED:
        return False
    if outcome not in _MOVES[state]:
        if state in (Delivery.ACKNOWLEDGED, Delivery.REJECTED):
            return False
        raise TransitionError("outcome", f"cannot go from {state} to {outcome}", str(state))
    return True


class FilingIndex(HubAggregate):
    """An enterprise's versions, and whether its register is out of date. Internal."""

    class Event(HubAggregate.Event):
        published = False

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return filing_index_id(enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.versions: list[int] = []
        self.hashes: dict[str, str] = {}  # by str(version): snapshots store JSON, whose keys are strings
        self.first_submitted_at: str | None = None
        self.stale_since: str | None = None
        self.stale_reason = ""

    @event("VersionAdded")
    def add_version(self, version: int, document_hash: str) -> None:
        self.versions = [*self.versions, version]
        self.hashes = {**self.hashes, str(version): document_hash}
        self.stale_since, self.stale_reason = None, ""

    @event("Submitted")
    def submitted(self, version: int, at: str) -> None:
        self.first_submitted_at = self.first_submitted_at or at

    def mark_stale(self, reason: str, at: str) -> None:
        if self.stale_since is None and self.versions:
            self._marked_stale(reason=reason, at=at)

    @event("MarkedStale")
    def _marked_stale(self, reason: str, at: str) -> None:
        self.stale_since, self.stale_reason = at, reason

    @event("Refreshed")
    def refresh(self) -> None:
        self.stale_since, self.stale_reason = None, ""

    @property
    def latest(self) -> int:
        return self.versions[-1] if self.versions else 0


@per_enterprise
def filing_index_id(enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(FILINGS, f"{enterprise_id}/index")
