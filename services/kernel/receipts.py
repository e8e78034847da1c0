"""A department's receipt: the delivery it answers, what it signs, and whether the hub takes it as the
department's answer.

A delivery is one version of an enterprise's register sent to one department; its id is
"<enterprise_id>/<version>/<department>", made and read here alone.

The platform signs "<delivery_id>|<document_hash>|<outcome name>|<received_at>" with its SM2 key. The
hub takes a receipt only if it verifies under the key registered for the department; a department
registered without one gets the key of its first verified receipt (pinned, as ssh pins a host key).
Receipts pushed back by a platform (the adapter) and sent by a pulling department (AcknowledgeFiling)
are checked alike.
"""

from __future__ import annotations

from collections.abc import Callable

from services.kernel import signatures

DELIVERY_ID_FORM = "<enterprise_id>/<version>/<department>"
# A register's versions count from 1; no enterprise files a billion times (the bound keeps a hostile
# version of thousands of digits from ever reaching int() or a database).
MAX_VERSION = 10**9


class MalformedDeliveryId(ValueError):
    """A delivery id that is not of DELIVERY_ID_FORM."""


def delivery_id(enterprise_id: str, version: int, department: str) -> str:
    """The id of one version of an enterprise's register delivered to one department."""
    return f"{enterprise_id}/{version}/{department}"


def parse_delivery_id(value: str) -> tuple[str, int, str]:
    """(enterprise_id, version, department) of a delivery id; MalformedDeliveryId when it is not one."""
    enterprise_id, _, rest = value.partition("/")
    version, _, department = rest.partition("/")
    if not (enterprise_id and department) or not (version.isascii() and version.isdigit()):
        raise MalformedDeliveryId(f"must be {DELIVERY_ID_FORM}")
    if len(version) > len(str(MAX_VERSION)) or not 1 <= int(version) <= MAX_VERSION:
        raise MalformedDeliveryId(f"the version must be between 1 and {MAX_VERSION}")
    return enterprise_id, int(version), department


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
