"""Risk points through the real gateway, services, broker and filing view: grading, the bulk import
stream, isolation between enterprises, warning cards (one hub, started as `make run` starts it)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from hub.v1 import enterprise_pb2, enterprise_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import riskpoint_pb2 as pb

from services.backbone.edge.status import field_violations
from services.backbone.relay import envelopes_after
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.riskpoint_views import riskpoint_register
from services.riskpoints.application import RiskPointsApplication
from tests.conftest import ROOT, Hub, isolated_hub_settings, wait_for
from tests.factories import enterprise_fields
from tests.riskpoint_factories import item, item_message

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def rp_hub(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    tmp = tmp_path_factory.mktemp("hub")
    with isolated_hub_settings(tmp) as settings:
        running = Hub(settings, tmp)
        try:
            yield running.start_all()
        finally:
            running.stop()


class Erp:
    """One enterprise's ERP system talking to the gateway with its own credential."""

    def __init__(self, hub: Hub, n: int) -> None:
        self.channel = grpc.insecure_channel(hub.gateway_address)
        fields = enterprise_fields(n)
        contacts = [enterprise_pb2.Contact(**c) for c in fields.pop("contacts")]
        answer = enterprise_pb2_grpc.EnterpriseServiceStub(self.channel).RegisterEnterprise(
            enterprise_pb2.RegisterEnterpriseRequest(
                profile=enterprise_pb2.EnterpriseProfile(**fields, contacts=contacts)
            ),
            metadata=[("x-hub-registration-token", hub.registration_token)],
        )
        self.enterprise_id = answer.enterprise_id
        self.metadata = [("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret)]
        self.stub = riskpoint_pb2_grpc.RiskPointServiceStub(self.channel)

    def __getattr__(self, rpc: str) -> Any:
        method = getattr(self.stub, rpc)
        return lambda request: method(request, metadata=self.metadata)

    def create(self, fields: dict[str, Any]) -> pb.RiskPoint:
        return self.CreateRiskPoint(pb.CreateRiskPointRequest(risk_point=item_message(fields))).risk_point

    def import_(self, items: list[dict[str, Any]], import_id: str = "", chunk: int = 100) -> list[Any]:
        def requests() -> Iterator[pb.ImportRiskPointsRequest]:
            for i in range(0, len(items), chunk):
                messages = [item_message(f) for f in items[i : i + chunk]]
                yield pb.ImportRiskPointsRequest(import_id=import_id, items=messages)

        return list(self.stub.ImportRiskPoints(requests(), metadata=self.metadata))


@pytest.fixture(scope="module")
def erp_a(rp_hub: Hub) -> Erp:
    return Erp(rp_hub, 401)


@pytest.fixture(scope="module")
def erp_b(rp_hub: Hub) -> Erp:
    return Erp(rp_hub, 402)


def refused(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value


def published(hub: Hub, types: tuple[str, ...] = ()) -> list[Any]:
    """The riskpoints events the relay publishes (internal bookkeeping excluded)."""
    app = open_store(RiskPointsApplication, hub.settings)
    try:
        found, position = [], 0
        while True:
            page, last = envelopes_after(app, position, 5000)
            found.extend(e for e in page if not types or e.type in types)
            if last == position:
                return found
            position = last
    finally:
        app.close()


def test_lec_and_ls_grades_tiers_and_history_through_the_gateway(erp_a: Erp) -> None:
    lec = erp_a.create(item(1, level=2))
    assert (lec.level, lec.colour, lec.level_label, lec.control_tier) == (2, "橙", "较大风险", "车间")
    assert lec.assessments[0].value == 270 and not lec.control_tier_overridden
    ls = erp_a.create(
        item(2, level=3, assessment={"method": "LS", "scores": {"L": 4, "S": 5}}, adjacent_units=["西邻"])
    )
    assert (ls.level, ls.colour, ls.control_tier, ls.assessments[0].value) == (1, "红", "公司", 20)
    raised = erp_a.create(item(3, level=4, control_tier="车间"))
    assert (raised.level, raised.control_tier, raised.control_tier_overridden) == (4, "车间", True)

    lowered = refused(lambda: erp_a.create(item(4, level=1, control_tier="岗位")))
    assert lowered.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(lowered)] == ["risk_point.control_tier"]
    bad = refused(lambda: erp_a.create(item(5, assessment={"method": "LEC", "scores": {"L": 7, "E": 6}})))
    assert dict(field_violations(bad)).keys() == {
        "risk_point.assessment.scores.L",
        "risk_point.assessment.scores.C",
    }

    again = erp_a.AssessRiskPoint(
        pb.AssessRiskPointRequest(
            external_id="RP-00001",
            assessment=pb.AssessmentInput(method=pb.ASSESSMENT_METHOD_LEC, scores={"L": 6, "E": 6, "C": 15}),
            reason="新增储罐",
        )
    ).risk_point
    assert [a.level for a in again.assessments] == [2, 1] and again.assessments[1].reason == "新增储罐"
    assert (again.level, again.control_tier) == (1, "公司")
    down = erp_a.UpdateRiskPoint(
        pb.UpdateRiskPointRequest(
            external_id="RP-00003",
            risk_point=pb.RiskPointInput(control_tier="岗位"),
            update_mask=["control_tier"],
        )
    )
    assert (down.risk_point.control_tier, down.risk_point.control_tier_overridden) == ("岗位", False)


def test_bulk_import_answers_every_item_and_stores_only_the_valid_ones(rp_hub: Hub, erp_a: Erp) -> None:
    items = [item(1000 + i, level=(1, 2, 3, 4)[i % 4]) for i in range(1200)]
    bad = {
        7: {"responsible_mobile": "12345"},
        480: {"category": "化工", "accident_types": ["火灾", "天灾"]},
        501: {"assessment": {"method": "LS", "scores": {"L": 6, "S": 1}}},
        1199: {"adjacent_units": [], "assessment": {"method": "LEC", "scores": {"L": 6, "E": 6, "C": 15}}},
    }
    for i, change in bad.items():
        items[i] = {**items[i], **change}
    items.append(dict(items[1195], name="又一个"))  # the same external id twice in one page

    # One message: the pages are exactly items 0-499, 500-999 and 1000-1200.
    answers = erp_a.import_(items, import_id="erp-a-full-1", chunk=len(items))
    results = [r for a in answers for r in a.results]
    assert [r.index for r in results] == list(range(len(items)))
    assert [len(a.results) for a in answers] == [500, 500, 201, 0]  # three pages, then the summary
    rejected = {
        r.index: {v.field: v.rule for v in r.violations}
        for r in results
        if r.status == pb.IMPORT_ITEM_STATUS_REJECTED
    }
    assert rejected.keys() == {*bad, 1200}
    assert rejected[7].keys() == {"responsible_mobile"}
    assert rejected[480].keys() == {"category", "accident_types[1]"}
    assert rejected[501].keys() == {"assessment.scores.L"}
    assert rejected[1199].keys() == {"adjacent_units"}
    assert "repeats item" in rejected[1200]["external_id"]
    assert all(
        r.status == pb.IMPORT_ITEM_STATUS_CREATED and r.risk_point_id
        for r in results
        if r.index not in rejected
    )
    final = answers[-1].progress
    assert (final.received, final.accepted, final.created, final.rejected) == (1201, 1196, 1196, 5)

    listed = erp_a.ListRiskPoints(pb.ListRiskPointsRequest(page_size=500))
    ours = {p.details.external_id for p in listed.risk_points}
    while listed.next_page_token:
        listed = erp_a.ListRiskPoints(
            pb.ListRiskPointsRequest(page_size=500, page_token=listed.next_page_token)
        )
        ours |= {p.details.external_id for p in listed.risk_points}
    for i in bad:
        assert items[i]["external_id"] not in ours  # nothing of an invalid item is stored
        gone = refused(
            lambda i=i: erp_a.GetRiskPoint(pb.GetRiskPointRequest(external_id=items[i]["external_id"]))
        )
        assert gone.code() == grpc.StatusCode.NOT_FOUND
    assert items[8]["external_id"] in ours and items[1198]["external_id"] in ours

    identified = published(rp_hub, ("RiskPoint.Identified",))
    assert len({e.originator_id for e in identified if e.payload["external_id"].startswith("RP-01")}) >= 1
    notices = [
        e
        for e in published(rp_hub, ("RiskPoint.AdjacentNotificationRequired",))
        if e.enterprise_id == erp_a.enterprise_id
    ]
    assert all(e.payload["adjacent_units"] and e.payload["level"] in (1, 2) for e in notices)

    # While it ran and after, the import's counts are in the store, for `hubctl riskpoints imports`.
    shown = json.loads(hubctl(rp_hub, "riskpoints", "imports", "--json"))
    mine = next(i for i in shown if i["import_id"] == "erp-a-full-1")
    assert (mine["status"], mine["pages"], mine["received"], mine["rejected"]) == ("finished", 3, 1201, 5)


def test_resending_an_import_changes_nothing(rp_hub: Hub, erp_a: Erp) -> None:
    items = [item(3000 + i, level=(2, 3, 4)[i % 3]) for i in range(600)]
    first = erp_a.import_(items)
    assert first[-1].progress.created == 600
    wait_for(lambda: len(published(rp_hub)) > 0, what="events")
    before = published(rp_hub)

    again = erp_a.import_(items, chunk=600)
    statuses = {r.status for a in again for r in a.results}
    assert statuses == {pb.IMPORT_ITEM_STATUS_UNCHANGED}
    assert again[-1].progress.unchanged == 600 and again[-1].progress.created == 0
    assert len(published(rp_hub)) == len(before)  # not one new event

    changed = [dict(items[0], location="二车间"), *items[1:]]
    third = [r for a in erp_a.import_(changed) for r in a.results]
    assert [r.status for r in third].count(pb.IMPORT_ITEM_STATUS_CHANGED) == 1
    new = published(rp_hub)[len(before) :]
    assert [(e.type, e.payload["changes"]) for e in new] == [("RiskPoint.Updated", {"location": "二车间"})]


def test_an_enterprise_cannot_touch_another_enterprises_risk_points(erp_a: Erp, erp_b: Erp) -> None:
    theirs = erp_a.create(item(5001, level=3))
    rid = theirs.risk_point_id
    calls = [
        lambda: erp_b.GetRiskPoint(pb.GetRiskPointRequest(risk_point_id=rid)),
        lambda: erp_b.RetireRiskPoint(pb.RetireRiskPointRequest(risk_point_id=rid, reason="x")),
        lambda: erp_b.UpdateRiskPoint(
            pb.UpdateRiskPointRequest(
                risk_point_id=rid, risk_point=pb.RiskPointInput(name="x"), update_mask=["name"]
            )
        ),
        lambda: erp_b.AssessRiskPoint(
            pb.AssessRiskPointRequest(
                risk_point_id=rid,
                assessment=pb.AssessmentInput(method=pb.ASSESSMENT_METHOD_LS, scores={"L": 1, "S": 1}),
            )
        ),
        lambda: erp_b.GetWarningCard(
            pb.GetWarningCardRequest(risk_point_id=rid, format=pb.WARNING_CARD_FORMAT_HTML)
        ),
    ]
    for call in calls:
        assert refused(call).code() == grpc.StatusCode.PERMISSION_DENIED
    # B's own risk point with A's external id is a different one; A's stays as it was.
    mine = erp_b.create(item(5001, level=4))
    assert mine.risk_point_id != rid
    assert erp_a.GetRiskPoint(pb.GetRiskPointRequest(risk_point_id=rid)).risk_point.version == theirs.version
    assert erp_b.ListRiskPoints(pb.ListRiskPointsRequest()).total_size == 1


def test_a_level_one_risk_point_reaches_the_filing_view(rp_hub: Hub, erp_b: Erp) -> None:
    created = erp_b.create(item(6001, level=1, location="罐区 3 号储罐"))
    filing = open_store(FilingApplication, rp_hub.settings)
    try:

        def row() -> dict[str, Any] | None:
            rows = riskpoint_register(filing, erp_b.enterprise_id)
            return next((r for r in rows if r["risk_point_id"] == created.risk_point_id), None)

        seen = wait_for(row, timeout=60, what="the risk point in filing's view")
    finally:
        filing.close()
    assert (seen["level"], seen["colour"], seen["location"]) == (1, "红", "罐区 3 号储罐")
    assert seen["accident_types"] == ["火灾", "其他爆炸", "中毒和窒息"]
    assert seen["control_tier"] == "公司" and seen["control_measures"][0]["type"] == "在线监测"
    assert (seen["responsible_person"], seen["responsible_mobile"]) == ("王安全", "13912345678")
    notices = [
        e
        for e in published(rp_hub, ("RiskPoint.AdjacentNotificationRequired",))
        if e.originator_id == created.risk_point_id
    ]
    assert [n.payload["adjacent_units"] for n in notices] == [["东邻：鲁南化肥厂"]]


def test_warning_cards_through_the_gateway_and_hubctl(rp_hub: Hub, erp_b: Erp) -> None:
    point = erp_b.create(item(7001, level=2, name="液氯<钢瓶>库"))
    page = erp_b.GetWarningCard(
        pb.GetWarningCardRequest(external_id="RP-07001", format=pb.WARNING_CARD_FORMAT_HTML)
    )
    text = page.content.decode("utf-8")
    assert page.content_type.startswith("text/html") and "岗位风险告知卡" in text
    assert "液氯&lt;钢瓶&gt;库" in text and "较大风险" in text and "13912345678" in text
    pdf = erp_b.GetWarningCard(
        pb.GetWarningCardRequest(external_id="RP-07001", format=pb.WARNING_CARD_FORMAT_PDF)
    )
    assert pdf.content_type == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert b"WenQuanYi" in pdf.content or b"Noto" in pdf.content  # a CJK font is embedded
    shown = subprocess.run(
        [sys.executable, "-m", "hubctl.main", "riskpoints", "card", point.risk_point_id, "--format", "html"],
        cwd=ROOT,
        env=rp_hub.env,
        capture_output=True,
        check=True,
    )
    assert "液氯&lt;钢瓶&gt;库" in shown.stdout.decode("utf-8")


def hubctl(hub: Hub, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hubctl.main", *args], cwd=ROOT, env=hub.env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_an_interactive_import_gets_each_answer_before_it_sends_more(rp_hub: Hub) -> None:
    import queue

    erp = Erp(rp_hub, 403)
    outbox: queue.Queue[Any] = queue.Queue()

    def requests() -> Iterator[pb.ImportRiskPointsRequest]:
        while (message := outbox.get()) is not None:
            yield message

    answers = erp.stub.ImportRiskPoints(requests(), metadata=erp.metadata, timeout=60)
    outbox.put(pb.ImportRiskPointsRequest(import_id="live", items=[item_message(item(i)) for i in range(3)]))
    first = next(answers)  # a partial page is saved once the sender pauses
    assert [r.status for r in first.results] == [pb.IMPORT_ITEM_STATUS_CREATED] * 3
    assert (first.import_id, first.progress.received, first.progress.pages) == ("live", 3, 1)
    running = next(
        i for i in json.loads(hubctl(rp_hub, "riskpoints", "imports", "--json")) if i["import_id"] == "live"
    )
    assert (running["status"], running["received"], running["created"]) == ("running", 3, 3)
    outbox.put(pb.ImportRiskPointsRequest(items=[item_message(item(i)) for i in range(2, 5)]))
    second = next(answers)
    assert [r.index for r in second.results] == [3, 4, 5]
    assert [r.status for r in second.results] == [pb.IMPORT_ITEM_STATUS_UNCHANGED] + [
        pb.IMPORT_ITEM_STATUS_CREATED
    ] * 2
    assert (second.progress.received, second.progress.created, second.progress.pages) == (6, 5, 2)
    outbox.put(None)
    summary = list(answers)
    assert len(summary) == 1 and not summary[0].results and summary[0].progress.received == 6

    stranger = riskpoint_pb2_grpc.RiskPointServiceStub(erp.channel)
    unknown = refused(lambda: list(stranger.ImportRiskPoints(iter([pb.ImportRiskPointsRequest()]))))
    assert unknown.code() == grpc.StatusCode.UNAUTHENTICATED
