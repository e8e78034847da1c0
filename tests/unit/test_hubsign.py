"""hubsign without a hub: key files, signing and verifying files, the hash check, and `hubctl sign`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hubctl.main import app as hubctl
from hubsign import keyfile, workflow
from hubsign.cli import main
from hubsign.client import Register
from services.kernel import canonical, signatures
from tests.vectors import key, message


def test_a_key_file_is_made_0600_whatever_the_umask_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "legal.pem"
    old = os.umask(0)
    try:
        pair = keyfile.generate(path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert keyfile.load(path) == pair
    before = path.read_bytes()
    with pytest.raises(keyfile.KeyFileError, match="never overwritten"):
        keyfile.generate(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o700 | 0o004])
def test_a_key_file_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "legal.pem"
    keyfile.generate(path)
    path.chmod(mode)
    with pytest.raises(keyfile.KeyFileError, match="chmod 600"):
        keyfile.load(path)


def test_key_files_written_by_openssl_are_read(tmp_path: Path) -> None:
    path = tmp_path / "seal.pem"
    path.write_text(key("enterprise_seal")["private_key_pem"])
    path.chmod(0o600)
    assert keyfile.load(path).public_key_hex == key("enterprise_seal")["public_key_hex"]


def test_sign_and_verify_files_in_both_encodings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legal = tmp_path / "legal.pem"
    assert main(["keygen", str(legal)]) == 0
    public = capsys.readouterr().out.strip()
    document = tmp_path / "register.json"
    document.write_bytes(message("register"))
    digest = canonical.sm3_hex(message("register"))
    for flags in ([], ["--der"]):
        assert main(["sign", str(legal), str(document), "--hash", digest, *flags]) == 0
        signature = capsys.readouterr().out.strip()
        assert len(signature) == 128 if not flags else signature.startswith("30")
        sig_file = tmp_path / "sig"
        sig_file.write_text(signature)
        pem_file = tmp_path / "pub.pem"
        pem_file.write_text(signatures.public_key_pem(public))
        assert (
            main(["verify", str(document), "--public-key", f"@{pem_file}", "--signature", f"@{sig_file}"])
            == 0
        )
        assert json.loads(capsys.readouterr().out)["public_key"] == public
    other = tmp_path / "other.json"
    other.write_bytes(message("register_pretty"))
    assert main(["verify", str(other), "--public-key", public, "--signature", signature]) == 1
    assert "does not verify" in capsys.readouterr().err
    assert main(["sign", str(legal), str(other), "--hash", digest]) == 1  # not the bytes the hub hashed


def test_the_bytes_received_must_hash_to_the_hubs_digest() -> None:
    data = message("register")
    good = Register(1, "compiled", canonical.sm3_hex(data), data)
    pair = signatures.generate_keypair()
    signed = workflow.sign(good, {"legal_representative": pair})
    assert signatures.verify(pair.public_key_hex, data, signed["legal_representative"])
    der = workflow.sign(good, {"legal_representative": pair}, der=True)["legal_representative"]
    assert signatures.verify(pair.public_key_hex, data, signatures.signature_from(der))
    cut = Register(1, "compiled", good.document_hash, data[:-1])
    with pytest.raises(ValueError, match="do not hash"):
        workflow.sign(cut, {"legal_representative": pair})


def test_external_ids_are_read_from_the_register() -> None:
    data = message("register")
    register = Register(1, "compiled", canonical.sm3_hex(data), data)
    assert workflow.external_ids(register) == {"RP-001", "RP-002"}


def test_hubctl_sign_is_hubsign(tmp_path: Path) -> None:
    path = tmp_path / "seal.pem"
    made = CliRunner().invoke(hubctl, ["sign", "keygen", str(path), "--pem"])
    assert made.exit_code == 0, made.output
    assert signatures.public_key_from(made.output) == keyfile.load(path).public_key_hex
    path.chmod(0o644)
    refused = CliRunner().invoke(hubctl, ["sign", "pubkey", str(path)])
    assert refused.exit_code == 1 and "chmod 600" in refused.output
    usage = CliRunner().invoke(hubctl, ["sign", "--help"])
    assert usage.exit_code == 0 and "register-key" in usage.output


def test_missing_credentials_are_named_before_any_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HUB_KEY_ID", raising=False)
    monkeypatch.delenv("HUB_SECRET", raising=False)
    assert main(["status", "--address", "127.0.0.1:9"]) == 1
    assert "credential" in capsys.readouterr().err
