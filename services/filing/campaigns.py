"""Filing campaigns (the seed's deadline was 15 September) and the town's book (一镇一册)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import HubAggregate

SHANGHAI = timezone(timedelta(hours=8))  # deadlines are local dates; China keeps no summer time
CAMPAIGNS = uuid.UUID("0f4f5b1e-9c2d-4d0a-8b7e-3f6a2c1d9e55")


def campaign_id(town: str, name: str) -> uuid.UUID:
    return uuid.uuid5(CAMPAIGNS, f"{town}/{name}")


class FilingCampaign(HubAggregate):
    """A town's call to file by a deadline."""

    @staticmethod
    def create_id(town: str, name: str, **_: Any) -> uuid.UUID:
        return campaign_id(town, name)

    @event("Opened")
    def __init__(self, town: str, name: str, deadline: str) -> None:
        self.town, self.name, self.deadline = town, name, deadline

    @property
    def closes_at(self) -> datetime:
        """The end of the deadline day in Asia/Shanghai."""
        return datetime.combine(date.fromisoformat(self.deadline) + timedelta(days=1), time(), SHANGHAI)


def standing(first_submitted_at: str | None, closes_at: datetime, now: datetime) -> str:
    """on_time, late, missing (past the deadline, nothing filed) or pending (not yet due)."""
    if first_submitted_at:
        return "on_time" if datetime.fromisoformat(first_submitted_at) < closes_at else "late"
    return "missing" if now >= closes_at else "pending"


MAJOR_LEVELS = (1, 2)
BOOK_COLUMNS = (
    ("enterprise", "企业名称"),
    ("uscc", "统一社会信用代码"),
    ("risk_point", "风险点"),
    ("location", "位置"),
    ("level", "风险等级"),
    ("colour", "颜色"),
    ("accident_types", "可能导致的事故类型"),
    ("control_tier", "管控层级"),
    ("control_measures", "管控措施"),
    ("responsible_unit", "责任单位"),
    ("responsible_person", "责任人"),
    ("responsible_mobile", "联系电话"),
    ("departments", "监管部门"),
    ("major_dangers", "重大隐患"),
    ("status", "企业状态"),
)


def book_rows(
    enterprise: dict[str, Any],
    risk_points: list[dict[str, Any]],
    dangers: list[dict[str, Any]],
    departments: list[dict[str, str]],
) -> list[dict[str, Any]]:
    """One enterprise's lines in 一镇一册: its level-1/2 risk points, with their open major dangers."""
    open_major: dict[str, list[str]] = {}
    for d in dangers:
        if d.get("grade") == "重大" and d.get("status") != "closed":
            open_major.setdefault(str(d.get("risk_point_id")), []).append(str(d.get("description", "")))
    names = "、".join(d["name"] for d in departments)
    rows = []
    for point in risk_points:
        if point.get("level") not in MAJOR_LEVELS:
            continue
        rows.append(
            {
                "enterprise_id": enterprise["enterprise_id"],
                "enterprise": enterprise.get("name", ""),
                "uscc": enterprise.get("uscc", ""),
                "risk_point_id": point["id"],
                "risk_point": point.get("name", ""),
                "location": point.get("location", ""),
                "level": point.get("level"),
                "colour": point.get("colour", ""),
                "accident_types": "、".join(point.get("accident_types") or []),
                "control_tier": point.get("control_tier", ""),
                "control_measures": "；".join(_measure(m) for m in point.get("control_measures") or []),
                "responsible_unit": point.get("responsible_unit", ""),
                "responsible_person": point.get("responsible_person", ""),
                "responsible_mobile": point.get("responsible_mobile", ""),
                "departments": names,
                "major_dangers": "；".join(open_major.get(str(point["id"]), [])),
                "status": enterprise.get("status", ""),
            }
        )
    return rows


def _measure(measure: Any) -> str:
    if isinstance(measure, dict):
        kind, text = measure.get("type", ""), measure.get("description", "")
        return f"{kind}：{text}" if kind else str(text)
    return str(measure)
