"""RiskPointService: an ERP's risk points, one at a time or in bulk, and their warning cards."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import orjson
import structlog
from hub.v1 import riskpoint_pb2 as pb
from hub.v1 import riskpoint_pb2_grpc

from gateway import riskpoint_messages as messages
from gateway.auth import Authenticator
from gateway.streams import Inbox, grpc_stream
from services.backbone import correlation
from services.backbone.edge.calls import fields_of, grpc_method
from services.backbone.errors import ValidationError
from services.backbone.rpc_client import Services
from services.kernel.identity import risk_point_id
from services.kernel.validation import INT64_MAX, bounded_int, page_size

log = structlog.get_logger(__name__)
PAGE_SIZE = 500  # items per upsert_batch call: one transaction in the riskpoints store
LINGER = 0.05  # seconds a partial page waits for more items before it is saved anyway
FORMATS = {pb.WARNING_CARD_FORMAT_HTML: "html", pb.WARNING_CARD_FORMAT_PDF: "pdf"}


def target(caller: str, request: Any) -> str:
    """The risk point a request addresses: by id, or by the ERP's external id."""
    if request.risk_point_id:
        return str(request.risk_point_id)
    if request.external_id:
        return str(risk_point_id(caller, request.external_id))
    raise ValidationError("risk_point_id", "name the risk point: risk_point_id or external_id")


class RiskPointServicer(riskpoint_pb2_grpc.RiskPointServiceServicer):
    def __init__(self, services: Services, auth: Authenticator) -> None:
        self.services, self.auth = services, auth

    def _call(self, method: str, *args: Any) -> Any:
        return self.services.call("riskpoints", method, *args)

    @grpc_method
    def CreateRiskPoint(  # noqa: N802 - gRPC's method names
        self, request: pb.CreateRiskPointRequest, context: grpc.ServicerContext
    ) -> pb.CreateRiskPointResponse:
        caller = self.auth.enterprise(context)
        with fields_of(request.risk_point, "risk_point"):
            answer = self._call("create", caller, messages.input_dict(request.risk_point))
        return pb.CreateRiskPointResponse(
            risk_point=messages.risk_point_message(answer), created=answer["created"]
        )

    @grpc_method
    def AssessRiskPoint(  # noqa: N802
        self, request: pb.AssessRiskPointRequest, context: grpc.ServicerContext
    ) -> pb.AssessRiskPointResponse:
        caller = self.auth.enterprise(context)
        units = list(request.adjacent_units) or None
        assessment = messages.assessment_dict(request.assessment)
        answer = self._call("assess", caller, target(caller, request), assessment, request.reason, units)
        return pb.AssessRiskPointResponse(risk_point=messages.risk_point_message(answer))

    @grpc_method
    def UpdateRiskPoint(  # noqa: N802
        self, request: pb.UpdateRiskPointRequest, context: grpc.ServicerContext
    ) -> pb.UpdateRiskPointResponse:
        caller = self.auth.enterprise(context)
        given = messages.details_dict(request.risk_point)
        changes = {path: given.get(path) for path in request.update_mask}  # the service decides
        with fields_of(request.risk_point, "risk_point"):
            answer = self._call("update", caller, target(caller, request), changes)
        return pb.UpdateRiskPointResponse(risk_point=messages.risk_point_message(answer))

    @grpc_method
    def RetireRiskPoint(  # noqa: N802
        self, request: pb.RetireRiskPointRequest, context: grpc.ServicerContext
    ) -> pb.RetireRiskPointResponse:
        caller = self.auth.enterprise(context)
        answer = self._call("retire", caller, target(caller, request), request.reason)
        return pb.RetireRiskPointResponse(risk_point=messages.risk_point_message(answer))

    @grpc_method
    def GetRiskPoint(  # noqa: N802
        self, request: pb.GetRiskPointRequest, context: grpc.ServicerContext
    ) -> pb.GetRiskPointResponse:
        caller = self.auth.enterprise(context)
        answer = self._call("get", caller, target(caller, request))
        return pb.GetRiskPointResponse(risk_point=messages.risk_point_message(answer))

    @grpc_method
    def ListRiskPoints(  # noqa: N802
        self, request: pb.ListRiskPointsRequest, context: grpc.ServicerContext
    ) -> pb.ListRiskPointsResponse:
        caller = self.auth.enterprise(context)
        offset = bounded_int(request.page_token or "0", "page_token", 0, INT64_MAX)
        answer = self._call("list", caller, offset, page_size(request.page_size), request.include_retired)
        return pb.ListRiskPointsResponse(
            risk_points=[messages.risk_point_message(p) for p in answer["risk_points"]],
            next_page_token=str(answer["next_offset"] or ""),
            total_size=answer["total"],
        )

    @grpc_method
    def GetWarningCard(  # noqa: N802
        self, request: pb.GetWarningCardRequest, context: grpc.ServicerContext
    ) -> pb.GetWarningCardResponse:
        caller = self.auth.enterprise(context)
        if request.format not in FORMATS:
            raise ValidationError("format", "must be WARNING_CARD_FORMAT_HTML or WARNING_CARD_FORMAT_PDF")
        made = self._call("warning_card", caller, target(caller, request), FORMATS[request.format])
        return pb.GetWarningCardResponse(
            content_type=made["content_type"],
            content=base64.b64decode(made["content"]),
            filename=made["filename"],
        )

    @grpc_stream
    def ImportRiskPoints(  # noqa: N802
        self, request_iterator: Iterator[pb.ImportRiskPointsRequest], context: grpc.ServicerContext, cid: str
    ) -> Iterator[pb.ImportRiskPointsResponse]:
        caller = self.auth.enterprise(context)
        first: list[str] = []

        def items_of(request: pb.ImportRiskPointsRequest) -> list[tuple[str, dict[str, Any]]]:
            first.append(request.import_id)
            return [(item.external_id, messages.input_dict(item)) for item in request.items]

        inbox = Inbox(capacity=2 * PAGE_SIZE)
        inbox.feed(request_iterator, items_of)
        import_id, position = "", 0
        finished: dict[str, Any] | None = None
        try:
            while page := inbox.take(PAGE_SIZE, LINGER):
                import_id = import_id or first[0] or uuid.uuid4().hex
                last = inbox.ended()  # the client sent everything: this page also finishes the import
                with correlation.bound(cid):
                    items = orjson.dumps([item for _, item in page]).decode()  # one string for kombu
                    answer = self._call("upsert_batch", caller, items, import_id, last)
                if last:
                    finished = answer["progress"]
                results = [
                    messages.item_result(position + r["index"], page[r["index"]][0], r)
                    for r in answer["results"]
                ]
                position += len(page)
                yield pb.ImportRiskPointsResponse(
                    import_id=import_id,
                    results=results,
                    progress=messages.progress_message(answer["progress"]),
                )
            if inbox.error is not None or not context.is_active():
                # refused (a message over the size limit, say) or gone: what was answered stays
                # answered, and an import that saved nothing leaves no record
                log.info(
                    "import_interrupted", import_id=import_id, received=position, error=repr(inbox.error)
                )
                return
            import_id = import_id or (first[0] if first else "") or uuid.uuid4().hex
            if position == 0:  # nothing sent: nothing to import, nothing stored
                yield pb.ImportRiskPointsResponse(
                    import_id=import_id, progress=messages.progress_message(None)
                )
                return
            progress = finished
            if progress is None:  # the stream ended after its last page was taken
                with correlation.bound(cid):
                    progress = self._call("finish_import", caller, import_id)
            log.info(
                "import_finished", import_id=import_id, **{k: progress[k] for k in ("received", "rejected")}
            )
            yield pb.ImportRiskPointsResponse(
                import_id=import_id, progress=messages.progress_message(progress)
            )
        finally:
            inbox.abandon()
