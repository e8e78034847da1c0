"""Where every department's filings stand, from the ledger: pending, delivered, parked, acknowledged,
rejected (`hubctl deliveries list`).

Counted from the notification log, not by loading each filing's ledger: every Filing.Submitted adds
a pending entry per department it went to, every DeliveryLedger.Recorded moves the entries it names
(a FilingDelivery.Recorded, of versions filed before ledgers, one entry). The tally
is kept in the process and brought up to date from where it stopped, so a second look reads only
what was stored since. An answered entry (acknowledged, rejected) never moves again and is kept as a
count alone; the open ones are kept with their enterprise and version, to be listed.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.utils import get_topic

from services.filing.base import FilingBase
from services.filing.domain import Delivery, DeliveryLedger, Filing, FilingDelivery
from services.kernel import ledger_moves

SUBMITTED = get_topic(Filing.Submitted)  # type: ignore[attr-defined]
RECORDED = get_topic(DeliveryLedger.Recorded)  # type: ignore[attr-defined]
ENTRY_RECORDED = get_topic(FilingDelivery.Recorded)  # type: ignore[attr-defined]
STATES = tuple(d.value for d in Delivery)
ANSWERED = frozenset({Delivery.ACKNOWLEDGED.value, Delivery.REJECTED.value})
PAGE = 1000

Entry = tuple[str, int, str]  # enterprise id, version, department


@dataclass
class Tally:
    """Counts per department and state, and the entries not answered yet, as of `position`."""

    position: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    open: dict[Entry, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, department: str) -> dict[str, int]:
        return self.counts.setdefault(department, dict.fromkeys(STATES, 0))

    def submitted(self, enterprise_id: str, version: int, departments: list[str]) -> None:
        for department in departments:
            entry = (enterprise_id, version, department)
            if entry not in self.open:
                self.open[entry] = Delivery.PENDING.value
                self._count(department)[Delivery.PENDING.value] += 1

    def recorded(self, enterprise_id: str, version: int, department: str, outcome: str) -> None:
        entry = (enterprise_id, version, department)
        counts = self._count(department)
        before = self.open.pop(entry, None)
        if before is not None:
            counts[before] -= 1
        counts[outcome] = counts.get(outcome, 0) + 1
        if outcome not in ANSWERED:
            self.open[entry] = outcome


class DeliveryTally(FilingBase):
    """Each department's deliveries by state, and its open ones."""

    def deliveries(self, department: str = "") -> dict[str, Any]:
        """{"departments": [counts per department], "open": [its unanswered entries]} (open entries
        only for `department`, oldest first)."""
        tally = self._delivery_tally()
        with tally.lock:
            self._catch_up(tally)
            rows = [
                {"department": code, **counts, "total": sum(counts.values())}
                for code, counts in sorted(tally.counts.items())
                if not department or code == department
            ]
            unanswered = (
                [
                    {"enterprise_id": e, "version": v, "department": d, "state": state}
                    for (e, v, d), state in tally.open.items()
                    if d == department
                ]
                if department
                else []
            )
        return {"departments": rows, "open": unanswered, "position": tally.position}

    def _delivery_tally(self) -> Tally:
        tally: Tally | None = getattr(self, "_tally", None)
        if tally is None:
            tally = self._tally = Tally()
        return tally

    def _catch_up(self, tally: Tally) -> None:
        head = self.recorder.max_notification_id() or 0
        while tally.position < head:
            page = self.recorder.select_notifications(
                start=tally.position,
                limit=PAGE,
                stop=head,
                topics=[SUBMITTED, RECORDED, ENTRY_RECORDED],
                inclusive_of_start=False,
            )
            for notification in page:
                event = vars(self.mapper.to_domain_event(notification))
                enterprise_id, version = str(event["enterprise_id"]), int(event["version"])
                if notification.topic == SUBMITTED:
                    tally.submitted(enterprise_id, version, list(event["departments"]))
                    continue
                for move in ledger_moves.moves(event):
                    tally.recorded(enterprise_id, version, str(move["department"]), str(move["outcome"]))
            tally.position = page[-1].id if len(page) == PAGE else head
