"""Filing a register from the enterprise's side: wait until the hub's register holds what was sent,
check its hash, sign it, submit it (retrying while the keys are on their way), follow the answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import Any

import grpc

from hubsign.client import Hub, Register
from services.kernel import canonical, signatures

FINAL = {"acknowledged", "rejected", "parked"}


class NotReady(Exception):
    """The hub's register did not come to hold what the enterprise sent within the time given."""


def external_ids(register: Register) -> set[str]:
    """The ERP's own ids of the risk points a compiled register holds."""
    document = json.loads(register.canonical)
    return {str(p.get("external_id")) for p in document.get("risk_points", []) if p.get("external_id")}


def compile_when_ready(hub: Hub, expect: Iterable[str] = (), wait: float = 60.0) -> Register:
    """Compiles the register once it holds every risk point in expect (the ERP's external ids) and a
    supervising department. The filing service learns of imports and registrations from events, a
    moment after the calls that made them were answered: a compile right after an import may not
    hold it yet (the README's consistency notes)."""
    wanted, deadline = set(expect), time.monotonic() + wait
    while True:
        try:
            register = hub.compile()
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND or time.monotonic() > deadline:  # type: ignore[attr-defined]
                raise
        else:
            missing = wanted - external_ids(register)
            departments = json.loads(register.canonical).get("supervising_departments")
            if not missing and departments:
                return register
            if time.monotonic() > deadline:
                raise NotReady(
                    f"after {wait:.0f} s the register (version {register.version}) still lacks "
                    f"{sorted(missing) or 'a supervising department'}"
                )
        time.sleep(0.2)


def check_hash(register: Register) -> None:
    """The bytes received are the bytes the hub hashed (a cut or re-encoded download is signed by no one)."""
    if canonical.sm3_hex(register.canonical) != register.document_hash:
        raise ValueError(
            f"version {register.version}: the canonical bytes do not hash to {register.document_hash}"
        )


def sign(register: Register, keys: dict[str, signatures.KeyPair], der: bool = False) -> dict[str, str]:
    """Each role's signature over the canonical bytes exactly as received (raw r||s hex, or DER hex)."""
    check_hash(register)
    signed = {role: signatures.sign(pair.private_key_hex, register.canonical) for role, pair in keys.items()}
    return {r: signatures.signature_der(s).hex() for r, s in signed.items()} if der else signed


def submit(hub: Hub, version: int, signed: dict[str, str], wait: float = 30.0) -> dict[str, Any]:
    """Submits; while the filing service has not yet heard of a just-registered key, tries again."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return hub.submit(version, signed)
        except grpc.RpcError as error:
            keys_pending = "no public key is registered" in (error.details() or "")  # type: ignore[attr-defined]
            if not keys_pending or time.monotonic() > deadline:
                raise
        time.sleep(0.2)


def wait_answered(hub: Hub, version: int, wait: float) -> dict[str, Any]:
    """The version's ledger once every department answered (or wait seconds passed)."""
    deadline = time.monotonic() + wait
    while True:
        ledger = hub.status(version)
        states = [d["state"] for d in ledger["departments"].values()]
        if (states and all(s in FINAL for s in states)) or time.monotonic() > deadline:
            return ledger
        time.sleep(0.3)
