"""The gateway's service calls: a proxy whose broker connection broke is dropped, not reused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from kombu.exceptions import OperationalError
from nameko.exceptions import RpcTimeout, UnknownService

from services.backbone.errors import NotFoundError, UnavailableError
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings


def services_with(failure: BaseException) -> tuple[Services, list[str]]:
    stopped: list[str] = []

    def get(*_: object) -> None:
        raise failure

    services = Services(Settings())
    services._local.proxy = SimpleNamespace(registry=SimpleNamespace(get=get))
    services._local.standalone = SimpleNamespace(
        _worker_ctx=SimpleNamespace(data={}), stop=lambda: stopped.append("stopped")
    )
    return services, stopped


@pytest.mark.parametrize(
    "failure",
    [
        RuntimeError("This consumer has been disconnected, and can no longer be used"),
        ConnectionResetError(104, "Connection reset by peer"),
        RpcTimeout(30.0),
        AttributeError("'NoneType' object has no attribute 'channel'"),  # its connection gone
        OperationalError("[Errno 111] Connection refused"),  # kombu's, publishing the request
    ],
)
def test_a_broken_proxy_is_dropped_and_the_call_is_unavailable(failure: BaseException) -> None:
    services, stopped = services_with(failure)
    with pytest.raises(UnavailableError) as raised:
        services.call("registry", "get", "x")
    assert "registry service cannot be reached now" in raised.value.rule
    assert services._local.proxy is None and stopped == ["stopped"]  # the next call makes a new one


def test_a_domain_answer_keeps_the_proxy() -> None:
    services, stopped = services_with(NotFoundError("code", "no department X"))
    with pytest.raises(NotFoundError):
        services.call("registry", "get", "x")
    assert services._local.proxy is not None and stopped == []


def test_a_call_nothing_can_take_is_unavailable_and_keeps_the_proxy() -> None:
    """An unroutable call (the broker restarting, the service's queue not there yet) is UNAVAILABLE to
    the client, never INTERNAL; the proxy's connection is sound and stays."""
    services, stopped = services_with(UnknownService("registry"))
    with pytest.raises(UnavailableError) as raised:
        services.call("registry", "get", "x")
    assert "registry service cannot be reached now" in raised.value.rule
    assert services._local.proxy is not None and stopped == []


def test_a_proxy_that_cannot_be_made_while_the_broker_is_away_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """make chaos saw INTERNAL here: a thread's new proxy refused by a restarting broker."""
    services = Services(Settings())

    def refused(self: object) -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("services.backbone.rpc_client.ClusterRpcProxy.start", refused)
    with pytest.raises(UnavailableError) as raised:
        services.call("registry", "get", "x")
    assert "registry service cannot be reached now" in raised.value.rule


def test_an_attribute_error_of_the_hub_s_own_is_not_taken_for_an_outage() -> None:
    services, stopped = services_with(AttributeError("'dict' object has no attribute 'town'"))
    with pytest.raises(AttributeError):
        services.call("registry", "get", "x")
    assert services._local.proxy is not None and stopped == []


def test_a_call_not_answered_in_time_says_so() -> None:
    """It said "cannot be reached now: 30.0" (nameko's RpcTimeout holds the timeout alone)."""
    services, _ = services_with(RpcTimeout(30.0))
    with pytest.raises(UnavailableError) as raised:
        services.call("registry", "get", "x")
    assert raised.value.rule.endswith("cannot be reached now: no answer within 30 s")
