"""The report's charts (matplotlib figures, no pyplot: safe in any thread).

matplotlib is imported when a chart is drawn, not with this module: the notifications stream process
(its monthly timer) and service import the report, and matplotlib with numpy took ~45 MB of each
process's memory from the start, for a report made once a month."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
from typing import TYPE_CHECKING, Any

from services.backbone.errors import DomainError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

COLOURS = {
    "filed": "#2ca02c",
    "late": "#ff7f0e",
    "missing": "#d62728",
    "not_due": "#bdbdbd",
    "open_dangers": "#1f77b4",
    "overdue_dangers": "#9467bd",
    "level1": "#d7191c",
    "level2": "#f28e2b",
    "previous": "#9e9e9e",
    "current": "#17becf",
}
LABELS = {
    "enterprises": "应报企业",
    "filed": "按期报备",
    "late": "逾期报备",
    "missing": "未报备",
    "not_due": "待报备",
    "open_dangers": "未整改隐患",
    "overdue_dangers": "逾期隐患",
    "major_dangers": "重大隐患",
    "level1": "一级（红）",
    "level2": "二级（橙）",
    "previous": "上月",
    "current": "本月",
}


@functools.cache
def cjk_font_files() -> tuple[str, ...]:
    """The font files with Chinese glyphs fontconfig knows of; the Makefile's setup installs one."""
    files: list[str] = []
    if shutil.which("fc-list"):
        found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, timeout=10)
        files = sorted(line.split(":")[0].strip() for line in found.stdout.splitlines() if line.strip())
    if not files:
        raise DomainError("format", "the report needs a CJK font on the hub (e.g. fonts-wqy-microhei)")
    return tuple(files)


@functools.cache
def cjk_font() -> FontProperties:
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=cjk_font_files()[0])


def _series(report: dict[str, Any], name: str) -> tuple[str, list[str], dict[str, list[int]], bool]:
    """(title, bar names, values per key, stacked) of one chart."""
    depts = report["departments"]
    names = [d["name"] for d in depts]
    if name == "change":
        shown = [k for k in LABELS if k not in ("enterprises", "previous", "current")]
        previous = report.get("previous", {})
        before = previous.get("totals", {})
        values = {
            "previous": [before.get(k, 0) for k in shown],
            "current": [report["totals"][k] for k in shown],
        }
        return (
            f"与上月（{month_zh(previous.get('month', ''))}）对比",
            [LABELS[k] for k in shown],
            values,
            False,
        )
    title, keys, stacked = {
        "filing": ("各部门监管企业报备进度", ("filed", "late", "missing", "not_due"), True),
        "dangers": ("各部门监管企业隐患整改情况", ("open_dangers", "overdue_dangers"), False),
        "risks": ("各部门重大风险（一、二级风险点）", ("level1", "level2"), True),
    }[name]
    return title, names, {k: [d[k] for d in depts] for k in keys}, stacked


def draw(axes: Axes, report: dict[str, Any], name: str) -> None:
    """Draws one chart (filing, dangers, risks or change) into the axes: horizontal bars."""
    face = cjk_font()
    title, names, series, stacked = _series(report, name)
    axes.set_title(title, fontproperties=face, size=13)
    if not names:
        axes.text(
            0.5, 0.5, "本月无数据", fontproperties=face, ha="center", va="center", transform=axes.transAxes
        )
        axes.set_axis_off()
        return
    positions = list(range(len(names)))
    height = 0.8 if stacked else 0.8 / len(series)
    left = [0] * len(names)
    for i, (key, values) in enumerate(series.items()):
        offsets = positions if stacked else [p - 0.4 + height * (i + 0.5) for p in positions]
        axes.barh(
            offsets,
            values,
            height=height,
            left=left if stacked else None,
            color=COLOURS[key],
            label=LABELS.get(key, key),
        )
        if stacked:
            left = [a + b for a, b in zip(left, values, strict=True)]
    axes.set_yticks(positions, labels=names, fontproperties=face)
    axes.invert_yaxis()
    # counts start at 0: an all-zero chart keeps 0..1 (matplotlib would centre it on 0, showing
    # negative counts), and the longest bar leaves room for nothing else to sit on
    longest = max(left) if stacked else max((max(v) for v in series.values()), default=0)
    axes.set_xlim(0, max(1, longest * 1.05))
    from matplotlib.ticker import MaxNLocator

    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    # the legend under the chart, outside the bars: inside the axes it covered the longest ones
    axes.legend(
        prop=face,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.12),
        ncol=len(series),
        frameon=False,
        fontsize=9,
    )


NAMES = ("filing", "dangers", "risks", "change")
TITLES = {"filing": "报备进度", "dangers": "隐患整改", "risks": "重大风险", "change": "与上月对比"}


def month_zh(month: str) -> str:
    """'2016-09' → '2016年9月' ('—' when there is none)."""
    year, _, number = month.partition("-")
    return f"{int(year)}年{int(number)}月" if year.isdigit() and number.isdigit() else "—"


def figure(report: dict[str, Any], name: str) -> Figure:
    """One chart on a figure of its own (the HTML report embeds them)."""
    from matplotlib.figure import Figure

    rows = len(report["departments"]) if name != "change" else len(LABELS) - 3
    found = Figure(figsize=(8.0, max(2.8, 0.45 * rows + 2.0)))
    draw(found.add_subplot(), report, name)
    found.tight_layout()
    return found


def png(figure: Figure, dpi: float | None = None) -> bytes:
    """A chart as PNG, at the figure's own resolution unless `dpi` is given."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if dpi is not None:
        figure.set_dpi(dpi)
    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()
