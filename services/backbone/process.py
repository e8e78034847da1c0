"""What every hub process does around its work: keep what it writes to itself, give back what it freed,
stop cleanly on a signal."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import signal
import stat
import threading
from pathlib import Path
from types import FrameType

from services.backbone.settings import Settings


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


def private_files(runtime_dir: Path) -> None:
    """Everything the process writes from now on is its owner's alone (umask 077: files 0600,
    directories 0700), and so is what the runtime folder already holds (stores, tokens, a platform's
    inbox: names and mobiles among them)."""
    os.umask(0o077)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    for folder, dirs, files in os.walk(runtime_dir):
        for name, mode in [(folder, 0o700)] + [(os.path.join(folder, f), 0o600) for f in files]:
            try:
                info = os.lstat(name)
                if info.st_uid == os.getuid() and not stat.S_ISLNK(info.st_mode) and info.st_mode & 0o077:
                    os.chmod(name, mode | (info.st_mode & 0o100 if name != folder else 0))
            except OSError:
                continue  # gone meanwhile (a store's journal), or not ours to change
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]


# glibc's mallopt parameter, and the size from which a block is mapped for itself (glibc's initial one)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024


def return_large_frees() -> bool:
    """Blocks of 128 KiB and more are mapped for themselves, so freeing one gives it back to the system.

    glibc raises that threshold to the size of the largest mapped block freed so far (up to 32 MiB):
    after one snapshot of a province-sized view was written (its JSON, encrypted: megabytes), every
    buffer up to that size came from the heap, and the heap, fragmented by the small objects placed
    after them, was never given back: the notifications stream process held ~1 KB per enterprise it
    had ever seen where its views hold ~280 B. Set explicitly, the threshold stays where it is.
    False where the C library has no mallopt (not glibc); nothing changes there."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def collect_less_often(threshold: tuple[int, int, int]) -> None:
    """Python's cyclic garbage collector runs after `threshold[0]` more container objects were made than
    freed (Python's own: 700), the older generations after `threshold[1]` and `threshold[2]` collections
    of the younger (Python's own: 10 and 10; the hub's: 50,000, 20, 20, Settings.gc_threshold).

    The hub's objects are freed by their reference counts as soon as a page or a call is done; the
    collector finds almost nothing, yet at 700 it ran every few hundred events and took 7-15% of every
    process's CPU in the bulk import (counted with gc.callbacks). At 50,000 the import took 280-300 µs
    of CPU per risk point where it took 315-320 (bench.riskpoints_import, the same hour, alternated)."""
    gc.set_threshold(*threshold)


def begin(settings: Settings) -> None:
    """What every hub process does before its work: its files private, large frees given back, the
    collector run less often."""
    private_files(settings.runtime_dir)
    return_large_frees()
    collect_less_often(settings.gc_threshold)
