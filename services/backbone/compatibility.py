"""Says whether a changed JSON Schema still accepts what the old one promised consumers."""

from __future__ import annotations

from typing import Any

_STRICTER_IF_LARGER = ("minLength", "minimum", "minItems", "exclusiveMinimum")
_STRICTER_IF_SMALLER = ("maxLength", "maximum", "maxItems", "exclusiveMaximum")


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if t is None:
        return set()
    return {t} if isinstance(t, str) else set(t)


def breaking_changes(old: dict[str, Any], new: dict[str, Any], at: str = "") -> list[str]:
    """Every way in which `new` breaks producers or consumers written against `old`."""
    where = at or "(root)"
    problems: list[str] = []
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and not old_types <= new_types:
        problems.append(f"{where}: type {sorted(old_types)} became {sorted(new_types)}")
    if "enum" in old:
        removed = [v for v in old["enum"] if v not in new.get("enum", old["enum"])]
        if removed:
            problems.append(f"{where}: enum values removed {removed}")
    elif "enum" in new:
        problems.append(f"{where}: enum added to an open field")
    for key in ("const", "pattern", "format"):
        if new.get(key) != old.get(key) and key in new:
            problems.append(f"{where}: {key} changed from {old.get(key)!r} to {new[key]!r}")
    for key in _STRICTER_IF_LARGER:
        if key in new and new[key] > old.get(key, float("-inf")):
            problems.append(f"{where}: {key} raised to {new[key]}")
    for key in _STRICTER_IF_SMALLER:
        if key in new and new[key] < old.get(key, float("inf")):
            problems.append(f"{where}: {key} lowered to {new[key]}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, sub in old_props.items():
        path = f"{at}.{name}" if at else name
        if name not in new_props:
            problems.append(f"{path}: property removed")
        else:
            problems.extend(breaking_changes(sub, new_props[name], path))
    added_required = set(new.get("required", [])) - set(old.get("required", []))
    for name in sorted(added_required):
        problems.append(f"{at + '.' if at else ''}{name}: became required")
    if old.get("additionalProperties", True) is not False and new.get("additionalProperties") is False:
        problems.append(f"{where}: additionalProperties closed")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        problems.extend(breaking_changes(old["items"], new["items"], f"{at}[]"))
    return problems
