"""Health check of one hub process, for Compose healthchecks and Kubernetes exec probes.

    python -m scripts.healthcheck 127.0.0.1:50051 [--service hub.v1.EnterpriseService]
        a gRPC process (gateway, audit endpoint, reference platform): grpc.health.v1 says SERVING
    python -m scripts.healthcheck --metrics [--port 9100]
        any other process: its /metrics (HUB_METRICS_PORT) answers with the hub's metrics

Exits 0 when healthy, 1 when not, printing why (what `kubectl describe pod` shows). grpc_health_probe
is not installable from the registries this project uses; this is its small Python stand-in.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.request


def check_grpc(address: str, service: str, timeout: float) -> str:
    """'' when the server at `address` reports `service` SERVING, else what is wrong."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as error:
            return f"{address}: {error.code().name} {error.details()}"
    if answer.status != health_pb2.HealthCheckResponse.SERVING:
        return f"{address}: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}"
    return ""


def check_metrics(port: int, timeout: float) -> str:
    """'' when http://127.0.0.1:<port>/metrics answers with the hub's metrics, else what is wrong."""
    if not port:
        return "HUB_METRICS_PORT is not set: this process serves no /metrics to check"
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed local URL
            body = response.read()
    except OSError as error:
        return f"{url}: {error}"
    if b"hub_" not in body:
        return f"{url}: answered, but not with the hub's metrics"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", nargs="?", help="host:port of a gRPC server with grpc.health.v1")
    parser.add_argument("--service", default="", help="the service whose health to ask ('' = server)")
    parser.add_argument("--metrics", action="store_true", help="check /metrics instead of gRPC")
    parser.add_argument("--port", type=int, default=int(os.environ.get("HUB_METRICS_PORT") or 0))
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    if args.metrics == bool(args.address):
        parser.error("give either a gRPC address or --metrics")
    problem = (
        check_metrics(args.port, args.timeout)
        if args.metrics
        else check_grpc(args.address, args.service, args.timeout)
    )
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
