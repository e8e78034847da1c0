"""The enforcement process manager (六个必须) on in-memory persistence."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.backbone.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionError,
    ValidationError,
)
from services.backbone.relay import envelopes_after
from services.dangers.application import DangersApplication
from services.dangers.credentials import credential_id
from tests import dangers_data as data

TOP = {
    "violation": "SAFETY_LAW_102",
    "amount": 50000,
    "document_no": "台应急罚〔2026〕12号",
    "imposed_on": "2026-11-01",
}
EXPOSURE = {"medium": "台儿庄区人民政府网站", "document_no": "曝光〔2026〕3号", "exposed_on": "2026-11-02"}


@pytest.fixture
def app() -> Iterator[DangersApplication]:
    value = DangersApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield value
    value.close()


@pytest.fixture
def enterprise(app: DangersApplication) -> str:
    eid = str(uuid.uuid4())
    data.known_enterprise(app, eid)
    return eid


def inspect(app: DangersApplication, eid: str, no: str, on: str, **more: Any) -> dict[str, Any]:
    fields = {"enterprise_id": eid, "document_no": no, "inspector_name": "郑检查", "inspected_on": on, **more}
    return app.record_inspection(data.AJ, fields, data.owns)


def opened(app: DangersApplication, eid: str) -> tuple[str, str]:
    answer = inspect(
        app, eid, "检〔2026〕1号", "2026-10-30", findings=[data.finding("重大"), data.finding("一般")]
    )
    return answer["danger_ids"][0], answer["case_ids"][0]


def order(no: str, on: str) -> dict[str, str]:
    return {"reason": "重大事故隐患整改不到位", "document_no": no, "ordered_on": on}


def test_an_inspection_covers_the_enterprise_and_a_major_finding_opens_a_case(
    app: DangersApplication, enterprise: str
) -> None:
    assert [e["enterprise_id"] for e in app.list_uninspected(data.AJ)] == [enterprise]
    assert app.list_uninspected(data.ZJ) == []  # not supervised by 住建
    answer = inspect(
        app, enterprise, "检〔2026〕1号", "2026-10-30", findings=[data.finding("重大"), data.finding("一般")]
    )
    assert len(answer["danger_ids"]) == 2 and len(answer["case_ids"]) == 1
    assert app.list_uninspected(data.AJ) == []
    case = app.get_case(data.AJ, answer["case_ids"][0])
    assert case["state"] == "opened" and case["danger_id"] == answer["danger_ids"][0]
    assert case["steps"][0] == {
        "kind": "opened",
        "document_no": "检〔2026〕1号",
        "authority": data.AJ,
        "date": "2026-10-30",
    }
    major, general = (app.get(enterprise, d) for d in answer["danger_ids"])
    assert (major["state"], major["grade"], major["source"]) == ("assessed", "重大", "government_inspection")
    assert major["finding"]["inspector_name"] == "郑检查" and general["grade"] == "一般"
    with pytest.raises(ConflictError):
        inspect(app, enterprise, "检〔2026〕1号", "2026-10-30")


def test_an_inspector_acts_only_where_the_department_supervises(
    app: DangersApplication, enterprise: str
) -> None:
    with pytest.raises(PermissionDeniedError):
        app.record_inspection(
            data.ZJ,
            {
                "enterprise_id": enterprise,
                "document_no": "1",
                "inspector_name": "x",
                "inspected_on": "2026-10-30",
            },
            data.owns,
        )
    _, case = opened(app, enterprise)
    with pytest.raises(PermissionDeniedError):
        app.impose_penalty(data.ZJ, case, TOP)


@pytest.mark.parametrize(("amount", "fragment"), [(30000, "顶格处罚"), (50001, "exceeds the legal maximum")])
def test_a_penalty_is_the_top_of_the_legal_range(
    app: DangersApplication, enterprise: str, amount: int, fragment: str
) -> None:
    _, case = opened(app, enterprise)
    with pytest.raises(ValidationError) as refused:
        app.impose_penalty(data.AJ, case, {**TOP, "amount": amount})
    assert refused.value.field == "amount"
    assert (
        fragment in refused.value.rule
        and "第一百零二条" in refused.value.rule
        and "50000" in refused.value.rule
    )
    with pytest.raises(ValidationError) as unknown:
        app.impose_penalty(data.AJ, case, {**TOP, "violation": "NO_SUCH_LAW"})
    assert unknown.value.field == "violation"
    assert app.get_case(data.AJ, case)["state"] == "opened"


def test_no_step_of_the_chain_is_skipped(app: DangersApplication, enterprise: str) -> None:
    danger, case = opened(app, enterprise)
    with pytest.raises(TransitionError) as early:
        app.record_exposure(data.AJ, case, EXPOSURE)
    assert early.value.current_state == "opened"
    app.impose_penalty(data.AJ, case, TOP)
    with pytest.raises(TransitionError):
        app.order_suspension(data.AJ, case, order("停〔2026〕1号", "2026-11-10"))
    app.record_exposure(data.AJ, case, EXPOSURE)
    with pytest.raises(TransitionError) as not_reinspected:
        app.order_suspension(data.AJ, case, order("停〔2026〕1号", "2026-11-10"))
    assert "re-inspection" in not_reinspected.value.rule
    with pytest.raises(TransitionError):
        app.order_closure(data.AJ, case, order("关〔2026〕1号", "2026-11-10"))


def test_the_whole_chain_orders_suspension_then_closure(app: DangersApplication, enterprise: str) -> None:
    danger, case = opened(app, enterprise)
    app.impose_penalty(data.AJ, case, TOP)
    app.record_exposure(data.AJ, case, EXPOSURE)
    inspect(
        app,
        enterprise,
        "复查〔2026〕1号",
        "2026-11-08",
        reinspections=[{"danger_id": danger, "still_major": True}],
    )
    with pytest.raises(ValidationError) as backdated:  # before the re-inspection it rests on
        app.order_suspension(data.AJ, case, order("停〔2026〕1号", "2026-11-07"))
    assert backdated.value.field == "ordered_on"
    assert app.order_suspension(data.AJ, case, order("停〔2026〕1号", "2026-11-10"))["state"] == "suspended"
    with pytest.raises(TransitionError):  # closure needs a failed re-inspection during the suspension
        app.order_closure(data.AJ, case, order("关〔2026〕1号", "2026-11-30"))
    inspect(
        app,
        enterprise,
        "复查〔2026〕2号",
        "2026-11-28",
        reinspections=[{"danger_id": danger, "still_major": True}],
    )
    closed = app.order_closure(data.AJ, case, order("关〔2026〕1号", "2026-11-30"))
    assert closed["state"] == "closed"
    assert [s["kind"] for s in closed["steps"]] == [
        "opened",
        "penalty",
        "exposure",
        "reinspection",
        "suspension",
        "reinspection",
        "closure",
    ]
    assert closed["steps"][1]["legal_basis"].endswith("第一百零二条")
    envelopes, _ = envelopes_after(app, 0, 1000)  # every event meets its contract
    orders = {e.type: e for e in envelopes if e.type.startswith("EnforcementCase.") and "Ordered" in e.type}
    suspension = orders["EnforcementCase.SuspensionOrdered"]
    assert suspension.enterprise_id == enterprise
    assert suspension.payload == {
        "enterprise_id": enterprise,
        "reason": "重大事故隐患整改不到位",
        "document_no": "停〔2026〕1号",
        "authority": data.AJ,
        "ordered_on": "2026-11-10",
    }
    assert orders["EnforcementCase.ClosureOrdered"].payload["document_no"] == "关〔2026〕1号"
    assert {e.enterprise_id for e in envelopes} == {enterprise}


def test_a_reinspection_that_finds_the_danger_removed_concludes_the_case(
    app: DangersApplication, enterprise: str
) -> None:
    danger, case = opened(app, enterprise)
    app.impose_penalty(data.AJ, case, TOP)
    app.record_exposure(data.AJ, case, EXPOSURE)
    inspect(
        app,
        enterprise,
        "复查〔2026〕1号",
        "2026-11-08",
        reinspections=[{"danger_id": danger, "still_major": False}],
    )
    assert app.get_case(data.AJ, case)["state"] == "concluded"
    with pytest.raises(TransitionError):
        app.order_suspension(data.AJ, case, order("停〔2026〕1号", "2026-11-10"))


def test_a_case_is_opened_by_hand_only_on_a_major_danger_without_one(
    app: DangersApplication, enterprise: str
) -> None:
    danger = app.report(enterprise, data.report(), data.owns)["danger_id"]
    step = {"document_no": "立〔2026〕9号", "opened_on": "2026-11-01", "reason": "自查上报的重大隐患"}
    app.assess(enterprise, danger, {"grade": "一般", "assessed_by": "安全科"})
    with pytest.raises(TransitionError) as general:
        app.open_case(data.AJ, danger, step)
    assert general.value.current_state == "一般"
    major = app.report(enterprise, data.report(), data.owns)["danger_id"]
    app.assess(enterprise, major, {"grade": "重大", "assessed_by": "安全科"})
    assert app.open_case(data.AJ, major, step)["state"] == "opened"
    with pytest.raises(ConflictError):
        app.open_case(data.AJ, major, step)


def test_inspector_tokens_are_hashed_and_reissuing_revokes_the_old_one(app: DangersApplication) -> None:
    first = app.issue_inspector_token(data.AJ)["token"]
    assert app.authenticate_inspector(data.AJ, first) == data.AJ
    with pytest.raises(PermissionDeniedError):
        app.authenticate_inspector(data.TOWN, first)  # another department's name
    second = app.issue_inspector_token(data.AJ)["token"]
    with pytest.raises(PermissionDeniedError):
        app.authenticate_inspector(data.AJ, first)
    assert app.authenticate_inspector(data.AJ, second) == data.AJ
    stored = [vars(e) for e in app.events.get(app.find(credential_id(data.AJ)).id)]
    assert all(first not in str(e) and second not in str(e) for e in stored)


def test_an_inspection_finding_must_be_on_a_risk_point_of_the_inspected_enterprise(
    app: DangersApplication, enterprise: str
) -> None:
    """Department AJ inspects enterprise C; a finding on B's risk point names its field, and nothing of
    the inspection is stored."""
    theirs, ours = str(uuid.uuid4()), str(uuid.uuid4())
    standing = {theirs: "other", ours: "own"}
    fields = {
        "enterprise_id": enterprise,
        "document_no": "检〔2026〕77号",
        "inspector_name": "郑检查",
        "inspected_on": "2026-10-30",
        "findings": [data.finding(risk_point_id=ours), data.finding(risk_point_id=theirs)],
    }
    before = app.recorder.max_notification_id()
    with pytest.raises(NotFoundError) as refused:
        app.record_inspection(data.AJ, fields, lambda _e, ids: {i: standing[i] for i in ids})
    assert refused.value.field == "findings[1].risk_point_id"
    assert app.recorder.max_notification_id() == before
