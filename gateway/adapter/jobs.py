"""Delivery jobs: one per (filing version, department), made from a Filing.Submitted event."""

from __future__ import annotations

from typing import Any

from hub.v1 import department_pb2 as pb

from services.backbone.envelope import Envelope, dumps, loads
from services.backbone.settings import Settings
from services.filing import register


def delivery_id(enterprise_id: str, version: int, department: str) -> str:
    return f"{enterprise_id}/{version}/{department}"


def jobs_from(envelope: Envelope) -> list[dict[str, Any]]:
    """The deliveries a submission causes, one per department it is addressed to."""
    p = envelope.payload
    enterprise = p["document"]["enterprise"]
    common = {
        "enterprise_id": p["enterprise_id"],
        "uscc": enterprise.get("uscc", ""),
        "enterprise_name": enterprise.get("name", ""),
        "town": enterprise.get("town", ""),
        "version": p["version"],
        "canonical_document": register.canonical(p["document"]).decode("utf-8"),
        "document_hash": p["document_hash"],
        "signatures": [
            {"role": role, "public_key": p["public_keys"][role], "signature": sig}
            for role, sig in sorted(p["signatures"].items())
        ],
        "submitted_at": p["submitted_at"],
        "correlation_id": envelope.correlation_id,
    }
    return [
        {**common, "department": d, "delivery_id": delivery_id(p["enterprise_id"], p["version"], d)}
        for d in p["departments"]
    ]


def to_bytes(job: dict[str, Any]) -> bytes:
    return dumps(job)  # as the envelopes are written (orjson): 21 jobs per filing


def from_bytes(body: bytes | str) -> dict[str, Any]:
    job = loads(body)
    if not isinstance(job, dict) or "delivery_id" not in job:
        raise ValueError("not a delivery job")
    return job


def to_filing(job: dict[str, Any]) -> pb.Filing:
    return pb.Filing(
        delivery_id=job["delivery_id"],
        department_code=job["department"],
        enterprise=pb.FiledEnterprise(
            enterprise_id=job["enterprise_id"],
            unified_social_credit_code=job["uscc"],
            name=job["enterprise_name"],
            town=job["town"],
        ),
        version=job["version"],
        canonical_document=job["canonical_document"].encode("utf-8"),
        document_hash=job["document_hash"],
        signatures=[pb.Signature(**s) for s in job["signatures"]],
        submitted_at=job["submitted_at"],
        correlation_id=job["correlation_id"],
    )


def delivery_queue(settings: Settings, department: str) -> str:
    return f"{settings.namespace}deliveries.{department}"


def parked_queue(settings: Settings) -> str:
    return f"{settings.namespace}deliveries.parked"


def subscription_exchange(settings: Settings) -> str:
    """Where every department's own AMQP subscription queue is bound, by department code."""
    return f"{settings.namespace}departments.filings"


def subscription_queue(settings: Settings, department: str) -> str:
    return f"{settings.namespace}dept.{department}.filings"
