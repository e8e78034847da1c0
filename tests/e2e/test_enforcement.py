"""六个必须 through the real gateway and broker: a major finding ends with the enterprise closed."""

from __future__ import annotations

import grpc
import pytest
from hub.v1 import danger_pb2 as pb
from hub.v1 import enterprise_pb2 as epb

from services.backbone.edge.status import field_violations
from tests.conftest import Hub, wait_for
from tests.e2e.danger_client import Erp, Inspector, evidence

pytestmark = pytest.mark.e2e


def reinspect(inspector: Inspector, erp: Erp, danger: str, no: str, on: str) -> None:
    inspector.call(
        "RecordInspection",
        pb.RecordInspectionRequest(
            enterprise_id=erp.enterprise_id,
            document_no=no,
            inspector_name="郑检查",
            inspected_on=on,
            reinspections=[pb.Reinspection(danger_id=danger, still_major=True)],
        ),
    )


def test_six_musts_end_with_the_enterprise_closed_in_the_registry(hub: Hub) -> None:
    channel = grpc.insecure_channel(hub.gateway_address)
    inspector = Inspector.of(hub, channel)
    erp = Erp.register(hub, channel, 7)
    inspector.wait_uninspected(erp.enterprise_id)  # 每个企业必须检查: listed until inspected

    found = inspector.call(
        "RecordInspection",
        pb.RecordInspectionRequest(
            enterprise_id=erp.enterprise_id,
            document_no="张安检〔2026〕7号",
            inspector_name="郑检查",
            inspected_on="2026-10-30",
            findings=[
                pb.InspectionFinding(
                    risk_point_id=erp.risk_point_id,
                    description="液氨储罐区无泄漏报警装置",
                    evidence=evidence("tank.jpg"),
                    grade=pb.DANGER_GRADE_MAJOR,
                )
            ],
        ),
    )
    [danger], [case] = found.danger_ids, found.case_ids  # 立案
    listed = inspector.call("ListUninspectedEnterprises", pb.ListUninspectedEnterprisesRequest())
    assert erp.enterprise_id not in {e.enterprise_id for e in listed.enterprises}
    seen = erp.call("GetDanger", pb.GetDangerRequest(danger_id=danger)).danger
    assert (seen.grade, seen.source) == (pb.DANGER_GRADE_MAJOR, pb.DANGER_SOURCE_GOVERNMENT_INSPECTION)

    penalty = pb.ImposePenaltyRequest(
        case_id=case,
        violation="SAFETY_LAW_102",
        amount=30000,
        document_no="台应急罚〔2026〕12号",
        imposed_on="2026-11-01",
    )
    with pytest.raises(grpc.RpcError) as below:
        inspector.call("ImposePenalty", penalty)
    assert below.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    [(field, rule)] = field_violations(below.value)
    assert field == "amount" and "顶格处罚" in rule and "第一百零二条" in rule
    penalty.amount = 50000  # 顶格处罚
    assert inspector.call("ImposePenalty", penalty).enforcement_case.state == pb.CASE_STATE_PENALISED
    inspector.call(
        "RecordExposure",
        pb.RecordExposureRequest(
            case_id=case,
            medium="台儿庄区人民政府网站",
            document_no="曝光〔2026〕3号",
            exposed_on="2026-11-02",
        ),
    )

    suspend = pb.OrderSuspensionRequest(
        case_id=case, reason="重大隐患逾期未整改", document_no="责停〔2026〕5号", ordered_on="2026-11-10"
    )
    with pytest.raises(grpc.RpcError) as premature:
        inspector.call("OrderSuspension", suspend)  # no re-inspection has found it still major yet
    assert premature.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    reinspect(inspector, erp, danger, "复查〔2026〕1号", "2026-11-08")
    inspector.call("OrderSuspension", suspend)
    wait_for(
        lambda: erp.status() == epb.ENTERPRISE_STATUS_SUSPENDED,
        timeout=60,
        what="the registry to suspend the enterprise",
    )

    reinspect(inspector, erp, danger, "复查〔2026〕2号", "2026-11-28")
    closure = inspector.call(
        "OrderClosure",
        pb.OrderClosureRequest(
            case_id=case,
            reason="停产整顿期间复查仍不合格",
            document_no="关闭〔2026〕1号",
            ordered_on="2026-11-30",
        ),
    )
    assert closure.enforcement_case.state == pb.CASE_STATE_CLOSED
    wait_for(
        lambda: erp.status() == epb.ENTERPRISE_STATUS_CLOSED,
        timeout=60,
        what="the registry to close the enterprise",
    )

    steps = inspector.call("GetCase", pb.GetCaseRequest(case_id=case)).enforcement_case.steps
    assert [s.kind for s in steps] == [
        "opened",
        "penalty",
        "exposure",
        "reinspection",
        "suspension",
        "reinspection",
        "closure",
    ]
    assert all(s.document_no and s.date and s.authority == "ZSZ-AWB" for s in steps)
    assert (steps[1].amount, steps[1].violation) == (50000, "SAFETY_LAW_102")
    channel.close()
