"""infra/ for more than one machine: the Kubernetes manifests are valid and run every hub process as
it must run; the Compose file runs every Procfile process, wired to its broker and databases."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import kubernetes_validate
import pytest
import yaml

from services.backbone.settings import SERVICES
from tests.conftest import AMQP_URI, NAMEKO_RUN, PG_URL, procfile

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
KUBERNETES_VERSION = "1.33"
INFRASTRUCTURE = {"rabbitmq", "postgres"}
HUB_IMAGE = "riskhub"
REFERENCE_PLATFORMS = ("platform-",)  # departments run their own platforms: not in the cluster


def manifests() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                found.append((f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc))
    return found


MANIFESTS = manifests()


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for _, doc in MANIFESTS if doc["kind"] == kind}


def program(command: list[str]) -> list[str]:
    """A command without its environment assignments (a Procfile line's metrics port) and the venv
    prefix, up to its first environment-dependent argument."""
    command = list(itertools.dropwhile(lambda w: re.match(r"[A-Z_]+=", w), command))
    words = [w.removeprefix(".venv/bin/") for w in command]
    cut = next((i for i, w in enumerate(words) if "$" in w), len(words))
    return words[:cut]


def procfile_programs() -> dict[str, list[str]]:
    return {name: program(shlex.split(command)) for name, command in procfile().items()}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1, deployment["metadata"]["name"]
    return dict(containers[0])


def env_names(c: dict[str, Any]) -> set[str]:
    return {e["name"] for e in c.get("env", [])}


def hub_deployments() -> dict[str, dict[str, Any]]:
    deployments = of_kind("Deployment").items()
    return {n: d for n, d in deployments if container(d)["image"].startswith(HUB_IMAGE + ":")}


# --- Kubernetes --------------------------------------------------------------------------------
@pytest.mark.parametrize("name,doc", MANIFESTS, ids=[name for name, _ in MANIFESTS])
def test_every_manifest_is_valid_for_kubernetes(name: str, doc: dict[str, Any]) -> None:
    # strict: an unknown (mistyped) field fails too; a kind without a schema fails, not warns
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    if doc["kind"] != "Namespace":
        assert doc["metadata"]["namespace"] == "riskhub", name


def test_kustomization_applies_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    files = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert sorted(kustomization["resources"]) == sorted(files)
    assert [i["name"] for i in kustomization["images"]] == [HUB_IMAGE]


def test_the_cluster_runs_every_hub_process_of_the_procfile() -> None:
    wanted = {n: p for n, p in procfile_programs().items() if not n.startswith(REFERENCE_PLATFORMS)}
    running = {n: program(container(d)["command"]) for n, d in hub_deployments().items()}
    assert running == wanted, "infra/k8s must run each infra/Procfile process as a Deployment of its name"


def test_every_deployment_references_an_image() -> None:
    for name, deployment in of_kind("Deployment").items():
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            assert re.fullmatch(r"[\w.\-/]+:[\w.\-]+", c["image"]), (name, c.get("image"))
    for name, statefulset in of_kind("StatefulSet").items():
        assert container(statefulset)["image"], name


def test_stream_processes_run_alone_and_are_recreated() -> None:
    streams = [n for n in procfile() if n.endswith("-stream")]
    deployments = of_kind("Deployment")
    assert streams
    for name in [*streams, "adapter", "audit"]:
        spec = deployments[name]["spec"]
        assert spec["replicas"] == 1, name
        assert spec["strategy"]["type"] == "Recreate", name


def test_rpc_workers_and_gateway_run_several_and_autoscale() -> None:
    rpc = [n for n, c in procfile().items() if NAMEKO_RUN in c]
    autoscalers = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind("HorizontalPodAutoscaler").values()
    }
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for b in of_kind("PodDisruptionBudget").values()
    }
    assert rpc
    for name in [*rpc, "gateway"]:
        assert of_kind("Deployment")[name]["spec"]["replicas"] >= 2, name
        assert autoscalers[name]["spec"]["minReplicas"] >= 2, name
        assert name in budgets, name
    singletons = {n for n, d in of_kind("Deployment").items() if d["spec"]["replicas"] == 1}
    assert not singletons & budgets, "a budget on a single replica blocks every node drain"


def test_each_process_gets_its_own_services_database_and_the_audit_all() -> None:
    for name, deployment in hub_deployments().items():
        c = container(deployment)
        names = env_names(c)
        assert "HUB_AMQP_URI" in names, name
        command = " ".join(c["command"])
        own = re.search(r"services\.(\w+)\.service$|services\.backbone\.stream (\w+)$", command)
        if own:
            service = own.group(1) or own.group(2)
            assert f"HUB_DATABASE_URL_{service.upper()}" in names, name
        if command.startswith("python -m services.audit."):
            assert {f"HUB_DATABASE_URL_{s.upper()}" for s in SERVICES} <= names, name
        # Kubernetes expands $(VAR) only from variables defined before it; otherwise it stays literal
        defined: set[str] = set()
        for entry in c.get("env", []):
            for var in re.findall(r"\$\((\w+)\)", entry.get("value", "")):
                assert var in defined, (name, entry["name"], var)
            defined.add(entry["name"])
        # a process without its URL would quietly keep its store in an emptyDir SQLite file
        for url in (e["value"] for e in c.get("env", []) if e["name"].startswith("HUB_DATABASE_URL_")):
            assert url.startswith("postgresql://"), (name, url)


def test_probes_use_grpc_health_for_grpc_servers_and_metrics_for_the_rest() -> None:
    grpc_ports = {"gateway": 50051, "audit-server": 50061}
    for name, deployment in hub_deployments().items():
        c = container(deployment)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            if name in grpc_ports:
                assert c[probe]["grpc"]["port"] == grpc_ports[name], (name, probe)
            else:
                assert c[probe]["exec"]["command"] == ["python", "-m", "scripts.healthcheck", "--metrics"]
        assert c["resources"]["requests"] and c["resources"]["limits"], name


def test_every_hub_pod_is_scraped_on_its_metrics_port() -> None:
    port = of_kind("ConfigMap")["hub-config"]["data"]["HUB_METRICS_PORT"]
    for name, deployment in hub_deployments().items():
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == port, name
        assert {"name": "metrics", "containerPort": int(port)} in container(deployment)["ports"], name


def test_rabbitmq_is_a_three_node_cluster_with_quorum_queues_by_default() -> None:
    statefulset = of_kind("StatefulSet")["rabbitmq"]
    assert statefulset["spec"]["replicas"] == 3
    conf = dict(
        line.split(" = ", 1)
        for line in of_kind("ConfigMap")["rabbitmq-config"]["data"]["rabbitmq.conf"].splitlines()
        if " = " in line and not line.startswith("#")
    )
    assert conf["default_queue_type"] == "quorum"
    assert conf["cluster_formation.peer_discovery_backend"] == "rabbit_peer_discovery_k8s"
    headless = of_kind("Service")[conf["cluster_formation.k8s.service_name"]]
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"]
    assert of_kind("ConfigMap")["hub-config"]["data"]["HUB_QUEUE_TYPE"] == "quorum"


def test_every_service_has_a_database_server_with_a_volume() -> None:
    statefulsets = of_kind("StatefulSet")
    for service in SERVICES:
        database = statefulsets[f"postgres-{service}"]
        assert database["spec"]["volumeClaimTemplates"], service
        env = {e["name"]: e for e in container(database)["env"]}
        assert env["POSTGRES_DB"]["value"] == service


# --- Docker Compose ----------------------------------------------------------------------------
COMPOSE = yaml.safe_load((INFRA / "docker-compose.yml").read_text(encoding="utf-8"))


def hub_services() -> dict[str, dict[str, Any]]:
    return {n: s for n, s in COMPOSE["services"].items() if s.get("build")}


def test_compose_runs_every_procfile_process_and_nothing_else() -> None:
    assert set(COMPOSE["services"]) - INFRASTRUCTURE == set(procfile())
    assert set(hub_services()) == set(procfile())
    for name, wanted in procfile_programs().items():
        command = hub_services()[name]["command"]
        assert command[: len(wanted)] == wanted, name


def test_compose_builds_the_hub_image_and_wires_every_process_to_broker_and_databases() -> None:
    for name, service in hub_services().items():
        assert service["build"] == {"context": "..", "dockerfile": "infra/Dockerfile"}, name
        env = service["environment"]
        assert urlparse(env["HUB_AMQP_URI"]).hostname == "rabbitmq", name
        for s in SERVICES:
            url = urlparse(env[f"HUB_DATABASE_URL_{s.upper()}"])
            assert (url.hostname, url.path) == ("postgres", f"/{s}"), name
        assert env["HUB_QUEUE_TYPE"] == "quorum" and env["HUB_METRICS_PORT"] != "0", name
        depends = service["depends_on"]
        assert {k: v["condition"] for k, v in depends.items()} == {
            "rabbitmq": "service_healthy",
            "postgres": "service_healthy",
        }, name
        assert service["healthcheck"]["test"][:4] == ["CMD", "python", "-m", "scripts.healthcheck"], name


def test_compose_publishes_unique_ports_including_those_the_tests_wait_for() -> None:
    published: list[tuple[str, int]] = []
    for service in COMPOSE["services"].values():
        for mapping in service.get("ports", []):
            host, port, _container = str(mapping).rsplit(":", 2)
            published.append((host, int(port)))
    assert len(published) == len(set(published)), published
    assert {("127.0.0.1", 5672), ("127.0.0.1", 5432), ("127.0.0.1", 50051), ("127.0.0.1", 50061)} <= set(
        published
    )


def rabbit_hash(password: str, salted: str) -> str:
    salt = base64.b64decode(salted)[:4]
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


def test_compose_broker_users_accept_the_hubs_and_the_tests_credentials() -> None:
    definitions = json.loads((INFRA / "rabbitmq" / "definitions.json").read_text(encoding="utf-8"))
    users = {u["name"]: u["password_hash"] for u in definitions["users"]}
    granted = {(p["user"], p["vhost"]) for p in definitions["permissions"]}
    conf = (INFRA / "rabbitmq" / "rabbitmq.conf").read_text(encoding="utf-8")
    mounted = {v.split(":")[1] for v in COMPOSE["services"]["rabbitmq"]["volumes"]}
    assert "load_definitions = /etc/rabbitmq/definitions.json" in conf
    assert {"/etc/rabbitmq/definitions.json", "/etc/rabbitmq/rabbitmq.conf"} <= mounted
    for uri in (COMPOSE["x-hub-env"]["HUB_AMQP_URI"], AMQP_URI):
        url = urlparse(uri)
        assert url.username in users, uri
        assert rabbit_hash(url.password or "", users[url.username]) == users[url.username], uri
        assert (url.username, "/") in granted, uri


def test_compose_database_has_every_services_database_and_the_tests() -> None:
    sql = (INFRA / "postgres" / "init-databases.sql").read_text(encoding="utf-8")
    created = set(re.findall(r"^CREATE DATABASE (\w+);", sql, flags=re.MULTILINE))
    assert set(SERVICES) | {urlparse(PG_URL).path.lstrip("/")} <= created
    postgres = COMPOSE["services"]["postgres"]
    assert postgres["environment"]["POSTGRES_USER"] == urlparse(PG_URL).username


def test_the_test_suites_compose_path_starts_only_broker_and_database(docker_setup: list[str]) -> None:
    (command,) = docker_setup
    started = set(command.split()) - {"up", "--wait"}
    assert started == INFRASTRUCTURE and started <= set(COMPOSE["services"])


# --- the image ---------------------------------------------------------------------------------
def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves `path` out of the build context (the patterns this file uses)."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        if pattern.startswith("**/"):
            tail = pattern[3:]
            if any(fnmatch.fnmatchcase(part, tail) for part in parts):
                return True
        elif any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            return True
    return False


def test_the_build_context_keeps_what_the_image_runs_and_drops_local_state() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = [
        "requirements.lock",
        "pyproject.toml",
        "infra/Dockerfile",
        "infra/nameko.yaml",
        "infra/topology.yaml",
        "scripts/gen-protos.sh",
        "scripts/healthcheck.py",
        *(str(p.relative_to(ROOT)) for p in (ROOT / "contracts").rglob("*.json")),
        *(str(p.relative_to(ROOT)) for p in (ROOT / "protos").rglob("*.proto")),
        *(
            str(p.relative_to(ROOT))
            for d in ("services", "gateway", "hubctl", "hubsign", "departments")
            for p in (ROOT / d).rglob("*.py")
        ),
    ]
    assert [p for p in needed if ignored(p, patterns)] == []
    local_state = (
        ".venv/bin/python",
        "var/registry.sqlite",
        "gen/hub/v1/enterprise_pb2.py",
        ".git/HEAD",
        "tools/node_modules/x/package.json",
        "bench/results/run.json",
        "services/__pycache__/a.pyc",
    )
    assert [p for p in local_state if not ignored(p, patterns)] == []


def test_the_image_builds_the_locked_tree_and_runs_unprivileged() -> None:
    dockerfile = (INFRA / "Dockerfile").read_text(encoding="utf-8")
    instructions = [line for line in dockerfile.replace("\\\n", " ").splitlines() if line and line[0] != "#"]
    stages = [line.split()[-1] for line in instructions if line.startswith("FROM ") and " AS " in line]
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", dockerfile, flags=re.MULTILINE)
    assert "pip install -r requirements.lock" in dockerfile
    assert "pip install --no-deps --no-build-isolation ." in dockerfile
    assert "scripts/gen-protos.sh" in dockerfile
    for line in instructions:
        if line.startswith("COPY --from="):
            assert line.split()[1].removeprefix("--from=") in stages, line
    user = [line for line in instructions if line.startswith("USER ")][-1]
    assert re.fullmatch(r"USER [1-9]\d*:[1-9]\d*", user), "Kubernetes' runAsNonRoot needs a numeric user"
    uid = int(user.split()[1].split(":")[0])
    for deployment in hub_deployments().values():
        assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid
