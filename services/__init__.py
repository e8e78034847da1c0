"""The hub's services: one nameko service and one event store each."""

import os
import sys

from services.backbone import quiet as _quiet  # noqa: F401 - first: the libraries' banners silenced

# psycopg only recognises gevent; under nameko's eventlet it must poll with select(),
# or every query blocks the event loop (FIELD_NOTES). Harmless in plain processes.
if "eventlet" in sys.modules:
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    from services.backbone import green_wait

    green_wait.install()
