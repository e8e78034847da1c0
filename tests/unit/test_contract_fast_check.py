"""The relay's fast contract check (jsonschema-rs) never changes a verdict of jsonschema, which decides.

For every contract: payloads made valid from its schema, then broken in one place each (a value of the
wrong kind, a text that almost matches a pattern, a number out of range, a key missing or added), and
contracts.validate() must refuse exactly those jsonschema refuses.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from services.backbone import contracts

ALL = contracts.all_contracts()
CJK = "安全风险管控隐患排查治理企业"
HEX = "0123456789abcdef"
HEX_ANY = HEX + "ABCDEF"
DIGITS = "0123456789"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"

# a valid text for every pattern the contracts use (a contract with a new pattern fails the test below
# until it has one)
PATTERNS: dict[str, Callable[[random.Random], str]] = {
    "^[0-9a-f]{64}$": lambda r: "".join(r.choice(HEX) for _ in range(64)),
    "^[0-9a-f]{128}$": lambda r: "".join(r.choice(HEX) for _ in range(128)),
    "^04[0-9a-f]{128}$": lambda r: "04" + "".join(r.choice(HEX) for _ in range(128)),
    "^[0-9a-fA-F]{128,130}$": lambda r: "".join(r.choice(HEX_ANY) for _ in range(r.choice((128, 130)))),
    "^1[3-9][0-9]{9}$": lambda r: "1" + r.choice("3456789") + "".join(r.choice(DIGITS) for _ in range(9)),
    "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$": lambda r: "-".join(
        "".join(r.choice(HEX) for _ in range(n)) for n in (8, 4, 4, 4, 12)
    ),
    "^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$": lambda r: (
        r.choice("Ab9") + "".join(r.choice("xyZ0._-") for _ in range(r.randint(1, 63)))
    ),
    "^[0-9]{4}-(0[1-9]|1[0-2])$": lambda r: f"{r.randint(2000, 2099)}-{r.randint(1, 12):02d}",
    "^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$": lambda r: (
        "".join(r.choice(USCC_CHARS) for _ in range(2))
        + "".join(r.choice(DIGITS) for _ in range(6))
        + "".join(r.choice(USCC_CHARS) for _ in range(10))
    ),
}

# what a tester puts where a value was wanted: near misses of patterns and ranges, other kinds of value
HOSTILE: list[Any] = [
    "",
    " ",
    "\n",
    "13812345678\n",  # Python's $ matches before a final newline; ECMA's and Rust's do not
    "１３８１２３４５６７８",  # full-width digits
    "١٣٨١٢٣٤٥٦٧٨",  # Arabic-Indic digits
    "0" * 64 + "\n",
    "G" * 64,
    "2026-13",
    "2026-00",
    "x",
    "安",
    -1,
    0,
    1,
    5,
    2**70,
    -(2**70),
    1.0,
    1.5,
    -0.0,
    float("inf"),
    True,
    False,
    None,
    [],
    [None],
    {},
    {"x": 1},
]


def valid(schema: dict[str, Any], r: random.Random) -> Any:
    if "enum" in schema:
        return copy.deepcopy(r.choice(schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = r.choice(kind)
    if kind == "object" or (kind is None and "properties" in schema):
        made = {}
        required = set(schema.get("required", []))
        for name, sub in schema.get("properties", {}).items():
            if name in required or r.random() < 0.6:
                made[name] = valid(sub, r)
        extra = schema.get("additionalProperties", True)
        for name in sorted(required - made.keys()):  # required without a schema of its own
            made[name] = valid(extra, r) if isinstance(extra, dict) else copy.deepcopy(r.choice(HOSTILE))
        more = max(schema.get("minProperties", 0) - len(made), 0)
        if isinstance(extra, dict) or (extra is True and r.random() < 0.2):
            more = max(more, r.randint(0, 2))
        for i in range(more):
            absent = [n for n in schema.get("properties", {}) if n not in made]
            if extra is False:  # no keys but its own: one more of those
                made[absent[0]] = valid(schema["properties"][absent[0]], r)
            elif isinstance(extra, dict):
                made[f"k{i}"] = valid(extra, r)
            else:
                made[f"k{i}"] = copy.deepcopy(r.choice(HOSTILE))
        return made
    if kind == "array":
        items = schema.get("items", {})
        return [valid(items, r) for _ in range(schema.get("minItems", 0) + r.randint(0, 2))]
    if kind == "string":
        if "pattern" in schema:
            return PATTERNS[schema["pattern"]](r)
        if schema.get("format") == "date-time":
            return "2026-12-05T08:00:00.123456+00:00"
        if schema.get("format") == "date":
            return "2026-12-05"
        length = schema.get("minLength", 0) + r.randint(0, 6)
        return "".join(r.choice(CJK + "ab1 ") for _ in range(length))
    if kind == "integer":
        low, high = schema.get("minimum", -1000), schema.get("maximum", 10**6)
        return r.randint(low, high)
    if kind == "number":
        low, high = schema.get("minimum", -1000), schema.get("maximum", 10**6)
        return r.uniform(low, high)
    if kind == "boolean":
        return r.random() < 0.5
    if kind == "null":
        return None
    return r.choice(HOSTILE)  # no type: anything goes


def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path inside a value (the value itself first)."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += places(item, (*path, index))
    return found


def broken(value: Any, r: random.Random) -> Any:
    """The value changed in one place: replaced, removed, or given a key it may not have."""
    value = copy.deepcopy(value)
    path = r.choice(places(value)[1:] or [()])
    if not path:
        return r.choice(HOSTILE)
    parent = value
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    roll = r.random()
    if isinstance(parent, dict) and roll < 0.2:
        del parent[last]
    elif isinstance(parent, dict) and roll < 0.3:
        parent["unexpected"] = r.choice(HOSTILE)
    else:
        parent[last] = r.choice(HOSTILE)
    return value


def test_every_pattern_of_the_contracts_has_a_valid_example() -> None:
    used = {m for c in ALL for m in re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', _text(c))}
    assert used <= set(PATTERNS), f"give these patterns an example above: {used - set(PATTERNS)}"


def _text(contract: contracts.Contract) -> str:
    return contract.path.read_text(encoding="utf-8")


@pytest.mark.parametrize("contract", ALL, ids=lambda c: f"{c.upstream}/{c.type}.v{c.version}")
def test_the_fast_check_refuses_exactly_what_jsonschema_refuses(contract: contracts.Contract) -> None:
    reference = Draft202012Validator(contract.schema)
    r = random.Random(contract.path.name)
    refused = 0
    for round_ in range(150):
        payload = valid(contract.schema, r)
        assert reference.is_valid(payload), (round_, payload)  # the generator makes valid payloads
        for candidate in (payload, broken(payload, r), broken(payload, r)):
            expected = reference.is_valid(candidate)
            try:
                contracts.validate(contract.upstream, contract.type, contract.version, candidate)
                accepted = True
            except contracts.ContractError:
                accepted = False
            assert accepted == expected, candidate
            refused += not expected
    assert refused > 50  # the broken payloads did break rules
