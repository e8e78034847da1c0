"""Contracts: every schema is valid, and none changed incompatibly under the same version."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from services.backbone import contracts
from services.backbone.compatibility import breaking_changes

ROOT = Path(__file__).resolve().parents[2]


def committed_versions(path: Path) -> list[tuple[str, dict]]:
    """Every committed version of a contract file: (commit, schema)."""
    rel = path.relative_to(ROOT)
    log = subprocess.run(
        ["git", "log", "--format=%H", "--follow", "--", str(rel)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    found = []
    for commit in log.stdout.split():
        shown = subprocess.run(
            ["git", "show", f"{commit}:{rel}"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        if shown.returncode == 0:
            found.append((commit[:10], json.loads(shown.stdout)))
    return found


ALL = contracts.all_contracts()


def test_there_are_contracts() -> None:
    assert len(ALL) >= 7


@pytest.mark.parametrize("contract", ALL, ids=lambda c: f"{c.upstream}/{c.type}.v{c.version}")
def test_schema_is_valid_json_schema(contract: contracts.Contract) -> None:
    Draft202012Validator.check_schema(contract.schema)


@pytest.mark.parametrize("contract", ALL, ids=lambda c: f"{c.upstream}/{c.type}.v{c.version}")
def test_no_contract_changed_incompatibly_without_a_new_version(contract: contracts.Contract) -> None:
    for commit, old in committed_versions(contract.path):
        problems = breaking_changes(old, contract.schema)
        assert not problems, (
            f"{contract.path.name} changed incompatibly since {commit}: {problems}. "
            "Publish a new version (a new .v<N+1> file and an upcaster) instead."
        )


BASE = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "level": {"type": "integer", "enum": [1, 2, 3, 4]},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name"],
}


def changed(**edits: object) -> dict:
    schema = json.loads(json.dumps(BASE))
    for path, value in edits.items():
        target = schema
        *parents, last = path.split("__")
        for p in parents:
            target = target[p]
        if value is None:
            del target[last]
        else:
            target[last] = value
    return schema


@pytest.mark.parametrize(
    ("edits", "fragment"),
    [
        ({"properties__name": None}, "name: property removed"),
        ({"required": ["name", "level"]}, "level: became required"),
        ({"properties__level__type": "string"}, "type"),
        ({"properties__level__enum": [1, 2, 3]}, "enum values removed"),
        ({"properties__name__minLength": 3}, "minLength raised"),
        ({"additionalProperties": False}, "additionalProperties closed"),
        ({"properties__tags__items": {"type": "integer"}}, "tags[]"),
        ({"properties__name__pattern": "^[a-z]+$"}, "pattern changed"),
    ],
)
def test_breaking_changes_are_named(edits: dict, fragment: str) -> None:
    problems = breaking_changes(BASE, changed(**edits))
    assert any(fragment in p for p in problems), problems


def test_compatible_changes_pass() -> None:
    added_optional = changed(properties__note={"type": "string"})
    widened = changed(properties__level__enum=[1, 2, 3, 4, 5])
    assert breaking_changes(BASE, added_optional) == []
    assert breaking_changes(BASE, widened) == []
    assert breaking_changes(BASE, BASE) == []


def test_validate_names_the_field_and_rule() -> None:
    payload = {
        "uscc": "91350100M000100Y43",
        "name": "x",
        "legal_representative": "张三",
        "legal_representative_mobile": "123",
        "industry": "化工",
        "address": "a",
        "town": "t",
        "contacts": [],
    }
    with pytest.raises(contracts.ContractError) as bad:
        contracts.validate("registry", "Enterprise.Registered", 1, payload)
    assert bad.value.field == "legal_representative_mobile"
    del payload["town"]
    payload["legal_representative_mobile"] = "13812345678"
    with pytest.raises(contracts.ContractError) as missing:
        contracts.validate("registry", "Enterprise.Registered", 1, payload)
    assert missing.value.field == "town"


def test_upcasting_brings_old_payloads_forward() -> None:
    @contracts.upcaster("testsvc", "Thing.Made", 1)
    def v1_to_v2(payload: dict) -> dict:
        payload["colour"] = payload.pop("color")
        return payload

    assert contracts.upcast("testsvc", "Thing.Made", 1, {"color": "红"}, 2) == {"colour": "红"}
    with pytest.raises(contracts.ContractError):
        contracts.upcast("testsvc", "Thing.Made", 1, {"color": "蓝"}, 3)  # no v2 → v3 step
