"""Canonical bytes and SM3 hash of register documents."""

from __future__ import annotations

import copy
import random
import struct
import subprocess
import sys
from datetime import date
from decimal import Decimal
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.kernel import canonical
from services.kernel.canonical import (
    FILING_SET_COLLECTIONS,
    canonical_bytes,
    document_hash,
    reference_bytes,
    sm3_hex,
    sort_collections,
)


def _filing() -> dict[str, Any]:
    """A small filing document in the shape the compiler is expected to produce."""
    return {
        "enterprise": {
            "credit_code": "91350100M000100Y43",
            "name": "福州某某化工有限公司",
            "legal_representative": "张三",
            "address": "福建省福州市鼓楼区某路1号",
        },
        "version": 3,
        "risk_points": [
            {
                "id": "rp-002",
                "name": "液氨储罐区",
                "location": "厂区东侧",
                "level": 1,
                "accident_types": ["火灾", "中毒和窒息", "容器爆炸"],
                "control_measures": [
                    {"type": "在线监测", "description": "氨气浓度在线监测报警"},
                    {"type": "制度管理", "description": "每班巡检"},
                ],
                "hidden_dangers": [
                    {"id": "hd-010", "grade": "重大", "measures": ["停用储罐", "更换阀门"]},
                    {"id": "hd-007", "grade": "一般", "measures": ["补漆"]},
                ],
                "responsible": {"person": "李四", "mobile": "13800138000"},
            },
            {
                "id": "rp-001",
                "name": "配电室",
                "location": "二号楼",
                "level": 4,
                "accident_types": ["触电"],
                "control_measures": [],
                "hidden_dangers": [],
                "responsible": {"person": "王五", "mobile": "13900139000"},
            },
        ],
        "supervising_departments": [{"code": "yjj", "name": "应急管理局"}, {"code": "zjj", "name": "住建局"}],
        "lec": {"L": 0.5, "E": 6, "C": 40, "D": 120.0},
    }


def _reinsert(value: Any, rng: random.Random, collections: dict[str, str], path: str = "") -> Any:
    """The same data rebuilt with shuffled dict insertion order and shuffled declared lists."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {k: _reinsert(value[k], rng, collections, f"{path}.{k}" if path else k) for k in keys}
    if isinstance(value, list):
        items = [_reinsert(item, rng, collections, path) for item in value]
        if path in collections:
            rng.shuffle(items)
        return items
    return value


@pytest.mark.parametrize("seed", range(20))
def test_same_data_in_any_key_and_set_order_gives_same_bytes(seed: int) -> None:
    doc = _filing()
    shuffled = _reinsert(doc, random.Random(seed), FILING_SET_COLLECTIONS)
    assert canonical_bytes(shuffled, FILING_SET_COLLECTIONS) == canonical_bytes(doc, FILING_SET_COLLECTIONS)
    assert document_hash(shuffled, FILING_SET_COLLECTIONS) == document_hash(doc, FILING_SET_COLLECTIONS)


def test_key_insertion_order_alone_never_matters() -> None:
    a = {"b": 1, "a": {"y": [1, 2], "x": None}}
    b = {"a": {"x": None, "y": [1, 2]}, "b": 1}
    assert canonical_bytes(a) == canonical_bytes(b) == b'{"a":{"x":null,"y":[1,2]},"b":1}'


def test_undeclared_lists_keep_their_order() -> None:
    assert canonical_bytes({"steps": [2, 1]}) != canonical_bytes({"steps": [1, 2]})
    assert canonical_bytes({"steps": [2, 1]}, {"other": ""}) == b'{"steps":[2,1]}'


def test_declared_lists_are_ordered_by_member_then_whole_item() -> None:
    doc = {"points": [{"id": "b", "tags": ["y", "x"]}, {"id": "a", "tags": []}]}
    ordered = sort_collections(doc, {"points": "id", "points.tags": ""})
    assert ordered == {"points": [{"id": "a", "tags": []}, {"id": "b", "tags": ["x", "y"]}]}
    assert doc["points"][0]["id"] == "b" and doc["points"][0]["tags"] == ["y", "x"]  # input untouched


def test_whole_item_ordering_sees_inner_sets_already_ordered() -> None:
    collections = {"measures": "", "measures.steps": ""}
    a = {"measures": [{"steps": ["b", "a"]}, {"steps": ["c"]}]}
    b = {"measures": [{"steps": ["c"]}, {"steps": ["a", "b"]}]}
    assert canonical_bytes(a, collections) == canonical_bytes(b, collections)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["risk_points"][0]["responsible"].update(mobile="13800138001"),
        lambda d: d["risk_points"][1].update(level=3),
        lambda d: d["risk_points"][0]["accident_types"].append("其他伤害"),
        lambda d: d["risk_points"][1]["hidden_dangers"].append(d["risk_points"][0]["hidden_dangers"].pop()),
        lambda d: d["enterprise"].update(name=d["enterprise"]["name"] + " "),
        lambda d: d.update(version="3"),
        lambda d: d["lec"].update(L=0.2),
        lambda d: d["supervising_departments"].pop(),
    ],
)
def test_different_data_gives_different_bytes_and_hash(change: Any) -> None:
    doc = _filing()
    changed = copy.deepcopy(doc)
    change(changed)
    assert canonical_bytes(changed, FILING_SET_COLLECTIONS) != canonical_bytes(doc, FILING_SET_COLLECTIONS)
    assert document_hash(changed, FILING_SET_COLLECTIONS) != document_hash(doc, FILING_SET_COLLECTIONS)


def test_non_ascii_is_raw_utf8_not_escaped() -> None:
    data = canonical_bytes({"名称": "液氨储罐区 😀"})
    assert data == '{"名称":"液氨储罐区 😀"}'.encode()
    assert b"\\u" not in data


def test_string_escapes_follow_rfc8785() -> None:
    text = '\x00\x08\t\n\x0b\x0c\r\x1f"\\/\x7f'
    assert canonical_bytes(text) == b'"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\x7f"'


def test_rfc8785_section_3_2_2_example() -> None:
    doc = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_bytes(doc) == expected.encode()


def test_rfc8785_section_3_2_3_keys_sort_by_utf16_code_units() -> None:
    doc = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = [v.split('"')[0] for v in canonical_bytes(doc).decode().split('":"')[1:]]
    assert order == [
        "Carriage Return",
        "One",
        "Control",
        "Latin Small Letter O With Diaeresis",
        "Euro Sign",
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


# RFC 8785 Appendix B: IEEE 754 bit patterns and their ES6 serialisation.
@pytest.mark.parametrize(
    ("bits", "text"),
    [
        ("0000000000000000", "0"),
        ("8000000000000000", "0"),
        ("0000000000000001", "5e-324"),
        ("8000000000000001", "-5e-324"),
        ("7fefffffffffffff", "1.7976931348623157e+308"),
        ("ffefffffffffffff", "-1.7976931348623157e+308"),
        ("4340000000000000", "9007199254740992"),
        ("c340000000000000", "-9007199254740992"),
        ("4430000000000000", "295147905179352830000"),
        ("44b52d02c7e14af5", "9.999999999999997e+22"),
        ("44b52d02c7e14af6", "1e+23"),
        ("44b52d02c7e14af7", "1.0000000000000001e+23"),
        ("444b1ae4d6e2ef4e", "999999999999999700000"),
        ("444b1ae4d6e2ef4f", "999999999999999900000"),
        ("444b1ae4d6e2ef50", "1e+21"),
        ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
        ("3eb0c6f7a0b5ed8d", "0.000001"),
        ("41b3de4355555553", "333333333.3333332"),
        ("41b3de4355555554", "333333333.33333325"),
        ("41b3de4355555555", "333333333.3333333"),
        ("41b3de4355555556", "333333333.3333334"),
        ("41b3de4355555557", "333333333.33333343"),
        ("becbf647612f3696", "-0.0000033333333333333333"),
        ("43143ff3c1cb0959", "1424953923781206.2"),
    ],
)
def test_numbers_follow_es6(bits: str, text: str) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_bytes(value) == text.encode()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_rejected(value: float) -> None:
    with pytest.raises(ValueError, match="finite"):
        canonical_bytes({"x": value})


def test_integers_are_written_exactly_and_equal_integral_floats() -> None:
    assert canonical_bytes([1, 1.0, -0.0, 120.0, 2**64]) == b"[1,1,0,120,18446744073709551616]"
    assert canonical_bytes(True) == b"true" and canonical_bytes("1") != canonical_bytes(1)


@pytest.mark.parametrize("value", [Decimal("0.5"), {1, 2}, date(2025, 9, 15), b"x", object()])
def test_values_outside_json_are_rejected(value: Any) -> None:
    with pytest.raises(TypeError):
        canonical_bytes({"x": value})


def test_non_string_keys_are_rejected() -> None:
    with pytest.raises(TypeError, match="member names"):
        canonical_bytes({1: "one"})


def test_lone_surrogates_are_rejected() -> None:
    with pytest.raises(ValueError, match="Unicode"):
        canonical_bytes({"x": "\ud800"})


def test_conflicting_items_with_one_sort_key_are_rejected() -> None:
    doc = {"risk_points": [{"id": "rp-1", "level": 1}, {"id": "rp-1", "level": 2}]}
    with pytest.raises(ValueError, match="share the sort key"):
        canonical_bytes(doc, {"risk_points": "id"})
    same = {"risk_points": [{"id": "rp-1", "level": 1}, {"level": 1, "id": "rp-1"}]}
    expected = b'{"risk_points":[{"id":"rp-1","level":1},{"id":"rp-1","level":1}]}'
    assert canonical_bytes(same, {"risk_points": "id"}) == expected


def test_items_without_the_sort_member_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"risk_points\[1\]: item has no 'id'"):
        sort_collections({"risk_points": [{"id": "a"}, {"name": "b"}]}, {"risk_points": "id"})
    with pytest.raises(ValueError, match="no 'id'"):
        sort_collections({"risk_points": ["a"]}, {"risk_points": "id"})


def test_declared_path_holding_a_non_list_is_rejected_but_none_is_allowed() -> None:
    with pytest.raises(ValueError, match="declared a set-like list"):
        sort_collections({"risk_points": {"id": "a"}}, {"risk_points": "id"})
    assert sort_collections({"risk_points": None}, {"risk_points": "id"}) == {"risk_points": None}
    assert sort_collections({}, {"risk_points": "id"}) == {}


def test_sm3_known_vectors() -> None:
    assert sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"


def test_sm3_gmalglib_fallback_agrees() -> None:
    abc = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert canonical._sm3_gmalglib(b"abc") == abc
    for data in (b"", "一企一册".encode() * 100, bytes(range(256))):
        assert canonical._sm3_gmalglib(data) == sm3_hex(data)


def test_document_hash_is_sm3_of_canonical_bytes() -> None:
    doc = _filing()
    assert document_hash(doc) == sm3_hex(canonical_bytes(doc))
    assert len(document_hash(doc)) == 64


# -- the fast path (orjson after one walk) writes what the reference encoder writes ---------------------
class _Grade(StrEnum):
    MAJOR = "重大"


class _Level(IntEnum):
    ONE = 1


_KEYS = st.sampled_from(
    ["id", "name", "level", "accident_types", "measures", "a.b", "é", "中", "\ue000", "😀"]
)
_TEXT = st.text(st.characters(codec="utf-8"), max_size=8) | st.sampled_from(
    ["", '\x00\x1f\x7f"\\', "\u2028", "物体打击", "a", "b", "\ud800"]
)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
    | st.sampled_from([_Grade.MAJOR, _Level.ONE, Decimal("1.5"), date(2016, 9, 15)])
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_KEYS | _TEXT, inner, max_size=4)
    ),
    max_leaves=25,
)
# what registers hold: the fast path's own case (the values above mostly go to the reference encoder)
_PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8"), max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "x", "é", "中"]), inner, max_size=3)
    ),
    max_leaves=12,
)
_DECLARED = {"points": "id", "points.measures": "", "points.accident_types": "", "codes": ""}


@st.composite
def _registers(draw: Any, values: Any) -> Any:
    document = draw(st.dictionaries(st.sampled_from(["name", "level", "中"]), values, max_size=3))
    if draw(st.booleans()):
        document["points"] = None
    else:
        points = []
        for _ in range(draw(st.integers(0, 5))):
            point = draw(st.dictionaries(st.sampled_from(["name", "level", "x"]), values, max_size=3))
            if draw(st.integers(0, 9)):  # mostly with its id (a missing one is refused)
                point["id"] = draw(st.sampled_from(["p1", "p2", "p3", 3, 1.5, "点"]))
            for key in ("measures", "accident_types"):
                if draw(st.booleans()):
                    point[key] = draw(st.lists(values, max_size=4))
            points.append(point)
        document["points"] = points
    document["codes"] = draw(st.lists(st.sampled_from(["b", "a", "中", 2, 1.0, None]), max_size=5) | values)
    return document


def _outcome(encode: Any, *args: Any) -> Any:
    try:
        return encode(*args)
    except Exception as error:  # noqa: BLE001 - the same refusal either way
        return type(error)


@settings(max_examples=1500, deadline=None)
@given(_VALUES)
def test_the_fast_path_writes_any_value_as_the_reference_does(value: Any) -> None:
    assert _outcome(canonical_bytes, value) == _outcome(reference_bytes, value)


@settings(max_examples=1500, deadline=None)
@given(_registers(_PLAIN) | _registers(_VALUES))
def test_the_fast_path_orders_declared_lists_as_the_reference_does(document: Any) -> None:
    assert _outcome(canonical_bytes, document, _DECLARED) == _outcome(reference_bytes, document, _DECLARED)


def test_the_fast_path_writes_a_register_and_leaves_it_untouched() -> None:
    doc = _filing()
    before = copy.deepcopy(doc)
    assert canonical._fast_bytes(doc, FILING_SET_COLLECTIONS) == reference_bytes(doc, FILING_SET_COLLECTIONS)
    assert doc == before


@pytest.mark.parametrize(
    ("document", "collections"),
    [
        # a dotted key is a declared path to the reference (paths are joined with dots)
        ({"points.measures": ["b", "a"]}, {"points.measures": ""}),
        ({"points": [{"id": "p", "measures.x": [2, 1]}]}, {"points": "id", "points.measures.x": ""}),
        # beyond U+D7FF the UTF-16 order of keys differs from their code points' order
        ({"\ue000": 1, "😀": 2, "a": 3}, {}),
    ],
)
def test_the_fast_path_declines_what_only_the_reference_writes_right(
    document: Any, collections: dict[str, str]
) -> None:
    assert canonical_bytes(document, collections) == reference_bytes(document, collections)
    with pytest.raises(canonical._Declined):
        canonical._fast_bytes(document, collections)


def test_without_orjson_the_module_loads_and_the_reference_encoder_writes() -> None:
    """The standalone signer (hubsign.pyz) bundles this module where orjson cannot be imported."""
    code = (
        "import sys; sys.modules['orjson'] = None\n"  # import orjson raises ImportError
        "from services.kernel import canonical\n"
        "print(canonical.canonical_bytes({'b': 1.0, 'a': ['x', 2]}).decode())"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert done.stdout.strip() == '{"a":["x",2],"b":1}'
