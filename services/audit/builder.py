"""Grows each store's Merkle tree from its linked events, and signs tree heads when due.

An event enters the tree only once the write-time link row covering it checks out: the worker creates
no trust of its own. At the first event that does not (an event written past the hub, a row that does
not match its events) the store's tree stops growing, and the worker says so every pass until the
store is put right. Leaves are recorded with the head that signs them, in one transaction; until
then they are in memory only (a crash reads them from the store again).
"""

from __future__ import annotations

import base64
import time
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError

from services.audit import chain, domain
from services.audit.application import AuditApplication, SignedHead
from services.audit.domain import LeafBlock, block_id
from services.audit.domain import TreeHead as HeadRecord
from services.audit.findings import Finding
from services.audit.scan import plan, scan_all
from services.backbone.store import HubApplication
from services.kernel import merkle
from services.kernel.signatures import KeyPair
from services.kernel.tree_heads import TreeHead

log = structlog.get_logger(__name__)


HALTED_RETRY = 30.0  # seconds between looks at a store whose tree stopped at an unlinked event


class RecordsError(RuntimeError):
    """The audit store's records do not rebuild the latest signed head: refuse to sign on top of them."""


@dataclass(frozen=True)
class Policy:
    checkpoint_every: int = 10_000  # sign a head once this many events are unsigned…
    checkpoint_seconds: float = 60.0  # …or once unsigned events are this old
    parallel_from: int = 40_000  # a backlog at least this long is read by worker processes


@dataclass
class State:
    """Where one store's tree stands: recorded (up to the last head) and in memory beyond it."""

    store: str
    size: int = 0
    position: int = 0  # the last notification id in the tree
    link: bytes | None = None  # the stored write-time link at `position` (None: the genesis)
    block_roots: list[bytes] = field(default_factory=list)
    recent_start: int = 0  # leaf index where `recent` starts (a block boundary)
    recent: bytearray = field(default_factory=bytearray)  # leaf hashes from recent_start on, packed
    pending: bytearray = field(default_factory=bytearray)  # entries after the last head, packed
    last_head: SignedHead | None = None
    open_block: Any = None  # the LeafBlock aggregate of the block being filled, as last saved
    halted: Finding | None = None
    halted_until: float = 0.0  # a halted store is read again no sooner (monotonic seconds)

    @property
    def signed_size(self) -> int:
        return self.last_head.head.tree_size if self.last_head else 0

    def tree(self, audit: AuditApplication) -> merkle.Tree:
        def leaves(number: int) -> list[bytes]:
            start = number * domain.BLOCK
            if start >= self.recent_start:
                offset = (start - self.recent_start) * 32
                packed = self.recent[offset : offset + domain.BLOCK * 32]
                return [bytes(packed[i : i + 32]) for i in range(0, len(packed), 32)]
            found = audit.block(self.store, number)  # only an older head's block, never on the hot path
            return chain.leaf_hashes(found.entries) if found else []

        return merkle.Tree(self.size, domain.BLOCK, self.block_roots, leaves)

    def add(self, entries: bytes, leaves: bytes) -> None:
        block, start = domain.BLOCK, self.size
        self.pending += entries
        self.recent += leaves
        self.size += len(leaves) // 32
        for end in range((start // block + 1) * block, self.size + 1, block):
            # a block is complete: its root is a node of every later tree
            offset = (end - self.recent_start) * 32
            self.block_roots.append(merkle.root_packed(bytes(self.recent[offset - block * 32 : offset])))


def load(audit: AuditApplication, store: str, public_key: str) -> State:
    """The store's state at its latest signed head (checked against the head before it is trusted)."""
    state = State(store)
    latest = audit.latest_head(store)
    if latest is None:
        return state
    n = latest.head.tree_size
    state.last_head, state.size = latest, n
    state.block_roots = audit.block_roots(store)[: n // domain.BLOCK]
    state.recent_start = (n // domain.BLOCK) * domain.BLOCK
    last = audit.block(store, (n - 1) // domain.BLOCK)
    if last is None or len(state.block_roots) != n // domain.BLOCK:
        raise RecordsError(f"{store}: the blocks of head {latest.head.sequence} are missing")
    if n % domain.BLOCK:
        state.recent = bytearray(b"".join(chain.leaf_hashes(last.entries)[: n % domain.BLOCK]))
        state.open_block = audit.repository.get(block_id(store, n // domain.BLOCK))
    state.position, state.link = last.position, last.link or None
    if not latest.head.valid_for(public_key) or state.tree(audit).hash(0, n) != latest.head.root:
        raise RecordsError(f"{store}: the recorded leaves do not rebuild head {latest.head.sequence}")
    if last.position != latest.head.position:
        raise RecordsError(
            f"{store}: head {latest.head.sequence} and its last block disagree on the position"
        )
    return state


class TreeBuilder:
    """Builds the trees of stores into the audit store. Two at once are safe: the loser of a race
    (same head or block id) reloads."""

    def __init__(
        self, audit: AuditApplication, keypair: KeyPair, key: bytes | None, policy: Policy | None = None
    ) -> None:
        self.audit, self.keypair, self.key, self.policy = audit, keypair, key, policy or Policy()
        self.states: dict[str, State] = {}
        # a head's records are written while the next leaves are read (the database waits, not us)
        self._sealer: ThreadPoolExecutor | None = None
        self._sealing: Future[None] | None = None

    def close(self) -> None:
        if self._sealer is not None:
            self._sealer.shutdown()

    def _wait(self) -> None:
        """The last head's records are written (its error, if any, raised here)."""
        sealing, self._sealing = self._sealing, None
        if sealing is not None:
            sealing.result()

    def state(self, store: str) -> State:
        if store not in self.states:
            self.states[store] = load(self.audit, store, self.keypair.public_key_hex)
        return self.states[store]

    def extend(
        self,
        store: str,
        source: HubApplication,
        sign_now: bool = False,
        pool: ProcessPoolExecutor | None = None,
    ) -> list[TreeHead]:
        """Adds every linked event after the tree's end; signs a head when due (or now). Returns the
        heads signed."""
        try:
            try:
                return self._extend(self.state(store), source, sign_now, pool)
            finally:
                self._wait()  # extend returns once what it signed is recorded
        except IntegrityError:
            self.states.pop(store, None)  # another builder recorded the same head or block first
            log.info("audit_tree_race_lost", store=store)
            return []
        except Exception:
            self.states.pop(store, None)  # what is in memory may be ahead of what was recorded
            raise

    def _extend(
        self, state: State, source: HubApplication, sign_now: bool, pool: ProcessPoolExecutor | None
    ) -> list[TreeHead]:
        signed: list[TreeHead] = []
        head_id = source.recorder.max_notification_id() or 0
        if state.halted is not None and time.monotonic() < state.halted_until and not sign_now:
            # everything after the halt would be read again each pass while the store grows
            return signed
        state.halted = None
        if head_id > state.position:
            backlog = head_id - state.position
            tasks = plan(
                source,
                state.store,
                after=state.position,
                stop=head_id,
                previous_link=state.link,
                key=self.key,
            )
            for _task, result in scan_all(
                source, tasks, pool if backlog >= self.policy.parallel_from else None
            ):
                state.add(result.entries[: result.good * chain.ENTRY.size], result.leaves[: result.good * 32])
                state.position, state.link = result.position, result.link
                if result.good < result.count or result.findings:
                    state.halted = result.findings[0] if result.findings else None
                    break
                if state.size - state.signed_size >= self.policy.checkpoint_every:
                    signed.append(self._sign(state))
        if state.size > state.signed_size and (sign_now or self._due(state)):
            signed.append(self._sign(state))
        if state.halted is not None:
            state.halted_until = time.monotonic() + HALTED_RETRY
            log.error("audit_tree_halted", store=state.store, at=state.halted.describe())
        return signed

    def _due(self, state: State) -> bool:
        if state.size - state.signed_size >= self.policy.checkpoint_every or state.last_head is None:
            return True
        age = datetime.now(UTC) - datetime.fromisoformat(state.last_head.head.signed_at)
        return age.total_seconds() >= self.policy.checkpoint_seconds

    def _sign(self, state: State) -> TreeHead:
        self._wait()  # the blocks the last seal saved are appended to now
        tree, previous = state.tree(self.audit), state.signed_size
        head = TreeHead(
            store=state.store,
            sequence=state.last_head.head.sequence + 1 if state.last_head else 0,
            tree_size=state.size,
            root_hash=tree.hash(0, state.size).hex(),
            position=state.position,
            signed_at=datetime.now(UTC).isoformat(),
            public_key=self.keypair.public_key_hex,
        ).signed(self.keypair.private_key_hex)
        consistency = tree.consistency(previous, state.size) if previous else []
        record = HeadRecord(
            **head.as_dict(), previous_size=previous, consistency=[h.hex() for h in consistency]
        )
        blocks = self._blocks(state)
        if self._sealer is None:
            self._sealer = ThreadPoolExecutor(1, thread_name_prefix="audit-seal")
        self._sealing = self._sealer.submit(self.audit.seal, *blocks, record)
        state.open_block = blocks[-1] if blocks and state.size % domain.BLOCK else None
        state.last_head, state.pending = SignedHead(head, previous, consistency), bytearray()
        keep = (state.size // domain.BLOCK) * domain.BLOCK  # later proofs need leaves from its block on
        state.recent, state.recent_start = state.recent[(keep - state.recent_start) * 32 :], keep
        log.info("audit_head_signed", store=state.store, sequence=head.sequence, size=head.tree_size)
        return head

    def _blocks(self, state: State) -> list[Any]:
        """The pending entries appended to their blocks (started, continued, completed)."""
        records: list[Any] = []
        index, pending, size, taken = state.signed_size, state.pending, chain.ENTRY.size, 0
        while taken < len(pending):
            number, offset = divmod(index, domain.BLOCK)
            part = bytes(pending[taken : taken + (domain.BLOCK - offset) * size])
            taken += len(part)
            last = taken == len(pending)
            position = state.position if last else chain.ENTRY.unpack_from(part, len(part) - size)[0]
            link = (state.link or b"").hex() if last else ""
            packed = base64.b64encode(part).decode("ascii")
            block = state.open_block if offset and state.open_block is not None else None
            if offset and block is None:
                block = self.audit.repository.get(block_id(state.store, number))
            if block is None:
                block = LeafBlock(state.store, number, index, packed, position, link)
            else:
                block.append(index, packed, position, link)
            if offset + len(part) // size == domain.BLOCK:
                block.complete(state.store, number, state.block_roots[number].hex())
            records.append(block)
            index += len(part) // size
        return records
