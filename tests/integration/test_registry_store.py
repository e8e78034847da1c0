"""The registry on both real store backends: concurrent commands on shared indexes, routing at scale."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.kernel import signatures
from services.registry.application import RegistryApplication
from services.registry.index import index_id, shard_of
from tests.factories import enterprise_fields

pytestmark = pytest.mark.integration

OFFICE = {"code": "ZSZ-AWB", "name": "张山子镇安委会办公室", "kind": "镇安委会办公室", "town": "张山子镇"}


def test_concurrent_registrations_in_one_town_all_reach_its_index(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    registry.add_department(OFFICE)
    registry.add_department({"code": "AJ", "name": "应急管理局", "kind": "安监"})
    registry.set_routing_rule("化工", "*", ["AJ"])
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: registry.register(enterprise_fields(n)), range(1, 41)))
    assert all(a["created"] for a in answers)
    in_town = registry.list_enterprises(town="张山子镇")
    assert sorted(e["enterprise_id"] for e in in_town) == sorted(a["enterprise_id"] for a in answers)
    assert {tuple(e["supervisors"]) for e in in_town} == {("AJ", "ZSZ-AWB")}
    assert len(registry.list_enterprises(department="AJ")) == 40
    registry.close()


def test_a_wildcard_rule_reroutes_every_enterprise_in_one_transaction(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    registry.add_department({"code": "FIRE", "name": "消防救援大队", "kind": "消防"})
    towns = ["张山子镇", "马兰屯镇", "涧头集镇"]
    for n in range(1, 61):
        registry.register(enterprise_fields(n, town=towns[n % 3], industry="建筑" if n % 2 else "化工"))
    head = registry.recorder.max_notification_id()
    assert registry.set_routing_rule("*", "*", ["FIRE"])["reassigned"] == 60
    assert len(registry.list_enterprises(department="FIRE")) == 60
    # One save: the new table (opened, rule set), 60 reassignments, the department's new index
    # shards (each opened, changed once for all its members), nothing else.
    ids = [e["enterprise_id"] for e in registry.list_enterprises(department="FIRE")]
    shards = {shard_of(i) for i in ids}
    for shard in shards:
        index = registry.repository.get(index_id("department", "FIRE", shard))
        assert index.version == 2 and sorted(index.members) == sorted(i for i in ids if shard_of(i) == shard)
    assert registry.recorder.max_notification_id() == head + 2 + 60 + 2 * len(shards)
    registry.close()


def test_the_department_list_is_every_record_as_it_is_now(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    for code in ("ZJ", "AJ", "JY"):
        registry.add_department({"code": code, "name": code, "kind": "安监", "endpoint": "127.0.0.1:1"})
    registry.update_department("AJ", {"endpoint": "127.0.0.1:2"})
    registry.pin_receipt_key("ZJ", signatures.generate_keypair().public_key_hex)
    registry.remove_department("JY")
    listed = registry.list_departments()
    assert listed == [registry.get_department("AJ"), registry.get_department("ZJ")]
    assert listed[0]["endpoint"] == "127.0.0.1:2" and listed[1]["receipt_public_key"]
    registry.close()


def _reads_of_one_registration(registry: RegistryApplication, n: int, **overrides: str) -> int:
    reads = 0
    get_many = registry.get_many

    def counted(*args: object, **kwargs: object) -> object:
        nonlocal reads
        reads += 1
        return get_many(*args, **kwargs)  # type: ignore[arg-type]

    registry.get_many = counted  # type: ignore[method-assign]
    try:
        assert registry.register(enterprise_fields(n, **overrides))["created"]
    finally:
        del registry.get_many
    return reads


@pytest.mark.parametrize("routing", ["no routing table", "a rule and a town office"])
def test_a_registration_reads_the_store_once(pg_settings: Settings, routing: str) -> None:
    """The enterprise, the table, the directory and the index shards it joins come in one read: its
    town's and its industry's always, its supervisors' once the table is kept (after any first
    command). A hub without routing rules used to read the shards a second time."""
    registry = open_store(RegistryApplication, pg_settings)
    try:
        if routing != "no routing table":
            registry.add_department(OFFICE)
            registry.add_department({"code": "AJ", "name": "应急管理局", "kind": "安监"})
            registry.set_routing_rule("化工", "*", ["AJ"])
        registry.register(enterprise_fields(1))  # a running hub has read its table before
        places = [{}, {"town": "马兰屯镇"}, {"industry": "建筑", "town": "涧头集镇"}]
        for n, place in enumerate(places, start=2):
            assert _reads_of_one_registration(registry, n, **place) == 1, place
        expected = ["AJ", "ZSZ-AWB"] if routing != "no routing table" else []
        last = registry.register(enterprise_fields(9))["enterprise_id"]
        assert registry.get(last)["supervisors"] == expected
        assert len(registry.list_enterprises(town="马兰屯镇")) == 1
        assert len(registry.list_enterprises(town="涧头集镇")) == 1
        assert len(registry._members("industry", "建筑")) == 1  # noqa: SLF001 - no listing by industry
    finally:
        registry.close()
