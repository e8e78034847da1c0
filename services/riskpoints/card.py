"""The post warning card (岗位风险告知卡) of a risk point, as standalone HTML or an A4 PDF."""

from __future__ import annotations

import functools
import html
import io
import shutil
import subprocess
from typing import Any

from services.backbone.errors import DomainError, ValidationError

COLOURS = {1: "#d7191c", 2: "#f28e2b", 3: "#f5d000", 4: "#2b83ba"}
EMERGENCY_NUMBERS = "火警 119　急救 120　报警 110"


def rows(point: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """The card's rows: a label and its lines, in the order they are posted."""
    a = point["assessment"]
    return [
        ("风险点名称", [point["name"]]),
        ("所在位置", [point["location"]]),
        ("风险类别", [point["category"]]),
        ("风险等级", [f"{point['level']} 级 · {point['level_label']}（{point['colour']}色）"]),
        ("评估", [f"{a['method']} 法，{'D' if a['method'] == 'LEC' else 'R'} = {a['value']}"]),
        ("管控层级", [point["control_tier"]]),
        ("可能导致的事故", ["、".join(point["accident_types"])]),
        ("管控措施", [f"【{m['type']}】{m['description']}" for m in point["control_measures"]]),
        ("应急处置措施", list(point["emergency_measures"])),
        ("责任单位", [point["responsible_unit"]]),
        ("责任人 / 电话", [f"{point['responsible_person']}　{point['responsible_mobile']}"]),
        ("应急电话", [EMERGENCY_NUMBERS]),
    ]


def render_html(point: dict[str, Any], enterprise_name: str = "") -> str:
    colour = COLOURS[int(point["level"])]
    body = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{'<br>'.join(html.escape(str(v)) for v in lines)}</td></tr>"
        for label, lines in rows(point)
    )
    title = html.escape(f"岗位风险告知卡 · {point['name']}")
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>'
        "<style>body{font-family:'WenQuanYi Micro Hei','Noto Sans CJK SC',sans-serif;margin:2em}"
        f"h1{{background:{colour};color:#fff;padding:.4em;text-align:center;margin:0}}"
        "table{border-collapse:collapse;width:100%}th,td{border:1px solid #333;padding:.5em;text-align:left}"
        "th{width:9em;background:#f2f2f2}</style></head><body>"
        f'<h1 data-level="{int(point["level"])}">岗位风险告知卡</h1>'
        f"<p>{html.escape(enterprise_name)}　风险点编号 {html.escape(point['external_id'])}</p>"
        f"<table>{body}</table></body></html>\n"
    )


@functools.cache
def cjk_font() -> str | None:
    """The file of a font with Chinese glyphs (fontconfig's choice), or None."""
    if shutil.which("fc-list") is None:
        return None
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10)
    files = sorted(line.split(":")[0].strip() for line in found.stdout.splitlines() if line.strip())
    return files[0] if files else None


def _wrap(text: str, width: float) -> list[str]:
    """Breaks text so each line is at most `width` wide (a CJK character counts 1, ASCII ½)."""
    lines, line, used = [], "", 0.0
    for ch in text:
        w = 0.5 if ord(ch) < 0x2E80 else 1.0
        if used + w > width:
            lines.append(line)
            line, used = "", 0.0
        line, used = line + ch, used + w
    return [*lines, line]


# The PDF card is laid out as the HTML card is: a table, its borders #333, its label column shaded #f2f2f2.
BORDER, SHADE = "#333333", "#f2f2f2"
LEFT, SPLIT, RIGHT = 0.06, 0.27, 0.94  # the table's edges and the label column's (figure fractions)
LINE, PAD = 0.022, 0.008  # a text line's height and a cell's padding
BOTTOM = 0.05


def _cell(figure: Any, x0: float, x1: float, top: float, height: float, fill: str) -> None:
    from matplotlib.patches import Rectangle

    figure.patches.append(
        Rectangle(
            (x0, top - height),
            x1 - x0,
            height,
            transform=figure.transFigure,
            facecolor=fill,
            edgecolor=BORDER,
            linewidth=0.8,
        )
    )


def render_pdf(point: dict[str, Any], enterprise_name: str = "") -> bytes:
    font = cjk_font()
    if font is None:
        raise DomainError("format", "PDF cards need a CJK font on the hub (e.g. fonts-wqy-microhei)")
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.patches import Rectangle

    face = FontProperties(fname=font)
    figure = Figure(figsize=(8.27, 11.69))
    figure.patches.append(
        Rectangle(
            (LEFT, 0.9), RIGHT - LEFT, 0.06, transform=figure.transFigure, color=COLOURS[int(point["level"])]
        )
    )
    figure.text(
        0.5, 0.93, "岗位风险告知卡", fontproperties=face, size=26, ha="center", va="center", color="white"
    )
    figure.text(
        LEFT, 0.875, f"{enterprise_name}　风险点编号 {point['external_id']}", fontproperties=face, size=10
    )
    top = 0.86
    for label, values in rows(point):
        lines = [part for value in values for part in _wrap(str(value), 30)] or [""]
        room = int((top - BOTTOM - 2 * PAD) / LINE)
        if room < 1:
            break  # the page is full; the hub holds the rest
        if len(lines) > room:  # the last row that fits says there is more
            lines = [*lines[: room - 1], "……"]
        height = len(lines) * LINE + 2 * PAD
        _cell(figure, LEFT, SPLIT, top, height, SHADE)
        _cell(figure, SPLIT, RIGHT, top, height, "white")
        figure.text(LEFT + 0.012, top - PAD, label, fontproperties=face, size=12, weight="bold", va="top")
        for i, line in enumerate(lines):
            figure.text(SPLIT + 0.012, top - PAD - i * LINE, line, fontproperties=face, size=12, va="top")
        top -= height
    buffer = io.BytesIO()
    FigureCanvasPdf(figure).print_pdf(buffer, metadata={"Title": f"岗位风险告知卡 {point['name']}"})
    return buffer.getvalue()


def render(point: dict[str, Any], format_: str, enterprise_name: str = "") -> tuple[str, bytes, str]:
    """(content type, content, file name) of the card in `format_` ("html" or "pdf")."""
    stem = f"warning-card-{point['external_id']}"
    if format_ == "pdf":
        return "application/pdf", render_pdf(point, enterprise_name), f"{stem}.pdf"
    if format_ == "html":
        return "text/html; charset=utf-8", render_html(point, enterprise_name).encode("utf-8"), f"{stem}.html"
    raise ValidationError("format", "must be html or pdf")
