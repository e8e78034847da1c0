"""Per-enterprise gateway credentials: derived from the hub's key, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path


def hub_key(runtime_dir: Path, configured: str = "") -> bytes:
    """The hub's credential key: the configured one (HUB_CREDENTIAL_KEY), or one made once under the
    runtime folder."""
    if configured:
        return configured.encode("utf-8")
    path = runtime_dir / "credential.key"
    if not path.exists():
        runtime_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def derive_secret(key: bytes, key_id: str) -> str:
    """The secret of a key id. A retried registration derives the same one; none is stored."""
    return hmac.new(key, key_id.encode("utf-8"), hashlib.sha256).hexdigest()


def secret_hash(secret: str) -> str:
    # The secret has 256 bits of entropy: a plain digest cannot be brute-forced.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(secret), stored_hash)


def key_id_for(uscc: str, generation: int) -> str:
    return f"{uscc}.{generation}"
