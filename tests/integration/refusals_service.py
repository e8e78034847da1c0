"""A nameko service for tests/integration/test_quiet_logs.py: one RPC refuses (a client's mistake),
one fails (a fault of the hub). Run as the Procfile runs a service (services.backbone.nameko_run)."""

from __future__ import annotations

import os

from nameko.rpc import rpc

from services.backbone import rpc as _domain_errors  # noqa: F401 - domain errors cross intact
from services.backbone.errors import NotFoundError, ValidationError
from services.backbone.nameko_store import EventStore
from services.registry.application import RegistryApplication


class RefusingService:
    name = os.environ.get("REFUSALS_SERVICE_NAME", "refusals_test")
    app = EventStore(RegistryApplication)  # sets up logging and binds the caller's correlation id

    @rpc
    def missing(self, enterprise_id: str) -> None:
        raise NotFoundError("enterprise_id", f"no enterprise {enterprise_id}")

    @rpc
    def invalid(self) -> None:
        raise ValidationError.many([("profile.mobile", "not a mobile number"), ("profile.name", "required")])

    @rpc
    def broken(self) -> None:
        raise RuntimeError("a bug in the hub")
