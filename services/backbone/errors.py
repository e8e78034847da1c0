"""Domain errors shared by every service, each naming the field and the rule it broke."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar


class DomainError(Exception):
    """A business rule was broken; ``str(err)`` is ``"<field>: <rule>"``.

    ``args`` is ``(field, rule, ...)`` so that ``type(err)(*err.args)`` rebuilds the error
    (pickle, and nameko's remote-error registry, rebuild exceptions that way).
    ``grpc_status`` is the name of the gRPC status code the gateway maps the error to.
    """

    grpc_status: ClassVar[str] = "UNKNOWN"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(field, rule)
        self.field = field
        self.rule = rule

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


class ValidationError(DomainError):
    """Bad input: one or several ``(field, rule)`` violations; maps to INVALID_ARGUMENT.

    ``field`` and ``rule`` are those of the first violation; ``violations`` lists them all.
    """

    grpc_status: ClassVar[str] = "INVALID_ARGUMENT"

    def __init__(self, field: str, rule: str, violations: Iterable[tuple[str, str]] | None = None) -> None:
        items = [(str(f), str(r)) for f, r in violations] if violations is not None else [(field, rule)]
        if not items or items[0] != (field, rule):
            items.insert(0, (field, rule))
        super().__init__(field, rule)
        self.violations: list[tuple[str, str]] = items
        if len(items) > 1:
            self.args = (field, rule, items)

    @classmethod
    def many(cls, violations: Iterable[tuple[str, str]]) -> ValidationError:
        """One error carrying every violation, in the given order (at least one)."""
        items = [(str(f), str(r)) for f, r in violations]
        if not items:
            raise ValueError("ValidationError.many needs at least one violation")
        return cls(items[0][0], items[0][1], items)

    def __str__(self) -> str:
        return "; ".join(f"{f}: {r}" for f, r in self.violations)


class NotFoundError(DomainError):
    """The addressed entity does not exist; maps to NOT_FOUND."""

    grpc_status: ClassVar[str] = "NOT_FOUND"


class TransitionError(DomainError):
    """A lifecycle transition forbidden from ``current_state``; maps to FAILED_PRECONDITION."""

    grpc_status: ClassVar[str] = "FAILED_PRECONDITION"

    def __init__(self, field: str, rule: str, current_state: str) -> None:
        super().__init__(field, rule)
        self.current_state = current_state
        self.args = (field, rule, current_state)


class PermissionDeniedError(DomainError):
    """The caller may not do this; maps to PERMISSION_DENIED."""

    grpc_status: ClassVar[str] = "PERMISSION_DENIED"


class ConflictError(DomainError):
    """The request conflicts with the current state (duplicate, stale version); maps to ABORTED."""

    grpc_status: ClassVar[str] = "ABORTED"


class UnavailableError(DomainError):
    """A service the call needs cannot be reached now (the broker restarting, a service starting);
    maps to UNAVAILABLE: the caller may try again."""

    grpc_status: ClassVar[str] = "UNAVAILABLE"
