"""The adapter's pushers share one reading of the departments' records: one registry call per TTL for
all of them, and a change the operator makes still applies within the TTL."""

from __future__ import annotations

import threading
import time
from typing import Any

from gateway.adapter.directory import DepartmentRecords
from gateway.adapter.pusher import DepartmentPusher


class Registry:
    """Stands in for the registry's list_departments and pin_receipt_key RPCs."""

    def __init__(self, codes: list[str]) -> None:
        self.records = {c: {"code": c, "endpoint": f"127.0.0.1:{5000 + i}"} for i, c in enumerate(codes)}
        self.calls: list[str] = []

    def call(self, service: str, method: str, *args: Any) -> Any:
        assert service == "registry"
        self.calls.append(method)
        if method == "list_departments":
            time.sleep(0.01)  # a round trip: the pushers asking meanwhile wait for this one
            return [dict(r) for r in self.records.values()]
        if method == "pin_receipt_key":
            code, key = args
            self.records[code]["receipt_public_key"] = key
            return dict(self.records[code])
        raise AssertionError(method)


def test_twenty_pushers_asking_at_once_make_one_call() -> None:
    codes = [f"D{i:02d}" for i in range(20)]
    registry = Registry(codes)
    records = DepartmentRecords(registry, ttl=60)
    found: dict[str, Any] = {}
    threads = [threading.Thread(target=lambda c=c: found.update({c: records.get(c)})) for c in codes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert registry.calls == ["list_departments"]
    assert {c: r["endpoint"] for c, r in found.items()} == {c: registry.records[c]["endpoint"] for c in codes}
    assert records.get("GHOST") is None  # a department the registry does not know


def test_a_change_applies_after_the_ttl_or_at_once_after_a_failure() -> None:
    registry = Registry(["AJ"])
    records = DepartmentRecords(registry, ttl=0.2)
    assert records.get("AJ")["endpoint"] == "127.0.0.1:5000"  # type: ignore[index]
    registry.records["AJ"]["endpoint"] = "127.0.0.1:6000"
    assert records.get("AJ")["endpoint"] == "127.0.0.1:5000"  # type: ignore[index]  # kept meanwhile
    time.sleep(0.25)
    assert records.get("AJ")["endpoint"] == "127.0.0.1:6000"  # type: ignore[index]
    registry.records["AJ"]["endpoint"] = "127.0.0.1:7000"
    records.forget()  # a push failed: the next one reads the registry again
    assert records.get("AJ")["endpoint"] == "127.0.0.1:7000"  # type: ignore[index]
    assert registry.calls == ["list_departments"] * 3


def test_pushers_of_one_adapter_share_the_records_and_a_pinned_key(tmp_path: Any) -> None:
    from tests.conftest import make_settings

    registry = Registry(["AJ", "ZJ"])
    records = DepartmentRecords(registry, ttl=60)
    settings, stop = make_settings(tmp_path, "sqlite"), threading.Event()
    aj, zj = (
        DepartmentPusher(settings, code, registry, stop, None, records=records)  # type: ignore[arg-type]
        for code in ("AJ", "ZJ")
    )
    assert aj._department()["endpoint"] == "127.0.0.1:5000"  # type: ignore[index]
    assert zj._department()["endpoint"] == "127.0.0.1:5001"  # type: ignore[index]
    assert aj._pin("04ab") == "04ab"
    assert aj._department()["receipt_public_key"] == "04ab"  # type: ignore[index]  # kept, not asked again
    assert registry.calls == ["list_departments", "pin_receipt_key"]


def test_a_pushed_job_s_answer_goes_to_the_ledger(tmp_path: Any) -> None:
    from types import SimpleNamespace

    from gateway.adapter import jobs
    from gateway.adapter.ledger import Pending
    from tests.conftest import make_settings

    class Ledger:
        def __init__(self) -> None:
            self.moves: list[dict[str, Any]] = []
            self.of: list[int] = []

        def submit(self, move: dict[str, Any], of: int = 0) -> Pending:
            self.moves.append(move)
            self.of.append(of)
            return Pending(move, of=of)

    registry, ledger = Registry(["AJ"]), Ledger()
    pusher = DepartmentPusher(
        make_settings(tmp_path, "sqlite"),
        "AJ",
        registry,
        threading.Event(),
        ledger,
        records=DepartmentRecords(registry),  # type: ignore[arg-type]
    )
    pusher._push = lambda job: {"outcome": "OUTCOME_ACCEPTED", "reason": ""}  # type: ignore[method-assign]
    registry.records["PULL"] = {"code": "PULL", "endpoint": ""}  # it pulls its filings: no answer pushed
    job = {
        "enterprise_id": "e1",
        "version": 1,
        "departments": ["AJ", "PULL", "GHOST"],  # GHOST, unknown to the registry, is parked
        "correlation_id": "",
    }
    assert pusher.handle(SimpleNamespace(body=jobs.to_bytes(job))) is not None
    assert [(m["department"], m["outcome"]) for m in ledger.moves] == [("AJ", "acknowledged")]
    assert ledger.of == [2]  # the writer waits for the filing's answers from AJ and GHOST
