"""What every plain (thread-based) hub process does around its work: stop cleanly on a signal."""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C under `make run`)."""
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    return stop


def wait_for_signal() -> None:
    """Blocks the main thread until the process is asked to stop."""
    stop_on_signals().wait()
