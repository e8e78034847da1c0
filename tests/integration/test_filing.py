"""Filing: compile, sign, submit, ledger, versions and diff, on the filing service's own views."""

from __future__ import annotations

import pytest

from services.backbone.consumer import TrackedConsumer
from services.backbone.errors import TransitionError, ValidationError
from services.backbone.relay import Relay, relay_position
from services.backbone.settings import Settings
from services.backbone.store import open_store
from services.filing.application import FilingApplication
from services.filing.domain import Filing, FilingDelivery, ledger_id
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
    stored = pipeline.filing.recorder.select_notifications(head + 1, 100)
    assert {n.topic.rpartition(":")[2] for n in stored} == {"DeliveryLedger.Recorded"}  # nothing else
    recorded = [vars(pipeline.filing.mapper.to_domain_event(n)) for n in stored]
    assert [[(m["department"], r["correlation_id"]) for m in r["moves"]] for r in recorded] == [
        [("AJJ-ZSZ", "c-ajj")],
        [("XF-TEZ", "c-xf")],
    ]
    # the same batch again (the adapter retrying after a lost reply) changes nothing
    pipeline.filing.record_deliveries(
        [{"enterprise_id": eid, "version": 1, "department": "AJJ-ZSZ", "outcome": "acknowledged"}]
    )
    assert (pipeline.filing.recorder.max_notification_id() or 0) == head + len(recorded)


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
        # this process reads the ledger as the other replica left it
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


def test_a_filing_s_answers_stored_together_are_one_event(pipeline: Pipeline) -> None:
    enterprise, keys = enterprise_with_keys(pipeline, 6)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    before = pipeline.filing.recorder.max_notification_id() or 0
    pipeline.filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
    submitted = pipeline.filing.recorder.select_notifications(before + 1, 100)
    # the ledger is opened with the submission, every department pending: no entry per department
    assert sorted(n.topic.rpartition(":")[2] for n in submitted) == [
        "DeliveryLedger.Opened",
        "Filing.Submitted",
        "FilingIndex.Submitted",
    ]
    head = pipeline.filing.recorder.max_notification_id() or 0
    answers = [
        {
            "enterprise_id": eid,
            "version": 1,
            "department": d,
            "outcome": "acknowledged",
            "correlation_id": "c",
        }
        for d in ("AJJ-ZSZ", "TOWN-ZSZ", "XF-TEZ")
    ]
    assert [a["ledger"] for a in pipeline.filing.record_deliveries(answers)] == [
        {"AJJ-ZSZ": "acknowledged"},
        {"TOWN-ZSZ": "acknowledged"},
        {"XF-TEZ": "acknowledged"},
    ]
    [stored] = pipeline.filing.recorder.select_notifications(head + 1, 100)
    event = vars(pipeline.filing.mapper.to_domain_event(stored))
    assert [m["department"] for m in event["moves"]] == ["AJJ-ZSZ", "TOWN-ZSZ", "XF-TEZ"]
    assert event["correlation_id"] == "c"


def test_a_version_filed_before_ledgers_answers_from_its_entries(pipeline: Pipeline) -> None:
    """A store written before a filing's ledger was one aggregate holds a FilingDelivery per answered
    department: its status, its tally and its next answers start from them."""
    enterprise, _ = enterprise_with_keys(pipeline, 7)
    eid = str(enterprise.id)
    filed = Filing(enterprise_id=eid, version=1, document={}, document_hash="0" * 64, reason="requested")
    filed.submit({}, {}, ["AJJ-ZSZ", "TOWN-ZSZ", "XF-TEZ"], "2026-11-01T00:00:00+00:00")
    entries = []
    for department, outcome, reason in (("AJJ-ZSZ", "delivered", ""), ("XF-TEZ", "rejected", "缺少消防设施")):
        entry = FilingDelivery(enterprise_id=eid, version=1, department=department)
        entry._recorded(
            enterprise_id=eid, version=1, department=department, outcome=outcome, reason=reason, receipt={}
        )
        entries.append(entry)
    pipeline.filing.save(filed, *entries)

    status = pipeline.filing.status(eid, 1)
    assert status["ledger"] == {"AJJ-ZSZ": "delivered", "TOWN-ZSZ": "pending", "XF-TEZ": "rejected"}
    assert status["reasons"] == {"XF-TEZ": "缺少消防设施"}
    assert counts_of(pipeline.filing, "XF-TEZ") == {"rejected": 1}

    answers = pipeline.filing.record_deliveries(
        [
            {"enterprise_id": eid, "version": 1, "department": "AJJ-ZSZ", "outcome": "acknowledged"},
            {"enterprise_id": eid, "version": 1, "department": "XF-TEZ", "outcome": "acknowledged"},
            {"enterprise_id": eid, "version": 1, "department": "TOWN-ZSZ", "outcome": "lost"},
        ]
    )
    assert answers[0]["ledger"] == {"AJJ-ZSZ": "acknowledged"}
    assert answers[1]["ledger"] == {"XF-TEZ": "rejected"}  # the entry's answer stands
    assert answers[2]["error"]["field"] == "outcome"
    status = pipeline.filing.status(eid, 1)
    assert status["ledger"] == {"AJJ-ZSZ": "acknowledged", "TOWN-ZSZ": "pending", "XF-TEZ": "rejected"}
    assert status["reasons"] == {"XF-TEZ": "缺少消防设施"}
    assert counts_of(pipeline.filing, "AJJ-ZSZ") == {"acknowledged": 1}
    ledger = pipeline.filing.find(ledger_id(eid, 1))
    assert ledger.entries["XF-TEZ"] == ["rejected", "缺少消防设施"]  # opened from the entries


def test_a_version_not_filed_has_nobody_to_answer(pipeline: Pipeline) -> None:
    enterprise, _ = enterprise_with_keys(pipeline, 8)
    eid = str(enterprise.id)
    pipeline.filing.compile(eid)
    answers = pipeline.filing.record_deliveries(
        [
            {"enterprise_id": eid, "version": 1, "department": "AJJ-ZSZ", "outcome": "acknowledged"},
            {"enterprise_id": eid, "version": 2, "department": "AJJ-ZSZ", "outcome": "acknowledged"},
            {"enterprise_id": eid, "version": 0, "department": "AJJ-ZSZ", "outcome": "acknowledged"},
        ]
    )
    assert [a["error"]["field"] for a in answers] == ["department", "version", "version"]
    assert pipeline.filing.find(ledger_id(eid, 1)) is None  # nothing stored


def counts_of(filing: FilingApplication, department: str) -> dict[str, int]:
    [row] = [r for r in filing.deliveries()["departments"] if r["department"] == department]
    return {k: v for k, v in row.items() if k not in ("department", "total") and v}


def test_answers_saved_by_another_replica_meanwhile_are_kept(
    pipeline: Pipeline, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two replicas moving one filing's ledger at once: the save that loses runs again on the ledger
    as the other left it."""
    enterprise, keys = enterprise_with_keys(pipeline, 9)
    eid = str(enterprise.id)
    compiled = pipeline.filing.compile(eid)
    pipeline.filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
    other = open_store(FilingApplication, settings)
    read = pipeline.filing.get_many
    reads = []

    def read_then_the_other_answers(ids, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = read(ids, *args, **kwargs)
        reads.append(1)
        if len(reads) == 1:  # after this replica has read the ledger, before it saves
            other.record_delivery(eid, 1, "XF-TEZ", "rejected", "缺少消防设施风险点")
        return found

    monkeypatch.setattr(pipeline.filing, "get_many", read_then_the_other_answers)
    try:
        answers = pipeline.filing.record_deliveries(
            [
                {"enterprise_id": eid, "version": 1, "department": d, "outcome": "acknowledged"}
                for d in ("AJJ-ZSZ", "XF-TEZ")
            ]
        )
    finally:
        other.close()
    assert len(reads) == 2  # read again after the conflict
    assert [a["ledger"] for a in answers] == [{"AJJ-ZSZ": "acknowledged"}, {"XF-TEZ": "rejected"}]
    assert pipeline.filing.status(eid)["ledger"] == {
        "AJJ-ZSZ": "acknowledged",
        "TOWN-ZSZ": "pending",
        "XF-TEZ": "rejected",
    }
