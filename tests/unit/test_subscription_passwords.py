"""Passwords handed to rabbitmqctl must not look like options."""

from __future__ import annotations

import pytest

from departments import subscriptions


def test_a_password_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(subscriptions.secrets, "token_urlsafe", lambda n: "-ks3JdO0oe9UaJkN-qGLD50h")
    password = subscriptions.new_password()
    assert not password.startswith("-")
    assert len(password) == 24


def test_passwords_are_fresh_each_time() -> None:
    passwords = {subscriptions.new_password() for _ in range(200)}
    assert len(passwords) == 200
    assert not any(p.startswith("-") for p in passwords)
