"""Producing the monthly report: figures from the views, HTML and PDF files, the Published event and
its announcement to the town office and the departments (notifications, in the same transaction)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from eventsourcing.application import ProcessingEvent

from services.backbone.conflicts import retried
from services.backbone.envelope import event_id
from services.backbone.handlers import UnitOfWork
from services.backbone.settings import Settings
from services.backbone.store import Processing
from services.notifications import clock, requests, templates
from services.notifications.config import Config
from services.notifications.report import as_html, charts
from services.notifications.report.domain import MonthlyReport, report_id
from services.notifications.report.facts import gather, period
from services.notifications.report.figures import compare, compute


def build(app: Any, config: Config, town: str, month: str) -> dict[str, Any]:
    """The month's figures with the previous month's and the change."""
    clock.parse_month(month)
    facts = gather(app, town)
    now = clock.now()  # an enterprise that has not filed before the deadline is 待报备, not 未报备
    current = compute(facts, period(facts, month, config), config.lagging_rate, now)
    previous = compute(facts, period(facts, clock.previous_month(month), config), config.lagging_rate, now)
    return compare(current, previous)


def file_name(town: str, month: str, suffix: str) -> str:
    return f"每月通报-{town}-{month}.{suffix}"


def write_files(report: dict[str, Any], directory: Path) -> dict[str, dict[str, str]]:
    """Writes the HTML and the PDF; their paths and SHA-256 digests."""
    directory.mkdir(parents=True, exist_ok=True)
    from services.notifications.report import as_pdf  # reportlab, when a report is made (charts.py)

    contents = {"html": as_html.render(report).encode("utf-8"), "pdf": as_pdf.render(report)}
    files = {}
    for suffix, content in contents.items():
        path = directory / file_name(report["town"], report["month"], suffix)
        path.write_bytes(content)
        files[suffix] = {"path": str(path), "sha256": hashlib.sha256(content).hexdigest()}
    return files


def publish(
    app: Any, settings: Settings, config: Config, town: str, month: str, out: Path | None = None
) -> dict[str, Any]:
    """Produces the report, stores the files under the runtime folder (and `out`), and publishes it:
    a first Published, or a Revised when the figures changed since; announced either way once."""
    report = build(app, config, town, month)
    files = write_files(report, settings.runtime_dir / "reports" / town / month)
    if out is not None:
        write_files(report, out)
    digest = hashlib.sha256(json.dumps(report, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    fields = {
        "deadline": report["deadline"],
        "totals": report["totals"],
        "change": report["change"],
        "lagging": {k: [i["name"] for i in v] for k, v in report["lagging"].items()},
        "files": files,
        "digest": digest,
        "published_at": clock.now(),
    }
    summary = _record(app, town, month, report, fields)
    return {**summary, "report": report}


def stored_file(app: Any, town: str, month: str, suffix: str) -> dict[str, Any]:
    """The published report's file (html or pdf) as it was written when last published, with its
    revision; {} when the month's report was never published or its file is gone or altered."""
    found: MonthlyReport | None = app.find(report_id(town, month))
    info = (found.files if found is not None else {}).get(suffix) if suffix in ("html", "pdf") else None
    if found is None or not info:
        return {}
    path = Path(info["path"])
    try:
        content = path.read_bytes()
    except OSError:
        return {}
    if hashlib.sha256(content).hexdigest() != info["sha256"]:
        return {}
    return {"revision": found.revision, "published_at": found.published_at, "content": content}


@retried
def _record(
    app: Any, town: str, month: str, report: dict[str, Any], fields: dict[str, Any]
) -> dict[str, Any]:
    uow = UnitOfWork(app)
    found: MonthlyReport | None = uow.get(report_id(town, month))
    if found is None:
        found = uow.add(MonthlyReport(town=town, month=month, **fields))
        changed, kind = True, "MonthlyReport.Published"
    else:
        changed, kind = found.revise(**fields), "MonthlyReport.Revised"
    if changed:
        cause = requests.OwnCause(
            event_id=event_id(app.service, str(found.id), found.version),
            type=kind,
            occurred_at=fields["published_at"],
        )
        codes = sorted({c for c in [report["town_office"], *(d["code"] for d in report["departments"])] if c})
        totals = report["totals"]
        text = templates.render(
            "report_published",
            town=town,
            month=charts.month_zh(month),
            expected=totals["enterprises"],
            filed=totals["filed"],
            late=totals["late"],
            missing=totals["missing"],
            not_due=totals.get("not_due", 0),
            open=totals["open_dangers"],
            overdue=totals["overdue_dangers"],
            level1=totals["level1"],
            level2=totals["level2"],
            path=Path(fields["files"]["pdf"]["path"]).name,
        )
        recipients = [requests.department(uow, code) for code in codes]
        requests.request(uow, cause, "report_published", recipients, text)
        processing: ProcessingEvent[Any] = Processing()
        uow.collect(processing)
        app.record(processing)
    return {**found.summary(), "published": changed}
