"""The shared servers' CPU that one hub causes, on a machine where other hubs use them too.

PostgreSQL serves each connection from a backend process of its own, whose title names the client's
port: a backend is this hub's when that port is a socket of one of the hub's processes. Sampled every
half second, so that a backend opened during the run counts from its start, and one closed during it
counts up to its last sample. RabbitMQ is one process for every hub: its CPU is counted net of what it
used, per second, while this hub was quiet just before (the other hubs' share, an estimate).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

PG_PORT = 5432
_CLIENT_PORT = re.compile(rb"\(([0-9]+)\)")


def _cpu(pid: int) -> float | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pgrp(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def local_ports(pids: set[int], remote_port: int | None = None) -> set[int]:
    """Local ports of the TCP connections these processes hold (to `remote_port` only, when given)."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in os.scandir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(fd.path)
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[9] in inodes and (remote_port is None or int(f[2].rsplit(":", 1)[1], 16) == remote_port):
                ports.add(int(f[1].rsplit(":", 1)[1], 16))
    return ports


def _hub_ports(groups: set[int]) -> set[int]:
    """Local ports of the TCP connections to PostgreSQL that the processes of these groups hold."""
    members = {int(p.name) for p in Path("/proc").glob("[0-9]*") if _pgrp(int(p.name)) in groups}
    return local_ports(members, PG_PORT)


def _backends() -> dict[int, int]:
    """PostgreSQL backends serving a TCP client: client port → backend pid."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            title = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres: ") and (match := _CLIENT_PORT.search(title)):
            found[int(match.group(1))] = int(proc.name)
    return found


class PostgresShare:
    """CPU seconds of the PostgreSQL backends serving the processes of `groups`, from start() to stop()."""

    def __init__(self, groups: dict[str, Any], interval: float = 0.5) -> None:
        self.groups = {proc.pid for proc in groups.values()}
        self.interval = interval
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-share", daemon=True)

    def start(self) -> PostgresShare:
        self._sample(first=True)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._sample()
        return sum(self._last[pid] - self._first.get(pid, 0.0) for pid in self._last)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self, first: bool = False) -> None:
        ports = _hub_ports(self.groups)
        for port, pid in _backends().items():
            if port in ports and (used := _cpu(pid)) is not None:
                if first:
                    self._first[pid] = used
                self._last[pid] = used  # a backend first seen later is new: it counts from 0
