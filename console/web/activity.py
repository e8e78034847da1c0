"""Hidden dangers and enforcement cases (office and departments); a department's received filings,
their receipts, and the inspections and cases it opened."""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.queries import activity
from console.queries.scope import page_number
from console.web.auth import requires
from console.web.overview import OFFICIALS, departments, scope_of
from console.web.render import error, page
from console.web.sessions import Session
from services.kernel import receipts, signatures

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DANGER_TABS = {"open": "未销号", "major": "重大隐患", "overdue": "整改逾期", "closed": "已销号"}


@requires(*OFFICIALS)
def dangers_page(request: Request, session: Session) -> Response:
    kind = request.query_params.get("kind", "open")
    kind = kind if kind in DANGER_TABS else "open"
    found = activity.dangers_page(
        request.app.state.console.store,
        scope_of(session),
        kind,
        page_number(request.query_params.get("page", "1")),
    )
    return page(
        request,
        "dangers.html",
        found=found,
        kind=kind,
        tabs=DANGER_TABS,
        title="隐患排查治理",
        department_names=departments(request),
    )


@requires(*OFFICIALS)
def cases_page(request: Request, session: Session) -> Response:
    step = request.query_params.get("step", "")
    found = activity.cases_page(
        request.app.state.console.store,
        scope_of(session),
        step,
        page_number(request.query_params.get("page", "1")),
    )
    return page(
        request, "cases.html", found=found, step=step, title="执法案件", department_names=departments(request)
    )


@requires("department")
def received_page(request: Request, session: Session) -> Response:
    state = request.query_params.get("state", "")
    found = activity.received_page(
        request.app.state.console.store,
        session.department,
        state,
        page_number(request.query_params.get("page", "1")),
    )
    return page(request, "received.html", found=found, state=state, title="收到的报备")


@requires("department")
def receipt_page(request: Request, session: Session) -> Response:
    enterprise_id, version = request.path_params["enterprise_id"], request.path_params["version"]
    if not UUID.match(enterprise_id) or not version.isdigit() or len(version) > 6:
        return error(request, 404, "没有找到该报备。")
    found = activity.receipt(request.app.state.console.store, session.department, enterprise_id, int(version))
    if found is None:  # not addressed to this department: as if it did not exist
        return error(request, 404, "没有找到该报备。")
    return page(
        request,
        "receipt.html",
        delivery=found,
        check=check_receipt(found, session.department),
        title="报备回执",
    )


def check_receipt(delivery: dict[str, object], department: str) -> str:
    """The receipt's SM2 signature checked again here, under the key it was recorded with."""
    receipt = delivery.get("receipt") or {}
    if not isinstance(receipt, dict) or not receipt.get("signature"):
        return "none"
    delivery_id = receipts.delivery_id(
        str(delivery["enterprise_id"]), int(str(delivery["version"])), department
    )
    signed = receipts.signed_bytes(
        delivery_id,
        str(delivery.get("document_hash") or ""),
        str(receipt.get("outcome", "")),
        str(receipt.get("received_at", "")),
    )
    ok = signatures.verify(str(receipt.get("public_key", "")), signed, str(receipt["signature"]))
    return "ok" if ok else "bad"


@requires("department")
def inspections_page(request: Request, session: Session) -> Response:
    number = page_number(request.query_params.get("page", "1"))
    store = request.app.state.console.store
    return page(
        request,
        "inspections.html",
        inspections=activity.inspections_page(store, session.department, number),
        cases=activity.cases_page(store, scope_of(session), "", 1),
        department_names=departments(request),
        title="检查与案件",
    )


ROUTES = [
    Route("/dangers", dangers_page),
    Route("/cases", cases_page),
    Route("/filings", received_page),
    Route("/filings/{enterprise_id}/{version}", receipt_page),
    Route("/inspections", inspections_page),
]
