"""The filing-signature test vectors (contracts/vectors/filing-signature.json), as every check reads them."""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

PATH = Path(__file__).resolve().parents[1] / "contracts" / "vectors" / "filing-signature.json"


@cache
def vectors() -> dict[str, Any]:
    return json.loads(PATH.read_text(encoding="utf-8"))


def key(name: str) -> dict[str, Any]:
    return next(k for k in vectors()["keys"] if k["name"] == name)


def message(name: str) -> bytes:
    return base64.b64decode(next(m for m in vectors()["messages"] if m["name"] == name)["base64"])


def signature_cases() -> list[dict[str, Any]]:
    return list(vectors()["signatures"])


def case_id(case: dict[str, Any]) -> str:
    verdict = "valid" if case["valid"] else "invalid"
    return f"{case['key']}-{case['message']}-{case['encoding']}-{verdict}-{case['made_by'].split()[0]}"
