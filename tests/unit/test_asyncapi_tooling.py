"""The AsyncAPI tooling: scripts/gen_asyncapi.py writes a document the official parser accepts
(scripts/check_asyncapi.mjs), and the checker rejects a broken one.

Needs Node.js and tools/node_modules (`npm ci --prefix tools`); without them these tests fail."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from services.kernel import filing_routes

ROOT = Path(__file__).resolve().parents[2]
CHECKER = ROOT / "scripts" / "check_asyncapi.mjs"
PARSER_PACKAGE = ROOT / "tools" / "node_modules" / "@asyncapi" / "parser" / "package.json"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_asyncapi", ROOT / "scripts" / "gen_asyncapi.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def node() -> str:
    executable = shutil.which("node")
    if executable is None:
        pytest.fail("Node.js is not installed: install Node.js 20+, then run `npm ci --prefix tools`")
    if not PARSER_PACKAGE.is_file():
        pytest.fail(
            f"{PARSER_PACKAGE.relative_to(ROOT)} is missing: the ecosystem tools are not installed. "
            f"Run `npm ci --prefix tools` from {ROOT}"
        )
    return executable


def check(node: str, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(CHECKER), str(document)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


@pytest.fixture
def sample(tmp_path: Path) -> dict[str, Path]:
    """Two services' contracts (one event in two versions, a local $ref) and a topology."""
    contracts = tmp_path / "contracts"
    schema_2020 = "https://json-schema.org/draft/2020-12/schema"
    _write_json(
        contracts / "registry" / "Enterprise.Registered.v1.schema.json",
        {
            "$schema": schema_2020,
            "title": "An enterprise was registered",
            "type": "object",
            "required": ["name", "contacts"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "contacts": {"type": "array", "items": {"$ref": "#/$defs/Contact"}},
            },
            "$defs": {
                "Contact": {
                    "type": "object",
                    "required": ["mobile"],
                    "properties": {"mobile": {"type": "string", "pattern": "^1[3-9][0-9]{9}$"}},
                }
            },
        },
    )
    _write_json(
        contracts / "registry" / "Enterprise.Registered.v2.schema.json",
        {
            "$schema": schema_2020,
            "type": "object",
            "required": ["name"],
            "properties": {"name": {"type": "string"}, "town": {"type": ["string", "null"]}},
        },
    )
    _write_json(
        contracts / "filing" / "Filing.Submitted.v1.schema.json",
        {"$schema": schema_2020, "type": "object", "properties": {"filing_id": {"type": "string"}}},
    )
    topology = tmp_path / "topology.yaml"
    topology.write_text("subscriptions:\n  filing: [registry]\n  riskpoints: [registry, filing]\n")
    return {"contracts": contracts, "topology": topology, "output": tmp_path / "asyncapi.yaml"}


def _generate(sample: dict[str, Path], *extra: str) -> int:
    return gen.main(
        [
            "--contracts",
            str(sample["contracts"]),
            "--topology",
            str(sample["topology"]),
            "--output",
            str(sample["output"]),
            *extra,
        ]
    )


def test_generated_document_passes_the_asyncapi_parser(node: str, sample: dict[str, Path]) -> None:
    assert _generate(sample) == 0
    doc = yaml.safe_load(sample["output"].read_text(encoding="utf-8"))

    assert doc["asyncapi"] == "3.0.0"
    exchange = doc["channels"]["registryEvents"]
    assert exchange["address"] == "registry.events"
    assert exchange["bindings"]["amqp"]["is"] == "routingKey"
    assert exchange["bindings"]["amqp"]["exchange"]["type"] == "topic"
    assert sorted(exchange["messages"]) == ["Enterprise.Registered.v1", "Enterprise.Registered.v2"]
    queue = doc["channels"]["riskpointsFromFiling"]
    assert queue["address"] == "riskpoints.from.filing"
    assert queue["bindings"]["amqp"]["queue"]["name"] == "riskpoints.from.filing"
    assert sorted(doc["operations"]) == [
        "publishFilingEvents",
        "publishRegistryEvents",
        "receiveDepartmentFilings",  # a filing's Submitted event reaches the departments' own queues
        "receiveFilingFromRegistry",
        "receiveRiskpointsFromFiling",
        "receiveRiskpointsFromRegistry",
    ]
    assert doc["operations"]["publishRegistryEvents"]["action"] == "send"
    assert doc["operations"]["receiveFilingFromRegistry"]["action"] == "receive"
    envelope = doc["components"]["messages"]["registry.Enterprise.Registered.v1"]["payload"]
    assert envelope["properties"]["type"]["const"] == "Enterprise.Registered"
    assert envelope["properties"]["schema_version"]["const"] == 1
    assert envelope["properties"]["payload"] == {
        "$ref": "#/components/schemas/registry.Enterprise.Registered.v1.payload"
    }
    payload = doc["components"]["schemas"]["registry.Enterprise.Registered.v1.payload"]
    assert "$schema" not in payload
    assert payload["properties"]["contacts"]["items"] == {
        "$ref": "#/components/schemas/registry.Enterprise.Registered.v1.payload/$defs/Contact"
    }

    result = check(node, sample["output"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid AsyncAPI 3.0.0" in result.stdout


def test_checker_rejects_a_corrupted_document(node: str, sample: dict[str, Path]) -> None:
    assert _generate(sample) == 0
    doc = yaml.safe_load(sample["output"].read_text(encoding="utf-8"))
    # A channel that lists a message nobody defined.
    doc["channels"]["registryEvents"]["messages"]["Enterprise.Vanished.v1"] = {
        "$ref": "#/components/messages/registry.Enterprise.Vanished.v1"
    }
    broken = sample["output"].with_name("broken.yaml")
    broken.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    result = check(node, broken)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "error" in result.stdout and "Enterprise.Vanished.v1" in result.stdout, result.stdout


def test_check_mode_tells_a_stale_document(sample: dict[str, Path]) -> None:
    assert _generate(sample, "--check") == 1  # missing
    assert _generate(sample) == 0
    first = sample["output"].read_bytes()
    assert _generate(sample, "--check") == 0
    assert _generate(sample) == 0
    assert sample["output"].read_bytes() == first  # deterministic

    _write_json(
        sample["contracts"] / "registry" / "Enterprise.Closed.v1.schema.json",
        {"type": "object", "properties": {}},
    )
    assert _generate(sample, "--check") == 1
    assert sample["output"].read_bytes() == first  # --check writes nothing


def test_generator_refuses_a_misnamed_contract(sample: dict[str, Path]) -> None:
    _write_json(sample["contracts"] / "registry" / "EnterpriseRegistered.schema.json", {"type": "object"})
    assert _generate(sample) == 2


def test_envelope_schema_lists_the_envelope_fields(sample: dict[str, Path]) -> None:
    from services.backbone.envelope import Envelope

    contract = gen.load_contracts(sample["contracts"])[0]
    schema = gen.envelope_schema(contract)
    assert schema["required"] == [f.name for f in dataclasses.fields(Envelope)]


def test_committed_document_is_current_and_valid(node: str) -> None:
    contracts = gen.load_contracts(gen.DEFAULT_CONTRACTS)
    if not contracts:
        assert not gen.DEFAULT_OUTPUT.exists(), "contracts/asyncapi.yaml without any contract"
        return
    assert gen.main(["--check"]) == 0, "contracts/asyncapi.yaml is stale: run python scripts/gen_asyncapi.py"
    result = check(node, gen.DEFAULT_OUTPUT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_department_subscription_channel_names_what_the_hub_declares() -> None:
    """A department integrator reads its queue and exchange from the document: they must be the ones
    `hubctl subscriptions create` and the fan-out use (no namespace in a deployment)."""
    from services.backbone.settings import Settings

    document = yaml.safe_load(gen.DEFAULT_OUTPUT.read_text(encoding="utf-8"))
    channel = document["channels"]["departmentFilings"]
    deployed = Settings(namespace="")
    assert channel["address"].replace("{department}", "AJJ-TEZ") == filing_routes.subscription_queue(
        deployed, "AJJ-TEZ"
    )
    assert channel["x-bound-to"]["exchange"] == filing_routes.subscription_exchange(deployed)
    headers = {k.replace("{department}", "AJJ-TEZ"): v for k, v in channel["x-bound-to"]["headers"].items()}
    assert headers == filing_routes.binding("AJJ-TEZ")
    assert [m["$ref"] for m in channel["messages"].values()] == [
        "#/components/messages/filing.Filing.Submitted.v1"
    ]
