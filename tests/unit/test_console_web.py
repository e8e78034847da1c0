"""The console's server without a hub: sign-in, sessions, CSRF, who may open what, the downloads.

The read model is a real one (SQLite) fed with the services' envelopes; the services and the audit
endpoint are stand-ins that answer as the real ones do (a wrong token is refused)."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from console.readmodel.handlers import handlers
from console.readmodel.store import open_console_store
from console.readmodel.work import ViewConsumer
from console.web import sessions as session_rules
from console.web.app import Console, create_app
from console.web.sessions import COOKIE, FAILURES_ALLOWED, Sessions
from services.backbone.consumer import Delivery
from services.backbone.errors import PermissionDeniedError, UnavailableError
from services.backbone.settings import Settings
from tests.console_data import TOWN, Stream

TOKENS = {"TOWN-ZSZ": "office-token", "AJJ-TEZ": "ajj-token", "TEZ-ZJ": "zj-token"}
DEPARTMENTS = {
    "TOWN-ZSZ": {"code": "TOWN-ZSZ", "name": "张山子镇安委会办公室", "kind": "镇安委会办公室", "town": TOWN},
    "AJJ-TEZ": {"code": "AJJ-TEZ", "name": "台儿庄区应急管理局", "kind": "安监", "town": ""},
    "TEZ-ZJ": {"code": "TEZ-ZJ", "name": "台儿庄区住房和城乡建设局", "kind": "住建", "town": ""},
}
AUDITOR = "auditor-token"


class Services:
    """The nameko services as the console calls them; records what the actions asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, tuple[Any, ...]]] = []
        self.down = False  # the broker restarting: every call UNAVAILABLE

    def call(self, service: str, method: str, *args: Any) -> Any:
        self.calls.append((service, method, args))
        if self.down:
            raise UnavailableError("(rpc)", "the services cannot be reached")
        if method == "authenticate_inspector":
            if TOKENS.get(args[0]) != args[1]:
                raise PermissionDeniedError("token", "unknown department or wrong token")
            return args[0]
        if method == "get_department":
            return DEPARTMENTS[args[0]]
        if method == "open_campaign":
            return {"campaign_id": str(uuid.uuid4())}
        if method == "remind_lagging":
            return {"enterprises": len(args[3])}
        raise AssertionError(f"unexpected call {service}.{method}")

    def close(self) -> None:
        pass


class Audit:
    token = AUDITOR  # the auditors' token the endpoint takes now

    def accepts(self, token: str) -> bool:
        return token == self.token


@pytest.fixture
def town(tmp_path: Path) -> Iterator[tuple[TestClient, Services, dict[str, str]]]:
    settings = Settings(runtime_dir=tmp_path)
    store = open_console_store(settings)
    s = Stream()
    s.department("TOWN-ZSZ", "张山子镇安委会办公室", "镇安委会办公室", TOWN)
    s.department("AJJ-TEZ", "台儿庄区应急管理局", "安监")
    s.department("TEZ-ZJ", "台儿庄区住房和城乡建设局", "住建")
    made = {
        "chemical": s.enterprise(1, supervisors=("AJJ-TEZ", "TOWN-ZSZ")),
        "building": s.enterprise(2, industry="建筑施工", supervisors=("AJJ-TEZ", "TEZ-ZJ", "TOWN-ZSZ")),
    }
    for n, eid in enumerate(made.values()):
        s.risk_point(eid, n, 1)
        s.risk_point(eid, 10 + n, 2)
    s.campaign(TOWN, "2016年一企一册报备", "2016-09-15")
    for upstream, envelopes in s.by_upstream.items():
        ViewConsumer(store, handlers, settings, upstream)._record([Delivery(0, e) for e in envelopes])
    services = Services()
    client = TestClient(
        create_app(Console(store, services, Audit(), Sessions())), base_url="http://console.test"
    )
    yield client, services, made
    store.close()


def sign_in(client: TestClient, role: str, department: str = "", token: str = "") -> Any:
    page = client.get("/login")
    login_token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"login_token": login_token, "role": role, "department": department, "token": token}
    return client.post("/login", data=form, follow_redirects=False)


def csrf(client: TestClient, page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(page).text).group(1)  # type: ignore[union-attr]


def test_a_department_signs_in_with_its_token_and_gets_a_session_cookie_only(town: Any) -> None:
    client, _, _ = town
    refused = sign_in(client, "department", "TOWN-ZSZ", "ajj-token")  # another department's token
    assert refused.status_code == 401 and "部门代码或令牌不正确" in refused.text
    assert COOKIE not in client.cookies
    signed = sign_in(client, "department", "TOWN-ZSZ", "office-token")
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "office-token" not in cookie
    assert "张山子镇安全风险工作总览" in client.get("/dashboard").text


def test_the_sign_in_form_needs_its_own_token_and_goes_on_only_to_a_local_page(town: Any) -> None:
    client, _, _ = town
    forged = client.post(
        "/login", data={"role": "department", "department": "TOWN-ZSZ", "token": "office-token"}
    )
    assert forged.status_code == 400 and COOKIE not in client.cookies
    page = client.get("/login?next=//evil.example/x")
    assert 'name="next" value=""' in page.text
    login_token = re.search(r'name="login_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/login",
        data={
            "login_token": login_token,
            "role": "department",
            "department": "AJJ-TEZ",
            "token": "ajj-token",
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/dashboard"


def test_wrong_tokens_from_one_address_are_throttled(town: Any) -> None:
    client, services, _ = town
    for _ in range(FAILURES_ALLOWED):
        assert sign_in(client, "department", "AJJ-TEZ", "guess").status_code == 401
    asked = len(services.calls)
    assert sign_in(client, "department", "AJJ-TEZ", "ajj-token").status_code == 429
    assert len(services.calls) == asked  # not even asked: the right token waits too


def test_pages_send_the_signed_out_to_sign_in_and_the_wrong_role_away(town: Any) -> None:
    client, _, _ = town
    answer = client.get("/book", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/book"
    sign_in(client, "auditor", token=AUDITOR)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/audit").status_code == 200
    client.cookies.clear()
    sign_in(client, "department", "AJJ-TEZ", "ajj-token")
    assert client.get("/audit").status_code == 403
    assert client.get("/campaigns").status_code == 403  # campaigns are the town office's


def test_actions_need_the_sessions_csrf_token(town: Any) -> None:
    client, services, _ = town
    sign_in(client, "department", "TOWN-ZSZ", "office-token")
    for given in ({}, {"csrf": "forged"}):
        answer = client.post("/campaigns", data={"name": "伪造的活动", "deadline": "2016-10-01", **given})
        assert answer.status_code == 403
    assert not [c for c in services.calls if c[1] == "open_campaign"]
    token = csrf(client, "/campaigns")
    client.post(
        "/campaigns",
        data={"name": "2016年秋季报备", "deadline": "2016-10-01", "csrf": token},
        follow_redirects=False,
    )
    assert ("filing", "open_campaign", (TOWN, "2016年秋季报备", "2016-10-01")) in services.calls
    refused = client.post("/campaigns", data={"name": "坏日期", "deadline": "2016-13-01", "csrf": token})
    assert refused.status_code == 400 and "请填写正确的截止日期" in refused.text


def test_a_department_never_sees_another_departments_enterprise(town: Any) -> None:
    client, _, made = town
    sign_in(client, "department", "TEZ-ZJ", "zj-token")
    assert client.get(f"/enterprises/{made['chemical']}").status_code == 404
    assert client.get(f"/enterprises/{made['building']}").status_code == 200
    listed = client.get("/enterprises").text
    assert "测试企业0002" in listed and "测试企业0001" not in listed
    for path in ("/book", "/book.csv", "/book.csv?department=AJJ-TEZ", "/dangers", "/cases"):
        assert "测试企业0001" not in client.get(path).content.decode("utf-8"), path
    client.cookies.clear()
    sign_in(client, "department", "TOWN-ZSZ", "office-token")
    assert client.get(f"/enterprises/{made['chemical']}").status_code == 200


def test_the_book_downloads_as_xlsx_in_chinese_with_credit_codes(town: Any) -> None:
    client, _, _ = town
    sign_in(client, "department", "TOWN-ZSZ", "office-token")
    answer = client.get("/book.xlsx")
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(answer.content), read_only=True).active
    header, *lines = list(sheet.iter_rows(min_row=2, values_only=True))
    assert header[:3] == ("企业名称", "统一社会信用代码", "风险点") and header[-1] == "企业状态"
    assert len(lines) == 4 and {line[-1] for line in lines} == {"正常生产"}
    assert {line[4] for line in lines} == {"1级（重大风险）", "2级（较大风险）"}
    assert all(re.fullmatch(r"[0-9A-Z]{18}", line[1]) for line in lines)
    assert client.get("/book.docx").status_code == 404


def test_every_response_carries_the_security_headers(town: Any) -> None:
    client, _, _ = town
    for path in ("/login", "/static/console.css", "/nothing-here"):
        headers = client.get(path).headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff", path


def test_a_fault_of_the_console_is_a_chinese_page_with_a_reference_not_a_trace(town: Any) -> None:
    client, _, made = town
    faulty = TestClient(client.app, base_url="http://console.test", raise_server_exceptions=False)
    sign_in(faulty, "department", "TOWN-ZSZ", "office-token")
    point = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{made['chemical']}/point/0"))
    answer = faulty.get(f"/enterprises/{made['chemical']}/points/{point}/card.html")  # the stand-in refuses
    assert answer.status_code == 500
    assert "系统内部错误" in answer.text and re.search(r"编号 [0-9a-f]{12}", answer.text)
    assert "Traceback" not in answer.text and "AssertionError" not in answer.text


def test_a_token_issued_anew_ends_the_sessions_opened_with_the_old_one(
    town: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, services, _ = town
    monkeypatch.setattr(session_rules, "RECHECK_SECONDS", 0.0)  # checked on every page (1 s in use)
    assert sign_in(client, "department", "TEZ-ZJ", "zj-token").status_code == 303
    assert client.get("/enterprises", follow_redirects=False).status_code == 200
    checks = sum(1 for _, method, _ in services.calls if method == "authenticate_inspector")
    assert checks >= 2  # the sign-in, and again for the page
    monkeypatch.setitem(TOKENS, "TEZ-ZJ", "zj-token-2")  # `hubctl inspectors issue TEZ-ZJ`
    ended = client.get("/enterprises", follow_redirects=False)
    assert ended.status_code in (302, 303, 307) and ended.headers["location"].startswith("/login")
    monkeypatch.setitem(TOKENS, "TEZ-ZJ", "zj-token")  # even the old token valid again: the session is gone
    assert client.get("/enterprises", follow_redirects=False).headers["location"].startswith("/login")
    action = client.post("/logout", data={"csrf": "x"}, follow_redirects=False)
    assert action.status_code in (302, 303, 307)


def test_a_session_is_not_ended_while_the_services_cannot_say(
    town: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, services, _ = town
    monkeypatch.setattr(session_rules, "RECHECK_SECONDS", 0.0)
    assert sign_in(client, "department", "TOWN-ZSZ", "office-token").status_code == 303
    services.down = True
    unavailable = client.get("/dashboard", follow_redirects=False)
    assert unavailable.status_code == 503 and "系统服务暂时无法访问" in unavailable.text
    services.down = False
    assert client.get("/dashboard", follow_redirects=False).status_code == 200


def test_a_sign_in_while_the_services_are_down_is_not_a_wrong_token(town: Any) -> None:
    client, services, _ = town
    services.down = True
    answer = sign_in(client, "department", "TOWN-ZSZ", "office-token")
    assert answer.status_code == 503 and "部门代码或令牌不正确" not in answer.text


def test_an_auditor_session_ends_when_the_auditors_token_changes(
    town: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, _ = town
    monkeypatch.setattr(session_rules, "RECHECK_SECONDS", 0.0)
    assert sign_in(client, "auditor", token=AUDITOR).status_code == 303
    assert client.get("/audit", follow_redirects=False).status_code == 200
    monkeypatch.setattr(Audit, "token", "a-new-auditors-token")
    assert client.get("/audit", follow_redirects=False).headers["location"].startswith("/login")
