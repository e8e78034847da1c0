"""The enterprise list and an enterprise's page: profile, departments, register versions and their diff,
deliveries, risk points with their warning cards, hidden dangers with their timelines."""

from __future__ import annotations

import base64
import re
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.queries import enterprises as queries
from console.queries.scope import page_number
from console.web.auth import requires
from console.web.overview import OFFICIALS, departments, names_of, scope_of
from console.web.render import error, page, secure
from console.web.sessions import Session
from services.backbone.errors import DomainError
from services.kernel.reasons import reason_zh

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
DIFF = re.compile(r"^(\d{1,6})\.\.(\d{1,6})$")
CARD_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


@requires(*OFFICIALS)
def enterprise_list(request: Request, session: Session) -> Response:
    wanted = queries.EnterpriseFilter.parse(request.query_params)
    found = queries.enterprise_page(
        request.app.state.console.store,
        scope_of(session),
        wanted,
        page_number(request.query_params.get("page", "1")),
    )
    names = departments(request)
    for row in found.rows:
        row["departments"] = names_of(row["supervisors"], names)
    return page(
        request,
        "enterprises.html",
        found=found,
        wanted=wanted,
        title="企业名录" if session.town else "监管企业",
    )


def _enterprise(request: Request, session: Session) -> dict[str, Any] | None:
    enterprise_id = request.path_params["enterprise_id"]
    if not UUID.match(enterprise_id):
        return None
    return queries.enterprise_in_scope(request.app.state.console.store, scope_of(session), enterprise_id)


@requires(*OFFICIALS)
def enterprise_page(request: Request, session: Session) -> Response:
    enterprise = _enterprise(request, session)
    if enterprise is None:  # unknown, or not this office's or department's: the same answer
        return error(request, 404, "没有找到该企业，或该企业不在本单位监管范围内。")
    store, eid = request.app.state.console.store, enterprise["id"]
    names = departments(request)
    versions = queries.filings(store, eid)
    for version in versions:
        version["reason_zh"] = reason_zh(version["reason"])
        for delivery in version["deliveries"]:
            delivery["department_name"] = names.get(delivery["department"], "其他部门")
    points, point_total = queries.risk_points(store, eid)
    return page(
        request,
        "enterprise.html",
        title=enterprise["name"],
        enterprise=enterprise,
        departments=[(c, names.get(c, "其他部门")) for c in enterprise["supervisors"].split(",") if c],
        versions=versions,
        diff=_diff(request, eid, versions),
        points=points,
        point_total=point_total,
        dangers=queries.dangers_with_timelines(store, eid),
        cases=queries.cases(store, eid),
        inspections=queries.inspections(store, eid),
        department_names=names,
    )


def _diff(request: Request, enterprise_id: str, versions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The diff the page was asked for (?diff=1..2), or that of the two latest versions."""
    asked = DIFF.match(request.query_params.get("diff", ""))
    if asked:
        old, new = int(asked.group(1)), int(asked.group(2))
    elif len(versions) >= 2:
        old, new = int(versions[1]["version"]), int(versions[0]["version"])
    else:
        return None
    try:
        found: dict[str, Any] = request.app.state.console.services.call(
            "filing", "diff", enterprise_id, old, new
        )
    except DomainError:
        return {"from": old, "to": new, "missing": True}
    return found


@requires(*OFFICIALS)
def warning_card(request: Request, session: Session) -> Response:
    enterprise = _enterprise(request, session)
    fmt = request.path_params["fmt"]
    point_id = request.path_params["point_id"]
    if enterprise is None or fmt not in CARD_TYPES or not UUID.match(point_id):
        return error(request, 404, "没有找到该风险点。")
    if queries.point_in(request.app.state.console.store, enterprise["id"], point_id) is None:
        return error(request, 404, "没有找到该风险点。")
    try:
        card = request.app.state.console.services.call(
            "riskpoints", "warning_card", enterprise["id"], point_id, fmt, enterprise["name"]
        )
    except DomainError:
        return error(request, 404, "该风险点的告知卡暂时无法生成。")
    response = Response(base64.b64decode(card["content"]), media_type=CARD_TYPES[fmt])
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(card['filename'])}"
    else:  # the card's own HTML: its inline styles, nothing else
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
        )
    return secure(response)


ROUTES = [
    Route("/enterprises", enterprise_list),
    Route("/enterprises/{enterprise_id}", enterprise_page),
    Route("/enterprises/{enterprise_id}/points/{point_id}/card.{fmt}", warning_card),
]
