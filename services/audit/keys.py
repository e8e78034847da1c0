"""The hub's audit key pair (SM2), the write-link key, and the auditors' token, as the settings have them.

The audit key signs tree heads. It lives outside the runtime folder (services/backbone/keyfiles.py
says why): HUB_AUDIT_PRIVATE_KEY (64 hex, from a secret store), or the 0600 file HUB_AUDIT_KEY_FILE
(default audit-sm2.key in the secrets folder, HUB_SECRETS_DIR or ~/.config/riskhub), made once with its
public half beside it (`.pub`), which is all that verifying needs. A key file inside the runtime folder
is refused. The auditors' token is a read credential and stays in the runtime folder.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from services.backbone import keyfiles, links
from services.backbone.settings import AUDIT_KEY_FILE, Settings
from services.kernel import signatures
from services.kernel.signatures import KeyPair

KEY_FILE, KEY_FILE_ENV = AUDIT_KEY_FILE, "HUB_AUDIT_KEY_FILE"  # as Settings reads it
TOKEN_FILE = "auditor.token"


def audit_key_file(settings: Settings) -> Path:
    return settings.audit_key_path


def audit_keypair(settings: Settings) -> KeyPair:
    """HUB_AUDIT_PRIVATE_KEY, or the key file (made once), never inside the runtime folder."""
    private = settings.audit_private_key
    if not private:
        path = keyfiles.outside(settings.audit_key_path, settings.runtime_dir)
        private = keyfiles.made_once(path, signatures.generate_keypair().private_key_hex)
        public = signatures.public_key_of(private)
        keyfiles.made_once(path.with_name(path.name + ".pub"), public)
        return KeyPair(private_key_hex=private, public_key_hex=public)
    return KeyPair(private_key_hex=private, public_key_hex=signatures.public_key_of(private))


def audit_public_key(settings: Settings) -> str:
    """The key heads must be signed with: HUB_AUDIT_PUBLIC_KEY pins it, else the public half of the
    hub's own (read from the .pub file where there is one: no need to read the private key)."""
    if settings.audit_public_key:
        return settings.audit_public_key
    if settings.audit_private_key:
        return audit_keypair(settings).public_key_hex
    public = settings.audit_key_path.with_name(settings.audit_key_path.name + ".pub")
    if public.exists():
        return public.read_text(encoding="utf-8").strip()
    return audit_keypair(settings).public_key_hex


def link_key(settings: Settings) -> bytes | None:
    """The write-link key for checking links, or None where this process has none."""
    return links.read_key(settings)


def auditor_token(settings: Settings) -> str:
    """HUB_AUDITOR_TOKEN, or a token made once under the runtime folder (given to auditors)."""
    return settings.auditor_token or keyfiles.made_once(
        settings.runtime_dir / TOKEN_FILE, secrets.token_urlsafe(24)
    )
