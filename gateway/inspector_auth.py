"""Who is calling the InspectionService: a supervising department, by its inspectors' token."""

from __future__ import annotations

import hashlib
import threading
import time

import grpc

from services.backbone.edge.calls import metadata
from services.backbone.errors import PermissionDeniedError
from services.backbone.rpc_client import Services

DEPARTMENT_HEADER = "x-hub-department"
TOKEN_HEADER = "x-hub-department-token"


class DepartmentAuthenticator:
    """Checks a department's token for one role (scope: inspections, feed, town) with the dangers
    service. A good token is remembered for `ttl` seconds only, so a re-issued token stops working
    within that time in every gateway (one call to the dangers service per department and ttl)."""

    def __init__(self, services: Services, scope: str, ttl: float = 0.5) -> None:
        self.services, self.scope, self.ttl = services, scope, ttl
        self._cache: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def department(self, context: grpc.ServicerContext) -> str:
        headers = metadata(context)
        code, token = headers.get(DEPARTMENT_HEADER, ""), headers.get(TOKEN_HEADER, "")
        if not code or not token:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"send {DEPARTMENT_HEADER} and {TOKEN_HEADER}")
        key, now = (code, hashlib.sha256(token.encode()).hexdigest()), time.monotonic()
        with self._lock:
            if self._cache.get(key, 0.0) > now:
                return code
        try:
            code = str(self.services.call("dangers", "authenticate_inspector", code, token, self.scope))
        except PermissionDeniedError:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown department or wrong token")
        with self._lock:
            self._cache[key] = now + self.ttl
        return code
