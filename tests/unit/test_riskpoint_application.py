"""The riskpoints application and nameko service on in-memory persistence: commands, the bulk page,
idempotency, per-town thresholds, ownership, import progress and the event contracts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from nameko.testing.services import worker_factory

from services.backbone import contracts
from services.backbone.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    TransitionError,
    ValidationError,
)
from services.backbone.relay import envelopes_after
from services.riskpoints.application import RiskPointsApplication
from services.riskpoints.service import RiskPointsService
from tests.conftest import two_processes_on_one_store
from tests.riskpoint_factories import item

POPO = {"PERSISTENCE_MODULE": "eventsourcing.popo"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RiskPointsApplication]:
    bands = tmp_path / "thresholds.yaml"
    strict = "{lec_level1_above: 100, lec_level2_min: 50, lec_level3_min: 20}"
    bands.write_text(f"default: {{}}\ntowns:\n  严镇: {strict}\n", encoding="utf-8")
    application = RiskPointsApplication(env={**POPO, "HUB_THRESHOLDS_FILE": str(bands)})
    yield application
    application.close()


def enterprise() -> str:
    return str(uuid.uuid4())


def published(app: RiskPointsApplication) -> list[Any]:
    return envelopes_after(app, 0, 100_000)[0]


def test_lec_and_ls_are_graded_through_the_service(app: RiskPointsApplication) -> None:
    registry = mock.Mock(get=mock.Mock(return_value={"town": "张山子镇"}))
    service = worker_factory(RiskPointsService, app=app, registry=registry)
    e = enterprise()
    lec = service.create(e, item(1, level=2))
    assert (lec["level"], lec["colour"], lec["control_tier"], lec["assessment"]["value"]) == (
        2,
        "橙",
        "车间",
        270,
    )
    ls = service.create(e, item(2, assessment={"method": "LS", "scores": {"L": 3, "S": 3}}))
    assert (ls["level"], ls["colour"], ls["assessment"]["value"]) == (3, "黄", 9)
    assert ls["assessment"]["thresholds"]["ls_level3_min"] == 9
    again = service.assess(
        e, ls["risk_point_id"], {"method": "LS", "scores": {"L": 4, "S": 4}}, "工艺变更", ["西邻"]
    )
    assert [a["level"] for a in again["assessments"]] == [3, 2] and again["control_tier"] == "车间"
    registry.get.assert_called_with(e)


def test_thresholds_are_those_of_the_enterprises_town(app: RiskPointsApplication) -> None:
    e = enterprise()
    scores = {"method": "LEC", "scores": {"L": 3, "E": 6, "C": 7}}  # D = 126
    default = app.create(e, item(1, level=3, assessment=scores))
    strict = app.create(e, item(2, level=1, assessment=scores), town="严镇")
    assert (default["level"], strict["level"]) == (3, 1)
    assert strict["assessment"]["thresholds"]["lec_level1_above"] == 100


def test_a_bad_thresholds_file_is_refused_naming_the_bound(tmp_path: Path) -> None:
    bands = tmp_path / "bad.yaml"
    bands.write_text("towns:\n  乱镇: {lec_level2_min: 500}\n", encoding="utf-8")
    with pytest.raises(ValidationError) as refused:
        RiskPointsApplication(env={**POPO, "HUB_THRESHOLDS_FILE": str(bands)})
    assert refused.value.field == "towns.乱镇.lec_level2_min"


def test_create_is_idempotent_and_refuses_a_different_point_under_the_same_id(
    app: RiskPointsApplication,
) -> None:
    e = enterprise()
    first = app.create(e, item(1))
    again = app.create(e, item(1))
    assert (first["created"], again["created"], again["risk_point_id"]) == (
        True,
        False,
        first["risk_point_id"],
    )
    with pytest.raises(ConflictError):
        app.create(e, item(1, name="另一个"))
    assert len(published(app)) == 1


def test_a_page_answers_each_item_and_saves_the_valid_ones_in_one_transaction(
    app: RiskPointsApplication,
) -> None:
    e = enterprise()
    items = [item(i, level=(1, 2, 3, 4)[i % 4]) for i in range(10)]
    items[3] = {
        **items[3],
        "responsible_mobile": "10086",
        "control_measures": [{"type": "祈祷", "description": ""}],
    }
    items[6] = "not an object"
    with mock.patch.object(app, "save", wraps=app.save) as save:
        answer = app.upsert_batch(e, items, import_id="imp-1")
    assert save.call_count == 1
    statuses = [r["status"] for r in answer["results"]]
    assert statuses == ["created"] * 3 + ["rejected"] + ["created"] * 2 + ["rejected"] + ["created"] * 3
    assert {tuple(v) for v in answer["results"][3]["violations"]} == {
        ("responsible_mobile", "must be an 11-digit mobile number starting with 13-19"),
        (
            "control_measures[0].type",
            "must be one of 制度管理, 物理工程, 在线监测, 视频监控, 自动化控制, 应急管理",
        ),
        ("control_measures[0].description", "is required and must not be blank"),
    }
    assert answer["counts"] == {
        "received": 10,
        "accepted": 8,
        "created": 8,
        "changed": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    with pytest.raises(NotFoundError):
        app.get(e, answer["results"][3].get("risk_point_id") or str(uuid.uuid5(uuid.UUID(e), "RP-00003")))
    assert app.list_points(e)["total"] == 8


def test_a_resent_page_changes_nothing_and_a_changed_item_only_what_changed(
    app: RiskPointsApplication,
) -> None:
    e = enterprise()
    items = [item(i, level=(2, 3)[i % 2]) for i in range(6)]
    app.upsert_batch(e, items)
    before = published(app)
    again = app.upsert_batch(e, items)
    assert {r["status"] for r in again["results"]} == {"unchanged"} and published(app) == before
    items[1] = {
        **items[1],
        "assessment": {"method": "LEC", "scores": {"L": 6, "E": 6, "C": 15}},
        "adjacent_units": ["北邻：仓储公司"],
    }
    changed = app.upsert_batch(e, items)
    assert [r["status"] for r in changed["results"]].count("changed") == 1
    new = [x.type for x in published(app)[len(before) :]]
    assert new == ["RiskPoint.Assessed", "RiskPoint.Updated", "RiskPoint.AdjacentNotificationRequired"]


def test_a_single_command_keeps_the_import_index_true(app: RiskPointsApplication) -> None:
    e = enterprise()
    app.upsert_batch(e, [item(1)])
    rid = str(uuid.uuid5(uuid.UUID(e), "RP-00001"))
    app.update(e, rid, {"location": "仓库"})
    resent = app.upsert_batch(e, [item(1)])  # the ERP's older truth wins again
    assert resent["results"][0]["status"] == "changed" and app.get(e, rid)["location"] == item(1)["location"]
    app.retire(e, rid, "拆除")
    retired = app.upsert_batch(e, [item(1)])
    assert (
        retired["results"][0]["status"] == "rejected"
        and "retired" in retired["results"][0]["violations"][0][1]
    )
    assert app.list_points(e)["total"] == 0 and app.list_points(e, include_retired=True)["total"] == 1
    with pytest.raises(TransitionError):
        app.create(e, item(1))


def test_one_enterprise_cannot_touch_anothers_risk_points(app: RiskPointsApplication) -> None:
    owner, other = enterprise(), enterprise()
    rid = app.create(owner, item(1))["risk_point_id"]
    for call in (
        lambda: app.get(other, rid),
        lambda: app.update(other, rid, {"name": "x"}),
        lambda: app.assess(other, rid, {"method": "LS", "scores": {"L": 1, "S": 1}}),
        lambda: app.retire(other, rid, "x"),
    ):
        with pytest.raises(PermissionDeniedError):
            call()
    assert app.get(owner, rid)["version"] == 1


def test_import_progress_is_counted_per_page_and_finished(app: RiskPointsApplication) -> None:
    e = enterprise()
    app.upsert_batch(e, [item(i) for i in range(3)], import_id="nightly")
    app.upsert_batch(e, [item(i) for i in range(2, 5)] + [{}], import_id="nightly")
    running = app.imports()[0]
    assert (running["status"], running["pages"], running["received"], running["created"]) == (
        "running",
        2,
        7,
        5,
    )
    assert (running["unchanged"], running["rejected"]) == (1, 1)
    assert app.finish_import(e, "nightly")["status"] == "finished"
    assert app.imports()[0]["status"] == "finished"


def test_an_import_s_last_page_finishes_it_in_the_same_save(app: RiskPointsApplication) -> None:
    e = enterprise()
    app.upsert_batch(e, [item(i) for i in range(3)], import_id="erp-9")
    last = app.upsert_batch(e, [item(i) for i in range(3, 5)], import_id="erp-9", finish=True)
    assert (last["progress"]["status"], last["progress"]["pages"], last["progress"]["created"]) == (
        "finished",
        2,
        5,
    )
    stored = app.imports()[0]
    assert (stored["status"], stored["received"]) == ("finished", 5)
    version = app.import_progress(e, "erp-9").version
    assert app.finish_import(e, "erp-9")["status"] == "finished"  # a late finish changes nothing
    assert app.import_progress(e, "erp-9").version == version


def test_every_published_event_meets_its_contract(app: RiskPointsApplication) -> None:
    e = enterprise()
    rid = app.create(e, item(1, level=1))["risk_point_id"]
    app.assess(e, rid, {"method": "LS", "scores": {"L": 2, "S": 2}}, "降级")
    app.update(e, rid, {"control_tier": "公司", "accident_types": ["触电"], "adjacent_units": []})
    app.retire(e, rid, "拆除")
    envelopes = published(app)
    kinds = {x.type for x in envelopes}
    assert kinds == {
        "RiskPoint.Identified",
        "RiskPoint.AdjacentNotificationRequired",
        "RiskPoint.Assessed",
        "RiskPoint.Updated",
        "RiskPoint.Retired",
    }
    for envelope in envelopes:
        contracts.validate("riskpoints", envelope.type, envelope.schema_version, envelope.payload)
        assert envelope.enterprise_id == e and envelope.routing_key.endswith(e)


def test_two_riskpoints_processes_importing_one_enterprise_see_each_others_pages(tmp_path: Path) -> None:
    """Each keeps the index and the import's progress it read, brought up to date from the store on every
    read: a page the other saved is neither missed (its points are known) nor overwritten."""
    one, two = two_processes_on_one_store(RiskPointsApplication, tmp_path)
    assert one.repository.cache is not None
    enterprise = str(uuid.uuid4())
    for page in range(6):  # alternating, each page also repeating the page before
        items = [item(n) for n in range(max(page - 1, 0) * 10, (page + 1) * 10)]
        answer = (one if page % 2 else two).upsert_batch(enterprise, items, import_id="erp-1")
        assert answer["counts"]["created"] == 10
        assert answer["counts"]["unchanged"] == (10 if page else 0)
    for app in (one, two):
        assert app.list_points(enterprise)["total"] == 60
        progress = app.import_progress(enterprise, "erp-1").as_dict()
        assert progress["pages"] == 6 and progress["received"] == 110
    one.close()
    two.close()
