"""Per-enterprise gateway credentials: derived from the hub's key, stored only as a hash."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


def hub_key(secrets_dir: Path, configured: str = "", runtime_dir: Path | None = None) -> bytes:
    """The hub's credential key: the configured one (HUB_CREDENTIAL_KEY), or one made once in the hub's
    secrets folder (0600, the folder 0700). A key an earlier hub kept under its runtime folder is moved
    there, so every enterprise's secret stays what it was."""
    if configured:
        return configured.encode("utf-8")
    path = secrets_dir / "credential.key"
    if not path.exists():
        secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        legacy = runtime_dir / "credential.key" if runtime_dir is not None else None
        moving = legacy is not None and legacy.exists()
        key = legacy.read_text(encoding="utf-8").strip() if moving and legacy else secrets.token_hex(32)
        # written whole under another name, then linked in: of two processes starting together, one
        # key wins and neither reads half of it
        staged = secrets_dir / f".credential.key.{os.getpid()}"
        fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(key)
        try:
            os.link(staged, path)
        except FileExistsError:
            pass  # another process linked its key first: that one is the hub's
        finally:
            staged.unlink()
        if moving and legacy and legacy.exists():
            legacy.unlink()  # the runtime folder no longer holds it
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
