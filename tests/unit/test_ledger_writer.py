"""The adapter's ledger writer: answers from many pushers go to the filing service in batches."""

from __future__ import annotations

import threading
import time
from typing import Any

from gateway.adapter.ledger import LedgerWriter
from services.backbone.errors import UnavailableError


class FilingService:
    """Stands in for the filing service's record_deliveries RPC; slow, and down at first if told."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self.failures = failures

    def call(self, service: str, method: str, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert (service, method) == ("filing", "record_deliveries")
        if self.failures:
            self.failures -= 1
            if self.failures % 2:
                raise ConnectionResetError(104, "Connection reset by peer")
            raise UnavailableError("(service)", "the filing service cannot be reached now")
        time.sleep(0.05)
        self.calls.append(moves)
        return [
            {"error": {"field": "department", "rule": "not a recipient"}}
            if m["department"] == "GHOST"
            else {"department": m["department"], "ledger": {m["department"]: m["outcome"]}}
            for m in moves
        ]


def record_from_threads(writer: LedgerWriter, departments: list[str]) -> dict[str, dict[str, Any]]:
    answers: dict[str, dict[str, Any]] = {}

    def push(department: str) -> None:
        pending = writer.submit({"department": department, "outcome": "acknowledged"})
        assert pending.done.wait(10)
        answers[department] = pending.answer

    threads = [threading.Thread(target=push, args=(d,)) for d in departments]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return answers


def test_twenty_pushers_answers_take_few_calls_and_each_gets_its_own_answer() -> None:
    stop, service = threading.Event(), FilingService()
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    departments = [f"D{i:02d}" for i in range(20)] + ["GHOST"]
    answers = record_from_threads(writer, departments)
    stop.set()
    assert sum(len(c) for c in service.calls) == 21
    assert len(service.calls) < 21 / 2  # batched while the first call was on its way
    assert answers["D07"] == {"department": "D07", "ledger": {"D07": "acknowledged"}}
    assert answers["GHOST"]["error"]["rule"] == "not a recipient"


def test_a_filing_service_that_is_away_gets_the_same_batch_again() -> None:
    stop, service = threading.Event(), FilingService(failures=2)
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    answers = record_from_threads(writer, ["A", "B"])
    stop.set()
    assert set(answers) == {"A", "B"} and all("ledger" in a for a in answers.values())
    assert sorted(m["department"] for c in service.calls for m in c) == ["A", "B"]  # stored once


def test_stopping_leaves_an_unwritten_answer_unstored() -> None:
    stop, service = threading.Event(), FilingService(failures=10**6)
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    pending = writer.submit({"department": "A", "outcome": "acknowledged"})
    threading.Timer(0.3, stop.set).start()
    writer._thread.join(timeout=10)  # the writer gives up retrying once the adapter stops
    assert not writer._thread.is_alive()
    assert not pending.done.is_set() and service.calls == []  # so its pusher never acknowledges the job


class HeldFilingService(FilingService):
    """A filing service that stores nothing until it is let go."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()

    def call(self, service: str, method: str, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.go.wait(10)
        return super().call(service, method, moves)


def test_a_pusher_hands_answers_over_without_waiting_and_they_are_stored_in_order() -> None:
    stop, service = threading.Event(), HeldFilingService()
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    # handed over while the filing service stores nothing: submit() does not wait for it
    pending = [writer.submit({"department": "A", "outcome": "acknowledged", "n": n}) for n in range(5)]
    assert not any(p.done.is_set() for p in pending)
    service.go.set()
    assert all(p.done.wait(5) for p in pending)
    stop.set()
    assert [m["n"] for c in service.calls for m in c] == [0, 1, 2, 3, 4]
    assert all(p.answer == {"department": "A", "ledger": {"A": "acknowledged"}} for p in pending)


class OnceBrokenFilingService(FilingService):
    """Answers its first call with something the writer did not expect (fewer answers than moves)."""

    def __init__(self) -> None:
        super().__init__()
        self.broken = True

    def call(self, service: str, method: str, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.broken:
            self.broken = False
            return []
        return super().call(service, method, moves)


def test_an_unexpected_failure_does_not_stop_the_writer() -> None:
    stop, service = threading.Event(), OnceBrokenFilingService()
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    answers = record_from_threads(writer, ["A"])
    stop.set()
    assert answers["A"] == {"department": "A", "ledger": {"A": "acknowledged"}}


def test_answers_handed_over_within_the_linger_go_in_one_call() -> None:
    stop, service = threading.Event(), FilingService()
    writer = LedgerWriter(service, stop, linger=0.5).start()  # type: ignore[arg-type]
    pending = []
    for department in ("A", "B", "C"):  # a filing's answers, a few milliseconds apart
        pending.append(writer.submit({"department": department, "outcome": "acknowledged"}))
        time.sleep(0.02)
    assert all(p.done.wait(5) for p in pending)
    stop.set()
    assert [[m["department"] for m in c] for c in service.calls] == [["A", "B", "C"]]


def hand_over(writer: LedgerWriter, departments: list[str], of: int, pause: float) -> list[Any]:
    """One filing's answers, handed over one after another as its departments' pushers finish."""
    pending = []
    for department in departments:
        move = {"enterprise_id": "e1", "version": 1, "department": department, "outcome": "acknowledged"}
        pending.append(writer.submit(move, of=of))
        time.sleep(pause)
    return pending


def test_a_filings_answers_spread_over_tens_of_milliseconds_take_one_call() -> None:
    stop, service = threading.Event(), FilingService()
    writer = LedgerWriter(service, stop).start()  # type: ignore[arg-type]
    departments = [f"D{i:02d}" for i in range(21)]
    pending = hand_over(writer, departments, of=21, pause=0.003)  # ~60 ms from the first to the last
    assert all(p.done.wait(10) for p in pending)
    stop.set()
    assert [[m["department"] for m in call] for call in service.calls] == [departments]


def test_a_missing_answer_holds_the_others_back_only_for_a_while() -> None:
    stop, service = threading.Event(), FilingService()
    writer = LedgerWriter(service, stop, filing_linger=0.2).start()  # type: ignore[arg-type]
    started = time.monotonic()
    pending = hand_over(writer, [f"D{i:02d}" for i in range(20)], of=21, pause=0)  # D20's platform is down
    assert all(p.done.wait(10) for p in pending)
    assert 0.2 <= time.monotonic() - started < 1.0
    late = hand_over(writer, ["D20"], of=21, pause=0)[0]  # parked or answered later: a call of its own
    assert late.done.wait(10)
    stop.set()
    assert [len(call) for call in service.calls] == [20, 1]
