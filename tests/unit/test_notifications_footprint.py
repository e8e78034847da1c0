"""What the notifications processes hold: not the report's renderers from the start, not an id per
enterprise of the province."""

from __future__ import annotations

import subprocess
import sys
import uuid

from services.backbone import ids
from services.notifications.ledgers import ledger_id
from services.notifications.views import VIEWS, card_id

PROBE = """
import sys
import services.notifications.handlers, services.notifications.service, services.notifications.workers
print(" ".join(m for m in ("matplotlib", "numpy", "reportlab", "PIL") if m in sys.modules))
"""


def test_the_stream_process_and_the_service_import_no_renderer_until_a_report_is_made() -> None:
    """matplotlib, numpy and reportlab took ~45 MB of each process from the start (charts.py)."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_the_ids_derived_per_enterprise_are_kept_for_the_last_pages_not_for_a_province() -> None:
    enterprises = [str(uuid.UUID(int=n)) for n in range(3 * ids.MAXSIZE)]
    for eid in enterprises:
        assert card_id(eid) == uuid.uuid5(VIEWS, f"enterprise/{eid}")
        assert ledger_id("risks", eid) == uuid.uuid5(VIEWS, f"risks/{eid}")
    assert card_id.cache_info().currsize <= ids.MAXSIZE  # type: ignore[attr-defined]
    assert ledger_id.cache_info().currsize <= ids.MAXSIZE  # type: ignore[attr-defined]
    assert ids.MAXSIZE <= 10_000  # ~300 B an entry: a few MB a derivation at most
