"""Pushes one department's filings to its platform, in order, until each is answered or parked.

Pushing and recording overlap: while the ledger stores one answer the next filing is already on its
way to the platform. A job is acknowledged only once its answer is stored, so a crash in between
pushes it again (the platform answers a repeated delivery id as before) and loses nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import amqp
import grpc
import structlog
from hub.v1 import department_pb2 as pb
from hub.v1 import department_pb2_grpc

from gateway.adapter import credentials, jobs
from gateway.adapter.breaker import TRANSIENT, CircuitBreaker, backoff
from gateway.adapter.directory import DepartmentRecords
from gateway.adapter.heads import HeadPushing, is_head
from gateway.adapter.ledger import LedgerWriter, Pending
from services.backbone import correlation
from services.backbone.amqp import connect, raw_channel
from services.backbone.errors import ValidationError
from services.backbone.reconnect import Stopping, run_until_stopped
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings
from services.kernel import filing_routes, receipts

log = structlog.get_logger(__name__)

# Jobs a pusher holds at once: pushed one after another in queue order, each acknowledged once the
# ledger holds its answer. The ledger's round trip (a batch of every department's answers) no longer
# paces a department to one filing per round trip.
PREFETCH = 32
ACK_LOOK_BACK = 0.2  # seconds between looks at the ledger's progress while answers are on their way


class DepartmentPusher(HeadPushing):
    """One worker per department: one push at a time keeps the department's order (filings, and the
    audit logs' signed heads: gateway/adapter/heads.py)."""

    def __init__(
        self,
        settings: Settings,
        department: str,
        services: Services,
        stop: threading.Event,
        ledger: LedgerWriter,
        max_attempts: int = 8,
        deadline: float = 5.0,
        records: DepartmentRecords | None = None,
    ) -> None:
        self.settings, self.department, self.services, self.stop = settings, department, services, stop
        self.ledger = ledger
        self.records = records or DepartmentRecords(services)  # the adapter shares one among its pushers
        self._channel_record: dict[str, Any] | None = None  # the record the platform's channel was made from
        self.max_attempts, self.deadline = max_attempts, deadline
        self.breaker = CircuitBreaker()
        self.queue = filing_routes.delivery_queue(settings, department)
        self._endpoint: tuple[str, grpc.Channel, Any] | None = None
        self._credentials: credentials.Metadata = ()  # presented to the platform on each push
        self._conn: Any = None
        self._pending: list[Any] = []  # received, not yet pushed
        self._recording: deque[tuple[int, Pending]] = deque()  # pushed: (tag, answer on its way)

    # -- the queue ----------------------------------------------------------------------------
    def run(self) -> None:
        """Consumes the department's queue until the adapter stops; a lost broker connection or an
        unexpected failure closes the connection (the job in hand stays unacknowledged and comes
        back) and starts again a second later. The thread itself never dies."""

        def session() -> None:
            try:
                self._consume()
            finally:
                self._pending.clear()
                self._recording.clear()  # unacknowledged: the broker gives them to the next connection
                self._close()

        run_until_stopped(session, self.stop, what="pusher", first_pause=1.0, department=self.department)

    def _consume(self) -> None:
        self._conn = connect(self.settings.amqp_uri)
        channel = raw_channel(self._conn)
        channel.queue_declare(self.queue, durable=True, auto_delete=False)
        channel.basic_qos(0, PREFETCH, False)
        channel.basic_consume(self.queue, callback=self._pending.append)
        self._warm_up()
        while not self.stop.is_set():
            try:
                # While answers are on their way to the ledger, look back within 0.2 s to acknowledge
                # them: a new job wakes the pusher at once anyway, and the prefetch window (32) holds
                # more than a department's jobs of 0.2 s. (At 0.02 s, twenty pushers woke a thousand
                # times a second for nothing, ~55 µs of CPU each.)
                self._conn.drain_events(timeout=ACK_LOOK_BACK if self._recording else 0.5)
            except TimeoutError:
                self._conn.heartbeat_check()
            while self._pending:
                message = self._pending.pop(0)
                tag = message.delivery_info["delivery_tag"]
                recording = self.handle(message)
                if recording is None:
                    channel.basic_ack(tag)
                else:
                    self._recording.append((tag, recording))
                self._acknowledge_recorded(channel)
            self._acknowledge_recorded(channel)
        self._acknowledge_recorded(channel)  # stopping: what is stored is not pushed again after a restart

    def _warm_up(self) -> None:
        """Looks the department up and starts connecting to its platform before the first job
        comes, so that the first filing after a start does not wait for either."""
        try:
            self._stub()
            if self._endpoint is not None:
                grpc.channel_ready_future(self._endpoint[1])  # connects meanwhile (the channel holds it)
        except Exception as error:  # noqa: BLE001 - the first job looks again, and says why
            log.debug("pusher_warm_up_failed", department=self.department, error=repr(error))

    def _acknowledge_recorded(self, channel: Any) -> None:
        """Acknowledges, in order, the jobs whose answers the ledger has stored: one ack for all of
        them (every job before the last of them was handled, and is stored or already acknowledged)."""
        last = None
        while self._recording and self._recording[0][1].done.is_set():
            last, pending = self._recording.popleft()
            if "error" in pending.answer:
                move = pending.move
                delivery = receipts.delivery_id(move["enterprise_id"], move["version"], move["department"])
                log.error("ledger_refused", delivery_id=delivery, **pending.answer["error"])
        if last is not None:
            channel.basic_ack(last, multiple=True)

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.release()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def _sleep(self, seconds: float) -> None:
        """Waits, keeping the broker connection alive; raises Stopping on shutdown."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.stop.wait(min(left, 1.0)):
                raise Stopping
            if self._conn is not None:
                self._conn.heartbeat_check()

    # -- one delivery ------------------------------------------------------------------------
    def handle(self, message: Any) -> Pending | None:
        """Pushes one job (retrying, or parking it); its answer on the way to the ledger, or None when
        there is nothing to record."""
        job = jobs.from_bytes(message.body)
        if is_head(job):
            self.push_head(job)
            return None
        job = jobs.for_department(job, self.department)
        with correlation.bound(job.get("correlation_id") or None):
            if self._pull_only():
                # no platform to push to: the department pulls (FilingFeedService) and answers
                log.info("delivery_left_for_pull", delivery_id=job["delivery_id"])
                return None
            error = ""
            for attempt in range(1, self.max_attempts + 1):
                self._sleep(self.breaker.wait_time())
                try:
                    receipt = self._push(job)
                except receipts.UntrustedReceipt as untrusted:
                    error = f"UNTRUSTED_RECEIPT: {untrusted}"
                    # parked: the key check read the registry's record afresh before refusing (_push)
                    log.error("receipt_untrusted", delivery_id=job["delivery_id"], error=str(untrusted))
                    break
                except credentials.CredentialsUnavailable as unavailable:
                    error = f"CREDENTIALS_UNAVAILABLE: {unavailable}"
                    self._forget_endpoint()  # the operator may fix the reference or the secret
                    break
                except grpc.RpcError as failure:
                    code = failure.code()  # type: ignore[attr-defined]
                    error = f"{code.name}: {failure.details()}"  # type: ignore[attr-defined]
                    if code not in TRANSIENT:
                        if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
                            self._forget_endpoint()  # a replay reads the credentials again
                        break
                    self.breaker.failure()
                    self._forget_endpoint()  # look the platform up again: it may have moved
                    log.warning(
                        "delivery_retry", delivery_id=job["delivery_id"], attempt=attempt, error=error
                    )
                    self._sleep(backoff(attempt))
                    continue
                self.breaker.success()
                # A push is answered in the same call: delivered and answered are one ledger move.
                outcome = receipts.OUTCOMES.get(receipt["outcome"], "rejected")
                log.info("filing_delivered", delivery_id=job["delivery_id"], outcome=outcome)
                return self._record(job, outcome, receipt["reason"], receipt)
            return self._park(job, error)

    def _push(self, job: dict[str, Any]) -> dict[str, Any]:
        stub = self._stub()
        response = stub.ReceiveFiling(
            pb.ReceiveFilingRequest(filing=jobs.to_filing(job)),
            timeout=self.deadline,
            metadata=(("x-correlation-id", correlation.current()), *self._credentials),
        )
        receipt = jobs.receipt_of(response.receipt)
        if receipt.delivery_id != job["delivery_id"]:
            raise receipts.UntrustedReceipt(f"the receipt answers {receipt.delivery_id!r}, not this delivery")
        try:
            receipt.check_form()
        except ValidationError as error:
            raise receipts.UntrustedReceipt(f"the receipt says nothing usable ({error})") from None
        given = receipt.verified_key(job["document_hash"])
        # asking again gets the same receipt: one under another key parks the delivery (in handle)
        registered = (self._department() or {}).get("receipt_public_key") or None
        try:
            key = receipts.trusted(given, registered)
        except receipts.UntrustedReceipt:
            # the records are kept a TTL: a key the operator registered a moment ago (then replayed the
            # parked deliveries) is read now, not after the receipt was parked again
            self.records.forget()
            fresh = (self._department() or {}).get("receipt_public_key") or None
            if fresh == registered:
                raise
            registered, key = fresh, receipts.trusted(given, fresh)
        if registered is None:  # a pushed receipt that verifies is accepted: its key is pinned
            key = receipts.trusted(given, self._pin(given))
        return {"outcome": receipt.outcome, "reason": receipt.reason, **receipt.answer(key)}

    def _pin(self, key: str) -> str:
        """Registers the key of the department's first verified receipt, unless one was registered
        meanwhile; the key the registry now holds."""
        record = self.services.call("registry", "pin_receipt_key", self.department, key)
        self.records.keep(record)
        log.warning(
            "receipt_key_pinned",
            department=self.department,
            public_key=record["receipt_public_key"][:18] + "…",
        )
        return str(record["receipt_public_key"])

    def _pull_only(self) -> bool:
        record = self._department()
        return record is not None and not record.get("endpoint")

    def _department(self) -> dict[str, Any] | None:
        """The registry's record of the department (gateway/adapter/directory.py), read again after
        its TTL or a failure, so that a receipt key or an endpoint the operator changed applies to the
        next pushes; None for a department the registry does not know (push, fail, park, visible to
        the operator). The platform's channel is kept while its address, CA and credentials stay
        the same."""
        record = self.records.get(self.department)
        if _connection(self._channel_record) != _connection(record):
            self._close_endpoint()
        self._channel_record = record
        return record

    def _stub(self) -> department_pb2_grpc.DepartmentPlatformServiceStub:
        record = self._department()
        if self._endpoint is None:
            address = (record or {}).get("endpoint") or ""
            if not address:
                raise _no_endpoint(self.department)
            ca = (record or {}).get("tls_ca") or ""
            # the hub's credential for this platform, read once per lookup of the department
            self._credentials = credentials.resolve((record or {}).get("credentials_ref") or "")
            if self._credentials and not ca:
                log.warning("credentials_without_tls", department=self.department, endpoint=address)
            # the registry keeps the platform's CA certificate as PEM text
            channel = (
                grpc.secure_channel(address, grpc.ssl_channel_credentials(ca.encode("utf-8")))
                if ca
                else grpc.insecure_channel(address)
            )
            self._endpoint = (address, channel, department_pb2_grpc.DepartmentPlatformServiceStub(channel))
        return self._endpoint[2]

    def _forget_endpoint(self) -> None:
        self._close_endpoint()
        self.records.forget()

    def _close_endpoint(self) -> None:
        if self._endpoint is not None:
            self._endpoint[1].close()
        self._endpoint = None

    def _record(self, job: dict[str, Any], outcome: str, reason: str = "", receipt: Any = None) -> Pending:
        return self.ledger.submit(
            {
                "enterprise_id": job["enterprise_id"],
                "version": job["version"],
                "department": job["department"],
                "outcome": outcome,
                "reason": reason,
                "receipt": receipt,
                "correlation_id": correlation.current(),
            },
            # the writer waits for the filing's other pushed answers (a department that pulls answers later)
            of=self.records.answering(job.get("departments") or ()),
        )

    def _park(self, job: dict[str, Any], error: str) -> Pending:
        conn = connect(self.settings.amqp_uri)
        try:
            channel = raw_channel(conn)
            channel.queue_declare(filing_routes.parked_queue(self.settings), durable=True, auto_delete=False)
            channel.basic_publish_confirm(
                amqp.Message(jobs.to_bytes(job), delivery_mode=2, application_headers={"x-error": error}),
                exchange="",
                routing_key=filing_routes.parked_queue(self.settings),
            )
        finally:
            conn.release()
        log.error("delivery_parked", delivery_id=job["delivery_id"], error=error)
        return self._record(job, "parked", error)


class _NoEndpoint(grpc.RpcError):
    def __init__(self, department: str) -> None:
        self.department = department

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return f"department {self.department} has no platform endpoint registered"


def _connection(record: dict[str, Any] | None) -> tuple[str, str, str]:
    """What a push's channel is made of: the platform's address, its CA, the hub's credentials."""
    r = record or {}
    return (r.get("endpoint") or "", r.get("tls_ca") or "", r.get("credentials_ref") or "")


def _no_endpoint(department: str) -> grpc.RpcError:
    return _NoEndpoint(department)
