"""The hub's shape holds: the import contracts (layers, edges that never import a service, no cycles)
and modules small enough to read (outside tests and benches)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("services", "gateway", "departments", "hubctl", "hubsign", "console")
# Held to MAX_LINES: every module but the tests' and the benches'.
SIZED = (*PACKAGES, "scripts")
MAX_LINES = 400


def test_the_import_contracts_are_kept() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "BROKEN" not in done.stdout


def test_no_module_is_longer_than_a_reader_can_hold() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in SIZED
        for path in (ROOT / package).rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_each_service_has_one_application_and_its_store_keeps_its_name() -> None:
    """The stream process finds the class its service's nameko process uses, and eventsourcing names
    the store's tables after that class: renaming or recomposing it must not move the store."""
    from services.backbone.settings import SERVICES
    from services.backbone.stream import application_class

    expected = {
        "registry": "RegistryApplication",
        "riskpoints": "RiskPointsApplication",
        "dangers": "DangersApplication",
        "filing": "FilingApplication",
        "notifications": "NotificationsApplication",
        "audit": "AuditApplication",
    }
    for service in SERVICES:
        app = application_class(service)
        assert app.__name__ == expected[service]
        assert app.__module__ == f"services.{service}.application"
        assert app.name == expected[service]  # the table prefix: <name lower-cased>_events
