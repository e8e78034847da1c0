"""hubsign's command line (also `hubctl sign`): keys, the register's bytes, signatures, filing.

    hubsign keygen legal.pem                       # a new key file (0600); prints the public key
    hubsign pubkey legal.pem [--pem]               # the public key to register
    hubsign register-key legal_representative legal.pem
    hubsign fetch -o register.json [--version N]   # compiles (or fetches version N): the bytes to sign
    hubsign sign legal.pem register.json [--der]   # prints the signature (nothing leaves the machine)
    hubsign submit --version N --legal-representative-signature @lr.sig --enterprise-seal-signature @seal.sig
    hubsign file --legal-representative legal.pem --enterprise-seal seal.pem [--expect RP-001 …] [--wait 60]
    hubsign verify register.json --public-key seal.pub.pem --signature @seal.sig [--hash H]
    hubsign status [--version N]

The gateway and the enterprise's credential come from --address/--key-id/--secret/--ca or
HUB_GATEWAY_ADDRESS, HUB_KEY_ID, HUB_SECRET, HUB_TLS_CA. An argument written @FILE is read from FILE.
Exit codes: 0 done, 1 refused or not verified (the reason on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import grpc

from hubsign import keyfile, workflow
from hubsign.client import ROLES, Hub, Register
from services.kernel import canonical, signatures


def _text(value: str) -> str:
    """An argument's value, or the content of the file it names as @FILE."""
    return Path(value[1:]).read_text(encoding="utf-8").strip() if value.startswith("@") else value


def _print(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2))


def keygen(args: argparse.Namespace) -> int:
    pair = keyfile.generate(args.keyfile)
    print(signatures.public_key_pem(pair.public_key_hex) if args.pem else pair.public_key_hex, end="\n")
    return 0


def pubkey(args: argparse.Namespace) -> int:
    pair = keyfile.load(args.keyfile)
    print(signatures.public_key_pem(pair.public_key_hex).rstrip() if args.pem else pair.public_key_hex)
    return 0


def register_key(args: argparse.Namespace) -> int:
    public = keyfile.load(args.keyfile).public_key_hex
    hub = Hub.from_env(**vars(args))
    _print({"role": args.role, "public_key": hub.register_key(args.role, public)})
    return 0


def fetch(args: argparse.Namespace) -> int:
    hub = Hub.from_env(**vars(args))
    register = (
        hub.fetch(args.version) if args.version else workflow.compile_when_ready(hub, args.expect, args.wait)
    )
    workflow.check_hash(register)
    args.out.write_bytes(register.canonical)  # the exact bytes: never re-serialised
    _print({"version": register.version, "status": register.status, "document_hash": register.document_hash})
    return 0


def sign(args: argparse.Namespace) -> int:
    data = args.document.read_bytes()
    if args.hash and canonical.sm3_hex(data) != args.hash:
        print(f"{args.document} does not hash to {args.hash}", file=sys.stderr)
        return 1
    signature = signatures.sign(keyfile.load(args.keyfile).private_key_hex, data)
    print(signatures.signature_der(signature).hex() if args.der else signature)
    return 0


def _role_signatures(args: argparse.Namespace, register: Register | None) -> dict[str, str]:
    """Signatures given (@file or text), and those made here with the key files given."""
    signed = {}
    for role in ROLES:
        given = getattr(args, f"{role}_signature", None)
        key = getattr(args, role, None)
        if given:
            signed[role] = _text(given)
        elif key and register is not None:
            signed.update(workflow.sign(register, {role: keyfile.load(key)}, der=getattr(args, "der", False)))
    return signed


def submit(args: argparse.Namespace) -> int:
    hub = Hub.from_env(**vars(args))
    _print(workflow.submit(hub, args.version, _role_signatures(args, None), args.wait))
    return 0


def file(args: argparse.Namespace) -> int:
    hub = Hub.from_env(**vars(args))
    register = (
        hub.fetch(args.version) if args.version else workflow.compile_when_ready(hub, args.expect, args.wait)
    )
    workflow.submit(hub, register.version, _role_signatures(args, register), args.wait)
    _print(workflow.wait_answered(hub, register.version, args.answers))
    return 0


def verify(args: argparse.Namespace) -> int:
    data = args.document.read_bytes()
    problems = []
    if args.hash and canonical.sm3_hex(data) != args.hash:
        problems.append(f"the document does not hash to {args.hash}")
    key = signatures.public_key_from(_text(args.public_key))
    if not signatures.verify(key, data, signatures.signature_from(_text(args.signature))):
        problems.append("the signature does not verify over the document under this key")
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        _print({"verified": True, "public_key": key, "sm3": canonical.sm3_hex(data)})
    return 1 if problems else 0


def status(args: argparse.Namespace) -> int:
    _print(Hub.from_env(**vars(args)).status(args.version))
    return 0


def _hub_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--address", help="the gateway (HUB_GATEWAY_ADDRESS, default 127.0.0.1:50051)")
    parser.add_argument("--key-id", help="the enterprise's key id (HUB_KEY_ID)")
    parser.add_argument("--secret", help="the enterprise's secret (HUB_SECRET; prefer the variable)")
    parser.add_argument("--ca", help="PEM of the CA of the gateway's TLS certificate (HUB_TLS_CA)")


def _ready_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--version", type=int, default=0, help="a compiled version (default: compile now)")
    parser.add_argument("--expect", action="append", default=[], metavar="EXTERNAL_ID",
                        help="compile only once the register holds this risk point (repeatable)")  # fmt: skip
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to wait for the hub (default 60)")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="hubsign", description=__doc__.split("\n\n")[0])
    commands = top.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Any, help_: str, hub: bool = False) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        if hub:
            _hub_options(sub)
        return sub

    sub = command("keygen", keygen, "make a key file (PEM, 0600) and print its public key")
    sub.add_argument("keyfile", type=Path)
    sub.add_argument("--pem", action="store_true", help="print the public key as PEM")
    sub = command("pubkey", pubkey, "print the public key of a key file")
    sub.add_argument("keyfile", type=Path)
    sub.add_argument("--pem", action="store_true", help="as PEM SubjectPublicKeyInfo")
    sub = command("register-key", register_key, "register a key file's public key for a role", hub=True)
    sub.add_argument("role", choices=list(ROLES))
    sub.add_argument("keyfile", type=Path)
    sub = command(
        "fetch", fetch, "write the register's canonical bytes (what both signatures cover)", hub=True
    )
    _ready_options(sub)
    sub.add_argument("-o", "--out", type=Path, required=True)
    sub = command("sign", sign, "sign a register file with a key file; prints the signature")
    sub.add_argument("keyfile", type=Path)
    sub.add_argument("document", type=Path)
    sub.add_argument("--der", action="store_true", help="ASN.1 DER (hex) instead of raw r||s")
    sub.add_argument("--hash", help="refuse unless the document's SM3 is this (CompileRegister's)")
    sub = command("submit", submit, "file a version with signatures made elsewhere", hub=True)
    sub.add_argument("--version", type=int, required=True)
    sub.add_argument("--wait", type=float, default=30.0, help="seconds to retry while keys are on their way")
    for role in ROLES:
        sub.add_argument(f"--{role.replace('_', '-')}-signature", required=True, metavar="SIG|@FILE")
    sub = command(
        "file", file, "compile, sign with the key files given and file; prints the answers", hub=True
    )
    _ready_options(sub)
    sub.add_argument("--der", action="store_true", help="send DER signatures (the hub takes both)")
    sub.add_argument("--answers", type=float, default=60.0, help="seconds to wait for departments' answers")
    for role in ROLES:
        flag = role.replace("_", "-")
        sub.add_argument(f"--{flag}", type=Path, metavar="KEYFILE", help=f"sign as {role} with this key file")
        sub.add_argument(
            f"--{flag}-signature", metavar="SIG|@FILE", help=f"{role}'s signature made elsewhere"
        )
    sub = command("verify", verify, "verify a register file and a signature under a public key")
    sub.add_argument("document", type=Path)
    sub.add_argument("--public-key", required=True, metavar="KEY|@FILE", help="hex, PEM key or certificate")
    sub.add_argument("--signature", required=True, metavar="SIG|@FILE", help="raw r||s or DER (hex/base64)")
    sub.add_argument("--hash", help="also check the document's SM3")
    sub = command("status", status, "each department's answer to a version (0: the latest)", hub=True)
    sub.add_argument("--version", type=int, default=0)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except grpc.RpcError as error:
        code = error.code().name  # type: ignore[attr-defined]
        print(f"refused: {code}: {error.details()}", file=sys.stderr)  # type: ignore[attr-defined]
    except (keyfile.KeyFileError, workflow.NotReady, ValueError, OSError) as error:
        print(f"hubsign: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
