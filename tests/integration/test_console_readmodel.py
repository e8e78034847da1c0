"""The console's read model on SQLite and PostgreSQL: rows made from the services' envelopes in any
order of upstreams, exactly once, and the pages' queries on them (scope, filters, order, standings)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from console.queries import audit, book, campaigns, dashboard, enterprises
from console.queries.scope import Scope
from console.readmodel import audit_rows
from console.readmodel.handlers import handlers
from console.readmodel.store import ConsoleApplication, open_console_store
from console.readmodel.work import ViewConsumer
from services.backbone.consumer import Delivery
from services.backbone.settings import Settings
from tests.console_data import OTHER_TOWN, TOWN, Stream

pytestmark = pytest.mark.integration
OFFICE = Scope(department="TOWN-ZSZ", town=TOWN)
AJJ = Scope(department="AJJ-TEZ")
ZJ = Scope(department="TEZ-ZJ")


@pytest.fixture
def store(settings: Settings) -> Iterator[ConsoleApplication]:
    app = open_console_store(settings)
    yield app
    app.close()


def apply(app: ConsoleApplication, stream: Stream, order: tuple[str, ...], settings: Settings) -> None:
    """Each upstream's envelopes through its consumer, upstreams in the given order, a page each."""
    for upstream in order:
        consumer = ViewConsumer(app, handlers, settings, upstream)
        envelopes = stream.by_upstream.get(upstream, [])
        if envelopes:
            consumer._record([Delivery(0, e) for e in envelopes])


def town() -> tuple[Stream, dict[str, Any]]:
    """Three enterprises of the town (one of them built by 住建 too), one of another town."""
    s = Stream()
    s.department("AJJ-TEZ", "台儿庄区应急管理局", "安监")
    s.department("TEZ-ZJ", "台儿庄区住房和城乡建设局", "住建")
    s.department("TOWN-ZSZ", "张山子镇安委会办公室", "镇安委会办公室", TOWN)
    made: dict[str, Any] = {"points": {}}
    for n, (industry, supervisors) in enumerate(
        [
            ("化工", ("AJJ-TEZ", "TOWN-ZSZ")),
            ("建筑施工", ("AJJ-TEZ", "TEZ-ZJ", "TOWN-ZSZ")),
            ("化工", ("AJJ-TEZ", "TOWN-ZSZ")),
        ]
    ):
        eid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"enterprise/{n}"))
        made[n] = eid
        # the risk points are published before the registration reaches the console
        made["points"][n] = [s.risk_point(eid, 10 * n + level, level) for level in (1, 2, 3, 4)]
        s.enterprise(n, industry=industry, supervisors=supervisors)
    other = s.enterprise(9, town=OTHER_TOWN, supervisors=("AJJ-TEZ",))
    made["other"] = other
    s.risk_point(other, 91, 1)
    danger = s.danger(made[0], made["points"][0][0], 1, department="AJJ-TEZ")
    s.overdue(made[0], danger)
    s.case(made[0], danger, "AJJ-TEZ")
    s.inspection(made[0], "AJJ-TEZ", [danger])
    s.filed(made[0], 1, ["AJJ-TEZ", "TOWN-ZSZ"], "2016-09-14T15:59:59+00:00")  # 23:59:59 in Beijing: on time
    s.filed(made[1], 1, ["AJJ-TEZ", "TEZ-ZJ", "TOWN-ZSZ"], "2016-09-15T16:00:00+00:00")  # the 16th: late
    s.answered(made[0], 1, "AJJ-TEZ", "acknowledged")  # an entry's own event (filed before ledgers)
    s.answered_together(
        made[1], 1, [("TEZ-ZJ", "rejected", "缺少重大风险点管控措施"), ("TOWN-ZSZ", "delivered", "")]
    )
    s.campaign(TOWN, "2016年一企一册报备", "2016-09-15")
    made["danger"] = danger
    return s, made


ORDERS = [
    ("registry", "riskpoints", "dangers", "filing"),
    ("riskpoints", "dangers", "filing", "registry"),  # everything before the enterprises exist
]


@pytest.mark.parametrize("order", ORDERS, ids=["registry-first", "registry-last"])
def test_rows_copy_their_enterprise_whichever_upstream_comes_first(
    store: ConsoleApplication, settings: Settings, order: tuple[str, ...]
) -> None:
    stream, made = town()
    apply(store, stream, order, settings)
    points = store.query("SELECT enterprise_id, town, enterprise_name, uscc FROM @risk_points")
    assert len(points) == 13 and all(p["town"] and p["enterprise_name"] and p["uscc"] for p in points)
    [danger] = store.query("SELECT * FROM @dangers")
    assert (danger["town"], danger["grade"], danger["state"]) == (TOWN, "重大", "assessed") and danger[
        "overdue_at"
    ]
    deliveries = store.query(
        "SELECT department, state, town FROM @deliveries ORDER BY department, enterprise_id"
    )
    assert {(d["department"], d["state"]) for d in deliveries} >= {
        ("AJJ-TEZ", "acknowledged"),
        ("TEZ-ZJ", "rejected"),
    }
    assert all(d["town"] == TOWN for d in deliveries)


def test_a_page_applied_again_changes_nothing(store: ConsoleApplication, settings: Settings) -> None:
    stream, _ = town()
    apply(store, stream, ORDERS[0], settings)
    before = {
        t: store.query(f"SELECT count(*) AS n FROM @{t}")[0]["n"]
        for t in ("risk_points", "events", "deliveries")
    }
    for upstream in ORDERS[0]:  # redelivered, as after a crash before the acknowledgement
        consumer = ViewConsumer(store, handlers, settings, upstream)
        consumer._open = lambda: None  # type: ignore[method-assign] - no broker: the page is given
        consumer._position = consumer.position()
        consumer._channel = type("Channel", (), {"basic_ack": lambda *a, **k: None})()
        messages = [
            type(
                "Message",
                (),
                {"body": e.to_json(), "delivery_info": {"delivery_tag": i + 1}, "properties": {}},
            )()
            for i, e in enumerate(stream.by_upstream[upstream])
        ]
        assert consumer.process(messages) == 0  # every one is at or below the tracking position
    after = {
        t: store.query(f"SELECT count(*) AS n FROM @{t}")[0]["n"]
        for t in ("risk_points", "events", "deliveries")
    }
    assert after == before


def test_the_book_is_the_scopes_level_1_and_2_points_in_the_books_order(
    store: ConsoleApplication, settings: Settings
) -> None:
    stream, made = town()
    apply(store, stream, ORDERS[1], settings)
    office = book.book_page(store, OFFICE, book.BookFilter(), 1)
    assert office.total == 6 and [r["level"] for r in office.rows] == [1, 1, 1, 2, 2, 2]
    assert {r["enterprise_id"] for r in office.rows} == {made[0], made[1], made[2]}  # not the other town's
    dangers = {r["id"]: r["major_dangers"] for r in office.rows}
    assert dangers.pop(made["points"][0][0]) == ["隐患1：消防通道堵塞"] and not any(dangers.values())
    assert book.book_counts(store, OFFICE) == {"level_1": 3, "level_2": 3, "enterprises": 3}
    # a department sees the enterprises it supervises, in any town, and no other
    assert {r["enterprise_id"] for r in book.book_page(store, ZJ, book.BookFilter(), 1).rows} == {made[1]}
    assert made["other"] in {
        r["enterprise_id"] for r in book.book_page(store, AJJ, book.BookFilter(), 1).rows
    }
    # filters narrow within the scope, never beyond it
    assert book.book_page(store, ZJ, book.BookFilter(department="AJJ-TEZ"), 1).total == 2
    assert book.book_page(store, OFFICE, book.BookFilter(level=1), 1).total == 3
    searched = book.book_page(store, OFFICE, book.BookFilter(q="企业0001"), 1)
    assert {r["enterprise_id"] for r in searched.rows} == {made[1]}
    assert book.book_page(store, OFFICE, book.BookFilter(q="%"), 1).total == 0  # LIKE's wildcards are text
    paged = book.book_page(store, OFFICE, book.BookFilter(order="enterprise"), 2, size=4)
    assert (paged.number, paged.total, len(paged.rows), paged.first, paged.last) == (2, 6, 2, 5, 6)
    beyond = book.book_page(store, OFFICE, book.BookFilter(), 99, size=4)
    assert beyond.number == 2  # a page past the end shows the last one


def test_standings_follow_the_deadline_in_beijing_time(store: ConsoleApplication, settings: Settings) -> None:
    stream, made = town()
    apply(store, stream, ORDERS[0], settings)
    before = dashboard.standings(store, TOWN, "2016-09-15", at="2016-09-15T10:00:00+00:00")
    assert before == {"on_time": 1, "late": 1, "missing": 0, "pending": 1}
    after = dashboard.standings(store, TOWN, "2016-09-15", at="2016-09-15T16:00:00+00:00")
    assert after == {"on_time": 1, "late": 1, "missing": 1, "pending": 0}
    rows = campaigns.standing_page(store, TOWN, "2016-09-15", "late", 1).rows
    assert [r["id"] for r in rows] == [made[1]]
    assert [r["enterprise_id"] for r in campaigns.lagging(store, TOWN, "2016-09-15")] == [made[2]]


def test_dashboard_figures_and_an_enterprises_page(store: ConsoleApplication, settings: Settings) -> None:
    stream, made = town()
    apply(store, stream, ORDERS[1], settings)
    figures = dashboard.dashboard(store, OFFICE)
    assert figures["levels"] == {1: 3, 2: 3, 3: 3, 4: 3}
    assert figures["dangers"] == {"open": 1, "major": 1, "overdue": 1}
    assert figures["cases"]["opened"] == 1 and figures["campaign"]["deadline"] == "2016-09-15"
    assert dashboard.dashboard(store, ZJ)["cases"]["opened"] == 0  # the case is 安监's
    assert dashboard.dashboard(store, ZJ)["deliveries"] == {"rejected": 1}
    assert enterprises.enterprise_in_scope(store, ZJ, made[0]) is None
    assert enterprises.enterprise_in_scope(store, OFFICE, made["other"]) is None
    [danger] = enterprises.dangers_with_timelines(store, made[0])
    assert [e["type"] for e in danger["timeline"]] == [
        "HiddenDanger.Reported",
        "HiddenDanger.Assessed",
        "HiddenDanger.Overdue",
    ]
    assert danger["timeline"][0]["summary"] == "报告隐患（政府检查，台儿庄区应急管理局）：隐患1：消防通道堵塞"
    [version] = enterprises.filings(store, made[1])
    assert {d["department"]: d["state"] for d in version["deliveries"]} == {
        "AJJ-TEZ": "pending",
        "TEZ-ZJ": "rejected",
        "TOWN-ZSZ": "delivered",
    }
    # the answers stored together are one line of the enterprise's timeline, the rejection's reason in it
    [line] = store.query("SELECT summary FROM @events WHERE type = 'DeliveryLedger.Recorded'")
    assert line["summary"].startswith("第1版：1个部门已退回，1个部门已送达（")
    assert line["summary"].endswith("：缺少重大风险点管控措施）")


def test_the_enterprises_counts_follow_grades_and_retirements(
    store: ConsoleApplication, settings: Settings
) -> None:
    stream, made = town()
    apply(store, stream, ORDERS[1], settings)
    first, second = made["points"][0][0], made["points"][0][1]  # enterprise 0's level 1 and level 2
    stream.emit(
        "riskpoints",
        "RiskPoint.Retired",
        first,
        {"enterprise_id": made[0], "external_id": "RP-0", "reason": "拆除"},
    )
    stream.emit(
        "riskpoints",
        "RiskPoint.Assessed",
        second,
        {
            "enterprise_id": made[0],
            "assessment": {"method": "LEC", "value": 90, "level": 3, "colour": "黄"},
            "level": 3,
            "colour": "黄",
            "control_tier": "车间",
            "control_tier_override": None,
        },
    )
    consumer = ViewConsumer(store, handlers, settings, "riskpoints")
    consumer._record([Delivery(0, e) for e in stream.by_upstream["riskpoints"][-2:]])
    assert book.book_counts(store, OFFICE) == {"level_1": 2, "level_2": 2, "enterprises": 2}
    assert dashboard.risk_levels(store, OFFICE) == {1: 2, 2: 2, 3: 4, 4: 3}
    page = book.book_page(store, OFFICE, book.BookFilter(), 1)
    assert page.total == 4 and {r["id"] for r in page.rows}.isdisjoint({first, second})


def test_the_audits_tree_heads_are_kept_once_and_cover_the_timeline(
    store: ConsoleApplication, settings: Settings
) -> None:
    stream, made = town()
    registry = stream.by_upstream["registry"]
    mine = [e.notification_id for e in registry if e.enterprise_id == made[0]]
    stream.tree_head("registry", 0, 2, 2)
    stream.tree_head("registry", 1, mine[-1] - 1, mine[-1])  # a gap in the ids: position > size
    stream.tree_head("filing", 0, 1, 1)
    apply(store, stream, (*ORDERS[0], "audit"), settings)
    for head in stream.by_upstream["audit"]:  # again, as a rebuild asks for a head the stream gave
        store.execute(audit_rows.INSERT, audit_rows.head_row(head.payload))
    state = {s["store"]: s for s in audit.chain_state(store)}
    assert state["registry"]["heads"] == 2 and state["registry"]["received"] == 2
    latest = state["registry"]["latest"]
    assert (latest["sequence"], latest["tree_size"], latest["position"]) == (1, mine[-1] - 1, mine[-1])
    assert len(latest["key"]) == 16 and latest["signature"]
    assert state["riskpoints"]["latest"] is None and state["riskpoints"]["heads"] == 0
    assert [(h["store"], h["sequence"]) for h in audit.latest_heads(store)] == [
        ("filing", 0),
        ("registry", 1),
    ]
    rows = audit.timeline(store, made[0], 1, {}).rows
    chain = {(r["upstream"], r["notification_id"]): r["chain"] for r in rows}
    assert {chain[("registry", n)] for n in mine} == {"signed"}  # every one at or below the position
    assert {c for (upstream, _), c in chain.items() if upstream == "riskpoints"} == {"unsigned"}
    ranges = {"registry": [(mine[-1], mine[-1])]}
    rows = audit.timeline(store, made[0], 1, ranges).rows
    assert [r["chain"] for r in rows if r["notification_id"] == mine[-1] and r["upstream"] == "registry"] == [
        "altered"
    ]


@pytest.mark.parametrize("seed", range(6))
def test_the_counts_per_level_equal_the_rows_after_any_pages_of_changes(
    store: ConsoleApplication, settings: Settings, seed: int
) -> None:
    """Risk points identified, re-graded (to the same level too), retired and identified again, some
    before their enterprise is registered, in pages of any size: each enterprise's counts per level are
    always what its rows say (the page's moves are taken off and put back, not counted again)."""
    rng = random.Random(seed)
    stream = Stream()
    numbers = [100 * (seed + 1) + k for k in range(3)]
    enterprises = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"enterprise/{n}")) for n in numbers]
    points: dict[str, tuple[str, int]] = {}  # point id → (enterprise, n)
    registered: set[str] = set()
    consumers = {u: ViewConsumer(store, handlers, settings, u) for u in ("registry", "riskpoints")}
    applied = {"registry": 0, "riskpoints": 0}

    def apply_some(upstream: str) -> None:
        """What the upstream published and the console has not applied yet, in pages of 1 to 12."""
        while applied[upstream] < len(stream.by_upstream[upstream]):
            start = applied[upstream]
            page = stream.by_upstream[upstream][start : start + rng.randint(1, 12)]
            consumers[upstream]._record([Delivery(0, e) for e in page])
            applied[upstream] += len(page)

    for _ in range(120):
        roll = rng.random()
        enterprise = rng.choice(enterprises)
        if roll < 0.05 and enterprise not in registered:
            stream.enterprise(numbers[enterprises.index(enterprise)], supervisors=("AJJ-TEZ",))
            registered.add(enterprise)
        elif roll < 0.45 or not points:
            n = rng.randint(0, 15)
            pid = stream.risk_point(enterprise, n, rng.randint(1, 4))  # new, or the same point again
            points[pid] = (enterprise, n)
        elif roll < 0.8:
            pid = rng.choice(list(points))
            level = rng.randint(1, 4)
            payload = {"enterprise_id": points[pid][0], "level": level, "colour": "红橙黄蓝"[level - 1]}
            stream.emit("riskpoints", "RiskPoint.Assessed", pid, {**payload, "assessment": {"level": level}})
        else:
            pid = rng.choice(list(points))
            stream.emit("riskpoints", "RiskPoint.Retired", pid, {"enterprise_id": points[pid][0]})
        if rng.random() < 0.3:
            apply_some(rng.choice(("registry", "riskpoints")))
    for enterprise in enterprises:
        if enterprise not in registered:
            stream.enterprise(numbers[enterprises.index(enterprise)], supervisors=("AJJ-TEZ",))
    apply_some("riskpoints")
    apply_some("registry")
    counted = store.query(
        "SELECT e.id, e.level1, e.level2, e.level3, e.level4, "
        + ", ".join(
            f"(SELECT count(*) FROM @risk_points r WHERE r.enterprise_id = e.id AND r.retired = 0 "
            f"AND r.level = {n}) AS rows{n}"
            for n in (1, 2, 3, 4)
        )
        + " FROM @enterprises e"
    )
    assert len(counted) == 3
    for row in counted:
        assert [row[f"level{n}"] for n in (1, 2, 3, 4)] == [row[f"rows{n}"] for n in (1, 2, 3, 4)], row
    assert sum(row[f"rows{n}"] for row in counted for n in (1, 2, 3, 4)) > 0
