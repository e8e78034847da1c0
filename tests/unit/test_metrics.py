"""Every hub process can serve Prometheus /metrics, and the health check reads it (and gRPC health)."""

from __future__ import annotations

import os
import socket
import urllib.request
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from scripts import healthcheck
from services.backbone import metrics
from services.backbone.nameko_store import EventStore
from services.backbone.settings import Settings
from services.registry.application import RegistryApplication

HUB_METRICS = (
    "hub_events_published_total",
    "hub_relay_position",
    "hub_relay_lag",
    "hub_events_consumed_total",
    "hub_duplicates_total",
    "hub_parked_total",
    "hub_consumer_position",
    "hub_grpc_seconds",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        return response.read().decode()


@pytest.fixture(autouse=True)
def no_metrics_server() -> Iterator[None]:
    metrics.stop_serving()
    yield
    metrics.stop_serving()


def test_metrics_endpoint_answers_with_the_hubs_metric_names(tmp_path: Path) -> None:
    port = free_port()
    served = metrics.serve(Settings(metrics_port=port, metrics_addr="127.0.0.1", runtime_dir=tmp_path))
    assert served == port
    metrics.RELAY_LAG.labels("metrics-test").set(7)
    metrics.EVENTS_CONSUMED.labels("metrics-test", "registry").inc(3)
    body = scrape(port)
    for name in HUB_METRICS:
        assert f"# TYPE {name.removesuffix('_total')}" in body, name
    assert 'hub_relay_lag{service="metrics-test"} 7.0' in body
    assert 'hub_events_consumed_total{consumer="metrics-test",upstream="registry"} 3.0' in body


def test_metrics_are_off_unless_a_port_is_given_and_started_once_per_process(tmp_path: Path) -> None:
    assert metrics.serve(Settings(runtime_dir=tmp_path)) == 0
    assert metrics.serve(Settings.from_env({"HUB_METRICS_PORT": "0", "HUB_RUNTIME_DIR": str(tmp_path)})) == 0
    assert metrics.announced(Settings(runtime_dir=tmp_path)) == []
    port = free_port()
    assert metrics.serve(Settings(metrics_port=port, runtime_dir=tmp_path), "registry") == port
    # a second service in the same process (nameko runs several) reuses the server
    assert metrics.serve(Settings(metrics_port=free_port(), runtime_dir=tmp_path)) == port


def test_a_serving_process_announces_its_address_for_hubctl_status(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(metrics_port=port, metrics_addr="0.0.0.0", runtime_dir=tmp_path)
    assert metrics.serve(settings, "filing-stream") == port
    [record] = metrics.announced(settings)
    # a wildcard bind is reached on loopback from this machine
    assert record == {"process": "filing-stream", "address": f"127.0.0.1:{port}", "pid": os.getpid()}
    assert "hub_relay_lag" in scrape(port)


def test_a_taken_port_costs_the_metrics_not_the_process(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert metrics.serve(Settings(metrics_port=port, runtime_dir=tmp_path), "gateway") == 0
    assert metrics.announced(Settings(runtime_dir=tmp_path)) == []


def test_a_nameko_service_serves_metrics_when_its_store_is_set_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("HUB_METRICS_PORT", str(port))
    monkeypatch.setenv("HUB_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("HUB_DATABASE_URL_REGISTRY", raising=False)
    provider = EventStore(RegistryApplication)
    provider.container = SimpleNamespace(service_name="registry")
    provider.setup()
    try:
        assert "hub_relay_lag" in scrape(port)
        assert healthcheck.main(["--metrics", "--port", str(port)]) == 0
    finally:
        provider.stop()


def test_the_metrics_health_check_fails_when_nothing_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert healthcheck.main(["--metrics", "--port", str(free_port()), "--timeout", "1"]) == 1
    assert "unhealthy" in capsys.readouterr().err
    assert healthcheck.main(["--metrics", "--port", "0"]) == 1


def test_the_grpc_health_check_follows_the_servers_serving_status() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        checker.set("", health_pb2.HealthCheckResponse.SERVING)
        assert healthcheck.main([f"127.0.0.1:{port}"]) == 0
        checker.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert healthcheck.main([f"127.0.0.1:{port}"]) == 1
        assert healthcheck.main([f"127.0.0.1:{port}", "--service", "hub.v1.Nothing"]) == 1
    finally:
        server.stop(0)
    assert healthcheck.main([f"127.0.0.1:{free_port()}", "--timeout", "1"]) == 1
