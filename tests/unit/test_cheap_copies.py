"""The copies the repositories hand out of the aggregates they keep (aggregate.CheapCopies): each as
independent of the kept one as copy.deepcopy's, without walking their large flat attributes."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from services.dangers.holdings import RiskPointHoldings
from services.dangers.records import DangerList
from services.registry.index import EnterpriseIndex
from services.riskpoints.bookkeeping import RiskPointIndex

ENTERPRISE = str(uuid.uuid4())


def index_of_points(n: int) -> RiskPointIndex:
    index = RiskPointIndex(enterprise_id=ENTERPRISE)
    index.record({f"RP-{i}": f"fp{i}" for i in range(n)})
    return index


def holdings_of(n: int) -> RiskPointHoldings:
    holdings = RiskPointHoldings(enterprise_id=ENTERPRISE)
    for i in range(n):
        holdings.stage(f"point-{i}", retired=i % 7 == 0)
    return holdings


def danger_list_of(n: int) -> DangerList:
    dangers = DangerList(enterprise_id=ENTERPRISE)
    for i in range(n):
        dangers.add(f"danger-{i}")
    return dangers


def shard_of(n: int) -> EnterpriseIndex:
    shard = EnterpriseIndex(kind="town", value="测试镇", shard=None)
    shard.change({f"e{i}" for i in range(n)}, set())
    return shard


def state(aggregate: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


KINDS = [index_of_points, holdings_of, danger_list_of, shard_of]


@pytest.mark.parametrize("make", KINDS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("size", [0, 1, 500])
def test_a_copy_holds_what_deepcopy_holds(make: Any, size: int) -> None:
    kept = make(size)
    cheap, deep = copy.deepcopy(kept), copy.deepcopy(dict(vars(kept)))
    assert type(cheap) is type(kept)
    assert state(cheap) == {k: v for k, v in deep.items() if k != "_pending_events"}
    assert cheap.id == kept.id and cheap.version == kept.version
    assert [type(e) for e in cheap._pending_events] == [type(e) for e in kept._pending_events]
    assert cheap._pending_events is not kept._pending_events


@pytest.mark.parametrize("make", KINDS, ids=lambda m: m.__name__)
def test_changing_a_copy_leaves_the_kept_aggregate_as_it_was(make: Any) -> None:
    kept = make(50)
    kept.collect_events()  # saved: as the repository keeps it
    before = copy.deepcopy(dict(vars(kept)))
    twin = copy.deepcopy(kept)
    if isinstance(twin, RiskPointIndex):
        twin.record({"RP-1": "changed", "RP-new": "fp"})
    elif isinstance(twin, RiskPointHoldings):
        twin.stage("point-1", retired=True)
        twin.stage("point-new", retired=False)
    elif isinstance(twin, DangerList):
        twin.add("danger-new")
    else:
        twin.change({"e-new"}, {"e1"})
    twin.collect_events()
    assert vars(kept) == before
    assert state(twin) != state(kept)


class Probe(str):
    """A text that counts how often deepcopy is asked to copy it."""

    walked = 0

    def __deepcopy__(self, memo: dict[int, Any]) -> Probe:
        Probe.walked += 1
        return self


@pytest.mark.parametrize(
    ("make", "attribute"),
    [(index_of_points, "entries"), (holdings_of, "points"), (shard_of, "members")],
    ids=["risk point index", "holdings", "enterprise index"],
)
def test_the_large_attributes_are_copied_as_containers_not_value_by_value(make: Any, attribute: str) -> None:
    kept = make(0)
    large = getattr(kept, attribute)
    large.update({f"k{i}": Probe("v") for i in range(1000)})
    Probe.walked = 0
    twin = copy.deepcopy(kept)
    assert Probe.walked == 0  # deepcopy's walk would have been asked for each of the 1000
    assert getattr(twin, attribute) == large and getattr(twin, attribute) is not large


def test_an_attribute_never_changed_in_place_is_shared() -> None:
    dangers = danger_list_of(10)
    assert copy.deepcopy(dangers).danger_ids is dangers.danger_ids


def test_attributes_not_named_are_copied_deeply() -> None:
    shard = shard_of(3)
    shard.notes = {"nested": ["a"]}  # a state these aggregates do not have, copied as deepcopy would
    twin = copy.deepcopy(shard)
    twin.notes["nested"].append("b")
    assert shard.notes == {"nested": ["a"]}
