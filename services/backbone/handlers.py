"""Event handlers of a consuming service, and the unit of work they write into."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, ProcessingEvent

from services.backbone import contracts, view_cache
from services.backbone.envelope import Envelope
from services.backbone.store import HubApplication

A = TypeVar("A")


class Flushable(Protocol):
    def flush(self, uow: UnitOfWork) -> None: ...


F = TypeVar("F", bound=Flushable)


class UnitOfWork:
    """Aggregates loaded or created while a page of messages is applied, saved together."""

    def __init__(self, app: HubApplication) -> None:
        self.app = app
        self._aggregates: dict[UUID, Any] = {}
        # Ids found missing in this page: asked again (e.g. once per message), they cost no query.
        self._missing: set[UUID] = set()
        self._gathered: dict[str, Any] = {}

    def get(self, aggregate_id: UUID, default: A | None = None) -> Any:
        """The aggregate as this unit of work has it (loads it the first time), or `default`."""
        if aggregate_id not in self._aggregates:
            if aggregate_id in self._missing:
                return default
            try:
                self._aggregates[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                self._missing.add(aggregate_id)
                return default
        return self._aggregates[aggregate_id]

    def prefetch(self, aggregate_ids: Iterable[UUID]) -> None:
        """Loads these aggregates together (`HubApplication.get_many`: one query for a page of
        enterprises' views on PostgreSQL, where `get` costs two each); later `get`s find them here.
        Views a ViewCache keeps from an earlier page are checked in the same query and served by
        their cache (a register of thousands of risk points is not read whole again)."""
        wanted = [
            i for i in dict.fromkeys(aggregate_ids) if i not in self._aggregates and i not in self._missing
        ]
        if not wanted:
            return
        kept = view_cache.kept_views(self.app, wanted)
        found = self.app.get_many(wanted, kept={i: view for i, (_, view) in kept.items()})
        for aggregate_id in wanted:
            if aggregate_id in kept:
                kept[aggregate_id][0].serve(self, aggregate_id, found.get(aggregate_id))
            elif aggregate_id in found:
                self._aggregates[aggregate_id] = found[aggregate_id]
            else:
                self._missing.add(aggregate_id)

    def add(self, aggregate: Any) -> Any:
        self._aggregates[aggregate.id] = aggregate
        self._missing.discard(aggregate.id)
        return aggregate

    def gathering(self, key: str, make: Callable[[], F]) -> F:
        """What the page's handlers gather under `key` (e.g. one digest of many messages), made on first
        use and flushed into aggregates when the page is collected: its effects are saved with the page."""
        if key not in self._gathered:
            self._gathered[key] = make()
        return self._gathered[key]  # type: ignore[no-any-return]

    def collect(self, processing_event: ProcessingEvent[UUID]) -> None:
        gathered, self._gathered = self._gathered, {}
        for item in gathered.values():
            item.flush(self)
        processing_event.collect_events(*self._aggregates.values())


Handler = Callable[[UnitOfWork, Envelope], None]
Reads = Callable[[Envelope], Iterable[UUID]]  # the aggregates a handler will read for an envelope


@dataclass(frozen=True)
class Registration:
    upstream: str
    type: str
    version: int  # the payload version the handler is written for; older ones are upcast
    handle: Handler


class Handlers:
    """The handlers of one consuming service, by upstream and event type."""

    def __init__(self, consumer: str) -> None:
        self.consumer = consumer
        self._by_key: dict[tuple[str, str], Registration] = {}
        self._also: dict[tuple[str, str], list[Handler]] = {}
        self._reads: dict[tuple[str, str], list[Reads]] = {}

    def on(self, upstream: str, type_: str, version: int = 1) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self._by_key[(upstream, type_)] = Registration(upstream, type_, version, fn)
            return fn

        return register

    def also(self, upstream: str, type_: str) -> Callable[[Handler], Handler]:
        """A further handler of an event type, run after the main one in the same unit of work."""

        def register(fn: Handler) -> Handler:
            self._also.setdefault((upstream, type_), []).append(fn)
            return fn

        return register

    def reads(self, upstream: str, *types: str) -> Callable[[Reads], Reads]:
        """Declares what the handlers of these event types read for an envelope (e.g. the enterprise's
        register), so that a page's reads are made together before its envelopes are applied."""

        def register(fn: Reads) -> Reads:
            for type_ in types:
                self._reads.setdefault((upstream, type_), []).append(fn)
            return fn

        return register

    def prefetch(self, uow: UnitOfWork, envelopes: Iterable[Envelope]) -> None:
        """Reads together what the page's handlers declared they will read."""
        uow.prefetch(
            aggregate_id
            for envelope in envelopes
            for reads in self._reads.get((envelope.upstream, envelope.type), ())
            for aggregate_id in reads(envelope)
        )

    @property
    def upstreams(self) -> set[str]:
        return {upstream for upstream, _ in self._by_key}

    def handles(self, envelope: Envelope) -> bool:
        """Whether this consumer has a handler for the envelope's type (else applying it changes nothing)."""
        return (envelope.upstream, envelope.type) in self._by_key

    def apply(self, uow: UnitOfWork, envelope: Envelope) -> bool:
        """Applies one envelope; False when this consumer has no handler for its type."""
        registration = self._by_key.get((envelope.upstream, envelope.type))
        if registration is None:
            return False
        if envelope.schema_version > registration.version:
            raise contracts.ContractError(
                envelope.upstream,
                envelope.type,
                envelope.schema_version,
                "schema_version",
                f"newer than the handler understands (v{registration.version})",
            )
        if envelope.schema_version < registration.version:
            envelope = envelope.replace(
                payload=contracts.upcast(
                    envelope.upstream,
                    envelope.type,
                    envelope.schema_version,
                    envelope.payload,
                    registration.version,
                ),
                schema_version=registration.version,
            )
        registration.handle(uow, envelope)
        for further in self._also.get((envelope.upstream, envelope.type), []):
            further(uow, envelope)
        return True
