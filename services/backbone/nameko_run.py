"""`nameko run`, without the libraries' import-time banners (services/backbone/quiet.py).

    python -m services.backbone.nameko_run --config infra/nameko.yaml services.registry.service

takes the arguments of `nameko run` and runs it: nameko's command line imports eventlet (and
pkg_resources) before it imports any service, so the banners are silenced here, first.
"""

from __future__ import annotations

import sys

from services.backbone import quiet  # noqa: F401 - before nameko imports eventlet


def main(argv: list[str] | None = None) -> int:
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", *(sys.argv[1:] if argv is None else argv)]
    nameko_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
