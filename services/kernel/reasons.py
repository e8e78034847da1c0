"""Why a register version was compiled, as an official reads it (Chinese, no ids).

The filing service stores the reason as it was written when the version was compiled: "requested", or
"re-file: <what changed>: <the risk point's name, or its id when the event carried no name>". Stored
events are immutable, so the SMS texts and the console translate the words here, and leave out ids.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REFILE_PREFIX = "re-file"
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
# what changed (filing's refiling watcher), longest first: "risk point (re-)graded" before "risk point"
CHANGES: tuple[tuple[str, str], ...] = (
    ("risk point (re-)graded", "风险点等级变化"),
    ("risk point added", "新增风险点"),
    ("risk point retired", "风险点停用"),
    ("重大隐患 closed (销号)", "重大隐患销号"),
    ("重大隐患 opened", "新增重大隐患"),
)
PLAIN = {"requested": "企业申请编制", "": "企业申请编制"}


def is_refile(reason: str) -> bool:
    return str(reason).startswith(REFILE_PREFIX)


def reason_zh(reason: str, name_of: Callable[[str], str | None] = lambda _id: None) -> str:
    """The reason in Chinese: 风险因素变化（风险点等级变化：“反应釜区”） for a re-file, 企业申请编制 for
    one the enterprise asked for. An id in it is replaced by the name `name_of` finds, or left out."""
    text = str(reason or "").strip()
    if text in PLAIN:
        return PLAIN[text]
    change = change_zh(text, name_of)
    return f"风险因素变化（{change}）" if is_refile(text) else change


def change_zh(reason: str, name_of: Callable[[str], str | None] = lambda _id: None) -> str:
    """What changed, in Chinese (风险点等级变化：“反应釜区”), from a re-file's reason."""
    text = str(reason or "").strip()
    if is_refile(text):
        text = text[len(REFILE_PREFIX) :].lstrip(": ").strip()
    for english, chinese in CHANGES:
        if text.startswith(english):
            subject = _named(text[len(english) :].lstrip(": ").strip(), name_of)
            return f"{chinese}：“{subject}”" if subject else chinese
    return _named(text, name_of) or "风险因素变化"


def _named(text: str, name_of: Callable[[str], str | None]) -> str:
    """`text` with each id replaced by its name (or removed when nobody knows it)."""

    def name(match: re.Match[str]) -> str:
        return name_of(match.group(0).lower()) or ""

    return _UUID.sub(name, text).strip(" :：，,")
