"""Signed tree heads of the audit logs → every department, as anchors the hub cannot take back.

`HeadFanout` consumes the audit worker's TreeHead.Signed events (queue adapter.from.audit) and, as the
filing fan-out does, publishes one job to every registered department's delivery queue (its pusher
hands the head to the platform's ReceiveTreeHead, in order with its filings), and the event itself
once to the fanout exchange every department's AMQP subscription reads its heads from
(dept.<code>.heads). `HeadPushing` is the pusher's side.

A head a platform cannot take after the bounded attempts is not parked: the next head covers all it
covered, with its own proof, and a platform checks the heads it holds against the hub at any time
(TreeHeadService). A platform that answers INCONSISTENT has caught the hub rewriting its history:
that is logged as an error here, and the platform keeps its own record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import amqp
import grpc
import structlog
from hub.v1 import department_pb2 as pb

from gateway.adapter import credentials, jobs
from gateway.adapter.breaker import TRANSIENT, backoff
from gateway.adapter.fanout import Fanout
from services.backbone import correlation, topology
from services.backbone.amqp import ConfirmedChannel
from services.backbone.envelope import Envelope
from services.backbone.settings import Settings
from services.kernel import filing_routes, tree_heads

log = structlog.get_logger(__name__)
KIND = "tree_head"
HEAD_FIELDS = tree_heads.FIELDS  # a signed head's fields, as the kernel's TreeHead holds them


def is_head(job: dict[str, Any]) -> bool:
    return job.get("kind") == KIND


def job_from(envelope: Envelope, departments: list[str]) -> dict[str, Any]:
    p = envelope.payload
    return {
        "kind": KIND,
        "head": {k: p[k] for k in HEAD_FIELDS},
        "previous_size": p["previous_size"],
        "consistency": list(p["consistency"]),
        "departments": departments,
        "correlation_id": envelope.correlation_id,
    }


def request(job: dict[str, Any]) -> pb.ReceiveTreeHeadRequest:
    return pb.ReceiveTreeHeadRequest(
        head=pb.TreeHead(**job["head"]),
        previous_size=job["previous_size"],
        consistency_proof=job["consistency"],
    )


class HeadFanout(Fanout):
    """The filing fan-out's loop (batches, confirms, then acks) over the audit logs' heads."""

    def __init__(
        self,
        settings: Settings,
        stop: threading.Event,
        on_department: Callable[[str], None],
        departments: Callable[[], list[str]],
    ) -> None:
        super().__init__(settings, stop, on_department)
        self.departments = departments

    def declare(self, channel: Any) -> str:
        exchange = topology.declare_exchange(channel, self.settings, "audit")
        queue = self.settings.queue("adapter", "audit")
        arguments = topology.consumer_queue_arguments(self.settings)
        channel.queue_declare(queue, durable=True, auto_delete=False, arguments=arguments)
        channel.queue_bind(queue, exchange, "TreeHead.Signed.*")
        delivery, heads = (
            filing_routes.delivery_exchange(self.settings),
            filing_routes.heads_exchange(self.settings),
        )
        channel.exchange_declare(delivery, "direct", durable=True, auto_delete=False)
        channel.exchange_declare(heads, "fanout", durable=True, auto_delete=False)
        return queue

    def fan_out(self, out: ConfirmedChannel, body: bytes) -> Envelope:
        envelope = Envelope.from_json(body)
        departments = self.departments()
        if departments:  # none registered yet: nobody to hand it to (the subscriptions have none either)
            self.ensure_queues(out, departments)
            job = jobs.to_bytes(job_from(envelope, departments))
            key, bcc = filing_routes.addressed(departments)
            message = amqp.Message(
                job, delivery_mode=2, correlation_id=envelope.correlation_id, application_headers=bcc
            )
            out.publish(message, exchange=filing_routes.delivery_exchange(self.settings), routing_key=key)
        # every department's subscription keeps every head; one with no subscription has no queue bound
        copy = amqp.Message(body, delivery_mode=2, content_type="application/json")
        out.publish(copy, filing_routes.heads_exchange(self.settings), "", mandatory=False)
        return envelope

    def fanned_out(self, envelope: Envelope) -> None:
        p = envelope.payload
        log.info("tree_head_fanned_out", store=p["store"], sequence=p["sequence"], size=p["tree_size"])


class Departments:
    """Every registered department's code, asked of the registry at most every 10 s (a head is signed
    at most every few seconds; a department registered meanwhile gets the next)."""

    def __init__(self, services: Any, ttl: float = 10.0) -> None:
        self.services, self.ttl = services, ttl
        self._cache: tuple[float, list[str]] = (0.0, [])
        self._lock = threading.Lock()

    def __call__(self) -> list[str]:
        with self._lock:
            if self._cache[0] < time.monotonic():
                codes = sorted(d["code"] for d in self.services.call("registry", "list_departments"))
                self._cache = (time.monotonic() + self.ttl, codes)
            return self._cache[1]


class HeadPushing:
    """A department pusher's handling of a head job (mixed into DepartmentPusher)."""

    department: str
    max_attempts: int
    deadline: float
    breaker: Any
    _credentials: credentials.Metadata

    def push_head(self, job: dict[str, Any]) -> None:
        """Hands the head to the platform (retrying transient failures); nothing to record."""

        head = job["head"]
        where = {"department": self.department, "store": head["store"], "sequence": head["sequence"]}
        with correlation.bound(job.get("correlation_id") or None):
            if self._pull_only():  # type: ignore[attr-defined]
                return  # it has the heads on AMQP, and TreeHeadService to check them
            error = ""
            for attempt in range(1, self.max_attempts + 1):
                self._sleep(self.breaker.wait_time())  # type: ignore[attr-defined]
                try:
                    answer = self._stub().ReceiveTreeHead(  # type: ignore[attr-defined]
                        request(job),
                        timeout=self.deadline,
                        metadata=(("x-correlation-id", correlation.current()), *self._credentials),
                    )
                except credentials.CredentialsUnavailable as unavailable:
                    error = f"CREDENTIALS_UNAVAILABLE: {unavailable}"
                    self._forget_endpoint()  # type: ignore[attr-defined]
                    break
                except grpc.RpcError as failure:
                    code = failure.code()  # type: ignore[attr-defined]
                    error = f"{code.name}: {failure.details()}"  # type: ignore[attr-defined]
                    if code not in TRANSIENT:
                        break
                    self.breaker.failure()
                    self._forget_endpoint()  # type: ignore[attr-defined]
                    self._sleep(backoff(attempt))  # type: ignore[attr-defined]
                    continue
                self.breaker.success()
                verdict = pb.TreeHeadVerdict.Name(answer.verdict)
                if answer.verdict == pb.TREE_HEAD_VERDICT_INCONSISTENT:
                    log.error("tree_head_inconsistent", **where, detail=answer.detail)
                else:
                    log.info("tree_head_delivered", **where, verdict=verdict)
                return
            log.error("tree_head_not_delivered", **where, error=error)
