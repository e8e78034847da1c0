"""The audit endpoint: a plain, thread-based gRPC server (no eventlet), separate from the ERP gateway:
AuditService for auditors (their token), TreeHeadService for anyone who holds a signed tree head.

    python -m services.audit.server        (HUB_AUDIT_ADDRESS, default 127.0.0.1:50061)

A process of its own, so auditors never share a port, a token or a failure with the ERP traffic, and
so it can run with read-only database sessions: every connection it opens is read-only.
"""

from __future__ import annotations

import os
import sys
from concurrent import futures

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from hub.v1 import audit_pb2, audit_pb2_grpc

from services.audit.auth import AuditorAuth
from services.audit.head_service import TreeHeadServicer
from services.audit.keys import auditor_token
from services.audit.reader import AuditReader
from services.audit.servicer import AuditServicer
from services.backbone import logging as hub_logging
from services.backbone import metrics
from services.backbone.edge.listen import listen
from services.backbone.edge.malformed import MalformedRequests  # the same TLS settings as the gateway
from services.backbone.process import begin, wait_for_signal
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)
SERVICE_NAME = audit_pb2.DESCRIPTOR.services_by_name["AuditService"].full_name
HEADS_NAME = audit_pb2.DESCRIPTOR.services_by_name["TreeHeadService"].full_name
READ_ONLY_SESSIONS = "-c default_transaction_read_only=on"


class AuditServer:
    """AuditService with health checking and reflection, behind the auditor token."""

    def __init__(self, settings: Settings, address: str = "127.0.0.1:50061", workers: int = 8) -> None:
        self.reader = AuditReader(settings)
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit-grpc"),
            # bytes that are no request are INVALID_ARGUMENT, before or after the token is checked
            interceptors=[MalformedRequests(), AuditorAuth(auditor_token(settings))],
        )
        verify_workers = settings.audit_verify_workers or 1
        audit_pb2_grpc.add_AuditServiceServicer_to_server(
            AuditServicer(self.reader, verify_workers), self.server
        )
        # open to anyone who holds a head (hashes and sizes only): AuditorAuth guards AuditService alone
        audit_pb2_grpc.add_TreeHeadServiceServicer_to_server(TreeHeadServicer(self.reader), self.server)
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        health_name = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
        names = [SERVICE_NAME, HEADS_NAME, health_name, reflection.SERVICE_NAME]
        reflection.enable_server_reflection(names, self.server)
        self.port, self.tls = listen(self.server, address, settings)
        self.address = f"{address.rsplit(':', 1)[0]}:{self.port}"

    def start(self) -> AuditServer:
        self.server.start()
        for name in ("", SERVICE_NAME):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("audit_server_listening", address=self.address)
        return self

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.reader.close()


def main() -> int:
    # Set before any connection: libpq applies it to every session this process opens. A write for
    # libpq, not configuration the hub reads: the one os.environ use here (tests/unit/test_settings_only.py).
    os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} {READ_ONLY_SESSIONS}".strip()
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure("audit-server", settings.log_format, settings.log_level)
    metrics.serve(settings)
    server = AuditServer(settings, settings.audit_address).start()
    print(f"audit gRPC endpoint listening on {server.address}", flush=True)
    wait_for_signal()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
