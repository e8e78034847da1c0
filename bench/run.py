"""`make bench`: every benchmark of the hub, each beside its raw baseline, as one table.

Results go to bench/results/ as JSON and a chart of the ratios.
"""

from __future__ import annotations

import importlib
import sys
import traceback

from bench.common import Result, save, show, stop_on_signals
from services.backbone import logging as hub_logging

# (module, keyword arguments of its run()); each module's run() returns a list of Results.
BENCHMARKS: list[tuple[str, dict[str, object]]] = [
    ("bench.backbone", {"events": 50_000}),
    ("bench.riskpoints_import", {"points": 20_000}),
    ("bench.departments", {"filings": 200, "departments": 20, "rate": 20.0}),
    # the same at a rate this 2-core machine sustains with twenty platforms on it (~15/s saturates it)
    ("bench.departments", {"filings": 200, "departments": 20, "rate": 10.0}),
    # 1,000,000 events take ~15 minutes to seed on 2 cores: `python -m bench.audit_verify` for that.
    ("bench.audit_verify", {"events": 200_000}),
    # every console page of a town of 5,000 enterprises, beside the raw read of its rows (under 300 ms)
    ("bench.console_pages", {"enterprises": 5_000}),
    # the interactive path: whole-system CPU per sequential call beside a raw call's (issue 28)
    ("bench.single_calls", {"calls": 200, "rounds": 5}),
]


def main() -> int:
    stop_on_signals()
    hub_logging.configure("bench")  # INFO and up: the relays' per-page debug lines would bury the table
    results: list[Result] = []
    failed = []
    for module_name, kwargs in BENCHMARKS:
        print(f"== {module_name}", flush=True)
        try:
            module = importlib.import_module(module_name)
            results.extend(module.run(**kwargs))
        except Exception:  # noqa: BLE001 - report and go on with the others
            traceback.print_exc()
            failed.append(module_name)
    show(results, "Hub benchmarks (ratio = hub / raw baseline, same run)")
    print(f"written: {save(results, 'bench')}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
