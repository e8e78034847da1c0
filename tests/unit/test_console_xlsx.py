"""The console's XLSX writer: what a spreadsheet program (here openpyxl) reads back is what was written."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from console import xlsx


def test_columns_are_lettered_as_spreadsheets_letter_them() -> None:
    assert [xlsx.column(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_text_fills_widths_and_the_frozen_header_read_back() -> None:
    rows = [
        (["<甲&乙>", "  前后空格  ", "控制\x01字符\x0b"], 1),
        (["二级", "", None], 2),
        (["三级", "3", "x"], 0),
    ]
    content = xlsx.workbook("清单", "标题", ["一", "二", "三"], [10, 20, 30], rows)
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "清单" and sheet["A1"].value == "标题" and sheet["A1"].font.b
    assert [c.value for c in sheet[2]] == ["一", "二", "三"] and sheet["B2"].font.b
    assert [c.value for c in sheet[3]] == ["<甲&乙>", "  前后空格  ", "控制字符"]  # XML-invalid ones dropped
    assert [c.value for c in sheet[4]] == ["二级", None, None]
    assert sheet["A3"].fill.fgColor.rgb == "FFFFC7CE" and sheet["A4"].fill.fgColor.rgb == "FFFFD8A8"
    assert sheet["A5"].fill.fill_type is None
    assert sheet.freeze_panes == "A3" and sheet.column_dimensions["C"].width == 30
