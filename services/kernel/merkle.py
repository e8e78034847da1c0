"""RFC 9162 Merkle trees (Certificate Transparency 2.0, §2.1) with SM3 as the hash.

    leaf hash  = SM3(0x00 || leaf input)        node hash = SM3(0x01 || left || right)
    MTH(D[n])  = SM3(0x01 || MTH(D[0:k]) || MTH(D[k:n])),  k the largest power of 2 below n

Inclusion proofs (§2.1.3) and consistency proofs (§2.1.4) are made and checked as the RFC writes
them. `Frontier` appends leaves (or whole aligned blocks) in O(log n) memory; `Tree` answers subtree
hashes from block roots and the leaves of at most a block at a time, which is all a proof needs.
Pure: the offline checkers use it without a database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from services.backbone.links import new_hash

EMPTY_ROOT = new_hash("sm3", b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return new_hash("sm3", b"\x00" + data).digest()  # type: ignore[no-any-return]


def node_hash(left: bytes, right: bytes) -> bytes:
    return new_hash("sm3", b"\x01" + left + right).digest()  # type: ignore[no-any-return]


def root(hashes: Sequence[bytes]) -> bytes:
    """MTH of these leaf hashes: level by level, an odd last node going up as it is (the same tree)."""
    if not hashes:
        return EMPTY_ROOT
    level, new = list(hashes), new_hash
    while len(level) > 1:
        paired = [
            new("sm3", b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def root_packed(packed: bytes) -> bytes:
    """MTH of leaf hashes given back to back, 32 bytes each (the first level hashes pairs in place)."""
    count, new = len(packed) // 32, new_hash
    if count < 2:
        return packed if count else EMPTY_ROOT
    paired = [
        new("sm3", b"\x01" + packed[i : i + 64]).digest() for i in range(0, (count - count % 2) * 32, 64)
    ]
    if count % 2:
        paired.append(packed[-32:])
    return root(paired)


def split(n: int) -> int:
    """The largest power of 2 strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The perfect subtrees that cover leaves [0, size), largest first: enough to append and to root."""

    def __init__(self, nodes: Sequence[tuple[int, bytes]] = ()) -> None:
        self.nodes = list(nodes)

    @property
    def size(self) -> int:
        return sum(s for s, _ in self.nodes)

    def append(self, hash_: bytes, count: int = 1) -> None:
        """Adds a leaf (count 1) or a perfect subtree of `count` leaves aligned at the current size."""
        nodes = self.nodes
        nodes.append((count, hash_))
        while len(nodes) > 1 and nodes[-1][0] == nodes[-2][0]:
            (s, left), (_, right) = nodes[-2], nodes[-1]
            nodes[-2:] = [(2 * s, node_hash(left, right))]

    def extend_packed(self, packed: bytes) -> None:
        """Appends leaf hashes given back to back (32 bytes each), a perfect aligned subtree at a time
        (hashed level by level in comprehensions: the same nodes as one append per leaf, faster)."""
        count, done, size = len(packed) // 32, 0, self.size
        while done < count:
            step = size & -size if size else 1 << 62  # the largest subtree aligned at this size…
            while step > count - done:  # …that the leaves left fill
                step >>= 1
            self.append(root_packed(packed[done * 32 : (done + step) * 32]), step)
            done, size = done + step, size + step

    def root(self) -> bytes:
        if not self.nodes:
            return EMPTY_ROOT
        value = self.nodes[-1][1]
        for _, left in reversed(self.nodes[:-1]):
            value = node_hash(left, value)
        return value

    def copy(self) -> Frontier:
        return Frontier(self.nodes)

    def to_hex(self) -> list[list[int | str]]:
        return [[s, h.hex()] for s, h in self.nodes]

    @classmethod
    def from_hex(cls, data: Sequence[Sequence[int | str]]) -> Frontier:
        return cls([(int(s), bytes.fromhex(str(h))) for s, h in data])


Leaves = Callable[
    [int], Sequence[bytes]
]  # block number → its leaf hashes (all of them, or the last's so far)


class Tree:
    """Subtree hashes of a tree: blocks of `block` leaves (a power of 2), their roots where known."""

    def __init__(
        self,
        size: int,
        block: int,
        block_roots: Sequence[bytes],
        leaves: Leaves,
        memo: dict[tuple[int, int], bytes] | None = None,
    ) -> None:
        """`memo`, shared between trees of one log, keeps every subtree hash computed: MTH(D[a:b])
        depends on leaves a..b alone, so a prover of many events computes each node once."""
        self.size, self.block, self.block_roots, self._leaves = size, block, block_roots, leaves
        self.memo = memo

    def hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for any range a proof names (start aligned as RFC 9162's subtrees are)."""
        memo = self.memo
        if memo is not None and (start, end) in memo:
            return memo[(start, end)]
        n, b = end - start, self.block
        if n == b and start % b == 0 and start // b < len(self.block_roots):
            return self.block_roots[start // b]
        if n == 1:
            value = self._leaves(start // b)[start % b]
        elif memo is None and start // b == (end - 1) // b:  # inside one block: from its leaves
            offset = start % b
            value = root(self._leaves(start // b)[offset : offset + n])
        else:
            k = split(n)
            value = node_hash(self.hash(start, start + k), self.hash(start + k, end))
        if memo is not None:
            memo[(start, end)] = value
        return value

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[size]) (RFC 9162 §2.1.3.1)."""
        size = self.size if size is None else size
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of {size}")
        return self._path(index, 0, size)

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        if end - start == 1:
            return []
        k = split(end - start)
        if index < start + k:
            return [*self._path(index, start, start + k), self.hash(start + k, end)]
        return [*self._path(index, start + k, end), self.hash(start, start + k)]

    def consistency(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[second]) (RFC 9162 §2.1.4.1); empty when first is 0 or equals second."""
        second = self.size if second is None else second
        if not 0 <= first <= second <= self.size:
            raise ValueError(f"no consistency proof from {first} to {second} in a tree of {self.size}")
        if first in (0, second):
            return []
        return self._subproof(first, 0, second, True)

    def _subproof(self, m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [self.hash(start, end)]
        k = split(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, whole), self.hash(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.hash(start, start + k)]


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root_hash: bytes) -> bool:
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2 (a head of size 0 is consistent with any tree; equal sizes need equal roots)."""
    if first == 0:
        return not proof
    if first > second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of 2: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
