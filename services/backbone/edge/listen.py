"""Binding a hub gRPC server (gateway, audit endpoint) to its address, with TLS when it is configured."""

from __future__ import annotations

import os
from pathlib import Path

import grpc


def credentials_from_env() -> grpc.ServerCredentials | None:
    """TLS when HUB_TLS_CERT and HUB_TLS_KEY name PEM files."""
    cert, key = os.environ.get("HUB_TLS_CERT"), os.environ.get("HUB_TLS_KEY")
    if not (cert and key):
        return None
    return grpc.ssl_server_credentials([(Path(key).read_bytes(), Path(cert).read_bytes())])


def listen(server: grpc.Server, address: str) -> tuple[int, bool]:
    """Binds a hub gRPC server (gateway, audit) to address, with TLS when it is configured:
    (the port bound, whether it is TLS)."""
    creds = credentials_from_env()
    if creds is None:
        return server.add_insecure_port(address), False
    return server.add_secure_port(address, creds), True
