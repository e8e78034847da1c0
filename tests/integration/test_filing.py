"""Filing: compile, sign, submit, ledger, versions and diff, on the filing service's own views."""

from __future__ import annotations

import pytest

from services.backbone.consumer import TrackedConsumer
from services.backbone.errors import TransitionError, ValidationError
from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.handlers import handlers
from services.kernel import canonical, signatures
from services.registry.application import RegistryApplication
from services.registry.domain import Enterprise
from tests.factories import enterprise_kwargs

pytestmark = pytest.mark.integration


class Pipeline:
    """Registry → relay → broker → filing consumer, driven step by step in this process."""

    def __init__(self, settings: Settings) -> None:
        self.registry = open_store(RegistryApplication, settings)
        self.filing = open_store(FilingApplication, settings)
        self.relay = Relay(self.registry, settings, subscribers=("filing",))
        self.consumer = TrackedConsumer(self.filing, handlers, settings, "registry")

    def flow(self) -> None:
        while True:
            self.relay.relay_page()
            if self.relay.caught_up:
                break
        target = relay_position(self.registry)
        for _ in range(200):
            if self.consumer.position() >= target:
                return
            self.consumer.poll(wait=0.1)
        pytest.fail("filing did not catch up")

    def close(self) -> None:
        self.relay.close()
        self.consumer.close()


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    p = Pipeline(settings)
    yield p
    p.close()


def enterprise_with_keys(pipeline: Pipeline, n: int) -> tuple[Enterprise, dict[str, signatures.KeyPair]]:
    enterprise = Enterprise(**enterprise_kwargs(n))
    keys = {role.value: signatures.generate_keypair() for role in signatures.Signer}
    for role, pair in keys.items():
        enterprise.register_public_key(role, pair.public_key_hex)
    enterprise.assign_supervisors(["AJJ-ZSZ", "XF-TEZ", "TOWN-ZSZ"])
    pipeline.registry.save(enterprise)
    pipeline.flow()
    return enterprise, keys


def sign_all(canonical: str, keys: dict[str, signatures.KeyPair]) -> dict[str, str]:
    data = canonical.encode("utf-8")
    return {role: signatures.sign(pair.private_key_hex, data) for role, pair in keys.items()}


def test_compile_sign_submit_and_the_ledger(pipeline: Pipeline) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 1)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    assert compiled["version"] == 1 and compiled["created"]
    assert compiled["document_hash"] == canonical.sm3_hex(compiled["canonical"].encode("utf-8"))
    again = pipeline.filing.compile(eid)
    assert again["version"] == 1 and not again["created"]  # same facts, same version

    summary = pipeline.filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
    assert summary["status"] == "submitted"
    assert summary["ledger"] == {"AJJ-ZSZ": "pending", "TOWN-ZSZ": "pending", "XF-TEZ": "pending"}

    pipeline.filing.record_delivery(eid, 1, "AJJ-ZSZ", "delivered")
    pipeline.filing.record_delivery(eid, 1, "AJJ-ZSZ", "acknowledged")
    pipeline.filing.record_delivery(eid, 1, "XF-TEZ", "rejected", "缺少消防设施风险点")
    pipeline.filing.record_delivery(eid, 1, "XF-TEZ", "acknowledged")  # too late: the answer stands
    status = pipeline.filing.status(eid)
    assert status["ledger"] == {"AJJ-ZSZ": "acknowledged", "TOWN-ZSZ": "pending", "XF-TEZ": "rejected"}
    assert status["reasons"] == {"XF-TEZ": "缺少消防设施风险点"}


def test_answers_recorded_in_one_batch_each_keep_their_cause_and_bad_ones_are_named(
    pipeline: Pipeline,
) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 2)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    pipeline.filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
    head = pipeline.filing.recorder.max_notification_id() or 0

    answers = pipeline.filing.record_deliveries(
        [
            {
                "enterprise_id": eid,
                "version": 1,
                "department": "AJJ-ZSZ",
                "outcome": "acknowledged",
                "correlation_id": "c-ajj",
            },
            {"enterprise_id": eid, "version": 1, "department": "GHOST", "outcome": "acknowledged"},
            {
                "enterprise_id": eid,
                "version": 1,
                "department": "XF-TEZ",
                "outcome": "rejected",
                "reason": "缺少消防设施风险点",
                "correlation_id": "c-xf",
            },
            {"enterprise_id": eid, "version": 1, "department": "TOWN-ZSZ", "outcome": "lost"},
        ]
    )

    assert answers[0] == {"department": "AJJ-ZSZ", "ledger": {"AJJ-ZSZ": "acknowledged"}}
    assert answers[1]["error"]["field"] == "department" and "not a recipient" in answers[1]["error"]["rule"]
    assert answers[2] == {"department": "XF-TEZ", "ledger": {"XF-TEZ": "rejected"}}
    assert answers[3]["error"]["field"] == "outcome"
    status = pipeline.filing.status(eid)
    assert status["ledger"] == {"AJJ-ZSZ": "acknowledged", "TOWN-ZSZ": "pending", "XF-TEZ": "rejected"}
    recorded = [
        vars(pipeline.filing.mapper.to_domain_event(n))
        for n in pipeline.filing.recorder.select_notifications(head + 1, 100)
        if n.topic.endswith("FilingDelivery.Recorded")
    ]
    assert {(r["department"], r["correlation_id"]) for r in recorded} == {
        ("AJJ-ZSZ", "c-ajj"),
        ("XF-TEZ", "c-xf"),
    }
    # the same batch again (the adapter retrying after a lost reply) changes nothing
    pipeline.filing.record_deliveries(
        [{"enterprise_id": eid, "version": 1, "department": "AJJ-ZSZ", "outcome": "acknowledged"}]
    )
    assert (pipeline.filing.recorder.max_notification_id() or 0) == head + len(recorded) * 2


def test_an_entry_made_by_another_filing_process_is_found_not_overwritten(
    pipeline: Pipeline, settings: Settings
) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 3)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    pipeline.filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
    other = open_store(FilingApplication, settings)  # a second replica of the filing service
    try:
        other.record_deliveries(
            [{"enterprise_id": eid, "version": 1, "department": "XF-TEZ", "outcome": "delivered"}]
        )
        # this process has not seen XF-TEZ's entry: it assumes none, the save conflicts, it looks
        answers = pipeline.filing.record_deliveries(
            [
                {
                    "enterprise_id": eid,
                    "version": 1,
                    "department": "XF-TEZ",
                    "outcome": "rejected",
                    "reason": "缺少消防设施风险点",
                },
                {"enterprise_id": eid, "version": 1, "department": "AJJ-ZSZ", "outcome": "acknowledged"},
            ]
        )
    finally:
        other.close()
    assert [a["ledger"] for a in answers] == [{"XF-TEZ": "rejected"}, {"AJJ-ZSZ": "acknowledged"}]
    assert pipeline.filing.status(eid)["ledger"] == {
        "AJJ-ZSZ": "acknowledged",
        "TOWN-ZSZ": "pending",
        "XF-TEZ": "rejected",
    }


def test_a_changed_byte_or_a_foreign_key_fails_verification(pipeline: Pipeline) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 2)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    tampered = compiled["canonical"].replace(enterprise.name, enterprise.name + "X")
    with pytest.raises(ValidationError) as bad:
        pipeline.filing.submit(eid, 1, sign_all(tampered, keys))
    assert {f for f, _ in bad.value.violations} == {
        "signatures.legal_representative",
        "signatures.enterprise_seal",
    }
    stranger = signatures.generate_keypair()
    forged = sign_all(compiled["canonical"], keys)
    forged["enterprise_seal"] = signatures.sign(stranger.private_key_hex, compiled["canonical"].encode())
    with pytest.raises(ValidationError) as seal:
        pipeline.filing.submit(eid, 1, forged)
    assert [f for f, _ in seal.value.violations] == ["signatures.enterprise_seal"]
    assert pipeline.filing.status(eid)["status"] == "compiled"  # nothing was filed


def test_a_change_makes_a_new_version_and_the_diff_says_what(pipeline: Pipeline) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 3)
    eid = str(enterprise.id)
    first = pipeline.filing.compile(eid)
    pipeline.filing.submit(eid, 1, sign_all(first["canonical"], keys))
    enterprise.update_profile({"address": "张山子镇新区 8 号"})
    enterprise.assign_supervisors(["AJJ-ZSZ", "TOWN-ZSZ", "ZJ-TEZ"])
    pipeline.registry.save(enterprise)
    pipeline.flow()
    second = pipeline.filing.compile(eid)
    assert second["version"] == 2 and second["created"]
    changes = pipeline.filing.diff(eid, 1, 2)
    assert changes["enterprise_changed"] == ["address"]
    assert changes["departments_added"] == ["ZJ-TEZ"] and changes["departments_removed"] == ["XF-TEZ"]
    assert [v["version"] for v in pipeline.filing.versions(eid)] == [1, 2]
    assert pipeline.filing.get_version(eid, 1)["document"]["enterprise"]["address"] != "张山子镇新区 8 号"


def test_a_closed_enterprise_files_nothing(pipeline: Pipeline) -> None:
    enterprise, _ = enterprise_with_keys(pipeline, 4)
    enterprise.close("关闭取缔", "台安监〔2016〕1号", "区安监局", "2016-10-01")
    pipeline.registry.save(enterprise)
    pipeline.flow()
    with pytest.raises(TransitionError) as closed:
        pipeline.filing.compile(str(enterprise.id))
    assert closed.value.current_state == "closed"


def test_a_submission_reads_what_it_needs_together_and_supersedes_the_filed_version(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    from uuid import uuid4

    from services.backbone.errors import NotFoundError

    enterprise, keys = enterprise_with_keys(pipeline, 5)
    eid = str(enterprise.id)
    first = pipeline.filing.compile(eid)
    pipeline.filing.submit(eid, 1, sign_all(first["canonical"], keys))
    enterprise.update_profile({"address": "张山子镇新区 9 号"})
    pipeline.registry.save(enterprise)
    pipeline.flow()
    second = pipeline.filing.compile(eid)
    signed = sign_all(second["canonical"], keys)
    # refused as before: the enterprise first, then the version
    with pytest.raises(NotFoundError) as unknown:
        pipeline.filing.submit(str(uuid4()), 0, signed)
    assert unknown.value.field == "enterprise_id"
    with pytest.raises(ValidationError) as zero:
        pipeline.filing.submit(eid, 0, signed)
    assert zero.value.field == "version"
    with pytest.raises(NotFoundError) as missing:
        pipeline.filing.submit(eid, 3, signed)
    assert missing.value.field == "version"
    if pipeline.filing.env.get("PERSISTENCE_MODULE", "").endswith("postgres"):
        # one read of the view, the version, the index and the version before: no find one by one
        monkeypatch.setattr(pipeline.filing, "find", lambda i: pytest.fail(f"found {i} alone"))
    assert pipeline.filing.submit(eid, "02", signed)["status"] == "submitted"  # type: ignore[arg-type]
    monkeypatch.undo()
    assert [v["status"] for v in pipeline.filing.versions(eid)] == ["superseded", "submitted"]
