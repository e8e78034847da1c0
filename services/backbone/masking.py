"""Masks personal data (people's names, mobile numbers) before anything is logged."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from typing import Any

# Not inside a run of letters and digits: eleven digits of a hex id (a correlation id, a UUID) are no
# mobile number, and masking them made the id useless for finding its other lines.
MOBILE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)(\d{4})(\d{4})(?![0-9A-Za-z])")

# Keys whose values are a person's name. Enterprise and risk point names are not personal.
PERSON_KEYS = frozenset(
    {
        "legal_representative",
        "person",
        "responsible_person",
        "contact",
        "contact_name",
        "rectifier",
        "verifier",
        "inspector",
        "reporter",
        "signer",
    }
)


def mask_mobile(text: str) -> str:
    """138****5678 for every mobile number inside the text."""
    return MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_name(name: str) -> str:
    """张** for 张三丰: keeps the family name only."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


_SCALARS = frozenset({int, float, bool, type(None)})


def mask_value(key: str, value: Any) -> Any:
    kind = type(value)  # the usual values first, by their exact type: every log line passes here
    if kind is str:
        return _masked_text(key, value)
    if kind in _SCALARS:
        return value
    if isinstance(value, Mapping):
        return {k: mask_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_value(key, v) for v in value]
    if isinstance(value, str):
        return _masked_text(key, value)
    return value


def _masked_text(key: str, value: str) -> str:
    if key in PERSON_KEYS or key.endswith("_person"):
        return mask_name(value)
    if key.endswith("_id") or len(value) < 11:  # a mobile is 11 digits
        return value  # ids (correlation, enterprise, delivery …) carry no personal data
    return mask_mobile(value)


def mask_event_dict(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor."""
    return {k: mask_value(k, v) for k, v in event_dict.items()}
