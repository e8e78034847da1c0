"""The hub's one seam into eventsourcing's (and nameko's) internals: everything it does beyond their
public API, named and kept here, pinned by tests/unit/test_library_seam.py so that an upgrade of either
fails loudly in one place instead of quietly somewhere.

Each reach has a measured reason (figures in its comment; `python -m bench.library_seam` measures
them again beside the library's own way, so a reach whose gain is gone can be dropped).
"""

from __future__ import annotations

from typing import Any, TypeVar

from eventsourcing.application import Application, ProcessingEvent, Repository
from eventsourcing.domain import BaseAggregate, DomainEvent
from eventsourcing.persistence import JSONTranscoder, Recording
from eventsourcing.postgres import PostgresProcessRecorder

# The versions the reaches below were written against and tested with (pyproject.toml pins them).
EVENTSOURCING = "9.5.6"
NAMEKO = "2.14.1"

T = TypeVar("T")


# -- aggregates read and collected without eventsourcing's runtime Protocol checks ---------------------
class Processing(ProcessingEvent[Any]):
    """eventsourcing's ProcessingEvent, collecting from the hub's own aggregates without its
    isinstance() checks against runtime Protocols (~15 µs each, twice per aggregate saved)."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if obj is None:
                continue
            if isinstance(obj, BaseAggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, DomainEvent):
                self.events.append(obj)
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


def project(aggregate: Any, events: Any) -> Any:
    """eventsourcing's project_aggregate without its per-event assert against a runtime Protocol
    (~20 µs each on Python 3.11: 12% of the registry's CPU, replaying its index aggregates)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class HubRepository(Repository[Any]):
    """A repository whose aggregates are replayed with `project`."""

    def get(self, aggregate_id: Any, *, projector_func: Any = project, **kwargs: Any) -> Any:
        return super().get(aggregate_id, projector_func=projector_func, **kwargs)


def become(obj: T, cls: type[T]) -> T:
    """`obj` made an instance of `cls`, a subclass of its own class that adds behaviour and no state,
    in place: the library built it (repository, recorder, transcoder) and keeps no other way to say
    which class to build."""
    if not issubclass(cls, type(obj)):
        raise TypeError(f"{cls.__name__} is not a subclass of {type(obj).__name__}")
    obj.__class__ = cls
    return obj


# -- an application's save, in its steps ------------------------------------------------------------
def record(app: Application, processing: ProcessingEvent[Any], notify: bool) -> list[Recording[Any]]:
    """What Application.save does after collecting: record the events (and a consumer's tracking
    record, atomically), take the snapshots that are due, and (`notify`) tell the application's
    followers. The hub collects with `Processing` and snapshots its own way (HubApplication)."""
    recordings: list[Recording[Any]] = app._record(processing)  # noqa: SLF001
    app._take_snapshots(processing)  # noqa: SLF001
    if notify:
        app._notify(recordings)  # noqa: SLF001
    return recordings


# -- the PostgreSQL recorder's steps, for the COPY recorder (copy_events.py) ---------------------------
def before_events(recorder: PostgresProcessRecorder, curs: Any, stored_events: Any, **kwargs: Any) -> None:
    """The recorder's hook before its events go in: a consumer's tracking record, in the transaction."""
    recorder._insert_events(curs, stored_events, **kwargs)  # noqa: SLF001


def lock_events_table(recorder: PostgresProcessRecorder, curs: Any) -> None:
    """The EXCLUSIVE lock under which notification ids are taken and committed in order."""
    recorder._lock_table(curs)  # noqa: SLF001


def notify_followers(recorder: PostgresProcessRecorder, curs: Any) -> None:
    """The NOTIFY that wakes the relay when the transaction commits."""
    recorder._notify_channel(curs)  # noqa: SLF001


# -- the JSON transcoder's transcodings, for the orjson transcoder (transcoder.py) ---------------------
def transcode(transcoder: JSONTranscoder, value: Any) -> dict[str, Any]:
    """A value json cannot write, as the transcoder writes it: {"_type_": …, "_data_": …}."""
    return transcoder._encode_obj(value)  # type: ignore[no-any-return]  # noqa: SLF001


def untranscode(transcoder: JSONTranscoder, obj: dict[str, Any]) -> Any:
    """The value a {"_type_": …, "_data_": …} object stands for (or the object itself)."""
    return transcoder._decode_obj(obj)  # noqa: SLF001


# -- nameko's worker replies and acknowledgements (nameko_replies.py) --------------------------------
def patch_nameko_settlement(publisher_cls: type, ack: Any, requeue: Any) -> None:
    """Replies published by `publisher_cls`, messages acknowledged and requeued by `ack` and `requeue`:
    nameko takes neither from configuration. Entrypoints hold QueueConsumer instances made when nameko
    was imported, so the class itself is patched."""
    import nameko.rpc
    from nameko.messaging import QueueConsumer

    nameko.rpc.Responder.publisher_cls = publisher_cls
    QueueConsumer.ack_message = ack
    QueueConsumer.requeue_message = requeue


def patch_nameko_requests(publisher_cls: type) -> None:
    """RPC requests published by `publisher_cls` (the standalone proxies' and the services' RpcProxy
    alike): nameko takes its publisher options neither from configuration nor, for a ClusterRpcProxy's
    service proxies, from the caller."""
    import nameko.rpc

    nameko.rpc.MethodProxy.publisher_cls = publisher_cls


def patch_nameko_consumer_tick(seconds: float) -> None:
    """nameko's QueueConsumer waits for the broker `seconds` at a time (kombu's safety interval, 1 s),
    and looks between two waits for the consumers it was asked to cancel: a service stopping cancels
    its entrypoints' consumers, then its RPC proxies' reply consumer, one wait each."""
    from kombu.mixins import ConsumerMixin
    from nameko.messaging import QueueConsumer

    def run(self: Any, _tokens: int = 1, **kwargs: Any) -> None:
        ConsumerMixin.run(self, _tokens, **{"safety_interval": seconds, **kwargs})

    QueueConsumer.run = run


# -- nameko's publishers: the key to kombu's pool of producers ------------------------------------------
def patch_nameko_producers() -> None:
    """nameko builds a kombu Connection for every message it publishes (an RPC request, every reply),
    only to find kombu's pool of producers by it (pools are keyed by the connection's parameters).
    Building one parses the URI and, outside eventlet, tries to import librabbitmq again (a failed
    import searches sys.path each time): ~110 µs a message in the gateway. The same parameters now
    find the same key connection; the pooled producers, their connections and confirms are kombu's."""
    from contextlib import contextmanager

    import nameko.amqp.publish as publish
    from kombu import Connection
    from kombu.pools import producers

    keys: dict[str, Connection] = {}

    @contextmanager
    def get_producer(
        amqp_uri: str,
        confirms: bool = True,
        ssl: Any = None,
        login_method: Any = None,
        transport_options: dict[str, Any] | None = None,
    ) -> Any:
        options = {**(transport_options or publish.DEFAULT_TRANSPORT_OPTIONS), "confirm_publish": confirms}
        key = repr((amqp_uri, ssl, login_method, sorted(options.items())))
        conn = keys.get(key)
        if conn is None:
            made = Connection(amqp_uri, transport_options=options, ssl=ssl, login_method=login_method)
            conn = keys.setdefault(key, made)
        with producers[conn].acquire(block=True) as producer:
            yield producer

    publish.get_producer = get_producer


# -- nameko's standalone RPC proxy -------------------------------------------------------------------
def call_context(standalone: Any) -> dict[str, Any]:
    """The context data a standalone RPC proxy sends with its next call (the correlation id): nameko
    fixes it when the proxy starts, the gateway keeps one proxy per thread for many calls."""
    return standalone._worker_ctx.data  # type: ignore[no-any-return]  # noqa: SLF001
