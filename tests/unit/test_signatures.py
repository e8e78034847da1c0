"""SM2 signatures over filing bytes."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from services.kernel.canonical import FILING_SET_COLLECTIONS, canonical_bytes
from services.kernel.signatures import (
    DEFAULT_USER_ID,
    KeyPair,
    Signer,
    generate_keypair,
    public_key_of,
    sign,
    validate_public_key,
    verify,
)

# GB/T 32918.5-2017 (GM/T 0003.5-2012) Annex A: recommended curve, user id 1234567812345678.
STD_PRIVATE = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
STD_X = "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
STD_Y = "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
STD_PUBLIC = "04" + STD_X + STD_Y
STD_MESSAGE = b"message digest"
STD_SIGNATURE = (
    "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
)
N = int("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123", 16)
DATA = '{"enterprise":{"name":"福州某某化工有限公司"},"version":3}'.encode()


@pytest.fixture(scope="module")
def keys() -> KeyPair:
    return generate_keypair()


def test_generated_keypair_formats(keys: KeyPair) -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", keys.private_key_hex)
    assert re.fullmatch(r"04[0-9a-f]{128}", keys.public_key_hex)
    assert public_key_of(keys.private_key_hex) == keys.public_key_hex
    assert validate_public_key(keys.public_key_hex) == keys.public_key_hex
    assert keys.private_key_hex not in repr(keys)
    assert generate_keypair() != keys


def test_published_vector_verifies() -> None:
    assert public_key_of(STD_PRIVATE) == STD_PUBLIC
    assert verify(STD_PUBLIC, STD_MESSAGE, STD_SIGNATURE)
    assert verify(STD_PUBLIC, STD_MESSAGE, STD_SIGNATURE.upper())
    assert not verify(STD_PUBLIC, STD_MESSAGE, STD_SIGNATURE, uid=b"ALICE123@YAHOO.COM")
    assert DEFAULT_USER_ID == b"1234567812345678"


def test_sign_verify_round_trip(keys: KeyPair) -> None:
    signature = sign(keys.private_key_hex, DATA)
    assert re.fullmatch(r"[0-9a-f]{128}", signature)
    assert verify(keys.public_key_hex, DATA, signature)
    assert verify(keys.public_key_hex, bytearray(DATA), signature)
    other = sign(keys.private_key_hex, DATA)
    assert other != signature and verify(keys.public_key_hex, DATA, other)  # randomised k


@pytest.mark.parametrize("uid", [DEFAULT_USER_ID, b"91350100M000100Y43"])
def test_the_digest_made_beside_the_library_is_the_one_it_signs(keys: KeyPair, uid: bytes) -> None:
    """sign and verify hash Z || M themselves (OpenSSL's SM3) and hand gmalglib the digest: what they
    make and accept is exactly what gmalglib's whole-message sign and verify make and accept."""
    from gmalglib.sm2 import SM2

    from services.kernel import signatures

    register = random.Random(7).randbytes(60_000)  # a register of a few dozen risk points
    whole = SM2(pk=bytes.fromhex(keys.public_key_hex), uid=uid)
    ours = sign(keys.private_key_hex, register, uid=uid)
    assert whole.verify(register, bytes.fromhex(ours))
    theirs = SM2(sk=bytes.fromhex(keys.private_key_hex), uid=uid).sign(register).hex()
    assert verify(keys.public_key_hex, register, theirs, uid=uid)
    assert not verify(keys.public_key_hex, register[:-1], theirs, uid=uid)
    z = whole.get_entity_info()
    assert signatures._digest_openssl(z, register) == signatures._digest_gmalglib(z, register)


def test_round_trip_with_a_custom_user_id(keys: KeyPair) -> None:
    signature = sign(keys.private_key_hex, DATA, uid=b"91350100M000100Y43")
    assert verify(keys.public_key_hex, DATA, signature, uid=b"91350100M000100Y43")
    assert not verify(keys.public_key_hex, DATA, signature)


@pytest.mark.parametrize("position", [0, 1, len(DATA) // 2, len(DATA) - 1])
def test_changing_one_byte_of_the_data_fails(keys: KeyPair, position: int) -> None:
    signature = sign(keys.private_key_hex, DATA)
    tampered = bytearray(DATA)
    tampered[position] ^= 0x01
    assert not verify(keys.public_key_hex, bytes(tampered), signature)
    assert not verify(keys.public_key_hex, DATA + b" ", signature)
    assert not verify(keys.public_key_hex, DATA[:-1], signature)


def test_signature_from_another_key_fails(keys: KeyPair) -> None:
    other = generate_keypair()
    assert not verify(keys.public_key_hex, DATA, sign(other.private_key_hex, DATA))
    assert not verify(other.public_key_hex, DATA, sign(keys.private_key_hex, DATA))


def _flip(signature: str, index: int) -> str:
    return signature[:index] + format(int(signature[index], 16) ^ 1, "x") + signature[index + 1 :]


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "00",
        STD_SIGNATURE[:-2],
        STD_SIGNATURE + "00",
        STD_SIGNATURE[:-1] + "g",
        " " + STD_SIGNATURE[1:],
        "0" * 128,
        "f" * 128,
        "0" * 64 + STD_SIGNATURE[64:],
        STD_SIGNATURE[:64] + "0" * 64,
        format(N, "064x") + STD_SIGNATURE[64:],
        STD_SIGNATURE[64:] + STD_SIGNATURE[:64],
        _flip(STD_SIGNATURE, 0),
        _flip(STD_SIGNATURE, 127),
        "30440220" + STD_SIGNATURE[:64] + "0220" + STD_SIGNATURE[64:],  # DER is not accepted
        None,
        bytes.fromhex(STD_SIGNATURE),
        12345,
    ],
)
def test_malformed_or_wrong_signature_returns_false(bad: Any) -> None:
    assert verify(STD_PUBLIC, STD_MESSAGE, bad) is False


@pytest.mark.parametrize(
    "bad_key",
    ["", "04", STD_PUBLIC[:-2], "04" + "11" * 64, "05" + STD_PUBLIC[2:], "zz" * 65, None, 42],
)
def test_malformed_public_key_makes_verify_false(bad_key: Any) -> None:
    assert verify(bad_key, STD_MESSAGE, STD_SIGNATURE) is False


@pytest.mark.parametrize("bad_data", ["message digest", None, 14])
def test_non_bytes_data_makes_verify_false(bad_data: Any) -> None:
    assert verify(STD_PUBLIC, bad_data, STD_SIGNATURE) is False


def test_validate_public_key_normalises_the_accepted_forms() -> None:
    compressed = ("02" if int(STD_Y, 16) % 2 == 0 else "03") + STD_X
    assert validate_public_key(STD_PUBLIC) == STD_PUBLIC
    assert validate_public_key(STD_PUBLIC.upper()) == STD_PUBLIC
    assert validate_public_key(STD_X + STD_Y) == STD_PUBLIC
    assert validate_public_key(compressed) == STD_PUBLIC
    assert verify(compressed, STD_MESSAGE, STD_SIGNATURE)


@pytest.mark.parametrize(
    ("bad_key", "message"),
    [
        ("", "must be 130 hex"),
        ("04" + STD_X, "must start with 02 or 03"),
        (STD_X, "got 64"),
        (STD_PUBLIC + "00", "got 132"),
        ("abc", "odd number"),
        ("x" * 130, "only hex digits"),
        ("05" + STD_X + STD_Y, "must start with 04"),
        ("04" + _flip(STD_X, 63) + STD_Y, "not a valid point"),
        ("04" + "00" * 64, "not a valid point"),
        ("04" + STD_X + "0" * 64, "not a valid point"),
        ("05" + STD_X, "must start with 02 or 03"),
        (None, "must be a hex string"),
    ],
)
def test_validate_public_key_rejects_malformed_keys(bad_key: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_public_key(bad_key)


@pytest.mark.parametrize(
    ("bad_key", "message"),
    [
        ("", "64 hex characters"),
        (STD_PRIVATE[:-2], "64 hex characters"),
        ("g" * 64, "only hex digits"),
        ("0" * 64, "out of range"),
        (format(N - 1, "064x"), "out of range"),
        (format(N, "064x"), "out of range"),
    ],
)
def test_sign_rejects_malformed_private_keys(bad_key: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sign(bad_key, DATA)
    with pytest.raises(ValueError, match=message):
        public_key_of(bad_key)


def test_sign_rejects_non_bytes_data(keys: KeyPair) -> None:
    with pytest.raises(TypeError, match="bytes"):
        sign(keys.private_key_hex, "text")  # type: ignore[arg-type]


def test_signature_over_canonical_bytes_survives_reordering(keys: KeyPair) -> None:
    doc = {
        "risk_points": [
            {"id": "rp-1", "accident_types": ["火灾", "触电"]},
            {"id": "rp-2", "accident_types": []},
        ],
        "supervising_departments": [{"code": "yjj"}, {"code": "zjj"}],
    }
    signature = sign(keys.private_key_hex, canonical_bytes(doc, FILING_SET_COLLECTIONS))
    arrived: dict[str, Any] = {
        "supervising_departments": [{"code": "zjj"}, {"code": "yjj"}],
        "risk_points": [
            {"accident_types": [], "id": "rp-2"},
            {"id": "rp-1", "accident_types": ["触电", "火灾"]},
        ],
    }
    assert verify(keys.public_key_hex, canonical_bytes(arrived, FILING_SET_COLLECTIONS), signature)
    arrived["risk_points"][0]["accident_types"].append("其他伤害")
    assert not verify(keys.public_key_hex, canonical_bytes(arrived, FILING_SET_COLLECTIONS), signature)


def test_random_data_round_trips(keys: KeyPair) -> None:
    rng = random.Random(7)
    for size in (0, 1, 31, 64, 1000):
        data = rng.randbytes(size)
        assert verify(keys.public_key_hex, data, sign(keys.private_key_hex, data))


def test_signer_roles() -> None:
    assert Signer.LEGAL_REPRESENTATIVE == "legal_representative"
    assert Signer("enterprise_seal") is Signer.ENTERPRISE_SEAL
    assert [s.value for s in Signer] == ["legal_representative", "enterprise_seal"]
