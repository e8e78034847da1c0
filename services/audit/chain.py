"""The audit log's leaves: one per stored event of a store, in notification order.

    digest     = SM3(event bytes)                                  (services.backbone.links)
    leaf input = u64 notification id || 16-byte originator UUID || u64 originator version || digest
    leaf hash  = SM3(0x00 || leaf input)                           (RFC 9162, services.audit.merkle)

The leaf input (an "entry", 64 bytes) names the event's position and aggregate in the clear and its
content by digest: a bundle carries every entry of a range and the full events of one enterprise, so
that a verifier can recompute the signed root and see that no event of the enterprise's aggregates is
missing, without seeing anyone else's events. Pure: the offline checkers use it.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple

from services.backbone import links

LOG_FORMAT = "riskhub-audit-log/v1"
ENTRY = struct.Struct(">Q16sQ32s")
sm3 = links.sm3
event_bytes = links.event_bytes
notification_digest = links.digest
_new = links.new_hash


def event_digest(originator_id: uuid.UUID | str, originator_version: int, topic: str, state: bytes) -> bytes:
    return sm3(event_bytes(originator_id, originator_version, topic, state))


class Entry(NamedTuple):
    """A leaf's input, unpacked."""

    notification_id: int
    originator_id: str
    originator_version: int
    digest: bytes


def entry_bytes(notification: Any, digest: bytes) -> bytes:
    """The leaf input of a notification (its originator id must be a UUID, as every hub id is)."""
    oid = notification.originator_id
    oid = oid if isinstance(oid, uuid.UUID) else uuid.UUID(str(oid))
    return ENTRY.pack(notification.id, oid.bytes, notification.originator_version, digest)


def entries_and_leaves(page: list[Any]) -> tuple[list[bytes], list[bytes], list[bytes]]:
    """(digests, entries, leaf hashes) of a page of notifications: the hot path of building and
    verifying, so the hashing stays in comprehensions (with every event's originator a UUID and its
    state bytes, as the hub stores them; links.digest otherwise)."""
    new, head, entry = _new, links.UUID_HEAD.pack, ENTRY.pack
    try:
        topics = [n.topic.encode("utf-8") for n in page]
        digests = [
            new(
                "sm3",
                head(1, n.originator_id.bytes, n.originator_version, len(t), len(n.state)) + t + n.state,
            ).digest()
            for n, t in zip(page, topics, strict=True)
        ]
        entries = [
            entry(n.id, n.originator_id.bytes, n.originator_version, d)
            for n, d in zip(page, digests, strict=True)
        ]
    except (AttributeError, TypeError):  # a text originator or a text state (a tampered row): the slow way
        digests = [links.digest(n) for n in page]
        entries = [entry_bytes(n, d) for n, d in zip(page, digests, strict=True)]
    leaves = [new("sm3", b"\x00" + e).digest() for e in entries]
    return digests, entries, leaves


def leaf_hashes(packed: bytes) -> list[bytes]:
    size, new = ENTRY.size, _new
    return [new("sm3", b"\x00" + packed[i : i + size]).digest() for i in range(0, len(packed), size)]


def unpack_entries(packed: bytes) -> Iterator[Entry]:
    for nid, oid, version, digest in ENTRY.iter_unpack(packed):
        yield Entry(nid, str(uuid.UUID(bytes=oid)), version, digest)
