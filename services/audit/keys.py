"""The hub's audit key pair (SM2), the write-link key, and the auditors' token.

The audit key signs tree heads. It lives outside the runtime folder (services/backbone/keyfiles.py
says why): HUB_AUDIT_PRIVATE_KEY (64 hex, from a secret store), or the 0600 file HUB_AUDIT_KEY_FILE
(default ~/.config/riskhub/audit-sm2.key), made once with its public half beside it (`.pub`), which is
all that verifying needs. A key file inside the runtime folder is refused. The auditors' token is a
read credential and stays in the runtime folder.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from services.backbone import keyfiles, links
from services.kernel import signatures
from services.kernel.signatures import KeyPair

KEY_FILE, KEY_FILE_ENV = "audit-sm2.key", "HUB_AUDIT_KEY_FILE"
TOKEN_FILE = "auditor.token"


def audit_key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or keyfiles.config_dir() / KEY_FILE)


def audit_keypair(runtime_dir: Path | None = None) -> KeyPair:
    """HUB_AUDIT_PRIVATE_KEY, or the key file (made once), never inside `runtime_dir`."""
    private = os.environ.get("HUB_AUDIT_PRIVATE_KEY")
    if not private:
        path = keyfiles.outside(audit_key_file(), runtime_dir)
        private = keyfiles.made_once(path, signatures.generate_keypair().private_key_hex)
        public = signatures.public_key_of(private)
        keyfiles.made_once(path.with_name(path.name + ".pub"), public)
        return KeyPair(private_key_hex=private, public_key_hex=public)
    return KeyPair(private_key_hex=private, public_key_hex=signatures.public_key_of(private))


def audit_public_key(runtime_dir: Path | None = None) -> str:
    """The key heads must be signed with: HUB_AUDIT_PUBLIC_KEY pins it, else the public half of the
    hub's own (read from the .pub file where there is one: no need to read the private key)."""
    pinned = os.environ.get("HUB_AUDIT_PUBLIC_KEY")
    if pinned:
        return pinned
    if os.environ.get("HUB_AUDIT_PRIVATE_KEY"):
        return audit_keypair(runtime_dir).public_key_hex
    public = audit_key_file().with_name(audit_key_file().name + ".pub")
    if public.exists():
        return public.read_text(encoding="utf-8").strip()
    return audit_keypair(runtime_dir).public_key_hex


def link_key(runtime_dir: Path | None = None) -> bytes | None:
    """The write-link key for checking links, or None where this process has none."""
    return links.read_key(runtime_dir)


def auditor_token(runtime_dir: Path) -> str:
    """HUB_AUDITOR_TOKEN, or a token made once under the runtime folder (given to auditors)."""
    return os.environ.get("HUB_AUDITOR_TOKEN") or keyfiles.made_once(
        runtime_dir / TOKEN_FILE, secrets.token_urlsafe(24)
    )
