"""The monthly report (每月通报) of a town: published once, revised when its figures change."""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

REPORTS = uuid.UUID("c2b7e4d9-18a3-4f5e-b6c1-7d9e0a2f4b83")


def report_id(town: str, month: str) -> uuid.UUID:
    return uuid.uuid5(REPORTS, f"{town}/{month}")


class MonthlyReport(HubAggregate):
    """What was published: the headline figures, the lagging lists, and the files' digests."""

    @staticmethod
    def create_id(town: str, month: str, **_: Any) -> uuid.UUID:
        return report_id(town, month)

    @event("Published")
    def __init__(
        self,
        town: str,
        month: str,
        deadline: str,
        totals: dict[str, int],
        change: dict[str, int],
        lagging: dict[str, list[str]],
        files: dict[str, dict[str, str]],
        digest: str,
        published_at: str,
    ) -> None:
        self.town, self.month, self.revision = town, month, 1
        self._apply(deadline, totals, change, lagging, files, digest, published_at)

    def _apply(
        self,
        deadline: str,
        totals: dict[str, int],
        change: dict[str, int],
        lagging: dict[str, list[str]],
        files: dict[str, dict[str, str]],
        digest: str,
        published_at: str,
    ) -> None:
        self.deadline, self.totals, self.change, self.lagging = deadline, totals, change, lagging
        self.files, self.digest, self.published_at = files, digest, published_at

    def revise(self, **fields: Any) -> bool:
        """A new revision when the figures changed (events that arrived late); False when they did not."""
        if fields["digest"] == self.digest:
            return False
        self._revised(town=self.town, month=self.month, revision=self.revision + 1, **fields)
        return True

    @event("Revised")
    def _revised(
        self,
        town: str,
        month: str,
        revision: int,
        deadline: str,
        totals: dict[str, int],
        change: dict[str, int],
        lagging: dict[str, list[str]],
        files: dict[str, dict[str, str]],
        digest: str,
        published_at: str,
    ) -> None:
        self.revision = revision
        self._apply(deadline, totals, change, lagging, files, digest, published_at)

    def summary(self) -> dict[str, Any]:
        return {
            "report_id": str(self.id),
            "town": self.town,
            "month": self.month,
            "revision": self.revision,
            "deadline": self.deadline,
            "totals": dict(self.totals),
            "change": dict(self.change),
            "lagging": {k: list(v) for k, v in self.lagging.items()},
            "files": {k: dict(v) for k, v in self.files.items()},
            "published_at": self.published_at,
        }
