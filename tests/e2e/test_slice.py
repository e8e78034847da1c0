"""One slice through the whole hub: gRPC → registry → relay → RabbitMQ → filing's view."""

from __future__ import annotations

import grpc
import pytest
from hub.v1 import enterprise_pb2 as pb
from hub.v1 import enterprise_pb2_grpc
from nameko.standalone.rpc import ClusterRpcProxy

from services.backbone.edge.status import field_violations
from services.backbone.errors import NotFoundError
from tests.conftest import Hub, wait_for
from tests.factories import enterprise_fields

pytestmark = pytest.mark.e2e


def profile(n: int, **overrides: str) -> pb.EnterpriseProfile:
    fields = enterprise_fields(n, **overrides)
    contacts = [pb.Contact(**c) for c in fields.pop("contacts")]
    return pb.EnterpriseProfile(**fields, contacts=contacts)


def test_registration_reaches_the_filing_view_through_the_broker(hub: Hub) -> None:
    channel = grpc.insecure_channel(hub.gateway_address)
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    token = (("x-hub-registration-token", hub.registration_token), ("x-correlation-id", "slice-cid-1"))
    answer, call = stub.RegisterEnterprise.with_call(
        pb.RegisterEnterpriseRequest(profile=profile(1), idempotency_key="erp-1"), metadata=token
    )
    assert answer.created and answer.secret
    assert ("x-correlation-id", "slice-cid-1") in call.initial_metadata()

    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:

        def view() -> dict[str, object] | None:
            try:
                return rpc.filing.enterprise_view(answer.enterprise_id)  # type: ignore[no-any-return]
            except NotFoundError:
                return None

        seen = wait_for(view, timeout=60, what="the filing view of the new enterprise")
    assert seen["name"] == profile(1).name
    assert seen["uscc"] == profile(1).unified_social_credit_code

    # The correlation id of the gRPC call is in the event's envelope, as the relay published it.
    from services.backbone.relay import envelopes_after
    from services.backbone.store import open_store
    from services.registry.application import RegistryApplication

    registry = open_store(RegistryApplication, hub.settings)
    envelopes, _ = envelopes_after(registry, 0, 10)
    assert [e.correlation_id for e in envelopes if e.type == "Enterprise.Registered"] == ["slice-cid-1"]

    # ... and in the event the filing consumer caused, and in the registry worker's logs.
    from services.filing.application import FilingApplication
    from services.filing.views import enterprise_view_id

    filing = open_store(FilingApplication, hub.settings)
    stored = filing.events.get(enterprise_view_id(answer.enterprise_id))
    assert [vars(e)["correlation_id"] for e in stored][:1] == ["slice-cid-1"]
    registry_log = (hub.tmp_path / "registry.log").read_text(errors="replace")
    assert "slice-cid-1" in registry_log
    assert profile(1).legal_representative_mobile not in hub.logs()

    # The enterprise reads itself with its own credential.
    own = (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))
    got = stub.GetEnterprise(pb.GetEnterpriseRequest(), metadata=own)
    assert got.enterprise.profile.name == profile(1).name
    channel.close()


def test_bad_input_is_refused_naming_each_field_and_nothing_is_stored(hub: Hub) -> None:
    channel = grpc.insecure_channel(hub.gateway_address)
    stub = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    token = (("x-hub-registration-token", hub.registration_token),)
    from services.backbone.store import open_store
    from services.registry.application import RegistryApplication

    registry = open_store(RegistryApplication, hub.settings)
    head = registry.recorder.max_notification_id()
    bad = profile(2, unified_social_credit_code="91350100M000100Y44", legal_representative_mobile="12345")
    with pytest.raises(grpc.RpcError) as refused:
        stub.RegisterEnterprise(pb.RegisterEnterpriseRequest(profile=bad), metadata=token)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = dict(field_violations(refused.value))
    assert "profile.unified_social_credit_code" in fields and "profile.legal_representative_mobile" in fields

    assert registry.recorder.max_notification_id() == head  # nothing stored
    channel.close()


def test_what_the_hub_keeps_is_its_owners_alone(hub: Hub) -> None:
    """Stores (names and mobiles in them), tokens, keys and the platforms' inboxes under the runtime
    folder: files 0600, folders 0700, whichever process wrote them."""
    import os
    import stat

    root = hub.settings.runtime_dir
    seen, open_to_others = 0, []
    for folder, _dirs, files in os.walk(root):
        for path in [folder, *(os.path.join(folder, f) for f in files)]:
            mode = stat.S_IMODE(os.lstat(path).st_mode)
            seen += 1
            if mode & 0o077:
                open_to_others.append(f"{os.path.relpath(path, root)} {oct(mode)}")
    assert seen > 5 and not open_to_others, open_to_others
