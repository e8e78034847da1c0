"""Per-enterprise ledgers of risk points, hidden dangers and filings, with the time of each fact.

The monthly report reads them "as of" a moment (the end of a month), so they keep when things
happened, not only how they are now. Each is written by one consumer thread only (its upstream's).
"""

from __future__ import annotations

import uuid
from typing import Any

from eventsourcing.domain import event

from services.backbone.aggregate import InternalAggregate
from services.backbone.ids import per_enterprise
from services.notifications.views import VIEWS


@per_enterprise
def ledger_id(kind: str, enterprise_id: str) -> uuid.UUID:
    return uuid.uuid5(VIEWS, f"{kind}/{enterprise_id}")


class RiskLedger(InternalAggregate):
    """Each risk point's level over time: [[at, level], ...]; level 0 once retired.

    A page of consumed messages often grades hundreds of risk points of one enterprise (a bulk
    import): the grades are gathered and recorded as one event per page, not one per risk point."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return ledger_id("risks", enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.levels: dict[str, list[list[Any]]] = {}
        self.names: dict[str, str] = {}

    def grade(self, risk_point_id: str, level: int, at: str, name: str = "") -> None:
        """Gathers a grade that changes the point's level or name; recorded when the page is saved."""
        pending = self.__dict__.setdefault("_staged", {})  # ledgers snapshotted before had none
        mine = pending.get(risk_point_id)
        if mine:
            level_now = mine[-1][1]
            name_now = next((g[3] for g in reversed(mine) if g[3]), self.names.get(risk_point_id))
        else:
            history = self.levels.get(risk_point_id)
            level_now = history[-1][1] if history else None
            name_now = self.names.get(risk_point_id)
        if level_now is None or level_now != level or (name and name_now != name):
            pending.setdefault(risk_point_id, []).append([risk_point_id, level, at, name])

    def collect_events(self) -> Any:
        # The unit of work collects events when it saves the page: the gathered grades become one event.
        pending = self.__dict__.get("_staged")
        if pending:
            self._staged = {}
            self._graded_all(grades=[grade for grades in pending.values() for grade in grades])
        return super().collect_events()

    @event("GradedAll")
    def _graded_all(self, grades: list[list[Any]]) -> None:
        for grade in grades:
            self._apply_grade(*grade)

    @event("Graded")
    def _graded(self, risk_point_id: str, level: int, at: str, name: str) -> None:
        """One grade per event: how ledgers were written before grades were gathered per page."""
        self._apply_grade(risk_point_id, level, at, name)

    def _apply_grade(self, risk_point_id: str, level: int, at: str, name: str) -> None:
        self.levels.setdefault(risk_point_id, []).append([at, level])
        if name:
            self.names[risk_point_id] = name

    def levels_at(self, cutoff: str) -> dict[str, int]:
        """Each risk point's level in force before `cutoff` (retired and unknown ones left out)."""
        found = {}
        for point, history in self.levels.items():
            current = [level for at, level in history if at < cutoff]
            if current and current[-1]:
                found[point] = int(current[-1])
        return found


class DangerLedger(InternalAggregate):
    """Each hidden danger: what, grade, when reported, found overdue and closed."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return ledger_id("dangers", enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.dangers: dict[str, dict[str, str]] = {}

    @event("Noted")
    def note(self, danger_id: str, facts: dict[str, str]) -> None:
        self.dangers.setdefault(danger_id, {}).update(facts)

    def describe(self, danger_id: str) -> str:
        return self.dangers.get(danger_id, {}).get("description", "")

    def at(self, cutoff: str) -> list[dict[str, Any]]:
        """The dangers reported before `cutoff` and not closed by then, with `overdue` and `major`."""
        found = []
        for danger_id, facts in self.dangers.items():
            reported = facts.get("reported_at", "")
            if not reported or reported >= cutoff:
                continue
            if facts.get("closed_at") and facts["closed_at"] < cutoff:
                continue
            overdue = bool(facts.get("overdue_at")) and facts["overdue_at"] < cutoff
            found.append({"danger_id": danger_id, "overdue": overdue, "major": facts.get("grade") == "重大"})
        return found


class FilingLedger(InternalAggregate):
    """Each submitted version (when, to whom) and each department's answers to it."""

    @staticmethod
    def create_id(enterprise_id: str, **_: Any) -> uuid.UUID:
        return ledger_id("filings", enterprise_id)

    @event("Opened")
    def __init__(self, enterprise_id: str) -> None:
        self.enterprise_id = enterprise_id
        self.submissions: dict[str, dict[str, Any]] = {}  # str(version) → submitted_at, departments
        self.answers: dict[str, dict[str, list[str]]] = {}  # str(version) → department → [at, outcome]

    @event("Submitted")
    def submitted(self, version: int, at: str, departments: list[str]) -> None:
        self.submissions[str(version)] = {"submitted_at": at, "departments": list(departments)}

    @event("Answered")
    def answered(self, version: int, department: str, outcome: str, at: str) -> None:
        self.answers.setdefault(str(version), {})[department] = [at, outcome]

    @event("AnsweredMany")
    def answered_many(self, answers: list[list[Any]]) -> None:
        """Departments' answers a page brought, [version, department, outcome, at] each, in order: one
        event for a filing's twenty answers instead of twenty."""
        for version, department, outcome, at in answers:
            self.answers.setdefault(str(version), {})[department] = [at, outcome]

    def first_submitted_at(self) -> str:
        return min((s["submitted_at"] for s in self.submissions.values()), default="")

    def outcomes_at(self, cutoff: str) -> dict[str, str]:
        """Each department's answer to the latest version submitted before `cutoff` ("pending": none yet)."""
        versions = [int(v) for v, s in self.submissions.items() if s["submitted_at"] < cutoff]
        if not versions:
            return {}
        latest = str(max(versions))
        answers = self.answers.get(latest, {})
        return {
            d: (answers[d][1] if d in answers and answers[d][0] < cutoff else "pending")
            for d in self.submissions[latest]["departments"]
        }


CAMPAIGNS_ID = uuid.uuid5(VIEWS, "campaigns")


class Campaigns(InternalAggregate):
    """The filing campaigns the towns opened (filing's FilingCampaign.Opened): town → [[deadline, name]]."""

    @staticmethod
    def create_id(**_: Any) -> uuid.UUID:
        return CAMPAIGNS_ID

    @event("Opened")
    def __init__(self) -> None:
        self.deadlines: dict[str, list[list[str]]] = {}

    @event("CampaignRecorded")
    def record(self, town: str, name: str, deadline: str) -> None:
        self.deadlines.setdefault(town, []).append([deadline, name])

    def deadline_in(self, town: str, month: str) -> str:
        """The latest deadline (YYYY-MM-DD) of the town's campaigns that falls in `month`, or ""."""
        return max((d for d, _ in self.deadlines.get(town, []) if d.startswith(month + "-")), default="")
