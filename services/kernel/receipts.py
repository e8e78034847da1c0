"""A department's receipt: the delivery it answers, what it signs, and whether the hub takes it as the
department's answer.

A delivery is one version of an enterprise's register sent to one department; its id is
"<enterprise_id>/<version>/<department>", made and read here alone.

The platform signs "<delivery_id>|<document_hash>|<outcome name>|<received_at>" with its SM2 key. The
hub takes a receipt only if it verifies under the key registered for the department; a department
registered without one gets the key of its first accepted receipt (pinned, as ssh pins a host key): a
receipt refused for any reason pins nothing.
Receipts pushed back by a platform (the adapter) and sent by a pulling department (AcknowledgeFiling)
are checked alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.backbone.errors import ValidationError
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
    """A receipt that does not verify, or verifies under another key than the department's: not its
    answer."""


# A receipt's outcome (by its name in the department contract) and the ledger move it makes.
OUTCOMES = {"OUTCOME_ACCEPTED": "acknowledged", "OUTCOME_REJECTED": "rejected"}


@dataclass(frozen=True)
class Receipt:
    """A department's answer to one delivery, as its platform signed it (pushed back or pulled)."""

    delivery_id: str
    outcome: str  # OUTCOME_ACCEPTED or OUTCOME_REJECTED
    reason: str
    received_at: str
    public_key: str
    signature: str

    def check_form(self, prefix: str = "receipt.") -> None:
        """Refuses a receipt that says nothing usable: its outcome, a rejection's reason, its time."""
        violations = []
        if self.outcome not in OUTCOMES:
            violations.append((f"{prefix}outcome", "must be OUTCOME_ACCEPTED or OUTCOME_REJECTED"))
        if self.outcome == "OUTCOME_REJECTED" and not self.reason.strip():
            violations.append((f"{prefix}reason", "a rejection must say why"))
        if not self.received_at:
            violations.append((f"{prefix}received_at", "is required: it is part of what the receipt signs"))
        if violations:
            raise ValidationError.many(violations)

    @property
    def ledger_outcome(self) -> str:
        return OUTCOMES.get(self.outcome, "rejected")

    def signed_bytes(self, document_hash: str) -> bytes:
        return signed_bytes(self.delivery_id, document_hash, self.outcome, self.received_at)

    def verified_key(self, document_hash: str) -> str:
        """The receipt's own key (uncompressed hex) once its signature over this version's document
        hash verifies under it; UntrustedReceipt otherwise. Says nothing yet of whose key it is."""
        try:
            given = signatures.validate_public_key(self.public_key)
        except ValueError as error:
            raise UntrustedReceipt(f"the receipt carries no usable public key ({error})") from None
        if not signatures.verify(given, self.signed_bytes(document_hash), self.signature):
            raise UntrustedReceipt("the receipt's signature does not verify")
        return given

    def answer(self, key: str) -> dict[str, Any]:
        """What the ledger keeps of an accepted receipt."""
        return {
            "received_at": self.received_at,
            "public_key": key,
            "signature": self.signature,
            "verified": True,
        }


def signed_bytes(delivery_id: str, document_hash: str, outcome: str, received_at: str) -> bytes:
    """What a receipt's signature covers (`outcome` by its name, e.g. OUTCOME_ACCEPTED)."""
    return f"{delivery_id}|{document_hash}|{outcome}|{received_at}".encode()


def trusted(given: str, registered: str | None) -> str:
    """The department's key for a receipt verified under `given`: its registered key when it has one
    (UntrustedReceipt when `given` is another), else `given` itself, which the caller pins once the
    receipt is accepted (trust on first use, as ssh pins a host key)."""
    if registered and given != registered:
        raise UntrustedReceipt(
            f"signed with key {given[:18]}…, not the department's registered key {registered[:18]}…"
        )
    return registered or given
