"""Who is calling: an enterprise by its credential, or an integrator by the registration token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

import grpc

from services.backbone.edge.calls import metadata
from services.backbone.errors import PermissionDeniedError
from services.backbone.rpc_client import Services
from services.backbone.settings import Settings

KEY_ID_HEADER = "x-hub-key-id"
SECRET_HEADER = "x-hub-secret"
REGISTRATION_HEADER = "x-hub-registration-token"


def registration_token(settings: Settings) -> str:
    """The integrator's registration token: HUB_REGISTRATION_TOKEN, or one made once under the runtime
    folder (printed by make run)."""
    if settings.registration_token:
        return settings.registration_token
    runtime_dir = settings.runtime_dir
    path = runtime_dir / "registration.token"
    if not path.exists():
        runtime_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


CACHE_LIMIT = 20_000  # remembered credentials before the expired ones are swept out


class Authenticator:
    """Checks credentials against the registry, remembering good ones for a minute."""

    def __init__(self, services: Services, token: str, ttl: float = 60.0) -> None:
        self.services, self.token, self.ttl = services, token, ttl
        self._cache: dict[tuple[str, str], tuple[str, float]] = {}
        self._lock = threading.Lock()

    def integrator(self, context: grpc.ServicerContext) -> None:
        given = metadata(context).get(REGISTRATION_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            # no or a wrong credential: UNAUTHENTICATED, as for an enterprise's (gRPC's meaning of it)
            context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                f"registration needs the integrator's token ({REGISTRATION_HEADER})",
            )

    def enterprise(self, context: grpc.ServicerContext) -> str:
        """The enterprise id the caller's credential belongs to."""
        headers = metadata(context)
        key_id, secret = headers.get(KEY_ID_HEADER, ""), headers.get(SECRET_HEADER, "")
        if not key_id or not secret:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"send {KEY_ID_HEADER} and {SECRET_HEADER}")
        cache_key = (key_id, hashlib.sha256(secret.encode()).hexdigest())
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(cache_key)
        if hit and hit[1] > now:
            return hit[0]
        try:
            enterprise_id = str(self.services.call("registry", "authenticate", key_id, secret))
        except PermissionDeniedError:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "unknown key id or wrong secret")
        with self._lock:
            if len(self._cache) >= CACHE_LIMIT:  # a province's ERPs: keep the credentials still fresh
                fresh = [(k, v) for k, v in self._cache.items() if v[1] > now]
                self._cache = dict(fresh[-CACHE_LIMIT // 2 :])  # and at most half, the latest
            self._cache[cache_key] = (enterprise_id, now + self.ttl)
        return enterprise_id

    @staticmethod
    def own(caller: str, requested: str) -> str:
        """The enterprise the call is about: the caller's own, never another's."""
        if requested and requested != caller:
            raise PermissionDeniedError("enterprise_id", "an enterprise reads and changes only itself")
        return caller
