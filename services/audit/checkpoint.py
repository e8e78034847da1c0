"""Signed checkpoints: the hub's SM2 signature over a store's chain link at a position.

Pure (no database): the offline bundle verifier checks checkpoints with this module alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from services.audit.chain import CHAIN_FORMAT, sm3
from services.kernel import signatures


@dataclass(frozen=True)
class Checkpoint:
    """A store's chain head at `position` (a notification id), signed by the hub's audit key."""

    store: str
    sequence: int  # 0, 1, 2 … per store
    position: int  # the last notification id the link covers
    events: int  # how many events the chain covers up to position
    link: str  # hex
    signed_at: str  # ISO 8601, UTC
    public_key: str  # hex, uncompressed SM2 point
    signature: str = ""  # hex r||s over signed_bytes()

    def signed_bytes(self) -> bytes:
        """What the signature covers: the fields as sorted, compact JSON (UTF-8)."""
        body = {k: v for k, v in asdict(self).items() if k != "signature"}
        body["chain"] = CHAIN_FORMAT
        return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def signed(self, private_key_hex: str) -> Checkpoint:
        signature = signatures.sign(private_key_hex, self.signed_bytes())
        return Checkpoint(**{**asdict(self), "signature": signature})

    def valid_for(self, public_key_hex: str) -> bool:
        """Signed by the given key (the one the verifier trusts, not merely the one it names)."""
        if self.public_key.lower() != public_key_hex.lower():
            return False
        return signatures.verify(public_key_hex, self.signed_bytes(), self.signature)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Checkpoint:
        names = cls.__dataclass_fields__
        return cls(**{k: data[k] for k in names if k in data})


def fingerprint(public_key_hex: str) -> str:
    """A short, readable name of a public key (first 16 hex of its SM3)."""
    return sm3(bytes.fromhex(public_key_hex)).hex()[:16]
