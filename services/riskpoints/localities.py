"""Level bands per locality: infra/thresholds.yaml (or HUB_THRESHOLDS_FILE), keyed by town."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from services.backbone.errors import ValidationError
from services.riskpoints.grading import DEFAULT_THRESHOLDS, Thresholds

THRESHOLDS_FILE = Path(__file__).resolve().parents[2] / "infra" / "thresholds.yaml"


def _thresholds(values: Any, base: Thresholds, where: str) -> Thresholds:
    if not isinstance(values, Mapping):
        raise ValidationError(where, "must map bound names to numbers")
    known = {f.name for f in dataclasses.fields(Thresholds)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValidationError(f"{where}.{unknown[0]}", f"not a threshold (known: {', '.join(sorted(known))})")
    try:
        return dataclasses.replace(base, **values)
    except ValidationError as error:
        raise ValidationError.many(
            (f"{where}.{f.removeprefix('thresholds.')}", r) for f, r in error.violations
        ) from None


class Localities:
    """The thresholds in force in each town; towns not configured use the default."""

    def __init__(self, default: Thresholds = DEFAULT_THRESHOLDS, towns: dict[str, Thresholds] | None = None):
        self.default = default
        self.towns = dict(towns or {})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Localities:
        default = _thresholds(data.get("default") or {}, DEFAULT_THRESHOLDS, "default")
        towns = {
            str(town): _thresholds(values or {}, default, f"towns.{town}")
            for town, values in (data.get("towns") or {}).items()
        }
        return cls(default, towns)

    @classmethod
    def from_file(cls, path: Path | str | None = None) -> Localities:
        """Reads the configuration; a bad one stops the service at start, naming the bound."""
        data = yaml.safe_load(Path(path or THRESHOLDS_FILE).read_text(encoding="utf-8")) or {}
        return cls.from_mapping(data)

    def thresholds_for(self, town: str) -> Thresholds:
        return self.towns.get(town.strip(), self.default)

    def as_dict(self) -> dict[str, Any]:
        return {
            "default": dataclasses.asdict(self.default),
            "towns": {town: dataclasses.asdict(t) for town, t in self.towns.items()},
        }
