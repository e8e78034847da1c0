"""The base aggregate of the hub: every event records the correlation id that caused it."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from functools import cache
from typing import Any, ClassVar
from uuid import UUID

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


class CheapCopies:
    """Mixed into an aggregate the repository keeps (AGGREGATE_CACHE_MAXSIZE) and hands out copies of
    (deepcopy_from_cache): copy.deepcopy walks every key and value in Python, so copying an
    enterprise's index of thousands of risk points, for every page of its import, cost more than the
    page's own work, and grew with the enterprise. Here:

    - `flat` names attributes that are dicts or lists of immutable values (ids, texts, flags): each
      is copied with its own copy(), in C, which is a deep copy of such a container;
    - `shared` names attributes never changed in place (a method replaces them): shared as they are;
    - the pending events (immutable events) are a list of the copy's own; immutable values (texts,
      numbers, ids, times) are shared; anything else is copied deeply, as deepcopy would.
    """

    flat: ClassVar[tuple[str, ...]] = ()
    shared: ClassVar[tuple[str, ...]] = ()

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        twin = object.__new__(type(self))
        memo[id(self)] = twin
        copied = twin.__dict__
        for name, value in self.__dict__.items():
            if type(value) in _IMMUTABLE or name in self.shared:
                copied[name] = value
            elif name in self.flat or name == "_pending_events":
                copied[name] = value.copy()
            else:
                copied[name] = deepcopy(value, memo)
        return twin


_IMMUTABLE = frozenset({str, int, float, bool, type(None), UUID, datetime})


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
