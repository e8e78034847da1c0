"""Unit tests for the registry validators and the shared domain errors."""

from __future__ import annotations

import pickle

import pytest

from services.backbone.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDeniedError,
    TransitionError,
    ValidationError,
)
from services.kernel.validation import (
    USCC_CHARSET,
    org_code_check_digit,
    uscc_check_digit,
    validate_length,
    validate_mobile,
    validate_required,
    validate_uscc,
)

VALID_USCC = ["91350100M000100Y43", "91440300708461136T"]


def _with_valid_checks(first16: str) -> str:
    """A full code from its first 16 characters, with both check digits computed."""
    first17 = first16 + org_code_check_digit(first16[8:16])
    return first17 + uscc_check_digit(first17)


def _rule(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    assert excinfo.value.field == "unified_social_credit_code"
    return excinfo.value.rule


# --- unified social credit code ---------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCC)
def test_valid_examples_pass(code: str) -> None:
    assert validate_uscc(code) == code


@pytest.mark.parametrize("code", VALID_USCC)
def test_lowercase_and_whitespace_are_normalised(code: str) -> None:
    assert validate_uscc(f"  {code.lower()}\n") == code


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_forbidden_letters_are_refused_by_name(letter: str) -> None:
    code = VALID_USCC[0][:10] + letter + VALID_USCC[0][11:]
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert f"'{letter}'" in _rule(excinfo)
    assert "position 11" in _rule(excinfo)


@pytest.mark.parametrize("ch", ["-", "中", "!"])
def test_other_foreign_characters_are_refused_by_name(ch: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(ch + VALID_USCC[1][1:])
    assert f"'{ch}'" in _rule(excinfo)


@pytest.mark.parametrize("code", ["", "91350100M000100Y4", "91350100M000100Y433", "9" * 30])
def test_wrong_length_is_refused(code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert f"got {len(code)}" in _rule(excinfo)
    assert "18" in _rule(excinfo)


def test_non_string_is_refused() -> None:
    with pytest.raises(ValidationError):
        validate_uscc(913501000000000000)  # type: ignore[arg-type]


def test_division_code_must_be_digits() -> None:
    code = _with_valid_checks("9135A100" + "70846113")
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code)
    assert "division" in _rule(excinfo)
    assert "'35A100'" in _rule(excinfo)


@pytest.mark.parametrize("code", VALID_USCC)
def test_wrong_overall_check_digit_names_the_expected_one(code: str) -> None:
    wrong = next(ch for ch in USCC_CHARSET if ch != code[17])
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(code[:17] + wrong)
    rule = _rule(excinfo)
    assert "position 18" in rule
    assert f"is '{wrong}', expected '{code[17]}'" in rule


@pytest.mark.parametrize("code", VALID_USCC)
def test_wrong_org_code_check_digit_names_the_expected_one(code: str) -> None:
    # Change only the organisation code's check digit, and keep the overall check right so that it is the
    # organisation code check, and not the overall one, that fails.
    wrong = "7" if code[16] != "7" else "8"
    first17 = code[:16] + wrong
    with pytest.raises(ValidationError) as excinfo:
        validate_uscc(first17 + uscc_check_digit(first17))
    rule = _rule(excinfo)
    assert "organisation code" in rule
    assert f"is '{wrong}', expected '{code[16]}'" in rule


@pytest.mark.parametrize(
    ("first8", "expected"),
    [
        ("M000100Y", "4"),  # from 91350100M000100Y43
        ("70846113", "6"),  # from 91440300708461136T
        ("00000000", "0"),  # 11 - 0 = 11 -> '0'
        ("00000001", "9"),
    ],
)
def test_org_code_check_digit(first8: str, expected: str) -> None:
    assert org_code_check_digit(first8) == expected


def test_org_code_check_digit_can_be_x() -> None:
    # 4*3 = 12, 12 % 11 = 1, 11 - 1 = 10 -> 'X'; a full code carrying it must validate.
    assert org_code_check_digit("40000000") == "X"
    code = _with_valid_checks("91440300" + "40000000")
    assert code[16] == "X"
    assert validate_uscc(code) == code


def test_org_code_letters_use_the_plain_alphabet_index() -> None:
    # GB 11714 values letters A=10 ... Z=35. The USCC charset index differs from P on (P is 23 there,
    # 25 here), so this code is valid only under the plain alphabet rule: 25*3 = 75, 11 - 75 % 11 = 2.
    assert org_code_check_digit("P0000000") == "2"
    code = _with_valid_checks("91440300" + "P0000000")
    assert validate_uscc(code) == code


# --- mobile, required, length -----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["13800138000", "19912345678", "15012345678", " 17712345678 "])
def test_valid_mobiles(value: str) -> None:
    assert validate_mobile(value) == value.strip()


@pytest.mark.parametrize(
    "value",
    ["12345678901", "1234", "12012345678", "198123456789", "1991234567a", "１９９１２３４５６７８", "", None],
)
def test_invalid_mobiles(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_mobile(value, field="responsible_mobile")
    assert excinfo.value.field == "responsible_mobile"
    if value:
        assert value not in str(excinfo.value)  # personal data is never echoed


def test_required() -> None:
    assert validate_required("  张三 ", "legal_representative") == "张三"
    for bad in (None, "", "   ", 3):
        with pytest.raises(ValidationError) as excinfo:
            validate_required(bad, "legal_representative")  # type: ignore[arg-type]
        assert excinfo.value.field == "legal_representative"


def test_length_counts_characters() -> None:
    assert validate_length("一二三", "name", 3) == "一二三"
    with pytest.raises(ValidationError) as excinfo:
        validate_length("一二三四", "name", 3)
    assert excinfo.value.rule == "must be at most 3 characters, got 4"


# --- errors -----------------------------------------------------------------------------------------


def test_domain_error_message_and_attributes() -> None:
    err = NotFoundError("enterprise_id", "no such enterprise")
    assert (err.field, err.rule) == ("enterprise_id", "no such enterprise")
    assert str(err) == "enterprise_id: no such enterprise"
    assert isinstance(err, DomainError)
    assert ValidationError("a", "b").violations == [("a", "b")]


def test_validation_error_many() -> None:
    err = ValidationError.many([("scores.L", "bad"), ("scores.E", "missing")])
    assert err.violations == [("scores.L", "bad"), ("scores.E", "missing")]
    assert (err.field, err.rule) == ("scores.L", "bad")
    assert str(err) == "scores.L: bad; scores.E: missing"
    with pytest.raises(ValueError):
        ValidationError.many([])


def test_grpc_status_names() -> None:
    assert ValidationError.grpc_status == "INVALID_ARGUMENT"
    assert TransitionError.grpc_status == "FAILED_PRECONDITION"
    assert NotFoundError.grpc_status == "NOT_FOUND"
    assert PermissionDeniedError.grpc_status == "PERMISSION_DENIED"
    assert ConflictError.grpc_status == "ABORTED"


@pytest.mark.parametrize(
    "err",
    [
        ValidationError("a", "b"),
        ValidationError.many([("a", "b"), ("c", "d")]),
        TransitionError("state", "cannot close a closed enterprise", current_state="closed"),
        ConflictError("version", "stale"),
    ],
)
def test_errors_rebuild_from_args(err: DomainError) -> None:
    for copy in (pickle.loads(pickle.dumps(err)), type(err)(*err.args)):
        assert type(copy) is type(err)
        assert str(copy) == str(err)
        assert copy.__dict__ == err.__dict__
