"""Each department's answer to each filed version (the ledger), versions and their diffs, and the
pull feed of filings for departments."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from services.backbone import correlation
from services.backbone.conflicts import retried
from services.backbone.errors import DomainError, NotFoundError, TransitionError, ValidationError
from services.filing import register
from services.filing.base import FilingBase
from services.filing.domain import (
    Delivery,
    Filing,
    FilingDelivery,
    delivery_entry_id,
)
from services.kernel import canonical


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
        entry = self._move(enterprise_id, version, department, outcome, reason, receipt, {})
        self.save(entry)  # nothing to save when it was a redelivery
        self._remember({entry.id: entry})
        return {"department": department, "ledger": {department: str(entry.state)}, "reason": entry.reason}

    @retried
    def record_deliveries(self, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Moves many ledger entries in one transaction (the department adapter's answers, batched).

        An answer per move, in order: the entry's new state, or the error that refused it (the
        other moves are saved all the same).

        A department's first answer meets no entry yet. This process remembers the entries it has
        seen, and makes the others without looking them up; if another process made one meanwhile,
        the save conflicts and the batch runs again, looking every entry up."""
        try:
            return self._record_deliveries(moves, remembered=True)
        except RecordConflictError:
            return self._record_deliveries(moves, remembered=False)

    def _record_deliveries(self, moves: list[dict[str, Any]], remembered: bool) -> list[dict[str, Any]]:
        entries: dict[UUID, FilingDelivery] = {}
        answers: list[dict[str, Any]] = []
        for move in moves:
            department = str(move.get("department", ""))
            try:
                with correlation.bound(move.get("correlation_id") or None):  # each move's own cause
                    entry = self._move(
                        str(move.get("enterprise_id", "")),
                        int(move.get("version", 0)),
                        department,
                        str(move.get("outcome", "")),
                        str(move.get("reason") or ""),
                        move.get("receipt"),
                        entries,
                        remembered,
                    )
            except DomainError as error:
                answers.append(
                    {"department": department, "error": {"field": error.field, "rule": error.rule}}
                )
                continue
            entries[entry.id] = entry
            answers.append({"department": department, "ledger": {department: str(entry.state)}})
        self.save(*entries.values())
        self._remember(entries)
        return answers

    def _remember(self, entries: dict[UUID, FilingDelivery]) -> None:
        if len(self._entries_seen) + len(entries) > 200_000:
            self._entries_seen.clear()  # forgetting is safe: it only costs look-ups
        self._entries_seen.update(entries)

    def _move(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str,
        receipt: dict[str, Any] | None,
        loaded: dict[UUID, FilingDelivery],
        remembered: bool = False,
    ) -> FilingDelivery:
        if department not in self._recipients(enterprise_id, int(version)):
            raise TransitionError("department", f"{department} is not a recipient of this filing", "absent")
        key = delivery_entry_id(enterprise_id, version, department)
        entry: FilingDelivery | None = loaded.get(key)
        if entry is None and not (remembered and key not in self._entries_seen):
            entry = self.find(key)
        entry = entry or FilingDelivery(
            enterprise_id=enterprise_id, version=int(version), department=department
        )
        try:
            move = Delivery(outcome)
        except ValueError:
            raise ValidationError("outcome", f"one of {', '.join(d.value for d in Delivery)}") from None
        entry.record(move, reason, receipt)
        return entry

    def _recipients(self, enterprise_id: str, version: int) -> frozenset[str]:
        """The departments a submitted version went to: fixed at submission, so kept once read
        (a filing's whole document is loaded otherwise, once per department's answer)."""
        key = (enterprise_id, version)
        found = self._recipients_cache.get(key)
        if found is None:
            found = frozenset(self._filing(enterprise_id, version).departments)
            if found:  # not submitted yet: ask again next time
                if len(self._recipients_cache) >= 10_000:
                    self._recipients_cache.clear()
                self._recipients_cache[key] = found
        return found

    def _summary(self, filing: Filing, answered: bool = True) -> dict[str, Any]:
        """A version with its whole ledger (pending for a department that has no entry yet)."""
        ledger, reasons = {}, {}
        for department in sorted(filing.departments):
            entry = (
                self.find(delivery_entry_id(filing.enterprise_id, filing.register_version, department))
                if answered
                else None
            )
            ledger[department] = str(entry.state) if entry else "pending"
            if entry and entry.reason:
                reasons[department] = entry.reason
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
        if department and department not in self._recipients(enterprise_id, int(version)):
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
