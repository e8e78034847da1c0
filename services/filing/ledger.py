"""Each department's answer to each filed version (the ledger), versions and their diffs, and the
pull feed of filings for departments."""

from __future__ import annotations

from itertools import groupby
from typing import Any, cast
from uuid import UUID

from services.backbone import correlation
from services.backbone.conflicts import retried
from services.backbone.errors import DomainError, NotFoundError, TransitionError
from services.filing import register
from services.filing.base import FilingBase
from services.filing.domain import (
    Delivery,
    DeliveryLedger,
    Filing,
    FilingDelivery,
    delivery_entry_id,
    ledger_id,
)
from services.kernel import canonical
from services.kernel.receipts import MAX_VERSION
from services.kernel.validation import bounded_int


class Ledger(FilingBase):
    """Records departments' answers, answers versions and diffs, feeds pulling departments."""

    @retried
    def record_delivery(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str = "",
        receipt: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Moves one department's ledger entry of one filing version."""
        move = {"enterprise_id": enterprise_id, "version": version, "department": department}
        (answer,) = self._move_entries([move | {"outcome": outcome, "reason": reason, "receipt": receipt}])
        if isinstance(answer, DomainError):
            raise answer
        state, reason = answer
        return {"department": department, "ledger": {department: state}, "reason": reason}

    @retried
    def record_deliveries(self, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Moves many ledger entries in one transaction (the department adapter's answers, batched):
        one event per filing among them.

        An answer per move, in order: the entry's new state, or the error that refused it (the
        other moves are saved all the same). Another process moving one of these ledgers meanwhile
        makes the save conflict, and the batch runs again on the ledgers as they are then."""
        answers: list[dict[str, Any]] = []
        for move, answer in zip(moves, self._move_entries(moves), strict=True):
            department = str(move.get("department", ""))
            if isinstance(answer, DomainError):
                answers.append(
                    {"department": department, "error": {"field": answer.field, "rule": answer.rule}}
                )
            else:
                answers.append({"department": department, "ledger": {department: answer[0]}})
        return answers

    def _move_entries(self, moves: list[dict[str, Any]]) -> list[tuple[str, str] | DomainError]:
        """Each move's entry after it (state, reason) or the error that refused it. The ledgers moved are
        saved together, each one's moves as one event (as many as there are causes among them: the
        answers to a filing all come from its submission's, so one)."""
        answers: list[tuple[str, str] | DomainError | None] = [None] * len(moves)
        by_ledger: dict[UUID, list[int]] = {}
        for i, move in enumerate(moves):
            try:
                version = bounded_int(move.get("version", 0), "version", 1, MAX_VERSION)
            except DomainError as error:
                answers[i] = error
                continue
            by_ledger.setdefault(ledger_id(str(move.get("enterprise_id", "")), version), []).append(i)
        found = self.get_many(by_ledger)  # every ledger of the batch in one read
        moved: list[DeliveryLedger] = []
        for key, indexes in by_ledger.items():
            first = moves[indexes[0]]
            try:
                ledger = found.get(key) or self._ledger_filed_before(
                    str(first.get("enterprise_id", "")), int(first["version"])
                )
            except DomainError as error:
                for i in indexes:
                    answers[i] = error
                continue
            for cause, run in groupby(indexes, key=lambda i: moves[i].get("correlation_id") or None):
                taken = list(run)
                with correlation.bound(cause):  # the moves' own cause: one event per cause in a row
                    refused = ledger.record([moves[i] for i in taken])
                for i, error in zip(taken, refused, strict=True):
                    department = str(moves[i].get("department", ""))
                    answers[i] = error or (ledger.state(department), ledger.reason(department))
            moved.append(ledger)
        self.save(*moved)  # nothing to save when every move was a repeat
        return cast(list[tuple[str, str] | DomainError], answers)  # every move was answered above

    def _ledger_filed_before(self, enterprise_id: str, version: int) -> DeliveryLedger:
        """The ledger of a version filed before ledgers were opened at submission, opened from its
        per-department entries (FilingDelivery); a version not filed has no recipient to move."""
        filing = self._filing(enterprise_id, version)
        if not filing.departments:
            raise TransitionError("department", "this version is not filed: it has no recipients", "absent")
        return DeliveryLedger(
            enterprise_id=enterprise_id, version=version, entries=self._entries_filed_before(filing)
        )

    def _entries_filed_before(self, filing: Filing) -> dict[str, list[str]]:
        """A version's entries as its FilingDelivery aggregates hold them (pending where none is)."""
        eid, version = filing.enterprise_id, filing.register_version
        keys = {d: delivery_entry_id(eid, version, d) for d in filing.departments}
        found = self.get_many(keys.values())
        entries = {}
        for department, key in sorted(keys.items()):
            entry: FilingDelivery | None = found.get(key)
            entries[department] = [str(entry.state), entry.reason] if entry else [Delivery.PENDING.value, ""]
        return entries

    def _summary(self, filing: Filing, answered: bool = True) -> dict[str, Any]:
        """A version with its whole ledger (pending for a department that has not answered)."""
        entries: dict[str, list[str]] = {}
        if answered and filing.departments:
            found: DeliveryLedger | None = self.find(ledger_id(filing.enterprise_id, filing.register_version))
            entries = found.entries if found is not None else self._entries_filed_before(filing)
        ledger, reasons = {}, {}
        for department in sorted(filing.departments):
            state, reason = entries.get(department, [Delivery.PENDING.value, ""])
            ledger[department] = state
            if reason:
                reasons[department] = reason
        return {**filing.summary(), "ledger": ledger, "reasons": reasons}

    def status(self, enterprise_id: str, version: int = 0) -> dict[str, Any]:
        if version == 0:  # the latest
            version = self._index(enterprise_id).latest
            if not version:
                raise NotFoundError("version", f"enterprise {enterprise_id} has compiled no register yet")
        return self._summary(self._filing(enterprise_id, version))

    def document_hash(self, enterprise_id: str, version: int, department: str = "") -> str:
        """The SM3 hash of a compiled version: what its signatures and its receipts are about (without
        the ledger that `status` reads, an entry per department). With `department`, only for a
        department the version was filed with (NotFoundError otherwise)."""
        filing = self._filing(enterprise_id, version)
        if department and department not in filing.departments:
            # not told apart from a delivery that does not exist: it is not this department's
            raise NotFoundError("delivery_id", f"{department} has no delivery of this filing")
        return str(filing.document_hash)

    def versions(self, enterprise_id: str) -> list[dict[str, Any]]:
        index = self._index(enterprise_id)
        return [self._summary(self._filing(enterprise_id, v)) for v in index.versions]

    def get_version(self, enterprise_id: str, version: int) -> dict[str, Any]:
        filing = self._filing(enterprise_id, version)
        return self._compiled(filing, created=False) | {"document": filing.document}

    def diff(self, enterprise_id: str, old: int, new: int) -> dict[str, Any]:
        a, b = (
            self._filing(enterprise_id, old, "from_version"),
            self._filing(enterprise_id, new, "to_version"),
        )
        return {"from": old, "to": new, **register.diff(a.document, b.document)}

    # -- the pull feed for departments --------------------------------------------------------
    def feed(self, department: str, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Filings addressed to a department, after a cursor (a notification id), oldest first."""
        topic = f"{Filing.__module__}:Filing.Submitted"
        found: list[dict[str, Any]] = []
        start = after + 1
        while len(found) < limit:
            page = self.recorder.select_notifications(start=start, limit=500, topics=[topic])
            if not page:
                break
            for notification in page:
                submitted = vars(self.mapper.to_domain_event(notification))
                if department in submitted["departments"]:
                    found.append(
                        {
                            "cursor": notification.id,
                            "enterprise_id": submitted["enterprise_id"],
                            "version": submitted["version"],
                            "canonical": canonical.register_bytes(submitted["document"]).decode("utf-8"),
                            "enterprise": submitted["document"]["enterprise"],
                            "document_hash": submitted["document_hash"],
                            "signatures": submitted["signatures"],
                            "public_keys": submitted["public_keys"],
                            "submitted_at": submitted["submitted_at"],
                            "correlation_id": submitted.get("correlation_id", ""),
                        }
                    )
                    if len(found) == limit:
                        break
            start = page[-1].id + 1
        return found
