"""The console's Starlette application: its routes, and what every request can reach."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from console.web import auth, overview
from console.web.render import CSP, error
from console.web.sessions import Sessions

log = structlog.get_logger(__name__)
ROOT = Path(__file__).resolve().parents[2]
STATIC = Path(__file__).resolve().parent.parent / "static"
# ECharts from the npm registry (tools/package.json), served by the hub: nothing is fetched at run time
ECHARTS = ROOT / "tools" / "node_modules" / "echarts" / "dist" / "echarts.min.js"


@dataclass
class Console:
    """What the pages read from: the read model, the services (nameko RPC), the audit endpoint."""

    store: Any  # console.readmodel.store.ConsoleApplication
    services: Any  # services.backbone.rpc_client.Services
    audit: Any  # console.audit_client.AuditClient
    sessions: Sessions
    secure_cookies: bool = False  # HUB_CONSOLE_SECURE_COOKIES: the session cookie only over TLS


def echarts(request: Request) -> Response:
    if not ECHARTS.exists():
        return error(request, 404, "图表组件未安装（make setup 安装）。")
    response = FileResponse(ECHARTS, media_type="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def not_found(request: Request, exc: Exception) -> Response:
    return error(request, 404, "页面不存在。")


def server_error(request: Request, exc: Exception) -> Response:
    """A fault of the console: logged with its reference, shown in Chinese (not a stack trace)."""
    reference = uuid.uuid4().hex[:12]
    log.error("console_page_failed", path=request.url.path, reference=reference, exc_info=exc)
    return error(request, 500, f"系统内部错误，请稍后重试。如多次出现，请将编号 {reference} 告知平台管理员。")


def routes() -> list[Any]:
    from console.web import activity, audit_pages, campaigns, enterprise, report

    return [
        Route("/", auth.home),
        Route("/login", auth.login_page, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Route("/dashboard", overview.dashboard_page),
        Route("/book", overview.book_page),
        Route("/book.{fmt:str}", overview.book_download),
        *enterprise.ROUTES,
        *activity.ROUTES,
        *campaigns.ROUTES,
        *report.ROUTES,
        *audit_pages.ROUTES,
        Route("/static/echarts.min.js", echarts),
        Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
    ]


def create_app(console: Console) -> Starlette:
    app = Starlette(routes=routes(), exception_handlers={404: not_found, Exception: server_error})
    app.state.console = console
    app.add_middleware(Headers)
    # a run this process did not finish (it was stopped meanwhile) will not finish now
    console.store.execute(
        "UPDATE @verifications SET outcome = 'error', report = %(report)s WHERE outcome = 'running'",
        {"report": '{"error": "核验未能完成：工作台重新启动。"}'},
    )
    return app


class Headers:
    """Security headers on every response, static files included (pages set their own CSP first), and
    the time the server took (Server-Timing: app;dur=ms, what the page benchmark reads)."""

    EXTRA = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = time.perf_counter()

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = (
                    [(b"content-security-policy", CSP.encode())]
                    if b"content-security-policy" not in present
                    else []
                )
                extra += [(k, v) for k, v in self.EXTRA if k not in present]
                took = f"app;dur={(time.perf_counter() - started) * 1000:.1f}".encode()
                message["headers"] = [*message.get("headers", []), *extra, (b"server-timing", took)]
            await send(message)

        await self.app(scope, receive, with_headers)
