"""What officials read in the monthly report is clean: no negative counts on an empty chart, a legend
that covers no bar, 待报备 for enterprises whose deadline is still to come, credit codes beside names,
department names (not codes), and a short report for a small town."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.notifications import config
from services.notifications.report import as_pdf, charts, publish, tables
from services.notifications.report.facts import gather, period
from services.notifications.report.figures import compute
from tests.notifications_data import TOWN
from tests.notifications_seed import Seeded, seed

MONTH = "2026-10"


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    found = seed()
    yield found
    found.close()


@pytest.fixture(scope="module")
def report(seeded: Seeded) -> dict[str, Any]:
    return publish.build(seeded.notifications, config.load(), TOWN, MONTH)


def drawn(report: dict[str, Any], name: str) -> Any:
    figure = charts.figure(report, name)
    charts.png(figure)  # laid out and drawn, as the report draws it
    return figure


def test_an_all_zero_chart_counts_from_zero(report: dict[str, Any]) -> None:
    empty = dict(
        report,
        departments=[
            dict(d, **dict.fromkeys(("open_dangers", "overdue_dangers"), 0)) for d in report["departments"]
        ],
    )
    axes = drawn(empty, "dangers").axes[0]
    low, high = axes.get_xlim()
    assert low == 0 and high >= 1
    assert all(tick >= 0 for tick in axes.get_xticks() if low <= tick <= high)


def test_the_legend_covers_no_bar(report: dict[str, Any]) -> None:
    # every department as busy as the busiest: the bars reach the chart's right edge on every row
    full = dict(
        report,
        departments=[
            dict(report["departments"][1], code=d["code"], name=d["name"]) for d in report["departments"]
        ],
    )
    for name in ("filing", "dangers", "risks", "change"):
        figure = drawn(full, name)
        axes = figure.axes[0]
        renderer = figure.canvas.get_renderer()
        legend = axes.get_legend().get_window_extent(renderer)
        bars = [p.get_window_extent(renderer) for p in axes.patches if p.get_width() > 0]
        assert bars and not any(legend.overlaps(bar) for bar in bars), name


def test_enterprises_not_yet_due_are_to_be_filed_not_missing(seeded: Seeded) -> None:
    facts = gather(seeded.notifications, TOWN)
    month = period(facts, MONTH, config.load())
    before_deadline = compute(facts, month, 0.8, now="2026-10-10T00:00:00.000000+00:00")
    after_deadline = compute(facts, month, 0.8, now="2026-10-20T00:00:00.000000+00:00")
    assert before_deadline["totals"]["not_due"] == 1 and before_deadline["totals"]["missing"] == 0
    assert after_deadline["totals"]["not_due"] == 0 and after_deadline["totals"]["missing"] == 1
    statuses = {row[2] for row in tables.enterprises(before_deadline)}
    assert "待报备" in statuses and "未报备" not in statuses
    assert all(name != "未报备" for e in before_deadline["lagging"]["enterprises"] for name in e["reasons"])


def test_tables_show_credit_codes_and_department_names(report: dict[str, Any]) -> None:
    codes = {d["code"] for d in report["departments"]}
    for row in tables.enterprises(report):
        assert re.fullmatch(r"[0-9A-Z]{18}", row[1]), row
        assert not set(row[3].split("、")) & codes, row  # 退回部门 by name
    for _, rows in tables.lagging(report):
        for name, _reasons in rows:
            assert not name.endswith("公司") or re.search(r"（[0-9A-Z]{18}）$", name), name


def test_a_report_of_two_enterprises_is_a_few_pages(report: dict[str, Any], tmp_path: Path) -> None:
    small = dict(report, enterprises=report["enterprises"][:2])
    pdf = tmp_path / "small.pdf"
    pdf.write_bytes(as_pdf.render(small))
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info)[1]) <= 3  # type: ignore[index]
