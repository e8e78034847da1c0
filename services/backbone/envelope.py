"""The envelope every event travels in, from a service's notification log to its consumers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
from eventsourcing.persistence import Notification

from services.backbone import transcoder

# Fields of a stored event that belong in the envelope, not the payload.
_META = {"originator_id", "originator_version", "timestamp", "originator_topic", "correlation_id"}
_EVENT_IDS = uuid.UUID("6f1d7c1e-3f7b-4d5e-9a56-2b1f0c9e8a10")
_EVENT_IDS_BYTES = _EVENT_IDS.bytes
_sha1 = hashlib.sha1


_PLAIN = frozenset({str, int, float, bool, type(None)})


def jsonable(value: Any) -> Any:
    """Plain JSON types for a domain value (UUIDs, datetimes, decimals, enums, dataclasses)."""
    kind = type(value)
    if kind in _PLAIN:  # exact types: a StrEnum is a str but must become its value
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """UTF-8 JSON of an envelope or a batch: orjson (a tenth of the standard library's time, for every
    event a relay publishes), or the standard library for what orjson refuses (integers past 64 bits)."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(value, ensure_ascii=False).encode("utf-8")


def loads(body: bytes | str) -> Any:
    """The JSON value of a message body (orjson; the standard library for what orjson refuses)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)  # the same ValueError when it is not JSON at all


def split_topic(topic: str) -> tuple[str, str]:
    """('Enterprise', 'Registered') for 'services.registry.domain:Enterprise.Registered'."""
    qualname = topic.split(":", 1)[1]
    aggregate, _, event = qualname.rpartition(".")
    return aggregate.rpartition(".")[2], event


@dataclass(frozen=True)
class Envelope:
    """One event, with what a consumer needs to apply it exactly once and in order."""

    event_id: str
    type: str  # "<Aggregate>.<Event>", e.g. "Enterprise.Registered"
    schema_version: int
    originator_id: str
    originator_version: int
    upstream: str  # the service whose store holds the event
    notification_id: int
    previous_id: int  # the notification the relay published before this one in the stream
    occurred_at: str  # ISO 8601, UTC
    correlation_id: str
    enterprise_id: str | None
    payload: dict[str, Any]

    @property
    def routing_key(self) -> str:
        return f"{self.type}.{self.enterprise_id or 'none'}"

    def to_dict(self) -> dict[str, Any]:
        # The fields are JSON values already (the payload went through jsonable()): asdict()'s deep
        # copy of the payload cost ~5x the encoding itself.
        return {name: getattr(self, name) for name in FIELD_NAMES}

    def to_json(self) -> bytes:
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: Any) -> Envelope:
        if not isinstance(data, dict):
            raise ValueError("envelope: not a JSON object")
        if data.keys() == _FIELD_SET and cls is Envelope:
            # exactly the fields, as the relay writes them: filled in directly, as the frozen
            # dataclass's __init__ would (one object.__setattr__ a field: ~5 µs an envelope, ~1 µs
            # this way, for every event every consumer reads)
            envelope = object.__new__(cls)
            envelope.__dict__.update(data)
            return envelope
        try:
            return cls(**{name: data[name] for name in FIELD_NAMES})
        except KeyError:
            missing = sorted(set(FIELD_NAMES) - data.keys())
            raise ValueError(f"envelope: missing {missing}") from None

    @classmethod
    def from_json(cls, body: bytes | str) -> Envelope:
        return cls.from_dict(loads(body))

    def replace(self, **changes: Any) -> Envelope:
        return dataclasses.replace(self, **changes)


FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Envelope))
_FIELD_SET = frozenset(FIELD_NAMES)


def batch_to_json(envelopes: list[Envelope]) -> bytes:
    """Several envelopes of one stream, in its order, as one message body: a JSON array."""
    return dumps([e.to_dict() for e in envelopes])


def envelopes_from_json(body: bytes | str) -> list[Envelope]:
    """The envelopes of a message body: one envelope (an object) or a batch (an array of them)."""
    data = loads(body)
    if isinstance(data, list):
        if not data:
            raise ValueError("envelope batch: empty")
        return [Envelope.from_dict(item) for item in data]
    return [Envelope.from_dict(data)]


def event_id(upstream: str, originator_id: str, originator_version: int) -> str:
    """Stable across republishing: the same stored event always has the same id."""
    # str(uuid.uuid5(_EVENT_IDS, name)) spelled out: the relay makes one per event it publishes, and the
    # UUID object uuid5 builds and then formats costs twice the hash itself
    digest = bytearray(
        _sha1(_EVENT_IDS_BYTES + f"{upstream}/{originator_id}/{originator_version}".encode()).digest()
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def from_domain_event(
    upstream: str, notification: Notification, domain_event: Any, previous_id: int
) -> Envelope:
    """Wraps a decoded domain event from a service's notification log."""
    state = {k: jsonable(v) for k, v in vars(domain_event).items()}
    return _wrap(upstream, notification, state, type(domain_event), previous_id)


# eventsourcing's default transcodings (UUIDAsHex, DecimalAsStr, DatetimeAsISO) as jsonable() shows
# their values: the text the envelope carries.
_AS_TEXT: dict[str, Callable[[Any], str]] = {
    "uuid_hex": lambda data: str(uuid.UUID(data)),
    "decimal_str": str,
    "datetime_iso": str,
}


class _NotPlain(Exception):
    """A stored value the shortcut does not know how to show (a transcoding of the service's own)."""


def _as_text(obj: dict[str, Any]) -> Any:
    if len(obj) == 2 and "_type_" in obj and "_data_" in obj:
        convert = _AS_TEXT.get(obj["_type_"])
        if convert is None:
            raise _NotPlain(obj["_type_"])
        return convert(obj["_data_"])
    return obj


# for what orjson does not read; made once (json.loads(…, object_hook=…) makes a decoder every call)
_STORED_STATE = json.JSONDecoder(object_hook=_as_text)


def from_stored(
    upstream: str,
    notification: Notification,
    event_class: type,
    previous_id: int,
    stored_json: bytes | None = None,
) -> Envelope | None:
    """The envelope of a stored event read straight from its stored JSON, without making the domain
    event and then turning its values back into JSON ones: the same envelope as from_domain_event().
    `stored_json`: the event's state as the transcoder wrote it, when the store keeps it otherwise
    (encrypted); the notification's own state by default. None when the event needs eventsourcing's
    mapper (an upcast class version, a transcoding of our own)."""
    if getattr(event_class, "class_version", 1) != 1:
        return None
    try:
        state = transcoder.loads(
            notification.state if stored_json is None else stored_json, _as_text, _STORED_STATE.decode
        )
    except _NotPlain:
        return None
    if not isinstance(state, dict) or "class_version" in state:
        return None
    state["originator_id"] = str(notification.originator_id)
    state["originator_version"] = notification.originator_version
    return _wrap(upstream, notification, state, event_class, previous_id)


def _wrap(
    upstream: str, notification: Notification, state: dict[str, Any], event_class: type, previous_id: int
) -> Envelope:
    """The envelope of an event whose state (originator id and version included) is in JSON values."""
    aggregate, name = split_topic(notification.topic)
    payload = {k: v for k, v in state.items() if k not in _META}
    originator_id = state["originator_id"]
    enterprise = payload.get("enterprise_id") or (originator_id if aggregate == "Enterprise" else None)
    return Envelope(
        event_id=event_id(upstream, originator_id, state["originator_version"]),
        type=f"{aggregate}.{name}",
        schema_version=getattr(event_class, "schema_version", 1),
        originator_id=originator_id,
        originator_version=state["originator_version"],
        upstream=upstream,
        notification_id=notification.id,
        previous_id=previous_id,
        occurred_at=state["timestamp"],
        correlation_id=str(state.get("correlation_id") or ""),
        enterprise_id=str(enterprise) if enterprise else None,
        payload=payload,
    )
