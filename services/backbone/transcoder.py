"""eventsourcing's JSON transcoder with orjson doing the JSON: the same stored form, made and read faster.

eventsourcing's JSONTranscoder writes an event's state with the standard library's json, and writes the
values json cannot with its transcodings: a datetime as {"_type_": "datetime_iso", "_data_": text}, a
UUID as "uuid_hex", a Decimal as "decimal_str". Reading, json's object hook puts them back. This one
does the same with orjson, about twice as fast (a risk point's first event: 21 → 9 µs to write, 17 →
10 µs to read; orjson itself takes 4 of the 9, the walk below the rest):

- Writing, orjson hands each value it cannot write to the same transcodings (datetimes and dataclasses
  too, by option). orjson would write UUIDs and enums itself, NaN as null and floats below 1e-4 or
  from 1e16 on with exponents of its own spelling, and treats subclasses of the containers and of
  float otherwise. A state holding any of them, which a quick walk finds, is written by json as
  before; so is one orjson refuses (an integer beyond 64 bits, a key that is not text). Either way
  the bytes are those eventsourcing writes.
- Reading, orjson parses and the transcoded values are put back bottom up, as the object hook does. What
  orjson refuses (NaN) or reads otherwise (an integer beyond 64 bits becomes a float) is read by json.

What is stored reads the same either way: events written before are read by this, and what this writes
is read by eventsourcing's own transcoder (tests hold both).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, TranscodingNotRegisteredError
from eventsourcing.utils import strtobool

from services.backbone import library

ENV = "HUB_ORJSON_EVENTS"  # "false" keeps eventsourcing's transcoder (the benchmarks' raw baselines)
_WRITE_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# the key as written (inside a text its quotes are escaped); a text that is just "_type_" counts too,
# which only sends the read the long way
_TYPE_KEY = b'"_type_"'
# 2**64 has 20 digits: a run of 20 (in a text too, then read by json) is found as 20 zeros once every
# digit is a zero (a regex takes ten times as long)
_ZEROED = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 20


class _WrittenOtherwise(Exception):
    """A transcoding's data holds a value orjson would write otherwise than json."""


def _written_otherwise(value: Any) -> bool:
    """Whether orjson would write this value (or one inside it) otherwise than json and the transcodings."""
    kind = type(value)
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    elif kind is float:  # json writes NaN and infinities, orjson null; below 1e-4 and from 1e16 on
        return value != 0 and not 1e-4 <= abs(value) < 1e16  # they spell exponents otherwise (1e-05, 1e-5)
    else:  # a subclass of a container or of float (an OrderedDict, a namedtuple) goes to json too
        return isinstance(value, (UUID, Enum, dict, list, tuple, float))
    for item in items:
        kind = type(item)
        if kind is str or kind is int or kind is bool:
            continue
        if _written_otherwise(item):
            return True
    return False


def _restore(value: Any, transcoded: Callable[[dict[str, Any]], Any]) -> Any:
    """Puts back the transcoded values inside `value`, innermost first (as json's object hook does)."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(item) is dict or type(item) is list:
                value[key] = _restore(item, transcoded)
        return transcoded(value) if len(value) == 2 else value
    if kind is list:
        for index, item in enumerate(value):
            if type(item) is dict or type(item) is list:
                value[index] = _restore(item, transcoded)
    return value


def loads(
    data: bytes | bytearray | memoryview,
    transcoded: Callable[[dict[str, Any]], Any],
    fallback: Callable[[str], Any],
) -> Any:
    """Stored JSON read by orjson, its transcoded values put back by `transcoded` (called with every
    two-key object, as an object hook is); `fallback` reads what orjson refuses."""
    if type(data) is not bytes:
        data = bytes(data)  # a memoryview, say, as a driver may hand a column over
    if _LONG_NUMBER in data.translate(_ZEROED):  # orjson reads an integer beyond 64 bits as a float
        return fallback(data.decode("utf-8"))
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:  # NaN, say
        return fallback(data.decode("utf-8"))
    marked = data.count(_TYPE_KEY)
    if not marked:
        return value
    if type(value) is dict:
        # an event's state: usually its only transcoded values are its own (the timestamp) at the top
        top = [
            key for key, item in value.items() if type(item) is dict and len(item) == 2 and "_type_" in item
        ]
        if len(top) == marked:
            for key in top:
                value[key] = transcoded(value[key])
            return transcoded(value) if len(value) == 2 else value
    return _restore(value, transcoded)


class OrjsonTranscoder(JSONTranscoder):
    """eventsourcing's JSONTranscoder, its JSON made and read by orjson (same transcodings, same form)."""

    def encode(self, obj: Any) -> bytes:
        if not _written_otherwise(obj):
            try:
                return orjson.dumps(obj, default=self._transcoded, option=_WRITE_OPTIONS)
            except orjson.JSONEncodeError as error:
                if isinstance(error.__cause__, TranscodingNotRegisteredError):
                    raise error.__cause__ from None
                # what orjson refuses or would write otherwise: json writes it, as before
        return super().encode(obj)

    def _transcoded(self, value: Any) -> dict[str, Any]:
        encoded = library.transcode(self, value)
        data = encoded["_data_"]
        if type(data) is not str and _written_otherwise(data):
            raise _WrittenOtherwise
        return encoded

    def decode(self, data: bytes) -> Any:
        return loads(data, functools.partial(library.untranscode, self), self.decoder.decode)


def enabled(env: Any) -> bool:
    """Whether the stores use this transcoder, read as eventsourcing reads its flags (true/false, 1/0)."""
    return strtobool(env.get(ENV, "true"))
