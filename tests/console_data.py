"""Envelopes as the services publish them, for the console's read model: a town of a few enterprises.

Each upstream's envelopes are numbered as its relay numbers them (notification id, previous id), so
a ViewConsumer applies them as it would from RabbitMQ.
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from services.backbone.envelope import Envelope
from tests.factories import make_uscc

TOWN = "张山子镇"
OTHER_TOWN = "涧头集镇"
START = datetime(2016, 9, 1, tzinfo=UTC)


RECEIPT = {"received_at": "2016-09-03T00:00:00+00:00"}


class Stream:
    """The published envelopes of every upstream, in each one's order."""

    def __init__(self) -> None:
        self.by_upstream: dict[str, list[Envelope]] = defaultdict(list)
        self._clock = 0

    def emit(
        self,
        upstream: str,
        type_: str,
        originator: str,
        payload: dict[str, Any],
        enterprise: str | None = None,
    ) -> Envelope:
        stream = self.by_upstream[upstream]
        previous = stream[-1].notification_id if stream else 0
        self._clock += 1
        version = 1 + sum(e.originator_id == originator for e in stream)
        envelope = Envelope(
            event_id=str(uuid.uuid4()),
            type=type_,
            schema_version=1,
            originator_id=originator,
            originator_version=version,
            upstream=upstream,
            notification_id=previous + 1,
            previous_id=previous,
            occurred_at=(START + timedelta(minutes=self._clock)).isoformat(),
            correlation_id="",
            enterprise_id=enterprise or payload.get("enterprise_id"),
            payload=payload,
        )
        stream.append(envelope)
        return envelope

    # -- what the services publish -------------------------------------------------------------
    def department(self, code: str, name: str, kind: str, town: str = "") -> None:
        self.emit(
            "registry",
            "Department.Registered",
            str(uuid.uuid5(uuid.NAMESPACE_URL, code)),
            {
                "code": code,
                "name": name,
                "kind": kind,
                "town": town,
                "endpoint": "",
                "tls_ca": "",
                "credentials_ref": "",
                "receipt_public_key": "",
            },
        )

    def enterprise(
        self, n: int, town: str = TOWN, supervisors: tuple[str, ...] = ("AJJ-TEZ",), **profile: Any
    ) -> str:
        eid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"enterprise/{n}"))
        fields = {
            "uscc": make_uscc(n),
            "name": f"台儿庄区测试企业{n:04d}有限公司",
            "legal_representative": f"张{n}",
            "legal_representative_mobile": "13800138000",
            "industry": "化工",
            "address": f"{town}工业园{n}号",
            "town": town,
            "contacts": [{"name": "李安全", "role": "安全员", "mobile": "13912345678"}],
            **profile,
        }
        self.emit("registry", "Enterprise.Registered", eid, fields, enterprise=eid)
        self.emit(
            "registry",
            "Enterprise.SupervisorsAssigned",
            eid,
            {"departments": list(supervisors), "manual": []},
            enterprise=eid,
        )
        return eid

    def risk_point(self, enterprise: str, n: int, level: int, name: str = "") -> str:
        pid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{enterprise}/point/{n}"))
        colour = {1: "红", 2: "橙", 3: "黄", 4: "蓝"}[level]
        self.emit(
            "riskpoints",
            "RiskPoint.Identified",
            pid,
            {
                "enterprise_id": enterprise,
                "external_id": f"RP-{n}",
                "name": name or f"风险点{n:03d}",
                "location": "一车间",
                "category": "生产系统",
                "accident_types": ["火灾", "其他爆炸"],
                "responsible_unit": "一车间",
                "responsible_person": "王责任",
                "responsible_mobile": "13700137000",
                "control_measures": [{"type": "制度管理", "description": "严格执行操作规程"}],
                "emergency_measures": ["立即撤离"],
                "adjacent_units": [],
                "assessment": {
                    "method": "LEC",
                    "scores": {"L": 3, "E": 6, "C": 40},
                    "value": 720,
                    "level": level,
                    "colour": colour,
                },
                "level": level,
                "colour": colour,
                "control_tier": "公司",
                "control_tier_override": None,
            },
        )
        return pid

    def danger(self, enterprise: str, point: str, n: int, grade: str = "重大", department: str = "") -> str:
        did = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{enterprise}/danger/{n}"))
        finding: dict[str, Any] = {
            "description": f"隐患{n}：消防通道堵塞",
            "evidence": [],
            "found_on": "2016-09-01",
        }
        source = "self_inspection"
        if department:
            finding.update(inspector_name="赵检查", department=department)
            source = "government_inspection"
        self.emit(
            "dangers",
            "HiddenDanger.Reported",
            did,
            {"enterprise_id": enterprise, "risk_point_id": point, "source": source, "finding": finding},
        )
        self.emit(
            "dangers",
            "HiddenDanger.Assessed",
            did,
            {"enterprise_id": enterprise, "grade": grade, "removable_now": False, "assessed_by": "赵检查"},
        )
        return did

    def overdue(self, enterprise: str, danger: str) -> None:
        self.emit(
            "dangers",
            "HiddenDanger.Overdue",
            danger,
            {
                "enterprise_id": enterprise,
                "deadline": "2016-09-10",
                "detected_at": "2016-09-11T00:00:00+00:00",
            },
        )

    def case(self, enterprise: str, danger: str, department: str) -> str:
        cid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"case/{danger}"))
        self.emit(
            "dangers",
            "EnforcementCase.CaseOpened",
            cid,
            {
                "enterprise_id": enterprise,
                "danger_id": danger,
                "reason": "消防通道堵塞",
                "step": {"document_no": "台安监立〔2016〕1号", "authority": department, "date": "2016-09-02"},
            },
        )
        return cid

    def inspection(self, enterprise: str, department: str, dangers: list[str]) -> None:
        self.emit(
            "dangers",
            "Inspection.Recorded",
            str(uuid.uuid4()),
            {
                "enterprise_id": enterprise,
                "department": department,
                "document_no": "台安监检〔2016〕1号",
                "inspector_name": "赵检查",
                "inspected_on": "2016-09-02",
                "danger_ids": dangers,
                "reinspections": [],
                "remarks": "",
            },
        )

    def filed(self, enterprise: str, version: int, departments: list[str], at: str) -> None:
        fid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{enterprise}/filing/{version}"))
        self.emit(
            "filing",
            "Filing.Compiled",
            fid,
            {
                "enterprise_id": enterprise,
                "version": version,
                "document": {},
                "document_hash": "ab" * 32,
                "reason": "requested",
            },
        )
        self.emit(
            "filing",
            "Filing.Submitted",
            fid,
            {
                "enterprise_id": enterprise,
                "version": version,
                "document": {},
                "document_hash": "ab" * 32,
                "signatures": {},
                "public_keys": {},
                "departments": departments,
                "submitted_at": at,
            },
        )

    def answered(
        self, enterprise: str, version: int, department: str, outcome: str, reason: str = ""
    ) -> None:
        self.emit(
            "filing",
            "FilingDelivery.Recorded",
            str(uuid.uuid4()),
            {
                "enterprise_id": enterprise,
                "version": version,
                "department": department,
                "outcome": outcome,
                "reason": reason,
                "receipt": RECEIPT if outcome != "parked" else {},
            },
        )

    def answered_together(self, enterprise: str, version: int, moves: list[tuple[str, str, str]]) -> None:
        """Departments' answers to a filing stored together: one DeliveryLedger.Recorded."""
        self.emit(
            "filing",
            "DeliveryLedger.Recorded",
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"ledger/{enterprise}/{version}")),
            {
                "enterprise_id": enterprise,
                "version": version,
                "moves": [
                    {"department": d, "outcome": o, "reason": r, "receipt": {} if o == "parked" else RECEIPT}
                    for d, o, r in moves
                ],
            },
        )

    def campaign(self, town: str, name: str, deadline: str) -> None:
        self.emit(
            "filing",
            "FilingCampaign.Opened",
            str(uuid.uuid4()),
            {"town": town, "name": name, "deadline": deadline},
        )

    # -- what the audit worker publishes -----------------------------------------------------------
    def tree_head(
        self, store: str, sequence: int, tree_size: int, position: int, previous_size: int = 0
    ) -> None:
        """A signed head of a store's tree (TreeHead.Signed on audit.events); the hashes are stand-ins."""
        seed = f"{store}/{sequence}".encode()
        self.emit(
            "audit",
            "TreeHead.Signed",
            str(uuid.uuid5(uuid.NAMESPACE_URL, f"head/{store}/{sequence}")),
            {
                "store": store,
                "sequence": sequence,
                "tree_size": tree_size,
                "root_hash": hashlib.sha256(seed).hexdigest(),
                "position": position,
                "signed_at": (START + timedelta(minutes=self._clock)).isoformat(),
                "public_key": "04" + hashlib.sha512(b"key").hexdigest(),
                "signature": hashlib.sha512(seed).hexdigest(),
                "previous_size": previous_size,
                "consistency": [],
            },
        )
