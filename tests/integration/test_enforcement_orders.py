"""The registry applies the dangers service's enforcement orders through the real broker, exactly once."""

from __future__ import annotations

import uuid

import pytest

from services.backbone.consumer import TrackedConsumer
from services.backbone.relay import Relay, envelopes_after, relay_position, to_message
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.dangers.application import DangersApplication
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from services.registry.handlers import handlers as registry_handlers
from tests import dangers_data as data
from tests.factories import enterprise_kwargs
from tests.integration.test_backbone import drain, publish_raw

pytestmark = pytest.mark.integration


def enforce_until_suspended(dangers: DangersApplication, enterprise: str) -> str:
    data.known_enterprise(dangers, enterprise)
    head = {"enterprise_id": enterprise, "inspector_name": "郑检查"}
    found = dangers.record_inspection(
        data.AJ,
        {**head, "document_no": "检1", "inspected_on": "2026-10-30", "findings": [data.finding()]},
        data.owns,
    )
    danger, case = found["danger_ids"][0], found["case_ids"][0]
    dangers.impose_penalty(
        data.AJ,
        case,
        {"violation": "SAFETY_LAW_102", "amount": 50000, "document_no": "罚1", "imposed_on": "2026-11-01"},
    )
    dangers.record_exposure(
        data.AJ, case, {"medium": "区政府网站", "document_no": "曝1", "exposed_on": "2026-11-02"}
    )
    again = [{"danger_id": danger, "still_major": True}]
    dangers.record_inspection(
        data.AJ,
        {**head, "document_no": "复1", "inspected_on": "2026-11-08", "reinspections": again},
        data.owns,
    )
    order = {"reason": "重大隐患整改不到位", "document_no": "停1", "ordered_on": "2026-11-10"}
    dangers.order_suspension(data.AJ, case, order)
    return case


def registry_events(registry: RegistryApplication, enterprise: uuid.UUID) -> list[str]:
    return [type(e).__name__ for e in registry.events.get(enterprise)]


def test_a_redelivered_suspension_order_suspends_the_enterprise_once(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    dangers = open_store(DangersApplication, settings)
    enterprise = Enterprise(**enterprise_kwargs(1))
    registry.save(enterprise)
    enforce_until_suspended(dangers, str(enterprise.id))

    relay = Relay(dangers, settings, subscribers=("registry",))
    consumer = TrackedConsumer(registry, registry_handlers, settings, "dangers", batch_size=10)
    consumer.poll(wait=0.01)  # declares its queue
    while relay.relay_page() or not relay.caught_up:
        pass
    drain(consumer, relay_position(dangers))
    assert registry.get(str(enterprise.id))["status"] == "suspended"
    stored_before = registry.recorder.max_notification_id()

    envelopes, _ = envelopes_after(dangers, 0, 1000)
    suspension = next(e for e in envelopes if e.type == "EnforcementCase.SuspensionOrdered")
    publish_raw(settings, consumer.queue, [to_message(suspension), to_message(suspension)])  # redelivered
    for _ in range(5):
        consumer.poll(wait=0.1)

    assert registry.recorder.max_notification_id() == stored_before  # nothing new stored

    assert registry_events(registry, enterprise.id).count("ProductionSuspended") == 1
    found = registry.get(str(enterprise.id))
    assert found["status"] == "suspended"
    stored = [e for e in registry.events.get(enterprise.id) if type(e).__name__ == "ProductionSuspended"][0]
    assert (stored.document_no, stored.authority, stored.ordered_on) == ("停1", data.AJ, "2026-11-10")
    consumer.close()
    relay.close()


def test_closure_after_suspension_closes_the_enterprise(settings: Settings) -> None:
    registry = open_store(RegistryApplication, settings)
    dangers = open_store(DangersApplication, settings)
    enterprise = Enterprise(**enterprise_kwargs(2))
    registry.save(enterprise)
    case = enforce_until_suspended(dangers, str(enterprise.id))
    danger = dangers.get_case(data.AJ, case)["danger_id"]
    again = [{"danger_id": danger, "still_major": True}]
    dangers.record_inspection(
        data.AJ,
        {
            "enterprise_id": str(enterprise.id),
            "inspector_name": "郑检查",
            "document_no": "复2",
            "inspected_on": "2026-11-28",
            "reinspections": again,
        },
        data.owns,
    )
    dangers.order_closure(
        data.AJ, case, {"reason": "停产整顿期间仍不合格", "document_no": "关1", "ordered_on": "2026-11-30"}
    )
    relay = Relay(dangers, settings, subscribers=("registry",))
    consumer = TrackedConsumer(registry, registry_handlers, settings, "dangers")
    consumer.poll(wait=0.01)
    while relay.relay_page() or not relay.caught_up:
        pass
    drain(consumer, relay_position(dangers))
    assert registry.get(str(enterprise.id))["status"] == "closed"
    assert registry_events(registry, enterprise.id)[-2:] == ["ProductionSuspended", "Closed"]
    consumer.close()
    relay.close()
