"""The seam into eventsourcing's and nameko's internals (services/backbone/library.py) holds: the
versions it was written for, the private members it calls, and what it relies on them doing. An
upgrade that changes any of them fails here, by name, instead of somewhere in a running hub."""

from __future__ import annotations

import inspect
from importlib.metadata import version
from uuid import uuid4

import pytest
from eventsourcing.application import Application, project_aggregate
from eventsourcing.domain import event
from eventsourcing.persistence import JSONTranscoder
from eventsourcing.postgres import PostgresProcessRecorder
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone import amqp as hub_amqp
from services.backbone import library
from services.backbone.aggregate import HubAggregate
from services.backbone.store import HubApplication, HubRepository


class Counter(HubAggregate):
    def __init__(self) -> None:
        self.n = 0

    def bump(self) -> None:
        self._bumped()

    @event("Bumped")
    def _bumped(self) -> None:
        self.n += 1


class Store(HubApplication):
    service = "seam-test"


def test_the_libraries_are_the_versions_the_seam_was_written_for() -> None:
    assert version("eventsourcing") == library.EVENTSOURCING, "re-check services/backbone/library.py"
    assert version("nameko") == library.NAMEKO, "re-check services/backbone/library.py"
    assert version("amqp") == hub_amqp.PY_AMQP, "re-check read_ahead and corked in services/backbone/amqp.py"


def test_the_py_amqp_read_the_read_ahead_replaces_is_as_it_was() -> None:
    """read_ahead is py-amqp's TCPTransport._read but for the size it asks of the socket."""
    import amqp.transport

    ours = amqp.transport.TCPTransport._read
    original = inspect.getsource(ours.original)
    assert "s = recv(n - len(rbuf))" in original and "rbuf[:n], rbuf[n:]" in original
    assert "self._read_buffer = rbuf" in original


@pytest.mark.parametrize(
    ("owner", "member", "parameters"),
    [
        (Application, "_record", ["self", "processing_event"]),
        (Application, "_take_snapshots", ["self", "processing_event"]),
        (Application, "_notify", ["self", "recordings"]),
        (PostgresProcessRecorder, "_insert_events", ["self", "curs", "stored_events", "kwargs"]),
        (PostgresProcessRecorder, "_lock_table", ["self", "curs"]),
        (PostgresProcessRecorder, "_notify_channel", ["self", "curs"]),
        (JSONTranscoder, "_encode_obj", ["self", "o"]),
        (JSONTranscoder, "_decode_obj", ["self", "d"]),
    ],
)
def test_each_private_member_the_seam_calls_is_there_as_it_was(
    owner: type, member: str, parameters: list[str]
) -> None:
    found = getattr(owner, member, None)
    assert callable(found), f"{owner.__name__}.{member} is gone"
    assert list(inspect.signature(found).parameters) == parameters


def test_the_nameko_settlement_the_seam_patches_is_where_it_was() -> None:
    import nameko.rpc
    from nameko.messaging import QueueConsumer

    from services.backbone import nameko_replies

    assert nameko.rpc.Responder.publisher_cls is nameko_replies.PatientPublisher  # installed
    assert QueueConsumer.ack_message.__name__ == "ack_message"
    assert QueueConsumer.requeue_message.__name__ == "requeue_message"
    assert "publisher_cls" in inspect.getsource(nameko.rpc.Responder)
    assert nameko.rpc.MethodProxy.publisher_cls is nameko_replies.RequestPublisher  # installed
    assert "self.publisher_cls(" in inspect.getsource(nameko.rpc.MethodProxy.__init__)


def test_nameko_publishes_through_the_producer_lookup_the_seam_replaces() -> None:
    import nameko.amqp.publish as publish

    from services.backbone import nameko_replies  # noqa: F401 - installs the patches

    assert "patch_nameko_producers" in publish.get_producer.__qualname__  # installed
    assert "with get_producer(" in inspect.getsource(publish.Publisher.publish)
    assert list(inspect.signature(publish.get_producer).parameters) == [
        "amqp_uri",
        "confirms",
        "ssl",
        "login_method",
        "transport_options",
    ]


def test_nameko_s_consumer_still_waits_by_kombu_s_safety_interval() -> None:
    """The consumer tick (library.patch_nameko_consumer_tick) replaces nameko's QueueConsumer.run,
    which nameko takes from kombu's ConsumerMixin: run hands its keywords to consume, which waits
    `safety_interval` at a time and looks at its stop in between."""
    from kombu import VERSION as kombu_version
    from kombu.mixins import ConsumerMixin
    from nameko.messaging import QueueConsumer

    from services.backbone import nameko_replies  # noqa: F401 - installs the patches

    assert "patch_nameko_consumer_tick" in QueueConsumer.run.__qualname__  # installed
    assert [c for c in QueueConsumer.__mro__[1:] if "run" in vars(c)][0] is ConsumerMixin  # what it replaces
    assert list(inspect.signature(ConsumerMixin.run).parameters) == ["self", "_tokens", "kwargs"]
    assert "self.consume(limit=None, **kwargs)" in inspect.getsource(ConsumerMixin.run)
    consume = inspect.getsource(ConsumerMixin.consume)
    assert "drain_events(timeout=safety_interval)" in consume and "on_iteration()" in consume
    assert kombu_version.major == 5, "re-check patch_nameko_consumer_tick"


def test_a_standalone_proxy_still_carries_its_call_context() -> None:
    source = inspect.getsource(ClusterRpcProxy.__mro__[1])
    assert "_worker_ctx" in source, "nameko's standalone proxy no longer keeps _worker_ctx"


def test_save_through_the_seam_records_notifies_and_replays_as_the_library_would() -> None:
    app = Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    assert type(app.repository) is HubRepository  # become() took
    counter = Counter()
    for _ in range(3):
        counter.bump()
    recordings = app.save(counter)
    assert [r.notification.originator_version for r in recordings] == [1, 2, 3, 4]
    assert [n.originator_id for n in app.notification_log.select(start=1, limit=10)] == [counter.id] * 4
    stored = list(app.events.get(counter.id))
    ours, theirs = library.project(None, stored), project_aggregate(None, stored)
    assert vars(ours) == vars(theirs) and app.repository.get(counter.id).n == 3


def test_become_refuses_a_class_that_is_not_a_subclass() -> None:
    with pytest.raises(TypeError):
        library.become(JSONTranscoder(), HubRepository)  # type: ignore[arg-type]


def test_the_transcodings_round_trip_through_the_seam() -> None:
    transcoder = JSONTranscoder()
    Store(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}).register_transcodings(transcoder)
    value = uuid4()
    assert library.untranscode(transcoder, library.transcode(transcoder, value)) == value
