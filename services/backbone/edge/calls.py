"""What every gateway method does around its body: correlation id, logs, metrics, error mapping."""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import grpc
import structlog

from services.backbone import consistency, correlation, errors, metrics
from services.backbone.edge.status import status_code, to_status

log = structlog.get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
CORRELATION_HEADER = "x-correlation-id"


def metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}


@contextmanager
def answering(method: str, context: grpc.ServicerContext, cid: str, **bound: Any) -> Iterator[None]:
    """What a call's body raised, as the status its client gets, with one log line and the call's
    latency by status: a domain error is the status it names, with its details (request_refused); a
    status the body aborted with is kept; anything else is INTERNAL naming the correlation id
    (request_failed, with the traceback). Never UNKNOWN. `bound`: fields for the log lines (a stream's
    correlation id, where no context holds it)."""
    started = time.perf_counter()
    code = "OK"
    try:
        yield
    except errors.DomainError as error:
        code = status_code(error).name
        log.info("request_refused", method=method, code=code, field=error.field, error=str(error), **bound)
        context.abort_with_status(to_status(error))
    except grpc.RpcError:
        code = "ABORTED_BY_HANDLER"
        raise
    except Exception:
        aborted = context.code()
        if aborted not in (None, grpc.StatusCode.OK):
            code = aborted.name  # context.abort() raises a bare Exception: the body chose its status
            raise
        code = "INTERNAL"
        log.exception("request_failed", method=method, **bound)
        context.abort(grpc.StatusCode.INTERNAL, f"internal error (correlation id {cid})")
    finally:
        metrics.GRPC_LATENCY.labels(method, code).observe(time.perf_counter() - started)


def grpc_method(fn: F) -> F:
    """Binds the caller's correlation id (or a new one), returns it in the initial metadata,
    maps domain errors to statuses with details, and never lets bad input become UNKNOWN."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        cid = metadata(context).get(CORRELATION_HEADER) or correlation.new()
        with correlation.bound(cid), answering(fn.__name__, context, cid):
            context.send_initial_metadata(((CORRELATION_HEADER, cid),))
            consistency.take_call_positions()  # nothing left from an earlier call on this thread
            sent = consistency.decode(metadata(context).get(consistency.TOKEN_HEADER, ""))
            answer = fn(self, request, context)
            token = consistency.answer_token(sent)
            if token:  # what a later read must wait for to see this write
                context.set_trailing_metadata(((consistency.TOKEN_HEADER, token),))
            return answer
        return None

    return wrapper  # type: ignore[return-value]


def grpc_server_stream(fn: F) -> F:
    """`grpc_method` for a method that answers with a stream: the same correlation id, logs and
    status mapping, for errors raised before the first answer or between two."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        cid = metadata(context).get(CORRELATION_HEADER) or correlation.new()
        with correlation.bound(cid), answering(fn.__name__, context, cid):
            context.send_initial_metadata(((CORRELATION_HEADER, cid),))
            yield from fn(self, request, context)

    return wrapper  # type: ignore[return-value]


_FIRST_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@contextmanager
def fields_of(part: Any, path: str) -> Iterator[None]:
    """Names the fields a service refuses by their path from the request's top (AIP-193): a violation
    of a field of `part` (a message inside the request, such as its `plan`) becomes `path.<field>`.
    The services name fields as their own inputs know them; the request's shape is the gateway's."""
    names = {f.name for f in part.DESCRIPTOR.fields}

    def place(name: str) -> str:
        first = _FIRST_NAME.match(name)
        return f"{path}.{name}" if first and first.group(0) in names else name

    with fields_renamed(place):
        yield


@contextmanager
def fields_renamed(rename: Callable[[str], str] | dict[str, str]) -> Iterator[None]:
    """Renames the fields of a refusal (a function of the name, or a table of names)."""
    place = rename if callable(rename) else (lambda name: rename.get(name, name))  # type: ignore[union-attr]
    try:
        yield
    except errors.ValidationError as error:
        raise errors.ValidationError.many((place(f), r) for f, r in error.violations) from None
    except errors.DomainError as error:
        if error.field and place(error.field) != error.field:
            moved = type(error)(*error.args)
            moved.field = place(error.field)
            moved.args = (moved.field, *error.args[1:])
            raise moved from None
        raise
