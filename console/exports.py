"""一镇一册 as files: CSV (UTF-8 with BOM, which spreadsheet programs read as Chinese) and XLSX
(console/xlsx.py: a town's book of tens of thousands of lines in a second or two)."""

from __future__ import annotations

import csv
import io
from typing import Any

from console import xlsx
from console.web.labels import COLOUR_NAMES, ENTERPRISE_STATUS, LEVELS

COLUMNS: tuple[tuple[str, str, int], ...] = (  # key, title, width
    ("enterprise_name", "企业名称", 30),
    ("uscc", "统一社会信用代码", 22),
    ("name", "风险点", 22),
    ("location", "位置", 16),
    ("level", "风险等级", 12),
    ("colour", "颜色", 6),
    ("accident_types", "可能导致的事故类型", 24),
    ("control_tier", "管控层级", 8),
    ("control_measures", "管控措施", 40),
    ("responsible_unit", "责任单位", 16),
    ("responsible_person", "责任人", 10),
    ("responsible_mobile", "联系电话", 14),
    ("departments", "监管部门", 28),
    ("major_dangers", "重大隐患", 30),
    ("enterprise_status", "企业状态", 10),
)
FILL = {1: 1, 2: 2}  # a level-1 line is filled 红, a level-2 line 橙 (console/xlsx.py)


def cells(row: dict[str, Any]) -> list[str]:
    """A line of the book as the file shows it: Chinese words, never the stored codes."""
    values = []
    for key, _, _ in COLUMNS:
        value = row.get(key, "")
        if key == "level":
            value = f"{value}级（{LEVELS.get(int(value), '')}）" if value else ""
        elif key == "colour":
            value = COLOUR_NAMES.get(int(row.get("level") or 0), value or "")
        elif key == "enterprise_status":
            value = ENTERPRISE_STATUS.get(str(value or "operating"), "其他")
        elif key == "major_dangers":
            value = "；".join(value or []) or "无"
        values.append("" if value is None else str(value))
    return values


def book_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title, _ in COLUMNS])
    for row in rows:
        writer.writerow(cells(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def book_xlsx(title: str, rows: list[dict[str, Any]]) -> bytes:
    return xlsx.workbook(
        "一镇一册",
        f"{title}（重大风险清单）",
        [name for _, name, _ in COLUMNS],
        [width for _, _, width in COLUMNS],
        ((cells(row), FILL.get(int(row.get("level") or 0), 0)) for row in rows),
    )
