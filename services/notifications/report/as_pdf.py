"""The monthly report as an A4 PDF (matplotlib's PdfPages): the summary with the month-on-month chart,
the filing and dangers charts, the major risks chart, then the lagging lists and the tables."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from services.notifications.report import charts
from services.notifications.report.as_html import STATUS, summary_rows

A4 = (8.27, 11.69)
LINES_PER_PAGE = 44


def _page(title: str) -> Figure:
    figure = Figure(figsize=A4)
    figure.text(0.5, 0.96, title, fontproperties=charts.cjk_font(), size=16, ha="center", va="top")
    return figure


def summary_page(report: dict[str, Any]) -> Figure:
    face = charts.cjk_font()
    figure = _page(f"{report['town']}{report['month']}安全风险报备工作通报")
    figure.text(
        0.5, 0.92, f"报备截止日期：{report['deadline']}；统计截至本月末。", fontproperties=face, ha="center"
    )
    axes = figure.add_axes((0.15, 0.58, 0.7, 0.3))
    axes.set_axis_off()
    table = axes.table(
        cellText=[[str(c) for c in row] for row in summary_rows(report)],
        colLabels=["指标", "本月", "上月", "变化"],
        loc="upper center",
        cellLoc="center",
    )
    table.scale(1, 1.5)
    for cell in table.get_celld().values():
        cell.get_text().set_fontproperties(face)
    charts.draw(figure.add_axes((0.25, 0.08, 0.65, 0.42)), report, "change")
    return figure


def charts_page(report: dict[str, Any], names: tuple[str, ...]) -> Figure:
    figure = _page("统计图表")
    height = 0.84 / max(len(names), 2)
    for i, name in enumerate(names):
        bottom = 0.92 - height * (i + 1) + 0.06
        charts.draw(figure.add_axes((0.28, bottom, 0.64, height - 0.1)), report, name)
    return figure


def _text_pages(title: str, lines: list[str]) -> list[Figure]:
    face = charts.cjk_font()
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [["无"]]
    pages = []
    for number, chunk in enumerate(chunks):
        figure = _page(title if number == 0 else f"{title}（续）")
        for row, line in enumerate(chunk):
            figure.text(0.07, 0.9 - row * 0.019, line, fontproperties=face, size=10.5, va="top")
        pages.append(figure)
    return pages


def _cut(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_pages(report: dict[str, Any]) -> list[Figure]:
    lagging = ["部门："] + [
        _cut(f"　{d['name']}：{'；'.join(d['reasons'])}") for d in report["lagging"]["departments"]
    ]
    lagging += ["", "企业："] + [
        _cut(f"　{e['name']}：{'；'.join(e['reasons'])}") for e in report["lagging"]["enterprises"]
    ]
    departments = [
        _cut(
            f"{d['name']}：监管{d['enterprises']}家，按期{d['filed']}、逾期{d['late']}、未报{d['missing']}；"
            f"退回{d['rejected']}；隐患{d['open_dangers']}项（逾期{d['overdue_dangers']}）；"
            f"一级{d['level1']}、二级{d['level2']}"
        )
        for d in report["departments"]
    ]
    enterprises = [
        _cut(
            f"{e['name']}：{STATUS[e['filing']]}；隐患{e['open_dangers']}项（逾期{e['overdue_dangers']}）；"
            f"一级{e['level1']}、二级{e['level2']}"
        )
        for e in report["enterprises"]
    ]
    return [
        *_text_pages("工作滞后的部门和企业", lagging),
        *_text_pages("各部门情况", departments),
        *_text_pages("各企业情况", enterprises),
    ]


def render(report: dict[str, Any]) -> bytes:
    """The PDF: summary and change chart; filing and dangers charts; major risks; lists and tables."""
    figures = [
        summary_page(report),
        charts_page(report, ("filing", "dangers")),
        charts_page(report, ("risks",)),
        *table_pages(report),
    ]
    buffer = io.BytesIO()
    metadata = {"Title": f"{report['town']}{report['month']}每月通报", "CreationDate": None}
    with PdfPages(buffer, metadata=metadata) as pdf:
        for figure in figures:
            pdf.savefig(figure)
    return buffer.getvalue()
