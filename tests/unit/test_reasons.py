"""The reasons a register version was compiled, as officials read them: Chinese, and never an id."""

from __future__ import annotations

import uuid

import pytest

from services.kernel.reasons import change_zh, reason_zh

POINT = str(uuid.uuid4())


@pytest.mark.parametrize(
    ("stored", "read"),
    [
        ("requested", "企业申请编制"),
        ("", "企业申请编制"),
        ("re-file: risk point added: 1号反应釜", "风险因素变化（新增风险点：“1号反应釜”）"),
        ("re-file: risk point (re-)graded: 液氨储罐区", "风险因素变化（风险点等级变化：“液氨储罐区”）"),
        ("re-file: risk point retired: RP-7", "风险因素变化（风险点停用：“RP-7”）"),
        ("re-file: 重大隐患 opened", "风险因素变化（新增重大隐患）"),
        ("re-file: 重大隐患 closed (销号)", "风险因素变化（重大隐患销号）"),
        (f"re-file: risk point (re-)graded: {POINT}", "风险因素变化（风险点等级变化：“氯化反应釜”）"),
        (f"re-file: risk point (re-)graded: {POINT.upper()}", "风险因素变化（风险点等级变化：“氯化反应釜”）"),
    ],
)
def test_stored_reasons_read_in_chinese(stored: str, read: str) -> None:
    assert reason_zh(stored, {POINT: "氯化反应釜"}.get) == read


def test_an_id_nobody_can_name_is_left_out() -> None:
    assert reason_zh(f"re-file: risk point (re-)graded: {POINT}") == "风险因素变化（风险点等级变化）"
    assert change_zh(f"re-file: risk point (re-)graded: {POINT}") == "风险点等级变化"
    assert POINT not in reason_zh(f"re-file: something new: {POINT}")
