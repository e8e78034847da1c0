"""The hub's services: one nameko service and one event store each."""

from services.backbone import quiet as _quiet  # noqa: F401 - first: the libraries' banners silenced

# How psycopg waits in a nameko service (eventlet) is set where every service starts:
# services.backbone.nameko_run (services/backbone/green_wait.py).
