"""Items a periodic scan set aside: one item that fails (a danger whose deadline cannot be read, a
town whose report cannot be made, a register that cannot be re-compiled) never stops the others. The
scan records the item with its reason here, counts it in a metric, goes on, and leaves it until the item
changes or an operator clears it; `hubctl parked list` and `hubctl status` show them."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from eventsourcing.domain import event

from services.backbone import metrics
from services.backbone.aggregate import InternalAggregate

log = structlog.get_logger(__name__)
_SET_ASIDE_IDS = uuid.UUID("6f1d2c3b-8a4e-4b7f-9c0d-2e5a7b9c1d34")


def set_aside_id(scan: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_SET_ASIDE_IDS, f"{scan}/{key}")


class SetAsideItem(InternalAggregate):
    """One item of a scan, set aside with the reason it failed."""

    @staticmethod
    def create_id(scan: str, key: str, **_: Any) -> uuid.UUID:
        return set_aside_id(scan, key)

    @event("SetAside")
    def __init__(self, scan: str, key: str, error: str) -> None:
        self.scan, self.key, self.error = scan, key, error
        self.status = "set_aside"
        self.times = 1

    @event("SetAsideAgain")
    def again(self, error: str) -> None:
        self.error, self.status = error, "set_aside"
        self.times += 1

    @event("Cleared")
    def clear(self, reason: str) -> None:
        self.status = "cleared"


SET_ASIDE_TOPIC = f"{__name__}:SetAsideItem.SetAside"


def set_aside(app: Any, scan: str, key: str, error: BaseException) -> SetAsideItem:
    """Records that `scan` set `key` aside because of `error` (saved at once, on its own); logs one line
    with the error's type and message, and counts it."""
    reason = f"{type(error).__name__}: {error}"[:500]
    found = app.find(set_aside_id(scan, key))
    if isinstance(found, SetAsideItem):
        found.again(reason)
        item = found
    else:
        item = SetAsideItem(scan=scan, key=key, error=reason)
    app.save(item)
    metrics.SET_ASIDE.labels(scan).inc()
    log.error("item_set_aside", scan=scan, key=key, error=reason)
    return item


def set_aside_items(app: Any, include_cleared: bool = False) -> list[SetAsideItem]:
    """Every item set aside in this store (oldest first)."""
    ids: list[uuid.UUID] = []
    start = 1
    while page := app.recorder.select_notifications(start=start, limit=1000, topics=[SET_ASIDE_TOPIC]):
        ids.extend(n.originator_id for n in page)
        start = page[-1].id + 1
    items = [app.find(i) for i in dict.fromkeys(ids)]
    return [i for i in items if isinstance(i, SetAsideItem) and (include_cleared or i.status == "set_aside")]
