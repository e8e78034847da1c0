"""TownService: the town safety office's 一镇一册 and filing campaigns."""

from __future__ import annotations

import base64
from typing import Any

import grpc
from hub.v1 import town_pb2 as pb
from hub.v1 import town_pb2_grpc

from gateway.inspector_auth import DepartmentAuthenticator
from services.backbone.edge.calls import grpc_method
from services.backbone.errors import PermissionDeniedError, ValidationError
from services.backbone.rpc_client import Services

TOWN_OFFICE = "镇安委会办公室"
STANDING = {
    "on_time": pb.STANDING_ON_TIME,
    "late": pb.STANDING_LATE,
    "missing": pb.STANDING_MISSING,
    "pending": pb.STANDING_PENDING,
}
FORMATS = {pb.EXPORT_FORMAT_CSV: "csv", pb.EXPORT_FORMAT_XLSX: "xlsx"}


def line(row: dict[str, Any]) -> pb.TownBookLine:
    return pb.TownBookLine(
        enterprise_id=row["enterprise_id"],
        enterprise_name=row["enterprise"],
        unified_social_credit_code=row["uscc"],
        risk_point_id=row["risk_point_id"],
        risk_point_name=row["risk_point"],
        location=row["location"],
        level=row["level"],
        colour=row["colour"],
        accident_types=row["accident_types"],
        control_tier=row["control_tier"],
        control_measures=row["control_measures"],
        responsible_unit=row["responsible_unit"],
        responsible_person=row["responsible_person"],
        responsible_mobile=row["responsible_mobile"],
        departments=row["departments"],
        major_dangers=row["major_dangers"],
        enterprise_status=row["status"],
    )


class TownServicer(town_pb2_grpc.TownServiceServicer):
    def __init__(self, services: Services, departments: DepartmentAuthenticator) -> None:
        self.services, self.departments = services, departments

    def _office_of(self, context: grpc.ServicerContext, town: str) -> None:
        code = self.departments.department(context)  # who is asking comes first
        if not town.strip():
            raise ValidationError("town", "must not be empty")
        record = self.services.call("registry", "get_department", code)
        if record.get("kind") != TOWN_OFFICE or record.get("town") != town:
            raise PermissionDeniedError("town", f"{code} is not the safety office of {town}")

    @grpc_method
    def GetTownBook(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._office_of(context, request.town)
        book = self.services.call("filing", "town_book", request.town)
        return pb.GetTownBookResponse(
            lines=[line(r) for r in book["rows"]],
            level_1_count=book["level_1"],
            level_2_count=book["level_2"],
            enterprise_count=book["enterprises"],
        )

    @grpc_method
    def ExportTownBook(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._office_of(context, request.town)
        fmt = FORMATS.get(request.format)
        if fmt is None:
            raise ValidationError("format", "must be EXPORT_FORMAT_CSV or EXPORT_FORMAT_XLSX")
        content = base64.b64decode(self.services.call("filing", "export_town_book", request.town, fmt))
        return pb.ExportTownBookResponse(file_name=f"一镇一册-{request.town}.{fmt}", content=content)

    @grpc_method
    def OpenFilingCampaign(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._office_of(context, request.town)
        opened = self.services.call("filing", "open_campaign", request.town, request.name, request.deadline)
        return pb.OpenFilingCampaignResponse(campaign_id=opened["campaign_id"])

    @grpc_method
    def GetCampaignStatus(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._office_of(context, request.town)
        status = self.services.call("filing", "campaign_status", request.town, request.name)
        return pb.GetCampaignStatusResponse(
            deadline=status["deadline"],
            enterprises=[
                pb.EnterpriseStanding(
                    enterprise_id=r["enterprise_id"],
                    name=r["name"],
                    unified_social_credit_code=r["uscc"],
                    standing=STANDING[r["standing"]],
                    first_submitted_at=r["first_submitted_at"] or "",
                )
                for r in status["enterprises"]
            ],
            on_time_count=status["counts"]["on_time"],
            late_count=status["counts"]["late"],
            missing_count=status["counts"]["missing"],
            pending_count=status["counts"]["pending"],
        )
