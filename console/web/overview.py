"""The dashboard and 一镇一册 (a department: its own list of major risks), with CSV and XLSX downloads."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response

from console import exports
from console.queries import book, dashboard
from console.queries.scope import Scope, page_number
from console.web import labels
from console.web.auth import requires
from console.web.render import error, page, secure
from console.web.sessions import Session

OFFICIALS = ("office", "department")


def scope_of(session: Session) -> Scope:
    return Scope(department=session.department, town=session.town)


def departments(request: Request) -> dict[str, str]:
    """Every department's name by code (a few dozen rows)."""
    rows = request.app.state.console.store.query("SELECT code, name FROM @departments ORDER BY code")
    return {r["code"]: r["name"] for r in rows}


def names_of(codes: str, names: dict[str, str]) -> str:
    return "、".join(names.get(c, "其他部门") for c in codes.split(",") if c) or "—"


@requires(*OFFICIALS)
def dashboard_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    scope = scope_of(session)
    figures = dashboard.dashboard(store, scope)
    charts: dict[str, Any] = {
        "levels": [
            {
                "name": f"{labels.LEVELS[level]}（{labels.COLOUR_NAMES[level]}）",
                "value": n,
                "colour": labels.LEVEL_COLOURS[level],
            }
            for level, n in figures["levels"].items()
        ],
        "cases": [{"name": labels.CASE_STEP[s], "value": n} for s, n in figures["cases"].items()],
    }
    if figures.get("standings"):
        charts["standings"] = [
            {"name": labels.STANDING[s], "value": n, "colour": labels.STANDING_COLOURS[s]}
            for s, n in figures["standings"].items()
        ]
    if "deliveries" in figures:
        charts["deliveries"] = [
            {"name": labels.DELIVERY[s], "value": figures["deliveries"].get(s, 0)} for s in labels.DELIVERY
        ]
    return page(
        request, "dashboard.html", figures=figures, charts=charts, counts=book.book_counts(store, scope)
    )


@requires(*OFFICIALS)
def book_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    scope = scope_of(session)
    wanted = book.BookFilter.parse(request.query_params)
    found = book.book_page(store, scope, wanted, page_number(request.query_params.get("page", "1")))
    names = departments(request)
    for row in found.rows:
        row["departments"] = names_of(row.get("supervisors") or "", names)
    return page(
        request,
        "book.html",
        book=found,
        wanted=wanted,
        counts=book.book_counts(store, scope),
        departments=names,
        title=f"{session.town}一镇一册" if session.town else "监管企业重大风险清单",
    )


@requires(*OFFICIALS)
def book_download(request: Request, session: Session) -> Response:
    fmt = request.path_params["fmt"]
    if fmt not in ("csv", "xlsx"):
        return error(request, 404, "页面不存在。")
    store = request.app.state.console.store
    wanted = book.BookFilter.parse(request.query_params)
    rows = book.book_rows(store, scope_of(session), wanted)
    names = departments(request)
    for row in rows:
        row["departments"] = names_of(row.get("supervisors") or "", names)
    title = f"{session.town}一镇一册" if session.town else f"{session.name}重大风险清单"
    if fmt == "csv":
        content, media = exports.book_csv(rows), "text/csv; charset=utf-8"
    else:
        content = exports.book_xlsx(title, rows)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(content, media_type=media)
    filename = f"{title}.{fmt}"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return secure(response)
