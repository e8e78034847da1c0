"""Delivery jobs, made from a Filing.Submitted event: one message per filing, routed by the broker to
the queue of every department it is addressed to (a headers exchange), which each department's pusher
completes into its own delivery (filing version, department)."""

from __future__ import annotations

from typing import Any

from hub.v1 import department_pb2 as pb

from services.backbone.envelope import Envelope, dumps, loads
from services.kernel import canonical, receipts
from services.kernel.receipts import delivery_id


def job_from(envelope: Envelope) -> dict[str, Any]:
    """The delivery job a submission causes: one for all the departments it is addressed to."""
    p = envelope.payload
    enterprise = p["document"]["enterprise"]
    return {
        "enterprise_id": p["enterprise_id"],
        "uscc": enterprise.get("uscc", ""),
        "enterprise_name": enterprise.get("name", ""),
        "town": enterprise.get("town", ""),
        "version": p["version"],
        "canonical_document": canonical.register_bytes(p["document"]).decode("utf-8"),
        "document_hash": p["document_hash"],
        "signatures": [
            {"role": role, "public_key": p["public_keys"][role], "signature": sig}
            for role, sig in sorted(p["signatures"].items())
        ],
        "submitted_at": p["submitted_at"],
        "correlation_id": envelope.correlation_id,
        "departments": list(p["departments"]),
    }


def for_department(job: dict[str, Any], department: str) -> dict[str, Any]:
    """One department's delivery of a job (a parked or replayed job is one already)."""
    if "delivery_id" in job:
        return job
    return {
        **job,
        "department": department,
        "delivery_id": delivery_id(job["enterprise_id"], job["version"], department),
    }


def to_bytes(job: dict[str, Any]) -> bytes:
    return dumps(job)  # as the envelopes are written (orjson)


def from_bytes(body: bytes | str) -> dict[str, Any]:
    job = loads(body)
    if not isinstance(job, dict) or not ("delivery_id" in job or "departments" in job):
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


def receipt_of(message: pb.Receipt) -> receipts.Receipt:
    """A platform's receipt as the kernel reads it."""
    return receipts.Receipt(
        delivery_id=message.delivery_id,
        # an outcome the contract does not name is kept as its number, and refused by check_form
        outcome=pb.Outcome.Name(message.outcome)
        if message.outcome in pb.Outcome.values()
        else str(message.outcome),
        reason=message.reason,
        received_at=message.received_at,
        public_key=message.public_key,
        signature=message.signature,
    )
