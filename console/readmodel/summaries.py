"""Each published event as one line of Chinese, for the timelines (an auditor's, a danger's)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from services.kernel.reasons import reason_zh

Names = Callable[[str], str]  # department code → its name
STORES = {
    "registry": "企业登记",
    "riskpoints": "风险点",
    "dangers": "隐患与执法",
    "filing": "报备",
    "notifications": "通知与通报",
    "audit": "审计",
}
ROLES = {"legal_representative": "法定代表人", "enterprise_seal": "企业公章"}
SOURCES = {"self_inspection": "企业自查", "government_inspection": "政府检查"}
OUTCOMES = {"delivered": "已送达", "acknowledged": "已签收", "rejected": "已退回", "parked": "投递暂停"}
FIELDS = {
    "name": "名称",
    "uscc": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "legal_representative_mobile": "法定代表人电话",
    "industry": "行业",
    "address": "地址",
    "town": "所在镇",
    "contacts": "联系人",
    "location": "位置",
    "category": "类别",
    "accident_types": "事故类型",
    "responsible_unit": "责任单位",
    "responsible_person": "责任人",
    "responsible_mobile": "责任人电话",
    "control_measures": "管控措施",
    "emergency_measures": "应急措施",
    "adjacent_units": "相邻单位",
    "control_tier": "管控层级",
    "control_tier_override": "管控层级",
}


def _fields(changes: dict[str, Any]) -> str:
    return "、".join(dict.fromkeys(FIELDS.get(k, "其他") for k in changes)) or "—"


def _order(p: dict[str, Any]) -> str:
    parts = [p.get("document_no", ""), p.get("authority", ""), p.get("ordered_on", "")]
    return "，".join(x for x in parts if x)


def _step(p: dict[str, Any], names: Names) -> str:
    step = p.get("step") or {}
    return "，".join(
        x for x in (step.get("document_no", ""), names(step.get("authority", "")), step.get("date", "")) if x
    )


def _answer(p: dict[str, Any], move: dict[str, Any], names: Names) -> str:
    return (
        f"{names(move.get('department', ''))}：第{p.get('version')}版"
        f"{OUTCOMES.get(move.get('outcome', ''), '')}"
        + (f"（{move['reason']}）" if move.get("outcome") == "rejected" and move.get("reason") else "")
    )


def _answers(p: dict[str, Any], names: Names) -> str:
    """One department's answer as a line of its own; several: how many answered so, and the
    rejections' reasons."""
    moves = p.get("moves") or []
    if len(moves) == 1:
        return _answer(p, moves[0], names)
    counts = Counter(str(m.get("outcome", "")) for m in moves)
    said = "，".join(f"{count}个部门{OUTCOMES.get(outcome, outcome)}" for outcome, count in counts.items())
    why = "；".join(
        f"{names(m.get('department', ''))}：{m['reason']}"
        for m in moves
        if m.get("outcome") == "rejected" and m.get("reason")
    )
    return f"第{p.get('version')}版：{said}" + (f"（{why}）" if why else "")


LINES: dict[str, Callable[[dict[str, Any], Names], str]] = {
    "Enterprise.Registered": lambda p, _: (
        f"企业登记：{p.get('name', '')}（{p.get('uscc', '')}），{p.get('town', '')}"
    ),
    "Enterprise.ProfileUpdated": lambda p, _: f"企业信息变更：{_fields(p.get('changes') or {})}",
    "Enterprise.SupervisorsAssigned": lambda p, n: (
        "监管部门：" + ("、".join(n(c) for c in p.get("departments") or []) or "无")
    ),
    "Enterprise.PublicKeyRegistered": lambda p, _: (
        f"登记签名公钥（{ROLES.get(p.get('role', ''), '签名人')}）"
    ),
    "Enterprise.ProductionSuspended": lambda p, _: f"责令停产整顿（{_order(p)}）",
    "Enterprise.ProductionResumed": lambda p, _: f"恢复生产（{_order(p)}）",
    "Enterprise.Closed": lambda p, _: f"关闭取缔（{_order(p)}）",
    "RiskPoint.Identified": lambda p, _: (
        f"辨识风险点“{p.get('name', '')}”（{p.get('location', '')}），"
        f"{p.get('level', '')}级（{p.get('colour', '')}色）"
    ),
    "RiskPoint.Assessed": lambda p, _: f"风险点评估为{p.get('level', '')}级（{p.get('colour', '')}色）",
    "RiskPoint.Updated": lambda p, _: f"风险点信息变更：{_fields(p.get('changes') or {})}",
    "RiskPoint.Retired": lambda p, _: f"风险点停用：{p.get('reason') or '未说明原因'}",
    "RiskPoint.AdjacentNotificationRequired": lambda p, _: (
        f"告知相邻单位：风险点“{p.get('name', '')}”，{'、'.join(p.get('adjacent_units') or []) or '—'}"
    ),
    "HiddenDanger.Reported": lambda p, n: (
        f"报告隐患（{SOURCES.get(p.get('source', ''), '')}"
        f"{'，' + n(p['finding']['department']) if (p.get('finding') or {}).get('department') else ''}）："
        f"{(p.get('finding') or {}).get('description', '')}"
    ),
    "HiddenDanger.Assessed": lambda p, _: f"评估为{p.get('grade', '')}隐患",
    "HiddenDanger.RectificationPlanned": lambda p, _: (
        f"制定整改方案，整改期限{(p.get('plan') or {}).get('deadline', '')}"
    ),
    "HiddenDanger.RectificationSubmitted": lambda p, _: (
        f"提交整改结果（{(p.get('submission') or {}).get('completed_on', '')}）"
    ),
    "HiddenDanger.Verified": lambda p, _: f"验收通过（{(p.get('decision') or {}).get('on', '')}）",
    "HiddenDanger.SentBack": lambda p, _: (
        f"退回重新整改：{(p.get('decision') or {}).get('remarks', '') or '未说明'}"
    ),
    "HiddenDanger.Closed": lambda p, _: "隐患销号",
    "HiddenDanger.Overdue": lambda p, _: f"整改逾期（期限{p.get('deadline', '')}）",
    "HiddenDanger.EscalatedToResponsible": lambda p, _: "逾期提醒整改责任人",
    "HiddenDanger.EscalatedToAuthorities": lambda p, _: "逾期未改，上报镇安委会办公室和监管部门",
    "EnforcementCase.CaseOpened": lambda p, n: f"立案：{p.get('reason', '')}（{_step(p, n)}）",
    "EnforcementCase.PenaltyImposed": lambda p, n: (
        f"顶格处罚：依据{(p.get('penalty') or {}).get('legal_basis', '')}，"
        f"罚款{(p.get('penalty') or {}).get('amount', '')}元（{_step(p, n)}）"
    ),
    "EnforcementCase.ExposureRecorded": lambda p, n: f"公开曝光：{p.get('medium', '')}（{_step(p, n)}）",
    "EnforcementCase.Reinspected": lambda p, n: (
        "复查：" + ("仍存在重大隐患" if p.get("still_major") else "重大隐患已消除") + f"（{_step(p, n)}）"
    ),
    "EnforcementCase.SuspensionOrdered": lambda p, _: f"责令停产整顿：{p.get('reason', '')}（{_order(p)}）",
    "EnforcementCase.ClosureOrdered": lambda p, _: f"提请关闭取缔：{p.get('reason', '')}（{_order(p)}）",
    "Inspection.Recorded": lambda p, n: (
        f"{n(p.get('department', ''))}检查（{p.get('document_no', '')}，"
        f"{p.get('inspected_on', '')}），发现隐患{len(p.get('danger_ids') or [])}项"
    ),
    "Filing.Compiled": lambda p, _: f"编制第{p.get('version')}版一企一册（{reason_zh(p.get('reason', ''))}）",
    "Filing.Submitted": lambda p, _: (
        f"报送第{p.get('version')}版一企一册，送{len(p.get('departments') or [])}个部门"
    ),
    "Filing.Superseded": lambda p, _: f"被第{p.get('by_version')}版取代",
    "FilingDelivery.Recorded": lambda p, n: _answer(p, p, n),
    "DeliveryLedger.Recorded": lambda p, n: _answers(p, n),
}


def summary(type_: str, payload: dict[str, Any], names: Names) -> str:
    """One line about the event; its type's place in the hub when there is no line for it."""
    line = LINES.get(type_)
    if line is None:
        return "其他事件"
    try:
        return line(payload, names)
    except (KeyError, TypeError, AttributeError):  # an older payload without a field: still listed
        return "其他事件"
