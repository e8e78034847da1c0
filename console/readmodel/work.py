"""The console's tracked consumer: a page of envelopes becomes SQL statements, written with its tracking."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone import correlation
from services.backbone.consumer import Delivery, TrackedConsumer
from services.backbone.handlers import UnitOfWork
from services.backbone.store import Processing

# an enterprise's active risk points per level, counted again from its rows (an index range): when it
# is registered (risk points of it may have come first)
COUNT = "(SELECT count(*) FROM @risk_points WHERE enterprise_id = %(id)s AND retired = 0 AND level = {n})"
RECOUNT = (
    "UPDATE @enterprises SET "
    + ", ".join(f"level{n} = {COUNT.format(n=n)}" for n in (1, 2, 3, 4))
    + " WHERE id = %(id)s"
)
# the counts moved by the risk points a page changes: those points as they stood are taken off before the
# page's statements and put back as they stand after them. Counting the enterprise's rows again cost
# every page as much as the enterprise had points (11 ms for 50,000: an import of one large enterprise
# spent a quarter of PostgreSQL's time on it); this costs what the page changed. Each point is looked
# up by its id in a subquery of its own: as a list of ids in one condition, PostgreSQL (whose
# statistics lag behind a table an import is filling) read the whole table to test every row against it.
_SUMS = ", ".join(f"COALESCE(SUM(CASE WHEN level = {n} THEN 1 ELSE 0 END), 0) AS l{n}" for n in (1, 2, 3, 4))


def _delta(sign: str) -> str:
    return (  # MATERIALIZED: each point looked up once, not once for each level it is compared with
        "WITH x AS MATERIALIZED (SELECT (SELECT r.level FROM @risk_points r WHERE r.id = v.id "
        "AND r.retired = 0) AS level FROM @ids(ids) AS v) "
        "UPDATE @enterprises SET "
        + ", ".join(f"level{n} = level{n} {sign} d.l{n}" for n in (1, 2, 3, 4))
        + f" FROM (SELECT {_SUMS} FROM x) AS d WHERE id = %(id)s"
    )


TAKE_OFF, PUT_BACK = _delta("-"), _delta("+")


class ViewWork(UnitOfWork):
    """A unit of work whose handlers write the read model: statements, run in the page's transaction."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.statements: list[tuple[str, dict[str, Any]]] = []
        self._recount: dict[str, None] = {}  # enterprises whose counts are made again from their rows
        self._moved: dict[str, dict[str, None]] = {}  # enterprise → its risk points this page changes

    def run(self, sql: str, **params: Any) -> None:
        """Queues one statement (`%(name)s` parameters, `@table` names) for the page's transaction."""
        self.statements.append((sql, params))

    def recount(self, enterprise_id: str) -> None:
        """The enterprise's count of active risk points per level is counted again from its rows at the
        page's end (an enterprise registered after its risk points arrived)."""
        self._recount[enterprise_id] = None

    def moved(self, enterprise_id: str, risk_point_id: str) -> None:
        """A risk point of the enterprise is added, re-graded or retired in this page: the enterprise's
        counts per level follow (once per point, however often the page changes it)."""
        self._moved.setdefault(enterprise_id, {})[risk_point_id] = None

    def collect(self, processing_event: ProcessingEvent[Any]) -> None:
        super().collect(processing_event)
        before: list[tuple[str, dict[str, Any]]] = []
        for enterprise_id, points in self._moved.items():
            if enterprise_id in self._recount:
                continue  # counted whole at the end
            ids = self.app.dialect.id_list(points)
            before.append((TAKE_OFF, {"id": enterprise_id, "ids": ids}))
            self.run(PUT_BACK, id=enterprise_id, ids=ids)
        self.statements[:0] = before
        for enterprise_id in self._recount:
            self.run(RECOUNT, id=enterprise_id)
        processing_event.saved_kwargs["view"] = self.statements


class ViewConsumer(TrackedConsumer):
    """A TrackedConsumer whose unit of work is a ViewWork: ordering, holding, retries and parking as
    every consumer of the hub has them; the effects are rows of the read model."""

    def _record(self, page: list[Delivery]) -> None:
        uow = ViewWork(self.app)
        for delivery in page:
            with correlation.bound(delivery.envelope.correlation_id):
                self.handlers.apply(uow, delivery.envelope)
        processing: ProcessingEvent[Any] = Processing(
            Tracking(self.upstream, page[-1].envelope.notification_id)
        )
        uow.collect(processing)
        self.app.record(processing)
