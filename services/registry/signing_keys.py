"""The SM2 public keys an enterprise signs its register with (the private keys never reach the hub)."""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import ValidationError
from services.kernel.signatures import Signer, public_key_from
from services.registry.base import RegistryBase


class SigningKeys(RegistryBase):
    @retried
    def register_public_key(self, enterprise_id: str, role: str, public_key: str) -> dict[str, Any]:
        """Registers (or replaces) the public key of a signing role: the legal representative's,
        or the enterprise seal's. The key may come as hex, PEM SubjectPublicKeyInfo or a PEM X.509
        certificate; it is stored as the uncompressed point (hex), whatever form it came in."""
        roles = [s.value for s in Signer]
        violations = []
        if role not in roles:
            violations.append(("role", f"must be one of {', '.join(roles)}"))
        try:
            key = public_key_from(public_key)
        except ValueError as error:
            violations.append(("public_key", str(error)))
        if violations:
            raise ValidationError.many(violations)
        enterprise = self._enterprise(enterprise_id)
        enterprise.register_public_key(role, key)
        self.save(enterprise)
        return {"enterprise_id": str(enterprise.id), "role": role, "public_key": key}
