"""The audit key lives outside the runtime folder: made once, 0600, its public half beside it; a key
file inside the runtime folder is refused, and verifying needs only the public half."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from services.audit import keys
from services.backbone import keyfiles
from services.kernel import signatures


def test_the_audit_key_is_made_once_0600_outside_the_runtime_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime, folder = tmp_path / "var", tmp_path / "config"
    monkeypatch.delenv("HUB_AUDIT_PRIVATE_KEY", raising=False)
    monkeypatch.delenv("HUB_AUDIT_PUBLIC_KEY", raising=False)
    monkeypatch.delenv(keys.KEY_FILE_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder))
    pair = keys.audit_keypair(runtime)
    path = folder / "riskhub" / keys.KEY_FILE
    assert path.read_text().strip() == pair.private_key_hex
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keys.audit_keypair(runtime) == pair  # made once
    assert (
        keys.audit_public_key(runtime)
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
    assert keys.audit_public_key(runtime) == pair.public_key_hex
    assert not path.exists()


def test_a_key_file_inside_the_runtime_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_AUDIT_PRIVATE_KEY", raising=False)
    monkeypatch.setenv(keys.KEY_FILE_ENV, str(tmp_path / "var" / "keys" / "audit.key"))
    with pytest.raises(keyfiles.KeyLocationError, match="inside the runtime folder"):
        keys.audit_keypair(tmp_path / "var")
    assert not (tmp_path / "var" / "keys" / "audit.key").exists()


def test_a_key_from_the_environment_needs_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    given = signatures.generate_keypair()
    monkeypatch.setenv("HUB_AUDIT_PRIVATE_KEY", given.private_key_hex)
    monkeypatch.setenv(keys.KEY_FILE_ENV, str(tmp_path / "never.key"))
    assert keys.audit_keypair(tmp_path / "var") == given
    assert keys.audit_public_key(tmp_path / "var") == given.public_key_hex
    assert not (tmp_path / "never.key").exists()
