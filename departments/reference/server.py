"""A reference department platform: receives filings, verifies them, answers signed receipts.

    python -m departments.reference.server --code AJJ-ZSZ --address 127.0.0.1:50071 \
        --data-dir var/platforms/AJJ-ZSZ [--hub-token-file var/platforms/AJJ-ZSZ/hub.token]

It is also the template a department's developers start from: implement
hub.v1.DepartmentPlatformService, accept pushes only from the hub (the token it presents,
--hub-token-file), treat a repeated delivery_id as the same delivery, verify the SM3 hash and both SM2
signatures over the canonical document, and sign the receipt. Keep every signed tree head the hub
sends (ReceiveTreeHead): check its signature and its consistency proof from the previous head held,
and give them back to auditors (ListTreeHeads); departments/reference/heads.py does both, and checks
the held heads against the hub's TreeHeadService when asked (`hubctl platform check-heads`).
"""

from __future__ import annotations

import argparse
import hmac
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from hub.v1 import department_pb2 as pb
from hub.v1 import department_pb2_grpc

from departments.reference import control
from departments.reference.heads import BadHead, HeadStore
from departments.reference.store import Inbox
from services.backbone.edge.calls import grpc_method
from services.backbone.edge.malformed import MalformedRequests
from services.backbone.errors import ValidationError
from services.backbone.process import private_files, wait_for_signal
from services.kernel import receipts, signatures
from services.kernel.canonical import sm3_hex
from services.kernel.tree_heads import head_from_message

ROLES = {s.value for s in signatures.Signer}


def platform_key(data_dir: Path) -> signatures.KeyPair:
    """The platform's own SM2 key pair, made once in its data folder."""
    path = data_dir / "platform.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(signatures.generate_keypair().private_key_hex, encoding="utf-8")
        path.chmod(0o600)
    private = path.read_text(encoding="utf-8").strip()
    return signatures.KeyPair(private, signatures.public_key_of(private))


def check(filing: Any) -> str:
    """Why this filing cannot be accepted, or "" when it verifies."""
    document = bytes(filing.canonical_document)
    if sm3_hex(document) != filing.document_hash:
        return "文件哈希不符 (document hash does not match the document)"
    given = {s.role: s for s in filing.signatures}
    missing = sorted(ROLES - given.keys())
    if missing:
        return f"缺少签名 (missing signatures: {', '.join(missing)})"
    for role in sorted(ROLES):
        s = given[role]
        if not signatures.verify(s.public_key, document, s.signature):
            return f"签名无效 (the {role} signature does not verify)"
    return ""


def presented_token(context: grpc.ServicerContext) -> str:
    """The bearer token the caller presented ("" when none)."""
    for key, value in context.invocation_metadata():
        if key == "authorization" and value.startswith("Bearer "):
            return str(value[len("Bearer ") :])
    return ""


def heads_path(data_dir: Path) -> Path:
    return data_dir / "heads.sqlite"


class ReferencePlatform(department_pb2_grpc.DepartmentPlatformServiceServicer):
    def __init__(self, code: str, data_dir: Path, hub_token: str = "", hub_audit_key: str = "") -> None:
        self.code, self.data_dir, self.hub_token = code, data_dir, hub_token
        self.inbox = Inbox(data_dir / "inbox.sqlite")
        self.heads = HeadStore(heads_path(data_dir), hub_audit_key)
        self.key = platform_key(data_dir)

    def _only_the_hub(self, context: grpc.ServicerContext) -> None:
        # Only the hub pushes: it presents the token this department issued to it (registered in the
        # hub as the department's credentials_ref).
        if self.hub_token and not hmac.compare_digest(presented_token(context), self.hub_token):
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "the hub's token is missing or wrong")

    @grpc_method
    def ReceiveTreeHead(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._only_the_hub(context)
        if control.read(self.data_dir).mode == "down":
            context.abort(grpc.StatusCode.UNAVAILABLE, "platform is down (control file)")
        try:
            proof = [bytes.fromhex(h) for h in request.consistency_proof]
            kept = self.heads.keep(head_from_message(request.head), request.previous_size, proof)
        except (BadHead, ValueError) as error:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"head: {error}")
        return pb.ReceiveTreeHeadResponse(
            verdict=pb.TreeHeadVerdict.Value(f"TREE_HEAD_VERDICT_{kept.verdict}"), detail=kept.detail
        )

    @grpc_method
    def ListTreeHeads(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        # Heads are hashes and sizes, signed by the hub: anyone auditing the hub may read them.
        return pb.ListTreeHeadsResponse(
            heads=[pb.TreeHead(**h.as_dict()) for h in self.heads.heads(request.store)]
        )

    @grpc_method
    def ReceiveFiling(self, request: Any, context: grpc.ServicerContext) -> Any:  # noqa: N802
        self._only_the_hub(context)
        behaviour = control.read(self.data_dir)
        if behaviour.mode == "down":
            context.abort(grpc.StatusCode.UNAVAILABLE, "platform is down (control file)")
        if behaviour.mode == "slow":
            time.sleep(behaviour.delay_seconds)
        filing = request.filing
        if filing.department_code != self.code:
            raise ValidationError("filing.department_code", f"this platform is {self.code}")
        try:
            _, version, department = receipts.parse_delivery_id(filing.delivery_id)
        except receipts.MalformedDeliveryId as error:
            raise ValidationError("filing.delivery_id", str(error)) from None
        if department != self.code or version != filing.version:
            raise ValidationError("filing.delivery_id", "names another department or version than the filing")
        answered = self.inbox.seen(filing.delivery_id)
        if answered is None:
            reason = check(filing) or (behaviour.reason if behaviour.mode == "reject" else "")
            answered = {
                "outcome": "OUTCOME_REJECTED" if reason else "OUTCOME_ACCEPTED",
                "reason": reason,
                "received_at": datetime.now(UTC).isoformat(),
            }
            self.inbox.store(
                {
                    "delivery_id": filing.delivery_id,
                    "department_code": self.code,
                    "enterprise_id": filing.enterprise.enterprise_id,
                    "uscc": filing.enterprise.unified_social_credit_code,
                    "enterprise_name": filing.enterprise.name,
                    "version": filing.version,
                    "document_hash": filing.document_hash,
                    "canonical_document": bytes(filing.canonical_document),
                    "signatures": [{"role": s.role, "public_key": s.public_key} for s in filing.signatures],
                    **answered,
                }
            )
        signed = receipts.signed_bytes(
            filing.delivery_id, filing.document_hash, answered["outcome"], answered["received_at"]
        )
        return pb.ReceiveFilingResponse(
            receipt=pb.Receipt(
                delivery_id=filing.delivery_id,
                department_code=self.code,
                outcome=pb.Outcome.Value(answered["outcome"]),
                reason=answered["reason"],
                received_at=answered["received_at"],
                public_key=self.key.public_key_hex,
                signature=signatures.sign(self.key.private_key_hex, signed),
            )
        )


def serve(
    code: str, address: str, data_dir: Path, hub_token: str = "", hub_audit_key: str = ""
) -> tuple[grpc.Server, int]:
    from concurrent import futures

    # bytes that are no request are INVALID_ARGUMENT, as at the hub's own edges
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), interceptors=[MalformedRequests()])
    department_pb2_grpc.add_DepartmentPlatformServiceServicer_to_server(
        ReferencePlatform(code, data_dir, hub_token, hub_audit_key), server
    )
    checker = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    checker.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port(address)
    server.start()
    return server, port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A reference department platform.")
    parser.add_argument("--code", required=True, help="the department's code, e.g. AJJ-ZSZ")
    parser.add_argument("--address", default="127.0.0.1:50071")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument(
        "--hub-token-file",
        type=Path,
        help="a file holding the token the hub must present (authorization: Bearer …); none: any caller",
    )
    parser.add_argument(
        "--hub-audit-key",
        default="",
        help="the hub's SM2 audit public key (hex) to hold its tree heads to; none: the first head's",
    )
    args = parser.parse_args(argv)
    token = args.hub_token_file.read_text(encoding="utf-8").strip() if args.hub_token_file else ""
    if args.hub_token_file and not token:
        parser.error(f"--hub-token-file {args.hub_token_file} is empty")
    private_files(args.data_dir)  # its inbox holds the registers it received: names, mobiles
    server, port = serve(args.code, args.address, args.data_dir, token, args.hub_audit_key)
    print(
        f"department platform {args.code} listening on {args.address.rsplit(':', 1)[0]}:{port};"
        f" receipts signed with SM2 key {platform_key(args.data_dir).public_key_hex}",
        flush=True,
    )
    wait_for_signal()
    server.stop(3).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
