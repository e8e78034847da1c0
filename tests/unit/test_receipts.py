"""A receipt is the department's answer only under the department's key (registered or pinned)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub.v1 import department_pb2 as pb

from services.kernel import receipts, signatures
from services.kernel.canonical import sm3_hex

HASH = "ab" * 32
PLATFORM, OTHER = signatures.generate_keypair(), signatures.generate_keypair()


def receipt(
    key: signatures.KeyPair, outcome: str = "OUTCOME_ACCEPTED", signed_outcome: str = ""
) -> receipts.Receipt:
    """A receipt for e/1/AJJ under `key`, its signature made over `signed_outcome` when given."""
    at = "2026-11-29T08:00:00+00:00"
    data = receipts.signed_bytes("e/1/AJJ", HASH, signed_outcome or outcome, at)
    return receipts.Receipt(
        "e/1/AJJ", outcome, "", at, key.public_key_hex, signatures.sign(key.private_key_hex, data)
    )


def test_a_receipt_under_the_registered_key_is_the_department_s() -> None:
    given = receipt(PLATFORM).verified_key(HASH)
    assert receipts.trusted(given, PLATFORM.public_key_hex) == PLATFORM.public_key_hex


def test_a_department_without_a_key_trusts_the_first_verified_one() -> None:
    """trusted() answers the receipt's own key: the caller pins it once the receipt is accepted."""
    assert receipts.trusted(receipt(OTHER).verified_key(HASH), None) == OTHER.public_key_hex


def test_a_receipt_under_another_key_is_not() -> None:
    with pytest.raises(receipts.UntrustedReceipt, match="not the department's registered key"):
        receipts.trusted(receipt(OTHER).verified_key(HASH), PLATFORM.public_key_hex)


def test_a_receipt_that_does_not_verify_names_no_key() -> None:
    """Only a verified key can ever be pinned: a forged or altered receipt yields none."""
    with pytest.raises(receipts.UntrustedReceipt, match="does not verify"):
        receipt(PLATFORM, "OUTCOME_ACCEPTED", signed_outcome="OUTCOME_REJECTED").verified_key(HASH)
    with pytest.raises(receipts.UntrustedReceipt, match="does not verify"):
        receipt(PLATFORM).verified_key("cd" * 32)  # another version's hash
    keyless = receipts.Receipt("e/1/AJJ", "OUTCOME_ACCEPTED", "", "x", "", receipt(PLATFORM).signature)
    with pytest.raises(receipts.UntrustedReceipt, match="no usable public key"):
        keyless.verified_key(HASH)


@pytest.mark.parametrize(
    ("outcome", "reason", "received_at", "fields"),
    [
        ("OUTCOME_UNSPECIFIED", "", "t", ["receipt.outcome"]),
        ("", "", "", ["receipt.outcome", "receipt.received_at"]),
        ("OUTCOME_REJECTED", "  ", "t", ["receipt.reason"]),
        ("OUTCOME_ACCEPTED", "", "", ["receipt.received_at"]),
    ],
)
def test_a_receipt_that_says_nothing_usable_is_refused_naming_each_field(
    outcome: str, reason: str, received_at: str, fields: list[str]
) -> None:
    from services.backbone.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        receipts.Receipt("e/1/AJJ", outcome, reason, received_at, "", "").check_form()
    assert [f for f, _ in refused.value.violations] == fields


@pytest.mark.parametrize(
    "value",
    [
        "",
        "e",
        "e/1",
        "e//AJJ",
        "/1/AJJ",
        "e/1/",
        "e/0/AJJ",
        "e/-1/AJJ",
        "e/²/AJJ",
        "e/1.0/AJJ",
        "e/" + "9" * 5000 + "/AJJ",
    ],
)
def test_a_malformed_delivery_id_is_refused_before_any_number_is_made_of_it(value: str) -> None:
    with pytest.raises(receipts.MalformedDeliveryId):
        receipts.parse_delivery_id(value)


def test_a_delivery_id_is_read_back_as_it_was_made() -> None:
    made = receipts.delivery_id("7d3c8a0e-0000-4000-8000-000000000001", 12, "AJJ-TEZ")
    assert receipts.parse_delivery_id(made) == ("7d3c8a0e-0000-4000-8000-000000000001", 12, "AJJ-TEZ")


def test_the_reference_platform_signs_what_the_hub_checks(tmp_path: Path) -> None:
    """The platform and the hub agree on the signed text: the platform's receipt checks out."""
    import grpc
    from hub.v1 import department_pb2_grpc

    from departments.reference.server import platform_key, serve

    server, port = serve("AJJ", "127.0.0.1:0", tmp_path)
    document = b'{"enterprise":{}}'
    filing = pb.Filing(
        delivery_id="e/1/AJJ",
        department_code="AJJ",
        version=1,
        canonical_document=document,
        document_hash=sm3_hex(document),
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = department_pb2_grpc.DepartmentPlatformServiceStub(channel)
            receipt = stub.ReceiveFiling(pb.ReceiveFilingRequest(filing=filing)).receipt
    finally:
        server.stop(0).wait()
    answer = receipts.Receipt(
        receipt.delivery_id,
        pb.Outcome.Name(receipt.outcome),
        receipt.reason,
        receipt.received_at,
        receipt.public_key,
        receipt.signature,
    )
    answer.check_form()
    assert answer.verified_key(filing.document_hash) == platform_key(tmp_path).public_key_hex
