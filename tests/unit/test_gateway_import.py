"""The gateway's import stream: the page that ends the stream finishes the import in the same call;
a stream that ends after its last page was taken is finished by a call of its own."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hub.v1 import riskpoint_pb2 as pb

from gateway import riskpoints
from gateway.riskpoints import RiskPointServicer
from tests.riskpoint_factories import item, item_message


class Riskpoints:
    """The riskpoints service as the gateway calls it: remembers each call, counts each page."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.received = 0

    def call(self, service: str, method: str, *args: Any) -> Any:
        assert service == "riskpoints"
        self.calls.append((method, args))
        if method == "upsert_batch":
            _caller, text, _import_id, *finish = args
            assert isinstance(text, str)  # a page travels as its JSON text
            items = orjson.loads(text)
            assert [i["external_id"] for i in items] == [item(n)["external_id"] for n in range(len(items))]
            self.received += len(items)
            results = [
                {"index": i, "status": "created", "risk_point_id": f"rp-{i}"} for i in range(len(items))
            ]
            status = "finished" if finish and finish[0] else "running"
            return {
                "results": results,
                "progress": {"received": self.received, "rejected": 0, "status": status},
            }
        assert method == "finish_import"
        return {"received": self.received, "rejected": 0, "status": "finished"}


class Auth:
    def enterprise(self, context: Any) -> str:
        return "e-1"


class Context:
    def invocation_metadata(self) -> Any:
        return ()

    def send_initial_metadata(self, _metadata: Any) -> None:
        pass

    def code(self) -> None:
        return None

    def is_active(self) -> bool:
        return True  # the client is still there when the stream ends


def requests(count: int, pause: float = 0.0) -> Iterator[pb.ImportRiskPointsRequest]:
    yield pb.ImportRiskPointsRequest(import_id="nightly", items=[item_message(item(i)) for i in range(count)])
    time.sleep(pause)  # the client keeps its stream open a while after its last item


def test_a_stream_s_last_page_finishes_the_import_in_one_call() -> None:
    service = Riskpoints()
    servicer = RiskPointServicer(service, Auth())  # type: ignore[arg-type]
    answers = list(servicer.ImportRiskPoints(requests(20), Context()))
    assert [method for method, _ in service.calls] == ["upsert_batch"]
    assert service.calls[0][1][2:] == ("nightly", True)
    assert [len(a.results) for a in answers] == [20, 0] and answers[-1].progress.received == 20


def test_a_stream_that_ends_after_its_last_page_is_finished_by_its_own_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(riskpoints, "LINGER", 0.01)
    service = Riskpoints()
    servicer = RiskPointServicer(service, Auth())  # type: ignore[arg-type]
    answers = list(servicer.ImportRiskPoints(requests(20, pause=0.3), Context()))
    assert [method for method, _ in service.calls] == ["upsert_batch", "finish_import"]
    assert service.calls[0][1][2:] == ("nightly", False)
    assert [len(a.results) for a in answers] == [20, 0] and answers[-1].progress.received == 20
