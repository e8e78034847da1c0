"""Per-enterprise gateway credentials: derived from the hub's key, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from services.backbone import keyfiles


def hub_key(secrets_dir: Path, configured: str = "", runtime_dir: Path | None = None) -> bytes:
    """The hub's credential key: the configured one (HUB_CREDENTIAL_KEY), or one made once in the hub's
    secrets folder (0600, the folder 0700). A key an earlier hub kept under its runtime folder is moved
    there, so every enterprise's secret stays what it was."""
    if configured:
        return configured.encode("utf-8")
    path = secrets_dir / "credential.key"
    legacy = runtime_dir / "credential.key" if runtime_dir is not None else None
    earlier = ""
    if legacy is not None and not path.exists():
        try:
            earlier = legacy.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            pass  # none, or another process of the hub has just moved it
    key = keyfiles.made_once(path, earlier or secrets.token_hex(32))
    if legacy is not None:
        legacy.unlink(missing_ok=True)  # the runtime folder no longer holds it
    return key.encode("utf-8")


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
