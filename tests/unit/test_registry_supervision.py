"""The registry application on in-memory persistence: departments, routing, supervisors, listings, orders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.backbone.errors import ConflictError, NotFoundError, TransitionError, ValidationError
from services.registry.application import RegistryApplication
from tests.conftest import two_processes_on_one_store
from tests.factories import enterprise_fields

AJ = {"code": "AJ", "name": "台儿庄区应急管理局", "kind": "安监", "endpoint": "aj.example.gov:7001"}
ZJ = {"code": "ZJ", "name": "台儿庄区住建局", "kind": "housing"}
JY = {"code": "JY", "name": "台儿庄区教育局", "kind": "教育"}
ZSZ = {"code": "ZSZ-AWB", "name": "张山子镇安委会办公室", "kind": "镇安委会办公室", "town": "张山子镇"}
ORDER = {"reason": "重大隐患", "authority": "台儿庄区应急管理局", "ordered_on": "2016-09-20"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RegistryApplication]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "HUB_RUNTIME_DIR": str(tmp_path)}
    value = RegistryApplication(env=env)
    for department in (AJ, ZJ, JY):
        value.add_department(department)
    yield value
    value.close()


def fields(n: int, **overrides: Any) -> dict[str, Any]:
    return enterprise_fields(n, **overrides)


def supervisors(app: RegistryApplication, enterprise_id: str) -> list[str]:
    return list(app.get(enterprise_id)["supervisors"])


def violations(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return dict(error.value.violations)


def test_registration_is_routed_and_the_town_office_always_supervises(app: RegistryApplication) -> None:
    app.set_routing_rule("化工", "*", ["AJ"])
    before = app.register(fields(1))["enterprise_id"]
    assert supervisors(app, before) == ["AJ"]
    assert app.add_department(ZSZ)["created"]  # the office supervises its town at once ...
    assert supervisors(app, before) == ["AJ", "ZSZ-AWB"]
    after = app.register(fields(2))["enterprise_id"]  # ... and every enterprise registered there later
    assert supervisors(app, after) == ["AJ", "ZSZ-AWB"]
    elsewhere = app.register(fields(3, town="马兰屯镇", industry="建筑"))["enterprise_id"]
    assert supervisors(app, elsewhere) == []


def test_a_rule_change_reassigns_matching_enterprises_and_keeps_manual_ones(app: RegistryApplication) -> None:
    chemical = app.register(fields(1))["enterprise_id"]
    builder = app.register(fields(2, industry="建筑"))["enterprise_id"]
    app.add_supervisor(chemical, "JY")
    answer = app.set_routing_rule("化工", "张山子镇", ["AJ", "ZJ"])
    assert answer["reassigned"] == 1
    assert supervisors(app, chemical) == ["AJ", "JY", "ZJ"]
    assert supervisors(app, builder) == []
    assert app.set_routing_rule("化工", "张山子镇", ["ZJ"])["reassigned"] == 1
    assert supervisors(app, chemical) == ["JY", "ZJ"]
    assert app.set_routing_rule("*", "*", ["AJ"])["reassigned"] == 2
    assert app.list_enterprises(department="AJ") == app.list_enterprises()
    assert app.set_routing_rule("化工", "张山子镇", [])["reassigned"] == 1
    assert app.apply_routing() == {"checked": 2, "reassigned": 0}
    assert app.routing_table()["rules"] == [{"industry": "*", "town": "*", "departments": ["AJ"]}]
    assert [e["enterprise_id"] for e in app.list_enterprises(department="ZJ")] == []
    assert [e["enterprise_id"] for e in app.list_enterprises(department="JY")] == [chemical]


def test_manual_removal_takes_only_manual_departments(app: RegistryApplication) -> None:
    app.set_routing_rule("化工", "*", ["AJ"])
    eid = app.register(fields(1))["enterprise_id"]
    app.add_supervisor(eid, "ZJ")
    with pytest.raises(ValidationError) as routed:
        app.remove_supervisor(eid, "AJ")
    assert routed.value.field == "department"
    with pytest.raises(NotFoundError):
        app.remove_supervisor(eid, "JY")
    with pytest.raises(NotFoundError):
        app.add_supervisor(eid, "NOPE")
    assert app.remove_supervisor(eid, "ZJ")["supervisors"] == ["AJ"]


def test_listings_follow_a_change_of_town(app: RegistryApplication) -> None:
    app.add_department(ZSZ)
    one = app.register(fields(1))["enterprise_id"]
    two = app.register(fields(2))["enterprise_id"]
    app.update(one, {"town": "马兰屯镇"})
    assert [e["enterprise_id"] for e in app.list_enterprises(town="张山子镇")] == [two]
    assert [e["enterprise_id"] for e in app.list_enterprises(town="马兰屯镇")] == [one]
    assert supervisors(app, one) == []  # left the office's town
    assert [e["enterprise_id"] for e in app.list_enterprises(town="张山子镇", department="ZSZ-AWB")] == [two]


def test_rules_name_registered_departments_but_never_a_town_office(app: RegistryApplication) -> None:
    app.add_department(ZSZ)
    with pytest.raises(ValidationError) as refused:
        app.set_routing_rule("化*", "", ["AJ", "NOPE", "ZSZ-AWB", "x"])
    found = violations(refused)
    assert set(found) == {"industry", "town", "departments[1]", "departments[2]", "departments[3]"}
    assert "registered" in found["departments[1]"] and "town safety office" in found["departments[2]"]
    assert app.routing_table()["rules"] == []


def test_department_input_is_checked_field_by_field(app: RegistryApplication) -> None:
    bad = {
        "code": "a b",
        "name": " ",
        "kind": "公安",
        "endpoint": "no-port",
        "tls_ca": "abc",
        "credentials_ref": "s3cr3t",
    }
    with pytest.raises(ValidationError) as refused:
        app.add_department(bad)
    assert set(violations(refused)) == {"code", "name", "kind", "endpoint", "tls_ca", "credentials_ref"}
    with pytest.raises(ValidationError) as office:
        app.add_department({**ZSZ, "town": ""})
    assert office.value.field == "town"


def test_departments_are_idempotent_conflicting_or_updated(app: RegistryApplication) -> None:
    assert not app.add_department(AJ)["created"]
    with pytest.raises(ConflictError):
        app.add_department({**AJ, "name": "另一个名字"})
    app.add_department(ZSZ)
    with pytest.raises(ConflictError):
        app.add_department({**ZSZ, "code": "ZSZ-2"})
    changed = app.update_department("AJ", {"endpoint": "10.0.0.8:7443", "credentials_ref": "env:AJ_TOKEN"})
    assert (changed["endpoint"], changed["credentials_ref"], changed["version"]) == (
        "10.0.0.8:7443",
        "env:AJ_TOKEN",
        2,
    )
    with pytest.raises(ValidationError):
        app.update_department("AJ", {"kind": "教育"})
    assert [d["code"] for d in app.list_departments()] == ["AJ", "JY", "ZJ", "ZSZ-AWB"]


def test_a_department_s_receipt_key_is_checked_registered_or_pinned_once(app: RegistryApplication) -> None:
    from services.kernel.signatures import generate_keypair

    with pytest.raises(ValidationError) as refused:
        app.update_department("AJ", {"receipt_public_key": "04" + "ab" * 64})
    assert refused.value.field == "receipt_public_key" and "curve" in refused.value.rule
    first, second = generate_keypair().public_key_hex, generate_keypair().public_key_hex
    assert app.get_department("AJ")["receipt_public_key"] == ""
    assert app.pin_receipt_key("AJ", first)["receipt_public_key"] == first
    assert app.pin_receipt_key("AJ", second)["receipt_public_key"] == first  # pinned: kept
    assert not app.add_department(AJ)["created"]  # registering again without a key is no conflict
    with pytest.raises(ConflictError):
        app.add_department({**AJ, "receipt_public_key": second})
    # an operator changes it (the platform has a new key); given as x||y it is kept uncompressed
    assert app.update_department("AJ", {"receipt_public_key": second[2:]})["receipt_public_key"] == second
    registered = app.add_department({**JY, "code": "JY-2", "receipt_public_key": first})
    assert registered["receipt_public_key"] == first


def test_a_department_registered_before_receipt_keys_has_none(tmp_path: Path) -> None:
    """Its stored Registered event has no receipt_public_key: it reads as empty, to be pinned."""
    from services.registry.departments import Department, DepartmentKind

    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "HUB_RUNTIME_DIR": str(tmp_path)}
    old = RegistryApplication(env=env)
    department = Department(
        code="OLD",
        name="旧部门",
        kind=DepartmentKind.parse("安监"),
        town="",
        endpoint="",
        tls_ca="",
        credentials_ref="",
    )
    [registered] = department.collect_events()
    del registered.__dict__["receipt_public_key"]  # as events stored before the field existed
    old.events.put([registered])
    assert old.repository.get(department.id).receipt_public_key == ""
    old.close()


def test_orders_are_validated_and_transitions_enforced(app: RegistryApplication) -> None:
    eid = app.register(fields(1))["enterprise_id"]
    with pytest.raises(ValidationError) as refused:
        app.suspend(eid, "", "", "", "2016-9-20")
    assert set(violations(refused)) == {"reason", "document_no", "authority", "ordered_on"}
    assert app.suspend(eid, document_no="停字1号", **ORDER)["status"] == "suspended"
    assert app.suspend(eid, document_no="停字1号", **ORDER)["status"] == "suspended"  # a retried call
    with pytest.raises(TransitionError) as twice:
        app.suspend(eid, document_no="停字2号", **ORDER)
    assert twice.value.current_state == "suspended"
    assert app.resume(eid, document_no="复字1号", **ORDER)["status"] == "operating"
    assert app.close_enterprise(eid, document_no="关字1号", **ORDER)["status"] == "closed"
    with pytest.raises(TransitionError) as closed:
        app.resume(eid, document_no="复字2号", **ORDER)
    assert closed.value.current_state == "closed"
    assert [e["status"] for e in app.list_enterprises(town="张山子镇")] == ["closed"]


def test_every_published_registry_event_meets_its_contract(app: RegistryApplication) -> None:
    from services.backbone.relay import envelopes_after

    eid = app.register(fields(1))["enterprise_id"]
    app.add_department(ZSZ)
    app.update_department("AJ", {"name": "台儿庄区应急局", "tls_ca": "", "endpoint": "10.1.1.1:443"})
    app.set_routing_rule("化工", "*", ["AJ"])
    app.set_routing_rule("化工", "*", [])
    app.suspend(eid, document_no="停1", **ORDER)
    app.resume(eid, document_no="复1", **ORDER)
    app.close_enterprise(eid, document_no="关1", **ORDER)
    envelopes, _ = envelopes_after(app, 0, 1000)  # raises ContractError on the first payload that breaks one
    types = {e.type for e in envelopes}
    assert {
        "Department.Registered",
        "Department.Changed",
        "RoutingTable.RuleSet",
        "RoutingTable.RuleRemoved",
    } <= types
    assert not any(t.startswith(("EnterpriseIndex.", "DepartmentDirectory.")) for t in types)  # internal
    resumed = next(e for e in envelopes if e.type == "Enterprise.ProductionResumed")
    assert resumed.payload["reason"] == ORDER["reason"]


def test_two_registry_processes_see_each_others_registrations(tmp_path: Path) -> None:
    """Each keeps the aggregates it read (routing table, directory, index shards) and brings them up to
    date from the store on every read: what the other stored is never missed, nor overwritten."""
    one, two = two_processes_on_one_store(RegistryApplication, tmp_path)
    assert one.repository.cache is not None
    one.add_department(ZSZ)
    ids = []
    for n in range(40):  # alternating: each shard and the town index change under both
        ids.append(str((one if n % 2 else two).register(fields(n, town="张山子镇"))["enterprise_id"]))
    for app in (one, two):
        listed = {e["enterprise_id"] for e in app.list_enterprises(town="张山子镇")}
        assert listed == set(ids)
        assert all(supervisors(app, e) == ["ZSZ-AWB"] for e in ids)
    one.close()
    two.close()


def test_the_credential_key_lives_outside_the_runtime_folder(tmp_path: Path) -> None:
    """Made once in the secrets folder (0600 in 0700); an earlier hub's key under its runtime folder is
    moved there, so every enterprise's secret stays the same."""
    import stat

    from services.registry import credentials

    runtime, secrets_dir = tmp_path / "var", tmp_path / "secrets"
    runtime.mkdir()
    (runtime / "credential.key").write_text("ab" * 32, encoding="utf-8")
    assert credentials.hub_key(secrets_dir, "", runtime) == ("ab" * 32).encode()
    assert not (runtime / "credential.key").exists()
    assert stat.S_IMODE((secrets_dir / "credential.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(secrets_dir.stat().st_mode) == 0o700
    fresh = credentials.hub_key(tmp_path / "other", "", tmp_path / "none")
    assert len(fresh) == 64 and credentials.hub_key(tmp_path / "other") == fresh
    assert credentials.hub_key(secrets_dir, "configured") == b"configured"
