"""The kernel's validators over classes of input: every pair of registration authority and category
GB 32100 has (and none it lacks), dates inside and outside their field's window, the numbers a client
gives. Each refusal names the field."""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.backbone.errors import ValidationError
from services.kernel import validation as v
from services.kernel.validation import (
    REGISTRATION_AUTHORITIES,
    USCC_CHARSET,
    org_code_check_digit,
    uscc_check_digit,
    validate_uscc,
)


def code_with(prefix: str, division: str = "370402", body: str = "MA3C4D5E") -> str:
    """A credit code with this prefix and both check digits right."""
    org = body + org_code_check_digit(body)
    first17 = prefix + division + org
    return first17 + uscc_check_digit(first17)


PAIRS = [a + c for a, (_, categories) in REGISTRATION_AUTHORITIES.items() for c in categories]
NOT_PAIRS = [a + c for a in USCC_CHARSET for c in USCC_CHARSET if a + c not in PAIRS]


@pytest.mark.parametrize("prefix", PAIRS)
def test_every_authority_and_category_of_gb_32100_is_accepted(prefix: str) -> None:
    assert validate_uscc(code_with(prefix)) == code_with(prefix)


def test_a_code_naming_no_authority_or_no_category_of_it_is_refused() -> None:
    """Every other first two characters of the charset (Q1…, 00…, 9Y… among them), check digits right."""
    accepted = []
    for prefix in NOT_PAIRS:
        try:
            validate_uscc(code_with(prefix))
        except ValidationError as refused:
            assert refused.field == "unified_social_credit_code"
            assert "position 1" in refused.rule or "position 2" in refused.rule
        else:
            accepted.append(prefix)
    assert not accepted and {"Q1", "00", "9Y"} <= set(NOT_PAIRS)


TODAY = date(2026, 12, 4)
WINDOWS = {"happened": v.happened(TODAY), "due": v.due(TODAY), "scheduled": v.scheduled(TODAY)}


@pytest.mark.parametrize("kind", sorted(WINDOWS))
@given(day=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)))
def test_a_date_is_accepted_exactly_within_its_window(kind: str, day: date) -> None:
    window = WINDOWS[kind]
    if window.earliest <= day <= window.latest:
        assert window.check(day.isoformat(), "on") == day
    else:
        with pytest.raises(ValidationError) as refused:
            window.check(day.isoformat(), "plan.deadline")
        assert refused.value.field == "plan.deadline"


def test_the_windows_are_what_their_fields_mean() -> None:
    assert WINDOWS["happened"].latest == TODAY + timedelta(days=1)
    assert WINDOWS["due"].earliest == TODAY and WINDOWS["due"].latest == date(2031, 12, 4)
    assert v.due(date(2028, 2, 29)).latest == date(2033, 2, 28)
    for window in WINDOWS.values():
        for extreme in ("0001-01-01", "9999-12-31"):
            with pytest.raises(ValidationError):
                window.check(extreme, "on")


@given(text=st.text(max_size=30))
def test_anything_but_an_iso_date_is_refused(text: str) -> None:
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        parsed = None
    if parsed is None or text != parsed.isoformat():
        with pytest.raises(ValidationError):
            v.happened(TODAY).check(text, "found_on")


@pytest.mark.parametrize("value", [None, 20261201, "２０２６-１２-０１", "2026-12-1", " ", "2026-02-30"])
def test_odd_spellings_of_a_date_are_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        v.happened(TODAY).check(value, "found_on")


@given(value=st.one_of(st.integers(), st.text(alphabet=string.digits + "-²٣ ", max_size=60)))
def test_a_client_number_is_taken_only_as_ascii_digits_within_bounds(value: object) -> None:
    try:
        number = v.bounded_int(value, "page_token", 0, v.INT64_MAX)
    except ValidationError as refused:
        assert refused.field == "page_token"
        return
    assert 0 <= number <= v.INT64_MAX
    assert str(number) == str(value).strip().lstrip("0") or number == 0


@pytest.mark.parametrize(("asked", "given_"), [(0, 100), (1, 1), (500, 500)])
def test_a_page_size_of_zero_is_the_default(asked: int, given_: int) -> None:
    assert v.page_size(asked) == given_


@pytest.mark.parametrize("asked", [-1, -(2**31), 501, 2**31 - 1])
def test_a_page_size_out_of_bounds_is_refused(asked: int) -> None:
    with pytest.raises(ValidationError) as refused:
        v.page_size(asked)
    assert refused.value.field == "page_size"
