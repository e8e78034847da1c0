"""Writes contracts/vectors/filing-signature.json: the test vectors of contracts/filing-signature.md.

    .venv/bin/python scripts/make_filing_vectors.py [--out contracts/vectors/filing-signature.json]

Run once; the file is committed and every implementation checks it as it is (SM2 signatures are
randomised, so running this again writes other keys and signatures, equally valid). Two implementations
make the vectors: the enterprises' keys, the certificate and the DER signatures come from OpenSSL 3's
command line (``openssl genpkey/req/pkeyutl``), the raw signatures from the hub's own module (gmalglib).
"""

from __future__ import annotations

import argparse
import base64
import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from gmalglib.sm2 import SM2

from services.kernel import canonical, signatures, sm2_der

ROOT = Path(__file__).resolve().parents[1]
DISTID = "distid:1234567812345678"
# GB/T 32918.5-2017 Annex A (recommended curve, user id 1234567812345678): a published key and signature.
PUBLISHED = {
    "private_key_hex": "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
    "signature": "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
    "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa",
}
# Risk points and departments out of order, members unsorted, pretty-printed: the canonical form is
# what the hub makes of it (and what an ERP receives from CompileRegister).
DOCUMENT: dict[str, Any] = {
    "format": "hub.register/v1",
    "supervising_departments": [
        {"name": "张山子镇安委会办公室", "code": "TOWN-ZSZ", "kind": "镇安委会办公室"},
        {"name": "台儿庄区应急管理局", "code": "AJJ-TEZ", "kind": "安监"},
    ],
    "enterprise": {
        "uscc": "91350100M000100Y43",
        "name": "台儿庄区示例化工有限公司",
        "enterprise_id": "6f1c2f8e-8a39-5f5e-9a57-3c1d2b0e4a11",
        "legal_representative": "王五",
        "legal_representative_mobile": "13800138000",
        "industry": "化工",
        "address": "张山子镇工业园1号\t(东区)",
        "town": "张山子镇",
    },
    "risk_points": [
        {
            "id": "b2c4e6f8-0000-5000-8000-000000000002",
            "external_id": "RP-002",
            "name": "液氨储罐区",
            "location": "东区2号罐",
            "category": "设备设施",
            "accident_types": ["容器爆炸", "中毒和窒息", "火灾"],
            "level": 1,
            "colour": "红",
            "control_tier": "公司",
            "responsible_unit": "储运车间",
            "responsible_person": "李安全",
            "responsible_mobile": "13912345678",
            "control_measures": [
                {"type": "在线监测", "description": "液位、压力、氨浓度在线监测，超限报警"},
                {"type": "制度管理", "description": "每班巡检两次"},
            ],
            "emergency_measures": ["启动喷淋", "疏散下风向人员"],
            "hidden_dangers": [
                {
                    "id": "d0000000-0000-5000-8000-000000000001",
                    "description": "2号罐安全阀校验过期",
                    "grade": "一般",
                    "status": "rectifying",
                    "deadline": "2016-09-10",
                    "measures": ["送检安全阀", "临时加强巡检"],
                }
            ],
        },
        {
            "id": "b2c4e6f8-0000-5000-8000-000000000001",
            "external_id": "RP-001",
            "name": "配电室",
            "location": "综合楼一层",
            "category": "设备设施",
            "accident_types": ["触电"],
            "level": 4,
            "colour": "蓝",
            "control_tier": "岗位",
            "responsible_unit": "动力车间",
            "responsible_person": "赵电工",
            "responsible_mobile": "13700000000",
            "control_measures": [{"type": "制度管理", "description": '持证上岗，"两票"制度'}],
            "emergency_measures": [],
            "hidden_dangers": [],
        },
    ],
}


def openssl(*args: str, data: bytes | None = None) -> bytes:
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def key(name: str, role: str, work: Path, certificate: bool) -> dict[str, Any]:
    """A key pair made by OpenSSL, read through the hub's PEM reader."""
    pem_file = work / f"{name}.pem"
    openssl("genpkey", "-algorithm", "SM2", "-out", str(pem_file))
    private_pem = pem_file.read_text()
    private = signatures.private_key_from_pem(private_pem)
    entry: dict[str, Any] = {
        "name": name,
        "role": role,
        "private_key_hex": private,
        "private_key_pem": private_pem,
        "public_key_hex": signatures.public_key_of(private),
        "public_key_pem": openssl("pkey", "-in", str(pem_file), "-pubout").decode(),
    }
    if certificate:
        entry["certificate_pem"] = openssl(
            "req", "-new", "-x509", "-key", str(pem_file), "-sm3", "-sigopt", DISTID, "-days", "36500",
            "-utf8", "-subj", "/CN=台儿庄区示例化工有限公司 电子公章/O=台儿庄区示例化工有限公司",
        ).decode()  # fmt: skip
    entry["z_hex"] = SM2(pk=bytes.fromhex(entry["public_key_hex"])).get_entity_info().hex()
    return entry


def openssl_sign(key_entry: dict[str, Any], message: bytes, work: Path, distid: bool = True) -> str:
    """A DER signature (hex) made by OpenSSL's pkeyutl."""
    (work / "key.pem").write_text(key_entry["private_key_pem"])
    (work / "message").write_bytes(message)
    args = ["pkeyutl", "-sign", "-inkey", str(work / "key.pem"), "-rawin", "-digest", "sm3"]
    return openssl(*args, *(["-pkeyopt", DISTID] if distid else []), "-in", str(work / "message")).hex()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "contracts" / "vectors" / "filing-signature.json")
    out = parser.parse_args().out
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        legal = key("legal_representative", "legal_representative", work, certificate=False)
        seal = key("enterprise_seal", "enterprise_seal", work, certificate=True)
        published = {
            "name": "gbt32918_5_annex_a",
            "role": "",
            "private_key_hex": PUBLISHED["private_key_hex"],
            "public_key_hex": signatures.public_key_of(PUBLISHED["private_key_hex"]),
        }
        published["z_hex"] = SM2(pk=bytes.fromhex(published["public_key_hex"])).get_entity_info().hex()
        register = canonical.register_bytes(DOCUMENT)
        pretty = json.dumps(DOCUMENT, ensure_ascii=False, indent=2).encode()
        messages = {"register": register, "published_message": b"message digest", "register_pretty": pretty}

        def e_hex(k: dict[str, Any], message: bytes) -> str:
            return signatures._digest(bytes.fromhex(k["z_hex"]), message).hex()

        def der(k: dict[str, Any], message: bytes, distid: bool = True) -> str:
            return openssl_sign(k, message, work, distid)

        def hub(k: dict[str, Any], message: bytes) -> str:
            return signatures.sign(k["private_key_hex"], message)

        without_z = SM2(sk=bytes.fromhex(legal["private_key_hex"])).sign_digest(
            bytes.fromhex(canonical.sm3_hex(register))
        )
        cases = [
            ("legal_representative", "register", "raw", hub(legal, register), True, "hub (gmalglib)", ""),
            ("legal_representative", "register", "der", der(legal, register), True, "OpenSSL", ""),
            ("enterprise_seal", "register", "raw", hub(seal, register), True, "hub (gmalglib)", ""),
            ("enterprise_seal", "register", "der", der(seal, register), True, "OpenSSL", ""),
            ("gbt32918_5_annex_a", "published_message", "raw", PUBLISHED["signature"], True, "GB/T 32918.5",
             ""),
            ("legal_representative", "register", "raw", hub(seal, register), False, "hub (gmalglib)",
             "made with the seal's key, checked under the legal representative's"),
            ("legal_representative", "register", "der", der(legal, register, distid=False), False,
             "OpenSSL", "made with an empty user id (OpenSSL 3's pkeyutl without -pkeyopt distid:...)"),
            ("legal_representative", "register", "raw", without_z.hex(), False, "gmalglib",
             "signs SM3(M) without Z (a library's hash option left off)"),
            ("legal_representative", "register_pretty", "raw", hub(legal, register), False, "hub (gmalglib)",
             "the document re-serialised (indented) instead of the bytes CompileRegister answered"),
        ]  # fmt: skip
    keys = {k["name"]: k for k in (legal, seal, published)}
    vectors = {
        "spec": "contracts/filing-signature.md",
        "user_id": "1234567812345678",
        "keys": list(keys.values()),
        "document": DOCUMENT,
        "messages": [
            {"name": name, "base64": base64.b64encode(data).decode(), "sm3": canonical.sm3_hex(data)}
            for name, data in messages.items()
        ],
        "signatures": [
            {
                "key": k,
                "message": m,
                "encoding": enc,
                "signature": sig,
                "valid": valid,
                "made_by": by,
                "e_hex": e_hex(keys[k], messages[m]),
                **({"why": why} if why else {}),
            }
            for k, m, enc, sig, valid, by, why in cases
        ],
        "edge": edge_cases(legal, seal, hub(legal, register)),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(vectors, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


def edge_cases(legal: dict[str, Any], seal: dict[str, Any], raw: str) -> dict[str, list[dict[str, Any]]]:
    """What the hub accepts at RegisterSigningKey and SubmitRegister, and what it stores for each."""
    der = signatures.signature_der(raw)
    r_der, s_der = der[2 : 4 + der[3]], der[4 + der[3] :]
    p256 = openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")
    x, y = legal["public_key_hex"][2:66], legal["public_key_hex"][66:]
    compressed = ("03" if int(y, 16) & 1 else "02") + x
    off_curve = "04" + x + format(int(y, 16) ^ 1, "064x")
    bad_r = bytes([0x02, r_der[1] + 1, 0x00]) + r_der[2:]
    non_minimal = sm2_der._element(0x30, bad_r + s_der)
    return {
        "public_keys": [
            {"input": legal["public_key_hex"], "stored": legal["public_key_hex"], "form": "uncompressed hex"},
            {"input": legal["public_key_hex"][2:], "stored": legal["public_key_hex"], "form": "x||y hex"},
            {"input": compressed, "stored": legal["public_key_hex"], "form": "compressed hex"},
            {"input": legal["public_key_pem"], "stored": legal["public_key_hex"], "form": "PEM SPKI"},
            {"input": seal["certificate_pem"], "stored": seal["public_key_hex"], "form": "PEM X.509"},
            {"input": off_curve, "refused": "not a valid point of the SM2 curve", "form": "hex"},
            {
                "input": openssl("pkey", "-pubout", data=p256).decode(),
                "refused": "not an SM2 key",
                "form": "PEM SPKI of a P-256 key",
            },
        ],
        "signatures": [
            {"input": raw, "stored": raw, "form": "raw r||s hex"},
            {"input": raw.upper(), "stored": raw, "form": "raw r||s hex, upper case"},
            {"input": der.hex(), "stored": raw, "form": "DER hex"},
            {"input": base64.b64encode(der).decode(), "stored": raw, "form": "DER base64"},
            {"input": non_minimal.hex(), "refused": "shortest form", "form": "DER, r with a needless 00"},
            {"input": der.hex() + "00", "refused": "bytes after", "form": "DER with a trailing byte"},
            {"input": raw[:-2], "refused": "neither raw", "form": "126 hex characters"},
        ],
    }


if __name__ == "__main__":
    main()
