"""The ASN.1 DER and PEM forms of SM2 keys and signatures that other libraries exchange.

Java (BouncyCastle, the JDK's providers), OpenSSL and most SM2 libraries give a signature as the DER
``SEQUENCE { r INTEGER, s INTEGER }`` (GM/T 0009) and a public key as a SubjectPublicKeyInfo (RFC 5480:
algorithm id-ecPublicKey with the named curve SM2, 1.2.156.10197.1.301) or inside an X.509 certificate;
a private key as PKCS#8 (RFC 5208) around an ECPrivateKey (RFC 5915). This module reads and writes those
forms, strictly (definite minimal lengths, minimal non-negative integers, nothing after the value), and
turns them into the raw bytes the hub keeps: ``r || s`` (64 bytes) and the uncompressed point
``04 || x || y`` (65 bytes). Checking that a point lies on the curve is ``signatures``' business.
"""

from __future__ import annotations

import base64
import binascii
import re

ORDER = int("fffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123", 16)
_EC_PUBLIC_KEY = bytes.fromhex("2a8648ce3d0201")  # 1.2.840.10045.2.1 id-ecPublicKey
_SM2_CURVE = bytes.fromhex("2a811ccf5501822d")  # 1.2.156.10197.1.301 sm2p256v1
_SEQUENCE, _INTEGER, _BIT_STRING, _OCTET_STRING, _OID = 0x30, 0x02, 0x03, 0x04, 0x06
_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


def _read(data: bytes, pos: int, what: str) -> tuple[int, int, int]:
    """(tag, start, end) of the DER element at pos: its content is data[start:end]."""
    if pos + 2 > len(data):
        raise ValueError(f"{what}: truncated")
    tag, first = data[pos], data[pos + 1]
    start = pos + 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError(f"{what}: not a DER length")
        length = int.from_bytes(data[start : start + count], "big")
        if length < 0x80 or data[start] == 0:
            raise ValueError(f"{what}: length not in its shortest form (DER)")
        start += count
    end = start + length
    if end > len(data):
        raise ValueError(f"{what}: truncated")
    return tag, start, end


def _expect(data: bytes, pos: int, tag: int, what: str) -> tuple[int, int]:
    found, start, end = _read(data, pos, what)
    if found != tag:
        raise ValueError(f"{what}: expected tag 0x{tag:02x}, found 0x{found:02x}")
    return start, end


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _element(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _integer(value: int) -> bytes:
    return _element(_INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid_text(content: bytes) -> str:
    """The dotted form of an OID's content bytes, for error messages."""
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return "?"
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in (first, arcs[0] - 40 * first, *arcs[1:]))


# -- signatures ------------------------------------------------------------------------------------
def signature_to_raw(der: bytes) -> bytes:
    """The 64-byte r || s of a DER SM2 signature; ValueError unless it is strict DER with 0 < r, s < n."""
    start, end = _expect(der, 0, _SEQUENCE, "signature")
    if end != len(der):
        raise ValueError("signature: bytes after the DER SEQUENCE")
    values, pos = [], start
    for name in ("r", "s"):
        begin, stop = _expect(der, pos, _INTEGER, f"signature {name}")
        content = der[begin:stop]
        if not content or content[0] & 0x80:
            raise ValueError(f"signature {name}: not a positive INTEGER")
        if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
            raise ValueError(f"signature {name}: INTEGER not in its shortest form (DER)")
        value = int.from_bytes(content, "big")
        if not 0 < value < ORDER:
            raise ValueError(f"signature {name}: out of range (must be 1 <= {name} <= n - 1)")
        values.append(value)
        pos = stop
    if pos != end:
        raise ValueError("signature: more than r and s in the SEQUENCE")
    return b"".join(v.to_bytes(32, "big") for v in values)


def signature_to_der(raw: bytes) -> bytes:
    """The DER SEQUENCE of a 64-byte r || s signature."""
    if len(raw) != 64:
        raise ValueError(f"raw signature must be 64 bytes (r || s), got {len(raw)}")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return _element(_SEQUENCE, _integer(r) + _integer(s))


# -- public keys -------------------------------------------------------------------------------------
def _algorithm(der: bytes, pos: int, what: str) -> int:
    """Checks an AlgorithmIdentifier of an SM2 key at pos (id-ecPublicKey, curve SM2); returns its end."""
    start, end = _expect(der, pos, _SEQUENCE, f"{what} algorithm")
    o_start, o_end = _expect(der, start, _OID, f"{what} algorithm")
    if der[o_start:o_end] != _EC_PUBLIC_KEY:
        raise ValueError(f"{what}: not an elliptic-curve key (algorithm {_oid_text(der[o_start:o_end])})")
    c_start, c_end = _read(der, o_end, f"{what} curve")[1:]
    if der[o_end] != _OID or der[c_start:c_end] != _SM2_CURVE:
        curve = _oid_text(der[c_start:c_end]) if der[o_end] == _OID else "explicit parameters"
        raise ValueError(f"{what}: not an SM2 key (curve {curve}; SM2 is 1.2.156.10197.1.301)")
    return end


def spki_point(der: bytes) -> bytes:
    """The public point (as encoded, normally 04 || x || y) of a DER SubjectPublicKeyInfo of an SM2 key."""
    start, end = _expect(der, 0, _SEQUENCE, "public key")
    if end != len(der):
        raise ValueError("public key: bytes after the SubjectPublicKeyInfo")
    b_start, b_end = _expect(der, _algorithm(der, start, "public key"), _BIT_STRING, "public key")
    if b_end != end or b_end - b_start < 2 or der[b_start] != 0:
        raise ValueError("public key: the key is not a whole BIT STRING ending the SubjectPublicKeyInfo")
    return der[b_start + 1 : b_end]


def certificate_spki(der: bytes) -> bytes:
    """The SubjectPublicKeyInfo (DER) inside a DER X.509 certificate; its signature is not checked."""
    start, end = _expect(der, 0, _SEQUENCE, "certificate")
    if end != len(der):
        raise ValueError("certificate: bytes after the certificate")
    pos, tbs_end = _expect(der, start, _SEQUENCE, "certificate tbsCertificate")
    if pos < tbs_end and der[pos] == 0xA0:  # [0] EXPLICIT version
        pos = _read(der, pos, "certificate version")[2]
    for what in ("serialNumber", "signature", "issuer", "validity", "subject"):
        pos = _read(der, pos, f"certificate {what}")[2]
    spki_start = pos
    pos = _expect(der, pos, _SEQUENCE, "certificate subjectPublicKeyInfo")[1]
    if pos > tbs_end:
        raise ValueError("certificate: subjectPublicKeyInfo runs past the tbsCertificate")
    return der[spki_start:pos]


def spki_der(point: bytes) -> bytes:
    """The DER SubjectPublicKeyInfo of an SM2 public point (04 || x || y)."""
    algorithm = _element(_SEQUENCE, _element(_OID, _EC_PUBLIC_KEY) + _element(_OID, _SM2_CURVE))
    return _element(_SEQUENCE, algorithm + _element(_BIT_STRING, b"\x00" + point))


# -- private keys (the enterprise's key file) -----------------------------------------------------------
def pkcs8_der(private: bytes, point: bytes) -> bytes:
    """PKCS#8 PrivateKeyInfo of an SM2 key: what OpenSSL, BouncyCastle and the JDK read as PRIVATE KEY."""
    algorithm = _element(_SEQUENCE, _element(_OID, _EC_PUBLIC_KEY) + _element(_OID, _SM2_CURVE))
    ec_private = _element(
        _SEQUENCE,
        _integer(1)
        + _element(_OCTET_STRING, private.rjust(32, b"\x00"))
        + _element(0xA1, _element(_BIT_STRING, b"\x00" + point)),
    )
    return _element(_SEQUENCE, _integer(0) + algorithm + _element(_OCTET_STRING, ec_private))


def pkcs8_private(der: bytes) -> bytes:
    """The 32-byte private scalar of a PKCS#8 PrivateKeyInfo of an SM2 key (unencrypted)."""
    start, end = _expect(der, 0, _SEQUENCE, "private key")
    if end != len(der):
        raise ValueError("private key: bytes after the PrivateKeyInfo")
    pos = _expect(der, start, _INTEGER, "private key version")[1]
    o_start, o_end = _expect(der, _algorithm(der, pos, "private key"), _OCTET_STRING, "private key")
    e_start = _expect(der, o_start, _SEQUENCE, "private key ECPrivateKey")[0]
    k_start, k_end = _expect(der, _expect(der, e_start, _INTEGER, "private key")[1], _OCTET_STRING, "key")
    if k_end - k_start > 32 or o_end > end:
        raise ValueError("private key: not a 256-bit SM2 private key")
    return der[k_start:k_end].rjust(32, b"\x00")


# -- text forms ---------------------------------------------------------------------------------------------
def pem(label: str, der: bytes) -> str:
    """PEM armour (RFC 7468) around DER bytes."""
    body = base64.b64encode(der).decode("ascii")
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {label}-----\n{lines}\n-----END {label}-----\n"


def pem_blocks(text: str) -> list[tuple[str, bytes]]:
    """Every (label, DER) of a PEM text, in order; ValueError for armour around something not base64."""
    blocks = []
    for label, body in _PEM.findall(text):
        try:
            blocks.append((label, base64.b64decode("".join(body.split()), validate=True)))
        except binascii.Error as error:
            raise ValueError(f"PEM {label}: not base64 ({error})") from None
    return blocks


def pem_point(text: str) -> bytes:
    """The public point of the first PUBLIC KEY or CERTIFICATE in a PEM text."""
    for label, der in pem_blocks(text):
        if label == "PUBLIC KEY":
            return spki_point(der)
        if label == "CERTIFICATE":
            return spki_point(certificate_spki(der))
    raise ValueError("PEM holds no PUBLIC KEY or CERTIFICATE block")
