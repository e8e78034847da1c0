"""Shared fixtures: the real RabbitMQ and PostgreSQL of this machine (or Docker Compose's)."""

from __future__ import annotations

import atexit
import dataclasses
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psycopg
import pytest

from services.backbone.amqp import connect, raw_channel
from services.backbone.rpc import rpc_queue
from services.backbone.settings import SERVICES, Settings

ROOT = Path(__file__).resolve().parents[1]
AMQP_URI = os.environ.get("HUB_TEST_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672//")
PG_URL = os.environ.get("HUB_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/hub_test")
USE_DOCKER = os.environ.get("HUB_TEST_DOCKER") == "1"
# The hub's keys live outside the runtime folder (services/backbone/keyfiles.py): the suite's in a folder
# of its own, never in the operator's ~/.config/riskhub; hubs the tests start inherit it.
KEYS_DIR = Path(tempfile.mkdtemp(prefix="riskhub-test-keys-"))
atexit.register(shutil.rmtree, KEYS_DIR, True)
os.environ.setdefault("HUB_SECRETS_DIR", str(KEYS_DIR))  # make_settings gives each test a folder of its own


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "infra" / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    """From the compose file, only the broker and the database: tests start the hub's processes."""
    return ["up --wait rabbitmq postgres"]


@pytest.fixture(scope="session")
def infrastructure(request: pytest.FixtureRequest) -> dict[str, str]:
    """RabbitMQ and PostgreSQL: the local servers, or Compose's when HUB_TEST_DOCKER=1."""
    if USE_DOCKER:
        services = request.getfixturevalue("docker_services")
        services.wait_until_responsive(
            timeout=120,
            pause=1,
            check=lambda: _port_open("127.0.0.1", 5672) and _port_open("127.0.0.1", 5432),
        )
    for port, what in ((5672, "RabbitMQ"), (5432, "PostgreSQL")):
        if not _port_open("127.0.0.1", port):
            pytest.fail(f"{what} is not answering on 127.0.0.1:{port}: run scripts/ensure-services.sh")
    return {"amqp": AMQP_URI, "postgres": PG_URL}


def make_settings(tmp_path: Path, backend: str, **overrides: Any) -> Settings:
    namespace = f"t{uuid.uuid4().hex[:8]}."
    values: dict[str, Any] = {
        "amqp_uri": AMQP_URI,
        "database_url": PG_URL if backend == "postgres" else "",
        "runtime_dir": tmp_path / "var",
        "secrets_dir": tmp_path / "secrets",
        "namespace": namespace,
    }
    values.update(overrides)
    return Settings(**values)


def two_processes_on_one_store(app_class: type[Any], tmp_path: Path) -> tuple[Any, Any]:
    """Two applications of one service on one SQLite file, as two of its processes share its store."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / f"{app_class.service}.db"),
        "HUB_RUNTIME_DIR": str(tmp_path),
    }
    return app_class(env=env), app_class(env=env)


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment a hub process needs to use these settings."""
    env = dict(os.environ)
    env.update(
        {
            "HUB_AMQP_URI": settings.amqp_uri,
            "HUB_DATABASE_URL": settings.database_url,
            "HUB_RUNTIME_DIR": str(settings.runtime_dir),
            "HUB_SECRETS_DIR": str(settings.secrets_dir),
            "HUB_NAMESPACE": settings.namespace,
            "HUB_QUEUE_TYPE": settings.queue_type,
            "HUB_RELAY_PAGE_SIZE": str(settings.relay_page_size),
            "HUB_CONSUMER_BATCH_SIZE": str(settings.consumer_batch_size),
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def cleanup(settings: Settings) -> None:
    """Deletes the test's exchanges, queues and PostgreSQL schemas."""
    try:
        conn = connect(settings.amqp_uri)
        channel = raw_channel(conn)
        for service in SERVICES:
            for consumer in (*SERVICES, "console"):  # the console's read model consumes too
                channel.queue_delete(settings.queue(consumer, service))
            channel.exchange_delete(settings.exchange(service))
        channel.queue_delete(settings.unrouted_queue)
        channel.exchange_delete(settings.unrouted)
        conn.release()
    except Exception:  # noqa: BLE001 - best effort
        pass
    if settings.database_url:
        with psycopg.connect(settings.database_url, autocommit=True) as pg:
            for service in (*SERVICES, "console"):
                pg.execute(f'DROP SCHEMA IF EXISTS "{settings.schema_for(service)}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(infrastructure: dict[str, str], tmp_path: Path, backend: str) -> Iterator[Settings]:
    value = make_settings(tmp_path, backend)
    yield value
    cleanup(value)


@pytest.fixture
def pg_settings(infrastructure: dict[str, str], tmp_path: Path) -> Iterator[Settings]:
    value = make_settings(tmp_path, "postgres")
    yield value
    cleanup(value)


class Processes:
    """Hub processes started by a test, stopped (and their logs kept) at its end."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.running.append(proc)
        return proc

    def stream(self, service: str, settings: Settings, **env: str) -> subprocess.Popen[bytes]:
        args = ["-m", "services.backbone.stream", service]
        return self.start(f"{service}-stream", args, {**settings_env(settings), **env})

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.running:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2, what: str = "") -> Any:
    """Polls until check() is truthy; fails the test naming what it waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {what or check}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_block(size: int, attempts: int = 50) -> int:
    """The first of `size` consecutive free local ports (a hub's metrics ports: HUB_METRICS_BASE + n)."""
    for _ in range(attempts):
        base = random.randrange(20000, 60000 - size)
        sockets = []
        try:
            for port in range(base + 1, base + size + 1):
                s = socket.socket()
                sockets.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no {size} consecutive free ports found")


METRICS_PORTS = 20  # more than the Procfile's hub processes (infra/Procfile: HUB_METRICS_BASE + n)
NAMEKO_RUN = "services.backbone.nameko_run"  # how the Procfile runs a nameko service


def procfile() -> dict[str, str]:
    """The processes `make run` starts: name → command."""
    found = {}
    for line in (ROOT / "infra" / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            found[name.strip()] = command.strip()
    return found


def _rabbitmqctl(*args: str, attempts: int = 10) -> None:
    """rabbitmqctl, tried again for a while: it refuses while the broker's app restarts (make chaos, a
    broker restart test elsewhere on the machine)."""
    for attempt in range(attempts):
        done = subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, timeout=120)
        if done.returncode == 0:
            return
        if attempt + 1 < attempts:
            time.sleep(3)
    raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)


@contextmanager
def broker_stopped() -> Iterator[None]:
    """RabbitMQ's app stopped for the block, and started again however the block ends: a test that
    failed with the broker stopped would otherwise fail every test after it."""
    try:
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, timeout=120)
        yield
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")


@contextmanager
def isolated_hub_settings(tmp_path: Path, backend: str = "postgres") -> Iterator[Settings]:
    """Settings on a RabbitMQ virtual host of their own (the namespace isolates a hub's exchanges,
    queues and schemas too; the vhost also keeps each test's broker permissions apart)."""
    value = make_settings(tmp_path, backend)
    vhost = value.namespace.rstrip(".")
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    broker = urlparse(AMQP_URI)
    value = dataclasses.replace(value, amqp_uri=f"{broker.scheme}://{broker.netloc}/{vhost}")
    try:
        yield value
    finally:
        cleanup(value)
        _rabbitmqctl("delete_vhost", vhost)


def _signal_group(group: int, sig: int) -> None:
    try:
        os.killpg(group, sig)
    except ProcessLookupError:
        pass


def _groups_alive(groups: list[int]) -> set[int]:
    """The groups with a process still running. A zombie is not running: the shell a Procfile line
    runs in dies of the group's SIGTERM at once, so the process it started is reaped by init, here
    once a second, and waiting for that cost every hub's stop a second or two."""
    wanted, alive = set(groups), set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                state, _parent, group = stat.read().rsplit(b")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(group) in wanted and state != b"Z":
            alive.add(int(group))
    return alive


class Hub:
    """The whole hub as `make run` starts it, on the test's own namespace and ports."""

    def __init__(self, settings: Settings, tmp_path: Path) -> None:
        self.settings = settings
        self.gateway_address = f"127.0.0.1:{free_port()}"
        self.audit_address = f"127.0.0.1:{free_port()}"
        self.console_address = f"127.0.0.1:{free_port()}"
        # the reference department platforms `make run` starts, on ports of their own
        self.platforms = {"AJJ-TEZ": f"127.0.0.1:{free_port()}", "TOWN-ZSZ": f"127.0.0.1:{free_port()}"}
        self.env = {
            **settings_env(settings),
            "HUB_GATEWAY_ADDRESS": self.gateway_address,
            "HUB_AUDIT_ADDRESS": self.audit_address,
            "HUB_CONSOLE_ADDRESS": self.console_address,
            "HUB_PLATFORM_AJJ": self.platforms["AJJ-TEZ"],
            "HUB_PLATFORM_TOWN": self.platforms["TOWN-ZSZ"],
            "HUB_ADAPTER_MAX_ATTEMPTS": "6",  # parks within seconds, not minutes
            "HUB_METRICS_BASE": str(free_port_block(METRICS_PORTS)),  # each process its /metrics
        }
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        command = procfile()[name]
        log = open(self.tmp_path / f"{name}.log", "ab")  # noqa: SIM115 - kept with the process
        self.procs[name] = subprocess.Popen(
            command,
            shell=True,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_all(self) -> Hub:
        for name in procfile():
            self.start(name)
        import grpc

        channel = grpc.insecure_channel(self.gateway_address)
        try:
            grpc.channel_ready_future(channel).result(timeout=60)
        finally:
            channel.close()
        self.wait_for_services()
        return self

    def wait_for_services(self) -> None:
        """Every nameko service of the Procfile consumes its RPC queue."""
        services = [c.rsplit(".", 2)[-2] for c in procfile().values() if NAMEKO_RUN in c]
        conn = connect(self.settings.amqp_uri)
        try:
            for service in services:

                def consuming(name: str = service) -> bool:
                    try:
                        queue = rpc_queue(self.settings.namespace, name)
                        _, _, consumers = raw_channel(conn).queue_declare(queue, passive=True)
                    except Exception:  # noqa: BLE001 - not declared yet
                        return False
                    return consumers > 0

                wait_for(consuming, timeout=120, what=f"the {service} service to consume its RPC queue")
        finally:
            conn.release()

    def kill(self, name: str, sig: int = 9) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self) -> None:
        import signal

        # Each Procfile line runs in a session of its own: signal the whole group, since the shell
        # may exit before the process it started (nameko finishing its workers, say).
        groups = [proc.pid for proc in self.procs.values()]
        for group in groups:
            _signal_group(group, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while _groups_alive(groups) and time.monotonic() < deadline:  # zombies count as stopped
            time.sleep(0.1)
        for group in groups:
            _signal_group(group, signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in self.tmp_path.glob("*.log")
        )

    @property
    def registration_token(self) -> str:
        from gateway.auth import registration_token

        return registration_token(self.settings)


@pytest.fixture(scope="module")
def hub(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """One whole hub per test module (starting one is the slow part of an e2e test): tests in a
    module use enterprises and department codes of their own, and put back what they change."""
    tmp_path = tmp_path_factory.mktemp("hub")
    with isolated_hub_settings(tmp_path) as value:
        running = Hub(value, tmp_path)
        try:
            yield running.start_all()
        finally:
            running.stop()
