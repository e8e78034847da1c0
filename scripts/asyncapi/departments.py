"""The departments' own queues in the AsyncAPI document: the channel and receive operation of a
department's filings (its subscription) and of its audit-log tree heads."""

from __future__ import annotations

from typing import Any

from .contracts import Contract
from .messages import AMQP_BINDING_VERSION


def department_subscription(submitted: Contract) -> tuple[dict[str, Any], dict[str, Any]]:
    """A department's own AMQP subscription (`hubctl subscriptions create CODE`): its channel and the
    department's receive operation. The fan-out publishes each filing once to a headers exchange that
    routes it to the queue of every department it is addressed to."""
    channel = {
        "address": "dept.{department}.filings",
        "title": "a department's filings",
        "description": (
            "A department's own durable queue: every filing addressed to it (the `Filing.Submitted` "
            "event, signed document included), and no other. Its broker user (`hubctl subscriptions "
            "create|rotate CODE`) may read this queue and nothing else. Bound to the headers exchange "
            "`departments.filings.by-department` with `x-match: any` and the header `to.<department>`."
        ),
        "parameters": {"department": {"description": "The department's code, e.g. AJJ-TEZ."}},
        "messages": {submitted.key: {"$ref": f"#/components/messages/{submitted.message_id}"}},
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": {
                    "name": "dept.{department}.filings",
                    "durable": True,
                    "exclusive": False,
                    "autoDelete": False,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
        "x-bound-to": {
            "exchange": "departments.filings.by-department",
            "headers": {"x-match": "any", "to.{department}": "1"},
        },
    }
    operation = {
        "action": "receive",
        "channel": {"$ref": "#/channels/departmentFilings"},
        "title": "a department receives the filings addressed to it",
        "description": (
            "Each filing arrives once per department it is addressed to, in submission order; the "
            "department acknowledges it when stored, and checks the SM3 hash and both SM2 signatures "
            "as a platform does."
        ),
        "messages": [{"$ref": f"#/channels/departmentFilings/messages/{submitted.key}"}],
        "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
    }
    return channel, operation


def department_heads(signed: Contract) -> tuple[dict[str, Any], dict[str, Any]]:
    """A department's queue of the audit logs' signed tree heads (made with its subscription): every
    head, the anchors it keeps. The adapter publishes each head once to a fanout exchange."""
    channel = {
        "address": "dept.{department}.heads",
        "title": "a department's tree heads",
        "description": (
            "A department's own durable queue of every signed head of the hub's audit logs (the "
            "`TreeHead.Signed` event, with the consistency proof from the store's previous head): anchors "
            "the department keeps, so that the hub cannot rewrite its history unseen. Made and readable "
            "with the department's subscription (`hubctl subscriptions create|rotate CODE`). Bound to the "
            "fanout exchange `departments.tree-heads`."
        ),
        "parameters": {"department": {"description": "The department's code, e.g. AJJ-TEZ."}},
        "messages": {signed.key: {"$ref": f"#/components/messages/{signed.message_id}"}},
        "bindings": {
            "amqp": {
                "is": "queue",
                "queue": {
                    "name": "dept.{department}.heads",
                    "durable": True,
                    "exclusive": False,
                    "autoDelete": False,
                    "vhost": "/",
                },
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
        "x-bound-to": {"exchange": "departments.tree-heads", "type": "fanout"},
    }
    operation = {
        "action": "receive",
        "channel": {"$ref": "#/channels/departmentTreeHeads"},
        "title": "a department keeps every signed tree head",
        "description": (
            "Each head arrives once per department, in signing order. The department checks the SM2 "
            "signature over riskhub-tree-head/v1|store|sequence|tree_size|root_hash|position|signed_at "
            "and the RFC 9162 consistency proof from the previous head of the store it holds, keeps the "
            "head, and may later hold the hub to it (`hubctl audit verify --anchors`)."
        ),
        "messages": [{"$ref": f"#/channels/departmentTreeHeads/messages/{signed.key}"}],
        "bindings": {"amqp": {"ack": True, "bindingVersion": AMQP_BINDING_VERSION}},
    }
    return channel, operation
