"""The console's web server (uvicorn), a plain process beside the gateway.

    python -m console.main          # http://127.0.0.1:8800 (HUB_CONSOLE_ADDRESS)

It opens the console's read model (kept by `python -m console.stream`), calls the services through
nameko's standalone RPC proxies (one per server thread) and the audit endpoint over gRPC.
"""

from __future__ import annotations

import sys

import structlog
import uvicorn

from console.audit_client import AuditClient
from console.readmodel.store import open_console_store
from console.web.app import Console, create_app
from console.web.sessions import Sessions
from services.backbone import logging as hub_logging
from services.backbone import metrics
from services.backbone.process import begin
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)


def build(settings: Settings) -> Console:
    return Console(
        store=open_console_store(settings),
        services=Services(settings, timeout=20.0),
        audit=AuditClient(settings.audit_address),
        sessions=Sessions(),
        secure_cookies=settings.console_secure_cookies,
    )


def main() -> int:
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure("console", settings.log_format)
    metrics.serve(settings)
    host, _, port = settings.console_address.rpartition(":")
    console = build(settings)
    app = create_app(console)
    log.info("console_listening", address=f"http://{host}:{port}")
    try:
        uvicorn.run(app, host=host, port=int(port), log_level="warning", access_log=False)
    finally:
        console.services.close()
        console.audit.close()
        console.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
