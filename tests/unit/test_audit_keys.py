"""The audit key lives outside the runtime folder: made once, 0600, its public half beside it; a key
file inside the runtime folder is refused, and verifying needs only the public half."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

import pytest

from services.audit import keys
from services.backbone import keyfiles
from services.backbone.settings import Settings
from services.kernel import signatures


def test_the_audit_key_is_made_once_0600_outside_the_runtime_folder(tmp_path: Path) -> None:
    runtime, folder = tmp_path / "var", tmp_path / "config"
    settings = Settings.from_env({"XDG_CONFIG_HOME": str(folder), "HUB_RUNTIME_DIR": str(runtime)})
    pair = keys.audit_keypair(settings)
    path = folder / "riskhub" / keys.KEY_FILE  # the default secrets folder
    assert keys.audit_key_file(settings) == path
    assert path.read_text().strip() == pair.private_key_hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.audit_keypair(settings) == pair  # made once
    assert (
        keys.audit_public_key(settings)
        == pair.public_key_hex
        == path.with_name(path.name + ".pub").read_text()
    )
    # nothing of it in the runtime folder: having that folder does not let anyone sign
    runtime.mkdir(exist_ok=True)
    assert not any(
        pair.private_key_hex in p.read_text(errors="ignore") for p in runtime.rglob("*") if p.is_file()
    )
    # verifying reads the public half alone: a reader without the private key file (the audit
    # endpoint's host, say) neither needs it nor makes one
    path.rename(tmp_path / "elsewhere.key")
    assert keys.audit_public_key(settings) == pair.public_key_hex
    assert not path.exists()


def test_hub_secrets_dir_holds_the_audit_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"HUB_SECRETS_DIR": str(tmp_path / "secrets"), "HUB_RUNTIME_DIR": "var"})
    pair = keys.audit_keypair(settings)
    assert (tmp_path / "secrets" / keys.KEY_FILE).read_text().strip() == pair.private_key_hex


def test_a_key_file_inside_the_runtime_folder_is_refused(tmp_path: Path) -> None:
    settings = Settings(runtime_dir=tmp_path / "var", audit_key_file=tmp_path / "var" / "keys" / "audit.key")
    with pytest.raises(keyfiles.KeyLocationError, match="inside the runtime folder"):
        keys.audit_keypair(settings)
    assert not (tmp_path / "var" / "keys" / "audit.key").exists()


def test_a_key_from_the_environment_needs_no_file(tmp_path: Path) -> None:
    given = signatures.generate_keypair()
    settings = Settings.from_env(
        {
            "HUB_AUDIT_PRIVATE_KEY": given.private_key_hex,
            keys.KEY_FILE_ENV: str(tmp_path / "never.key"),
            "HUB_RUNTIME_DIR": str(tmp_path / "var"),
        }
    )
    assert keys.audit_keypair(settings) == given
    assert keys.audit_public_key(settings) == given.public_key_hex
    assert not (tmp_path / "never.key").exists()
    pinned = dataclasses.replace(settings, audit_public_key="04" + "00" * 64)
    assert keys.audit_public_key(pinned) == "04" + "00" * 64


def test_the_auditor_token_is_given_or_made_once_in_the_runtime_folder(tmp_path: Path) -> None:
    settings = Settings(runtime_dir=tmp_path / "var")
    made = keys.auditor_token(settings)
    assert (tmp_path / "var" / keys.TOKEN_FILE).read_text().strip() == made == keys.auditor_token(settings)
    assert keys.auditor_token(dataclasses.replace(settings, auditor_token="given")) == "given"
