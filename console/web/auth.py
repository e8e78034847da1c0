"""Signing in (a department's token, or an auditor's), signing out, and who may open which page."""

from __future__ import annotations

import functools
import secrets
import time
from collections.abc import Callable
from typing import Any

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from console.web.render import error, page, redirect
from console.web.sessions import COOKIE, LOGIN_COOKIE, Session
from services.backbone.errors import DomainError, PermissionDeniedError, UnavailableError

log = structlog.get_logger(__name__)
TOWN_OFFICE = "镇安委会办公室"
HOME = {"office": "/dashboard", "department": "/dashboard", "auditor": "/audit"}
Endpoint = Callable[..., Response]


def current(request: Request) -> Session | None:
    return request.app.state.console.sessions.get(request.cookies.get(COOKIE, ""))


def requires(*roles: str, action: bool = False) -> Callable[[Endpoint], Any]:
    """The page needs a session of one of these roles (the sign-in page otherwise). An action (a POST)
    needs the session's CSRF token in its form too, and its endpoint gets the form."""

    def allowed(request: Request) -> Session | Response:
        session = current(request)
        try:
            ended = session is not None and session.due() and not still_valid(request, session)
        except UnavailableError:
            return error(request, 503, "系统服务暂时无法访问，请稍后重试。")
        if session is not None and ended:
            request.app.state.console.sessions.close(request.cookies.get(COOKIE, ""))
            log.info("console_session_ended", role=session.role, department=session.department)
            session = None
        if session is None:
            return (
                error(request, 401, "请先登录。") if action else redirect(f"/login?next={request.url.path}")
            )
        request.state.session = session
        if session.role not in roles:
            return error(request, 403, "当前账号无权访问此页面。")
        return session

    def call(endpoint: Endpoint, request: Request, *args: Any) -> Response:
        try:
            return endpoint(request, *args)
        except UnavailableError:
            return error(request, 503, "系统服务暂时无法访问，请稍后重试。")

    def wrap(endpoint: Endpoint) -> Any:
        if not action:

            @functools.wraps(endpoint)
            def guarded(request: Request) -> Response:
                found = allowed(request)
                return found if isinstance(found, Response) else call(endpoint, request, found)

            return guarded

        @functools.wraps(endpoint)
        async def guarded_action(request: Request) -> Response:
            found = await run_in_threadpool(allowed, request)  # it may ask the services
            if isinstance(found, Response):
                return found
            form = await request.form()
            if not found.csrf_ok(str(form.get("csrf", ""))):
                return error(request, 403, "表单已过期，请刷新页面后重试。")
            return await run_in_threadpool(call, endpoint, request, found, form)

        return guarded_action

    return wrap


def login_form(request: Request, message: str = "", status_code: int = 200) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = page(
        request,
        "login.html",
        status_code=status_code,
        login_token=token,
        message=message,
        next=_next(request.query_params.get("next", "")),
    )
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return response


def _next(url: str) -> str:
    """Only a path of this console (never another site) to go on to after signing in."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else ""


def login_page(request: Request) -> Response:
    if current(request) is not None:
        return redirect("/")
    return login_form(request)


async def login(request: Request) -> Response:
    form = await request.form()
    given = str(form.get("login_token", ""))
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(given.encode(), expected.encode()):
        return login_form(request, "页面已过期，请重新登录。", 400)
    console = request.app.state.console
    address = request.client.host if request.client else "?"
    if console.sessions.throttled(address):
        return login_form(request, "登录失败次数过多，请五分钟后再试。", 429)
    role = str(form.get("role", ""))
    token = str(form.get("token", "")).strip()
    try:
        if role == "auditor":
            session = await run_in_threadpool(_auditor, console, token)
        else:
            session = await run_in_threadpool(
                _department, console, str(form.get("department", "")).strip(), token
            )
    except UnavailableError:
        return login_form(request, "系统服务暂时无法访问，请稍后重试。", 503)
    if session is None:
        console.sessions.failed(address)
        log.info("console_sign_in_refused", role=role, address=address)
        return login_form(request, "部门代码或令牌不正确。" if role != "auditor" else "审计令牌不正确。", 401)
    sid = console.sessions.open(session)
    log.info("console_signed_in", role=session.role, department=session.department)
    response = redirect(_next(str(form.get("next", ""))) or HOME[session.role])
    secure = request.url.scheme == "https" or console.secure_cookies
    response.set_cookie(COOKIE, sid, httponly=True, samesite="lax", secure=secure)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


def _authenticated(console: Any, code: str, token: str) -> str | None:
    """The department whose token this is (a removed department's tokens are refused), or None."""
    if not code or not token:
        return None
    try:
        return str(console.services.call("dangers", "authenticate_inspector", code, token))
    except UnavailableError:
        raise  # the services cannot say: not a wrong token
    except (PermissionDeniedError, DomainError):
        return None


def _department(console: Any, code: str, token: str) -> Session | None:
    found = _authenticated(console, code, token)
    if found is None:
        return None
    code = found
    try:
        record = console.services.call("registry", "get_department", code)
    except UnavailableError:
        raise
    except DomainError:  # removed between the two calls
        return None
    office = record.get("kind") == TOWN_OFFICE and bool(record.get("town"))
    return Session(
        role="office" if office else "department",
        name=str(record.get("name") or code),
        department=code,
        town=str(record.get("town") or "") if office else "",
        kind=str(record.get("kind") or ""),
        token=token,
    )


def still_valid(request: Request, session: Session) -> bool:
    """The session's credential checked again: the department's token (issued anew, or the department
    removed, it fails) or the auditor's (the audit endpoint decides). Raises UnavailableError when the
    services cannot say: the page answers 503, and the session is not ended for a broker's restart."""
    console = request.app.state.console
    if session.role == "auditor":
        valid = _auditor(console, session.audit_token) is not None
    else:
        valid = _authenticated(console, session.department, session.token) == session.department
    if valid:
        session.checked = time.monotonic()
    return valid


def _auditor(console: Any, token: str) -> Session | None:
    if not token:
        return None
    try:
        accepted = console.audit.accepts(token)
    except Exception as failure:  # noqa: BLE001 - the endpoint is down: say so, not "wrong token"
        raise UnavailableError("(audit)", f"the audit endpoint cannot be reached: {failure}") from failure
    return Session(role="auditor", name="审计人员", audit_token=token) if accepted else None


async def logout(request: Request) -> Response:
    form = await request.form()
    session = current(request)
    if session is not None and session.csrf_ok(str(form.get("csrf", ""))):
        request.app.state.console.sessions.close(request.cookies.get(COOKIE, ""))
    response = redirect("/login")
    response.delete_cookie(COOKIE)
    return response


def home(request: Request) -> Response:
    session = current(request)
    return redirect(HOME[session.role] if session else "/login")
