"""The penalty table: each violation's legal basis and the top of its legal range (顶格处罚)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from services.backbone.errors import ValidationError

PENALTIES_FILE = Path(__file__).resolve().parents[2] / "infra" / "penalties.yaml"


@dataclass(frozen=True)
class Violation:
    code: str
    description: str
    legal_basis: str
    maximum: int  # yuan


@cache
def table(path: str = "") -> dict[str, Violation]:
    source = Path(path or PENALTIES_FILE)
    data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    return {
        code: Violation(code, str(v["description"]), str(v["legal_basis"]), int(v["maximum"]))
        for code, v in (data.get("violations") or {}).items()
    }


def top_of_range(violations: dict[str, Violation], code: str, amount: int) -> Violation:
    """The violation, when `amount` is exactly the maximum its legal basis allows.

    ValidationError otherwise, naming the rule (顶格处罚) and the legal basis."""
    violation = violations.get(str(code).strip())
    if violation is None:
        raise ValidationError("violation", f"unknown violation; one of {', '.join(sorted(violations))}")
    if amount < violation.maximum:
        raise ValidationError(
            "amount",
            f"顶格处罚: the penalty for {violation.code} is the top of the legal range, "
            f"{violation.maximum} yuan ({violation.legal_basis}), not {amount}",
        )
    if amount > violation.maximum:
        raise ValidationError(
            "amount",
            f"exceeds the legal maximum of {violation.maximum} yuan for {violation.code} "
            f"({violation.legal_basis})",
        )
    return violation
