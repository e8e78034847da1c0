"""Finding and replaying parked messages in a consuming service's store."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent

from services.backbone import correlation
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.parking import PARKED_TOPICS, ParkedMessage
from services.backbone.store import HubApplication, Processing


def parked_messages(app: HubApplication, include_replayed: bool = False) -> list[ParkedMessage]:
    """Every message parked in this store, oldest first."""
    found: list[ParkedMessage] = []
    start = 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=1000, topics=PARKED_TOPICS)
        if not page:
            break
        for notification in page:
            parked: ParkedMessage = app.repository.get(UUID(str(notification.originator_id)))
            if include_replayed or parked.status == "parked":
                found.append(parked)
        start = page[-1].id + 1
    return found


def replay(
    app: HubApplication, handlers: Handlers, parked_id: UUID, work: type[UnitOfWork] = UnitOfWork
) -> dict[str, Any]:
    """Applies a parked message now; marks it replayed in the same transaction (at most once). `work`
    is the consumer's unit of work (a read model's writes rows instead of aggregates)."""
    parked: ParkedMessage = app.repository.get(parked_id)
    if parked.status != "parked":
        return {"id": str(parked_id), "result": "already replayed"}
    if "raw" in parked.envelope:
        return {"id": str(parked_id), "result": "unreadable: nothing to apply"}
    envelope = Envelope(**parked.envelope)
    uow = work(app)
    try:
        with correlation.bound(envelope.correlation_id):
            handlers.apply(uow, envelope)
    except Exception as error:  # noqa: BLE001 - reported and recorded, stays parked
        parked.replay_failed(f"{type(error).__name__}: {error}")
        app.save(parked)
        return {"id": str(parked_id), "result": f"failed again: {error}"}
    parked.replayed()
    processing: ProcessingEvent[UUID] = Processing()
    uow.collect(processing)
    processing.collect_events(parked)
    app.record(processing)
    return {"id": str(parked_id), "result": "replayed"}
