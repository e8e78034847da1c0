"""The monthly report (每月通报) of a seeded month: its figures, files, publication and timer."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import subprocess
import weakref
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from services.backbone.relay import envelopes_after
from services.backbone.settings import Settings
from services.notifications import config
from services.notifications.report import as_pdf, facts, publish
from services.notifications.report.timer import ReportTimer
from services.notifications.views import DIRECTORY_ID, Directory, EnterpriseCard
from tests.notifications_data import AJ, TOWN, TOWN_OFFICE, ZJ, Feed, answer, submit
from tests.notifications_seed import Seeded, seed, totals

MONTH = "2026-10"
CST = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    found = seed()
    yield found
    found.close()


@pytest.fixture(scope="module")
def report(seeded: Seeded) -> dict[str, Any]:
    return publish.build(seeded.notifications, config.load(), TOWN, MONTH)


def test_the_province_s_directory_is_let_go_before_the_town_s_ledgers_are_read(seeded: Seeded) -> None:
    """A province's directory (every enterprise's name) is not held beside a town's ledgers."""
    app = seeded.notifications
    found: list[weakref.ref[Any]] = []
    alive_while_reading: list[bool] = []
    get_many = app.get_many

    def reading(ids: Any) -> Any:
        ids = list(ids)
        if DIRECTORY_ID in ids:
            read = get_many(ids)
            found.append(weakref.ref(read[DIRECTORY_ID]))
            return read
        alive_while_reading.append(any(ref() is not None for ref in found))
        return get_many(ids)

    app.get_many = reading  # type: ignore[method-assign]
    try:
        gathered = facts.gather(app, TOWN)
    finally:
        del app.get_many
    assert found and gathered.enterprises and alive_while_reading == [False] * len(alive_while_reading) != []


def test_the_totals_and_the_change_against_the_previous_month(report: dict[str, Any]) -> None:
    # October: E1..E4 (E5 closed in September). Filed by the 15th: E1 (09-10), E4 (10-10); E2 late
    # (10-20); E3 missing. Open: A (overdue since 10-05) and C (major); B was closed. Level 1: E1's
    # (E3's was retired); level 2: E1's second (E2's was re-graded to 3).
    assert report["deadline"] == "2026-10-15"
    assert report["totals"] == totals(
        enterprises=4,
        filed=2,
        late=1,
        missing=1,
        open_dangers=2,
        overdue_dangers=1,
        major_dangers=1,
        level1=1,
        level2=1,
    )
    # September: E1, E2, E3 (E5 closed on the 30th, E4 not yet registered); E1 filed on time; only A
    # open and not yet overdue; E1's level 1 and E2's level 2.
    assert report["previous"] == {
        "month": "2026-09",
        "totals": totals(enterprises=3, filed=1, missing=2, open_dangers=1, level1=1, level2=1),
    }
    assert report["change"] == totals(filed=1, late=1, open_dangers=1, overdue_dangers=1, major_dangers=1) | {
        "enterprises": 1,
        "missing": -1,
    }


def test_progress_per_department_and_per_enterprise(report: dict[str, Any], seeded: Seeded) -> None:
    depts = {d["code"]: d for d in report["departments"]}
    assert set(depts) == {AJ, TOWN_OFFICE, ZJ}
    pick = ("enterprises", "filed", "late", "missing", "acknowledged", "rejected", "pending")
    # 安监 supervises the chemical ones (E1, E2, E4); the town office all four; 住建 the builder E3.
    assert [depts[AJ][k] for k in pick] == [3, 2, 1, 0, 2, 0, 1]
    assert [depts[TOWN_OFFICE][k] for k in pick] == [4, 2, 1, 1, 0, 1, 2]
    assert [depts[ZJ][k] for k in pick] == [1, 0, 0, 1, 0, 0, 0]
    dangers_and_risks = ("open_dangers", "overdue_dangers", "major_dangers", "level1", "level2")
    assert [depts[AJ][k] for k in dangers_and_risks] == [1, 1, 0, 1, 1]
    assert [depts[TOWN_OFFICE][k] for k in dangers_and_risks] == [2, 1, 1, 1, 1]
    assert [depts[ZJ][k] for k in dangers_and_risks] == [1, 0, 1, 0, 0]
    rows = {r["enterprise_id"]: r for r in report["enterprises"]}
    ids = seeded.ids
    assert {k: rows[ids[k]]["filing"] for k in ("E1", "E2", "E3", "E4")} == {
        "E1": "filed",
        "E2": "late",
        "E3": "missing",
        "E4": "filed",
    }
    assert ids["E5"] not in rows and rows[ids["E1"]]["rejected_by"] == [TOWN_OFFICE]


def test_the_lagging_departments_and_enterprises_are_named(report: dict[str, Any]) -> None:
    lagging = report["lagging"]
    enterprises = {e["name"][-8:]: e["reasons"] for e in lagging["enterprises"]}
    assert enterprises == {
        "测试企业1有限公司"[-8:]: ["被退回：镇安委会办公室部门", "逾期未整改隐患1项"],
        "测试企业2有限公司"[-8:]: ["逾期报备"],
        "测试企业3有限公司"[-8:]: ["未报备"],
    }
    # below 80 % on time, worst first; 安监 and the office also have an overdue danger in their charge
    assert [d["code"] for d in lagging["departments"]] == [ZJ, TOWN_OFFICE, AJ]
    assert lagging["departments"][2]["reasons"] == ["按期报备率67%（2/3）", "所监管企业逾期未整改隐患1项"]


def test_a_filing_campaign_of_the_town_sets_the_month_s_deadline() -> None:
    with_campaign = seed(campaign="2026-10-05")
    try:
        found = publish.build(with_campaign.notifications, config.load(), TOWN, MONTH)
    finally:
        with_campaign.close()
    assert found["deadline"] == "2026-10-05"
    assert (found["totals"]["filed"], found["totals"]["late"]) == (1, 2)  # E4 filed on the 10th: late now


def pixels(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def share_of(image: Image.Image, colour: str, within: int = 2) -> float:
    """The share of the image's pixels of the colour, each channel within `within` of it (a chart drawn
    as an image and scaled shifts its colours a little)."""
    wanted = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    near = sum(
        n
        for n, rgb in image.getcolors(maxcolors=1 << 24) or []
        if all(abs(a - b) <= within for a, b in zip(rgb, wanted, strict=True))
    )
    return near / (image.width * image.height)


def test_the_pdf_renders_with_its_charts(report: dict[str, Any], tmp_path: Path) -> None:
    files = publish.write_files(report, tmp_path)
    pdf = Path(files["pdf"]["path"])
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = [pixels(p.read_bytes()) for p in sorted(tmp_path.glob("page-*.png"))]
    # four enterprises, three departments: sections follow one another (it was six pages, mostly empty)
    assert len(pages) == 3
    for page in pages:  # nothing blank
        assert 1 - share_of(page, "#ffffff") > 0.005
    summary, the_charts, _tables = pages
    for colour in ("#9e9e9e", "#17becf"):  # last month's and this month's bars
        assert share_of(summary, colour) > 0.003
    for colour in ("#2ca02c", "#ff7f0e", "#d62728", "#1f77b4", "#9467bd", "#d7191c", "#f28e2b"):
        assert share_of(the_charts, colour) > 0.002  # filed/late/missing, dangers, level 1 and 2
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "张山子镇2026年10月安全风险报备工作通报" in text.replace("\n", "")
    assert "测试企业3有限公司" in text


def test_a_town_of_thousands_is_listed_whole_in_the_pdf_and_the_same_every_time(
    report: dict[str, Any], tmp_path: Path
) -> None:
    town = dict(
        report, enterprises=[dict(report["enterprises"][i % 4], name=f"企业{i:04d}") for i in range(1_200)]
    )
    pdf = tmp_path / "town.pdf"
    pdf.write_bytes(as_pdf.render(town))
    assert as_pdf.render(town) == pdf.read_bytes()  # the same report, the same bytes
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    listed = re.findall(r"企业\d{4}", text)
    assert sorted(listed) == [
        f"企业{i:04d}" for i in range(1_200)
    ]  # every one, once: none lost between tables
    pages = int(
        re.search(
            r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        )[1]
    )
    assert pages > 20 and text.count("逾期隐患") >= pages - 5  # the table's header on each of its pages


def test_the_html_embeds_every_chart_and_names_the_lagging(report: dict[str, Any], tmp_path: Path) -> None:
    page = Path(publish.write_files(report, tmp_path)["html"]["path"]).read_text(encoding="utf-8")
    charts = re.findall(r'data-chart="(\w+)"[^>]*src="data:image/png;base64,([^"]+)"', page)
    assert [name for name, _ in charts] == ["filing", "dangers", "risks", "change"]
    for _, data in charts:
        image = pixels(base64.b64decode(data))
        assert share_of(image, "#ffffff") < 0.97
    lagging = page.split("四、工作滞后的部门和企业")[1]
    e3 = next(e for e in report["enterprises"] if e["name"].endswith("测试企业3有限公司"))
    assert "住建部门" in lagging and "测试企业4" not in lagging
    assert f"测试企业3有限公司（{e3['uscc']}）：未报备" in lagging  # the credit code beside the name


def test_publishing_announces_once_and_a_change_publishes_a_revision(tmp_path: Path) -> None:
    seeded = seed()
    settings, conf, app = Settings(runtime_dir=tmp_path), config.load(), seeded.notifications
    try:
        first = publish.publish(app, settings, conf, TOWN, MONTH, out=tmp_path / "out")
        assert first["published"] and first["revision"] == 1
        assert (tmp_path / "out" / publish.file_name(TOWN, MONTH, "pdf")).exists()
        announced = app.notifications(kind="report_published")
        assert sorted(n["recipient"]["address"] for n in announced) == sorted([AJ, TOWN_OFFICE, ZJ])
        assert "应报4家，按期报备2家，逾期报备1家，未报备1家" in announced[0]["text"]
        again = publish.publish(app, settings, conf, TOWN, MONTH)
        assert not again["published"] and len(app.notifications(kind="report_published")) == 3
        # E3's filing of the 14th reaches this service only now: the report is revised
        feed = Feed(app)
        feed.positions["filing"] = envelopes_after(seeded.filing, 0, 100_000)[1]
        e3 = submit(seeded.filing, seeded.ids["E3"], 1, [ZJ, TOWN_OFFICE], "2026-10-14T02:00:00+00:00")
        answer(seeded.filing, e3, ZJ, "acknowledged")
        feed.follow(seeded.filing, "2026-10-14T03:00:00+00:00")
        revised = publish.publish(app, settings, conf, TOWN, MONTH)
        assert revised["published"] and revised["revision"] == 2
        assert (revised["totals"]["filed"], revised["totals"]["missing"]) == (3, 0)
        assert len(app.notifications(kind="report_published")) == 6
        envelopes, _ = envelopes_after(app, 0, 100_000)  # validated against contracts/notifications/
        assert [e.type for e in envelopes if e.type.startswith("MonthlyReport")] == [
            "MonthlyReport.Published",
            "MonthlyReport.Revised",
        ]
    finally:
        seeded.close()


def test_the_monthly_timer_publishes_last_month_once_from_the_configured_day(tmp_path: Path) -> None:
    fresh = seed()
    try:
        conf = dataclasses.replace(config.load(), publish_day=2)
        on = [datetime(2026, 11, 1, 12, 0, tzinfo=CST)]
        timer = ReportTimer(fresh.notifications, Settings(runtime_dir=tmp_path), conf, now=lambda: on[0])
        assert timer.run_once() == []  # before the 2nd
        on[0] = datetime(2026, 11, 2, 8, 0, tzinfo=CST)
        [published] = timer.run_once()
        assert (published["town"], published["month"], published["revision"]) == (TOWN, MONTH, 1)
        assert timer.run_once() == []  # once
    finally:
        fresh.close()


def test_the_timer_asks_only_whether_a_town_had_enterprises_not_for_their_ledgers(seeded: Seeded) -> None:
    """Whether a town's report is due is a question of its enterprises' registration: answered from
    their cards, a page at a time until one was registered in the month, never their ledgers (a
    province's every hour, while a town's enterprises all registered this month)."""
    app = seeded.notifications
    conf = dataclasses.replace(config.load(), publish_day=2)
    on = [datetime(2026, 8, 2, 8, 0, tzinfo=CST)]
    timer = ReportTimer(app, Settings(), conf, now=lambda: on[0])
    read: list[Any] = []
    get_many = app.get_many

    def reading(ids: Any) -> Any:
        found = get_many(ids := list(ids))
        read.extend(type(found[i]) for i in ids if i in found)
        return found

    app.get_many = reading  # type: ignore[method-assign]
    try:
        assert timer.due() == []  # July: nobody had registered yet
        july = set(read)
        read.clear()
        on[0] = datetime(2026, 11, 2, 8, 0, tzinfo=CST)
        assert timer.due() == [(TOWN, MONTH)]
    finally:
        del app.get_many
    cards = sum(t is EnterpriseCard for t in read)
    assert july == {Directory, EnterpriseCard}
    assert set(read) == {Directory, EnterpriseCard} and 1 <= cards <= facts.TOWN_PAGE
