"""Valid test data: unified social credit codes and enterprise profiles."""

from __future__ import annotations

from typing import Any

from services.kernel.validation import org_code_check_digit, uscc_check_digit


def make_uscc(n: int, division: str = "370402") -> str:
    """A valid credit code (both check digits right) numbered n, in the given division."""
    org8 = f"{n:08d}"
    org = org8 + org_code_check_digit(org8)
    first17 = "91" + division + org
    return first17 + uscc_check_digit(first17)


def enterprise_fields(n: int, **overrides: Any) -> dict[str, Any]:
    fields = {
        "unified_social_credit_code": make_uscc(n),
        "name": f"枣庄市台儿庄区测试企业{n}有限公司",
        "legal_representative": f"张{n}",
        "legal_representative_mobile": f"138{n % 100000000:08d}",
        "industry": "化工",
        "address": f"张山子镇工业园{n}号",
        "town": "张山子镇",
        "contacts": [{"name": "李安全", "role": "安全员", "mobile": "13912345678"}],
    }
    fields.update(overrides)
    return fields


def enterprise_kwargs(n: int, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of the Enterprise aggregate itself."""
    fields = enterprise_fields(n, **overrides)
    fields["uscc"] = fields.pop("unified_social_credit_code")
    return fields
