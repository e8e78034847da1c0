"""`nameko run`, without the libraries' import-time banners (services/backbone/quiet.py).

    python -m services.backbone.nameko_run --config infra/nameko.yaml services.registry.service

takes the arguments of `nameko run` and runs it: nameko's command line imports eventlet (and
pkg_resources) before it imports any service, so the banners are silenced here, first; and eventlet is
patched in before psycopg is imported, whose waits are then made green (services/backbone/green_wait.py).
"""

from __future__ import annotations

import sys

from services.backbone import quiet  # noqa: F401 - before nameko imports eventlet


def patch_eventlet() -> None:
    """What `nameko run` does first, done before psycopg is imported, and psycopg's wait made green:
    psycopg only recognises gevent, and picked its blocking C wait, which stopped every green thread
    of the service for as long as any one query ran (FIELD_NOTES; services/backbone/green_wait.py)."""
    import eventlet

    eventlet.monkey_patch()
    from services.backbone import green_wait

    green_wait.install()


def main(argv: list[str] | None = None) -> int:
    patch_eventlet()
    from nameko.cli.main import main as nameko_main

    sys.argv = ["nameko", "run", *(sys.argv[1:] if argv is None else argv)]
    nameko_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
