"""The one table from domain errors to gRPC status codes, and the rich error details."""

from __future__ import annotations

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.backbone import errors

STATUS_OF: dict[type[errors.DomainError], grpc.StatusCode] = {
    errors.ValidationError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.NotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.TransitionError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    errors.ConflictError: grpc.StatusCode.ALREADY_EXISTS,
    errors.UnavailableError: grpc.StatusCode.UNAVAILABLE,
}


def status_code(error: errors.DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return grpc.StatusCode.FAILED_PRECONDITION


def to_status(error: errors.DomainError) -> grpc.Status:
    """A status whose details name each field and rule (google.rpc.BadRequest and friends)."""
    code = status_code(error)
    details = any_pb2.Any()
    if isinstance(error, errors.ValidationError):
        details.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=r)
                    for f, r in error.violations
                ]
            )
        )
    elif isinstance(error, errors.TransitionError):
        details.Pack(
            error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=f"state:{error.current_state}", subject=error.field, description=error.rule
                    )
                ]
            )
        )
    else:
        info = error_details_pb2.ErrorInfo(reason=type(error).__name__, metadata={"field": error.field})
        details.Pack(info)
    status = status_pb2.Status(code=getattr(code_pb2, code.name), message=str(error), details=[details])
    return rpc_status.to_status(status)


def field_violations(call_error: grpc.RpcError) -> list[tuple[str, str]]:
    """(field, rule) pairs from an INVALID_ARGUMENT error (for clients and tests)."""
    status = rpc_status.from_call(call_error)  # type: ignore[arg-type]
    found: list[tuple[str, str]] = []
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            found.extend((v.field, v.description) for v in request.field_violations)
    return found
