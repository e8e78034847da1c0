"""The audit worker: grows every store's Merkle tree from its linked events and signs tree heads.

    python -m services.audit.worker

Settings (read by Settings.from_env): HUB_AUDIT_INTERVAL (seconds between passes, 2),
HUB_AUDIT_CHECKPOINT_EVERY (sign a head once this many events are unsigned, 10000),
HUB_AUDIT_CHECKPOINT_SECONDS (or once they are this old, 60), HUB_AUDIT_VERIFY_WORKERS (processes for a
long backlog; 0: one per CPU).
Each head it signs is published (audit.events, TreeHead.Signed): the department adapter delivers it
to every department's platform, and the departments' AMQP subscriptions receive it too.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from types import FrameType

import structlog
from prometheus_client import Gauge

from services.audit.application import AuditApplication
from services.audit.builder import Policy, RecordsError, TreeBuilder
from services.audit.keys import audit_keypair
from services.audit.scan import worker_pool
from services.audit.stores import SMALL_POOL, audited_services, open_readonly
from services.backbone import links, metrics
from services.backbone import logging as hub_logging
from services.backbone.process import begin
from services.backbone.settings import Settings
from services.backbone.store import HubApplication, open_store
from services.kernel.signatures import KeyPair
from services.kernel.tree_heads import TreeHead

log = structlog.get_logger(__name__)
TREE_SIZE = Gauge("hub_audit_tree_size", "Events in the store's audit tree", ["store"])
HALTED = Gauge("hub_audit_halted", "1 while the store's tree cannot grow past an unlinked event", ["store"])


def policy_of(settings: Settings) -> Policy:
    return Policy(
        checkpoint_every=settings.audit_checkpoint_every,
        checkpoint_seconds=settings.audit_checkpoint_seconds,
    )


class AuditWorker:
    """Extends the trees of every audited store that exists, pass after pass."""

    def __init__(self, settings: Settings, policy: Policy | None = None, workers: int = 0) -> None:
        self.settings = settings
        self.audit = open_store(AuditApplication, settings, **SMALL_POOL)
        # the hub's own write-link key (made once by whichever of the hub's processes needs it first)
        key = links.write_key(settings)
        self.builder = TreeBuilder(self.audit, audit_keypair(settings), key, policy or policy_of(settings))
        self.sources: dict[str, HubApplication] = {}
        self.workers = workers or settings.audit_verify_workers or (os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    @property
    def keypair(self) -> KeyPair:
        return self.builder.keypair

    def pool(self) -> ProcessPoolExecutor | None:
        """Worker processes for a long backlog (made on first need, kept)."""
        if self.workers < 2:
            return None
        if self._pool is None:
            self._pool = worker_pool(self.settings, self.workers)
        return self._pool

    def run_once(self, sign_now: bool = False, only: list[str] | None = None) -> list[TreeHead]:
        """One pass over the stores; `sign_now` signs whatever is not signed yet."""
        signed = []
        for service in only or audited_services():
            source = self.sources.get(service) or open_readonly(service, self.settings)
            if source is None:
                continue  # that service has not created its store yet
            self.sources[service] = source
            try:
                backlog = (source.recorder.max_notification_id() or 0) - self.builder.state(service).position
            except RecordsError as error:  # this store's records need an auditor; the others go on
                log.error("audit_records_broken", store=service, error=str(error))
                HALTED.labels(service).set(1)
                continue
            pool = self.pool() if backlog >= self.builder.policy.parallel_from else None
            heads = self.builder.extend(service, source, sign_now, pool)
            state = self.builder.states.get(service)
            if state is not None:
                TREE_SIZE.labels(service).set(state.size)
                HALTED.labels(service).set(1 if state.halted else 0)
            signed += heads
        return signed

    def run(self, stop: threading.Event, interval: float = 2.0) -> None:
        backoff = interval
        while not stop.is_set():
            try:
                self.run_once()
                backoff = interval
            except Exception:  # noqa: BLE001 - a database hiccup, or records to put right: say so, retry
                log.exception("audit_pass_failed")
                backoff = min(backoff * 2, 60.0)
            stop.wait(backoff)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        self.builder.close()
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
    begin(settings)
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
    interval = settings.audit_interval
    thread = threading.Thread(target=worker.run, args=(stop, interval), name="audit-tree", daemon=True)
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
