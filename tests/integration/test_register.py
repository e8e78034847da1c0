"""The register from risk point events: arrival order, re-filing after a re-grade, 一镇一册, campaigns."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from services.backbone.consumer import TrackedConsumer
from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store
from services.dangers.clock import SHANGHAI
from services.filing.application import FilingApplication
from services.filing.handlers import handlers
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from services.riskpoints.application import RiskPointsApplication
from tests.conftest import cleanup
from tests.factories import enterprise_kwargs
from tests.integration.test_filing import sign_all
from tests.riskpoint_factories import LEC_SCORES, item

pytestmark = pytest.mark.integration
TOWN = "张山子镇"


class Stream:
    """One upstream's relay and the filing service's consumer of it, driven step by step."""

    def __init__(self, upstream: HubApplication, filing: FilingApplication, settings: Settings) -> None:
        self.upstream = upstream
        self.relay = Relay(upstream, settings, subscribers=("filing",))
        self.consumer = TrackedConsumer(filing, handlers, settings, upstream.service)

    def flow(self) -> None:
        while True:
            self.relay.relay_page()
            if self.relay.caught_up:
                break
        target = relay_position(self.upstream)
        for _ in range(300):
            if self.consumer.position() >= target:
                return
            self.consumer.poll(wait=0.05)
        pytest.fail(f"filing did not catch up with {self.upstream.service}")


class Town:
    def __init__(self, settings: Settings) -> None:
        self.registry = open_store(RegistryApplication, settings)
        self.riskpoints = open_store(RiskPointsApplication, settings)
        self.filing = open_store(FilingApplication, settings)
        self.streams = [Stream(app, self.filing, settings) for app in (self.registry, self.riskpoints)]

    def flow(self) -> None:
        for stream in self.streams:
            stream.flow()

    def enterprise(self, n: int, **overrides: str) -> Enterprise:
        e = Enterprise(**enterprise_kwargs(n, town=TOWN, **overrides))
        e.assign_supervisors(["AJJ-TEZ", "TOWN-ZSZ"])
        self.registry.save(e)
        return e


@pytest.fixture
def town(settings: Settings) -> Town:
    return Town(settings)


def test_same_facts_arriving_in_another_order_compile_to_the_same_bytes(settings: Settings) -> None:
    hashes = []
    for order in ([1, 2, 3, 4], [4, 2, 3, 1]):
        apart = settings.__class__(**{**settings.__dict__, "namespace": settings.namespace + f"o{order[0]}."})
        try:
            town = Town(apart)
            e = town.enterprise(1)
            for n in order:
                town.riskpoints.create(str(e.id), item(n, level=(n % 4) + 1))
            town.flow()
            compiled = town.filing.compile(str(e.id))
            hashes.append((compiled["document_hash"], compiled["canonical"]))
        finally:
            cleanup(apart)  # its own schemas: the fixture cleans only the test's namespace
    assert hashes[0] == hashes[1]


def test_a_regrade_makes_a_new_version_and_the_diff_names_it(town: Town) -> None:
    from services.kernel import signatures

    e = town.enterprise(2)
    keys = {r.value: signatures.generate_keypair() for r in signatures.Signer}
    for role, pair in keys.items():
        e.register_public_key(role, pair.public_key_hex)
    town.registry.save(e)
    points = [town.riskpoints.create(str(e.id), item(n, level=3)) for n in (1, 2)]
    town.flow()
    first = town.filing.compile(str(e.id))
    town.filing.submit(str(e.id), 1, sign_all(first["canonical"], keys))

    def regrade_to_level_1(point: dict[str, Any]) -> None:
        town.riskpoints.assess(
            str(e.id),
            point["risk_point_id"],
            {"method": "LEC", "scores": LEC_SCORES[1]},
            adjacent_units=["东邻：鲁南化肥厂"],
        )

    regrade_to_level_1(points[0])
    town.flow()
    assert town.filing.stale_registers() == [str(e.id)]
    recompiled = town.filing.recompile_stale()
    assert [c["version"] for c in recompiled] == [2]
    assert recompiled[0]["reason"].startswith("re-file: risk point (re-)graded")
    assert town.filing.stale_registers() == []
    changes = town.filing.diff(str(e.id), 1, 2)
    assert changes["risk_points_regraded"] == [
        {"id": points[0]["risk_point_id"], "name": points[0]["name"], "from": 3, "to": 1}
    ]
    assert changes["risk_points_added"] == changes["risk_points_removed"] == []
    assert changes["risk_points_edited"] == []  # its colour and tier came with the grade: no edit

    # The recompiler asks every few seconds: each call reads only what was stored since the last.
    starts: list[int] = []
    select = town.filing.recorder.select_notifications

    def counted(*args: Any, **kwargs: Any) -> Any:
        first = kwargs["start"] + (0 if kwargs.get("inclusive_of_start", True) else 1)
        starts.append(first)  # the first notification id the read may return
        return select(*args, **kwargs)

    town.filing.recorder.select_notifications = counted  # type: ignore[method-assign]
    head = town.filing.recorder.max_notification_id()
    assert town.filing.stale_registers() == [] and starts == []
    regrade_to_level_1(points[1])
    town.flow()
    assert town.filing.stale_registers() == [str(e.id)]  # up to date for a while, then stale again
    assert starts[0] == head + 1

    # Version 2 filed: version 1 is history, superseded (its ledger kept); a retried submission of
    # version 1 answers as before; a removed risk point's diff has a level from, none to.
    town.filing.submit(str(e.id), 2, sign_all(recompiled[0]["canonical"], keys))
    assert town.filing.status(str(e.id), 1)["status"] == "superseded"
    assert town.filing.status(str(e.id), 2)["status"] == "submitted"
    assert town.filing.submit(str(e.id), 1, sign_all(first["canonical"], keys))["version"] == 1
    town.riskpoints.retire(str(e.id), points[1]["risk_point_id"], "拆除")
    town.flow()
    third = town.filing.compile(str(e.id))
    removed = town.filing.diff(str(e.id), 2, third["version"])["risk_points_removed"]
    assert removed == [{"id": points[1]["risk_point_id"], "name": points[1]["name"], "from": 3}]
    assert town.filing.status(str(e.id), 2)["status"] == "submitted"  # compiled, not filed: v2 stays


def test_town_book_lists_every_major_risk_point_of_the_town(town: Town) -> None:
    levels = {10: [1, 2, 3], 11: [2, 2, 4], 12: [3, 4]}  # enterprise n → levels of its risk points
    enterprises = {n: town.enterprise(n) for n in levels}
    elsewhere = Enterprise(**enterprise_kwargs(13, town="邳庄镇"))
    town.registry.save(elsewhere)
    for n, grades in levels.items():
        for i, level in enumerate(grades):
            town.riskpoints.create(str(enterprises[n].id), item(100 * n + i, level=level))
    town.riskpoints.create(str(elsewhere.id), item(1300, level=1))
    town.flow()

    book = town.filing.town_book(TOWN)
    # by hand: enterprise 10 has one level-1 and one level-2, enterprise 11 two level-2, 12 none
    assert (book["level_1"], book["level_2"], book["enterprises"]) == (1, 3, 2)
    assert [r["level"] for r in book["rows"]] == [1, 2, 2, 2]
    assert {r["enterprise_id"] for r in book["rows"]} == {str(enterprises[10].id), str(enterprises[11].id)}
    first = book["rows"][0]
    assert first["risk_point"] == "1000号反应釜" and first["colour"] == "红"
    assert first["departments"] == "AJJ-TEZ、TOWN-ZSZ"
    assert "在线监测" in first["control_measures"]

    lines = list(csv.reader(io.StringIO(town.filing.export_town_book(TOWN, "csv").decode("utf-8-sig"))))
    assert lines[0][0] == "企业名称" and len(lines) == 1 + 4
    assert {line[-1] for line in lines[1:]} == {"正常生产"}  # 企业状态 in Chinese, not "operating"
    sheet = load_workbook(io.BytesIO(town.filing.export_town_book(TOWN, "xlsx"))).active
    assert sheet.max_row == 2 + 4 and sheet["E3"].value == 1 and sheet["O3"].value == "正常生产"


def test_campaign_standing_of_each_enterprise(town: Town) -> None:
    from services.kernel import signatures

    filed, late, missing = (town.enterprise(n) for n in (20, 21, 22))
    keys = {r.value: signatures.generate_keypair() for r in signatures.Signer}
    for e in (filed, late):
        for role, pair in keys.items():
            e.register_public_key(role, pair.public_key_hex)
        town.registry.save(e)
    town.flow()
    today = datetime.now(SHANGHAI).date()  # deadlines are the town's calendar days, not UTC's
    town.filing.open_campaign(TOWN, "2016 风险管控", today.isoformat())
    compiled = town.filing.compile(str(filed.id))
    town.filing.submit(str(filed.id), 1, sign_all(compiled["canonical"], keys))
    tomorrow_noon = datetime.combine(today + timedelta(days=1), time(12), SHANGHAI)
    # the late one files after the deadline: judge its filing time as the day after
    compiled = town.filing.compile(str(late.id))
    town.filing.submit(str(late.id), 1, sign_all(compiled["canonical"], keys))
    status = town.filing.campaign_status(TOWN, "2016 风险管控", at=tomorrow_noon.isoformat())
    standing = {r["enterprise_id"]: r["standing"] for r in status["enterprises"]}
    assert standing[str(filed.id)] == "on_time" and standing[str(missing.id)] == "missing"
    assert status["counts"]["missing"] == 1
