"""The published report's files, as the console fetches them: the file last published, never another."""

from __future__ import annotations

from pathlib import Path

from services.backbone.settings import Settings
from services.notifications import config
from services.notifications.report import publish
from tests.notifications_data import TOWN
from tests.notifications_seed import seed

MONTH = "2026-10"


def test_the_published_files_are_given_back_and_an_altered_one_is_not(tmp_path: Path) -> None:
    seeded = seed()
    try:
        app = seeded.notifications
        assert publish.stored_file(app, TOWN, MONTH, "pdf") == {}  # not published yet
        publish.publish(app, Settings(runtime_dir=tmp_path), config.load(), TOWN, MONTH)
        pdf = publish.stored_file(app, TOWN, MONTH, "pdf")
        html = publish.stored_file(app, TOWN, MONTH, "html")
        assert pdf["revision"] == 1 and pdf["content"].startswith(b"%PDF")
        assert f"{TOWN}2026年10月安全风险报备工作通报" in html["content"].decode("utf-8")
        assert publish.stored_file(app, TOWN, MONTH, "docx") == {}
        path = tmp_path / "reports" / TOWN / MONTH / publish.file_name(TOWN, MONTH, "pdf")
        path.write_bytes(path.read_bytes() + b"%")  # changed after it was published
        assert publish.stored_file(app, TOWN, MONTH, "pdf") == {}
    finally:
        seeded.close()
