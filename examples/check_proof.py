"""Checks an event's inclusion proof from `hubctl audit prove` with Python's hashlib (SM3) alone.

python3 check_proof.py proof.json HUB_AUDIT_PUBLIC_KEY_HEX
"""

import base64
import hashlib
import json
import struct
import sys
import uuid
from pathlib import Path

# SM2 (GB/T 32918): the curve, and a signature check with the default user id 1234567812345678
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A, B = P - 3, 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0


def sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


def add(p, q):  # points of the curve; None: the point at infinity
    if p is None or q is None or (p[0] == q[0] and (p[1] + q[1]) % P == 0):
        return q if p is None else p if q is None else None
    m = (3 * p[0] ** 2 + A) * pow(2 * p[1], -1, P) if p == q else (q[1] - p[1]) * pow(q[0] - p[0], -1, P)
    x = (m * m - p[0] - q[0]) % P
    return x, (m * (p[0] - x) - p[1]) % P


def mul(k, p, r=None):
    while k:
        r, p, k = add(r, p) if k & 1 else r, add(p, p), k >> 1
    return r


def sm2_ok(key: str, message: bytes, signature: str) -> bool:
    q, r, s = (int(key[2:66], 16), int(key[66:], 16)), int(signature[:64], 16), int(signature[64:], 16)
    z = sm3(b"\x00\x801234567812345678" + b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY, *q)))
    e, point = int(sm3(z + message).hex(), 16), add(mul(s, (GX, GY)), mul((r + s) % N, q))
    return 0 < r < N and 0 < s < N and point is not None and (e + point[0]) % N == r


proof, key = json.loads(Path(sys.argv[1]).read_text()), sys.argv[2].lower()
event, head, version = proof["event"], proof["tree_head"], proof["event"]["originator_version"]
oid, topic = uuid.UUID(event["originator_id"]).bytes, event["topic"].encode()
state = base64.b64decode(event["state"])
body = struct.pack(">B16sQHI", 1, oid, version, len(topic), len(state)) + topic + state
r = sm3(b"\x00" + struct.pack(">Q16sQ", event["notification_id"], oid, version) + sm3(body))  # the leaf
fn, sn = proof["leaf_index"], head["tree_size"] - 1  # RFC 9162 §2.1.3.2: up the audit path to the root
for p in map(bytes.fromhex, proof["audit_path"]):
    if sn == 0:
        sys.exit("FAIL: the audit path is too long")
    if fn & 1 or fn == sn:
        r = sm3(b"\x01" + p + r)
        while not fn & 1 and fn:
            fn, sn = fn >> 1, sn >> 1
    else:
        r = sm3(b"\x01" + r + p)
    fn, sn = fn >> 1, sn >> 1
in_tree = proof["leaf_index"] < head["tree_size"] and sn == 0 and r.hex() == head["root_hash"]
fields = [head[k] for k in ("store", "sequence", "tree_size", "root_hash", "position", "signed_at")]
signed_bytes = "|".join(map(str, ["riskhub-tree-head/v1", *fields])).encode()
signed = head["public_key"].lower() == key and head["store"] == proof["store"]
signed = signed and sm2_ok(key, signed_bytes, head["signature"])
print(f"{proof['store']} #{event['notification_id']}: in the tree {in_tree}, head signed by the key {signed}")
sys.exit(0 if in_tree and signed else 1)
