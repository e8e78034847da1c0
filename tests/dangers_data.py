"""Valid hidden-danger test data: evidence, findings, plans, and a dangers store that knows one enterprise."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from services.dangers.application import DangersApplication
from services.dangers.records import EnterpriseRecord

AJ, TOWN, ZJ = "AJJ-TEZ", "TOWN-ZSZ", "ZJ-TEZ"  # 安监, the town office, 住建 (supervises nobody here)
FAR = "2030-01-01"  # a deadline the real clock will not reach during the tests


def owns(enterprise: str, risk_point_ids: list[str]) -> dict[str, str]:
    """The riskpoints service's answer when every risk point named is the enterprise's own."""
    return dict.fromkeys(risk_point_ids, "own")


def evidence(name: str = "photo-1.jpg") -> list[dict[str, str]]:
    digest = hashlib.new("sm3", name.encode()).hexdigest()
    return [{"uri": f"https://erp.example.cn/files/{name}", "hash_algorithm": "sm3", "digest": digest}]


def report(**overrides: Any) -> dict[str, Any]:
    return {
        "risk_point_id": str(uuid.uuid4()),
        "inspection_type": "日常",
        "description": "配电箱接地线脱落",
        "evidence": evidence(),
        "found_on": "2026-11-20",
        "reported_by": "赵班长",
        **overrides,
    }


def treatment_plan(**overrides: Any) -> dict[str, str]:
    return {
        "goal": "消除储罐区泄漏隐患",
        "measures": "更换法兰垫片，增设可燃气体报警器",
        "funds": "12万元，企业自筹",
        "materials": "垫片、报警器 4 台",
        "people": "设备科，负责人钱工",
        "deadline": FAR,
        "safety_measures": "作业区警戒，动火审批",
        "emergency_measures": "泄漏处置预案，应急物资就位",
        **overrides,
    }


def plan(major: bool = False, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "measures": ["重新压接接地线", "每班检查"],
        "responsible_person": "孙主任",
        "responsible_mobile": "13912345678",
        "deadline": FAR,
        "interim_measures": ["设置警示标志"],
        "emergency_plan": "触电事故现场处置方案",
    }
    if major:
        fields["treatment_plan"] = treatment_plan()
    return {**fields, **overrides}


def submission(**overrides: Any) -> dict[str, Any]:
    return {
        "rectified_by": "周电工",
        "completed_on": "2026-11-25",
        "summary": "接地线已压接，测试合格",
        "evidence": evidence("after.jpg"),
        **overrides,
    }


def finding(grade: str = "重大", **overrides: Any) -> dict[str, Any]:
    return {
        "risk_point_id": str(uuid.uuid4()),
        "description": "液氨储罐区无泄漏报警装置",
        "evidence": evidence("inspection.jpg"),
        "grade": grade,
        **overrides,
    }


def known_enterprise(
    app: DangersApplication, enterprise_id: str, supervisors: tuple[str, ...] = (AJ, TOWN)
) -> None:
    """What the registry's events would have told the dangers service about an enterprise."""
    record = EnterpriseRecord(enterprise_id)
    record.profile("枣庄市台儿庄区测试企业1有限公司", "张山子镇")
    record.change_supervisors(list(supervisors))
    coverage = app._coverage()
    coverage.follow(record)
    kinds = app._departments()
    kinds.enter(TOWN, "镇安委会办公室", "张山子镇")
    kinds.enter(AJ, "安监", "")
    app.save(record, coverage, kinds)
