"""Debian's chromium driven through its own chromedriver (Selenium), as an official's browser would be.

Nothing is downloaded: the browser and its driver are the apt packages `make setup` installs. Each
page the tests visit is screenshotted under var/screenshots/console/ (ignored by git) for review.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots" / "console"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1440,1000",
    "--lang=zh-CN",
)
# What an official must never read: ids, the hub's stored words, Python's and JavaScript's blanks.
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
ALLOWED_WORDS = {"PDF", "XLSX", "CSV", "Excel", "SM2", "SM3", "LEC", "UTC", "D", "R", "LS"}
WORD = re.compile(r"(?<![0-9A-Za-z])[A-Za-z][A-Za-z_-]*(?![0-9A-Za-z])")


def available() -> bool:
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@contextmanager
def browser(downloads: Path) -> Iterator[WebDriver]:
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def sign_in(driver: WebDriver, base: str, department: str, token: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    form = driver.find_element(By.ID, "auditor-login" if department == "auditor" else "department-login")
    if department != "auditor":
        form.find_element(By.NAME, "department").send_keys(department)
    form.find_element(By.NAME, "token").send_keys(token)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_title(driver, lambda title: "登录" not in title)


def wait_title(driver: WebDriver, check: object, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        title = driver.title
        if (
            callable(check)
            and check(title)
            and driver.execute_script("return document.readyState") == "complete"
        ):
            return title
        time.sleep(0.1)
    raise AssertionError(f"page did not load as expected: {driver.title} at {driver.current_url}")


def wait_text(driver: WebDriver, text: str, timeout: float = 20) -> str:
    """The page's visible text once it shows `text` (a form posted to the page it came from keeps its
    title: waiting for the title would read the page before the answer replaced it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = visible_text(driver)
        if text in shown and driver.execute_script("return document.readyState") == "complete":
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never showed at {driver.current_url}: {visible_text(driver)[:300]}")


def visible_text(driver: WebDriver) -> str:
    return str(driver.execute_script("return document.body.innerText"))


def leaks(text: str) -> list[str]:
    """Ids and English words in what an official reads (credit codes and numbers pass)."""
    found = UUID.findall(text)
    found += [w for w in WORD.findall(UUID.sub("", text)) if w not in ALLOWED_WORDS]
    return found


def rows_by_store(driver: WebDriver, table: str) -> dict[str, dict[str, str]]:
    """A table's rows by their store (data-store), each cell that has a class by that class."""
    found = {}
    for row in driver.find_elements(By.CSS_SELECTOR, f"#{table} tbody tr"):
        cells = row.find_elements(By.CSS_SELECTOR, "td[class]")
        found[row.get_attribute("data-store") or ""] = {c.get_attribute("class") or "": c.text for c in cells}
    return found


def screenshot(driver: WebDriver, name: str) -> Path:
    """The whole page as a PNG under var/screenshots/console/ (the window grows to the page's height)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1440, min(max(height + 40, 900), 6000))
    path = SCREENSHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)
    return path
