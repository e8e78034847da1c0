"""The enforcement process manager (六个必须): every enterprise inspected; a major danger found by a
government inspection opens a case; 顶格处罚; 曝光; still major → 停产整顿; still failing → 关闭取缔.

It keeps the chain's order in the EnforcementCase, records inspections and their findings, and drives
the registry: SuspensionOrdered and ClosureOrdered reach it through RabbitMQ (services/registry/handlers.py).
"""

from __future__ import annotations

from typing import Any

from services.backbone.conflicts import retried
from services.backbone.errors import ConflictError, TransitionError, ValidationError
from services.dangers.base import DangersBase, RiskPointOwners
from services.dangers.cases import EnforcementCase, case_id
from services.dangers.checks import Checks
from services.dangers.domain import HiddenDanger
from services.dangers.inspections import Inspection, finding_id, inspection_id
from services.dangers.plans import check_finding, check_step
from services.dangers.views import case_view
from services.dangers.vocabulary import Grade, Source
from services.kernel.validation import uuid_field


class Enforcement(DangersBase):
    """A supervising department's inspections; the case orders are in Orders (orders.py)."""

    @retried
    def record_inspection(
        self, department: str, fields: dict[str, Any], owners: RiskPointOwners, after: int = 0
    ) -> dict[str, Any]:
        """Records an inspection: its findings become hidden dangers (a major one opens a case), and its
        re-inspections advance the cases of dangers found before. `after`: how far the inspected
        enterprise's writes reached in riskpoints, as far as the caller knows."""
        enterprise = str(uuid_field(fields.get("enterprise_id", ""), "enterprise_id"))
        record = self._supervised(department, enterprise)
        checks = Checks()
        head = {
            "document_no": checks.text(fields.get("document_no"), "document_no", max_length=200),
            "inspector_name": checks.text(fields.get("inspector_name"), "inspector_name", max_length=100),
            "inspected_on": checks.date(fields.get("inspected_on"), "inspected_on"),
            "remarks": checks.text(fields.get("remarks"), "remarks", required=False),
        }
        given = {
            "inspector_name": head["inspector_name"],
            "department": department,
            "found_on": head["inspected_on"],
        }
        findings = []
        for i, item in enumerate(fields.get("findings") or []):
            prefix = f"findings[{i}]."
            findings.append(
                (
                    checks.uuid(item.get("risk_point_id"), f"{prefix}risk_point_id"),
                    check_finding({**item, **given}, Source.GOVERNMENT_INSPECTION, checks, prefix),
                    checks.choice(item.get("grade"), f"{prefix}grade", Grade),
                    bool(item.get("removable_now", True)),
                )
            )
        checks.done()
        refs = [(f"findings[{i}].risk_point_id", f[0]) for i, f in enumerate(findings)]
        self._own_risk_points(enterprise, refs, owners, self._holdings(enterprise) if refs else None, after)
        iid = inspection_id(department, head["document_no"])
        if self.find(iid) is not None:
            raise ConflictError("document_no", f"inspection {head['document_no']} is already recorded")
        step = {"document_no": head["document_no"], "authority": department, "date": head["inspected_on"]}
        dangers, cases, listed = [], [], self._danger_list(enterprise)
        for i, (risk_point_id, finding, grade, removable_now) in enumerate(findings):
            danger = HiddenDanger.found(
                danger_id=finding_id(iid, i),
                enterprise_id=enterprise,
                risk_point_id=risk_point_id,
                source=str(Source.GOVERNMENT_INSPECTION),
                finding=finding,
            )
            assert grade is not None
            danger.assess(grade, removable_now, head["inspector_name"])
            listed.add(str(danger.id))
            dangers.append(danger)
            if grade == Grade.MAJOR:  # 立案: the inspection record is the case's basis
                cases.append(
                    EnforcementCase(
                        enterprise_id=enterprise,
                        danger_id=str(danger.id),
                        reason=finding["description"],
                        step=step,
                    )
                )
        reinspections = self._reinspect(enterprise, str(iid), fields.get("reinspections") or [], step)
        inspection = Inspection(
            enterprise_id=enterprise,
            department=department,
            document_no=head["document_no"],
            inspector_name=head["inspector_name"],
            inspected_on=head["inspected_on"],
            danger_ids=[str(d.id) for d in dangers],
            reinspections=[r[1] for r in reinspections],
            remarks=head["remarks"],
        )
        record.inspected(str(iid), department, head["inspected_on"])
        coverage = self._coverage()
        coverage.follow(record)
        self.save(inspection, record, coverage, listed, *dangers, *cases, *(r[0] for r in reinspections))
        return {
            "inspection_id": str(iid),
            "danger_ids": [str(d.id) for d in dangers],
            "case_ids": [str(c.id) for c in cases],
        }

    def _reinspect(
        self, enterprise: str, inspection: str, items: list[dict[str, Any]], step: dict[str, str]
    ) -> list[tuple[EnforcementCase, dict[str, Any]]]:
        done = []
        for i, item in enumerate(items):
            field = f"reinspections[{i}].danger_id"
            danger = self._danger(str(item.get("danger_id", "")))
            case = self.find(case_id(danger.id))
            if danger.enterprise_id != enterprise or not isinstance(case, EnforcementCase):
                raise ValidationError(field, "must be a danger of this enterprise with an enforcement case")
            still_major = bool(item.get("still_major"))
            case.reinspect(inspection, still_major, step)
            done.append(
                (case, {"danger_id": str(danger.id), "case_id": str(case.id), "still_major": still_major})
            )
        return done

    @retried
    def open_case(self, department: str, danger_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """立案 on a major danger that has no case yet (one found by inspection opens its own)."""
        danger = self._danger(danger_id)
        self._supervised(department, danger.enterprise_id)
        if danger.grade != Grade.MAJOR:
            raise TransitionError(
                "grade", "立案 needs a major (重大) hidden danger", danger.grade or "ungraded"
            )
        existing = self.find(case_id(danger.id))
        if existing is not None:
            raise ConflictError("danger_id", f"case {existing.id} is already open on this danger")
        step = check_step(fields, department, "opened_on", "reason")
        reason = step.pop("reason")
        case = EnforcementCase(
            enterprise_id=danger.enterprise_id, danger_id=str(danger.id), reason=reason, step=step
        )
        self.save(case)
        return case_view(case)

    def list_uninspected(self, department: str, town: str = "") -> list[dict[str, Any]]:
        """Operating enterprises the department supervises that no department has inspected yet."""
        return [
            {"enterprise_id": eid, "name": entry["name"], "town": entry["town"]}
            for eid, entry in sorted(self._coverage().uninspected.items())
            if department in entry["supervisors"] and (not town or entry["town"] == town)
        ]
