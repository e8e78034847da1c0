"""The moves a filing ledger's published event carries, in either of its forms: DeliveryLedger.Recorded,
the answers to one filing stored together (a list of moves), or FilingDelivery.Recorded, one
department's entry of a version filed before ledgers were one aggregate per filing (the move itself).
Every reader of the ledger's events (notifications, the console, the filing service's tally) reads
both: the older form stays in the stores and comes back in every replay."""

from __future__ import annotations

from typing import Any

TYPES = ("DeliveryLedger.Recorded", "FilingDelivery.Recorded")  # as envelopes name them


def moves(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Each move: department, outcome, reason and receipt, in the order they were made."""
    return list(payload["moves"]) if "moves" in payload else [payload]
