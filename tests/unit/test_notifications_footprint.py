"""What the notifications processes hold from the start: not the report's renderers."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import services.notifications.handlers, services.notifications.service, services.notifications.workers
print(" ".join(m for m in ("matplotlib", "numpy", "reportlab", "PIL") if m in sys.modules))
"""


def test_the_stream_process_and_the_service_import_no_renderer_until_a_report_is_made() -> None:
    """matplotlib, numpy and reportlab took ~45 MB of each process from the start (charts.py)."""
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []
