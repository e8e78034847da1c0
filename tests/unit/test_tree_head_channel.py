"""The AsyncAPI document's channel of tree heads names what the hub declares for a department."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.backbone.settings import Settings
from services.kernel import filing_routes

DOCUMENT = Path(__file__).resolve().parents[2] / "contracts" / "asyncapi.yaml"


def test_the_tree_heads_channel_names_the_queue_and_exchange_the_hub_declares() -> None:
    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    channel = document["channels"]["departmentTreeHeads"]
    deployed = Settings(namespace="")
    address = channel["address"].replace("{department}", "AJJ-TEZ")
    assert address == filing_routes.heads_queue(deployed, "AJJ-TEZ")
    assert channel["x-bound-to"]["exchange"] == filing_routes.heads_exchange(deployed)
    messages = [m["$ref"] for m in channel["messages"].values()]
    assert messages == ["#/components/messages/audit.TreeHead.Signed.v1"]
    # and the filings channel still carries filings alone
    filings = document["channels"]["departmentFilings"]["messages"]
    assert [m["$ref"] for m in filings.values()] == ["#/components/messages/filing.Filing.Submitted.v1"]


def test_the_kernels_head_fields_are_the_contracts() -> None:
    """The adapter and the console copy a head's fields by the kernel's list: it is hub.v1.TreeHead's."""
    from hub.v1 import department_pb2

    from services.kernel import tree_heads

    assert tuple(f.name for f in department_pb2.TreeHead.DESCRIPTOR.fields) == tree_heads.FIELDS
