"""The audit worker: keeps every store's hash chain current and signs checkpoints, in a plain thread.

    python -m services.audit.worker

Environment: HUB_AUDIT_INTERVAL (seconds between passes, 2), HUB_AUDIT_SEGMENT_SIZE (5000),
HUB_AUDIT_CHECKPOINT_EVERY (events, 10000), HUB_AUDIT_CHECKPOINT_SECONDS (60).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

import structlog
from prometheus_client import Gauge

from services.audit.application import AuditApplication
from services.audit.chainer import Chainer, Extended, Policy
from services.audit.keys import audit_keypair
from services.audit.stores import SMALL_POOL, audited_services, open_readonly
from services.backbone import logging as hub_logging
from services.backbone import metrics
from services.backbone.process import private_files
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store

log = structlog.get_logger(__name__)
CHAIN_POSITION = Gauge("hub_audit_chain_position", "Last notification id chained", ["store"])


def policy_from_env() -> Policy:
    env = os.environ
    return Policy(
        segment_size=int(env.get("HUB_AUDIT_SEGMENT_SIZE", "5000")),
        checkpoint_every=int(env.get("HUB_AUDIT_CHECKPOINT_EVERY", "10000")),
        checkpoint_seconds=float(env.get("HUB_AUDIT_CHECKPOINT_SECONDS", "60")),
    )


class AuditWorker:
    """Extends the chains of every audited store that exists, pass after pass."""

    def __init__(self, settings: Settings, policy: Policy | None = None) -> None:
        self.settings = settings
        self.audit = open_store(AuditApplication, settings, **SMALL_POOL)
        self.chainer = Chainer(self.audit, audit_keypair(settings.runtime_dir), policy or policy_from_env())
        self.sources: dict[str, HubApplication] = {}

    def run_once(self, checkpoint_now: bool = False, only: list[str] | None = None) -> list[Extended]:
        """One pass over the stores; `checkpoint_now` signs whatever is not signed yet."""
        results = []
        for service in only or audited_services():
            source = self.sources.get(service) or open_readonly(service, self.settings)
            if source is None:
                continue  # that service has not created its store yet
            self.sources[service] = source
            result = self.chainer.extend(service, source, checkpoint_now)
            CHAIN_POSITION.labels(service).set(self.chainer.head(service).position)
            if result.sealed or result.checkpoints:
                signed = len(result.checkpoints)
                log.info("audit_chain_extended", store=service, events=result.sealed, signed=signed)
            results.append(result)
        return results

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        backoff = interval
        while not stop.is_set():
            try:
                self.run_once()
                backoff = interval
            except Exception:  # noqa: BLE001 - a database hiccup: retry, never die silently
                log.exception("audit_pass_failed")
                backoff = min(backoff * 2, 60.0)
            stop.wait(backoff)

    def close(self) -> None:
        for source in self.sources.values():
            source.close()
        self.audit.close()


def _open(settings: Settings, stop: threading.Event) -> AuditWorker | None:
    """The worker, once its store opens (another process may be creating the same tables)."""
    delay = 0.5
    while not stop.is_set():
        try:
            return AuditWorker(settings)
        except Exception:  # noqa: BLE001 - database not ready, or a table-creation race
            log.exception("audit_store_not_ready")
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
    return None


def main() -> int:
    settings = Settings.from_env()
    private_files(settings.runtime_dir)
    hub_logging.configure("audit-worker", settings.log_format, settings.log_level)
    metrics.serve(settings)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker = _open(settings, stop)
    if worker is None:
        return 0
    interval = float(os.environ.get("HUB_AUDIT_INTERVAL", "2"))
    thread = threading.Thread(target=worker.run, args=(stop, interval), name="audit-chainer", daemon=True)
    thread.start()
    log.info("audit_worker_started", stores=audited_services(), interval=interval)
    while not stop.is_set() and thread.is_alive():
        stop.wait(1.0)
    stop.set()
    thread.join(timeout=30)
    worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
