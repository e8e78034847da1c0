"""A nameko service for tests/integration/test_green_wait.py: one RPC holds a PostgreSQL query for a
while, one answers at once. Run as the Procfile runs a service (services.backbone.nameko_run)."""

from __future__ import annotations

import os

import psycopg

from services.backbone.nameko_store import EventStore
from services.backbone.rpc import rpc
from services.registry.application import RegistryApplication


class SlowQueryService:
    name = os.environ.get("SLOW_QUERY_SERVICE_NAME", "slow_query_test")
    app = EventStore(RegistryApplication)  # as every service of the hub has one

    @rpc
    def slow(self, seconds: float) -> str:
        with psycopg.connect(os.environ["SLOW_QUERY_DATABASE_URL"], autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(%s)", (seconds,))
        return "slept"

    @rpc
    def ping(self) -> str:
        return "pong"

    @rpc
    def wait_function(self) -> str:
        from psycopg import waiting

        return f"{waiting.wait.__module__}.{waiting.wait.__qualname__}"
