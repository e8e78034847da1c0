"""SM2 signatures (GB/T 32918, SM3 digest with the Z value of the default user id) over filing bytes.

Encodings, all lower-case hex:

* private key: 64 hex characters (the 32-byte scalar d, 1 <= d <= n - 2);
* public key: 130 hex characters, the uncompressed point ``04 || x || y``. ``validate_public_key`` also
  accepts the 128-character ``x || y`` form (gmssl's) and the 66-character compressed form
  (``02``/``03`` || x), and returns the uncompressed form;
* signature: 128 hex characters, the raw ``r || s`` (two 32-byte big-endian integers), which is what gmssl
  and sm-crypto produce by default and what Chinese platform APIs commonly exchange.

What the hub is given at its edge may come in the forms other libraries write: ``public_key_from`` also
reads PEM (SubjectPublicKeyInfo or an X.509 certificate), ``signature_from`` the ASN.1 DER
``SEQUENCE { r INTEGER, s INTEGER }`` of GM/T 0009 that OpenSSL, BouncyCastle and the JDK emit (as hex or
base64). Both answer the forms above, which are what the hub stores and passes on
(``contracts/filing-signature.md``).

The Z value uses ``DEFAULT_USER_ID`` (``1234567812345678``) unless a ``uid`` is given; signer and verifier
must agree on it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from gmalglib.sm2 import SM2, SM2_DEFAULT_UID, SM2_PCMODE_RAW
from gmalglib.sm3 import SM3

from services.kernel import sm2_der

DEFAULT_USER_ID: bytes = SM2_DEFAULT_UID

_HEX = re.compile(r"[0-9a-fA-F]*")
_PRIVATE_KEY_HEX_LENGTH = 64
_SIGNATURE_HEX_LENGTH = 128
_BYTES = (bytes, bytearray, memoryview)
# Longest text read as a public key (a certificate is 1-2 KB) or a signature (DER base64 is ~100 characters):
# beyond that it is refused before any parsing, so a huge input costs nothing.
MAX_PUBLIC_KEY_TEXT = 16_384
MAX_SIGNATURE_TEXT = 512


class Signer(StrEnum):
    """Who signs a filing."""

    LEGAL_REPRESENTATIVE = "legal_representative"
    ENTERPRISE_SEAL = "enterprise_seal"


@dataclass(frozen=True)
class KeyPair:
    """An SM2 key pair as hex (private key left out of repr)."""

    private_key_hex: str = field(repr=False)
    public_key_hex: str


def generate_keypair() -> KeyPair:
    """A fresh SM2 key pair from the library's CSPRNG."""
    private_key, public_key = SM2(pc_mode=SM2_PCMODE_RAW).generate_keypair()
    return KeyPair(private_key_hex=private_key.hex(), public_key_hex=public_key.hex())


def _hex_bytes(value: object, what: str) -> bytes:
    """Bytes of a hex string, ValueError naming what when it is not one."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be a hex string, got {type(value).__name__}")
    if not _HEX.fullmatch(value):
        raise ValueError(f"{what} must contain only hex digits")
    if len(value) % 2:
        raise ValueError(f"{what} has an odd number of hex digits ({len(value)})")
    return bytes.fromhex(value)


def validate_public_key(public_key_hex: str) -> str:
    """The uncompressed 130-hex form of an SM2 public key; ValueError if malformed or not on the curve."""
    raw = _hex_bytes(public_key_hex, "public key")
    if len(raw) == 64:
        raw = b"\x04" + raw
    if len(raw) == 65:
        if raw[0] != 0x04:
            raise ValueError(f"public key of 65 bytes must start with 04 (uncompressed), got {raw[:1].hex()}")
    elif len(raw) == 33:
        if raw[0] not in (0x02, 0x03):
            raise ValueError(f"compressed public key must start with 02 or 03, got {raw[:1].hex()}")
    else:
        raise ValueError(
            "public key must be 130 hex (04||x||y), 128 hex (x||y) or 66 hex (compressed),"
            f" got {len(raw) * 2}"
        )
    if not SM2.is_pk_valid(raw):
        raise ValueError("public key is not a valid point of the SM2 curve")
    return SM2.convert_pk(raw, SM2_PCMODE_RAW).hex()


def _private_key(private_key_hex: str) -> bytes:
    """Bytes of a private key, ValueError if it is malformed or out of range."""
    raw = _hex_bytes(private_key_hex, "private key")
    if len(raw) * 2 != _PRIVATE_KEY_HEX_LENGTH:
        raise ValueError(f"private key must be {_PRIVATE_KEY_HEX_LENGTH} hex characters, got {len(raw) * 2}")
    if not SM2.is_sk_valid(raw):
        raise ValueError("private key is out of range (must be 1 <= d <= n - 2)")
    return raw


def public_key_of(private_key_hex: str) -> str:
    """The uncompressed public key hex belonging to a private key."""
    return SM2.get_pk(_private_key(private_key_hex), SM2_PCMODE_RAW).hex()


# Building a signer derives the public key from the private one (~260 µs, more than signing a page):
# platforms and the hub sign with few keys, many times. gmalglib holds the GIL while it computes, so
# one object may serve every thread. Each key's Z value (GB/T 32918's hash of the user id, the curve and
# the public key) is kept with it: the digest e = SM3(Z || M) is then OpenSSL's SM3 over the message,
# several times faster than gmalglib's own on a register of tens of kilobytes.
@lru_cache(maxsize=256)
def _signer(private_key_hex: str, uid: bytes) -> tuple[SM2, bytes]:
    sm2 = SM2(sk=_private_key(private_key_hex), uid=uid)
    return sm2, sm2.get_entity_info()


@lru_cache(maxsize=4096)
def _verifier(public_key_hex: str, uid: bytes) -> tuple[SM2, bytes]:
    sm2 = SM2(pk=bytes.fromhex(validate_public_key(public_key_hex)), uid=uid)
    return sm2, sm2.get_entity_info()


def _digest_openssl(z: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """e = SM3(Z || M), the value SM2 signs (GB/T 32918.2, 6.1), through OpenSSL's SM3."""
    h = hashlib.new("sm3")
    h.update(z)
    h.update(data)
    return h.digest()


def _digest_gmalglib(z: bytes, data: bytes | bytearray | memoryview) -> bytes:
    """The same through gmalglib's SM3, for an OpenSSL built without it."""
    return SM3(z + bytes(data)).digest()


try:
    hashlib.new("sm3")
    _digest = _digest_openssl
except ValueError:
    _digest = _digest_gmalglib


def sign(private_key_hex: str, data: bytes | bytearray | memoryview, *, uid: bytes = DEFAULT_USER_ID) -> str:
    """The raw r||s SM2 signature of data as 128 hex characters (ValueError for a malformed key)."""
    if not isinstance(data, _BYTES):
        raise TypeError(f"data must be bytes, got {type(data).__name__}")
    signer, z = _signer(private_key_hex, bytes(uid))
    return signer.sign_digest(_digest(z, data)).hex()


def verify(
    public_key_hex: str, data: bytes | bytearray | memoryview, signature: str, *, uid: bytes = DEFAULT_USER_ID
) -> bool:
    """Whether signature is a valid raw r||s hex SM2 signature of data; False for any malformed input."""
    if not isinstance(data, _BYTES):
        return False
    try:
        if not isinstance(signature, str) or len(signature) != _SIGNATURE_HEX_LENGTH:
            return False
        if not isinstance(public_key_hex, str):
            return False
        raw_signature = _hex_bytes(signature, "signature")
        verifier, z = _verifier(public_key_hex, bytes(uid))
        return bool(verifier.verify_digest(_digest(z, data), raw_signature))
    except (ValueError, TypeError, OverflowError):
        return False


# -- the forms other libraries write, read at the hub's edge ------------------------------------------
def public_key_from(text: str) -> str:
    """The uncompressed hex of an SM2 public key given as hex (any form ``validate_public_key`` reads),
    as PEM SubjectPublicKeyInfo (``-----BEGIN PUBLIC KEY-----``) or as a PEM X.509 certificate (only its
    key is taken: its validity and issuer are not the hub's business). ValueError naming the problem."""
    if isinstance(text, str) and len(text) > MAX_PUBLIC_KEY_TEXT:
        raise ValueError(f"public key text is longer than {MAX_PUBLIC_KEY_TEXT} characters")
    if isinstance(text, str) and text.lstrip().startswith("-----BEGIN"):
        return validate_public_key(sm2_der.pem_point(text).hex())
    return validate_public_key(text)


def signature_from(text: str) -> str:
    """The raw r||s hex (128, lower case) of a signature given as raw r||s hex, or as ASN.1 DER in hex or
    base64. ValueError naming the problem; whether it verifies is ``verify``'s question."""
    if not isinstance(text, str) or not text:
        raise ValueError("no signature given: sign the canonical document")
    if len(text) > MAX_SIGNATURE_TEXT:
        raise ValueError(f"signature is longer than {MAX_SIGNATURE_TEXT} characters")
    if len(text) == _SIGNATURE_HEX_LENGTH and _HEX.fullmatch(text):
        # 64 bytes: raw r||s, or a DER of two short integers. Strict DER (SEQUENCE of two INTEGERs whose
        # lengths add up exactly) is read as DER; raw bytes are that only by a chance of about 2^-40.
        data = bytes.fromhex(text)
        if data[:1] == b"\x30":
            try:
                return sm2_der.signature_to_raw(data).hex()
            except ValueError:
                pass
        return text.lower()
    if _HEX.fullmatch(text):
        der = _hex_bytes(text, "signature")
        if not der.startswith(b"\x30"):
            raise ValueError(
                f"signature of {len(text)} hex characters is neither raw r||s (128) nor ASN.1 DER (starts 30)"
            )
    else:
        try:
            der = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("signature must be raw r||s hex (128), or ASN.1 DER as hex or base64") from None
    return sm2_der.signature_to_raw(der).hex()


def signature_der(signature_hex: str) -> bytes:
    """The ASN.1 DER form of a raw r||s hex signature (for libraries that verify only DER)."""
    return sm2_der.signature_to_der(_hex_bytes(signature_hex, "signature"))


def public_key_pem(public_key_hex: str) -> str:
    """The PEM SubjectPublicKeyInfo of an SM2 public key (what OpenSSL, the JDK and BouncyCastle read)."""
    point = bytes.fromhex(validate_public_key(public_key_hex))
    return sm2_der.pem("PUBLIC KEY", sm2_der.spki_der(point))


def private_key_pem(private_key_hex: str) -> str:
    """The unencrypted PKCS#8 PEM of an SM2 private key (``openssl pkey`` and ``PEMParser`` read it)."""
    point = bytes.fromhex(public_key_of(private_key_hex))
    return sm2_der.pem("PRIVATE KEY", sm2_der.pkcs8_der(_private_key(private_key_hex), point))


def private_key_from_pem(text: str) -> str:
    """The private key hex of the first PRIVATE KEY block of a PEM text (PKCS#8, unencrypted)."""
    for label, der in sm2_der.pem_blocks(text):
        if label == "PRIVATE KEY":
            raw = sm2_der.pkcs8_private(der).hex()
            _private_key(raw)
            return raw
        if label == "ENCRYPTED PRIVATE KEY":
            raise ValueError(
                "the private key is encrypted: export it unencrypted to a file only you can read"
            )
    raise ValueError("PEM holds no PRIVATE KEY block")
