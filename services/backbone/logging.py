"""structlog, configured once per process: JSON in production, readable in a terminal.

Levels (HUB_LOG_LEVEL): `info` by default (what happened, one line each; a client's mistake is one
`request_refused`/`rpc_refused` line), `debug` adds the per-page lines of relays and consumers,
`warning` keeps only what needs a look. Tracebacks are for faults of the hub alone (refusals.py).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from services.backbone import correlation, refusals
from services.backbone.masking import mask_event_dict

_configured = False
_process = ""


def _add_correlation(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    cid = correlation._current.get()
    if cid and "correlation_id" not in event_dict:
        event_dict["correlation_id"] = cid
    return event_dict


class _ClosingChannelNoise(logging.Filter):
    """amqp warns when a publisher confirm arrives for a channel being closed (a standalone RPC proxy
    closing after its call: the adapter asking the registry before the registry is up). The confirm
    is moot and nothing is lost; a warning there only teaches people to skip warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "during closing channel" not in record.getMessage()


_CLOSING_CHANNEL_NOISE = _ClosingChannelNoise()


def level_number(level: int | str) -> int:
    """A level given as a number or a name (`debug`, `INFO` …); ValueError for anything else."""
    if isinstance(level, int):
        return level
    number = logging.getLevelName(str(level).strip().upper())
    if not isinstance(number, int):
        raise ValueError(f"HUB_LOG_LEVEL: unknown level {level!r} (debug, info, warning, error)")
    return number


def configure(process: str, fmt: str = "console", level: int | str = logging.INFO) -> None:
    """Sets up structlog and the standard library's logging for this process."""
    global _configured, _process
    level = level_number(level)
    _process = process
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _add_correlation,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            mask_event_dict,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(process=process)
    if not _configured:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    refusals.install()
    amqp_log = logging.getLogger("amqp")
    if _CLOSING_CHANNEL_NOISE not in amqp_log.filters:
        amqp_log.addFilter(_CLOSING_CHANNEL_NOISE)
    _configured = True


def process_name() -> str:
    """The name this process logs under ('' before configure)."""
    return _process
