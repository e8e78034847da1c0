"""A town through the hub's front doors: a few for the console's browser tests, thousands for its page
benchmark (bench/console_pages.py).

Everything goes in as it does in production: enterprises register and import their risk points over
gRPC (the ERP path), a share of them sign and file their registers (delivered to the reference
platforms `make run` starts), some report hidden dangers, 安监 inspects some and opens cases, the town
office opens a campaign and publishes the month's report. Then the hub is left to catch up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import grpc
from hub.v1 import danger_pb2 as dpb
from hub.v1 import danger_pb2_grpc, enterprise_pb2_grpc, filing_pb2_grpc, riskpoint_pb2_grpc
from hub.v1 import enterprise_pb2 as epb
from hub.v1 import filing_pb2 as fpb
from hub.v1 import riskpoint_pb2 as rpb
from nameko.standalone.rpc import ClusterRpcProxy

from hubctl import demo_town
from services.backbone.amqp import CONNECTION_ERRORS
from services.kernel import identity, signatures
from tests.conftest import Hub

TOWN = demo_town.TOWN
OFFICE, AJJ, ZJ = "TOWN-ZSZ", "AJJ-TEZ", "TEZ-ZJ"
CHINA = timezone(timedelta(hours=8))
T = TypeVar("T")


@dataclass
class Loaded:
    enterprises: list[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=list)  # id, credential
    filed: list[str] = field(default_factory=list)
    campaign: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


RETRY = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED)
DONE_BEFORE = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ALREADY_EXISTS)


def calling(fn: Callable[[], T], attempts: int = 30) -> T | None:
    """A call sent again while the broker restarts (the machine's RabbitMQ is shared and restarted by
    others' fault tests); what the hub answers for one already done (a retried danger assessed, a
    register submitted) counts as done. Every call here is safe to send again (idempotency keys)."""
    for attempt in range(attempts):
        try:
            return fn()
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            if code in DONE_BEFORE and attempt:
                return None
            if code not in RETRY or attempt == attempts - 1:
                raise
            time.sleep(min(0.5 * 2**attempt, 5.0))
    return None


def caught_up(settings: Any, timeout: float = 1800) -> float:
    """Seconds until every relay has published its store and every consumer applied it."""
    from hubctl.status import collect

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            lagging = any(
                s["relay_lag"] > 0 or any(c["lag"] > 0 for c in s["consumers"].values())
                for s in collect(settings).values()
            )
        except Exception:  # noqa: BLE001 - the shared broker restarting: ask again
            lagging = True
        if not lagging:
            return round(time.monotonic() - started, 1)
        time.sleep(1)
    return float("inf")


def in_parallel(fn: Callable[[int], T], count: int, workers: int) -> Iterator[T]:
    with ThreadPoolExecutor(workers) as pool:
        yield from pool.map(fn, range(count))


def rpc(hub: Hub, service: str, method: str, *args: Any, timeout: float = 600) -> Any:
    for attempt in range(30):  # the shared broker may be restarting (see calling)
        try:
            with ClusterRpcProxy(hub.settings.nameko_config, timeout=timeout) as proxy:
                return getattr(getattr(proxy, service), method)(*args)
        except (OSError, *CONNECTION_ERRORS):
            if attempt == 29:
                raise
            time.sleep(min(0.5 * 2**attempt, 5.0))
    return None


def departments(hub: Hub) -> None:
    for code, name, kind, town, endpoint in (
        (AJJ, "台儿庄区应急管理局", "安监", "", hub.platforms["AJJ-TEZ"]),
        (OFFICE, "张山子镇安委会办公室", "镇安委会办公室", TOWN, hub.platforms["TOWN-ZSZ"]),
        (ZJ, "台儿庄区住房和城乡建设局", "住建", "", ""),
    ):
        rpc(
            hub,
            "registry",
            "add_department",
            {"code": code, "name": name, "kind": kind, "town": town, "endpoint": endpoint},
        )
    rpc(hub, "registry", "set_routing_rule", "*", "*", [AJJ])
    rpc(hub, "registry", "set_routing_rule", "建筑施工", "*", [ZJ])


def point_external_id(enterprise: str, loaded: Loaded) -> str:
    """The ERP id of the first risk point the enterprise imported (see items): dangers and findings
    name a risk point of the enterprise they are about, as the hub requires."""
    n = next(i for i, (e, _) in enumerate(loaded.enterprises) if e == enterprise)
    return f"TOWN-{n}-0"


def items(n: int, per: int) -> list[rpb.RiskPointInput]:
    base = demo_town.risk_points(n)
    found = []
    for i in range(per):
        item = rpb.RiskPointInput()
        item.CopyFrom(base[i % len(base)])
        item.external_id = f"TOWN-{n}-{i}"
        item.name = f"{item.name}{i + 1}号"
        found.append(item)
    return found


def load(
    hub: Hub,
    enterprises: int,
    per: int,
    filed_share: float,
    dangers: int,
    inspections: int,
    campaign_and_report: bool = True,
) -> Loaded:
    loaded = Loaded()
    channel = grpc.insecure_channel(
        hub.gateway_address, options=[("grpc.max_receive_message_length", 64 << 20)]
    )
    registry = enterprise_pb2_grpc.EnterpriseServiceStub(channel)
    token = (("x-hub-registration-token", hub.registration_token),)
    departments(hub)

    def register(n: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        request = epb.RegisterEnterpriseRequest(
            profile=demo_town.profile(n), idempotency_key=f"console-bench-{n}"
        )
        answer = calling(lambda: registry.RegisterEnterprise(request, metadata=token))
        assert answer is not None
        return answer.enterprise_id, (("x-hub-key-id", answer.key_id), ("x-hub-secret", answer.secret))

    started = time.monotonic()
    loaded.enterprises = list(in_parallel(register, enterprises, 8))
    points = riskpoint_pb2_grpc.RiskPointServiceStub(channel)

    def import_points(n: int) -> None:
        batch = items(n, per)
        calling(
            lambda: list(
                points.ImportRiskPoints(
                    iter([rpb.ImportRiskPointsRequest(items=batch)]), metadata=loaded.enterprises[n][1]
                )
            )
        )

    list(in_parallel(import_points, enterprises, 4))
    loaded.seconds["register_and_import"] = round(time.monotonic() - started, 1)
    loaded.seconds["caught_up_after_import"] = caught_up(hub.settings)
    started = time.monotonic()
    filers = list(range(0, enterprises, max(1, round(1 / filed_share))))
    loaded.filed = [loaded.enterprises[n][0] for n in filers]
    filings = filing_pb2_grpc.FilingServiceStub(channel)

    def sign_and_file(n: int) -> None:
        metadata = loaded.enterprises[n][1]
        keys = {role.value: signatures.generate_keypair() for role in signatures.Signer}
        for role, enum in (
            ("legal_representative", epb.SIGNING_ROLE_LEGAL_REPRESENTATIVE),
            ("enterprise_seal", epb.SIGNING_ROLE_ENTERPRISE_SEAL),
        ):
            key = epb.RegisterSigningKeyRequest(role=enum, public_key=keys[role].public_key_hex)
            calling(lambda key=key: registry.RegisterSigningKey(key, metadata=metadata))
        compiled = calling(lambda: filings.CompileRegister(fpb.CompileRegisterRequest(), metadata=metadata))
        assert compiled is not None
        data = compiled.canonical_document
        request = fpb.SubmitRegisterRequest(
            version=compiled.version.version,
            legal_representative_signature=signatures.sign(
                keys["legal_representative"].private_key_hex, data
            ),
            enterprise_seal_signature=signatures.sign(keys["enterprise_seal"].private_key_hex, data),
        )
        for _ in range(200):  # the keys reach the filing service through the registry's stream
            try:
                calling(lambda: filings.SubmitRegister(request, metadata=metadata))
                return
            except grpc.RpcError as error:
                if "no public key" not in (error.details() or ""):  # type: ignore[attr-defined]
                    raise
                time.sleep(0.2)

    list(in_parallel(lambda i: sign_and_file(filers[i]), len(filers), 4))
    loaded.seconds["file"] = round(time.monotonic() - started, 1)
    report_dangers(channel, loaded, dangers)
    inspect(hub, channel, loaded, inspections)
    if not campaign_and_report:
        channel.close()
        return loaded
    loaded.campaign = "2026年一企一册报备"
    deadline = (datetime.now(CHINA) + timedelta(days=20)).date().isoformat()
    rpc(hub, "filing", "open_campaign", TOWN, loaded.campaign, deadline)
    loaded.seconds["caught_up_at_end"] = caught_up(hub.settings)
    started = time.monotonic()
    rpc(hub, "notifications", "publish_monthly_report", TOWN, datetime.now(CHINA).strftime("%Y-%m"))
    loaded.seconds["publish_monthly_report"] = round(time.monotonic() - started, 1)
    channel.close()
    return loaded


def report_dangers(channel: grpc.Channel, loaded: Loaded, count: int) -> None:
    if not count:
        return
    stub = danger_pb2_grpc.DangerServiceStub(channel)
    evidence = [
        dpb.Evidence(
            uri="https://erp.example.cn/photo.jpg", hash_algorithm=dpb.HASH_ALGORITHM_SM3, digest="0" * 64
        )
    ]

    def one(k: int) -> None:
        enterprise, metadata = loaded.enterprises[(k * 7) % len(loaded.enterprises)]
        report = dpb.ReportDangerRequest(
            risk_point_id=str(identity.risk_point_id(enterprise, point_external_id(enterprise, loaded))),
            inspection_type=dpb.INSPECTION_TYPE_ROUTINE,
            description=f"巡检发现隐患{k}：安全通道堵塞",
            evidence=evidence,
            found_on="2026-11-01",
            reported_by="巡检员",
            idempotency_key=f"bench-{k}",
        )
        reported = calling(lambda: stub.ReportDanger(report, metadata=metadata))
        assert reported is not None
        grade = dpb.DANGER_GRADE_MAJOR if k % 5 == 0 else dpb.DANGER_GRADE_GENERAL
        assess = dpb.AssessDangerRequest(
            danger_id=reported.danger.danger_id, grade=grade, assessed_by="安全科"
        )
        calling(lambda: stub.AssessDanger(assess, metadata=metadata))

    list(in_parallel(one, count, 8))


def inspect(hub: Hub, channel: grpc.Channel, loaded: Loaded, count: int) -> None:
    if not count:
        return
    token = rpc(hub, "dangers", "issue_inspector_token", AJJ)["token"]
    stub = danger_pb2_grpc.InspectionServiceStub(channel)
    headers = (("x-hub-department", AJJ), ("x-hub-department-token", token))

    def one(k: int) -> None:
        enterprise, _ = loaded.enterprises[(k * 13) % len(loaded.enterprises)]
        request = dpb.RecordInspectionRequest(
            enterprise_id=enterprise,
            document_no=f"台应急检〔2026〕{k + 1}号",
            inspector_name="郑检查",
            inspected_on="2026-11-30",
            findings=[
                dpb.InspectionFinding(
                    risk_point_id=str(
                        identity.risk_point_id(enterprise, point_external_id(enterprise, loaded))
                    ),
                    description="重大隐患：未设置泄漏报警",
                    evidence=[
                        dpb.Evidence(
                            uri="https://x.cn/a.jpg",
                            hash_algorithm=dpb.HASH_ALGORITHM_SM3,
                            digest="1" * 64,
                        )
                    ],
                    grade=dpb.DANGER_GRADE_MAJOR,
                )
            ],
        )
        calling(lambda: stub.RecordInspection(request, metadata=headers))

    list(in_parallel(one, count, 4))
