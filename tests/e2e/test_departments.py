"""Department exchange: filings pushed to each supervising department's own platform."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import amqp
import grpc
import pytest
from hub.v1 import filing_pb2 as fpb
from nameko.standalone.rpc import ClusterRpcProxy

from departments import subscriptions
from departments.reference import control
from departments.reference.store import read_inbox
from hubctl.deliveries import replay_parked
from services.backbone.amqp import connect, raw_channel
from services.backbone.edge.status import field_violations
from services.kernel import filing_routes, receipts
from tests.conftest import Hub, Processes, broker_stopped, free_port, wait_for
from tests.e2e.filing_flow import Filer, setup_departments

pytestmark = pytest.mark.e2e
ACK, REJECTED, PARKED = (
    fpb.DELIVERY_STATE_ACKNOWLEDGED,
    fpb.DELIVERY_STATE_REJECTED,
    fpb.DELIVERY_STATE_PARKED,
)


def platform_dir(hub: Hub, code: str):  # noqa: ANN201
    return hub.settings.runtime_dir / "platforms" / code


def inbox(hub: Hub, code: str, *filers: Filer) -> list[dict]:
    """What a platform received (of these enterprises' filings, when named: the module shares a hub)."""
    rows = read_inbox(platform_dir(hub, code) / "inbox.sqlite")
    ids = {f.enterprise_id for f in filers}
    return [r for r in rows if not ids or r["delivery_id"].split("/")[0] in ids]


@pytest.fixture(autouse=True)
def platforms_accept(hub: Hub) -> Iterator[None]:
    """Every test leaves the shared reference platforms accepting again."""
    yield
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        control.write(platform_dir(hub, code), control.Behaviour("accept"))


def start_platform(processes: Processes, hub: Hub, code: str, address: str, *options: str) -> None:
    processes.start(
        f"platform-{code}",
        [
            "-m",
            "departments.reference.server",
            "--code",
            code,
            "--address",
            address,
            "--data-dir",
            str(platform_dir(hub, code)),
            *options,
        ],
        hub.env,
    )


def test_a_filing_reaches_exactly_its_supervising_departments(hub: Hub, processes: Processes) -> None:
    fire = f"127.0.0.1:{free_port()}"
    start_platform(processes, hub, "XF-TEZ", fire)
    setup_departments(hub, {"XF-TEZ": ("消防", fire)})
    filer = Filer.register(hub, 1)
    version = filer.file()
    ledger = filer.wait_answered(version)
    assert ledger == {"AJJ-TEZ": (ACK, ""), "TOWN-ZSZ": (ACK, "")}
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        [received] = inbox(hub, code, filer)
        assert received["outcome"] == "OUTCOME_ACCEPTED" and received["version"] == version
    assert inbox(hub, "XF-TEZ") == []  # not a supervisor: received nothing
    # once a filing addressed to it has bound its queue, the department still gets only its own
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.set_routing_rule("烟花爆竹", "*", ["XF-TEZ"])
    fireworks = Filer.register(hub, 2, industry="烟花爆竹")
    assert fireworks.wait_answered(fireworks.file()) == {"XF-TEZ": (ACK, ""), "TOWN-ZSZ": (ACK, "")}
    chemical = Filer.register(hub, 3)
    assert set(chemical.wait_answered(chemical.file())) == {"AJJ-TEZ", "TOWN-ZSZ"}
    # one more of its own after it: a department's queue keeps the order, so had the chemical filing
    # reached XF-TEZ's queue, the platform would have it by the time this one is acknowledged
    later = Filer.register(hub, 4, industry="烟花爆竹")
    assert later.wait_answered(later.file())["XF-TEZ"] == (ACK, "")
    received = {r["delivery_id"].split("/")[0] for r in inbox(hub, "XF-TEZ")}
    assert received == {fireworks.enterprise_id, later.enterprise_id}
    assert len(inbox(hub, "TOWN-ZSZ", filer, fireworks, chemical, later)) == 4


def test_a_department_that_was_down_gets_everything_once_none_twice(hub: Hub) -> None:
    setup_departments(hub)
    control.write(platform_dir(hub, "TOWN-ZSZ"), control.Behaviour("down"))
    filers = [Filer.register(hub, n) for n in (11, 12, 13)]
    versions = [f.file() for f in filers]
    wait_for(
        lambda: all(f.ledger(v)["AJJ-TEZ"][0] == ACK for f, v in zip(filers, versions, strict=True)),
        timeout=60,
        what="安监 to acknowledge all three",
    )
    assert all(
        f.ledger(v)["TOWN-ZSZ"][0] == fpb.DELIVERY_STATE_PENDING
        for f, v in zip(filers, versions, strict=True)
    )
    control.write(platform_dir(hub, "TOWN-ZSZ"), control.Behaviour("accept"))
    for f, v in zip(filers, versions, strict=True):
        assert f.wait_answered(v)["TOWN-ZSZ"] == (ACK, "")
    received = inbox(hub, "TOWN-ZSZ", *filers)
    assert len(received) == 3 == len({r["delivery_id"] for r in received})
    assert all(r["times_delivered"] == 1 for r in received)
    # in the order they were filed (the inbox lists by time received)
    assert [r["delivery_id"].split("/")[0] for r in received] == [f.enterprise_id for f in filers]


def test_a_rejection_reaches_the_enterprise_with_its_reason(hub: Hub) -> None:
    setup_departments(hub)
    control.write(platform_dir(hub, "AJJ-TEZ"), control.Behaviour("reject", reason="缺少重大危险源辨识"))
    filer = Filer.register(hub, 21)
    version = filer.file()
    ledger = filer.wait_answered(version)
    assert ledger["AJJ-TEZ"] == (REJECTED, "缺少重大危险源辨识")
    assert ledger["TOWN-ZSZ"] == (ACK, "")


def test_parked_deliveries_are_replayed(hub: Hub, processes: Processes) -> None:
    dead = f"127.0.0.1:{free_port()}"  # nobody listens there
    setup_departments(hub, {"XF2-TEZ": ("消防", dead)})
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.set_routing_rule("烟花爆竹", "*", ["XF2-TEZ"])
    filer = Filer.register(hub, 31, industry="烟花爆竹")
    version = filer.file()
    wait_for(
        lambda: filer.ledger(version)["XF2-TEZ"][0] == PARKED, timeout=90, what="the delivery to be parked"
    )
    assert "UNAVAILABLE" in filer.ledger(version)["XF2-TEZ"][1]

    live = f"127.0.0.1:{free_port()}"
    start_platform(processes, hub, "XF2-TEZ", live)
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.update_department("XF2-TEZ", {"endpoint": live})
    assert replay_parked(hub.settings, "XF2-TEZ") == 1
    assert filer.wait_answered(version)["XF2-TEZ"] == (ACK, "")
    assert len(inbox(hub, "XF2-TEZ")) == 1


def test_receipts_must_verify_under_the_department_s_key(hub: Hub, processes: Processes) -> None:
    """A receipt signed with any key but the one registered for the department is no answer: the
    delivery is parked with the reason; once the operator registers the platform's key, the replay is
    acknowledged. A department registered without a key keeps its platform's first one (pinned)."""
    from departments.reference.server import platform_key
    from services.kernel import signatures

    address = f"127.0.0.1:{free_port()}"
    start_platform(processes, hub, "XF3-TEZ", address)
    impostor = signatures.generate_keypair().public_key_hex  # not the platform's key
    setup_departments(hub, {"XF3-TEZ": ("消防", address)})
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.update_department("XF3-TEZ", {"receipt_public_key": impostor})
        rpc.registry.set_routing_rule("民爆", "*", ["XF3-TEZ"])
    filer = Filer.register(hub, 81, industry="民爆")
    version = filer.file()
    wait_for(
        lambda: filer.ledger(version)["XF3-TEZ"][0] == PARKED, timeout=60, what="the delivery to be parked"
    )
    state, reason = filer.ledger(version)["XF3-TEZ"]
    assert "UNTRUSTED_RECEIPT" in reason and "registered key" in reason
    # the other departments are not held up
    wait_for(lambda: filer.ledger(version)["TOWN-ZSZ"][0] == ACK, timeout=30, what="the town's receipt")

    platform = platform_key(platform_dir(hub, "XF3-TEZ")).public_key_hex
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.update_department("XF3-TEZ", {"receipt_public_key": platform})
        # the department registered without a key has its platform's, pinned by its first receipt
        assert rpc.registry.get_department("TOWN-ZSZ")["receipt_public_key"] == (
            platform_key(platform_dir(hub, "TOWN-ZSZ")).public_key_hex
        )
    assert replay_parked(hub.settings, "XF3-TEZ") == 1
    assert filer.wait_answered(version)["XF3-TEZ"] == (ACK, "")
    [received] = inbox(hub, "XF3-TEZ")
    assert received["times_delivered"] == 2  # the platform answered the replay as before


def test_a_changed_receipt_key_and_a_reissued_token_apply_within_a_second(
    hub: Hub, processes: Processes
) -> None:
    """Every process that keeps a department's key or token reads it again within a second: a receipt
    under the key the operator replaced is no answer one second later, and a re-issued token refuses
    the old one within a second (the role's other tokens untouched)."""
    from hub.v1 import department_pb2 as dpb
    from hub.v1 import department_pb2_grpc

    from services.kernel import signatures

    address = f"127.0.0.1:{free_port()}"
    start_platform(processes, hub, "XF4-TEZ", address)
    setup_departments(hub, {"XF4-TEZ": ("消防", address)})
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.set_routing_rule("冶金", "*", ["XF4-TEZ"])
    first = Filer.register(hub, 84, industry="冶金")
    assert first.wait_answered(first.file())["XF4-TEZ"] == (ACK, "")  # its platform's key, pinned
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.update_department(
            "XF4-TEZ", {"receipt_public_key": signatures.generate_keypair().public_key_hex}
        )
    time.sleep(1.0)
    second = Filer.register(hub, 85, industry="冶金")
    version = second.file()
    wait_for(lambda: second.ledger(version)["XF4-TEZ"][0] == PARKED, timeout=60, what="the receipt refused")
    assert "UNTRUSTED_RECEIPT" in second.ledger(version)["XF4-TEZ"][1]

    feed = department_pb2_grpc.FilingFeedServiceStub(grpc.insecure_channel(hub.gateway_address))

    def pulls(token: str) -> bool:
        meta = (("x-hub-department", "XF4-TEZ"), ("x-hub-department-token", token))
        try:
            list(feed.StreamFilings(dpb.StreamFilingsRequest(stop_when_caught_up=True), metadata=meta))
        except grpc.RpcError as refused:
            assert refused.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
            return False
        return True

    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        old = rpc.dangers.issue_inspector_token("XF4-TEZ", "feed")["token"]
        assert pulls(old)
        new = rpc.dangers.issue_inspector_token("XF4-TEZ", "feed")["token"]
        reissued = time.monotonic()
        while pulls(old):
            assert time.monotonic() - reissued < 1.0, "the old token still works a second later"
        rpc.dangers.issue_inspector_token("XF4-TEZ", "inspections")  # another role's token
    assert pulls(new)


def test_the_hub_presents_the_token_the_department_gave_it(
    hub: Hub, processes: Processes, tmp_path: Path
) -> None:
    """A platform that admits only the hub's token. A credentials_ref the adapter cannot read parks the
    delivery as CREDENTIALS_UNAVAILABLE, a wrong token as UNAUTHENTICATED (the platform stores
    nothing); once the secret behind the reference is right, the replay is acknowledged."""
    expected, given = tmp_path / "platform-side.token", tmp_path / "hub-side.token"
    expected.write_text("token-the-department-issued\n")
    address = f"127.0.0.1:{free_port()}"
    start_platform(processes, hub, "JT-TEZ", address, "--hub-token-file", str(expected))
    setup_departments(hub, {"JT-TEZ": ("交通", address)})
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.update_department("JT-TEZ", {"credentials_ref": f"file:{given}"})
        rpc.registry.set_routing_rule("危险品运输", "*", ["JT-TEZ"])
    filer = Filer.register(hub, 91, industry="危险品运输")
    version = filer.file()

    def parked_as(reason: str) -> None:
        wait_for(
            lambda: (
                filer.ledger(version)["JT-TEZ"][0] == PARKED
                and filer.ledger(version)["JT-TEZ"][1].startswith(reason)
            ),
            timeout=60,
            what=f"the delivery parked as {reason}",
        )

    parked_as("CREDENTIALS_UNAVAILABLE")  # no file behind the reference yet
    given.write_text("an-outdated-token\n")
    assert replay_parked(hub.settings, "JT-TEZ") == 1
    parked_as("UNAUTHENTICATED")
    assert inbox(hub, "JT-TEZ") == []
    given.write_text("token-the-department-issued\n")
    assert replay_parked(hub.settings, "JT-TEZ") == 1
    assert filer.wait_answered(version)["JT-TEZ"] == (ACK, "")
    [received] = inbox(hub, "JT-TEZ")
    assert received["times_delivered"] == 1  # the refused push never reached it


def test_a_department_reads_its_own_queue_and_not_another_s(hub: Hub) -> None:
    setup_departments(hub)
    mine = subscriptions.create(hub.settings, "AJJ-TEZ", rotate=True)
    theirs = subscriptions.create(hub.settings, "TOWN-ZSZ", rotate=True)
    bystander = subscriptions.create(hub.settings, "XF9-TEZ", rotate=True)  # supervises none of them
    try:
        filer = Filer.register(hub, 41)
        filer.wait_answered(filer.file())
        conn = connect(mine.amqp_uri)  # the department's own credentials
        channel = raw_channel(conn)
        message = wait_for(lambda: channel.basic_get(mine.queue, no_ack=True), timeout=30, what="own filing")
        assert filer.enterprise_id in (
            message.body if isinstance(message.body, str) else message.body.decode()
        )
        assert channel.basic_get(mine.queue, no_ack=True) is None  # once, not once per department
        # the filing was published with its addressees' subscription copies: none reached the bystander
        operator = connect(hub.settings.amqp_uri)
        stray = raw_channel(operator).basic_get(bystander.queue, no_ack=True)
        assert stray is None, (stray.properties, stray.delivery_info, stray.body[:300])
        operator.release()
        with pytest.raises(amqp.exceptions.AccessRefused):
            raw_channel(conn).basic_get(theirs.queue, no_ack=True)
        conn.release()
        assert filing_routes.subscription_queue(hub.settings, "TOWN-ZSZ") == theirs.queue
    finally:
        for department in ("AJJ-TEZ", "TOWN-ZSZ", "XF9-TEZ"):
            subscriptions.remove(hub.settings, department)


def test_a_department_without_a_platform_pulls_its_filings_and_answers(hub: Hub) -> None:
    from hub.v1 import department_pb2 as dpb
    from hub.v1 import department_pb2_grpc

    from services.kernel import signatures
    from services.kernel.canonical import sm3_hex

    setup_departments(hub, {"ZJ-TEZ": ("住建", "")})  # no endpoint: it pulls
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        rpc.registry.set_routing_rule("建筑施工", "*", ["ZJ-TEZ"])
        token = rpc.dangers.issue_inspector_token("ZJ-TEZ")["token"]
    filer = Filer.register(hub, 51, industry="建筑施工")
    version = filer.file()
    credentials = (("x-hub-department", "ZJ-TEZ"), ("x-hub-department-token", token))
    feed = department_pb2_grpc.FilingFeedServiceStub(grpc.insecure_channel(hub.gateway_address))

    def pulled() -> list:
        stream = feed.StreamFilings(dpb.StreamFilingsRequest(stop_when_caught_up=True), metadata=credentials)
        return list(stream)

    [item] = wait_for(pulled, timeout=60, what="the filing in the department's feed")
    filing = item.filing
    assert filing.enterprise.enterprise_id == filer.enterprise_id and filing.version == version
    assert sm3_hex(filing.canonical_document) == filing.document_hash
    assert all(
        signatures.verify(s.public_key, filing.canonical_document, s.signature) for s in filing.signatures
    )
    assert filer.ledger(version)["ZJ-TEZ"][0] == fpb.DELIVERY_STATE_DELIVERED

    department_key, impostor = signatures.generate_keypair(), signatures.generate_keypair()

    def answer(key: signatures.KeyPair | None) -> None:
        receipt = dpb.Receipt(
            delivery_id=filing.delivery_id,
            outcome=dpb.OUTCOME_REJECTED,
            reason="缺少基坑专项方案",
            received_at="2026-11-29T08:00:00+00:00",
        )
        if key is not None:
            signed = receipts.signed_bytes(
                receipt.delivery_id, filing.document_hash, "OUTCOME_REJECTED", receipt.received_at
            )
            receipt.public_key, receipt.signature = (
                key.public_key_hex,
                signatures.sign(key.private_key_hex, signed),
            )
        feed.AcknowledgeFiling(dpb.AcknowledgeFilingRequest(receipt=receipt), metadata=credentials)

    with pytest.raises(grpc.RpcError) as unsigned:
        answer(None)
    assert unsigned.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "receipt.signature" in dict(field_violations(unsigned.value))
    assert filer.ledger(version)["ZJ-TEZ"][0] == fpb.DELIVERY_STATE_DELIVERED  # nothing recorded
    # a well-signed receipt for a filing that was never sent to ZJ-TEZ is refused and pins nothing
    stranger = Filer.register(hub, 52)  # a chemical works: 安监 and the town office only
    stray = dpb.Receipt(
        delivery_id=f"{stranger.enterprise_id}/{stranger.file()}/ZJ-TEZ",
        outcome=dpb.OUTCOME_ACCEPTED,
        received_at="2026-11-29T08:00:00+00:00",
        public_key=impostor.public_key_hex,
        signature=signatures.sign(impostor.private_key_hex, b"anything"),
    )
    with pytest.raises(grpc.RpcError) as not_ours:
        feed.AcknowledgeFiling(dpb.AcknowledgeFilingRequest(receipt=stray), metadata=credentials)
    assert not_ours.value.code() == grpc.StatusCode.NOT_FOUND
    assert "receipt.delivery_id" in not_ours.value.details()
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        assert not rpc.registry.get_department("ZJ-TEZ")["receipt_public_key"]
    answer(department_key)  # registered without a key: its first accepted receipt's key is pinned
    assert filer.ledger(version)["ZJ-TEZ"] == (REJECTED, "缺少基坑专项方案")
    with ClusterRpcProxy(hub.settings.nameko_config) as rpc:
        assert rpc.registry.get_department("ZJ-TEZ")["receipt_public_key"] == department_key.public_key_hex
    with pytest.raises(grpc.RpcError) as untrusted:
        answer(impostor)  # well signed, but not with the department's key
    assert untrusted.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "registered key" in dict(field_violations(untrusted.value))["receipt.signature"]
    later = feed.StreamFilings(
        dpb.StreamFilingsRequest(cursor=item.cursor, stop_when_caught_up=True), metadata=credentials
    )
    assert list(later) == []  # the cursor moves on


def _registered_and_filed(hub: Hub, n: int) -> tuple[Filer, int] | None:
    try:
        filer = Filer.register(hub, n)
        return filer, filer.file()
    except Exception:  # noqa: BLE001 - the hub is still reconnecting to the broker
        return None


def test_deliveries_go_on_after_the_broker_restarts(hub: Hub) -> None:
    """Kept last in the module: it restarts RabbitMQ under the module's hub."""
    setup_departments(hub)
    before = Filer.register(hub, 61)
    assert set(before.wait_answered(before.file()).values()) == {(ACK, "")}
    # The ERP goes on calling while the broker is away: calls in flight break the gateway's proxies.
    stop = threading.Event()

    def keep_calling() -> None:
        while not stop.is_set():
            try:
                before.ledger()
            except grpc.RpcError:
                time.sleep(0.2)

    callers = [threading.Thread(target=keep_calling) for _ in range(4)]
    for caller in callers:
        caller.start()
    time.sleep(1)
    try:
        with broker_stopped():
            time.sleep(3)  # the hub's connections break; its processes retry meanwhile
    finally:
        stop.set()
        for caller in callers:
            caller.join(timeout=60)
    filer, version = wait_for(
        lambda: _registered_and_filed(hub, 62), timeout=120, interval=2, what="the hub to take a filing again"
    )
    # the adapter's pushers came back to their queues: both departments answer
    assert filer.wait_answered(version, timeout=120) == {"AJJ-TEZ": (ACK, ""), "TOWN-ZSZ": (ACK, "")}
    for code in ("AJJ-TEZ", "TOWN-ZSZ"):
        assert len(inbox(hub, code, filer)) == 1
    # Every gateway thread may have held a proxy to the old broker connection: it answers
    # UNAVAILABLE once (the client retries), never INTERNAL, and takes calls again afterwards.
    refused = []
    for _ in range(48):  # three times the gateway's 16 worker threads
        try:
            before.ledger()
        except grpc.RpcError as error:
            refused.append(error.code())
    assert set(refused) <= {grpc.StatusCode.UNAVAILABLE} and len(refused) <= 16
