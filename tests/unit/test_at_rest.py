"""Stored events encrypted at rest: what is stored holds no name or mobile in clear, reads back the same
through eventsourcing's mapper, fails loudly when altered, and a store written before encryption still
reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from services.backbone import at_rest
from services.backbone.settings import Settings
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields


def test_a_store_holds_no_personal_data_in_clear_and_reads_it_back(tmp_path: Path) -> None:
    settings = Settings(runtime_dir=tmp_path / "var", secrets_dir=tmp_path / "secrets", encrypt_stores=True)
    env = {**settings.persistence_env("registry"), **settings.app_env()}
    plain = {**env, "CIPHER_TOPIC": "", "CIPHER_KEY": ""}
    fields = enterprise_fields(31)
    RegistryApplication(env=plain).register(enterprise_fields(30))  # written before encryption was on
    app = RegistryApplication(env=env)
    answer = app.register(fields)
    stored = list(app.recorder.select_notifications(start=1, limit=100))
    encrypted = [n for n in stored if n.state.startswith(at_rest.MAGIC)]
    assert encrypted and len(encrypted) < len(stored)  # the earlier registration stays as it was
    for n in encrypted:
        for secret in (fields["legal_representative"], fields["legal_representative_mobile"], fields["name"]):
            assert secret.encode() not in n.state
    assert (
        app.get(answer["enterprise_id"])["legal_representative_mobile"]
        == fields["legal_representative_mobile"]
    )
    assert {e["name"] for e in app.list_enterprises()} >= {fields["name"], enterprise_fields(30)["name"]}
    key_file = tmp_path / "secrets" / at_rest.KEY_FILE
    assert key_file.stat().st_mode & 0o077 == 0 and not list((tmp_path / "var").glob("*.key"))


def test_an_altered_byte_fails_to_decrypt() -> None:
    cipher = at_rest.StoreCipher({"CIPHER_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="})
    document = '{"name":"王五"}'.encode()
    sealed = bytearray(cipher.encrypt(document))
    assert cipher.decrypt(bytes(sealed)) == document
    sealed[-1] ^= 1
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(sealed))
