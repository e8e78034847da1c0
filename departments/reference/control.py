"""How a reference platform is told to accept, reject, be slow or be down (a JSON file it rereads)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

MODES = ("accept", "reject", "slow", "down")


@dataclass(frozen=True)
class Behaviour:
    mode: str = "accept"
    reason: str = "登记册不完整，请补充后重新报送"  # the rejection reason
    delay_seconds: float = 2.0  # how slow "slow" is


def control_file(data_dir: Path) -> Path:
    return data_dir / "control.json"


def read(data_dir: Path) -> Behaviour:
    path = control_file(data_dir)
    if not path.exists():
        return Behaviour()
    try:
        return Behaviour(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError):
        return Behaviour()


def write(data_dir: Path, behaviour: Behaviour) -> None:
    if behaviour.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = control_file(data_dir).with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(behaviour), ensure_ascii=False), encoding="utf-8")
    tmp.replace(control_file(data_dir))
