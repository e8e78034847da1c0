"""Unit tests of the registry's aggregates: routing table, indexes, departments, the enterprise lifecycle."""

from __future__ import annotations

import uuid

import pytest

from services.backbone.errors import TransitionError
from services.registry.departments import DepartmentDirectory, DepartmentKind
from services.registry.domain import Enterprise, Status
from services.registry.index import SHARDS, EnterpriseIndex, Reindexer, Shard, keys_of, members_of, shard_of
from services.registry.routing import RoutingTable
from tests.factories import enterprise_kwargs

ORDER = {"reason": "重大隐患整改不到位", "authority": "台儿庄区安监局", "ordered_on": "2016-09-20"}


def test_every_matching_rule_adds_its_departments() -> None:
    table = RoutingTable()
    table.set_rule("*", "*", ["FIRE"])
    table.set_rule("化工", "*", ["AJ"])
    table.set_rule("化工", "张山子镇", ["SCJG", "AJ"])
    table.set_rule("建筑", "*", ["ZJ"])
    assert table.route("化工", "张山子镇") == ["AJ", "FIRE", "SCJG"]
    assert table.route("化工", "马兰屯镇") == ["AJ", "FIRE"]
    assert table.route("学校", "马兰屯镇") == ["FIRE"]


def test_setting_a_rule_to_nothing_removes_it_and_unchanged_rules_emit_nothing() -> None:
    table = RoutingTable()
    assert table.set_rule("化工", "*", ["AJ"])
    assert not table.set_rule("化工", "*", ["AJ", "AJ"])
    assert table.set_rule("化工", "*", [])
    names = [type(e).__name__ for e in table.collect_events()]
    assert names == ["Opened", "RuleSet", "RuleRemoved"]
    assert table.route("化工", "张山子镇") == []


def test_index_changes_once_per_command_and_ignores_no_ops() -> None:
    stored: dict[tuple[str, str, Shard], EnterpriseIndex] = {}
    reindexer = Reindexer(lambda kind, value, shard: stored.get((kind, value, shard)))
    reindexer.move("e1", set(), keys_of("张山子镇", "化工", ["AJ"]))
    reindexer.move("e2", set(), keys_of("张山子镇", "建筑", []))
    reindexer.move("e1", keys_of("张山子镇", "化工", ["AJ"]), keys_of("马兰屯镇", "化工", ["AJ"]))
    touched = {(i.kind, i.value, i.shard): i for i in reindexer.indexes()}
    e1, e2 = shard_of("e1"), shard_of("e2")
    assert e1 != e2  # the two land on different shards: each shard holds only its own
    assert sorted(touched[("town", "张山子镇", e2)].members) == ["e2"]
    assert ("town", "张山子镇", e1) not in touched  # e1 came and went within the command
    assert sorted(touched[("town", "马兰屯镇", e1)].members) == ["e1"]
    assert sorted(touched[("department", "AJ", e1)].members) == ["e1"]
    stored.update(touched)
    town = touched[("town", "张山子镇", e2)]
    town.collect_events()
    town.change(added={"e2"}, removed={"e9"})
    assert town.collect_events() == []
    load = lambda kind, value, shard: stored.get((kind, value, shard))  # noqa: E731
    assert members_of(load, "town", "张山子镇") == ["e2"]
    assert members_of(load, "industry", "化工") == ["e1"]


def test_a_province_sized_index_is_spread_over_its_shards() -> None:
    members = [str(uuid.uuid5(uuid.NAMESPACE_OID, f"enterprise {n}")) for n in range(100_000)]
    reindexer = Reindexer(lambda kind, value, shard: None)
    for member in members:
        reindexer.move(member, set(), {("department", "AJ")})
    shards = reindexer.indexes()
    assert len(shards) == SHARDS
    sizes = [len(s.members) for s in shards]
    assert sum(sizes) == 100_000 and max(sizes) < 2 * 100_000 // SHARDS
    assert len({s.id for s in shards}) == SHARDS


def test_an_enterprise_leaving_an_index_stored_before_the_split_is_taken_out_of_it() -> None:
    legacy = EnterpriseIndex(kind="town", value="张山子镇")  # shard None: one aggregate for the town
    legacy.change(added={"e1", "e2"}, removed=set())
    legacy.collect_events()
    stored: dict[tuple[str, str, Shard], EnterpriseIndex] = {("town", "张山子镇", None): legacy}
    load = lambda kind, value, shard: stored.get((kind, value, shard))  # noqa: E731
    assert members_of(load, "town", "张山子镇") == ["e1", "e2"]
    reindexer = Reindexer(load)
    reindexer.move("e1", {("town", "张山子镇")}, {("town", "马兰屯镇")})
    touched = {(i.kind, i.value, i.shard): i for i in reindexer.indexes()}
    assert touched[("town", "张山子镇", None)] is legacy and sorted(legacy.members) == ["e2"]
    stored.update(touched)
    assert members_of(load, "town", "张山子镇") == ["e2"]
    assert members_of(load, "town", "马兰屯镇") == ["e1"]


def test_directory_finds_the_town_office_and_kinds_parse_by_label_or_name() -> None:
    directory = DepartmentDirectory()
    directory.enter("AJ", "安监", "")
    directory.enter("ZSZ", "镇安委会办公室", "张山子镇")
    assert directory.town_office("张山子镇") == "ZSZ"
    assert directory.town_office("马兰屯镇") is None
    assert DepartmentKind.parse("安监") is DepartmentKind.parse("safety") is DepartmentKind.SAFETY
    with pytest.raises(ValueError):
        DepartmentKind.parse("公安")


def test_manual_supervisors_survive_rerouting() -> None:
    enterprise = Enterprise(**enterprise_kwargs(1))
    enterprise.assign_supervisors(["AJ"], manual=["JY"])
    enterprise.assign_supervisors(["ZJ"])
    assert enterprise.supervisors == ["JY", "ZJ"]
    assert enterprise.manual_supervisors == ["JY"]


@pytest.mark.parametrize(
    ("steps", "final"),
    [
        (["suspend", "resume"], Status.OPERATING),
        (["suspend", "close"], Status.CLOSED),
        (["close"], Status.CLOSED),
        (["suspend", "resume", "suspend"], Status.SUSPENDED),
    ],
)
def test_allowed_transitions(steps: list[str], final: Status) -> None:
    enterprise = Enterprise(**enterprise_kwargs(2))
    for n, step in enumerate(steps):
        getattr(enterprise, step)(document_no=f"doc-{n}", **ORDER)
    assert enterprise.status == final


@pytest.mark.parametrize(
    ("steps", "forbidden", "state"),
    [
        ([], "resume", "operating"),
        (["suspend"], "suspend", "suspended"),
        (["close"], "suspend", "closed"),
        (["close"], "resume", "closed"),
        (["close"], "close", "closed"),
    ],
)
def test_forbidden_transitions_name_the_current_state(steps: list[str], forbidden: str, state: str) -> None:
    enterprise = Enterprise(**enterprise_kwargs(3))
    for n, step in enumerate(steps):
        getattr(enterprise, step)(document_no=f"doc-{n}", **ORDER)
    with pytest.raises(TransitionError) as refused:
        getattr(enterprise, forbidden)(document_no="another", **ORDER)
    assert refused.value.current_state == state


def test_the_same_order_twice_changes_nothing_and_closed_refuses_updates() -> None:
    enterprise = Enterprise(**enterprise_kwargs(4))
    enterprise.suspend(document_no="doc-1", **ORDER)
    enterprise.suspend(document_no="doc-1", **ORDER)
    enterprise.close(document_no="doc-2", **ORDER)
    names = [type(e).__name__ for e in enterprise.collect_events()]
    assert names == ["Registered", "ProductionSuspended", "Closed"]
    with pytest.raises(TransitionError) as refused:
        enterprise.update_profile({"address": "新地址"})
    assert refused.value.current_state == "closed"


def test_an_index_snapshotted_as_a_sorted_list_still_loads_and_changes() -> None:
    index = EnterpriseIndex(kind="town", value="张山子镇")
    index.members = ["e1", "e3"]  # the state an earlier version's snapshot restores
    index.change(added={"e2", "e3"}, removed={"e1"})
    assert sorted(index.members) == ["e2", "e3"]
    [_, changed] = index.collect_events()
    assert (changed.added, changed.removed) == (["e2"], ["e1"])


def test_a_large_index_keeps_every_member_through_many_small_changes() -> None:
    index = EnterpriseIndex(kind="department", value="AJ")
    index.change(added={f"e{n}" for n in range(100_000)}, removed=set())
    for n in range(100):  # what a load replays between two snapshots
        index.change(added={f"new{n}"}, removed={f"e{n}"})
    assert len(index.members) == 100_000
    assert "new99" in index.members and "e99" not in index.members


def test_the_shards_a_command_touches_are_read_in_one_go() -> None:
    legacy = EnterpriseIndex(kind="town", value="张山子镇")
    legacy.change(added={"e1"}, removed=set())
    legacy.collect_events()
    stored: dict[tuple[str, str, Shard], EnterpriseIndex] = {("town", "张山子镇", None): legacy}
    asked: list[list[tuple[str, str, Shard]]] = []

    def load_many(keys: list[tuple[str, str, Shard]]) -> dict[tuple[str, str, Shard], EnterpriseIndex]:
        asked.append(list(keys))
        return {k: stored[k] for k in keys if k in stored}

    def load_one(kind: str, value: str, shard: Shard) -> EnterpriseIndex | None:
        raise AssertionError("read one at a time")

    reindexer = Reindexer(load_one, load_many)
    reindexer.move("e1", {("town", "张山子镇")}, keys_of("马兰屯镇", "化工", ["AJ"]))
    touched = {(i.kind, i.value, i.shard): i for i in reindexer.indexes()}
    assert len(asked) == 1 and len(asked[0]) == 5  # the old town's two, the new town's, industry's, AJ's
    assert touched[("town", "张山子镇", None)] is legacy and legacy.members == {}
    assert sorted(touched[("department", "AJ", shard_of("e1"))].members) == ["e1"]
