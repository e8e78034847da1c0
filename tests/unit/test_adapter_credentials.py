"""The adapter reads the secret behind a department's credentials_ref, or says why it cannot."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.adapter.credentials import CredentialsUnavailable, resolve


def test_no_reference_presents_nothing() -> None:
    assert resolve("") == ()


def test_an_environment_variable_is_presented_as_a_bearer_token() -> None:
    assert resolve("env:AJJ_TOKEN", {"AJJ_TOKEN": "s3cret"}) == (("authorization", "Bearer s3cret"),)
    with pytest.raises(CredentialsUnavailable, match="AJJ_TOKEN is not set"):
        resolve("env:AJJ_TOKEN", {})


def test_a_file_is_read_and_trimmed(tmp_path: Path) -> None:
    secret = tmp_path / "ajj.token"
    secret.write_text("s3cret\n", encoding="utf-8")
    assert resolve(f"file:{secret}") == (("authorization", "Bearer s3cret"),)
    with pytest.raises(CredentialsUnavailable, match="No such file"):
        resolve(f"file:{tmp_path / 'missing'}")
    secret.write_text("\n", encoding="utf-8")
    with pytest.raises(CredentialsUnavailable, match="empty"):
        resolve(f"file:{secret}")


def test_a_vault_reference_is_refused_with_the_reason() -> None:
    with pytest.raises(CredentialsUnavailable, match="no vault client"):
        resolve("vault:secret/departments/AJJ")
