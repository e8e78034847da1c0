"""The monthly report as one standalone HTML page (charts embedded as PNG)."""

from __future__ import annotations

import base64
import html
from typing import Any

from services.notifications.report import charts, tables

STYLE = (
    "body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em;color:#222}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #999;padding:.3em .6em}"
    "th{background:#f0f0f0}td.n{text-align:right}.lag{color:#b00}img{max-width:100%}"
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{_e(c)}</td>' if isinstance(c, int) else f"<td>{_e(c)}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render(report: dict[str, Any]) -> str:
    title = f"{report['town']}{charts.month_zh(report['month'])}安全风险报备工作通报"
    parts = [
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(title)}</title>',
        f"<style>{STYLE}</style></head><body><h1>{_e(title)}</h1>",
        f"<p>报备截止日期：{_e(report['deadline'])}；统计截至本月末。</p>",
        "<h2>一、总体情况</h2>",
        _table(tables.SUMMARY, tables.summary(report)),
    ]
    for name in charts.NAMES:
        figure = charts.figure(report, name)
        parts.append(
            f'<img class="chart" data-chart="{name}" alt="{_e(charts.TITLES[name])}" '
            f'src="data:image/png;base64,{base64.b64encode(charts.png(figure)).decode("ascii")}">'
        )
    parts.append("<h2>二、各部门情况</h2>")
    parts.append(_table(tables.DEPARTMENTS, tables.departments(report)))
    parts.append("<h2>三、各企业情况</h2>")
    parts.append(_table(tables.ENTERPRISES, tables.enterprises(report)))
    parts.append('<h2 class="lag">四、工作滞后的部门和企业</h2>')
    for heading, rows in tables.lagging(report):
        listed = "".join(f"<li>{_e(name)}：{_e(reasons)}</li>" for name, reasons in rows) or "<li>无</li>"
        parts.append(f'<h3>{heading}</h3><ul class="lagging" data-kind="{heading}">{listed}</ul>')
    parts.append("</body></html>\n")
    return "".join(parts)
