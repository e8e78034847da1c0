"""Every hub process runs Python's cyclic collector less often (services/backbone/process.py: begin)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.backbone.settings import Settings
from tests.conftest import ROOT, procfile

PROBE = """
import gc, sys
from pathlib import Path
from services.backbone.process import begin
from services.backbone.settings import Settings

if sys.argv[1] == "hub":
    begin(Settings.from_env({"HUB_RUNTIME_DIR": sys.argv[2]}))
runs = []
gc.callbacks.append(lambda phase, info: phase == "start" and runs.append(info["generation"]))
kept = [[i] for i in range(100_000)]  # a page of a bulk import's worth of small containers, kept
print(gc.get_threshold(), len(runs))
"""


def probe(mode: str, tmp_path: Path) -> tuple[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode, str(tmp_path / "var")],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    threshold, _, runs = done.stdout.strip().rpartition(" ")
    return threshold, int(runs)


def test_a_hub_process_collects_a_hundred_times_less_often_than_python_s_default(tmp_path: Path) -> None:
    threshold, runs = probe("hub", tmp_path)
    default_threshold, default_runs = probe("plain", tmp_path)
    assert threshold == "(50000, 20, 20)" and default_threshold == "(700, 10, 10)"
    assert default_runs >= 100  # every 700 containers
    assert runs <= 2  # every 50,000


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", (50_000, 20, 20)), ("700,10,10", (700, 10, 10)), (" 20000 , 5 , 5 ", (20_000, 5, 5))],
)
def test_the_threshold_is_read_from_the_environment(value: str, expected: tuple[int, int, int]) -> None:
    assert Settings.from_env({"HUB_GC_THRESHOLD": value}).gc_threshold == expected


@pytest.mark.parametrize("value", ["50000", "50000,20", "1,2,3,4", "0,10,10", "-1,10,10", "a,b,c", "5e4,1,1"])
def test_a_threshold_that_is_not_three_counts_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="HUB_GC_THRESHOLD"):
        Settings.from_env({"HUB_GC_THRESHOLD": value})


def test_every_process_of_the_hub_begins_with_it() -> None:
    """Each Procfile process of the hub (the reference platforms are the departments') runs a module
    whose main, or for a nameko service the store dependency every service has, calls begin()."""
    checked = []
    for name, command in procfile().items():
        if name.startswith("platform"):
            continue
        module = re.search(r"-m (\S+)", command)
        assert module, command
        path = ROOT / (module.group(1).replace(".", "/") + ".py")
        if module.group(1) == "services.backbone.nameko_run":
            path = ROOT / "services" / "backbone" / "nameko_store.py"
        assert "begin(settings)" in path.read_text(encoding="utf-8"), (
            f"{name}: {path.name} does not call begin()"
        )
        checked.append(name)
    assert len(checked) >= 17
