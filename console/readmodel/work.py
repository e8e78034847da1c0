"""The console's tracked consumer: a page of envelopes becomes SQL statements, written with its tracking."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import ProcessingEvent
from eventsourcing.persistence import Tracking

from services.backbone import correlation
from services.backbone.consumer import Delivery, TrackedConsumer
from services.backbone.handlers import UnitOfWork
from services.backbone.store import Processing

# an enterprise's active risk points per level, counted again from its rows (an index range)
COUNT = "(SELECT count(*) FROM @risk_points WHERE enterprise_id = %(id)s AND retired = 0 AND level = {n})"
RECOUNT = (
    "UPDATE @enterprises SET "
    + ", ".join(f"level{n} = {COUNT.format(n=n)}" for n in (1, 2, 3, 4))
    + " WHERE id = %(id)s"
)


class ViewWork(UnitOfWork):
    """A unit of work whose handlers write the read model: statements, run in the page's transaction."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.statements: list[tuple[str, dict[str, Any]]] = []
        self._recount: dict[str, None] = {}  # enterprises whose risk points changed in this page

    def run(self, sql: str, **params: Any) -> None:
        """Queues one statement (`%(name)s` parameters, `@table` names) for the page's transaction."""
        self.statements.append((sql, params))

    def recount(self, enterprise_id: str) -> None:
        """The enterprise's count of active risk points per level is counted again at the page's end
        (once per enterprise: an import's page is hundreds of points of one enterprise)."""
        self._recount[enterprise_id] = None

    def collect(self, processing_event: ProcessingEvent[Any]) -> None:
        super().collect(processing_event)
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
