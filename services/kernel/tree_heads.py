"""Signed tree heads: the root of one store's audit log at a size, signed with the hub's SM2 audit key.

    signed bytes = "riskhub-tree-head/v1|<store>|<sequence>|<tree_size>|<root_hash>|<position>|<signed_at>"

(UTF-8; root_hash lowercase hex; position is the last notification id in the tree, 0 when empty.)
The signature is SM2 with the default user id, raw r||s hex, as the hub's other signatures. The audit
signs heads; the departments' platforms and the offline checkers verify them with this module (or the
README's script), and hold them as anchors.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from services.backbone.links import sm3
from services.kernel import signatures

HEAD_FORMAT = "riskhub-tree-head/v1"


@dataclass(frozen=True)
class TreeHead:
    """A store's Merkle root at `tree_size` leaves (events), signed by the hub's audit key."""

    store: str
    sequence: int  # 0, 1, 2 … per store
    tree_size: int
    root_hash: str  # hex
    position: int  # the last notification id the tree covers
    signed_at: str  # ISO 8601, UTC
    public_key: str  # hex, uncompressed SM2 point
    signature: str = ""  # hex r||s over signed_bytes()

    def signed_bytes(self) -> bytes:
        fields = (
            HEAD_FORMAT,
            self.store,
            self.sequence,
            self.tree_size,
            self.root_hash,
            self.position,
            self.signed_at,
        )
        return "|".join(str(f) for f in fields).encode("utf-8")

    def signed(self, private_key_hex: str) -> TreeHead:
        return replace(self, signature=signatures.sign(private_key_hex, self.signed_bytes()))

    def valid_for(self, public_key_hex: str) -> bool:
        """Signed by the given key (the one the verifier trusts, not merely the one it names)."""
        if self.public_key.lower() != public_key_hex.lower():
            return False
        return self.valid()

    def valid(self) -> bool:
        """Signed by the key it names (an anchor a department kept says which key signed it)."""
        try:
            return signatures.verify(self.public_key, self.signed_bytes(), self.signature)
        except (ValueError, TypeError):
            return False

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.root_hash)

    @property
    def name(self) -> str:
        return f"{self.store} head {self.sequence} (size {self.tree_size})"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeHead:
        names = cls.__dataclass_fields__
        found = {k: data[k] for k in names if k in data}
        for k in ("sequence", "tree_size", "position"):
            found[k] = int(found.get(k, 0))
        return cls(**found)


# its fields in order (hub.v1.TreeHead has the same), as the edges copy them to and from messages
FIELDS = tuple(TreeHead.__dataclass_fields__)


@dataclass(frozen=True)
class Anchor:
    """A head a department (or anyone outside the hub) kept, and who held it."""

    head: TreeHead
    holder: str


def fingerprint(public_key_hex: str) -> str:
    """A short, readable name of a public key (first 16 hex of its SM3)."""
    return sm3(bytes.fromhex(public_key_hex)).hex()[:16]


def head_from_message(message: Any) -> TreeHead:
    """A head from its hub.v1.TreeHead message (or anything with the same fields)."""
    return TreeHead(**{name: getattr(message, name) for name in TreeHead.__dataclass_fields__})
