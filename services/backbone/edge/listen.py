"""Binding a hub gRPC server (gateway, audit endpoint) to its address, with TLS when it is configured."""

from __future__ import annotations

from pathlib import Path

import grpc

from services.backbone.settings import Settings


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """TLS when the settings name a certificate and its key (HUB_TLS_CERT, HUB_TLS_KEY: PEM files)."""
    if not (settings.tls_cert and settings.tls_key):
        return None
    return grpc.ssl_server_credentials(
        [(Path(settings.tls_key).read_bytes(), Path(settings.tls_cert).read_bytes())]
    )


def listen(server: grpc.Server, address: str, settings: Settings) -> tuple[int, bool]:
    """Binds a hub gRPC server to address, with TLS when it is configured: (the port bound, whether
    it is TLS)."""
    creds = server_credentials(settings)
    if creds is None:
        return server.add_insecure_port(address), False
    return server.add_secure_port(address, creds), True
