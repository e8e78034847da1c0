"""How the registry follows the dangers service: the enforcement chain's orders on an enterprise.

SuspensionOrdered (停产整顿) and ClosureOrdered (关闭取缔) arrive through RabbitMQ; the tracked consumer
applies each exactly once (its tracking record is written with the enterprise's event). The same
order (same document number) applied again changes nothing; an order the enterprise's state forbids
raises TransitionError, and the message is parked for an operator to see (`hubctl status`).
"""

from __future__ import annotations

from uuid import UUID

from services.backbone.envelope import Envelope
from services.backbone.errors import NotFoundError
from services.backbone.handlers import Handlers, UnitOfWork
from services.registry.domain import Enterprise

handlers = Handlers("registry")


def _enterprise(uow: UnitOfWork, envelope: Envelope) -> Enterprise:
    enterprise = uow.get(UUID(envelope.payload["enterprise_id"]))
    if not isinstance(enterprise, Enterprise):
        raise NotFoundError("enterprise_id", f"no enterprise {envelope.payload['enterprise_id']}")
    return enterprise


def _order(envelope: Envelope) -> dict[str, str]:
    payload = envelope.payload
    return {k: payload[k] for k in ("reason", "document_no", "authority", "ordered_on")}


@handlers.on("dangers", "EnforcementCase.SuspensionOrdered")
def suspension_ordered(uow: UnitOfWork, envelope: Envelope) -> None:
    _enterprise(uow, envelope).suspend(**_order(envelope))


@handlers.on("dangers", "EnforcementCase.ClosureOrdered")
def closure_ordered(uow: UnitOfWork, envelope: Envelope) -> None:
    _enterprise(uow, envelope).close(**_order(envelope))
