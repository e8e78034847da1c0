"""When a risk factor changes, an enterprise's filed register is out of date: mark it, recompile it."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import structlog

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.reconnect import run_until_stopped
from services.filing import danger_views
from services.filing.domain import FilingIndex, filing_index_id

log = structlog.get_logger(__name__)


def mark_stale(uow: UnitOfWork, enterprise_id: str, reason: str, at: str) -> None:
    """Only a register that was compiled before can be out of date."""
    index: FilingIndex | None = uow.get(filing_index_id(enterprise_id))
    if index is not None:
        index.mark_stale(reason, at)


def _risk_point(reason: str) -> Any:
    def handler(uow: UnitOfWork, envelope: Envelope) -> None:
        name = envelope.payload.get("name") or envelope.payload.get("external_id") or envelope.originator_id
        mark_stale(uow, str(envelope.enterprise_id), f"{reason}: {name}", envelope.occurred_at)

    return handler


def _major_danger_opened(uow: UnitOfWork, envelope: Envelope) -> None:
    if envelope.payload.get("grade") == "重大":
        mark_stale(uow, str(envelope.enterprise_id), "重大隐患 opened", envelope.occurred_at)


def _danger_closed(uow: UnitOfWork, envelope: Envelope) -> None:
    rows = {d["id"]: d for d in danger_views.dangers_of(uow.app, str(envelope.enterprise_id))}
    view = uow.get(danger_views.register_id(str(envelope.enterprise_id)))
    if view is not None:
        rows.update({k: {"id": k, **v} for k, v in view.rows.items()})
    if rows.get(envelope.originator_id, {}).get("grade") == "重大":
        mark_stale(uow, str(envelope.enterprise_id), "重大隐患 closed (销号)", envelope.occurred_at)


def watch(handlers: Handlers) -> None:
    """Risk factor changes: a risk point added, re-graded or retired; a major danger opened or closed."""
    handlers.also("riskpoints", "RiskPoint.Identified")(_risk_point("risk point added"))
    handlers.also("riskpoints", "RiskPoint.Assessed")(_risk_point("risk point (re-)graded"))
    handlers.also("riskpoints", "RiskPoint.Retired")(_risk_point("risk point retired"))
    handlers.also("dangers", "HiddenDanger.Assessed")(_major_danger_opened)
    handlers.also("dangers", "HiddenDanger.Closed")(_danger_closed)
    handlers.reads("riskpoints", "RiskPoint.Identified", "RiskPoint.Assessed", "RiskPoint.Retired")(_index)
    handlers.reads("dangers", "HiddenDanger.Assessed", "HiddenDanger.Closed")(_index)


def _index(envelope: Envelope) -> list[uuid.UUID]:
    """What mark_stale reads: the enterprise's filing index."""
    return [filing_index_id(str(envelope.enterprise_id))]


class Recompiler:
    """Compiles a new version of every out-of-date register, every few seconds (stream process)."""

    def __init__(self, app: Any, interval: float = 5.0) -> None:
        self.app, self.interval = app, interval

    def run(self, stop: threading.Event) -> None:
        def round_() -> None:
            if stop.wait(self.interval):
                return
            for compiled in self.app.recompile_stale():
                log.info(
                    "register_recompiled",
                    enterprise_id=compiled["enterprise_id"],
                    version=compiled["version"],
                    reason=compiled["reason"],
                )

        run_until_stopped(round_, stop, what="recompile", retryable=())


def workers(app: Any, settings: Any) -> list[Recompiler]:
    return [Recompiler(app)]
