"""Calls from plain (thread-based) processes into the nameko services: standalone RPC proxies, one per
thread (the gateway, the department adapter, the console)."""

from __future__ import annotations

import threading
from typing import Any

from kombu.exceptions import OperationalError  # kombu's wrapping of a refused connection
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone import consistency, correlation, library
from services.backbone import rpc as _domain_errors  # noqa: F401 - domain errors cross intact
from services.backbone.amqp import CONNECTION_ERRORS
from services.backbone.errors import UnavailableError
from services.backbone.nameko_store import CORRELATION_KEY
from services.backbone.settings import Settings


def _lost_connection(error: AttributeError) -> bool:
    """nameko's standalone reply consumer, its connection gone in a broker restart, sets up a channel
    on None: the proxy is broken, not the call."""
    return "'NoneType' object has no attribute 'channel'" in str(error)


class Services:
    """One RPC proxy per gateway thread (proxies are not thread-safe); the correlation id
    of the gRPC call travels in the nameko context to the service worker."""

    def __init__(self, settings: Settings, timeout: float = 30.0) -> None:
        self.config = settings.nameko_config
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[ClusterRpcProxy] = []
        self._lock = threading.Lock()
        self.written = consistency.Remembered()  # how far each enterprise's writes reached

    def _proxy(self) -> Any:
        proxy = getattr(self._local, "proxy", None)
        if proxy is None:
            standalone = ClusterRpcProxy(self.config, timeout=self.timeout, context_data={})
            proxy = standalone.start()
            self._local.proxy, self._local.standalone = proxy, standalone
            with self._lock:
                self._all.append(standalone)
        return proxy

    def call(self, service: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Calls a service; UnavailableError when it cannot be reached now. A proxy whose broker
        connection broke (RabbitMQ restarted) is dropped: the thread's next call makes a new one."""
        try:
            proxy = self._proxy()  # a new one needs the broker too (refused while it restarts)
            library.call_context(self._local.standalone)[CORRELATION_KEY] = correlation.current()
            answer = getattr(getattr(proxy, service), method)(*args, **kwargs)
            if isinstance(answer, dict) and consistency.ANSWER_KEY in answer:
                positions = answer.pop(consistency.ANSWER_KEY)
                owner = answer.get("enterprise_id") if isinstance(answer.get("enterprise_id"), str) else None
                self.written.note(owner or (args[0] if args and isinstance(args[0], str) else ""), positions)
            return answer
        except UnknownService as error:
            # nothing takes the service's calls now (the broker restarting, its queue not back yet):
            # the service is unavailable, not the hub at fault; the proxy itself is sound
            raise UnavailableError(
                "(service)", f"the {service} service cannot be reached now: {error}"
            ) from error
        except (*CONNECTION_ERRORS, OperationalError, RpcTimeout, RuntimeError, AttributeError) as error:
            if isinstance(error, RuntimeError) and "disconnected" not in str(error):
                raise
            if isinstance(error, AttributeError) and not _lost_connection(error):
                raise
            self._drop()
            why = f"no answer within {self.timeout:g} s" if isinstance(error, RpcTimeout) else str(error)
            raise UnavailableError(
                "(service)", f"the {service} service cannot be reached now: {why}"
            ) from error

    def _drop(self) -> None:
        standalone = getattr(self._local, "standalone", None)
        self._local.proxy = self._local.standalone = None
        if standalone is None:
            return
        with self._lock:
            if standalone in self._all:
                self._all.remove(standalone)
        try:
            standalone.stop()
        except Exception:  # noqa: BLE001 - its connection is broken already
            pass

    def close(self) -> None:
        with self._lock:
            for standalone in self._all:
                try:
                    standalone.stop()
                except Exception:  # noqa: BLE001 - shutting down
                    pass
            self._all.clear()
