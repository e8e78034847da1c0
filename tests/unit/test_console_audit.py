"""The auditor's pages of the console against the audit endpoint as it answers now: a stand-in
AuditService / TreeHeadService served over gRPC in-process (so the console's client reads the real
messages), and a read model (SQLite) fed with the services' envelopes and the audit's TreeHead.Signed.

The chain page lists the signed tree heads the console received; a verification run shows each store's
figures as the endpoint reported them, and holds the stores to the heads the console keeps (anchors);
an enterprise's timeline says which events a signed head covers and which the run found altered."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from concurrent import futures
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import grpc
import pytest
from hub.v1 import audit_pb2, audit_pb2_grpc, department_pb2
from starlette.testclient import TestClient

from console.audit_client import TOKEN_HEADER, AuditClient
from console.readmodel.handlers import handlers
from console.readmodel.store import open_console_store
from console.readmodel.work import ViewConsumer
from console.rebuild import latest_heads
from console.web.app import Console, create_app
from console.web.sessions import Sessions
from services.backbone.consumer import Delivery
from services.backbone.settings import Settings
from tests.console_data import TOWN, Stream
from tests.e2e.browser import leaks
from tests.unit.test_console_web import DEPARTMENTS, Services, csrf, sign_in

AUDITOR = "auditor-token"
K = audit_pb2
VERIFIED = K.VerifyResponse(
    ok=False,
    stores=[
        K.StoreVerification(
            service="registry",
            store_position=7,
            events=7,
            linked_events=7,
            heads=2,
            signed_size=5,
            anchors=1,
            anchored_size=5,
            findings=[
                K.Finding(
                    kind=K.FINDING_KIND_ALTERED, service="registry", notification_id=5, last_id=6, count=2
                )
            ],
        ),
        K.StoreVerification(service="riskpoints", store_position=4, events=4, linked_events=4),
        K.StoreVerification(
            service="filing", store_position=3, events=3, linked_events=3, heads=1, signed_size=3, anchors=1
        ),
    ],
)
LATEST = department_pb2.TreeHead(
    store="dangers",
    sequence=6,
    tree_size=40,
    root_hash="c0" * 32,
    position=41,
    signed_at="2016-09-02T00:00:00+00:00",
    public_key="04" + "ef" * 64,
    signature="12" * 64,
)


class Endpoint(audit_pb2_grpc.AuditServiceServicer, audit_pb2_grpc.TreeHeadServiceServicer):  # type: ignore[misc]
    """The audit endpoint's answers: the token checked as the real one checks it, Verify's report fixed."""

    def __init__(self) -> None:
        self.verified: list[audit_pb2.VerifyRequest] = []

    def _token(self, context: grpc.ServicerContext) -> None:
        if dict(context.invocation_metadata()).get(TOKEN_HEADER) != AUDITOR:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "auditor token")

    def GetStateAsOf(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._token(context)
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "enterprise_id: required")

    def Verify(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._token(context)
        self.verified.append(request)
        return VERIFIED

    def GetLatestTreeHead(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        if request.store != LATEST.store:
            context.abort(grpc.StatusCode.NOT_FOUND, f"{request.store} has no signed head yet")
        return K.GetLatestTreeHeadResponse(head=LATEST)


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, AuditClient]]:
    servicer = Endpoint()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    audit_pb2_grpc.add_AuditServiceServicer_to_server(servicer, server)
    audit_pb2_grpc.add_TreeHeadServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    client = AuditClient(f"127.0.0.1:{port}")
    yield servicer, client
    client.close()
    server.stop(None)


@pytest.fixture
def console(
    tmp_path: Path, endpoint: tuple[Endpoint, AuditClient]
) -> Iterator[tuple[TestClient, Any, dict[str, str]]]:
    """Registry: three departments (events 1-3), two enterprises (4-5, 6-7); heads of registry at
    sizes 3 and 5 and of filing at 3; nothing signed of riskpoints."""
    settings = Settings(runtime_dir=tmp_path)
    store = open_console_store(settings)
    s = Stream()
    for code, d in DEPARTMENTS.items():
        s.department(code, d["name"], d["kind"], d["town"])
    made = {"signed": s.enterprise(1, supervisors=("AJJ-TEZ", "TOWN-ZSZ")), "later": s.enterprise(2)}
    for n, eid in enumerate(made.values()):
        s.risk_point(eid, n, 1)
    s.campaign(TOWN, "2016年一企一册报备", "2016-09-15")
    s.tree_head("registry", 0, 3, 3)
    s.tree_head("filing", 0, 1, 1)
    s.tree_head("registry", 1, 5, 5, previous_size=3)
    for upstream, envelopes in s.by_upstream.items():
        ViewConsumer(store, handlers, settings, upstream)._record([Delivery(0, e) for e in envelopes])
    client = TestClient(
        create_app(Console(store, Services(), endpoint[1], Sessions())), base_url="http://console.test"
    )
    sign_in(client, "auditor", token=AUDITOR)
    yield client, store, made
    store.close()


class Text(HTMLParser):
    """A page's body as a reader sees it (no scripts, styles or attributes); rows' cells by class."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._body = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self._body |= tag == "body"
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if self._body and not self._skip:
            self.parts.append(data)


def read(client: TestClient, path: str) -> tuple[str, str]:
    """A page's HTML and its visible text, which holds no id and no English word."""
    answer = client.get(path)
    assert answer.status_code == 200, path
    parser = Text()
    parser.feed(answer.text)
    text = " ".join(parser.parts)
    assert leaks(text) == [], f"{path}: {leaks(text)}"
    return answer.text, text


def cells(html: str, table: str) -> dict[str, dict[str, str]]:
    """The rows of a table by their store, each cell with a class by that class."""
    body = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S)
    assert body, f"no table {table}"
    found = {}
    for store, row in re.findall(r'<tr data-store="(\w+)">(.*?)</tr>', body.group(0), re.S):
        found.setdefault(store, {}).update(dict(re.findall(r'<td class="([\w-]+)">([^<]*)</td>', row)))
    return found


def test_the_chain_page_lists_the_tree_heads_the_console_received(console: Any) -> None:
    client, _, _ = console
    html, text = read(client, "/audit")
    assert "签名树头" in text and "检查点" not in text
    stores = cells(html, "stores")
    assert stores["registry"]["heads"] == "2" and stores["registry"]["signed-size"].startswith("5 个事件")
    assert stores["filing"]["heads"] == "1" and stores["riskpoints"]["heads"] == "0"
    assert "尚未签名" in stores["riskpoints"]["signed-size"]
    listed = re.findall(
        r'<tr data-store="(\w+)">.*?<td class="tree-size">(\d+)</td>',
        re.search(r'id="tree-heads".*?</table>', html, re.S).group(0),  # type: ignore[union-attr]
        re.S,
    )
    assert sorted(listed) == [("filing", "1"), ("registry", "3"), ("registry", "5")]


def test_a_verification_shows_every_store_as_the_endpoint_reported_it_held_to_the_consoles_heads(
    console: Any, endpoint: tuple[Endpoint, AuditClient]
) -> None:
    client, _, _ = console
    started = client.post(
        "/audit/verifications", data={"csrf": csrf(client, "/audit")}, follow_redirects=False
    )
    assert started.status_code == 303
    path = started.headers["location"]
    deadline = time.monotonic() + 10
    while 'id="verification-outcome"><span class="tag grey">' in client.get(path).text:
        assert time.monotonic() < deadline, "the run did not finish"
        time.sleep(0.05)
    html, text = read(client, path)
    assert "发现篡改或缺失" in text and "第5至6号事件（2个）被篡改" in text
    shown = cells(html, "verified-stores")
    assert set(shown) == {s.service for s in VERIFIED.stores}
    for s in VERIFIED.stores:
        row = shown[s.service]
        assert row["events"] == str(s.events) and row["linked"] == str(s.linked_events), s.service
        assert row["heads"] == str(s.heads) and row["signed-size"] == str(s.signed_size), s.service
        assert row["anchors"] == str(s.anchors) and row["anchored-size"] == str(s.anchored_size), s.service

    # the endpoint was asked with each store's latest head the console holds, signature and all
    [request] = endpoint[0].verified
    assert sorted((a.store, a.sequence, a.tree_size) for a in request.anchors) == [
        ("filing", 0, 1),
        ("registry", 1, 5),
    ]
    assert all(len(a.signature) == 128 and a.public_key.startswith("04") for a in request.anchors)
    html, text = read(client, "/audit")
    assert cells(html, "stores")["registry"].get("heads") == "2" and "1 处问题" in text


def statuses(client: TestClient, enterprise: str) -> list[tuple[str, int, str]]:
    """The timeline's events: (store, notification id, signed status), in the page's order."""
    html, _ = read(client, f"/audit/enterprises/{enterprise}")
    rows = re.findall(
        r"<tr><td>[^<]*</td><td>([^<]*)</td><td>(\d+)</td><td>[^<]*</td>"
        r'\s*<td><span class="tag \w+">([^<]*)<',
        html,
    )
    return [(store, int(nid), status) for store, nid, status in rows]


def test_an_enterprises_timeline_says_which_events_a_signed_head_covers(console: Any) -> None:
    client, _, made = console
    # registry's head at 5 covers the first enterprise's 4 and 5; riskpoints has no head yet
    assert statuses(client, made["signed"]) == [
        ("企业登记", 4, "已签名"),
        ("企业登记", 5, "已签名"),
        ("风险点", 1, "待签名"),
    ]
    assert statuses(client, made["later"]) == [
        ("企业登记", 6, "待签名"),
        ("企业登记", 7, "待签名"),
        ("风险点", 2, "待签名"),
    ]
    client.post("/audit/verifications", data={"csrf": csrf(client, "/audit")})  # finds 5 to 6 altered
    deadline = time.monotonic() + 10
    while statuses(client, made["later"])[0][2] != "与记录不符":
        assert time.monotonic() < deadline, "the run's finding did not reach the timeline"
        time.sleep(0.05)
    assert [s for _, _, s in statuses(client, made["signed"])] == ["已签名", "与记录不符", "待签名"]
    assert [s for _, _, s in statuses(client, made["later"])] == ["与记录不符", "待签名", "待签名"]


def test_a_rebuild_keeps_each_stores_latest_head_from_the_head_service(
    console: Any, endpoint: tuple[Endpoint, AuditClient]
) -> None:
    client, store, _ = console
    assert latest_heads(store, endpoint[1]) == 1  # only dangers has a head; the others answer NOT_FOUND
    assert latest_heads(store, endpoint[1]) == 1  # again: the same row, kept once
    rows = store.query("SELECT * FROM @tree_heads WHERE store = 'dangers'")
    assert [(r["sequence"], r["tree_size"], r["position"], r["signature"]) for r in rows] == [
        (6, 40, 41, LATEST.signature)
    ]
    stores = cells(read(client, "/audit")[0], "stores")
    assert stores["dangers"]["heads"] == "7"  # sequences are dense: seven signed, one received
