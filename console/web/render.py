"""Templates and the responses every page shares: the page itself, errors, redirects, security headers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from console.web import labels

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]), auto_reload=False
    )
    env.filters.update(
        local=labels.local_time,
        date=lambda v: labels.local_time(v, with_time=False),
        level=lambda v: labels.LEVELS.get(int(v), "—") if v not in (None, "") else "—",
        level_colour=lambda v: labels.LEVEL_COLOURS.get(int(v), "#999") if v not in (None, "") else "#999",
        colour_name=lambda v: labels.COLOUR_NAMES.get(int(v), "") if v not in (None, "") else "",
        enterprise_status=lambda v: labels.label(labels.ENTERPRISE_STATUS, v),
        delivery=lambda v: labels.label(labels.DELIVERY, v),
        danger_state=lambda v: labels.label(labels.DANGER_STATE, v),
        case_step=lambda v: labels.label(labels.CASE_STEP, v),
        standing=lambda v: labels.label(labels.STANDING, v),
        source=lambda v: labels.label(labels.SOURCE, v),
        month_zh=labels.month_zh,
        tojson_attr=lambda v: json.dumps(v, ensure_ascii=False),
    )
    from console.readmodel.summaries import FIELDS

    env.globals.update(labels=labels, field_names=FIELDS)
    return env


ENV = environment()


def secure(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page of the console, with the signed-in user and the navigation of their role."""
    session = getattr(request.state, "session", None)
    html = ENV.get_template(template).render(
        request=request, session=session, path=request.url.path, **context
    )
    return secure(HTMLResponse(html, status_code=status_code))  # type: ignore[return-value]


def error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return page(request, "error.html", status_code=status_code, message=message)


def redirect(url: str) -> RedirectResponse:
    return secure(RedirectResponse(url, status_code=303))  # type: ignore[return-value]
