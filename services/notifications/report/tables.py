"""The report's tables as rows (headers and cells): the HTML and the PDF lay out the same ones."""

from __future__ import annotations

from typing import Any

from services.notifications.report import charts

STATUS = {"filed": "按期报备", "late": "逾期报备", "missing": "未报备", "not_due": "待报备"}

SUMMARY = ["指标", "本月", "上月", "变化"]
DEPARTMENTS = [
    "部门",
    "监管企业",
    "按期",
    "逾期",
    "未报",
    "待报",
    "已签收",
    "退回",
    "待签收",
    "未整改隐患",
    "逾期隐患",
    "一级",
    "二级",
]
ENTERPRISES = ["企业", "统一社会信用代码", "报备", "退回部门", "未整改隐患", "逾期隐患", "一级", "二级"]
DEPARTMENT_KEYS = (
    "enterprises",
    "filed",
    "late",
    "missing",
    "not_due",
    "acknowledged",
    "rejected",
    "pending",
    "open_dangers",
    "overdue_dangers",
    "level1",
    "level2",
)


def summary(report: dict[str, Any]) -> list[list[Any]]:
    previous = report.get("previous", {}).get("totals", {})
    change = report.get("change", {})
    return [
        [
            charts.LABELS[k],
            report["totals"][k],
            previous.get(k, "—"),
            f"{change.get(k, 0):+d}" if change else "—",
        ]
        for k in report["totals"]
    ]


def departments(report: dict[str, Any]) -> list[list[Any]]:
    return [[d["name"], *(d[k] for k in DEPARTMENT_KEYS)] for d in report["departments"]]


def enterprises(report: dict[str, Any]) -> list[list[Any]]:
    names = {d["code"]: d["name"] for d in report["departments"]}
    return [
        [
            e["name"],
            e.get("uscc", ""),
            STATUS[e["filing"]],
            "、".join(names.get(code, code) for code in e["rejected_by"]) or "—",
            e["open_dangers"],
            e["overdue_dangers"],
            e["level1"],
            e["level2"],
        ]
        for e in report["enterprises"]
    ]


def lagging(report: dict[str, Any]) -> list[tuple[str, list[list[str]]]]:
    """(heading, [name, reasons]) of the lagging departments, then of the lagging enterprises (each
    enterprise with its credit code: two may bear the same name)."""
    return [
        (heading, [[_named(i), "；".join(i["reasons"])] for i in report["lagging"][key]])
        for heading, key in (("部门", "departments"), ("企业", "enterprises"))
    ]


def _named(item: dict[str, Any]) -> str:
    return f"{item['name']}（{item['uscc']}）" if item.get("uscc") else str(item["name"])
