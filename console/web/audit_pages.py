"""The auditor's pages: each store's signed tree heads (as the console received them) and its last
verification, an enterprise's history as a timeline, its register as it stood at a chosen moment, and
verification runs (the audit endpoint's Verify, holding every store to the heads the console keeps)."""

from __future__ import annotations

import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.queries import audit as queries
from console.queries.enterprises import enterprise_by_id
from console.queries.scope import page_number
from console.readmodel.summaries import STORES
from console.web.auth import requires
from console.web.render import error, page, redirect
from console.web.sessions import Session
from services.backbone.errors import DomainError

log = structlog.get_logger(__name__)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CHINA = timezone(timedelta(hours=8))


@requires("auditor")
def chain_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    last = queries.last_finished(store)
    verified = {s["service"]: s for s in (last or {}).get("report", {}).get("stores", [])}
    return page(
        request,
        "audit_chain.html",
        stores=queries.chain_state(store),
        heads=queries.heads(store),
        last=last,
        verified=verified,
        store_names=STORES,
        running=_running(store),
        title="签名树头与核验",
    )


def _running(store: Any) -> dict[str, Any] | None:
    found = [r for r in queries.runs(store, 5) if r["outcome"] == "running"]
    return found[0] if found else None


@requires("auditor")
def enterprises_page(request: Request, session: Session) -> Response:
    q = request.query_params.get("q", "").strip()[:100]
    found = queries.search(request.app.state.console.store, q) if q else []
    return page(request, "audit_enterprises.html", q=q, found=found, title="企业档案")


@requires("auditor")
def history_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    enterprise_id = request.path_params["enterprise_id"]
    enterprise = enterprise_by_id(store, enterprise_id) if UUID.match(enterprise_id) else None
    if enterprise is None:
        return error(request, 404, "没有找到该企业。")
    events = queries.timeline(
        store,
        enterprise_id,
        page_number(request.query_params.get("page", "1")),
        queries.findings_of(queries.last_finished(store)),
    )
    return page(
        request,
        "audit_history.html",
        enterprise=enterprise,
        events=events,
        store_names=STORES,
        versions=queries.versions(store, enterprise_id),
        title=f"企业档案：{enterprise['name']}",
    )


def _moment(text: str) -> datetime | None:
    """A moment the auditor typed ("2016-09-15T12:00", Beijing time unless it names its offset)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


@requires("auditor")
def register_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    enterprise_id = request.path_params["enterprise_id"]
    enterprise = enterprise_by_id(store, enterprise_id) if UUID.match(enterprise_id) else None
    if enterprise is None:
        return error(request, 404, "没有找到该企业。")
    moment = _moment(request.query_params.get("at", ""))
    if moment is None:
        return error(request, 400, "请填写要查看的时间，例如 2016-09-15T12:00。")
    version = queries.version_at(store, enterprise_id, moment.astimezone(UTC).isoformat())
    document: dict[str, Any] = {}
    if version is not None:
        try:
            found = request.app.state.console.services.call(
                "filing", "get_version", enterprise_id, version["version"]
            )
            document = found.get("document") or {}
        except DomainError:
            document = {}
    return page(
        request,
        "audit_register.html",
        enterprise=enterprise,
        version=version,
        document=document,
        moment=moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
        title="一企一册历史版本",
    )


@requires("auditor")
def runs_page(request: Request, session: Session) -> Response:
    return page(
        request, "audit_runs.html", runs=queries.runs(request.app.state.console.store), title="核验记录"
    )


@requires("auditor")
def run_page(request: Request, session: Session) -> Response:
    found = queries.run(request.app.state.console.store, request.path_params["run_id"][:64])
    if found is None:
        return error(request, 404, "没有找到该核验记录。")
    return page(request, "audit_run.html", run=found, store_names=STORES, title="核验报告")


@requires("auditor", action=True)
def start_run(request: Request, session: Session, form: Any) -> Response:
    console = request.app.state.console
    running = _running(console.store)
    if running is not None:
        return redirect(f"/audit/verifications/{running['id']}")
    run_id = uuid.uuid4().hex
    console.store.execute(
        "INSERT INTO @verifications (id, started_at, started_by) VALUES (%(id)s, %(at)s, %(by)s)",
        {"id": run_id, "at": datetime.now(UTC).isoformat(), "by": "审计人员"},
    )
    threading.Thread(
        target=verify, args=(console, run_id, session.audit_token), daemon=True, name=f"verify-{run_id[:8]}"
    ).start()
    return redirect(f"/audit/verifications/{run_id}")


def verify(console: Any, run_id: str, token: str) -> None:
    """Runs the audit endpoint's verification of every store, held to each store's latest head the
    console keeps (its anchors), and keeps the report."""
    try:
        report = console.audit.verify(token, anchors=queries.latest_heads(console.store))
        outcome = "ok" if report["ok"] else "failed"
    except Exception as failure:  # noqa: BLE001 - the run is recorded as failed, with why
        log.warning("verification_failed", run_id=run_id, error=repr(failure))
        report, outcome = {"error": "核验未能完成：审计服务暂时无法访问或核验超时。"}, "error"
    console.store.execute(
        "UPDATE @verifications SET finished_at = %(at)s, outcome = %(outcome)s, report = "
        "%(report)s WHERE id = %(id)s",
        {
            "id": run_id,
            "at": datetime.now(UTC).isoformat(),
            "outcome": outcome,
            "report": json.dumps(report, ensure_ascii=False),
        },
    )
    log.info("verification_finished", run_id=run_id, outcome=outcome)


ROUTES = [
    Route("/audit", chain_page),
    Route("/audit/enterprises", enterprises_page),
    Route("/audit/enterprises/{enterprise_id}", history_page),
    Route("/audit/enterprises/{enterprise_id}/register", register_page),
    Route("/audit/verifications", runs_page, methods=["GET"]),
    Route("/audit/verifications", start_run, methods=["POST"]),
    Route("/audit/verifications/{run_id}", run_page),
]
