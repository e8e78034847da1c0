"""A service that says which hub it belongs to (tests/integration/test_rpc_namespaces.py runs it)."""

from __future__ import annotations

import os

from services.backbone.rpc import rpc


class EchoService:
    name = "echo"

    @rpc
    def who(self) -> str:
        return os.environ.get("HUB_NAMESPACE", "")
