"""Validators for what operators and departments send: departments, routing rules, enforcement orders."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Any

from services.backbone.errors import ValidationError
from services.kernel.signatures import validate_public_key
from services.kernel.validation import happened, validate_length, validate_required
from services.registry.departments import DepartmentKind
from services.registry.routing import WILDCARD

CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,63}")
ENDPOINT = re.compile(r"(dns:///)?([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):([0-9]{1,5})")
CREDENTIALS_REF = re.compile(r"(env|file|vault):\S+")
PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")


def collect_violations(checks: Mapping[str, Callable[[], Any]]) -> dict[str, Any]:
    """Runs every check; one ValidationError with all violations, or the clean values."""
    clean: dict[str, Any] = {}
    violations: list[tuple[str, str]] = []
    for field, check in checks.items():
        try:
            clean[field] = check()
        except ValidationError as error:
            violations.extend(error.violations)
    if violations:
        raise ValidationError.many(violations)
    return clean


def department_code(value: Any, field: str = "code") -> str:
    code = validate_required(value, field)
    if not CODE.fullmatch(code):
        raise ValidationError(field, "must be 2-64 letters, digits, '.', '_' or '-', starting alphanumeric")
    return code


def _kind(value: Any) -> DepartmentKind:
    try:
        return DepartmentKind.parse(validate_required(value, "kind"))
    except ValueError:
        raise ValidationError(
            "kind", f"must be one of {', '.join(k.value for k in DepartmentKind)}"
        ) from None


def _endpoint(value: Any) -> str:
    text = str(value or "").strip()
    match = ENDPOINT.fullmatch(text)
    if text and (match is None or not 0 < int(match.group(3)) < 65536):
        raise ValidationError("endpoint", "must be host:port (or dns:///host:port), or empty for no platform")
    return text


def _tls_ca(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    blocks = PEM_BLOCK.findall(text)
    try:
        ders = [base64.b64decode("".join(b.split()), validate=True) for b in blocks]
    except (binascii.Error, ValueError):
        ders = []
    if not ders or any(not der.startswith(b"\x30") for der in ders):
        raise ValidationError("tls_ca", "must be PEM certificates (-----BEGIN CERTIFICATE----- ...)")
    return text + "\n"


def _credentials_ref(value: Any) -> str:
    text = str(value or "").strip()
    if text and not CREDENTIALS_REF.fullmatch(text):
        raise ValidationError(
            "credentials_ref", "must be a reference (env:NAME, file:/path or vault:path), never the secret"
        )
    return text


def _receipt_public_key(value: Any) -> str:
    text = str(value or "").strip()
    if not text:
        return ""
    try:
        return validate_public_key(text)
    except ValueError as error:
        raise ValidationError(
            "receipt_public_key", f"must be the platform's SM2 public key: {error}"
        ) from None


def check_department(fields: Mapping[str, Any], partial: bool = False) -> dict[str, Any]:
    """Clean department fields; with partial, only the changeable ones that are given."""
    checks: dict[str, Callable[[], Any]] = {
        "code": lambda: department_code(fields.get("code")),
        "name": lambda: validate_length(validate_required(fields.get("name"), "name"), "name", 200),
        "kind": lambda: _kind(fields.get("kind")),
        "town": lambda: validate_length(str(fields.get("town") or "").strip(), "town", 200),
        "endpoint": lambda: _endpoint(fields.get("endpoint")),
        "tls_ca": lambda: _tls_ca(fields.get("tls_ca")),
        "credentials_ref": lambda: _credentials_ref(fields.get("credentials_ref")),
        "receipt_public_key": lambda: _receipt_public_key(fields.get("receipt_public_key")),
    }
    if partial:
        checks = {k: v for k, v in checks.items() if k in fields and k not in ("code", "kind", "town")}
        return collect_violations(checks)
    clean = collect_violations(checks)
    if clean["kind"] == DepartmentKind.TOWN_OFFICE and not clean["town"]:
        raise ValidationError("town", "a town safety office (镇安委会办公室) must name its town")
    return clean


def routing_pattern(value: Any, field: str) -> str:
    """An industry or town of a rule: the exact text, or the wildcard '*' alone."""
    text = validate_length(validate_required(value, field), field, 200)
    if WILDCARD in text and text != WILDCARD:
        raise ValidationError(field, "must be an exact value or '*' alone (no partial wildcards)")
    return text


def check_order(reason: Any, document_no: Any, authority: Any, ordered_on: Any) -> dict[str, str]:
    """An enforcement order's reason, document number (文书编号), issuing authority and date."""
    return collect_violations(
        {
            "reason": lambda: validate_length(validate_required(reason, "reason"), "reason", 2000),
            "document_no": lambda: validate_length(
                validate_required(document_no, "document_no"), "document_no", 200
            ),
            "authority": lambda: validate_length(validate_required(authority, "authority"), "authority", 200),
            "ordered_on": lambda: _date(ordered_on),
        }
    )


def _date(value: Any) -> str:
    return happened().check(validate_required(value, "ordered_on"), "ordered_on").isoformat()
