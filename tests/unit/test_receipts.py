"""A receipt is the department's answer only under the department's key (registered or pinned)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hub.v1 import department_pb2 as pb

from departments.reference.server import ReferencePlatform
from services.kernel import receipts, signatures
from services.kernel.canonical import sm3_hex

SIGNED = receipts.signed_bytes("e/1/AJJ", "ab" * 32, "OUTCOME_ACCEPTED", "2026-11-29T08:00:00+00:00")
PLATFORM, OTHER = signatures.generate_keypair(), signatures.generate_keypair()


def signature(key: signatures.KeyPair, data: bytes = SIGNED) -> str:
    return signatures.sign(key.private_key_hex, data)


def test_a_receipt_under_the_registered_key_is_the_department_s() -> None:
    asked = []
    key = receipts.check(
        PLATFORM.public_key_hex, SIGNED, signature(PLATFORM), lambda given: asked.append(given) or given
    )
    assert key == PLATFORM.public_key_hex and asked == [PLATFORM.public_key_hex]


def test_a_receipt_under_another_key_is_not() -> None:
    with pytest.raises(receipts.UntrustedReceipt, match="not the department's registered key"):
        receipts.check(OTHER.public_key_hex, SIGNED, signature(OTHER), lambda _: PLATFORM.public_key_hex)


def test_the_registry_is_not_asked_about_a_receipt_that_does_not_verify() -> None:
    """Only a verified key may be pinned: a forged receipt must not become the department's key."""

    def registry(_: str) -> str:
        raise AssertionError("asked the registry about an unverified receipt")

    other_bytes = receipts.signed_bytes("e/1/AJJ", "ab" * 32, "OUTCOME_REJECTED", "2026-11-29T08:00:00+00:00")
    with pytest.raises(receipts.UntrustedReceipt, match="does not verify"):
        receipts.check(PLATFORM.public_key_hex, SIGNED, signature(PLATFORM, other_bytes), registry)
    with pytest.raises(receipts.UntrustedReceipt, match="no usable public key"):
        receipts.check("", SIGNED, signature(PLATFORM), registry)


def test_the_reference_platform_signs_what_the_hub_checks(tmp_path: Path) -> None:
    """The platform and the hub agree on the signed text: the platform's receipt checks out."""
    platform = ReferencePlatform("AJJ", tmp_path)
    document = b'{"enterprise":{}}'
    filing = pb.Filing(
        delivery_id="e/1/AJJ",
        department_code="AJJ",
        canonical_document=document,
        document_hash=sm3_hex(document),
    )
    receipt = platform.ReceiveFiling(pb.ReceiveFilingRequest(filing=filing), context=None).receipt
    signed = receipts.signed_bytes(
        receipt.delivery_id, filing.document_hash, pb.Outcome.Name(receipt.outcome), receipt.received_at
    )
    assert receipts.check(receipt.public_key, signed, receipt.signature, lambda given: given)
    platform.inbox.close()
