"""One canonical byte form of a register document (RFC 8785 JCS style) and its SM3 hash.

Canonical form (RFC 8785, JSON Canonicalization Scheme):

* UTF-8, no insignificant whitespace, object members sorted by the UTF-16 code units of their names;
* strings escape only ``"``, ``\\`` and U+0000..U+001F (``\\b \\t \\n \\f \\r`` short forms, the rest as
  ``\\u00xx`` lower-case); everything else, non-ASCII included, is written as raw UTF-8;
* ``None``/``True``/``False`` are ``null``/``true``/``false``; lists keep their order; tuples count as lists;
* floats are written as ECMAScript ``Number.prototype.toString`` writes them (shortest round-trip digits,
  plain notation for 1e-7 < |x| < 1e21, exponent otherwise, ``-0.0`` as ``0``); NaN and ±inf are rejected.
  An integral float equals its int (``1.0`` and ``1`` give ``1``), as in JCS where every number is a double.

Deviations from RFC 8785, all deliberate:

* Python ints are written exactly in decimal at any size. JCS would first round them to an IEEE double, so
  for |n| > 2**53 (and n >= 10**21, which ES writes with an exponent) our bytes differ from a JCS library's.
  The hub's documents carry identifiers, amounts and decimals as strings, so this does not arise for them.
* Only ``dict`` (with ``str`` keys), ``list``/``tuple``, ``str``, ``int``, ``float``, ``bool`` and ``None``
  are accepted; anything else (``Decimal``, ``datetime``, ``set``, ``bytes``, …) raises ``TypeError`` rather
  than being coerced, so a value never changes form silently. Strings holding lone surrogates (not valid
  Unicode) raise ``ValueError``.

Set-like collections. JSON lists are ordered, so ``canonical_bytes`` never reorders a list by itself. Lists
whose order carries no meaning (risk points, hidden dangers, departments, accident types, …) are declared in a
``collections`` mapping and put in a deterministic order by ``sort_collections`` (``canonical_bytes`` and
``document_hash`` do this first when given the mapping). See ``sort_collections`` for the exact rule and
``FILING_SET_COLLECTIONS`` for the filing document's declaration.

Speed. The bytes are written by orjson (sorted keys, with each float as its ECMAScript text) after one walk
that checks the document holds nothing orjson would write otherwise (a subclass of a JSON type, a key whose
UTF-16 order differs from its code points', a dotted key) and orders the declared lists: a register of a few
hundred risk points took the reference encoder below ~4 ms, twice a filing (the filing service checking the
signatures at submission, the department adapter writing the delivery job). Anything the walk or orjson
declines is written by the reference encoder, which also raises the errors described above; a test holds
both to the same bytes on generated documents.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from itertools import pairwise
from typing import Any

from gmalglib.sm3 import SM3

try:
    import orjson
except ImportError:  # the standalone signer (hubsign.pyz) carries gmalglib, grpcio and protobuf only
    orjson = None  # type: ignore[assignment]  # the reference encoder writes every document there

# The filing document's set-like lists: dotted path of dict keys from the root (lists are crossed without an
# index) -> member of each item to order by ("" = order by the whole item). The compiler owns the schema and
# may change this declaration; whatever it is, it must be the same when a filing is hashed and re-verified.
FILING_SET_COLLECTIONS: dict[str, str] = {
    "risk_points": "id",
    "risk_points.accident_types": "",
    "risk_points.control_measures": "",
    "risk_points.emergency_measures": "",
    "risk_points.hidden_dangers": "id",
    "risk_points.hidden_dangers.measures": "",
    "supervising_departments": "code",
}

_ESCAPES: dict[int, str] = {c: f"\\u{c:04x}" for c in range(0x20)}
_ESCAPES.update({0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0C: "\\f", 0x0D: "\\r"})
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def _es_number(value: float) -> str:
    """The ECMAScript Number.prototype.toString form of a finite float."""
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    mantissa, _, exp = repr(abs(value)).partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    raw = int_part + frac_part
    digits = raw.lstrip("0")
    # value = 0.<digits> * 10**n, i.e. digits * 10**(n - k) with k = len(digits)
    n = len(int_part) + (int(exp) if exp else 0) - (len(raw) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        text = digits + "0" * (n - k)
    elif 0 < n <= 21:
        text = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        text = "0." + "0" * -n + digits
    else:
        e = n - 1
        e_text = f"e+{e}" if e >= 0 else f"e-{-e}"
        text = (digits if k == 1 else digits[0] + "." + digits[1:]) + e_text
    return sign + text


def _string(value: str) -> str:
    """A JSON string literal escaped as RFC 8785 requires."""
    return '"' + value.translate(_ESCAPES) + '"'


def _utf16_key(name: str) -> bytes:
    """A sort key that orders strings by their UTF-16 code units."""
    return name.encode("utf-16-be", "surrogatepass")


def _encode(value: Any, out: list[str]) -> None:
    """Append the canonical JSON text of a value to out."""
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_string(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        out.append(_es_number(float(value)))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object member names must be str, got {type(key).__name__}: {key!r}")
        out.append("{")
        for i, key in enumerate(sorted(value, key=_utf16_key)):
            if i:
                out.append(",")
            out.append(_string(key))
            out.append(":")
            _encode(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__} (carry it as a string or a list)")


def sort_collections(document: Any, collections: Mapping[str, str]) -> Any:
    """Return a copy of document whose declared set-like lists are in a deterministic order.

    ``collections`` maps a path to a sort member. A path is the dotted chain of dict keys from the root,
    crossing lists without an index: ``"risk_points"`` is the top-level list, ``"risk_points.hidden_dangers"``
    the list inside every risk point. Each declared list is ordered by the canonical bytes
    (``canonical_bytes``) of ``item[member]`` — e.g. risk points by their ``id`` — or, when the member is
    ``""``, of the whole item (for lists of scalars such as accident types, or of objects without an id).
    Inner collections are ordered before outer ones, so whole-item ordering is itself order-independent.
    Items with equal sort keys must be identical, since otherwise their order would depend on arrival:
    ``ValueError`` if not. A declared path holding ``None`` or absent is left alone; holding a non-list value,
    or an item that is not an object or lacks the member, raises ``ValueError``. Undeclared lists, and lists
    nested directly inside lists, keep their order. The input is not modified.
    """
    return _sort(document, (), collections, item=False)


def _sort(value: Any, path: tuple[str, ...], collections: Mapping[str, str], *, item: bool) -> Any:
    """Recursive worker of sort_collections; item tells whether value sits directly in a list."""
    declared = not item and ".".join(path) in collections
    if isinstance(value, list | tuple):
        items = [_sort(entry, path, collections, item=True) for entry in value]
        return _order(items, ".".join(path), collections[".".join(path)]) if declared else items
    if declared and value is not None:
        raise ValueError(f"{'.'.join(path)}: declared a set-like list but holds {type(value).__name__}")
    if isinstance(value, dict):
        return {key: _sort(entry, (*path, key), collections, item=False) for key, entry in value.items()}
    return value


def _order(items: list[Any], dotted: str, member: str) -> list[Any]:
    """Items of the set-like list at dotted, ordered by the canonical bytes of their sort key."""
    keyed: list[tuple[bytes, Any]] = []
    for index, item in enumerate(items):
        if member and (not isinstance(item, dict) or member not in item):
            raise ValueError(f"{dotted}[{index}]: item has no {member!r} to order by")
        keyed.append((canonical_bytes(item[member] if member else item), item))
    keyed.sort(key=lambda entry: entry[0])
    for (key_a, item_a), (key_b, item_b) in pairwise(keyed):
        if key_a == key_b and member and canonical_bytes(item_a) != canonical_bytes(item_b):
            raise ValueError(f"{dotted}: two different items share the sort key {key_a.decode()}")
    return [item for _, item in keyed]


def canonical_bytes(document: Any, collections: Mapping[str, str] | None = None) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of document, set-like lists ordered first when declared."""
    if orjson is not None:
        try:
            return _fast_bytes(document, collections or {})
        except Exception:  # noqa: BLE001 - not for the fast path: the reference encoder writes it or says why
            pass
    return reference_bytes(document, collections)


def reference_bytes(document: Any, collections: Mapping[str, str] | None = None) -> bytes:
    """canonical_bytes as the reference encoder writes them, node by node (what the fast path must equal)."""
    if collections:
        document = sort_collections(document, collections)
    out: list[str] = []
    _encode(document, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"document holds a string that is not valid Unicode: {exc.reason}") from exc


class _Declined(Exception):
    """The fast path does not write this document: the reference encoder does."""


_Trie = dict[str, tuple["_Trie", str | None]]  # key -> (the paths below it, its sort member if declared)


def _trie(collections: Mapping[str, str]) -> _Trie:
    root: _Trie = {}
    for dotted, member in collections.items():
        keys = dotted.split(".")
        if not all(keys):
            raise _Declined  # the root itself or an empty key declared
        node = root
        for i, key in enumerate(keys):
            below, declared = node.get(key, ({}, None))
            node[key] = (below, member if i == len(keys) - 1 else declared)
            node = below
    return root


def _fast_bytes(document: Any, collections: Mapping[str, str]) -> bytes:
    return _dump(_prepared(document, _trie(collections) if collections else None))


def _dump(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _prepared(value: Any, node: _Trie | None) -> Any:
    """The value as orjson writes it canonically: floats as fragments of their ECMAScript text, declared
    lists ordered (`node`: the declared paths below this one); the value itself when nothing changes."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return orjson.Fragment(_es_number(value).encode("ascii"))
    if kind is dict:
        changed: dict[str, Any] | None = None
        for key, entry in value.items():
            # a dotted key would meet a declared path in the reference's joined paths; above U+D7FF the
            # UTF-16 order the keys are sorted by is not orjson's code point order
            if type(key) is not str or "." in key or (not key.isascii() and max(key) > "\ud7ff"):
                raise _Declined
            below = node.get(key) if node else None
            if below is None:
                new = _prepared(entry, None)
            elif below[1] is None or entry is None:
                new = _prepared(entry, below[0])
            else:
                new = _ordered(entry, below[0], below[1])
            if new is not entry:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if kind is list or kind is tuple:
        items = [_prepared(entry, node) for entry in value]  # lists are crossed without an index
        return items if kind is tuple or any(a is not b for a, b in zip(items, value, strict=True)) else value
    raise _Declined  # a subclass or another type: the reference accepts or refuses it


def _ordered(value: Any, node: _Trie, member: str) -> list[Any]:
    """A declared list in its deterministic order (as _order); the reference names what is wrong."""
    if type(value) is not list and type(value) is not tuple:
        raise _Declined
    keyed = []
    for entry in value:
        item = _prepared(entry, node)
        if member and (type(item) is not dict or member not in item):
            raise _Declined
        keyed.append((_dump(item[member] if member else item), item))
    keyed.sort(key=lambda pair: pair[0])
    for (key_a, item_a), (key_b, item_b) in pairwise(keyed):
        if key_a == key_b and member and _dump(item_a) != _dump(item_b):
            raise _Declined
    return [item for _, item in keyed]


def _sm3_openssl(data: bytes) -> str:
    """SM3 hex digest through OpenSSL's hashlib."""
    return hashlib.new("sm3", data).hexdigest()


def _sm3_gmalglib(data: bytes) -> str:
    """SM3 hex digest through gmalglib."""
    return SM3(bytes(data)).digest().hex()


try:
    hashlib.new("sm3")
    _sm3 = _sm3_openssl
except ValueError:  # an OpenSSL build without SM3
    _sm3 = _sm3_gmalglib


def sm3_hex(data: bytes) -> str:
    """The SM3 digest of data as 64 lower-case hex characters."""
    return _sm3(data)


def document_hash(document: Any, collections: Mapping[str, str] | None = None) -> str:
    """The SM3 hex digest of the document's canonical bytes."""
    return sm3_hex(canonical_bytes(document, collections))


def register_bytes(document: Any) -> bytes:
    """The bytes of a register document that are hashed and signed: its set-like lists in their
    deterministic order (FILING_SET_COLLECTIONS), then the canonical form."""
    return canonical_bytes(document, FILING_SET_COLLECTIONS)


def register_hash(document: Any) -> str:
    """The SM3 hex digest of a register document's signed bytes."""
    return sm3_hex(register_bytes(document))
