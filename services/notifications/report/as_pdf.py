"""The monthly report as an A4 PDF (reportlab): the summary with the month-on-month chart, the filing and
dangers charts, the major risks chart, then the lagging departments and enterprises and the two tables,
one after another (a section starts a new page only when too little of the page is left for it: a
town of two enterprises is a report of two pages, not six).

The charts are matplotlib's (drawn as images); the text and the tables are reportlab's, which sets a town of
thousands of enterprises in a second or two where laying out its glyphs through matplotlib took a minute.
"""

from __future__ import annotations

import functools
import io
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from services.backbone.errors import DomainError
from services.notifications.report import charts, tables

FONT = "hub-cjk"
MARGIN = 1.8 * cm
WIDTH = A4[0] - 2 * MARGIN
HEIGHT = A4[1] - 2 * MARGIN
CHART_DPI = 200
CELL_SIZE = 8.5
CELL_PADDING = 12  # reportlab's default left and right padding of a cell
ROWS_PER_TABLE = 500  # a long table is set as a run of tables: reportlab splits one table page by page


@functools.cache
def font() -> str:
    """Registers the first CJK font reportlab can embed (TrueType outlines) under FONT."""
    for path in charts.cjk_font_files():
        try:
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
        except TTFError:
            continue
        return FONT
    raise DomainError(
        "format", "the PDF report needs a TrueType CJK font on the hub (e.g. fonts-wqy-microhei)"
    )


@functools.cache
def _styles() -> dict[str, ParagraphStyle]:
    face = font()
    return {
        "title": ParagraphStyle("title", fontName=face, fontSize=16, leading=22, alignment=TA_CENTER),
        "note": ParagraphStyle("note", fontName=face, fontSize=10.5, leading=15, alignment=TA_CENTER),
        "h2": ParagraphStyle("h2", fontName=face, fontSize=13, leading=18, spaceBefore=6, spaceAfter=6),
        "h3": ParagraphStyle("h3", fontName=face, fontSize=11, leading=16, spaceBefore=4, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=face, fontSize=CELL_SIZE, leading=10.5, wordWrap="CJK"),
    }


def _text(text: str, style: str) -> Paragraph:
    return Paragraph(escape(str(text)), _styles()[style])


def _chart(report: dict[str, Any], name: str, max_height: float) -> Image:
    """One of the report's charts as an image, as wide as the text or as tall as max_height allows."""
    figure = charts.figure(report, name)
    picture = io.BytesIO(charts.png(figure, CHART_DPI))
    inches_wide, inches_high = figure.get_size_inches()
    scale = min(WIDTH / inches_wide, max_height / inches_high)
    return Image(picture, width=inches_wide * scale, height=inches_high * scale)


def _cell(value: Any, width: float) -> Any:
    """A cell's content: as it is when it fits on one line, else a paragraph that wraps."""
    if isinstance(value, int) or pdfmetrics.stringWidth(value, font(), CELL_SIZE) <= width - CELL_PADDING:
        return value
    return _text(value, "cell")


def _table(headers: list[str], rows: list[list[Any]], widths: list[float]) -> list[Flowable]:
    """A table with its header on every page; text cells wrap, numbers are right-aligned."""
    numeric = [i for i, cell in enumerate(rows[0]) if isinstance(cell, int)] if rows else []
    style = TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), font(), CELL_SIZE),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            *(("ALIGN", (i, 1), (i, -1), "RIGHT") for i in numeric),
        ]
    )
    head = [_cell(h, w) for h, w in zip(headers, widths, strict=True)]
    body = [[_cell(c, w) for c, w in zip(row, widths, strict=True)] for row in rows] or [
        ["无", *[""] * (len(headers) - 1)]
    ]
    flowables: list[Flowable] = []
    for start in range(0, len(body), ROWS_PER_TABLE):
        table = Table([head, *body[start : start + ROWS_PER_TABLE]], colWidths=widths, repeatRows=1)
        table.setStyle(style)
        flowables.append(table)
    return flowables


def _widths(*fractions: float) -> list[float]:
    return [WIDTH * f for f in fractions]


def _section(title: str, room: float) -> list[Flowable]:
    """A section's heading, on a new page only when less than `room` of this one is left."""
    return [CondPageBreak(room), Spacer(1, 0.3 * cm), _text(title, "h2")]


def _story(report: dict[str, Any]) -> list[Flowable]:
    story: list[Flowable] = [
        _text(f"{report['town']}{charts.month_zh(report['month'])}安全风险报备工作通报", "title"),
        _text(f"报备截止日期：{report['deadline']}；统计截至本月末。", "note"),
        Spacer(1, 0.4 * cm),
        *_table(tables.SUMMARY, tables.summary(report), _widths(0.4, 0.2, 0.2, 0.2)),
        Spacer(1, 0.3 * cm),
        _chart(report, "change", HEIGHT * 0.4),
        *_section("统计图表", HEIGHT * 0.3),
        _chart(report, "filing", HEIGHT * 0.4),
        _chart(report, "dangers", HEIGHT * 0.4),
        _chart(report, "risks", HEIGHT * 0.4),
        *_section("工作滞后的部门和企业", HEIGHT * 0.15),
    ]
    for heading, rows in tables.lagging(report):
        story += [_text(heading, "h3"), *_table([heading, "原因"], rows, _widths(0.4, 0.6))]
    story += _section("各部门情况", HEIGHT * 0.15)
    story += _table(tables.DEPARTMENTS, tables.departments(report), _widths(0.16, *[0.84 / 12] * 12))
    story += _section("各企业情况", HEIGHT * 0.15)
    story += _table(
        tables.ENTERPRISES,
        tables.enterprises(report),
        _widths(0.21, 0.21, 0.1, 0.14, 0.11, 0.1, 0.065, 0.065),
    )
    return story


def _page_number(canvas: Any, document: Any) -> None:
    canvas.setFont(font(), 9)
    canvas.drawCentredString(A4[0] / 2, MARGIN / 2, f"第 {document.page} 页")


def render(report: dict[str, Any]) -> bytes:
    """The PDF, byte for byte the same for the same report."""
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{report['town']}{charts.month_zh(report['month'])}每月通报",
        invariant=True,
    )
    document.build(_story(report), onFirstPage=_page_number, onLaterPages=_page_number)
    return buffer.getvalue()
