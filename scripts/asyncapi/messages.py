"""The messages of the AsyncAPI document: each contract's payload schema (inlined), its envelope and
its message (services/backbone/envelope.py), and a batched upstream's batch message
(services/backbone/relay.py)."""

from __future__ import annotations

import copy
from typing import Any

from .contracts import Contract, GenerationError, exchange_name

AMQP_BINDING_VERSION = "0.3.0"
# Keywords that only make sense at a schema document's root; dropped when a contract is inlined.
ROOT_ONLY_KEYWORDS = ("$schema", "$id")


def inline_schema(contract: Contract) -> dict[str, Any]:
    """The contract's schema, placed at #/components/schemas/<id>: root-only keywords dropped and
    document-local references ("#/$defs/X") re-rooted there. References to other files are refused:
    the generated document must stand alone."""
    base = f"#/components/schemas/{contract.payload_schema_id}"
    schema = copy.deepcopy(contract.schema)
    for keyword in ROOT_ONLY_KEYWORDS:
        schema.pop(keyword, None)

    def rewrite(node: Any, where: str) -> Any:
        if isinstance(node, dict):
            out: dict[str, Any] = {}
            for key, value in node.items():
                if key == "$ref" and isinstance(value, str):
                    if not value.startswith("#"):
                        raise GenerationError(
                            f"{contract.path}: $ref {value!r} at {where or '/'} points outside the "
                            f"contract; put shared definitions in the contract's $defs"
                        )
                    out[key] = base + value[1:]
                elif key in ("$id", "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef"):
                    raise GenerationError(
                        f"{contract.path}: {key} at {where or '/'} is not supported in contracts "
                        f"(use $defs and JSON-pointer $refs)"
                    )
                else:
                    out[key] = rewrite(value, f"{where}/{key}")
            return out
        if isinstance(node, list):
            return [rewrite(item, f"{where}/{i}") for i, item in enumerate(node)]
        return node

    return rewrite(schema, "")


def envelope_schema(contract: Contract) -> dict[str, Any]:
    """The JSON body of the AMQP message (services.backbone.envelope.Envelope)."""
    properties: dict[str, Any] = {
        "event_id": {
            "type": "string",
            "format": "uuid",
            "description": "Stable id of the stored event (the same on every republish); "
            "also the AMQP message_id.",
        },
        "type": {"type": "string", "const": contract.type, "description": "<Aggregate>.<Event>"},
        "schema_version": {
            "type": "integer",
            "const": contract.version,
            "description": "Version of the payload contract.",
        },
        "originator_id": {"type": "string", "description": "Id of the aggregate that recorded the event."},
        "originator_version": {
            "type": "integer",
            "minimum": 1,
            "description": "Version of the aggregate after the event.",
        },
        "upstream": {
            "type": "string",
            "const": contract.service,
            "description": "The service whose event store holds the event.",
        },
        "notification_id": {
            "type": "integer",
            "minimum": 1,
            "description": "Position of the event in the upstream's notification log.",
        },
        "previous_id": {
            "type": "integer",
            "minimum": 0,
            "description": "notification_id of the message the relay published before this one in "
            "the same stream (consumers apply each upstream in order).",
        },
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "description": "When the event was recorded (ISO 8601, UTC).",
        },
        "correlation_id": {
            "type": "string",
            "description": "Id of the request that caused the event; also the AMQP correlation_id.",
        },
        "enterprise_id": {
            "type": ["string", "null"],
            "description": "The enterprise the event concerns, if any; last part of the routing key "
            "('none' when null).",
        },
        "payload": {"$ref": f"#/components/schemas/{contract.payload_schema_id}"},
    }
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


def message(contract: Contract) -> dict[str, Any]:
    schema_title = contract.schema.get("title")
    schema_description = contract.schema.get("description")
    description = (
        f"`{contract.type}` v{contract.version}, published by `{contract.service}` on the topic "
        f"exchange `{exchange_name(contract.service)}` with routing key "
        f"`{contract.type}.<enterprise_id or 'none'>`. The body is the JSON envelope; `payload` follows "
        f"`contracts/{contract.service}/{contract.path.name}`. AMQP properties: content_type "
        f"application/json, content_encoding utf-8, delivery_mode 2 (persistent), message_id = "
        f"event_id, correlation_id = correlation_id, type = `{contract.type}`."
    )
    if isinstance(schema_description, str) and schema_description.strip():
        description += "\n\n" + schema_description.strip()
    result: dict[str, Any] = {
        "name": contract.type,
        "title": f"{contract.type} v{contract.version}",
    }
    if isinstance(schema_title, str) and schema_title.strip():
        result["summary"] = schema_title.strip()
    result.update(
        {
            "description": description,
            "contentType": "application/json",
            "correlationId": {
                "description": "The request that caused the event (also the AMQP correlation_id).",
                "location": "$message.payload#/correlation_id",
            },
            "headers": {
                "type": "object",
                "description": "AMQP application headers.",
                "required": ["schema_version", "upstream", "notification_id"],
                "properties": {
                    "schema_version": {"type": "integer", "const": contract.version},
                    "upstream": {"type": "string", "const": contract.service},
                    "notification_id": {"type": "integer", "minimum": 1},
                },
            },
            "payload": envelope_schema(contract),
            "bindings": {
                "amqp": {
                    "contentEncoding": "utf-8",
                    "messageType": contract.type,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
            "x-routing-key": f"{contract.type}.{{enterprise_id or 'none'}}",
            "x-contract": f"{contract.service}/{contract.path.name}",
        }
    )
    return result


def envelope_schema_id(contract: Contract) -> str:
    return f"{contract.message_id}.envelope"


def batch_message(
    service: str, contracts: list[Contract], size: int, alone: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Several envelopes of one stream in one AMQP message (services/backbone/relay.py); `alone`
    types never travel in one."""
    contracts = [c for c in contracts if c.type not in alone]
    routing = (
        f"Routed by the first envelope's routing key. Never in a batch: "
        f"{', '.join(f'`{t}`' for t in sorted(alone))} (a message of its own, in its place in the "
        f"stream, for the queues that bind its routing key)."
        if alone
        else f"Routed by the first envelope's routing key: the exchange `{exchange_name(service)}` is "
        f"bound only with `#`."
    )
    return {
        "name": "batch",
        "title": f"{service} batch",
        "summary": f"Up to {size} of {service}'s envelopes, in the stream's order, in one message.",
        "description": (
            f"A page of `{service}`'s notification log as one message: a JSON array of 2 to {size} "
            f"envelopes (each exactly as the single-event message of its type), in notification order, "
            f"chained by `previous_id`. {routing} AMQP properties: type `batch`, "
            f"message_id = `<first event_id>+<count - 1>`, correlation_id = the first envelope's. "
            f"A consumer acknowledges the message once every envelope in it is applied."
        ),
        "contentType": "application/json",
        "headers": {
            "type": "object",
            "description": "AMQP application headers.",
            "required": ["upstream", "notification_id", "last_notification_id", "count"],
            "properties": {
                "upstream": {"type": "string", "const": service},
                "notification_id": {"type": "integer", "minimum": 1},
                "last_notification_id": {"type": "integer", "minimum": 1},
                "count": {"type": "integer", "minimum": 2, "maximum": size},
            },
        },
        "payload": {
            "type": "array",
            "minItems": 2,
            "maxItems": size,
            "items": {
                "oneOf": [{"$ref": f"#/components/schemas/{envelope_schema_id(c)}"} for c in contracts]
            },
        },
        "bindings": {
            "amqp": {
                "contentEncoding": "utf-8",
                "messageType": "batch",
                "bindingVersion": AMQP_BINDING_VERSION,
            }
        },
    }
