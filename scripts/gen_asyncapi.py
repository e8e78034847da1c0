#!/usr/bin/env python3
"""Generates contracts/asyncapi.yaml (AsyncAPI 3.0.0) from the event contracts and the topology.

Inputs
  contracts/<service>/<Aggregate>.<Event>.v<N>.schema.json   JSON Schema of one event's payload
  infra/topology.yaml                                         subscriptions: {consumer: [upstream, ...]}
                                                              batched: {upstream: envelopes per message}

Model (mirrors services/backbone: envelope.py, relay.py, topology.py)
  * one channel per service exchange, address "<service>.events" (AMQP topic exchange, durable);
    routing key "<Aggregate>.<Event>.<enterprise_id or 'none'>";
  * one channel per consumer queue, address "<consumer>.from.<upstream>" (durable, bound with "#");
  * one message per (service, event type, version): the JSON envelope, whose `payload` property is
    the contract's schema (inlined under components/schemas, `$schema`/`$id` dropped and local
    `$ref`s rewritten, so the document is self-contained and the AsyncAPI parser needs no files);
  * a batched upstream also sends "<service>.batch": a JSON array of 2..N of its envelopes, in the
    stream's order (AMQP type "batch"), routed by the first one's key;
  * operations: "publish<Service>Events" (send) per service, and
    "receive<Consumer>From<Upstream>" (receive) per subscription.

Usage
  python scripts/gen_asyncapi.py            # writes contracts/asyncapi.yaml
  python scripts/gen_asyncapi.py --check    # exit 1 if contracts/asyncapi.yaml is stale
  python scripts/gen_asyncapi.py --contracts DIR --topology FILE --output FILE
Validate the result with: node scripts/check_asyncapi.mjs contracts/asyncapi.yaml
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a file (python scripts/gen_asyncapi.py): make `scripts` importable
    sys.path.insert(0, str(ROOT))

# the command; the generator lives in scripts/asyncapi (tests use load_contracts and envelope_schema)
from scripts.asyncapi.contracts import GenerationError, load_contracts  # noqa: E402
from scripts.asyncapi.document import generate  # noqa: E402
from scripts.asyncapi.messages import envelope_schema  # noqa: E402

DEFAULT_CONTRACTS = ROOT / "contracts"
DEFAULT_TOPOLOGY = ROOT / "infra" / "topology.yaml"
DEFAULT_OUTPUT = DEFAULT_CONTRACTS / "asyncapi.yaml"

__all__ = [
    "DEFAULT_CONTRACTS",
    "DEFAULT_OUTPUT",
    "DEFAULT_TOPOLOGY",
    "envelope_schema",
    "load_contracts",
    "main",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--contracts", type=Path, default=DEFAULT_CONTRACTS, help="contracts directory")
    parser.add_argument("--topology", type=Path, default=DEFAULT_TOPOLOGY, help="topology YAML file")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="AsyncAPI file to write")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if --output is not up to date"
    )
    args = parser.parse_args(argv)
    try:
        text = generate(args.contracts, args.topology)
    except GenerationError as exc:
        print(f"gen_asyncapi: {exc}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
        if current != text:
            state = "missing" if current is None else "out of date"
            print(
                f"gen_asyncapi: {args.output} is {state}; run `python scripts/gen_asyncapi.py` "
                f"and commit the result",
                file=sys.stderr,
            )
            return 1
        print(f"gen_asyncapi: {args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with open(args.output, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    print(f"gen_asyncapi: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
