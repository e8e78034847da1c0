"""`hubctl deliveries list` reads the filing ledger's tally: per department, how many filings are
pending, delivered, parked, acknowledged or rejected, and which are still open."""

from __future__ import annotations

import pytest

from services.filing.application import FilingApplication
from tests.integration.test_filing import Pipeline, enterprise_with_keys, pipeline, sign_all  # noqa: F401

pytestmark = pytest.mark.integration


def counts(filing: FilingApplication, department: str) -> dict[str, int]:
    [row] = [r for r in filing.deliveries()["departments"] if r["department"] == department]
    return {k: v for k, v in row.items() if k != "department" and v}


def test_each_department_has_its_filings_counted_by_state(pipeline: Pipeline) -> None:  # noqa: F811
    filing = pipeline.filing
    assert filing.deliveries()["departments"] == []
    filed = []
    for n in (1, 2):
        enterprise, keys = enterprise_with_keys(pipeline, n)
        eid = str(enterprise.id)
        compiled = filing.compile(eid)
        filing.submit(eid, 1, sign_all(compiled["canonical"], keys))
        filed.append(eid)
    first, second = filed
    assert counts(filing, "XF-TEZ") == {"pending": 2, "total": 2}

    filing.record_delivery(first, 1, "AJJ-ZSZ", "delivered")
    filing.record_delivery(first, 1, "AJJ-ZSZ", "acknowledged")
    filing.record_delivery(first, 1, "XF-TEZ", "parked", "platform down")
    filing.record_delivery(second, 1, "XF-TEZ", "rejected", "缺少消防设施风险点")
    filing.record_delivery(second, 1, "TOWN-ZSZ", "delivered")
    assert counts(filing, "AJJ-ZSZ") == {"acknowledged": 1, "pending": 1, "total": 2}
    assert counts(filing, "XF-TEZ") == {"parked": 1, "rejected": 1, "total": 2}
    assert counts(filing, "TOWN-ZSZ") == {"delivered": 1, "pending": 1, "total": 2}

    # brought up to date from where it stopped: a parked one replayed and answered
    filing.record_delivery(first, 1, "XF-TEZ", "parked", "still down")
    filing.record_delivery(first, 1, "XF-TEZ", "acknowledged")
    filing.record_delivery(first, 1, "XF-TEZ", "rejected")  # too late: the answer stands, nothing moves
    assert counts(filing, "XF-TEZ") == {"acknowledged": 1, "rejected": 1, "total": 2}

    only = filing.deliveries("TOWN-ZSZ")
    assert [r["department"] for r in only["departments"]] == ["TOWN-ZSZ"]
    assert sorted((o["enterprise_id"], o["state"]) for o in only["open"]) == sorted(
        [(first, "pending"), (second, "delivered")]
    )
    assert filing.deliveries("AJJ-ZSZ")["open"] == [
        {"enterprise_id": second, "version": 1, "department": "AJJ-ZSZ", "state": "pending"}
    ]

    # a process that starts afresh counts the same from the log
    fresh = type(filing)(env=filing.env)
    try:
        assert fresh.deliveries()["departments"] == filing.deliveries()["departments"]
    finally:
        fresh.close()
