"""Valid risk points as an ERP sends them: plain dicts (the service's input) and gRPC messages."""

from __future__ import annotations

from typing import Any

# LEC scores that grade to each level under the default bands: D = 540, 270, 126, 42.
LEC_SCORES: dict[int, dict[str, float]] = {
    1: {"L": 6, "E": 6, "C": 15},
    2: {"L": 3, "E": 6, "C": 15},
    3: {"L": 3, "E": 6, "C": 7},
    4: {"L": 1, "E": 6, "C": 7},
}


def item(n: int, level: int = 3, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "external_id": f"RP-{n:05d}",
        "name": f"{n}号反应釜",
        "location": f"一车间 {n % 7 + 1} 号工位",
        "category": "生产系统",
        "accident_types": ["火灾", "其它爆炸", "中毒和窒息"],
        "responsible_unit": "一车间",
        "responsible_person": "王安全",
        "responsible_mobile": "13912345678",
        "control_measures": [
            {"type": "在线监测", "description": "温度、压力在线监测，超限报警"},
            {"type": "制度管理", "description": "严格执行操作规程"},
        ],
        "emergency_measures": ["立即停车，切断物料", "疏散人员，拨打 119"],
        "adjacent_units": ["东邻：鲁南化肥厂"] if level <= 2 else [],
        "assessment": {"method": "LEC", "scores": dict(LEC_SCORES[level])},
        "control_tier": "",
    }
    fields.update(overrides)
    return fields


def item_message(fields: dict[str, Any]) -> Any:
    """The same risk point as a hub.v1.RiskPointInput."""
    from hub.v1 import riskpoint_pb2 as pb

    assessment = fields.get("assessment")
    methods = {"LEC": pb.ASSESSMENT_METHOD_LEC, "LS": pb.ASSESSMENT_METHOD_LS}
    return pb.RiskPointInput(
        external_id=fields["external_id"],
        name=fields["name"],
        location=fields["location"],
        category=fields["category"],
        accident_types=fields["accident_types"],
        responsible_unit=fields["responsible_unit"],
        responsible_person=fields["responsible_person"],
        responsible_mobile=fields["responsible_mobile"],
        control_measures=[pb.ControlMeasure(**m) for m in fields["control_measures"]],
        emergency_measures=fields["emergency_measures"],
        adjacent_units=fields["adjacent_units"],
        control_tier=fields.get("control_tier") or "",
        assessment=(
            pb.AssessmentInput(method=methods.get(assessment["method"], 0), scores=assessment["scores"])
            if assessment
            else None
        ),
    )
