"""The ERP gateway: a plain, thread-based gRPC server (no eventlet) in front of the services.

python -m gateway.server
"""

from __future__ import annotations

import sys
from concurrent import futures

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from hub.v1 import (
    department_pb2,
    department_pb2_grpc,
    enterprise_pb2,
    enterprise_pb2_grpc,
    filing_pb2,
    filing_pb2_grpc,
    riskpoint_pb2,
    riskpoint_pb2_grpc,
    town_pb2,
    town_pb2_grpc,
)

from gateway import dangers as danger_api
from gateway.auth import Authenticator, registration_token
from gateway.enterprise import EnterpriseServicer
from gateway.feed import FilingFeedServicer
from gateway.filing import FilingServicer
from gateway.inspector_auth import DepartmentAuthenticator
from gateway.riskpoints import RiskPointServicer
from gateway.town import TownServicer
from services.backbone import logging as hub_logging
from services.backbone import metrics
from services.backbone.edge.listen import listen
from services.backbone.edge.malformed import MalformedRequests
from services.backbone.process import begin, wait_for_signal
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


class Gateway:
    """The gRPC server with every hub API, health checking and reflection."""

    def __init__(self, settings: Settings, address: str = "127.0.0.1:50051", workers: int = 16) -> None:
        self.settings = settings
        self.services = Services(settings)
        self.auth = Authenticator(self.services, registration_token(settings))
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
            interceptors=[MalformedRequests()],
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ],
        )
        enterprise_pb2_grpc.add_EnterpriseServiceServicer_to_server(
            EnterpriseServicer(self.services, self.auth), self.server
        )
        filing = FilingServicer(self.services, self.auth)
        filing_pb2_grpc.add_FilingServiceServicer_to_server(filing, self.server)
        riskpoint_pb2_grpc.add_RiskPointServiceServicer_to_server(
            RiskPointServicer(self.services, self.auth), self.server
        )
        self.danger_services = danger_api.register(self.server, self.services, self.auth)
        town_pb2_grpc.add_TownServiceServicer_to_server(
            TownServicer(self.services, DepartmentAuthenticator(self.services, "town")), self.server
        )
        department_pb2_grpc.add_FilingFeedServiceServicer_to_server(
            FilingFeedServicer(self.services, DepartmentAuthenticator(self.services, "feed")), self.server
        )
        self.health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [
            enterprise_pb2.DESCRIPTOR.services_by_name["EnterpriseService"].full_name,
            filing_pb2.DESCRIPTOR.services_by_name["FilingService"].full_name,
            riskpoint_pb2.DESCRIPTOR.services_by_name["RiskPointService"].full_name,
            town_pb2.DESCRIPTOR.services_by_name["TownService"].full_name,
            department_pb2.DESCRIPTOR.services_by_name["FilingFeedService"].full_name,
            *self.danger_services,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]
        reflection.enable_server_reflection(names, self.server)
        self.port, self.tls = listen(self.server, address, settings)
        self.address = f"{address.rsplit(':', 1)[0]}:{self.port}"

    def start(self) -> Gateway:
        self.server.start()
        for name in (
            "",
            "hub.v1.EnterpriseService",
            "hub.v1.FilingService",
            "hub.v1.RiskPointService",
            "hub.v1.TownService",
            "hub.v1.FilingFeedService",
            *self.danger_services,
        ):
            self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gateway_listening", address=self.address, tls=self.tls)
        return self

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        self.services.close()


def main() -> int:
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure("gateway", settings.log_format, settings.log_level)
    metrics.serve(settings)
    gateway = Gateway(settings, settings.gateway_address).start()
    print(f"gRPC gateway listening on {gateway.address}", flush=True)
    wait_for_signal()
    gateway.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
