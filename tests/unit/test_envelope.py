"""The envelope a relay makes of a stored event: read straight from the stored JSON, it is the same as
the one made from the decoded domain event, for every kind of event the services store."""

from __future__ import annotations

import base64
import dataclasses
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import event
from eventsourcing.persistence import MapperDeserialisationError
from eventsourcing.utils import resolve_topic

from services.backbone import at_rest
from services.backbone.aggregate import HubAggregate, is_published
from services.backbone.envelope import (
    _EVENT_IDS,
    Envelope,
    envelopes_from_json,
    event_id,
    from_domain_event,
    from_stored,
)
from services.backbone.relay import envelopes_after
from services.backbone.store import HubApplication
from services.registry.application import RegistryApplication
from tests.factories import enterprise_fields
from tests.notifications_seed import Seeded, seed


@pytest.fixture(scope="module")
def seeded() -> Iterator[Seeded]:
    found = seed()
    yield found
    found.close()


def both_ways(app: HubApplication) -> Iterator[tuple[Envelope | None, Envelope]]:
    for n in app.recorder.select_notifications(start=1, limit=100_000):
        direct = from_stored(app.service, n, resolve_topic(n.topic), previous_id=n.id - 1)
        yield direct, from_domain_event(app.service, n, app.mapper.to_domain_event(n), previous_id=n.id - 1)


def test_every_stored_event_of_every_service_makes_the_same_envelope_both_ways(seeded: Seeded) -> None:
    kinds: set[str] = set()
    for app in (seeded.registry, seeded.riskpoints, seeded.dangers, seeded.filing, seeded.notifications):
        for direct, decoded in both_ways(app):
            assert direct == decoded
            kinds.add(f"{app.service}:{decoded.type}")
    # the seed stores a broad sample: registrations, risk points, dangers, filings, views, notices
    assert len(kinds) >= 30
    assert {"registry:Enterprise.Registered", "riskpoints:RiskPoint.Identified"} <= kinds


class Ledger(HubAggregate):
    @event("Opened")
    def __init__(self, amount: Decimal, when: datetime, ref: UUID) -> None:
        self.amount, self.when, self.ref = amount, when, ref


class Upcast(Ledger.Opened):  # type: ignore[name-defined]
    class_version = 2  # read through eventsourcing's upcasting, which only the mapper does


class LedgerApp(HubApplication):
    service = "test"


def test_values_of_eventsourcing_s_transcodings_read_as_their_text_and_upcasts_fall_back() -> None:
    app = LedgerApp(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    ref = uuid4()
    app.save(Ledger(amount=Decimal("12.50"), when=datetime(2026, 11, 28, 21, 0, tzinfo=UTC), ref=ref))
    (n,) = app.recorder.select_notifications(start=1, limit=10)
    direct = from_stored("test", n, resolve_topic(n.topic), previous_id=0)
    assert direct is not None and direct == from_domain_event("test", n, app.mapper.to_domain_event(n), 0)
    assert direct.payload["amount"] == "12.50" and direct.payload["when"] == "2026-11-28T21:00:00+00:00"
    assert direct.payload["ref"] == str(ref)  # stored as eventsourcing's hex, sent as the usual form
    assert from_stored("test", n, Upcast, previous_id=0) is None
    app.close()


def test_a_batch_body_is_its_envelopes_in_order_and_a_bad_one_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        envelopes_from_json(b"[]")
    with pytest.raises(ValueError, match="missing"):
        envelopes_from_json(b'[{"event_id": "x"}]')


def test_an_envelope_read_from_json_is_the_one_written_and_still_frozen(seeded: Seeded) -> None:
    """Every stored event's envelope, through JSON and back (one and a batch), equals the one written,
    field by field and in type; extra keys are ignored, a missing one refused, and it cannot change."""
    apps = [seeded.registry, seeded.riskpoints, seeded.dangers, seeded.filing, seeded.notifications]
    written = [direct for app in apps for direct, _ in both_ways(app) if direct is not None]
    assert len(written) > 50
    read = envelopes_from_json(b"[" + b",".join(e.to_json() for e in written) + b"]")
    assert read == written
    for before, after in zip(written, read, strict=True):
        assert type(after) is Envelope and vars(after) == vars(before)
        assert Envelope.from_json(before.to_json()) == before
    one = written[0]
    assert Envelope.from_dict({**one.to_dict(), "added_later": 1}) == one
    assert "added_later" not in vars(Envelope.from_dict({**one.to_dict(), "added_later": 1}))
    with pytest.raises(ValueError, match=r"missing \['payload'\]"):
        Envelope.from_dict({k: v for k, v in one.to_dict().items() if k != "payload"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        read[0].type = "Enterprise.Closed"  # type: ignore[misc]


def test_an_event_id_is_the_uuid5_of_its_stream_originator_and_version() -> None:
    # the relay spells uuid5 out for speed: the ids must stay those published before
    for upstream, originator, version in [
        ("riskpoints", str(uuid4()), 1),
        ("filing", str(uuid4()), 2**40),
        ("登记", "非 UUID 的名字", 0),
        *(("registry", str(uuid4()), v) for v in range(200)),
    ]:
        expected = str(uuid.uuid5(_EVENT_IDS, f"{upstream}/{originator}/{version}"))
        assert event_id(upstream, originator, version) == expected


def encrypted(app_class: type[HubApplication], **env: str) -> HubApplication:
    key = base64.b64encode(os.urandom(32)).decode("ascii")
    return app_class(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.popo",
            "CIPHER_TOPIC": at_rest.TOPIC,
            "CIPHER_KEY": key,
            **env,
        }
    )


def test_an_encrypted_store_s_events_reach_their_envelopes_without_the_domain_event(tmp_path: Path) -> None:
    """Every store is encrypted at rest: the relay opens each event and reads its JSON, and makes the
    envelope the mapper's domain event would make, without that event (its decoding cost the relay
    more than the rest of an envelope)."""
    ledger = encrypted(LedgerApp)
    ledger.save(Ledger(amount=Decimal("0.10"), when=datetime(2026, 12, 5, tzinfo=UTC), ref=uuid4()))
    (n,) = ledger.recorder.select_notifications(start=1, limit=10)
    opened = from_stored("test", n, resolve_topic(n.topic), 0, at_rest.plain(ledger, n.state))
    assert opened == from_domain_event("test", n, ledger.mapper.to_domain_event(n), 0)
    assert opened is not None and opened.payload["amount"] == "0.10"
    ledger.close()

    registry = encrypted(RegistryApplication, HUB_RUNTIME_DIR=str(tmp_path))
    registry.add_department({"code": "AJ", "name": "应急管理局", "kind": "安监"})
    registry.set_routing_rule("化工", "*", ["AJ"])
    for i in range(3):
        registry.register(enterprise_fields(i))
    notifications = registry.recorder.select_notifications(start=1, limit=1000)
    assert "应急".encode() not in b"".join(bytes(n.state) for n in notifications)  # not in clear
    published = [n for n in notifications if is_published(n.topic)]
    expected = [
        from_domain_event(registry.service, n, registry.mapper.to_domain_event(n), previous_id=p)
        for n, p in zip(published, [0, *(n.id for n in published[:-1])], strict=True)
    ]
    mapped = 0
    to_domain_event = registry.mapper.to_domain_event

    def counted(stored: Any) -> Any:
        nonlocal mapped
        mapped += 1
        return to_domain_event(stored)

    registry.mapper.to_domain_event = counted  # type: ignore[method-assign]
    envelopes, _ = envelopes_after(registry, 0, 1000)
    assert envelopes == expected
    assert {"Enterprise.Registered", "Enterprise.SupervisorsAssigned"} <= {e.type for e in envelopes}
    assert mapped == 0
    registry.close()


def test_an_altered_encrypted_event_stops_the_relay_with_the_mapper_s_error() -> None:
    app = encrypted(LedgerApp)
    app.save(Ledger(amount=Decimal("1"), when=datetime(2026, 12, 5, tzinfo=UTC), ref=uuid4()))
    (stored,) = app.recorder.select_notifications(start=1, limit=10)
    altered = bytearray(stored.state)
    altered[-1] ^= 1
    app.recorder.select_notifications = lambda *a, **k: [  # type: ignore[method-assign]
        dataclasses.replace(stored, state=bytes(altered))
    ]
    with pytest.raises(MapperDeserialisationError):
        envelopes_after(app, 0, 10)
    app.close()
