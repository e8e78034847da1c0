"""Removing a department (registry, in-memory): it leaves the directory, every routing rule and every
enterprise it supervised (routed, by hand, or as the town's office); its record and code stay."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.backbone.errors import ConflictError, NotFoundError, ValidationError
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields

AJ = {"code": "AJ", "name": "台儿庄区应急管理局", "kind": "安监", "endpoint": "aj.example.gov:7001"}
ZJ = {"code": "ZJ", "name": "台儿庄区住建局", "kind": "housing"}
ZSZ = {"code": "ZSZ-AWB", "name": "张山子镇安委会办公室", "kind": "镇安委会办公室", "town": "张山子镇"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[RegistryApplication]:
    env = {"PERSISTENCE_MODULE": "eventsourcing.popo", "HUB_RUNTIME_DIR": str(tmp_path)}
    value = RegistryApplication(env=env)
    for department in (AJ, ZJ, ZSZ):
        value.add_department(department)
    yield value
    value.close()


def supervisors(app: RegistryApplication, enterprise_id: str) -> list[str]:
    return list(app.get(enterprise_id)["supervisors"])


def test_a_removed_department_leaves_routing_and_every_enterprise(app: RegistryApplication) -> None:
    app.set_routing_rule("化工", "*", ["AJ", "ZJ"])
    app.set_routing_rule("*", "马兰屯镇", ["AJ"])
    chemical = app.register(enterprise_fields(1))["enterprise_id"]
    builder = app.register(enterprise_fields(2, industry="建筑", town="马兰屯镇"))["enterprise_id"]
    other = app.register(enterprise_fields(3, industry="建筑"))["enterprise_id"]
    app.add_supervisor(other, "AJ")  # by hand
    assert supervisors(app, chemical) == ["AJ", "ZJ", "ZSZ-AWB"]

    answer = app.remove_department("AJ")
    assert answer == {"code": "AJ", "removed": True, "reassigned": 3}
    assert supervisors(app, chemical) == ["ZJ", "ZSZ-AWB"]
    assert supervisors(app, builder) == []
    assert supervisors(app, other) == ["ZSZ-AWB"] and app.get(other)["manual_supervisors"] == []
    # the rule that named only AJ is gone, the other keeps its other department
    assert app.routing_table()["rules"] == [{"industry": "化工", "town": "*", "departments": ["ZJ"]}]
    assert app.list_enterprises(department="AJ") == []
    # enterprises registered later are not routed to it either
    later = app.register(enterprise_fields(4))["enterprise_id"]
    assert supervisors(app, later) == ["ZJ", "ZSZ-AWB"]
    assert app.apply_routing()["reassigned"] == 0


def test_a_removed_department_is_not_found_nor_listed_but_kept(app: RegistryApplication) -> None:
    app.remove_department("ZJ")
    with pytest.raises(NotFoundError, match="removed"):
        app.get_department("ZJ")
    with pytest.raises(NotFoundError, match="removed"):
        app.update_department("ZJ", {"name": "新名"})
    with pytest.raises(NotFoundError, match="removed"):
        app.pin_receipt_key("ZJ", "04" + "ab" * 64)
    assert [d["code"] for d in app.list_departments()] == ["AJ", "ZSZ-AWB"]
    everyone = {d["code"]: d["removed"] for d in app.list_departments(include_removed=True)}
    assert everyone == {"AJ": False, "ZJ": True, "ZSZ-AWB": False}
    # the routing table and manual additions refuse it; its code is not given to another department
    with pytest.raises(ValidationError, match="no department ZJ"):
        app.set_routing_rule("化工", "*", ["ZJ"])
    eid = app.register(enterprise_fields(1))["enterprise_id"]
    with pytest.raises(NotFoundError):
        app.add_supervisor(eid, "ZJ")
    with pytest.raises(ConflictError, match="removed"):
        app.add_department(ZJ)
    # removing again changes nothing
    assert app.remove_department("ZJ") == {"code": "ZJ", "removed": False, "reassigned": 0}


def test_a_removed_town_office_no_longer_supervises_its_town(app: RegistryApplication) -> None:
    eid = app.register(enterprise_fields(1))["enterprise_id"]
    assert supervisors(app, eid) == ["ZSZ-AWB"]
    assert app.remove_department("ZSZ-AWB")["reassigned"] == 1
    assert supervisors(app, eid) == []
    assert supervisors(app, app.register(enterprise_fields(2))["enterprise_id"]) == []
    # the town may have a new office (under a new code)
    app.add_department({**ZSZ, "code": "ZSZ-AWB2"})
    assert supervisors(app, eid) == ["ZSZ-AWB2"]


@pytest.mark.parametrize("code", ["", "NOPE", "bad code!"])
def test_removing_what_is_not_a_department_is_refused(app: RegistryApplication, code: str) -> None:
    with pytest.raises((NotFoundError, ValidationError)) as refused:
        app.remove_department(code)
    assert refused.value.field == "code"
