"""The gateway remembers good credentials for a while, and never more than a bounded number of them."""

from __future__ import annotations

from typing import Any

from gateway import auth
from gateway.auth import KEY_ID_HEADER, SECRET_HEADER, Authenticator


class Registry:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def call(self, service: str, method: str, key_id: str, secret: str) -> str:
        assert (service, method) == ("registry", "authenticate")
        self.asked.append(key_id)
        return f"enterprise-{key_id}"


class Context:
    def __init__(self, key_id: str) -> None:
        self.headers = ((KEY_ID_HEADER, key_id), (SECRET_HEADER, "s3cret"))

    def invocation_metadata(self) -> Any:
        return self.headers


def test_a_credential_is_asked_once_per_ttl(monkeypatch: Any) -> None:
    registry = Registry()
    clock = [100.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    authenticator = Authenticator(registry, token="t", ttl=60)  # type: ignore[arg-type]
    assert authenticator.enterprise(Context("k1")) == "enterprise-k1"  # type: ignore[arg-type]
    assert authenticator.enterprise(Context("k1")) == "enterprise-k1"  # type: ignore[arg-type]
    clock[0] += 61
    authenticator.enterprise(Context("k1"))  # type: ignore[arg-type]
    assert registry.asked == ["k1", "k1"]


def test_the_remembered_credentials_stay_bounded(monkeypatch: Any) -> None:
    monkeypatch.setattr(auth, "CACHE_LIMIT", 100)
    registry = Registry()
    authenticator = Authenticator(registry, token="t", ttl=3600)  # type: ignore[arg-type]
    for n in range(1000):
        authenticator.enterprise(Context(f"k{n}"))  # type: ignore[arg-type]
    assert len(authenticator._cache) <= 100
    authenticator.enterprise(Context("k999"))  # type: ignore[arg-type]
    assert registry.asked.count("k999") == 1  # the latest are kept
