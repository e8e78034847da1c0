"""A nameko service for tests/integration/test_store_outage.py: one RPC reads through a store whose
database is away (nothing listens on its port), one meets a fault of the hub's own. Run as the
Procfile runs a service (services.backbone.nameko_run), on the hub's RPC entrypoint."""

from __future__ import annotations

import os
import socket

import psycopg
from eventsourcing import persistence
from eventsourcing.postgres import PostgresDatastore
from nameko.rpc import RpcProxy

from services.backbone.nameko_store import EventStore
from services.backbone.rpc import rpc
from services.registry.application import RegistryApplication


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StoreOutageService:
    name = os.environ.get("STORE_OUTAGE_SERVICE_NAME", "store_outage_test")
    app = EventStore(RegistryApplication)  # sets up logging and binds the caller's correlation id
    nobody = RpcProxy("nobody_home")  # a service no queue takes calls for (its broker restarting)

    @rpc
    def read_while_the_database_is_away(self) -> None:
        datastore = PostgresDatastore(
            dbname="hub", host="127.0.0.1", port=str(closed_port()), user="root", password="",
            connect_timeout=0.3,
        )  # fmt: skip
        try:
            with datastore.get_connection() as conn:
                conn.execute("SELECT 1")
        finally:
            datastore.close()

    @rpc
    def call_a_service_nothing_takes_calls_for(self) -> None:
        self.nobody.ping()

    @rpc
    def read_a_missing_table(self) -> None:
        try:
            raise psycopg.errors.UndefinedTable('relation "nowhere" does not exist')
        except psycopg.Error as error:
            raise persistence.ProgrammingError(str(error)) from error
