"""Where filings travel on the broker to departments: the delivery and subscription exchanges and
queues, and the headers that address a message to departments. The fan-out publishes by these names,
each department's pusher and AMQP subscription binds by them, hubctl reads the parked queue by them, and
the AsyncAPI document states them."""

from __future__ import annotations

from typing import Any

from services.backbone.settings import Settings


def route(departments: list[str]) -> dict[str, str]:
    """The headers that route a message to these departments' queues."""
    return {_header(d): "1" for d in departments}


def binding(department: str) -> dict[str, str]:
    """How a department's queue is bound to a headers exchange: any message addressed to it."""
    return {"x-match": "any", _header(department): "1"}


def _header(department: str) -> str:
    return f"to.{department}"


def delivery_exchange(settings: Settings) -> str:
    """Where the fan-out publishes each filing's job once, for every addressed department's queue: a
    direct exchange, each department's queue bound by its code (`addressed` names the departments)."""
    return f"{settings.namespace}deliveries.to-department"


def addressed(departments: list[str]) -> tuple[str, dict[str, Any]]:
    """The routing key and headers that address a job to these departments' queues on the delivery
    exchange: the first by the routing key, the others in BCC, which the broker routes by and strips
    before delivery (RabbitMQ's sender-selected distribution). Each pusher used to decode a header per
    department addressed with every job (a headers exchange): 441 header entries a filing of 21."""
    first, *others = departments
    return first, ({"BCC": others} if others else {})


def delivery_queue(settings: Settings, department: str) -> str:
    return f"{settings.namespace}deliveries.{department}"


def parked_queue(settings: Settings) -> str:
    return f"{settings.namespace}deliveries.parked"


def subscription_exchange(settings: Settings) -> str:
    """Where each filing is published once for the AMQP subscriptions of the departments it is
    addressed to (a headers exchange; each subscription queue is bound with `binding`)."""
    return f"{settings.namespace}departments.filings.by-department"


def subscription_queue(settings: Settings, department: str) -> str:
    return f"{settings.namespace}dept.{department}.filings"


def heads_exchange(settings: Settings) -> str:
    """Where each signed tree head of the audit logs is published once for every department's AMQP
    subscription (a fanout exchange: every department keeps every head)."""
    return f"{settings.namespace}departments.tree-heads"


def heads_queue(settings: Settings, department: str) -> str:
    return f"{settings.namespace}dept.{department}.heads"
