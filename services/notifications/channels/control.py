"""Switching a channel down and up (a JSON file in the outbox folder, reread on every send).

    {"sms": {"mode": "down", "error": "gateway timeout"}}

Tests and operators use it to show what happens when an SMS gateway or a platform is unreachable.
"""

from __future__ import annotations

import json
from pathlib import Path

MODES = ("up", "down")


def control_file(directory: Path) -> Path:
    return directory / "control.json"


def read(directory: Path) -> dict[str, dict[str, str]]:
    path = control_file(directory)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def failure(directory: Path, channel: str) -> str | None:
    """Why the channel is down, or None when it is up."""
    entry = read(directory).get(channel) or {}
    if entry.get("mode") == "down":
        return str(entry.get("error") or f"{channel} channel is down")
    return None


def write(directory: Path, channel: str, mode: str, error: str = "") -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}")
    directory.mkdir(parents=True, exist_ok=True)
    data = read(directory)
    data[channel] = {"mode": mode, "error": error}
    tmp = control_file(directory).with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(control_file(directory))
