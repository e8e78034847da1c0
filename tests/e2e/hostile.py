"""What a hostile client sends, generated from the proto descriptors: for each method, a request whose
fields are filled with plausible values (and the ids of a prepared hub), then each field in turn set to
values at and beyond its edges. Used by the field sweep in `make test` and, at length, by `make fuzz`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import grpc
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from services.kernel.validation import today_in_shanghai

FORBIDDEN = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}
INT_KINDS = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
}
# Strings a hostile client sends: empty and blank, long, odd Unicode (superscript and Arabic-Indic
# digits, a right-to-left override, NUL, a lone high plane), numbers past every integer type, dates at
# the ends of the calendar, paths and injections.
STRINGS = [
    "",
    "   ",
    "x" * 5000,
    "²",
    "٣٤",
    "\u202e91350100M000100Y43",
    "a\x00b",
    "😀" * 300,
    "99999999999999999999999",
    "-1",
    "9999-12-31",
    "0001-01-01",
    "../../etc/passwd",
    "' OR '1'='1",
]
# Dates no field of the hub takes: the ends of the calendar, and far outside any field's window.
EXTREME_DATES = ["9999-12-31", "0001-01-01", "1899-12-31", "2999-01-01"]
BYTES = [b"", b"\xff" * 2048, bytes(range(256))]
DOUBLES = [float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308, 5e-324]


def is_date_field(name: str) -> bool:
    return name.endswith("_on") or name == "deadline"


@dataclass
class Prepared:
    """The ids and credentials of a prepared hub the requests name."""

    enterprise_id: str
    risk_point_id: str
    external_id: str
    danger_id: str
    case_id: str
    version: int
    department: str
    enterprise_metadata: tuple[tuple[str, str], ...]
    registration_metadata: tuple[tuple[str, str], ...]
    department_metadata: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def metadata_for(self, method: MethodDescriptor) -> tuple[tuple[str, str], ...]:
        service = method.containing_service.name
        if method.name == "RegisterEnterprise":
            return self.registration_metadata
        scope = {"InspectionService": "inspections", "TownService": "town", "FilingFeedService": "feed"}
        if service in scope:
            return self.department_metadata[scope[service]]
        return self.enterprise_metadata


def plausible(prepared: Prepared, name: str, kind: int, today: date) -> Any:
    """A value a well-behaved client would send in a field of this name."""
    ids = {
        "enterprise_id": prepared.enterprise_id,
        "risk_point_id": prepared.risk_point_id,
        "external_id": prepared.external_id,
        "danger_id": prepared.danger_id,
        "case_id": prepared.case_id,
        "department_code": prepared.department,
        "town": "张山子镇",
        "industry": "化工",
        "unified_social_credit_code": "91350100M000100Y43",
        "idempotency_key": "",
        "import_id": "",
        "page_token": "",
        "cursor": "",
        "update_mask": "address",
        "uri": "https://evidence.example/photo.jpg",
        "digest": "ab" * 32,
        "category": "设备设施",
        "accident_types": "火灾",
        "type": "在线监测",
        "control_tier": "",
        "violation": "SAFETY_LAW_102",
        "delivery_id": f"{prepared.enterprise_id}/{prepared.version}/{prepared.department}",
    }
    if kind == FieldDescriptor.TYPE_STRING:
        if name in ids:
            return ids[name]
        if name.endswith("mobile"):
            return "13800138000"
        if name == "deadline":
            return (today + timedelta(days=30)).isoformat()
        if is_date_field(name):
            return (today - timedelta(days=1)).isoformat()
        return "检查记录"
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind == FieldDescriptor.TYPE_ENUM:
        return 1
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return 3.0
    if kind == FieldDescriptor.TYPE_BYTES:
        return b"{}"
    if name in ("version", "from_version", "to_version"):
        return prepared.version
    if name == "amount":
        return 50000
    return 0


def seed(descriptor: Descriptor, prepared: Prepared, today: date, depth: int = 0) -> Message:
    """A request of this type with every field filled plausibly (one element per list)."""
    message = GetMessageClass(descriptor)()
    for f in descriptor.fields:
        target = getattr(message, f.name)
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if f.message_type.GetOptions().map_entry:
                if f.name == "scores":
                    target.update({"L": 3.0, "E": 6.0, "C": 15.0})
                continue
            if depth >= 3 or f.message_type.full_name.startswith("google.protobuf."):
                continue
            sub = seed(f.message_type, prepared, today, depth + 1)
            (target.append(sub) if f.is_repeated else target.CopyFrom(sub))  # type: ignore[func-returns-value]
            continue
        value = plausible(prepared, f.name, f.type, today)
        if f.is_repeated:
            target.append(value)
        else:
            setattr(message, f.name, value)
    return message


def hostile_values(f: FieldDescriptor, many: bool) -> list[Any]:
    """The values a hostile client puts in this field (`many`: the long list, for make fuzz)."""
    if f.type == FieldDescriptor.TYPE_STRING:
        values = EXTREME_DATES + STRINGS if is_date_field(f.name) else STRINGS
        return values if many else values[:: 2 if not is_date_field(f.name) else 1][:9]
    if f.type in INT_KINDS:
        low, high = INT_KINDS[f.type]
        return sorted({low, -1, 0, 1, 2**31 - 1 if high >= 2**31 - 1 else high, high})
    if f.type == FieldDescriptor.TYPE_ENUM:
        return [-1, 0, 999]
    if f.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return DOUBLES if many else DOUBLES[:3]
    if f.type == FieldDescriptor.TYPE_BYTES:
        return BYTES
    return []


def paths(descriptor: Descriptor, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, FieldDescriptor]]:
    """Every scalar field of a request by its path from the request's top (lists by their first item)."""
    for f in descriptor.fields:
        path = f"{prefix}{f.name}"
        if f.type == FieldDescriptor.TYPE_MESSAGE:
            if depth < 3 and not f.message_type.GetOptions().map_entry:
                inner = f"{path}[0]." if f.is_repeated else f"{path}."
                if not f.message_type.full_name.startswith("google.protobuf."):
                    yield from paths(f.message_type, inner, depth + 1)
            continue
        yield path, f


def with_value(request: Message, path: str, f: FieldDescriptor, value: Any) -> Message | None:
    """A copy of the request with the field at `path` set to `value` (None if protobuf refuses it)."""
    copy = type(request)()
    copy.CopyFrom(request)
    *parents, leaf = path.split(".")
    target: Any = copy
    for part in parents:
        name, _, index = part.partition("[")
        target = getattr(target, name)
        if index:
            target = target[0]
    name = leaf.partition("[")[0]
    try:
        if f.is_repeated:
            del getattr(target, name)[:]
            getattr(target, name).append(value)
        else:
            setattr(target, name, value)
    except (ValueError, TypeError):
        return None
    return copy


def call(
    address: str, method: MethodDescriptor, request: Message, metadata: tuple, cid: str
) -> grpc.StatusCode:
    """Sends the request (alone in a stream, for streaming methods); the status answered."""
    channel = grpc.insecure_channel(address)
    path = f"/{method.containing_service.full_name}/{method.name}"
    meta = (*metadata, ("x-correlation-id", cid))
    payload = request.SerializeToString()
    identity = (lambda b: b, lambda b: b)
    try:
        if method.client_streaming:
            kind = channel.stream_stream if method.server_streaming else channel.stream_unary
            result = kind(path, *identity)(iter([payload]), metadata=meta, timeout=30)
        else:
            kind = channel.unary_stream if method.server_streaming else channel.unary_unary
            result = kind(path, *identity)(payload, metadata=meta, timeout=30)
        if method.server_streaming:
            for _ in result:
                pass
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()  # type: ignore[attr-defined,no-any-return]
    finally:
        channel.close()


def new_cid() -> str:
    return uuid.uuid4().hex


def today() -> date:
    return today_in_shanghai()


def stored_correlation_ids(app: Any) -> Iterator[tuple[str, str]]:
    """(topic, correlation id) of every event a store holds, read as written (decrypted)."""
    import json

    from services.backbone import at_rest

    start = 1
    while page := app.recorder.select_notifications(start=start, limit=1000):
        for notification in page:
            state = json.loads(at_rest.plain(app, notification.state))
            yield notification.topic, str(state.get("correlation_id") or "")
        start = page[-1].id + 1
