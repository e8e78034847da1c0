"""How a relay page becomes AMQP messages: batches, and the events that travel alone."""

from __future__ import annotations

import json

from services.backbone import topology
from services.backbone.envelope import Envelope
from services.backbone.relay import BATCH_TYPE, to_messages


def envelope(n: int, kind: str) -> Envelope:
    return Envelope(
        event_id=f"e{n}",
        type=kind,
        schema_version=1,
        originator_id=f"o{n}",
        originator_version=1,
        upstream="filing",
        notification_id=n,
        previous_id=n - 1,
        occurred_at="2026-11-29T08:00:00+00:00",
        correlation_id="c",
        enterprise_id="ent",
        payload={},
    )


def ids(message) -> list[int]:  # noqa: ANN001
    body = json.loads(message.body)
    return (
        [e["notification_id"] for e in body]
        if message.properties["type"] == BATCH_TYPE
        else [body["notification_id"]]
    )


def test_a_submission_travels_alone_between_batches_in_the_stream_s_order() -> None:
    page = [envelope(1, "FilingDelivery.Recorded"), envelope(2, "FilingDelivery.Recorded")]
    page += [envelope(3, "Filing.Submitted")]
    page += [envelope(n, "FilingDelivery.Recorded") for n in range(4, 9)]
    messages = to_messages(page, batch=3, alone=frozenset({"Filing.Submitted"}))
    assert [ids(m) for _, m in messages] == [[1, 2], [3], [4, 5, 6], [7, 8]]
    # the adapter's queue binds Filing.Submitted.*: the submission is routed by its own key
    assert (
        messages[1][0] == "Filing.Submitted.ent" and messages[1][1].properties["type"] == "Filing.Submitted"
    )
    assert all(key.startswith("FilingDelivery.Recorded.") for i, (key, _) in enumerate(messages) if i != 1)


def test_without_a_batch_every_event_has_a_message() -> None:
    page = [envelope(n, "FilingDelivery.Recorded") for n in range(1, 4)]
    assert [ids(m) for _, m in to_messages(page)] == [[1], [2], [3]]


def test_filing_s_stream_is_batched_and_its_submissions_travel_alone() -> None:
    assert topology.batch_size_of("filing") > 1
    assert topology.alone_of("filing") == {"Filing.Submitted"}
    assert topology.alone_of("riskpoints") == frozenset()
