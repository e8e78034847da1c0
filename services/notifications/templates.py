"""Every message the hub sends, in Chinese, in one place. Fields are filled from the causing event."""

from __future__ import annotations

from string import Formatter
from typing import Any

SIGNATURE = "【安全风险报备】"

TEMPLATES: dict[str, str] = {
    # RiskPoint.AdjacentNotificationRequired
    "adjacent_risk": (
        SIGNATURE
        + "{unit}：相邻单位{enterprise}的风险点“{risk_point}”（{location}）为{level}级（{colour}色）风险，"
        "可能导致{accidents}。请知悉并落实相应防范措施。"
    ),
    "adjacent_risk_office": (
        SIGNATURE
        + "{enterprise}的{level}级（{colour}色）风险点“{risk_point}”（{location}）可能导致{accidents}。"
        "其相邻单位{units}未在平台登记，请镇安委会办公室转告。"
    ),
    "adjacent_risk_self": (
        SIGNATURE + "{enterprise}：贵单位风险点“{risk_point}”为{level}级（{colour}色）风险，"
        "相邻单位{units}未在平台登记，请贵单位书面告知并留存回执。"
    ),
    # Several of an enterprise's RiskPoint.AdjacentNotificationRequired in one page (digests.py)
    "adjacent_risk_many": (
        SIGNATURE + "{unit}：相邻单位{enterprise}有{count}处较大及以上风险点：{points}。"
        "请知悉并落实相应防范措施。"
    ),
    "adjacent_risk_office_many": (
        SIGNATURE + "{enterprise}有{count}处较大及以上风险点：{points}。以上相邻单位未在平台登记，"
        "请镇安委会办公室转告。"
    ),
    "adjacent_risk_self_many": (
        SIGNATURE + "{enterprise}：贵单位有{count}处风险点为较大及以上风险：{points}。"
        "以上相邻单位未在平台登记，请贵单位书面告知并留存回执。"
    ),
    # HiddenDanger.EscalatedToResponsible / EscalatedToAuthorities
    "danger_overdue_responsible": (
        SIGNATURE + "{person}：{enterprise}的隐患“{danger}”整改期限{deadline}已过，仍未整改完成，"
        "请立即整改并报送整改结果。"
    ),
    "danger_overdue_authorities": (
        "【隐患逾期督办】{enterprise}的隐患“{danger}”整改期限{deadline}已过，已提醒整改责任人仍未完成，"
        "请{department}督办。"
    ),
    # DeliveryLedger.Recorded (rejected) / Filing.Compiled (re-file)
    "filing_rejected": (
        SIGNATURE + "{enterprise}：贵单位第{version}版“一企一册”被{department}退回，原因：{reason}。"
        "请修改后重新报送。"
    ),
    "register_refile": (
        SIGNATURE + "{enterprise}：风险因素发生变化，已生成第{version}版“一企一册”（{reason}），"
        "请法定代表人签字、加盖单位公章后重新报送。"
    ),
    # EnforcementCase.*
    "enforcement_enterprise": (
        "【执法告知】{enterprise}：{step}。{detail}（文书编号{document_no}，{authority}，{date}）"
    ),
    "enforcement_department": ("【执法进展】{enterprise}：{step}。{detail}（文书编号{document_no}，{date}）"),
    # a town office's reminder to the enterprises that have not filed in its campaign (reminders.py)
    "campaign_reminder": (
        SIGNATURE + "{enterprise}：{campaign}要求于{deadline}前报送“一企一册”，贵单位尚未报送，"
        "请尽快由法定代表人签字、加盖单位公章后报送。"
    ),
    # MonthlyReport.Published
    "report_published": (
        "【每月通报】{town}{month}安全风险报备通报已发布：应报{expected}家，按期报备{filed}家，"
        "逾期报备{late}家，未报备{missing}家，待报备{not_due}家；未整改隐患{open}项，其中逾期{overdue}项；"
        "重大风险一级{level1}处、二级{level2}处。报告文件：{path}"
    ),
}

# What each enforcement step is called, and how its detail reads.
ENFORCEMENT_STEPS: dict[str, tuple[str, str]] = {
    "EnforcementCase.CaseOpened": ("重大隐患已立案查处", "事由：{reason}"),
    "EnforcementCase.PenaltyImposed": (
        "依法顶格处罚",
        # the article, as officials cite it; the violation's code (SAFETY_LAW_102) is the hub's own key
        "依据{legal_basis}，罚款{amount}元",
    ),
    "EnforcementCase.ExposureRecorded": ("予以公开曝光", "曝光媒体：{medium}"),
    "EnforcementCase.Reinspected": ("复查完毕", "复查结论：{verdict}"),
    "EnforcementCase.SuspensionOrdered": ("责令停产整顿", "事由：{reason}"),
    "EnforcementCase.ClosureOrdered": ("提请关闭取缔", "事由：{reason}"),
}


def fields_of(kind: str) -> set[str]:
    """The fields a template needs."""
    return {name for _, name, _, _ in Formatter().parse(TEMPLATES[kind]) if name}


def render(kind: str, **fields: Any) -> str:
    """The message of `kind`; KeyError names a missing field (a template and its caller disagree)."""
    return TEMPLATES[kind].format_map({k: ("" if v is None else v) for k, v in fields.items()})


def enforcement_text(
    type_: str, payload: dict[str, Any], enterprise: str, for_department: bool, authority_name: str = ""
) -> str:
    """The message of one enforcement step, for the enterprise or for the department."""
    step, detail_template = ENFORCEMENT_STEPS[type_]
    record = payload.get("step") or {
        "document_no": payload.get("document_no", ""),
        "authority": payload.get("authority", ""),
        "date": payload.get("ordered_on", ""),
    }
    values = {
        **payload,
        **(payload.get("penalty") or {}),
        "verdict": "仍存在重大隐患" if payload.get("still_major") else "重大隐患已消除",
    }
    kind = "enforcement_department" if for_department else "enforcement_enterprise"
    return render(
        kind,
        enterprise=enterprise,
        step=step,
        detail=detail_template.format_map(values),
        document_no=record["document_no"],
        authority=authority_name or record["authority"],
        date=record["date"],
    )
