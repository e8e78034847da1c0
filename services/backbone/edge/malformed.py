"""Bytes that are not the method's request message get INVALID_ARGUMENT, not grpcio's INTERNAL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from services.backbone.edge.status import to_status
from services.backbone.errors import ValidationError


class Malformed:
    """Stands in for a request that could not be parsed."""

    def __init__(self, error: str) -> None:
        self.error = error


def _refuse(context: grpc.ServicerContext, message: Malformed, method: str) -> None:
    error = ValidationError("(request)", f"not a valid {method} request message: {message.error}")
    context.abort_with_status(to_status(error))


def _safe(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def parse(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except Exception as error:  # noqa: BLE001 - whatever the parser says, the input is bad
            return Malformed(type(error).__name__)

    return parse


def _checked(requests: Iterator[Any], context: grpc.ServicerContext, method: str) -> Iterator[Any]:
    for request in requests:
        if isinstance(request, Malformed):
            _refuse(context, request, method)
        yield request


class MalformedRequests(grpc.ServerInterceptor):
    """Parses requests without letting a parse error escape as INTERNAL."""

    def intercept_service(self, continuation: Callable[..., Any], details: Any) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        method = details.method
        if handler.unary_unary or handler.unary_stream:
            inner = handler.unary_unary or handler.unary_stream

            def unary(request: Any, context: grpc.ServicerContext) -> Any:
                if isinstance(request, Malformed):
                    _refuse(context, request, method)
                return inner(request, context)

            field = "unary_unary" if handler.unary_unary else "unary_stream"
        else:
            inner = handler.stream_unary or handler.stream_stream

            def unary(requests: Any, context: grpc.ServicerContext) -> Any:  # type: ignore[misc]
                return inner(_checked(requests, context, method), context)

            field = "stream_unary" if handler.stream_unary else "stream_stream"
        return handler._replace(request_deserializer=_safe(handler.request_deserializer), **{field: unary})
