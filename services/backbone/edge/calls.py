"""What every gateway method does around its body: correlation id, logs, metrics, error mapping."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

import grpc
import structlog

from services.backbone import correlation, errors, metrics
from services.backbone.edge.status import status_code, to_status

log = structlog.get_logger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
CORRELATION_HEADER = "x-correlation-id"


def metadata(context: grpc.ServicerContext) -> dict[str, str]:
    return {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}


def grpc_method(fn: F) -> F:
    """Binds the caller's correlation id (or a new one), returns it in the initial metadata,
    maps domain errors to statuses with details, and never lets bad input become UNKNOWN."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Any:
        cid = metadata(context).get(CORRELATION_HEADER) or correlation.new()
        started = time.perf_counter()
        code = "OK"
        with correlation.bound(cid):
            context.send_initial_metadata(((CORRELATION_HEADER, cid),))
            try:
                return fn(self, request, context)
            except errors.DomainError as error:
                code = status_code(error).name
                log.info(
                    "request_refused", method=fn.__name__, code=code, field=error.field, error=str(error)
                )
                context.abort_with_status(to_status(error))
            except grpc.RpcError:
                code = "ABORTED_BY_HANDLER"
                raise
            except Exception:
                aborted = context.code()
                if aborted not in (None, grpc.StatusCode.OK):
                    # context.abort() raises a bare Exception: the body chose its status, keep it.
                    code = aborted.name
                    raise
                code = "INTERNAL"
                log.exception("request_failed", method=fn.__name__)
                context.abort(grpc.StatusCode.INTERNAL, f"internal error (correlation id {cid})")
            finally:
                metrics.GRPC_LATENCY.labels(fn.__name__, code).observe(time.perf_counter() - started)
        return None

    return wrapper  # type: ignore[return-value]
