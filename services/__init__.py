"""The hub's services: one nameko service and one event store each."""

import os
import sys

from services.backbone import quiet as _quiet  # noqa: F401 - first: the libraries' banners silenced

# psycopg only recognises gevent; under nameko's eventlet it must not block the event loop
# (FIELD_NOTES): for `nameko run` itself (eventlet patched before the service is imported). The hub's
# processes run services.backbone.nameko_run, which patches and installs the wait before this runs.
if "eventlet" in sys.modules:
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    from services.backbone import green_wait

    green_wait.install()
