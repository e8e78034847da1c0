"""RPC plumbing shared by services and their callers: domain errors cross nameko intact, a store or
another service that cannot be reached answers UnavailableError (services/backbone/store_outage.py),
and a service's RPC queue carries the hub's namespace, so two hubs on one RabbitMQ virtual host never
answer each other's calls (nameko names the queue after the service alone: "rpc-registry")."""

from __future__ import annotations

from typing import Any

from kombu import Queue
from nameko.exceptions import deserialize_to_instance
from nameko.rpc import Rpc, RpcConsumer, get_rpc_exchange

from services.backbone import consistency, errors, store_outage


def _register(cls: type[BaseException]) -> None:
    deserialize_to_instance(cls)
    for sub in cls.__subclasses__():
        _register(sub)


# A DomainError raised in a service arrives at the caller as the same class with its args
# (field, rule, ...), not as an opaque RemoteError.
_register(errors.DomainError)


def rpc_queue(namespace: str, service: str) -> str:
    """The queue a service's RPCs wait in."""
    return f"{namespace}rpc-{service}"


class HubRpcConsumer(RpcConsumer):  # type: ignore[misc]
    """nameko's RPC consumer, its queue named with the hub's namespace (HUB_NAMESPACE in the service's
    config) and bound to the namespace's RPC exchange."""

    def setup(self) -> None:
        if self.queue is None:
            service = self.container.service_name
            config: dict[str, Any] = self.container.config
            self.queue = Queue(
                rpc_queue(str(config.get("HUB_NAMESPACE") or ""), service),
                exchange=get_rpc_exchange(config),
                routing_key=f"{service}.*",
                durable=True,
            )
            self.queue_consumer.register_provider(self)
            self._registered = True


class HubRpc(Rpc):  # type: ignore[misc]
    """nameko's RPC entrypoint on the namespaced queue; a call that stored events answers with their
    positions too (consistency.ANSWER_KEY), so the caller can wait for readers to have applied them.
    A call its store or another service could not serve (the database or the broker restarting) answers
    UnavailableError: the caller may try again, where nameko's RemoteError became the gateway's INTERNAL."""

    rpc_consumer = HubRpcConsumer()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any, exc_info: Any) -> Any:
        if exc_info is not None and (outage := store_outage.answer(worker_ctx.service_name, exc_info[1])):
            exc_info = (type(outage), outage, exc_info[2])
        written = consistency.WRITTEN.get()
        if written and isinstance(result, dict) and exc_info is None:
            result = {**result, consistency.ANSWER_KEY: dict(written)}
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = HubRpc.decorator
