"""The hub's transcoder writes and reads the stored form of eventsourcing's own JSONTranscoder."""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    TranscodingNotRegisteredError,
    UUIDAsHex,
)

from services.backbone.store import HubApplication
from services.backbone.transcoder import OrjsonTranscoder
from tests.notifications_seed import Seeded, seed


class Colour(StrEnum):  # json writes it as its text; orjson would too, but is walked past
    RED = "红"


class Plain(Enum):  # no transcoding: refused by both
    ONE = 1


class Pair(NamedTuple):
    left: int
    right: str


class Ratio(float):
    pass


@dataclass(frozen=True)
class Point:  # a dataclass: orjson would write it itself, but hands it to the transcoding (by option)
    ref: UUID


class PointAsDict(Transcoding):
    """A transcoding of our own whose data holds a value orjson writes otherwise (a UUID)."""

    type = Point
    name = "point"

    def encode(self, obj: Point) -> dict[str, Any]:
        return {"ref": obj.ref}

    def decode(self, data: dict[str, Any]) -> Point:
        return Point(data["ref"])


def made(kind: type[JSONTranscoder]) -> JSONTranscoder:
    transcoder = kind()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), PointAsDict()):
        transcoder.register(transcoding)
    return transcoder


STDLIB, FAST = made(JSONTranscoder), made(OrjsonTranscoder)
NOW = datetime(2026, 11, 29, 8, 30, 1, 123456, tzinfo=UTC)

STATES: dict[str, Any] = {
    "plain texts, numbers and nesting": {
        "timestamp": NOW,
        "name": '反应釜 "_type_": 1\n\x01\u2028😀',
        "scores": {"L": 3, "E": 0.5, "C": -15, "big": 2**63 - 1, "small": 1e-7, "large": 1e16},
        "measures": [{"type": "在线监测", "on": True}, None, ["nested", 1.5]],
        "pair": {"a": 1, "b": 2},
        "tuple": (1, "two"),
    },
    "a UUID at the top": {"timestamp": NOW, "ref": uuid4()},
    "a UUID deep inside": {"timestamp": NOW, "items": [{"who": {"id": uuid4()}}]},
    "datetimes and decimals inside": {"timestamp": NOW, "log": [[NOW, Decimal("1.10")], {"at": NOW}]},
    "an enum": {"timestamp": NOW, "colour": Colour.RED},
    "NaN and infinity": {"timestamp": NOW, "values": [math.nan, math.inf, -math.inf]},
    "an integer beyond 64 bits": {"timestamp": NOW, "serial": 2**70, "negative": -(2**65)},
    "a key that is not text": {"timestamp": NOW, "by_level": {1: "红", 2: "橙"}},
    "a transcoding whose data holds a UUID": {"timestamp": NOW, "point": Point(uuid4())},
    "twenty digits in a text": {"timestamp": NOW, "code": "91370400MA3C1234567890123456"},
    "a text that is just _type_": {"timestamp": NOW, "field": "_type_", "pair": {"_type_": "x", "n": 1}},
    "subclasses of the containers": {
        "timestamp": NOW,
        "ordered": OrderedDict(ref=uuid4()),
        "pair": Pair(1, "二"),
        "counts": defaultdict(list, {"a": [uuid4()]}),
        "ratio": Ratio(0.5),
    },
}


@pytest.mark.parametrize("state", STATES.values(), ids=list(STATES))
def test_what_is_written_is_json_s_form_and_reads_back_either_way(state: dict[str, Any]) -> None:
    written = FAST.encode(state)
    assert written == STDLIB.encode(state), "the same bytes as eventsourcing's transcoder"
    # read as eventsourcing reads it (repr: NaN is not equal to itself; a tuple comes back a list and
    # a number key as text, with either)
    assert repr(FAST.decode(written)) == repr(STDLIB.decode(written))
    assert FAST.decode(written)["timestamp"] == NOW


def test_a_long_integer_is_read_as_the_integer_not_orjson_s_float() -> None:
    stored = STDLIB.encode({"serial": 123456789012345678901234567890})
    read = FAST.decode(stored)
    assert read == {"serial": 123456789012345678901234567890}
    assert type(read["serial"]) is int


def test_transcoded_values_nested_in_transcoded_values_are_put_back_innermost_first() -> None:
    state = {"timestamp": NOW, "points": [Point(uuid4()), {"p": Point(uuid4())}]}
    stored = STDLIB.encode(state)
    assert FAST.decode(stored) == state
    assert FAST.decode(memoryview(stored)) == state  # as a driver may hand the column over
    # a two-key object that is not a transcoded value stays an object, at the top and inside
    assert FAST.decode(b'{"a":{"x":1,"y":2},"b":2}') == {"a": {"x": 1, "y": 2}, "b": 2}


def test_a_type_without_a_transcoding_is_refused_as_eventsourcing_refuses_it() -> None:
    for transcoder in (STDLIB, FAST):
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"timestamp": NOW, "unknown": {1, 2}})
        with pytest.raises(TranscodingNotRegisteredError):
            transcoder.encode({"timestamp": NOW, "nested": [{"enum": Plain.ONE}]})
    with pytest.raises(TranscodingNotRegisteredError):
        FAST.decode(b'{"x":{"_type_":"nobody_knows","_data_":1}}')


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    found = seed()
    yield found
    found.close()


def test_every_stored_event_of_every_service_is_written_and_read_as_before(seeded: Seeded) -> None:
    """The seed's events (every kind the services store) were written by the hub's transcoder: each reads
    back the same with eventsourcing's, and is written again byte for byte as eventsourcing writes it."""
    apps = (seeded.registry, seeded.riskpoints, seeded.dangers, seeded.filing, seeded.notifications)
    kinds = set()
    for app in apps:
        assert type(app.mapper.transcoder) is OrjsonTranscoder
        for notification in app.recorder.select_notifications(start=1, limit=100_000):
            state = app.mapper.transcoder.decode(notification.state)
            assert state == STDLIB.decode(notification.state)
            assert FAST.encode(state) == STDLIB.encode(state) == notification.state
            kinds.add(notification.topic)
    assert len(kinds) >= 30


def test_the_stores_use_it_unless_switched_back_to_eventsourcing_s_own() -> None:
    class Store(HubApplication):
        service = "transcoder-test"

    memory = {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    assert type(Store(env=memory).mapper.transcoder) is OrjsonTranscoder
    for off in ("false", "0", "no"):
        assert type(Store(env={**memory, "HUB_ORJSON_EVENTS": off}).mapper.transcoder) is JSONTranscoder
