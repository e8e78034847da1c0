"""The inputs of the AsyncAPI document: the event contracts and the topology, and the names built from them.

* Contract: one contracts/<service>/<Aggregate>.<Event>.v<N>.schema.json, loaded by load_contracts;
* load_topology / load_batched / load_alone: the `subscriptions`, `batched` and `alone` sections of
  infra/topology.yaml;
* naming helpers (pascal, camel, exchange/queue names and channel ids), mirroring
  services/backbone/topology.py;
* GenerationError: what every step raises when the inputs cannot make a document.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONTRACT_NAME = re.compile(
    r"^(?P<aggregate>[A-Z][A-Za-z0-9]*)\.(?P<event>[A-Z][A-Za-z0-9]*)"
    r"\.v(?P<version>[1-9][0-9]*)\.schema\.json$"
)
SERVICE_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")


class GenerationError(Exception):
    """A contract or the topology cannot be turned into an AsyncAPI document."""


@dataclass(frozen=True)
class Contract:
    service: str
    aggregate: str
    event: str
    version: int
    path: Path
    schema: dict[str, Any]

    @property
    def type(self) -> str:
        return f"{self.aggregate}.{self.event}"

    @property
    def key(self) -> str:
        """Unique within one service's channel: "Enterprise.Registered.v1"."""
        return f"{self.type}.v{self.version}"

    @property
    def message_id(self) -> str:
        """Unique in the document: "registry.Enterprise.Registered.v1"."""
        return f"{self.service}.{self.key}"

    @property
    def payload_schema_id(self) -> str:
        return f"{self.message_id}.payload"

    def sort_key(self) -> tuple[str, str, str, int]:
        return (self.service, self.aggregate, self.event, self.version)


# --------------------------------------------------------------------------------------- inputs


def load_contracts(contracts_dir: Path) -> list[Contract]:
    if not contracts_dir.is_dir():
        raise GenerationError(f"contracts directory {contracts_dir} does not exist")
    found: list[Contract] = []
    for service_dir in sorted(p for p in contracts_dir.iterdir() if p.is_dir()):
        service = service_dir.name
        for path in sorted(service_dir.glob("*.schema.json")):
            match = CONTRACT_NAME.match(path.name)
            if match is None:
                raise GenerationError(
                    f"{path}: a contract must be named <Aggregate>.<Event>.v<N>.schema.json"
                )
            if not SERVICE_NAME.match(service):
                raise GenerationError(f"{path}: service directory {service!r} is not a service name")
            try:
                schema = json.loads(path.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                raise GenerationError(f"{path}: not JSON: {exc}") from exc
            if not isinstance(schema, dict):
                raise GenerationError(f"{path}: a contract must be a JSON object (a JSON Schema)")
            found.append(
                Contract(
                    service=service,
                    aggregate=match["aggregate"],
                    event=match["event"],
                    version=int(match["version"]),
                    path=path,
                    schema=schema,
                )
            )
    return sorted(found, key=Contract.sort_key)


def load_topology(topology_file: Path) -> dict[str, list[str]]:
    if not topology_file.is_file():
        raise GenerationError(f"topology file {topology_file} does not exist")
    data = yaml.safe_load(topology_file.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise GenerationError(f"{topology_file}: expected a mapping with `subscriptions`")
    subscriptions = data.get("subscriptions") or {}
    if not isinstance(subscriptions, dict):
        raise GenerationError(f"{topology_file}: `subscriptions` must map consumer -> [upstream, ...]")
    result: dict[str, list[str]] = {}
    for consumer, upstreams in subscriptions.items():
        upstreams = upstreams or []
        if not isinstance(upstreams, list):
            raise GenerationError(f"{topology_file}: subscriptions.{consumer} must be a list")
        for name in [consumer, *upstreams]:
            if not isinstance(name, str) or not SERVICE_NAME.match(name):
                raise GenerationError(f"{topology_file}: {name!r} is not a service name")
        if consumer in upstreams:
            raise GenerationError(f"{topology_file}: {consumer} subscribes to itself")
        result[str(consumer)] = sorted(set(upstreams))
    return dict(sorted(result.items()))


def load_alone(topology_file: Path) -> dict[str, frozenset[str]]:
    """`alone`: per batched upstream, the event types that still travel one to a message."""
    data = yaml.safe_load(topology_file.read_text(encoding="utf-8")) or {}
    alone = data.get("alone") or {}
    if not isinstance(alone, dict) or not all(isinstance(v, list) for v in alone.values()):
        raise GenerationError(f"{topology_file}: `alone` must map upstream -> [event types]")
    return {name: frozenset(types) for name, types in alone.items()}


def load_batched(topology_file: Path) -> dict[str, int]:
    """`batched`: the upstreams that send several envelopes per message, and how many at most."""
    data = yaml.safe_load(topology_file.read_text(encoding="utf-8")) or {}
    batched = data.get("batched") or {}
    if not isinstance(batched, dict):
        raise GenerationError(f"{topology_file}: `batched` must map upstream -> envelopes per message")
    for name, size in batched.items():
        if not isinstance(name, str) or not SERVICE_NAME.match(name):
            raise GenerationError(f"{topology_file}: {name!r} is not a service name")
        if not isinstance(size, int) or size < 2:
            raise GenerationError(f"{topology_file}: batched.{name} must be an integer of at least 2")
    return dict(sorted(batched.items()))


# ------------------------------------------------------------------------------------ helpers


def pascal(name: str) -> str:
    """Service name to PascalCase: risk-points -> RiskPoints."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def camel(*words: str) -> str:
    joined = "".join(pascal(w) for w in words)
    return joined[:1].lower() + joined[1:]


def exchange_channel_id(service: str) -> str:
    return camel(service, "events")


def queue_channel_id(consumer: str, upstream: str) -> str:
    return camel(consumer, "from", upstream)


def exchange_name(service: str) -> str:
    return f"{service}.events"


def queue_name(consumer: str, upstream: str) -> str:
    return f"{consumer}.from.{upstream}"
