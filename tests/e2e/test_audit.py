"""The audit processes of `make run`: an ERP registers, the worker chains and signs, an auditor verifies."""

from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pytest
from hub.v1 import audit_pb2, audit_pb2_grpc, enterprise_pb2_grpc
from hub.v1 import enterprise_pb2 as pb

from services.audit.keys import auditor_token
from tests.conftest import ROOT, Hub, wait_for
from tests.e2e.test_slice import profile

pytestmark = pytest.mark.e2e


def test_registrations_are_chained_signed_published_and_verifiable(hub: Hub) -> None:
    gateway = grpc.insecure_channel(hub.gateway_address)
    erp = enterprise_pb2_grpc.EnterpriseServiceStub(gateway)
    token = (("x-hub-registration-token", hub.registration_token),)
    request = pb.RegisterEnterpriseRequest(profile=profile(1), idempotency_key="audit-e2e-1")

    def registered() -> pb.RegisterEnterpriseResponse | None:
        try:  # the registry's workers may still be starting: an idempotent retry is safe
            return erp.RegisterEnterprise(request, metadata=token, timeout=40)
        except grpc.RpcError as error:
            if error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED):
                raise
            return None

    answer = wait_for(registered, timeout=120, what="the registry to take a registration")
    gateway.close()

    channel = grpc.insecure_channel(hub.audit_address)
    grpc.channel_ready_future(channel).result(timeout=60)
    auditor = audit_pb2_grpc.AuditServiceStub(channel)
    metadata = (("x-hub-auditor-token", auditor_token(hub.settings.runtime_dir)),)

    def registry_signed() -> audit_pb2.StoreVerification | None:
        verified = auditor.Verify(audit_pb2.VerifyRequest(services=["registry"]), metadata=metadata)
        store = verified.stores[0] if verified.stores else None
        return store if verified.ok and store and store.signed_position >= 1 else None

    store = wait_for(registry_signed, timeout=90, what="the audit worker to chain and sign the registry")
    assert store.checked_events == store.chained_events >= 1
    events = list(
        auditor.StreamEvents(
            audit_pb2.StreamEventsRequest(enterprise_id=answer.enterprise_id), metadata=metadata
        )
    )
    assert events[0].event.type == "Enterprise.Registered"
    channel.close()

    def checkpoint_published() -> bool:
        status = subprocess.run(
            [sys.executable, "-m", "hubctl.main", "status", "--json"],
            cwd=ROOT,
            env=hub.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return status.returncode == 0 and json.loads(status.stdout)["audit"]["relay_position"] >= 1

    wait_for(checkpoint_published, timeout=60, what="the relay to publish AuditCheckpoint.Signed")
