"""Hidden dangers through the real gateway: the workflow, verification rules, deadlines and escalation."""

from __future__ import annotations

import time

import grpc
import pytest
from grpc_status import rpc_status
from hub.v1 import danger_pb2 as pb
from hub.v1 import riskpoint_pb2 as rpb
from hub.v1 import riskpoint_pb2_grpc

from tests.conftest import Hub
from tests.e2e.danger_client import TOWN_OFFICE, Erp, Inspector, evidence, rpc

pytestmark = pytest.mark.e2e


def refused(call: object, *args: object) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as error:
        call(*args)  # type: ignore[operator]
    return error.value


def test_the_workflow_through_the_gateway(hub: Hub) -> None:
    channel = grpc.insecure_channel(hub.gateway_address)
    inspector = Inspector.of(hub, channel)
    erp, other = Erp.register(hub, channel, 1), Erp.register(hub, channel, 2)
    inspector.wait_uninspected(erp.enterprise_id)

    danger = erp.rectifying()
    assert erp.submit(danger).state == pb.DANGER_STATE_SUBMITTED

    # The rectifier may not verify; the refusal names the rule.
    verify = pb.VerifyRectificationRequest(danger_id=danger, verifier="周电工", verified_on="2026-11-26")
    error = refused(inspector.call, "VerifyRectification", verify)
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "other than the rectifier" in error.details()

    # Sent back with a reason, rectified again, submitted again, verified by someone else, closed.
    back = inspector.call(
        "SendBack",
        pb.SendBackRequest(
            danger_id=danger, inspector_name="吴科长", sent_back_on="2026-11-26", reason="接地电阻不合格"
        ),
    )
    assert back.danger.state == pb.DANGER_STATE_RECTIFYING
    erp.submit(danger, summary="重新打接地极")
    verify.verifier = "吴科长"
    assert inspector.call("VerifyRectification", verify).danger.state == pb.DANGER_STATE_VERIFIED
    closed = inspector.call(
        "CloseDanger",
        pb.CloseDangerRequest(danger_id=danger, inspector_name="吴科长", closed_on="2026-11-27"),
    )
    assert closed.danger.state == pb.DANGER_STATE_CLOSED
    assert [d.kind for d in closed.danger.decisions] == ["sent_back", "verified", "closed"]

    # A closed danger cannot be closed again: FAILED_PRECONDITION naming the current state.
    again = refused(
        inspector.call,
        "CloseDanger",
        pb.CloseDangerRequest(danger_id=danger, inspector_name="吴科长", closed_on="2026-11-28"),
    )
    assert again.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "closed" in again.details()
    assert "state:closed" in str(rpc_status.from_call(again))

    # Listing by state; another enterprise cannot read it; a wrong token is not an inspector.
    listed = erp.call("ListDangers", pb.ListDangersRequest(state=pb.DANGER_STATE_CLOSED))
    assert [d.danger_id for d in listed.dangers] == [danger]
    assert refused(other.call, "GetDanger", pb.GetDangerRequest(danger_id=danger)).code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    stranger = Inspector(inspector.stub, (("x-hub-department", TOWN_OFFICE), ("x-hub-department-token", "x")))
    assert refused(
        stranger.call, "ListUninspectedEnterprises", pb.ListUninspectedEnterprisesRequest()
    ).code() == (grpc.StatusCode.UNAUTHENTICATED)

    # Bad input names each field.
    from services.backbone.edge.status import field_violations

    bad = refused(erp.call, "ReportDanger", pb.ReportDangerRequest(risk_point_id="rp-1"))
    assert bad.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"description", "found_on", "inspection_type"} <= {f for f, _ in field_violations(bad)}
    channel.close()


def test_a_danger_names_a_risk_point_in_use_of_its_own_enterprise(hub: Hub) -> None:
    """A risk point identified a moment ago counts at once (Erp.register reports right after it); one
    retired a moment ago, or another enterprise's, is NOT_FOUND, as it is once the dangers service's
    own view of risk points has followed the retirement."""
    channel = grpc.insecure_channel(hub.gateway_address)
    erp, other = Erp.register(hub, channel, 4), Erp.register(hub, channel, 5)

    def report(risk_point_id: str) -> pb.ReportDangerResponse:
        request = pb.ReportDangerRequest(
            risk_point_id=risk_point_id,
            inspection_type=pb.INSPECTION_TYPE_ROUTINE,
            description="配电箱接地线脱落",
            evidence=evidence("before.jpg"),
            found_on="2026-11-20",
            reported_by="赵班长",
        )
        return erp.call("ReportDanger", request)  # type: ignore[no-any-return]

    assert report(erp.risk_point_id).created
    retire = rpb.RetireRiskPointRequest(risk_point_id=erp.risk_point_id, reason="配电室拆除")
    riskpoint_pb2_grpc.RiskPointServiceStub(channel).RetireRiskPoint(retire, metadata=erp.metadata)
    for _ in range(2):  # at once, and once the view has surely followed
        assert refused(report, erp.risk_point_id).code() == grpc.StatusCode.NOT_FOUND
        assert refused(report, other.risk_point_id).code() == grpc.StatusCode.NOT_FOUND
        time.sleep(2)
    channel.close()


def test_overdue_and_both_escalations_with_a_controlled_clock(hub: Hub) -> None:
    channel = grpc.insecure_channel(hub.gateway_address)
    inspector = Inspector.of(hub, channel)
    erp = Erp.register(hub, channel, 3)
    inspector.wait_uninspected(erp.enterprise_id)  # the dangers service knows its supervisors
    danger = erp.rectifying()

    def get() -> pb.Danger:
        return erp.call("GetDanger", pb.GetDangerRequest(danger_id=danger)).danger

    assert rpc(hub, "dangers", "check_deadlines", "2030-01-01T23:00:00+08:00")["overdue"] == []
    assert rpc(hub, "dangers", "check_deadlines", "2030-01-02T00:00:00+08:00")["overdue"] == [danger]
    assert (get().escalation, bool(get().overdue_at)) == ("responsible", True)
    assert rpc(hub, "dangers", "check_deadlines", "2030-01-03T00:00:00+08:00") == {
        "overdue": [],
        "escalated_to_authorities": [],
        "set_aside": [],
    }
    later = rpc(hub, "dangers", "check_deadlines", "2030-01-05T00:00:00+08:00")
    assert later["escalated_to_authorities"] == [danger]
    assert get().escalation == "authorities"

    from services.backbone.relay import envelopes_after
    from services.backbone.store import open_store
    from services.dangers.application import DangersApplication

    envelopes, _ = envelopes_after(open_store(DangersApplication, hub.settings), 0, 1000)
    raised = [e for e in envelopes if e.originator_id == danger]
    assert [e.type for e in raised][-3:] == [
        "HiddenDanger.Overdue",
        "HiddenDanger.EscalatedToResponsible",
        "HiddenDanger.EscalatedToAuthorities",
    ]
    assert raised[-1].payload["town_office"] == TOWN_OFFICE
    assert all(e.enterprise_id == erp.enterprise_id for e in raised)
    channel.close()
