"""一镇一册 as files: CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill

from services.filing.campaigns import BOOK_COLUMNS

FILLS = {1: "FFC7CE", 2: "FFD8A8"}  # 红, 橙
# what the files say of an enterprise's state: the words officials use, not the stored ones
STATUS = {"operating": "正常生产", "suspended": "停产整顿", "closed": "关闭取缔"}


def _cells(row: dict[str, Any]) -> list[Any]:
    return [
        STATUS.get(row.get(key, ""), "其他") if key == "status" else row.get(key, "")
        for key, _ in BOOK_COLUMNS
    ]


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([title for _, title in BOOK_COLUMNS])
    for row in rows:
        writer.writerow(_cells(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(town: str, rows: list[dict[str, Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "一镇一册"
    sheet.append([f"{town} 重大风险清单（一镇一册）"])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([title for _, title in BOOK_COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_cells(row))
        fill = FILLS.get(row.get("level"))
        if fill:
            for cell in sheet[sheet.max_row]:
                cell.fill = PatternFill("solid", fgColor=fill)
    for column, width in zip(
        "ABCDEFGHIJKLMNO", (28, 22, 20, 18, 8, 6, 24, 8, 40, 16, 10, 14, 24, 30, 10), strict=True
    ):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A3"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
