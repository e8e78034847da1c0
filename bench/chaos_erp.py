"""`make chaos`'s ERP: enterprises registered and filed over gRPC by crews of worker threads, either as
fast as the hub answers (the capacity measurement) or at a paced rate (the load under the faults).

Each enterprise is a `Company` that moves one step at a time: RegisterEnterprise (with an idempotency
key), its two RegisterSigningKey calls, then CompileRegister, both signatures and SubmitRegister. A
call the hub does not answer OK is sent again later, unchanged, as the README tells an ERP to do. The
filing is not waited for: a registered enterprise is filed a second later by the filing crew, whose
CompileRegister carries the consistency token of the enterprise's writes, so the hub itself waits until
its filing view holds them (no RPC proxy of the bench's own, nothing that a broker restart breaks).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import enterprise_pb2_grpc, filing_pb2_grpc
from hub.v1 import filing_pb2 as fpb

from bench.pacing import FILING, REGISTRATION, Backlog, Schedule, Tally, combined_rate
from services.backbone import consistency
from services.kernel import signatures
from tests.e2e.filing_flow import TOWN
from tests.factories import enterprise_fields

# Codes after which a write may have been applied all the same (its answer, not its effect, was lost):
# the same request is sent again and the enterprise counts as unanswered until it is answered.
ANSWER_LOST = frozenset(
    {"UNAVAILABLE", "DEADLINE_EXCEEDED", "CANCELLED", "UNKNOWN", "INTERNAL", "ABORTED", "RESOURCE_EXHAUSTED"}
)
CALL_TIMEOUT = 35.0  # past the gateway's own 30 s wait for a service's answer
FILE_AFTER = 1.0  # an enterprise is filed this long after its registration went through
AGAIN_AFTER = 1.0  # an operation refused is tried again this much later
SLOW_CALL = 30.0  # a paced crew has workers enough to keep its rate with calls this slow
ROLES = (
    ("legal_representative", epb.SIGNING_ROLE_LEGAL_REPRESENTATIVE),
    ("enterprise_seal", epb.SIGNING_ROLE_ENTERPRISE_SEAL),
)
# a gateway killed and started again is found within a second, not after grpc's minutes of backoff
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 1000),
]


class Erp:
    """The ERP's stubs of the gateway's services and its tally of calls."""

    def __init__(self, enterprises: Any, filings: Any, registration_token: str, tally: Tally) -> None:
        self.enterprises, self.filings = enterprises, filings
        self.registration = (("x-hub-registration-token", registration_token),)
        self.tally = tally
        self.channel: grpc.Channel | None = None

    @classmethod
    def connect(cls, gateway: str, registration_token: str, tally: Tally) -> Erp:
        channel = grpc.insecure_channel(gateway, options=CHANNEL_OPTIONS)
        erp = cls(
            enterprise_pb2_grpc.EnterpriseServiceStub(channel),
            filing_pb2_grpc.FilingServiceStub(channel),
            registration_token,
            tally,
        )
        erp.channel = channel
        return erp

    def call(self, company: Company, method: Any, request: Any, metadata: tuple[tuple[str, str], ...]) -> Any:
        """The answer, or None when the hub did not answer OK (counted by status code). An answer OK
        settles the company's last write; a lost answer leaves it unanswered until one comes."""
        try:
            answer, call = method.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT)
        except grpc.RpcError as error:
            status = error.code() if callable(getattr(error, "code", None)) else None  # type: ignore[attr-defined]
            code = status.name if status is not None else "UNKNOWN"
            self.tally.refuse(code)
            company.unanswered = code in ANSWER_LOST
            return None
        company.unanswered = False
        token = dict(call.trailing_metadata() or ()).get(consistency.TOKEN_HEADER)
        if token:
            company.written = consistency.merge(company.written, consistency.decode(token))
        return answer

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()


@dataclass
class Company:
    """One enterprise's ERP: where it is, and what it must send again unchanged."""

    n: int
    request: Any = None  # RegisterEnterpriseRequest, idempotency key included
    uscc: str = ""
    keys: dict[str, signatures.KeyPair] = field(default_factory=dict)
    keys_registered: set[str] = field(default_factory=set)
    enterprise_id: str = ""
    metadata: tuple[tuple[str, str], ...] = ()
    written: dict[str, int] = field(default_factory=dict)  # how far its writes reached, per service
    submit: Any = None  # the SubmitRegisterRequest to send (again)
    filed_version: int = 0  # answered OK
    unanswered: bool = False  # its last write's answer was lost: applied or not, nobody knows yet

    @classmethod
    def new(cls, n: int) -> Company:
        fields = enterprise_fields(n, industry="化工", town=TOWN)
        contacts = [epb.Contact(**c) for c in fields.pop("contacts")]
        request = epb.RegisterEnterpriseRequest(
            profile=epb.EnterpriseProfile(**fields, contacts=contacts), idempotency_key=f"chaos-{n}"
        )
        keys = {role: signatures.generate_keypair() for role, _ in ROLES}
        return cls(n, request, fields["unified_social_credit_code"], keys)

    def register(self, erp: Erp) -> bool:
        """The registration's remaining calls; True once the enterprise and both keys are answered OK."""
        if not self.enterprise_id:
            answer = erp.call(self, erp.enterprises.RegisterEnterprise, self.request, erp.registration)
            if answer is None:
                return False
            self.enterprise_id = answer.enterprise_id
            self.metadata = (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))
        for role, enum in ROLES:
            if role not in self.keys_registered:
                key = epb.RegisterSigningKeyRequest(role=enum, public_key=self.keys[role].public_key_hex)
                if erp.call(self, erp.enterprises.RegisterSigningKey, key, self.metadata) is None:
                    return False
                self.keys_registered.add(role)
        return True

    def file(self, erp: Erp) -> bool:
        """Compiles (once the hub holds its writes), signs and submits; True once answered OK."""
        if self.submit is None:
            token = consistency.encode(self.written)
            metadata = self.metadata + (((consistency.TOKEN_HEADER, token),) if token else ())
            compiled = erp.call(self, erp.filings.CompileRegister, fpb.CompileRegisterRequest(), metadata)
            if compiled is None:
                return False
            data = compiled.canonical_document
            self.submit = fpb.SubmitRegisterRequest(
                version=compiled.version.version,
                legal_representative_signature=signatures.sign(
                    self.keys["legal_representative"].private_key_hex, data
                ),
                enterprise_seal_signature=signatures.sign(self.keys["enterprise_seal"].private_key_hex, data),
            )
        answer = erp.call(self, erp.filings.SubmitRegister, self.submit, self.metadata)
        if answer is None:
            if not self.unanswered:
                self.submit = None  # refused outright, so nothing was stored: compile afresh
            return False
        self.filed_version = int(answer.version.version)
        return True


@dataclass
class Crew:
    """Worker threads doing one kind of operation until told to stop."""

    stop: threading.Event
    threads: list[threading.Thread]
    schedule: Schedule | None

    def end(self, timeout: float = CALL_TIMEOUT + 5) -> None:
        self.stop.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Load:
    """The ERP's enterprises and the crews that move them along: a registration crew starts new
    enterprises (or takes one whose registration was refused), a filing crew files those registered."""

    def __init__(self, erp: Erp, first: int = 1001) -> None:
        self.erp, self.tally = erp, erp.tally
        self.to_register: Backlog[Company] = Backlog()
        self.to_file: Backlog[Company] = Backlog()
        self.companies: list[Company] = []
        self.new = threading.Event()  # registration crews start new enterprises while set
        self.new.set()
        self._numbers = itertools.count(first)
        self._lock = threading.Lock()
        self._in_flight = 0

    def crew(self, kind: str, workers: int, schedule: Schedule | None) -> Crew:
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=self._work, args=(kind, schedule, stop), daemon=True, name=f"erp-{kind}-{i}"
            )
            for i in range(workers)
        ]
        for thread in threads:
            thread.start()
        return Crew(stop, threads, schedule)

    def _next(self, kind: str) -> Company | None:
        now = time.monotonic()
        with self._lock:
            if kind == FILING:
                company = self.to_file.take(now)
            else:
                company = self.to_register.take(now)
                if company is None and self.new.is_set():
                    company = Company.new(next(self._numbers))
                    self.companies.append(company)
            if company is not None:
                self._in_flight += 1
            return company

    def _work(self, kind: str, schedule: Schedule | None, stop: threading.Event) -> None:
        while not stop.is_set():
            if schedule is not None and stop.wait(schedule.reserve()):
                break
            company = self._next(kind)
            if company is None:
                if schedule is None:
                    stop.wait(0.05)
                continue
            self.tally.start(kind, time.monotonic())
            try:
                done = company.register(self.erp) if kind == REGISTRATION else company.file(self.erp)
            except Exception as error:  # noqa: BLE001 - the ERP's own fault: counted, and tried again
                self.tally.refuse(f"ERP {type(error).__name__}")
                done = False
            now = time.monotonic()
            if done:
                self.tally.complete(kind, now)
                if kind == REGISTRATION:
                    self.to_file.put(company, now + FILE_AFTER)
            else:
                (self.to_register if kind == REGISTRATION else self.to_file).put(company, now + AGAIN_AFTER)
            with self._lock:
                self._in_flight -= 1

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def unfinished(self) -> int:
        """Enterprises started and not yet registered and filed (or being tried again)."""
        return self.in_flight() + len(self.to_register) + len(self.to_file)

    def idle(self) -> bool:
        return not self.unfinished()

    def drain(self, timeout: float = 120.0) -> bool:
        """No new enterprises; True once every one started is registered and filed (the crews go on)."""
        self.new.clear()
        deadline = time.monotonic() + timeout
        while not self.idle():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def accepted(self) -> tuple[set[str], set[tuple[str, int]]]:
        """Enterprises whose registration was answered OK; (enterprise, version) of filings answered OK."""
        with self._lock:
            companies = list(self.companies)
        return (
            {c.enterprise_id for c in companies if c.enterprise_id},
            {(c.enterprise_id, c.filed_version) for c in companies if c.filed_version},
        )

    def unanswered(self) -> int:
        with self._lock:
            return sum(1 for c in self.companies if c.unanswered)


@dataclass
class Capacity:
    """What the saturated hub completed a second, each operation measured alone; and the cores the
    ERP itself used meanwhile (near one, the client and not the hub would be the limit)."""

    registrations: float
    filings: float
    measured: bool = True
    erp_cores: tuple[float, float] = (0.0, 0.0)

    @property
    def enterprises(self) -> float:
        return combined_rate(self.registrations, self.filings)


def measure(load: Load, settle: Callable[[], object], workers: int, warmup: float, window: float) -> Capacity:
    """Registrations, then filings of the enterprises registered, each by `workers` threads as fast as
    the hub answers, counted over `window` seconds after `warmup`; the hub catches up between the two
    (`settle`), so the filings are not measured against the registrations' backlog."""
    crew = load.crew(REGISTRATION, workers, None)
    time.sleep(warmup)
    begin, cpu = time.monotonic(), time.process_time()
    time.sleep(window)
    registering_cores = (time.process_time() - cpu) / window
    crew.end()
    registrations = load.tally.count(REGISTRATION, begin, begin + window) / window
    settle()
    crew = load.crew(FILING, workers, None)
    time.sleep(warmup)
    begin, cpu = time.monotonic(), time.process_time()
    while time.monotonic() < begin + window and (len(load.to_file) or load.in_flight()):
        time.sleep(0.2)
    end = min(time.monotonic(), begin + window)
    filing_cores = (time.process_time() - cpu) / max(time.monotonic() - begin, 1e-9)
    crew.end()
    if end - begin < window / 4:
        raise RuntimeError("too few enterprises registered to measure filings: lengthen the window")
    filings = load.tally.count(FILING, begin, end) / (end - begin)
    load.to_file.clear()  # the rest stay registered, unfiled: the paced load files its own
    cores = (round(registering_cores, 2), round(filing_cores, 2))
    return Capacity(round(registrations, 1), round(filings, 1), erp_cores=cores)


def paced(load: Load, rate: float) -> list[Crew]:
    """A registration crew and a filing crew, each starting `rate` operations a second."""
    workers = min(128, max(8, math.ceil(rate * SLOW_CALL)))
    burst = max(1, round(rate))  # at most a second's starts made up after a stall
    return [load.crew(kind, workers, Schedule(rate, burst)) for kind in (REGISTRATION, FILING)]
