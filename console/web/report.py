"""The monthly report (每月通报) of the town office: the published HTML in the page, the PDF to download,
publishing (or revising) it from the page."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.web.auth import requires
from console.web.render import error, page, redirect, secure
from console.web.sessions import Session
from services.backbone.errors import DomainError

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
CHINA = timezone(timedelta(hours=8))
TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
# the report's own page, framed by the console: its inline styles and embedded charts, nothing else
REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def last_month() -> str:
    first = datetime.now(CHINA).date().replace(day=1)
    previous = first - timedelta(days=1)
    return f"{previous.year}-{previous.month:02d}"


def months(count: int = 12) -> list[str]:
    """The latest months, newest first (this month included)."""
    today = datetime.now(CHINA).date()
    found, year, month = [], today.year, today.month
    for _ in range(count):
        found.append(f"{year}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return found


def _stored(
    request: Request, session: Session, month: str, suffix: str, content: bool = True
) -> dict[str, Any]:
    answer: dict[str, Any] = request.app.state.console.services.call(
        "notifications", "monthly_report_file", session.town, month, suffix, content
    )
    return answer


@requires("office")
def report_page(request: Request, session: Session) -> Response:
    month = request.query_params.get("month", "") or last_month()
    if not MONTH.match(month):
        return error(request, 400, "月份格式应为 年-月，例如 2016-09。")
    published = _stored(request, session, month, "pdf", content=False)
    choices = months()
    if month not in choices:
        choices.append(month)
    return page(
        request,
        "report.html",
        month=month,
        published=published,
        months=choices,
        title="每月通报",
        notice=request.query_params.get("published", ""),
    )


@requires("office")
def report_file(request: Request, session: Session) -> Response:
    month, suffix = request.path_params["month"], request.path_params["suffix"]
    if not MONTH.match(month) or suffix not in TYPES:
        return error(request, 404, "没有找到该通报。")
    found = _stored(request, session, month, suffix)
    if not found:
        return error(request, 404, "该月通报尚未发布。")
    response = Response(base64.b64decode(found["content"]), media_type=TYPES[suffix])
    if suffix == "pdf":
        name = f"{session.town}{month}安全风险报备通报.pdf"
        response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    else:
        response.headers["Content-Security-Policy"] = REPORT_CSP
    return secure(response)


@requires("office", action=True)
def publish(request: Request, session: Session, form: Any) -> Response:
    month = str(form.get("month", ""))
    if not MONTH.match(month):
        return error(request, 400, "月份格式应为 年-月，例如 2016-09。")
    try:
        answer = request.app.state.console.services.call(
            "notifications", "publish_monthly_report", session.town, month
        )
    except DomainError:
        return error(request, 400, "通报发布失败，请检查月份后重试。")
    state = "new" if answer.get("published") else "same"
    return redirect(f"/report?month={month}&published={state}")


ROUTES = [
    Route("/report", report_page, methods=["GET"]),
    Route("/report/publish", publish, methods=["POST"]),
    Route("/report/{month}.{suffix}", report_file, methods=["GET"]),
]
