"""Only auditors reach the audit endpoint: metadata x-hub-auditor-token, checked for every method."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import grpc

TOKEN_HEADER = "x-hub-auditor-token"
GUARDED_PREFIX = "/hub.v1.AuditService/"


class AuditorAuth(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses every AuditService call without the auditors' token (UNAUTHENTICATED)."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()

    def _allowed(self, details: grpc.HandlerCallDetails) -> bool:
        given = dict(details.invocation_metadata or ()).get(TOKEN_HEADER, "")
        return isinstance(given, str) and bool(given) and hmac.compare_digest(given.encode(), self._token)

    def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Any], details: grpc.HandlerCallDetails
    ) -> Any:
        handler = continuation(details)
        if handler is None or not details.method.startswith(GUARDED_PREFIX) or self._allowed(details):
            return handler
        message = f"auditors only: send a valid {TOKEN_HEADER}"

        def refuse(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

        def refuse_stream(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, message)
            yield  # pragma: no cover - abort raises

        if handler.response_streaming:
            return grpc.unary_stream_rpc_method_handler(
                refuse_stream, handler.request_deserializer, handler.response_serializer
            )
        return grpc.unary_unary_rpc_method_handler(
            refuse, handler.request_deserializer, handler.response_serializer
        )
