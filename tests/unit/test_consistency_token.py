"""The consistency token a gateway answers a write with: it covers the write, the enterprise's earlier
writes through that gateway, and what the token the caller sent covered; a token the hub did not give
is refused naming the header."""

from __future__ import annotations

import pytest

from services.backbone import consistency
from services.backbone.errors import ValidationError


@pytest.fixture(autouse=True)
def fresh_call() -> None:
    consistency.take_call_positions()


def test_an_answer_covers_the_enterprise_s_earlier_writes_through_this_gateway() -> None:
    remembered = consistency.Remembered()
    remembered.note("e-1", {"registry": 5})
    consistency.take_call_positions()  # the registration's call ended
    remembered.note("e-2", {"registry": 9, "riskpoints": 40})  # another enterprise's: not this one's
    consistency.take_call_positions()
    remembered.note("e-1", {"riskpoints": 12})
    assert consistency.answer_token({}) == "registry:5.riskpoints:12"


@pytest.mark.parametrize(
    ("sent", "written", "token"),
    [
        ({}, {"riskpoints": 3}, "riskpoints:3"),
        ({"registry": 7}, {"riskpoints": 3}, "registry:7.riskpoints:3"),
        ({"riskpoints": 9, "dangers": 2}, {"riskpoints": 3}, "dangers:2.riskpoints:9"),  # never goes back
        ({"registry": 7}, {}, ""),  # a call that wrote nothing answers without a token
    ],
)
def test_an_answer_carries_what_the_sent_token_covered(sent: dict, written: dict, token: str) -> None:
    consistency.Remembered().note("e-1", written)
    assert consistency.answer_token(sent) == token
    assert consistency.answer_token(sent) == ""  # taken: the thread's next call starts afresh


@pytest.mark.parametrize(
    "bad",
    [
        "x",
        "riskpoints",
        "riskpoints:",
        "riskpoints:-1",
        "RISKPOINTS:1",
        "riskpoints:1.",
        "a:1" + ".a:1" * 16,
        "riskpoints:1234567890123456789",
        "riskpoints:1;registry:2",
        "riskpoints:1 ",
    ],
)
def test_a_token_the_hub_did_not_give_is_refused_naming_the_header(bad: str) -> None:
    with pytest.raises(ValidationError) as refused:
        consistency.decode(bad)
    assert refused.value.field == consistency.TOKEN_HEADER


def test_a_token_round_trips_and_repeated_services_keep_the_furthest() -> None:
    assert consistency.decode(consistency.encode({"registry": 56, "riskpoints": 1234})) == {
        "registry": 56,
        "riskpoints": 1234,
    }
    assert consistency.decode("riskpoints:3.riskpoints:8") == {"riskpoints": 8}
    assert consistency.decode("") == {}
