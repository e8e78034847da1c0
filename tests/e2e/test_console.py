"""The console in a real browser (Debian's chromium), against the whole hub as `make run` starts it.

The town office, two departments and an auditor sign in with their own tokens and see what is theirs
and nothing else; every page is screenshotted (var/screenshots/console/) and its text checked for
ids and English words an official should never read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from console.audit_client import AuditClient
from console.readmodel.store import open_console_store
from services.notifications.channels.outbox import Outbox
from tests.conftest import Hub, isolated_hub_settings, wait_for
from tests.e2e import browser
from tests.e2e.console_town import AJJ, CONSTRUCTION, FILED, OFFICE, TOWN, ZJ, Town, make_town, rpc

pytestmark = pytest.mark.e2e
CHINA = timezone(timedelta(hours=8))


@pytest.fixture(scope="module")
def hub(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The whole hub, its audit signing a tree head every 2 s while there are new events (60 s by
    default), so that the console receives the heads of what the town did within the tests."""
    tmp_path = tmp_path_factory.mktemp("hub")
    with isolated_hub_settings(tmp_path) as value:
        running = Hub(value, tmp_path)
        running.env["HUB_AUDIT_CHECKPOINT_SECONDS"] = "2"
        try:
            yield running.start_all()
        finally:
            running.stop()


@pytest.fixture(scope="module")
def town(hub: Hub) -> Town:
    made = make_town(hub)
    store = open_console_store(hub.settings)
    try:  # until the console's read model has followed everything the town did

        def caught_up() -> bool:
            filed = store.query("SELECT count(*) AS n FROM @enterprises WHERE filed_version > 0")[0]["n"]
            answered = store.query("SELECT count(*) AS n FROM @deliveries WHERE state = 'acknowledged'")
            cases = store.query("SELECT count(*) AS n FROM @cases")[0]["n"]
            unfiled = store.query(
                "SELECT count(*) AS n FROM @enterprises WHERE id = %(id)s", {"id": made.unfiled}
            )
            return filed == FILED and answered[0]["n"] >= 2 * FILED and cases == 1 and unfiled[0]["n"] == 1

        wait_for(caught_up, timeout=120, interval=0.5, what="the console's read model to follow the town")
    finally:
        store.close()
    return made


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(downloads: Path) -> Iterator[WebDriver]:
    if not browser.available():  # make setup installs them (the Makefile's browser target)
        pytest.fail("Debian's chromium and chromium-driver are missing: run make setup")
    with browser.browser(downloads) as opened:
        yield opened
    print(f"\nconsole screenshots: {browser.SCREENSHOTS}")


@pytest.fixture(scope="module")
def base(hub: Hub) -> str:
    return f"http://{hub.console_address}"


def visit(driver: WebDriver, url: str, name: str) -> str:
    """Opens a page, screenshots it, and holds that an official reads no id and no English on it."""
    driver.get(url)
    browser.wait_title(driver, lambda title: bool(title))
    time.sleep(0.3)  # the charts draw after the page has loaded
    browser.screenshot(driver, name)
    text = browser.visible_text(driver)
    assert browser.leaks(text) == [], f"{name}: {browser.leaks(text)}"
    return text


def names_in_table(driver: WebDriver, css: str = "table.list tbody tr td:first-child a") -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, css)]


def wait_download(directory: Path, suffix: str, timeout: float = 30) -> Path:
    """The downloaded file once the browser has finished writing it: Chromium may show the final name
    before the last bytes are in (a file read then was found empty once), so the file must be whole-looking
    (not empty, no partial download beside it) and keep its size between two looks."""
    deadline, seen = time.monotonic() + timeout, (None, -1)
    while time.monotonic() < deadline:
        names = list(directory.iterdir())
        done = [p for p in names if p.suffix == suffix]
        partial = any(p.suffix == ".crdownload" for p in names)
        if done and not partial:
            size = done[0].stat().st_size
            if size > 0 and seen == (done[0], size):
                return done[0]
            seen = (done[0], size)
        time.sleep(0.2)
    raise AssertionError(f"no whole {suffix} file was downloaded into {directory}")


def test_a_wrong_token_signs_nobody_in(driver: WebDriver, base: str, town: Town) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    form = driver.find_element(By.ID, "department-login")
    form.find_element(By.NAME, "department").send_keys(OFFICE)
    form.find_element(By.NAME, "token").send_keys(town.tokens[AJJ])  # another department's token
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    browser.wait_text(driver, "部门代码或令牌不正确")  # the sign-in page again, with the refusal
    assert "登录" in driver.title
    browser.screenshot(driver, "00-login-refused")
    driver.get(f"{base}/dashboard")
    assert "登录" in driver.title  # still signed out: the dashboard sends it to the sign-in page


def test_the_town_office_sees_its_dashboard_and_its_book(
    driver: WebDriver, base: str, town: Town, hub: Hub, downloads: Path
) -> None:
    book = rpc(hub, "filing", "town_book", TOWN)  # the filing service's own 一镇一册, independently built
    browser.sign_in(driver, base, OFFICE, town.tokens[OFFICE])
    text = visit(driver, f"{base}/dashboard", "01-office-dashboard")
    assert f"{TOWN}安全风险工作总览" in text
    tiles = {
        t.find_element(By.TAG_NAME, "span").text: t.find_element(By.TAG_NAME, "b").text
        for t in driver.find_elements(By.CSS_SELECTOR, ".tile")
    }
    assert tiles["重大风险（红）"] == str(book["level_1"]) and tiles["较大风险（橙）"] == str(book["level_2"])
    assert tiles["其中重大隐患"] == "1"  # 安监's major finding
    assert driver.find_elements(By.CSS_SELECTOR, ".chart canvas"), "ECharts drew nothing"

    driver.find_element(By.LINK_TEXT, "一镇一册").click()
    browser.wait_title(driver, lambda title: "一镇一册" in title)
    text = visit(driver, driver.current_url, "02-office-book")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.book tbody tr")
    assert len(rows) == len(book["rows"]) > 0
    assert "正常生产" in text
    visit(driver, f"{base}/book?level=1", "03-office-book-level-1")
    badges = [b.text for b in driver.find_elements(By.CSS_SELECTOR, "table.book .level")]
    assert badges and all(b.startswith("1级") for b in badges) and len(badges) == book["level_1"]

    driver.get(f"{base}/book")
    driver.find_element(By.ID, "download-xlsx").click()
    sheet = load_workbook(wait_download(downloads, ".xlsx"), read_only=True).active
    lines = list(sheet.iter_rows(min_row=3, values_only=True))
    assert {(line[1], line[2]) for line in lines} == {(r["uscc"], r["risk_point"]) for r in book["rows"]}
    assert {line[14] for line in lines} == {"正常生产"}  # 企业状态 in Chinese, not "operating"


def test_a_filing_goes_from_the_dashboard_to_the_departments_receipt(
    driver: WebDriver, base: str, town: Town, hub: Hub
) -> None:
    # not the inspected works: its major danger makes its register stale, and a version is compiled
    # again that nobody submits (the latest version is then not the one the departments received)
    filed = next(e for e in town.enterprises if e["enterprise_id"] != town.inspected)
    browser.sign_in(driver, base, OFFICE, town.tokens[OFFICE])
    driver.find_element(By.LINK_TEXT, "企业名录").click()
    browser.wait_title(driver, lambda title: "企业名录" in title)
    visit(driver, driver.current_url, "04-office-enterprises")
    driver.find_element(By.LINK_TEXT, filed["name"]).click()
    browser.wait_title(driver, lambda title: filed["name"] in title)
    text = visit(driver, driver.current_url, "05-office-enterprise")
    assert "台儿庄区应急管理局：已签收" in text and "张山子镇安委会办公室：已签收" in text

    status = rpc(hub, "filing", "status", filed["enterprise_id"], 0)
    browser.sign_in(driver, base, AJJ, town.tokens[AJJ])
    visit(driver, f"{base}/dashboard", "06-department-dashboard")
    driver.find_element(By.LINK_TEXT, "收到的报备").click()
    browser.wait_title(driver, lambda title: "收到的报备" in title)
    visit(driver, driver.current_url, "07-department-received")
    row = next(
        r
        for r in driver.find_elements(By.CSS_SELECTOR, "table.list tbody tr")
        if filed["name"] in r.text and f"第{status['version']}版" in r.text
    )
    row.find_element(By.CSS_SELECTOR, "a.receipt-link").click()
    browser.wait_title(driver, lambda title: "报备回执" in title)
    text = visit(driver, driver.current_url, "08-department-receipt")
    assert driver.find_element(By.ID, "receipt-check").text == "核验通过"
    assert status["document_hash"] in text


def test_a_department_sees_only_the_enterprises_it_supervises(
    driver: WebDriver, base: str, town: Town
) -> None:
    construction = {e["name"] for e in town.enterprises if e["industry"] == CONSTRUCTION}
    others = [e for e in town.enterprises if e["industry"] != CONSTRUCTION]
    assert construction and others
    browser.sign_in(driver, base, ZJ, town.tokens[ZJ])
    visit(driver, f"{base}/enterprises", "09-zj-enterprises")
    assert set(names_in_table(driver)) == construction
    visit(driver, f"{base}/book", "10-zj-book")
    assert set(names_in_table(driver)) <= construction
    visit(driver, f"{base}/filings", "11-zj-received")
    assert set(names_in_table(driver)) == construction
    for other in others:
        text = visit(driver, f"{base}/enterprises/{other['enterprise_id']}", "12-zj-other-enterprise")
        assert "不在本单位监管范围内" in text and other["name"] not in text


def test_the_office_opens_a_campaign_and_reminds_the_lagging(
    driver: WebDriver, base: str, town: Town, hub: Hub
) -> None:
    name = "2026年一企一册报备"
    deadline = (datetime.now(CHINA) + timedelta(days=30)).date()
    browser.sign_in(driver, base, OFFICE, town.tokens[OFFICE])
    driver.find_element(By.LINK_TEXT, "报备活动").click()
    browser.wait_title(driver, lambda title: "报备活动" in title)
    visit(driver, driver.current_url, "13-office-campaigns")
    form = driver.find_element(By.ID, "open-campaign")
    form.find_element(By.NAME, "name").send_keys(name)
    driver.execute_script(
        "arguments[0].value = arguments[1]", form.find_element(By.NAME, "deadline"), deadline.isoformat()
    )
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    browser.wait_title(driver, lambda title: name in title)
    visit(driver, driver.current_url, "14-office-campaign")
    tiles = {
        t.find_element(By.TAG_NAME, "span").text: t.find_element(By.TAG_NAME, "b").text
        for t in driver.find_elements(By.CSS_SELECTOR, ".tile")
    }
    assert tiles == {"按期报备": str(FILED), "逾期报备": "0", "未报备": "0", "待报备": "1"}

    driver.find_element(By.CSS_SELECTOR, "#remind button").click()
    browser.wait_title(driver, lambda title: name in title)
    assert "已向 1 家尚未报备的企业发送提醒短信" in visit(driver, driver.current_url, "15-office-reminded")

    def reminded() -> list[dict[str, Any]]:
        return [
            m for m in Outbox.of(hub.settings).read("sms", "13600136000") if m["kind"] == "campaign_reminder"
        ]

    [sms] = wait_for(reminded, timeout=60, what="the reminder SMS in the outbox")
    assert name in sms["text"] and f"{deadline.year}年{deadline.month}月{deadline.day}日" in sms["text"]


def test_dangers_cases_and_inspections_are_listed(driver: WebDriver, base: str, town: Town) -> None:
    browser.sign_in(driver, base, OFFICE, town.tokens[OFFICE])
    assert "液氨储罐区无泄漏报警装置" in visit(driver, f"{base}/dangers?kind=major", "16-office-dangers")
    assert "立案查处" in visit(driver, f"{base}/cases", "17-office-cases")
    visit(driver, f"{base}/enterprises/{town.inspected}", "18-office-inspected-enterprise")
    browser.sign_in(driver, base, AJJ, town.tokens[AJJ])
    text = visit(driver, f"{base}/inspections", "19-department-inspections")
    assert "台应急检〔2026〕12号" in text and "立案查处" in text
    browser.sign_in(driver, base, ZJ, town.tokens[ZJ])
    assert "液氨储罐区无泄漏报警装置" not in visit(driver, f"{base}/dangers?kind=major", "20-zj-dangers")


def test_the_office_publishes_the_monthly_report(
    driver: WebDriver, base: str, town: Town, downloads: Path
) -> None:
    month = datetime.now(CHINA).strftime("%Y-%m")
    browser.sign_in(driver, base, OFFICE, town.tokens[OFFICE])
    visit(driver, f"{base}/report?month={month}", "21-office-report-unpublished")
    driver.find_element(By.CSS_SELECTOR, "#publish-report button").click()
    browser.wait_title(driver, lambda title: "每月通报" in title)
    text = visit(driver, driver.current_url, "22-office-report")
    assert "通报已发布" in text
    driver.switch_to.frame(driver.find_element(By.CSS_SELECTOR, "iframe.report"))
    framed = browser.visible_text(driver)
    driver.switch_to.default_content()
    assert TOWN in framed and browser.UUID.findall(framed) == []
    driver.find_element(By.ID, "report-pdf").click()
    assert wait_download(downloads, ".pdf").read_bytes().startswith(b"%PDF")


def signed_and_received(hub: Hub, town: Town) -> dict[str, Any] | None:
    """The audit endpoint's Verify, once every event of every store is under a signed head and the
    console's read model holds each store's latest head; None until then."""
    audit = AuditClient(hub.audit_address)
    store = open_console_store(hub.settings)
    try:
        report = audit.verify(town.auditor, timeout=120)
        held = {
            r["store"]: int(r["size"])
            for r in store.query("SELECT store, max(tree_size) AS size FROM @tree_heads GROUP BY store")
        }
    finally:
        store.close()
        audit.close()
    stores = [s for s in report["stores"] if s["events"]]
    if stores and all(s["signed_size"] == s["events"] == held.get(s["service"]) for s in stores):
        return report
    return None


def test_the_auditor_verifies_the_chain_and_reads_an_enterprises_history(
    driver: WebDriver, base: str, town: Town, hub: Hub
) -> None:
    filed = town.enterprises[0]
    before = wait_for(
        lambda: signed_and_received(hub, town),
        timeout=180,
        interval=2,
        what="every event under a signed head",
    )
    browser.sign_in(driver, base, "auditor", town.auditor)
    text = visit(driver, f"{base}/audit", "23-auditor-chain")
    assert "签名树头" in text and "检查点" not in text
    # every store with events shows its heads and the latest one's size, as the endpoint counts them
    shown = browser.rows_by_store(driver, "stores")
    for s in before["stores"]:
        if s["events"]:
            assert shown[s["service"]]["heads"] == str(s["heads"]), s
            assert shown[s["service"]]["signed-size"].startswith(f"{s['signed_size']} 个事件"), s
    received = driver.find_elements(By.CSS_SELECTOR, "#tree-heads tbody td.tree-size")
    assert received and all(int(cell.text) > 0 for cell in received)

    assert "当前账号无权访问此页面" in visit(driver, f"{base}/dashboard", "24-auditor-no-dashboard")
    driver.get(f"{base}/audit")
    driver.find_element(By.CSS_SELECTOR, "#start-verification button").click()
    browser.wait_title(driver, lambda title: "核验报告" in title)

    def finished() -> str:
        driver.refresh()
        outcome = driver.find_element(By.ID, "verification-outcome").text
        return "" if outcome == "进行中" else outcome

    assert (
        wait_for(finished, timeout=120, interval=1, what="the verification run")
        == "全部存储与签名树头一致，未发现篡改"
    )
    visit(driver, driver.current_url, "25-auditor-verification")
    # the report is the endpoint's: each store's events and signed size as Verify answers now, and
    # each store held to the latest head the console received (its anchor)
    after = signed_and_received(hub, town)
    assert after is not None, "the hub moved on during the verification"
    shown = browser.rows_by_store(driver, "verified-stores")
    assert set(shown) == {s["service"] for s in after["stores"]}
    for s in after["stores"]:
        row = shown[s["service"]]
        assert row["events"] == str(s["events"]) and row["linked"] == str(s["linked_events"]), s
        assert row["heads"] == str(s["heads"]) and row["signed-size"] == str(s["signed_size"]), s
        if s["heads"]:
            assert row["anchors"] == "1" and row["anchored-size"] == str(s["signed_size"]), s

    visit(driver, f"{base}/audit/enterprises?q={filed['unified_social_credit_code']}", "26-auditor-search")
    driver.find_element(By.LINK_TEXT, filed["name"]).click()
    browser.wait_title(driver, lambda title: filed["name"] in title)
    text = visit(driver, driver.current_url, "27-auditor-history")
    assert "企业登记" in text and "报送第" in text and "已签收" in text
    now = (datetime.now(CHINA) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M")  # the form has minutes
    text = visit(
        driver, f"{base}/audit/enterprises/{filed['enterprise_id']}/register?at={now}", "28-auditor-register"
    )
    assert "第" in driver.find_element(By.ID, "register-version").text and filed["name"] in text


def test_a_console_added_to_a_running_hub_rebuilds_its_read_model_from_history(
    hub: Hub, town: Town, tmp_path: Path
) -> None:
    """Another console store, empty, filled from the stores' history through the audit endpoint, ends
    as the one that followed the events live, and holds each store's latest signed head."""
    import dataclasses

    from console.rebuild import rebuild

    wait_for(lambda: signed_and_received(hub, town), timeout=180, interval=2, what="every event signed")
    live = open_console_store(hub.settings)
    fresh = open_console_store(dataclasses.replace(hub.settings, database_url="", runtime_dir=tmp_path))
    audit = AuditClient(hub.audit_address)
    try:
        applied = rebuild(fresh, dataclasses.replace(hub.settings, runtime_dir=tmp_path), audit, town.auditor)
        assert applied["registry"] > 0 and applied["riskpoints"] > 0 and applied["filing"] > 0
        for table, key in (
            ("enterprises", "id, name, uscc, town, status, supervisors, filed_version"),
            ("supervision", "department, enterprise_id"),
            ("risk_points", "id, enterprise_id, name, level, town, enterprise_name, retired"),
            ("dangers", "id, grade, state, town"),
            ("cases", "id, department, state"),
            ("filings", "enterprise_id, version, document_hash, superseded_by"),
            ("campaigns", "town, name, deadline"),
            ("events", "upstream, notification_id, type, summary"),
        ):
            query = f"SELECT {key} FROM @{table} ORDER BY {key}"
            assert fresh.query(query) == live.query(query), table
        # deliveries: as the events left them (the live one may have been answered since)
        query = "SELECT enterprise_id, version, department FROM @deliveries ORDER BY 1, 2, 3"
        assert fresh.query(query) == live.query(query)
        # the heads: each store's latest only (the live one received every head)
        latest = "SELECT store, max(sequence) AS sequence FROM @tree_heads GROUP BY store ORDER BY store"
        assert fresh.query("SELECT store, sequence FROM @tree_heads ORDER BY store") == live.query(latest)
        assert rebuild(
            fresh, dataclasses.replace(hub.settings, runtime_dir=tmp_path), audit, town.auditor
        ) == {upstream: 0 for upstream in applied}  # from its tracking position on: nothing twice
    finally:
        audit.close()
        fresh.close()
        live.close()
