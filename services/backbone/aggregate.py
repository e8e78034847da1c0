"""The base aggregate of the hub: every event records the correlation id that caused it."""

from __future__ import annotations

from functools import cache

from eventsourcing.domain import Aggregate
from eventsourcing.utils import resolve_topic

from services.backbone import correlation


class HubAggregate(Aggregate):
    """An eventsourcing aggregate whose events carry the correlation id in force."""

    class Event(Aggregate.Event):
        # Contract version of this event's payload; bump it with a new schema in contracts/.
        schema_version = 1

        def __post_init__(self) -> None:
            super().__post_init__()
            # Stored with the event (the mapper serialises vars()), restored on decode.
            if "correlation_id" not in self.__dict__:
                object.__setattr__(self, "correlation_id", correlation.current())

    class Created(Event, Aggregate.Created):
        pass


class InternalAggregate(HubAggregate):
    """Base of a service's own records and views (indexes, other services' data as it needs it): kept
    in its store, never published by the relay."""

    class Event(HubAggregate.Event):
        published = False


@cache
def is_published(topic: str) -> bool:
    """Whether events of this topic leave the service (an aggregate's Event may say published=False).
    A topic no class answers to any more counts as published: the relay decides what to do with it."""
    try:
        return bool(getattr(resolve_topic(topic), "published", True))
    except (ImportError, AttributeError, ValueError):
        return True
