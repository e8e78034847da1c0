"""Filing campaigns (the town office): open one, see who filed on time, late, not at all, and remind
the lagging."""

from __future__ import annotations

import time
from datetime import date
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from console.queries import campaigns as queries
from console.queries.scope import page_number
from console.web.auth import requires
from console.web.render import error, page, redirect
from console.web.sessions import Session
from services.backbone.errors import DomainError, ValidationError

SYNC_WAIT = 5.0  # seconds an action waits for the read model to show its effect before redirecting


@requires("office")
def campaigns_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    return page(
        request,
        "campaigns.html",
        campaigns=queries.campaigns(store, session.town),
        message="",
        title="报备活动",
        today=date.today().isoformat(),
    )


def _invalid(name: str, deadline: str) -> str:
    if not name or len(name) > 100:
        return "请填写活动名称（100字以内）。"
    if "/" in name or "\\" in name:
        return "活动名称不能包含斜杠。"
    try:
        date.fromisoformat(deadline)
    except ValueError:
        return "请填写正确的截止日期（年-月-日）。"
    return ""


@requires("office", action=True)
def open_campaign(request: Request, session: Session, form: Any) -> Response:
    name, deadline = str(form.get("name", "")).strip(), str(form.get("deadline", "")).strip()
    problem = _invalid(name, deadline)
    if not problem:
        try:
            request.app.state.console.services.call("filing", "open_campaign", session.town, name, deadline)
        except ValidationError as refused:
            existing = queries.campaign(request.app.state.console.store, session.town, name)
            problem = (
                f"同名报备活动已存在，截止日期为{existing['deadline']}。"
                if existing
                else f"发起失败：{'；'.join(rule for _, rule in refused.violations)}"
            )
        except DomainError:
            problem = "发起失败，请检查填写的内容。"
    if problem:
        return page(
            request,
            "campaigns.html",
            status_code=400,
            message=problem,
            title="报备活动",
            campaigns=queries.campaigns(request.app.state.console.store, session.town),
            today=date.today().isoformat(),
        )
    _wait_for(lambda: queries.campaign(request.app.state.console.store, session.town, name))
    return redirect(f"/campaigns/{quote(name)}")


def _wait_for(check: Any) -> None:
    """The read model follows the services' events a moment later: wait for it briefly."""
    deadline = time.monotonic() + SYNC_WAIT
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)


@requires("office")
def campaign_page(request: Request, session: Session) -> Response:
    store = request.app.state.console.store
    found = queries.campaign(store, session.town, request.path_params["name"])
    if found is None:
        return error(request, 404, "没有找到该报备活动。")
    standing = request.query_params.get("standing", "")
    standing = standing if standing in queries.CONDITIONS else ""
    rows = queries.standing_page(
        store, session.town, found["deadline"], standing, page_number(request.query_params.get("page", "1"))
    )
    reminded = request.query_params.get("reminded", "")
    return page(
        request,
        "campaign.html",
        campaign=found,
        counts=queries.standings(store, session.town, found["deadline"]),
        found=rows,
        standing=standing,
        reminded=int(reminded) if reminded.isdigit() else None,
        title=f"报备活动：{found['name']}",
    )


@requires("office", action=True)
def remind(request: Request, session: Session, form: Any) -> Response:
    store = request.app.state.console.store
    found = queries.campaign(store, session.town, request.path_params["name"])
    if found is None:
        return error(request, 404, "没有找到该报备活动。")
    lagging = queries.lagging(store, session.town, found["deadline"])
    answer = request.app.state.console.services.call(
        "notifications",
        "remind_lagging",
        session.town,
        found["name"],
        found["deadline"],
        [row["enterprise_id"] for row in lagging],
    )
    return redirect(f"/campaigns/{quote(found['name'])}?reminded={int(answer.get('enterprises', 0))}")


ROUTES = [
    Route("/campaigns", campaigns_page, methods=["GET"]),
    Route("/campaigns", open_campaign, methods=["POST"]),
    Route("/campaigns/{name}", campaign_page, methods=["GET"]),
    Route("/campaigns/{name}/remind", remind, methods=["POST"]),
]
