"""The DER and PEM forms of SM2 signatures and keys: read strictly, written as OpenSSL writes them."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kernel import signatures, sm2_der
from tests.vectors import key

N = sm2_der.ORDER
scalars = st.integers(min_value=1, max_value=N - 1)


@given(scalars, scalars)
def test_raw_and_der_round_trip_for_any_r_and_s(r: int, s: int) -> None:
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    der = sm2_der.signature_to_der(raw)
    assert sm2_der.signature_to_raw(der) == raw
    assert signatures.signature_from(der.hex()) == raw.hex()
    assert signatures.signature_from(base64.b64encode(der).decode()) == raw.hex()
    assert signatures.signature_from(raw.hex().upper()) == raw.hex()


@given(st.binary(max_size=90))
def test_any_bytes_are_a_signature_or_a_value_error(data: bytes) -> None:
    for text in (data.hex(), base64.b64encode(data).decode(), data.decode("latin-1")):
        try:
            assert len(signatures.signature_from(text)) == 128
        except ValueError:
            pass


def _der(r: bytes, s: bytes, tail: bytes = b"") -> str:
    body = b"\x02" + bytes([len(r)]) + r + b"\x02" + bytes([len(s)]) + s + tail
    return (b"\x30" + bytes([len(body)]) + body).hex()


ONE = b"\x01"
R = bytes.fromhex("7f" + "11" * 31)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (_der(b"\x00" + R, ONE), "shortest form"),  # a needless leading zero
        (_der(b"\x80" + R[1:], ONE), "not a positive INTEGER"),  # negative
        (_der(b"\x00", ONE), "out of range"),  # r = 0
        (_der(b"\x00" + N.to_bytes(32, "big"), ONE), "out of range"),  # r = n
        (_der(R, ONE, tail=b"\x02\x01\x01"), "more than r and s"),
        (_der(R, ONE) + "00", "bytes after"),
        (_der(R, ONE)[:-2], "truncated"),
        ("3085" + _der(R, ONE)[2:], "not a DER length"),  # five length bytes
        ("3080" + _der(R, ONE)[4:], "not a DER length"),  # BER's indefinite length
        ("3125" + _der(R, ONE)[4:], "starts 30"),  # a SET, not a SEQUENCE
        ("30", "truncated"),
        ("", "no signature given"),
        ("zz" * 64, "raw r||s hex"),
        ("ab" * 63, "neither raw r||s"),
    ],
)
def test_malformed_signatures_are_refused_naming_the_rule(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        signatures.signature_from(text)


def test_a_long_form_length_that_could_be_short_is_not_der() -> None:
    good = bytes.fromhex(_der(R, ONE))
    padded = b"\x30\x81" + good[1:]
    with pytest.raises(ValueError, match="shortest form"):
        sm2_der.signature_to_raw(padded)


def test_every_truncation_of_a_certificate_or_key_is_refused() -> None:
    seal = key("enterprise_seal")
    for label, der in sm2_der.pem_blocks(seal["certificate_pem"] + seal["public_key_pem"]):
        for cut in range(len(der)):
            armour = sm2_der.pem(label, der[:cut])
            with pytest.raises(ValueError):
                signatures.public_key_from(armour)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "not base64"),
        (
            "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n",
            "no PUBLIC KEY or CERTIFICATE",
        ),
        ("-----BEGIN PUBLIC KEY-----\nMAA=\n", "no PUBLIC KEY or CERTIFICATE"),  # no END line
        (sm2_der.pem("PUBLIC KEY", sm2_der.spki_der(b"\x04" + b"\x01" * 64)), "not a valid point"),
    ],
)
def test_malformed_pem_public_keys_are_refused(text: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule):
        signatures.public_key_from(text)


def test_private_key_files_round_trip_and_refuse_what_they_cannot_use() -> None:
    pair = signatures.generate_keypair()
    pem = signatures.private_key_pem(pair.private_key_hex)
    assert pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert signatures.private_key_from_pem(pem) == pair.private_key_hex
    encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"
    with pytest.raises(ValueError, match="encrypted"):
        signatures.private_key_from_pem(encrypted)
    with pytest.raises(ValueError, match="no PRIVATE KEY"):
        signatures.private_key_from_pem(signatures.public_key_pem(pair.public_key_hex))


def test_huge_inputs_are_refused_before_any_parsing() -> None:
    flood = "-----BEGIN PUBLIC KEY-----\n" * 2_000
    with pytest.raises(ValueError, match="longer than 16384"):
        signatures.public_key_from(flood)
    with pytest.raises(ValueError, match="longer than 512"):
        signatures.signature_from("30" * 300)
    seal = key("enterprise_seal")
    assert signatures.public_key_from(seal["certificate_pem"]) == seal["public_key_hex"]  # well under
