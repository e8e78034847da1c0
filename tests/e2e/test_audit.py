"""The audit processes of `make run`: an ERP registers, the worker links, builds and signs; every
department's platform and AMQP subscription keeps the heads; an auditor verifies against them; one
event's proof is checked offline."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hub.v1 import audit_pb2, audit_pb2_grpc, enterprise_pb2_grpc
from hub.v1 import enterprise_pb2 as pb

from departments import subscriptions
from departments.reference.heads import HeadStore
from departments.reference.server import heads_path
from services.audit.anchors import from_platform
from services.audit.keys import audit_public_key, auditor_token
from services.backbone.amqp import connect, raw_channel
from services.backbone.envelope import Envelope
from services.kernel.tree_heads import TreeHead
from tests.conftest import ROOT, Hub, isolated_hub_settings, wait_for
from tests.e2e.filing_flow import setup_departments
from tests.e2e.test_slice import profile

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hub(infrastructure: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The whole hub, signing a head every 2 s while there are new events (60 s by default)."""
    tmp_path = tmp_path_factory.mktemp("hub")
    with isolated_hub_settings(tmp_path) as value:
        running = Hub(value, tmp_path)
        running.env["HUB_AUDIT_CHECKPOINT_SECONDS"] = "2"
        try:
            yield running.start_all()
        finally:
            running.stop()


def hubctl(hub: Hub, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hubctl.main", *args],
        cwd=ROOT,
        env={**hub.env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=180,
    )


def register(hub: Hub, n: int) -> Any:
    erp = enterprise_pb2_grpc.EnterpriseServiceStub(grpc.insecure_channel(hub.gateway_address))
    token = (("x-hub-registration-token", hub.registration_token),)
    request = pb.RegisterEnterpriseRequest(profile=profile(n), idempotency_key=f"audit-e2e-{n}")

    def registered() -> pb.RegisterEnterpriseResponse | None:
        try:  # the registry's workers may still be starting: an idempotent retry is safe
            return erp.RegisterEnterprise(request, metadata=token, timeout=40)
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            return None

    return wait_for(registered, timeout=120, what="the registry to take a registration")


def held(hub: Hub, code: str) -> list[tuple[TreeHead, str, str]]:
    path = heads_path(hub.settings.runtime_dir / "platforms" / code)
    if not path.exists():
        return []
    store = HeadStore(path)
    try:
        return [k for k in store.verdicts() if k[0].store == "registry"]
    finally:
        store.close()


def test_every_department_keeps_the_heads_and_the_hub_is_held_to_them(hub: Hub, tmp_path: Path) -> None:
    setup_departments(hub)  # AJJ-TEZ and the town office, with the reference platforms `make run` starts
    subscription = subscriptions.create(hub.settings, "AJJ-TEZ", rotate=True)
    try:
        first = register(hub, 1)
        # each platform keeps a head, then one that its proof shows extends it
        for code in ("AJJ-TEZ", "TOWN-ZSZ"):
            wait_for(lambda c=code: held(hub, c), timeout=120, what=f"{code} to keep a registry head")
        register(hub, 2)
        for code in ("AJJ-TEZ", "TOWN-ZSZ"):
            wait_for(
                lambda c=code: any(v == "CONSISTENT" for _, v, _ in held(hub, c)),
                timeout=120,
                what=f"{code} to check a head against the one it held",
            )
            assert all(v != "INCONSISTENT" for _, v, _ in held(hub, code))
        key = audit_public_key(hub.settings)
        assert all(h.valid_for(key) for h, _, _ in held(hub, "AJJ-TEZ"))

        # the department's own AMQP subscription received them too, with its own credentials
        conn = connect(subscription.amqp_uri)
        message = wait_for(
            lambda: raw_channel(conn).basic_get(subscription.heads_queue, no_ack=True),
            timeout=60,
            what="a head",
        )
        envelope = Envelope.from_json(message.body)
        assert envelope.type == "TreeHead.Signed" and TreeHead.from_dict(envelope.payload).valid_for(key)
        conn.release()

        # an auditor holds the hub to the heads the platform keeps: gRPC, and hubctl by department code
        anchors = from_platform(hub.platforms["AJJ-TEZ"], "AJJ-TEZ")
        channel = grpc.insecure_channel(hub.audit_address)
        auditor = audit_pb2_grpc.AuditServiceStub(channel)
        metadata = (("x-hub-auditor-token", auditor_token(hub.settings)),)
        request = audit_pb2.VerifyRequest(services=["registry"], anchors=[a.head.as_dict() for a in anchors])
        verified = auditor.Verify(request, metadata=metadata)
        mine = [a for a in anchors if a.head.store == "registry"]
        assert verified.ok and verified.stores[0].anchors == len(mine) > 1, verified
        channel.close()
        cli = hubctl(hub, "audit", "verify", "--service", "registry", "--anchors", "AJJ-TEZ")
        assert cli.returncode == 0 and "intact" in cli.stdout, cli.stdout + cli.stderr

        # the department checks what it holds against the hub, as a CT monitor does
        checked = hubctl(hub, "platform", "check-heads", "AJJ-TEZ", "--audit", hub.audit_address)
        assert checked.returncode == 0 and "OK   registry" in checked.stdout, checked.stdout + checked.stderr

        # one event, one proof, checked without the hub
        events = json.loads(
            hubctl(hub, "audit", "history", "--enterprise", first.enterprise_id, "--json").stdout
        )
        registered = next(
            e for e in events if e["type"] == "Enterprise.Registered" and e["chain"] == "signed"
        )
        proof = tmp_path / "proof.json"
        made = hubctl(hub, "audit", "prove", f"registry:{registered['notification_id']}", "--out", str(proof))
        assert made.returncode == 0, made.stdout + made.stderr
        offline = subprocess.run(
            [sys.executable, "-m", "services.audit.inclusion", str(proof), "--public-key", key],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert offline.returncode == 0 and "OK" in offline.stdout, offline.stdout + offline.stderr
    finally:
        subscriptions.remove(hub.settings, "AJJ-TEZ")
