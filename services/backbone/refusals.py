"""A client's mistake is one line at info, never a traceback; a fault of the hub keeps its traceback.

nameko logs every exception an RPC raises with its traceback (`error handling worker …`, at ERROR;
`(expected) error handling worker …` at WARNING for an entrypoint's expected_exceptions), so every
malformed id or wrong secret a client sent filled a service's log with twenty lines. A DomainError is
the hub refusing a request for a reason the caller is told (services/backbone/errors.py): this filter
on nameko's container logger turns such a record into one structlog line, `rpc_refused`, naming the
method, the error, the field, the rule and the correlation id. A store that could not be reached (the
database restarting: services/backbone/store_outage.py) is no fault of the hub either: one warning
line, `store_unreachable`, naming the method, psycopg's message and the correlation id; another service
nothing takes calls for now (the broker restarting) likewise, `peer_unreachable`. Any other
exception is a fault of the hub and passes through with its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

from services.backbone import store_outage
from services.backbone.errors import DomainError

log = structlog.get_logger("services.backbone.refusals")

NAMEKO_CONTAINER_LOGGER = "nameko.containers"


def _worker_context(record: logging.LogRecord) -> Any:
    args = record.args if isinstance(record.args, tuple) else ()
    return args[0] if args else None


def _method(worker_ctx: Any) -> str:
    entrypoint = getattr(worker_ctx, "entrypoint", None)
    service = getattr(worker_ctx, "service_name", "") or ""
    name = getattr(entrypoint, "method_name", "") or ""
    return f"{service}.{name}" if service and name else name or service


def _correlation_id(worker_ctx: Any) -> str:
    data = getattr(worker_ctx, "data", None)
    return str(data.get("correlation_id") or "") if isinstance(data, dict) else ""


class ClientMistakes(logging.Filter):
    """Replaces nameko's traceback of a DomainError raised by an entrypoint with one info line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if error is not None and (outage := store_outage.outage(error)):
            return _outage(record, error, outage)
        if not isinstance(error, DomainError):
            return True  # a fault of the hub: keep nameko's record, traceback and all
        worker_ctx = _worker_context(record)
        fields: dict[str, Any] = {
            "method": _method(worker_ctx),
            "error": type(error).__name__,
            "field": error.field,
            "rule": error.rule,
        }
        cid = _correlation_id(worker_ctx)
        if cid:
            fields["correlation_id"] = cid
        log.info("rpc_refused", **fields)
        return False


def _outage(record: logging.LogRecord, error: BaseException, event: str) -> bool:
    worker_ctx = _worker_context(record)
    fields: dict[str, Any] = {"method": _method(worker_ctx), "error": " ".join(str(error).split())}
    cid = _correlation_id(worker_ctx)
    if cid:
        fields["correlation_id"] = cid
    log.warning(event, **fields)
    return False


_FILTER = ClientMistakes()


def install() -> None:
    """Puts the filter on nameko's container logger (idempotent; harmless where nameko never logs)."""
    logger = logging.getLogger(NAMEKO_CONTAINER_LOGGER)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
