"""A department's receipt: what it signs, and whether the hub takes it as the department's answer.

The platform signs "<delivery_id>|<document_hash>|<outcome name>|<received_at>" with its SM2 key. The
hub takes a receipt only if it verifies under the key registered for the department; a department
registered without one gets the key of its first verified receipt (pinned, as ssh pins a host key).
Receipts pushed back by a platform (the adapter) and sent by a pulling department (AcknowledgeFiling)
are checked alike.
"""

from __future__ import annotations

from collections.abc import Callable

from services.filing import signatures


class UntrustedReceipt(Exception):
    """A receipt that does not verify under the department's registered key: not its answer."""


def signed_bytes(delivery_id: str, document_hash: str, outcome: str, received_at: str) -> bytes:
    """What a receipt's signature covers (`outcome` by its name, e.g. OUTCOME_ACCEPTED)."""
    return f"{delivery_id}|{document_hash}|{outcome}|{received_at}".encode()


def check(public_key: str, signed: bytes, signature: str, registered: Callable[[str], str]) -> str:
    """The department's key, once the receipt verifies under it; UntrustedReceipt otherwise.

    `registered(key)` answers the key the registry holds for the department, pinning `key` (the
    receipt's own, already verified) when it holds none."""
    try:
        given = signatures.validate_public_key(public_key)
    except ValueError as error:
        raise UntrustedReceipt(f"the receipt carries no usable public key ({error})") from None
    if not signatures.verify(given, signed, signature):
        raise UntrustedReceipt("the receipt's signature does not verify")
    key = registered(given)
    if given != key:
        raise UntrustedReceipt(
            f"signed with key {given[:18]}…, not the department's registered key {key[:18]}…"
        )
    return key
