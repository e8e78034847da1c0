"""The department adapter process: filing events, and the audit logs' signed heads, → each
department's own platform, over gRPC.

    python -m gateway.adapter.main

Plain threads (no eventlet): one fan-out consumer, one pusher per department.
"""

from __future__ import annotations

import sys
import threading

import structlog

from gateway.adapter.directory import DepartmentRecords
from gateway.adapter.fanout import Fanout
from gateway.adapter.heads import Departments, HeadFanout
from gateway.adapter.ledger import LedgerWriter
from gateway.adapter.pusher import DepartmentPusher
from services.backbone import logging as hub_logging
from services.backbone import metrics
from services.backbone.process import begin, wait_for_signal
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings

log = structlog.get_logger(__name__)


class Adapter:
    def __init__(self, settings: Settings, max_attempts: int = 8, deadline: float = 5.0) -> None:
        self.settings, self.max_attempts, self.deadline = settings, max_attempts, deadline
        self.stop = threading.Event()
        self.services = Services(settings)
        self.ledger = LedgerWriter(self.services, self.stop)
        self.records = DepartmentRecords(self.services)  # every pusher's department, in one registry call
        self.pushers: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def ensure_pusher(self, department: str) -> None:
        with self._lock:
            if department in self.pushers:
                return
            pusher = DepartmentPusher(
                self.settings,
                department,
                self.services,
                self.stop,
                self.ledger,
                self.max_attempts,
                self.deadline,
                self.records,
            )
            thread = threading.Thread(target=pusher.run, name=f"push-{department}", daemon=True)
            self.pushers[department] = thread
            thread.start()

    def start(self) -> Adapter:
        self.ledger.start()
        threading.Thread(target=self._start_known_pushers, name="departments", daemon=True).start()
        threading.Thread(target=Fanout(self.settings, self.stop, self.ensure_pusher).run, daemon=True).start()
        heads = HeadFanout(self.settings, self.stop, self.ensure_pusher, Departments(self.services))
        threading.Thread(target=heads.run, name="tree-heads", daemon=True).start()
        log.info("adapter_started")
        return self

    def _start_known_pushers(self, attempts: int = 30, pause: float = 2.0) -> None:
        """A pusher for every department the registry knows, ready before their first filing; the
        registry may still be starting, so it is asked again for a minute. A department added
        later gets its pusher with its first filing."""
        for _ in range(attempts):
            try:
                departments = self.services.call("registry", "list_departments")
            except Exception as error:  # noqa: BLE001 - the registry may still be starting
                log.info("departments_not_listed_yet", error=repr(error))
                if self.stop.wait(pause):
                    return
                continue
            for department in departments:
                self.ensure_pusher(department["code"])
            log.info("department_pushers_started", departments=len(departments))
            return

    def close(self) -> None:
        self.stop.set()
        for thread in list(self.pushers.values()):
            thread.join(timeout=10)
        self.services.close()


def main() -> int:
    settings = Settings.from_env()
    begin(settings)
    hub_logging.configure("department-adapter", settings.log_format, settings.log_level)
    metrics.serve(settings)
    adapter = Adapter(
        settings,
        max_attempts=settings.adapter_max_attempts,
        deadline=settings.adapter_deadline,
    ).start()
    wait_for_signal()
    adapter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
