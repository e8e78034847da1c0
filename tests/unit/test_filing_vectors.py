"""The hub and OpenSSL 3 (a third opinion, independent of gmalglib) agree with the filing-signature
vectors of contracts/: canonical bytes, digests, Z values, key forms and every signature's verdict."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path
from typing import Any

import pytest

from services.kernel import canonical, signatures, sm2_der
from tests.vectors import case_id, key, message, signature_cases, vectors

# GB/T 32918.1 recommended curve parameters, for computing Z here by the spec's own formula.
A = "fffffffeffffffffffffffffffffffffffffffff00000000fffffffffffffffc"
B = "28e9fa9e9d9f5e344d5a9e4bcf6509a7f39789f515ab8f92ddbcbd414d940e93"
GX = "32c4ae2c1f1981195f9904466a39c9948fe30bbff2660be1715a4589334c74c7"
GY = "bc3736a2f4f6779c59bdcee36b692153d0a9877cc62a474002df32e52139f0a0"


def test_the_register_document_canonicalises_to_the_vector_bytes() -> None:
    data = message("register")
    assert canonical.register_bytes(vectors()["document"]) == data
    assert canonical.sm3_hex(data) == next(m for m in vectors()["messages"] if m["name"] == "register")["sm3"]
    assert message("register_pretty") != data  # the mistake one vector is about: re-serialising


@pytest.mark.parametrize("name", [k["name"] for k in vectors()["keys"]])
def test_keys_and_z_values(name: str) -> None:
    entry = key(name)
    assert signatures.public_key_of(entry["private_key_hex"]) == entry["public_key_hex"]
    uid = vectors()["user_id"].encode()
    point = bytes.fromhex(entry["public_key_hex"])[1:]
    z = hashlib.new("sm3", (len(uid) * 8).to_bytes(2, "big") + uid + bytes.fromhex(A + B + GX + GY) + point)
    assert z.hexdigest() == entry["z_hex"]
    if "private_key_pem" in entry:  # OpenSSL wrote these: the hub reads them and writes the same bytes
        assert signatures.private_key_from_pem(entry["private_key_pem"]) == entry["private_key_hex"]
        assert signatures.private_key_pem(entry["private_key_hex"]) == entry["private_key_pem"]
        assert signatures.public_key_pem(entry["public_key_hex"]) == entry["public_key_pem"]
        assert signatures.public_key_from(entry["public_key_pem"]) == entry["public_key_hex"]


@pytest.mark.parametrize("case", signature_cases(), ids=case_id)
def test_the_hub_gives_every_signature_its_verdict(case: dict[str, Any]) -> None:
    public = key(case["key"])["public_key_hex"]
    data = message(case["message"])
    z = bytes.fromhex(key(case["key"])["z_hex"])
    assert hashlib.new("sm3", z + data).hexdigest() == case["e_hex"]
    assert signatures.verify(public, data, signatures.signature_from(case["signature"])) is case["valid"]


@pytest.mark.parametrize("case", vectors()["edge"]["public_keys"], ids=lambda c: c["form"])
def test_public_key_forms_at_the_edge(case: dict[str, Any]) -> None:
    if "stored" in case:
        assert signatures.public_key_from(case["input"]) == case["stored"]
    else:
        with pytest.raises(ValueError, match=case["refused"]):
            signatures.public_key_from(case["input"])


@pytest.mark.parametrize("case", vectors()["edge"]["signatures"], ids=lambda c: c["form"])
def test_signature_forms_at_the_edge(case: dict[str, Any]) -> None:
    if "stored" in case:
        assert signatures.signature_from(case["input"]) == case["stored"]
    else:
        with pytest.raises(ValueError, match=case["refused"]):
            signatures.signature_from(case["input"])


# -- OpenSSL 3 ---------------------------------------------------------------------------------------------
def _openssl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *args], capture_output=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def openssl_sm2() -> None:
    """OpenSSL 3 with SM2 is the third opinion: the test fails (never skips) without it."""
    listed = _openssl("list", "-signature-algorithms").stdout.decode()
    assert "SM2" in listed, "openssl with SM2 is needed (Debian's openssl 3 has it)"


def _openssl_verifies(public_pem: str, data: bytes, der: bytes, tmp: Path) -> bool:
    (tmp / "pub.pem").write_text(public_pem)
    (tmp / "message").write_bytes(data)
    (tmp / "sig").write_bytes(der)
    args = ["-pubin", "-inkey", str(tmp / "pub.pem"), "-rawin", "-digest", "sm3"]
    result = _openssl(
        "pkeyutl", "-verify", *args, "-pkeyopt", "distid:1234567812345678",
        "-in", str(tmp / "message"), "-sigfile", str(tmp / "sig"),
    )  # fmt: skip
    return result.returncode == 0 and b"Verified Successfully" in result.stdout


@pytest.mark.parametrize("case", signature_cases(), ids=case_id)
def test_openssl_gives_every_signature_the_same_verdict(
    case: dict[str, Any], tmp_path: Path, openssl_sm2: None
) -> None:
    public_pem = signatures.public_key_pem(key(case["key"])["public_key_hex"])
    der = signatures.signature_der(signatures.signature_from(case["signature"]))
    assert _openssl_verifies(public_pem, message(case["message"]), der, tmp_path) is case["valid"]


def test_openssl_verifies_what_the_hub_signs_and_reads_its_key_files(
    tmp_path: Path, openssl_sm2: None
) -> None:
    pair = signatures.generate_keypair()
    data = message("register")
    der = signatures.signature_der(signatures.sign(pair.private_key_hex, data))
    public_pem = signatures.public_key_pem(pair.public_key_hex)
    assert _openssl_verifies(public_pem, data, der, tmp_path)
    assert not _openssl_verifies(public_pem, data + b" ", der, tmp_path)
    (tmp_path / "key.pem").write_text(signatures.private_key_pem(pair.private_key_hex))
    derived = _openssl("pkey", "-in", str(tmp_path / "key.pem"), "-pubout")
    assert derived.returncode == 0 and derived.stdout.decode() == public_pem


def test_openssl_finds_the_certificate_key_the_hub_finds(tmp_path: Path, openssl_sm2: None) -> None:
    seal = key("enterprise_seal")
    (tmp_path / "cert.pem").write_text(seal["certificate_pem"])
    spki = _openssl("x509", "-in", str(tmp_path / "cert.pem"), "-noout", "-pubkey").stdout.decode()
    assert spki == seal["public_key_pem"]
    assert sm2_der.pem_point(seal["certificate_pem"]).hex() == seal["public_key_hex"]
