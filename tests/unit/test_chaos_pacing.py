"""make chaos's ERP load without a hub: the schedule that paces it, what it counts as accepted, what the
hub owes at the end, and which faults a subset names. Clocks are fakes: nothing here waits."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import filing_pb2 as fpb

from bench.chaos_erp import Company, Erp
from bench.pacing import FILING, REGISTRATION, Backlog, Schedule, Tally, chosen, combined_rate, owed, twice
from services.backbone import consistency


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_threads_that_reserve_at_once_get_starts_one_interval_apart() -> None:
    clock = Clock()
    schedule = Schedule(rate=10, burst=1, clock=clock)
    assert [round(schedule.reserve(), 3) for _ in range(4)] == [0.0, 0.1, 0.2, 0.3]
    clock.now += 0.4  # the fifth start is due now, not later: slow calls do not lower the rate
    assert schedule.reserve() == 0.0
    assert schedule.dropped == 0


def test_after_a_stall_a_burst_of_missed_starts_is_made_up_and_the_rest_dropped() -> None:
    clock = Clock()
    schedule = Schedule(rate=10, burst=3, clock=clock)
    schedule.reserve()
    clock.now += 10.0  # every worker was stuck in a call: ~100 starts went by
    waits = [round(schedule.reserve(), 3) for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 0.1, 0.2]  # three at once, then the rate again
    assert schedule.dropped == 97


def test_a_schedule_refuses_a_rate_it_cannot_keep() -> None:
    with pytest.raises(ValueError):
        Schedule(rate=0)


def test_a_backlog_gives_what_is_due_earliest_first_and_nothing_early() -> None:
    backlog: Backlog[str] = Backlog()
    backlog.put("later", due=5.0)
    backlog.put("first", due=1.0)
    backlog.put("second", due=1.0)
    assert backlog.take(0.5) is None
    assert [backlog.take(2.0), backlog.take(2.0), backlog.take(2.0)] == ["first", "second", None]
    assert backlog.take(5.0) == "later"
    assert len(backlog) == 0


def test_rates_offered_and_achieved_are_counted_in_their_window() -> None:
    tally = Tally()
    for t in (10.0, 10.5, 11.0, 11.5, 30.0):
        tally.start(REGISTRATION, t)
    for t in (10.2, 11.8):
        tally.complete(REGISTRATION, t)
    tally.start(FILING, 10.1)
    assert tally.rates(10.0, 12.0) == {
        "offered": {REGISTRATION: 2.0, FILING: 0.5},
        "achieved": {REGISTRATION: 1.0, FILING: 0.0},
    }
    assert tally.first_after(REGISTRATION, 10.2) == 11.8


def test_the_hub_takes_each_enterprise_through_both_operations_on_the_same_time() -> None:
    assert combined_rate(60, 20) == pytest.approx(15.0)
    with pytest.raises(ValueError):
        combined_rate(60, 0)


NOTHING: set[str] = set()


def test_a_filing_whose_answer_was_lost_cannot_stand_in_for_an_accepted_one() -> None:
    # "a" was answered OK and never arrived; "b"'s answer was lost, it was stored and it arrived
    gone = owed(
        registered=NOTHING,
        accepted_registrations=NOTHING,
        views=NOTHING,
        submitted={"a", "b"},
        accepted_filings={"a"},
        delivered={"b"},
    )
    assert gone["filings"] == {"a"}


def test_what_the_hub_stored_is_owed_whether_or_not_the_erp_heard_so() -> None:
    gone = owed(
        registered={"stored, unanswered", "stored, answered"},
        accepted_registrations={"stored, answered", "answered, never stored"},
        views={"stored, answered"},
        submitted={"stored, unanswered"},
        accepted_filings=NOTHING,
        delivered=NOTHING,
    )
    assert gone["registrations"] == {"stored, unanswered", "answered, never stored"}
    assert gone["filings"] == {"stored, unanswered"}


def test_a_call_lost_before_anything_was_stored_is_owed_nothing() -> None:
    gone = owed(
        registered={"v"},
        accepted_registrations={"v"},
        views={"v"},
        submitted={"f"},
        accepted_filings={"f"},
        delivered={"f"},
    )
    assert gone == {"registrations": NOTHING, "filings": NOTHING}


def test_twice_counts_each_repeat() -> None:
    assert twice(["a", "b", "a", "a"]) == 2
    assert twice([("e", "AJJ-TEZ"), ("e", "TOWN-ZSZ")]) == 0


FAULTS = [
    "RabbitMQ restarted",
    "registry killed (SIGKILL)",
    "registry-stream killed (SIGKILL)",
    "department platform down",
]


def test_a_subset_of_faults_is_named_by_parts_of_their_names_in_their_own_order() -> None:
    assert chosen(FAULTS, None) == FAULTS
    assert chosen(FAULTS, "Platform down, registry killed") == [
        "registry killed (SIGKILL)",
        "department platform down",
    ]
    assert chosen(FAULTS, "registry") == FAULTS[1:3]


def test_a_fault_named_like_none_is_an_error_not_a_smaller_run() -> None:
    with pytest.raises(ValueError, match="filing killed"):
        chosen(FAULTS, "registry killed,filing killed")


# -- one enterprise's ERP against stubs that answer as told ------------------------------------------
class Refused(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        self._code = code

    def code(self) -> grpc.StatusCode:
        return self._code


class Answered:
    def __init__(self, token: str = "") -> None:
        self.token = token

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        return ((consistency.TOKEN_HEADER, self.token),) if self.token else ()


class Method:
    """A stub method answering each call with the next outcome: (answer, token) or a status code."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes, self.requests, self.metadata = list(outcomes), [], []

    def with_call(self, request: Any, metadata: Any, timeout: float) -> tuple[Any, Answered]:
        self.requests.append(request)
        self.metadata.append(dict(metadata))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, grpc.StatusCode):
            raise Refused(outcome)
        answer, token = outcome
        return answer, Answered(token)


class Stubs:
    def __init__(self, **methods: Method) -> None:
        self.__dict__.update(methods)


def registered() -> tuple[epb.RegisterEnterpriseResponse, str]:
    return epb.RegisterEnterpriseResponse(enterprise_id="e-1", key_id="k", secret="s"), "registry:5"


def key(token: str) -> tuple[epb.RegisterSigningKeyResponse, str]:
    return epb.RegisterSigningKeyResponse(), token


def version(n: int) -> fpb.RegisterVersion:
    return fpb.RegisterVersion(version=n)


def test_a_registration_whose_answer_was_lost_is_sent_again_unchanged_and_accepted_once_answered() -> None:
    tally = Tally()
    register = Method(grpc.StatusCode.UNAVAILABLE, registered())
    keys = Method(key("registry:6"), grpc.StatusCode.DEADLINE_EXCEEDED, key("registry:8"))
    erp = Erp(Stubs(RegisterEnterprise=register, RegisterSigningKey=keys), None, "token", tally)
    company = Company.new(7)
    assert company.register(erp) is False and company.unanswered
    assert company.register(erp) is False and company.unanswered  # registered; the second key's answer lost
    assert company.register(erp) is True and not company.unanswered
    assert register.requests[0] == register.requests[1]  # the same idempotency key, the same profile
    assert register.requests[0].idempotency_key == "chaos-7"
    assert keys.requests[1] == keys.requests[2]  # the key whose answer was lost, not the first again
    assert len(keys.requests) == 3
    assert company.written == {"registry": 8}
    assert dict(tally.refused) == {"UNAVAILABLE": 1, "DEADLINE_EXCEEDED": 1}


def test_a_filing_is_accepted_only_when_answered_and_an_unanswered_one_is_sent_again_as_it_was() -> None:
    tally = Tally()
    compile_ = Method((fpb.CompileRegisterResponse(version=version(1), canonical_document=b"{}"), ""))
    submit = Method(grpc.StatusCode.UNAVAILABLE, (fpb.SubmitRegisterResponse(version=version(1)), "filing:3"))
    erp = Erp(None, Stubs(CompileRegister=compile_, SubmitRegister=submit), "token", tally)
    company = Company.new(8)
    company.enterprise_id, company.written = "e-1", {"registry": 8, "riskpoints": 2}
    assert company.file(erp) is False
    assert company.filed_version == 0 and company.unanswered  # applied or not: not accepted, not lost
    assert company.file(erp) is True
    assert company.filed_version == 1 and not company.unanswered
    assert len(compile_.requests) == 1 and submit.requests[0] == submit.requests[1]
    # the hub is asked to compile once its views hold every write the enterprise made
    assert compile_.metadata[0][consistency.TOKEN_HEADER] == "registry:8.riskpoints:2"


def test_a_filing_refused_outright_is_compiled_anew() -> None:
    compile_ = Method(
        (fpb.CompileRegisterResponse(version=version(1), canonical_document=b"{}"), ""),
        (fpb.CompileRegisterResponse(version=version(2), canonical_document=b"{ }"), ""),
    )
    submit = Method(grpc.StatusCode.FAILED_PRECONDITION, (fpb.SubmitRegisterResponse(version=version(2)), ""))
    erp = Erp(None, Stubs(CompileRegister=compile_, SubmitRegister=submit), "token", Tally())
    company = Company.new(9)
    company.enterprise_id = "e-1"
    assert company.file(erp) is False and not company.unanswered  # nothing was stored
    assert company.file(erp) is True
    assert [r.version for r in submit.requests] == [1, 2]
    assert company.filed_version == 2
