"""AuditService: read-only gRPC access to the event history (StreamEvents, GetStateAsOf, Verify)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from hub.v1 import audit_pb2, audit_pb2_grpc

from services.audit.events import AuditedEvent
from services.audit.feed import EventFilter, feed, parse_cursor
from services.audit.reader import AuditReader
from services.audit.stores import audited_services
from services.audit.timeline import state_as_of
from services.audit.verify import StoreReport
from services.backbone.edge.calls import grpc_method, grpc_server_stream
from services.backbone.errors import ValidationError
from services.kernel.tree_heads import Anchor, head_from_message

KINDS = {
    "altered": audit_pb2.FINDING_KIND_ALTERED,
    "removed": audit_pb2.FINDING_KIND_REMOVED,
    "inserted": audit_pb2.FINDING_KIND_INSERTED,
    "records": audit_pb2.FINDING_KIND_RECORDS,
    "unlinked": audit_pb2.FINDING_KIND_UNLINKED,
    "head": audit_pb2.FINDING_KIND_HEAD,
    "truncated": audit_pb2.FINDING_KIND_TRUNCATED,
    "rewritten": audit_pb2.FINDING_KIND_REWRITTEN,
    "forked": audit_pb2.FINDING_KIND_FORKED,
    "anchor": audit_pb2.FINDING_KIND_ANCHOR,
}


def _timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


# Timestamp's own range (0001-01-01 to 9999-12-31) and its nanos; the hub's history lies well within
MIN_SECONDS, MAX_SECONDS = -62_135_596_800, 253_402_300_799


def _moment(stamp: Timestamp, present: bool, field: str) -> datetime | None:
    """The moment a Timestamp names; ValidationError naming the field when it is no valid Timestamp."""
    if not present:
        return None
    if not 0 <= stamp.nanos < 1_000_000_000:
        raise ValidationError(f"{field}.nanos", "must be from 0 to 999,999,999")
    if not MIN_SECONDS <= stamp.seconds <= MAX_SECONDS:
        raise ValidationError(f"{field}.seconds", "must lie between 0001-01-01 and 9999-12-31")
    return stamp.ToDatetime(tzinfo=UTC)


def _enterprise(text: str, required: bool) -> UUID | None:
    if not text and not required:
        return None
    try:
        return UUID(text)
    except ValueError:
        raise ValidationError("enterprise_id", "must be a UUID") from None


def _services(names: list[str]) -> list[str] | None:
    unknown = sorted(set(names) - set(audited_services()))
    if unknown:
        raise ValidationError("services", f"unknown services {unknown}; known: {audited_services()}")
    return list(names) or None


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def event_message(event: AuditedEvent) -> audit_pb2.AuditedEvent:
    return audit_pb2.AuditedEvent(
        service=event.store,
        notification_id=event.notification_id,
        originator_id=event.originator_id,
        originator_version=event.originator_version,
        type=event.type,
        occurred_at=_timestamp(event.occurred_at),
        correlation_id=event.correlation_id,
        enterprise_id=event.enterprise_id or "",
        payload_json=_json(event.payload),
        digest=event.digest.hex(),
    )


def report_message(report: StoreReport) -> audit_pb2.StoreVerification:
    return audit_pb2.StoreVerification(
        service=report.store,
        store_position=report.store_head,
        events=report.events,
        linked_events=report.linked,
        heads=report.heads,
        signed_size=report.signed_size,
        anchors=report.anchors,
        anchored_size=report.anchored_size,
        findings=[
            audit_pb2.Finding(
                kind=KINDS.get(f.kind, audit_pb2.FINDING_KIND_UNSPECIFIED),
                service=f.store,
                notification_id=f.notification_id,
                originator_id=f.originator_id,
                originator_version=f.originator_version,
                detail=f.detail,
                last_id=f.last_id,
                count=f.count,
            )
            for f in report.findings
        ],
    )


class AuditServicer(audit_pb2_grpc.AuditServiceServicer):  # type: ignore[misc]
    """Reads only. There is deliberately no method that writes anything."""

    def __init__(self, reader: AuditReader, verify_workers: int = 1) -> None:
        self.reader, self.verify_workers = reader, verify_workers

    @grpc_server_stream
    def StreamEvents(  # noqa: N802 - gRPC's name
        self, request: audit_pb2.StreamEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[audit_pb2.StreamEventsResponse]:
        if request.limit < 0:
            raise ValidationError("limit", "must not be negative (0: no limit)")
        flt = EventFilter(
            enterprise=_enterprise(request.enterprise_id, required=False),
            types=frozenset(request.event_types),
            since=_moment(request.from_time, request.HasField("from_time"), "from_time"),
            until=_moment(request.to_time, request.HasField("to_time"), "to_time"),
        )
        cursor = parse_cursor(request.cursor)
        stores = self.reader.sources(_services(list(request.services)))
        for sent, (event, after) in enumerate(feed(stores, flt, cursor), 1):
            yield audit_pb2.StreamEventsResponse(event=event_message(event), cursor=after)
            if request.limit and sent >= request.limit:
                return

    @grpc_method
    def GetStateAsOf(  # noqa: N802
        self, request: audit_pb2.GetStateAsOfRequest, context: grpc.ServicerContext
    ) -> audit_pb2.GetStateAsOfResponse:
        enterprise = _enterprise(request.enterprise_id, required=True)
        if not request.HasField("as_of"):
            raise ValidationError("as_of", "required: the moment to rebuild the state at")
        as_of = _moment(request.as_of, True, "as_of")
        assert enterprise is not None and as_of is not None
        states = state_as_of(self.reader.sources(), enterprise, as_of)
        return audit_pb2.GetStateAsOfResponse(
            aggregates=[
                audit_pb2.AggregateState(
                    service=s.store,
                    aggregate_id=s.aggregate_id,
                    aggregate_type=s.aggregate_type,
                    version=s.version,
                    last_event_at=_timestamp(s.last_event_at),
                    state_json=_json(s.state),
                )
                for s in states
            ]
        )

    @grpc_method
    def Verify(  # noqa: N802
        self, request: audit_pb2.VerifyRequest, context: grpc.ServicerContext
    ) -> audit_pb2.VerifyResponse:
        anchors = [Anchor(head_from_message(h), "the caller") for h in request.anchors]
        reports = self.reader.verify(
            _services(list(request.services)), workers=self.verify_workers, anchors=anchors
        )
        return audit_pb2.VerifyResponse(
            ok=all(r.ok for r in reports), stores=[report_message(r) for r in reports]
        )
