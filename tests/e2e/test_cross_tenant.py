"""Every id in a request belongs to the caller: every method that names an enterprise, a risk point, a
danger, a case or a delivery, called by enterprise A (or by a department that does not supervise B) with
B's ids, is refused with PERMISSION_DENIED or NOT_FOUND, and stores nothing. The table is generated from
the proto descriptors: a method added later is in it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf.descriptor import MethodDescriptor
from hub.v1 import danger_pb2, department_pb2, enterprise_pb2, filing_pb2, riskpoint_pb2, town_pb2

from services.backbone.settings import SERVICES
from services.backbone.store import open_store
from services.backbone.stream import application_class
from tests.conftest import Hub, isolated_hub_settings
from tests.e2e import hostile
from tests.e2e.danger_client import rpc
from tests.e2e.filing_flow import setup_departments
from tests.e2e.test_field_sweep import prepare

pytestmark = pytest.mark.e2e
# The ids that name another aggregate. An ERP's own external id names a risk point only where it
# addresses one (an import or a create makes the enterprise's own, whatever another's ids are).
ID_FIELDS = {"enterprise_id", "risk_point_id", "external_id", "danger_id", "case_id", "delivery_id"}
CREATING = {"CreateRiskPoint", "ImportRiskPoints"}
REFUSALS = {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND}
MODULES = (enterprise_pb2, riskpoint_pb2, danger_pb2, filing_pb2, town_pb2, department_pb2)


def names_an_id(method: MethodDescriptor) -> bool:
    return any(f.name in ID_FIELDS for _, f in hostile.paths(method.input_type))


METHODS = [
    m
    for module in MODULES
    for s in module.DESCRIPTOR.services_by_name.values()
    if s.name not in ("DepartmentPlatformService", "TownService")  # the platform's; the town's own office
    for m in s.methods
    if names_an_id(m) and m.name not in ("RegisterEnterprise", *CREATING)
]
CIDS: list[str] = []


@pytest.fixture(scope="module")
def tenants(
    infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Hub, hostile.Prepared, hostile.Prepared]]:
    """Enterprises A and B, each with a risk point, a danger, a filed register and a case; A calls with
    B's ids. Department 消防 (XF-TEZ) supervises neither, and calls with B's ids as A's metadata says."""
    tmp: Path = tmp_path_factory.mktemp("tenants")
    with isolated_hub_settings(tmp) as value:
        hub = Hub(value, tmp)
        try:
            hub.start_all()
            setup_departments(hub, {"XF-TEZ": ("消防", "127.0.0.1:9")})
            a, b = prepare(hub, 92, "RP-A"), prepare(hub, 93, "RP-B")
            token = rpc(hub, "dangers", "issue_inspector_token", "XF-TEZ", "")["token"]
            bystander = (("x-hub-department", "XF-TEZ"), ("x-hub-department-token", token))
            a.department_metadata = dict.fromkeys(("inspections", "feed", "town"), bystander)
            yield hub, a, b
        finally:
            hub.stop()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_anothers_ids_are_refused_and_nothing_is_stored(
    tenants: tuple[Hub, hostile.Prepared, hostile.Prepared], method: MethodDescriptor
) -> None:
    hub, a, b = tenants
    # B's ids, A's credentials (an enterprise's for the ERP APIs, 消防's for a department's)
    theirs = dataclasses.replace(
        b,
        enterprise_metadata=a.enterprise_metadata,
        department_metadata=a.department_metadata,
        department="XF-TEZ",
    )
    request = hostile.seed(method.input_type, theirs, hostile.today())
    cid = hostile.new_cid()
    code = hostile.call(hub.gateway_address, method, request, theirs.metadata_for(method), cid)
    CIDS.append(cid)
    assert code in REFUSALS, f"{method.full_name} with another's ids answered {code.name}"


def test_none_of_the_refused_calls_left_a_trace(
    tenants: tuple[Hub, hostile.Prepared, hostile.Prepared],
) -> None:
    hub, _, _ = tenants
    assert len(CIDS) == len(METHODS)
    refused = set(CIDS)
    for service in SERVICES:
        app = open_store(application_class(service), hub.settings)
        for topic, cid in hostile.stored_correlation_ids(app):
            assert cid not in refused, f"{service} stored {topic}"
        app.close()
