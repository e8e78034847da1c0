"""The hub's audit key pair (SM2) and the auditors' token: from the environment, or made once."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from services.kernel import signatures
from services.kernel.signatures import KeyPair

KEY_FILE = "audit-sm2.key"
TOKEN_FILE = "auditor.token"


def _made_once(path: Path, make: str) -> str:
    """The file's content, writing `make` first if nobody has (atomic: link fails if it exists)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        temporary.write_text(make, encoding="utf-8")
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            temporary.unlink()
    for _ in range(50):
        value = path.read_text(encoding="utf-8").strip()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty")


def audit_keypair(runtime_dir: Path) -> KeyPair:
    """HUB_AUDIT_PRIVATE_KEY (64 hex), or the key made once under the runtime folder."""
    private = os.environ.get("HUB_AUDIT_PRIVATE_KEY") or _made_once(
        runtime_dir / KEY_FILE, signatures.generate_keypair().private_key_hex
    )
    return KeyPair(private_key_hex=private, public_key_hex=signatures.public_key_of(private))


def audit_public_key(runtime_dir: Path) -> str:
    """The key checkpoints must be signed with: HUB_AUDIT_PUBLIC_KEY pins it, else the hub's own."""
    return os.environ.get("HUB_AUDIT_PUBLIC_KEY") or audit_keypair(runtime_dir).public_key_hex


def auditor_token(runtime_dir: Path) -> str:
    """HUB_AUDITOR_TOKEN, or a token made once under the runtime folder (given to auditors)."""
    return os.environ.get("HUB_AUDITOR_TOKEN") or _made_once(
        runtime_dir / TOKEN_FILE, secrets.token_urlsafe(24)
    )
