"""Filing use cases: compile, sign-check and submit the register, the ledger, versions and diffs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import RecordConflictError

from services.backbone import correlation
from services.backbone.conflicts import retried
from services.backbone.errors import DomainError, NotFoundError, TransitionError, ValidationError
from services.backbone.store import HubApplication, pages
from services.filing import register
from services.filing.danger_views import DangerRegister
from services.filing.domain import (
    Delivery,
    Filing,
    FilingDelivery,
    FilingIndex,
    delivery_entry_id,
    filing_id,
    filing_index_id,
)
from services.filing.riskpoint_views import RiskPointRegister
from services.filing.views import (
    DIRECTORY_ID,
    DepartmentsView,
    EnterpriseView,
    TownIndex,
    enterprise_view_id,
    town_index_id,
)
from services.kernel import canonical, signatures

ROLES = tuple(s.value for s in signatures.Signer)
TOWN_PAGE = 500  # enterprises read together by the town's queries


def described(directory: DepartmentsView | None, codes: list[str]) -> list[dict[str, str]]:
    """Departments by code, with their names (the codes alone before the directory knows any)."""
    if directory is None:
        return [{"code": c, "name": c} for c in sorted(set(codes))]
    return directory.describe(codes)


def now() -> str:
    return datetime.now(UTC).isoformat()


class FilingApplication(HubApplication):
    """The filing service's application."""

    service = "filing"
    snapshotting_intervals = {
        EnterpriseView: 100,
        FilingIndex: 50,
        TownIndex: 1000,
        DepartmentsView: 100,
        RiskPointRegister: 50,
        DangerRegister: 50,
    }

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._recipients_cache: dict[tuple[str, int], frozenset[str]] = {}
        self._entries_seen: set[UUID] = set()  # ledger entries known to exist
        self._stale_read = 0  # how far stale_registers has read the log
        self._maybe_stale: set[str] = set()  # filing indexes marked stale since, not yet seen current

    # -- views --------------------------------------------------------------------------------
    def _get(self, aggregate_id: Any) -> Any:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    def _enterprise(self, enterprise_id: str) -> EnterpriseView:
        try:
            view = self._get(enterprise_view_id(enterprise_id))
        except ValueError:
            raise ValidationError("enterprise_id", "must be a UUID") from None
        if view is None:
            raise NotFoundError("enterprise_id", f"filing has no record of enterprise {enterprise_id}")
        return view  # type: ignore[no-any-return]

    def enterprise_view(self, enterprise_id: str) -> dict[str, Any]:
        return self._enterprise(enterprise_id).as_dict()

    def risk_points_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        """The enterprise's risk points as the filing view holds them (from riskpoints events)."""
        try:
            from services.filing import riskpoint_views
        except ImportError:
            return []
        return list(riskpoint_views.riskpoint_register(self, enterprise_id))

    def dangers_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        """The enterprise's hidden dangers as the filing view holds them (from dangers events)."""
        try:
            from services.filing import danger_views
        except ImportError:
            return []
        return list(danger_views.dangers_of(self, enterprise_id))

    def departments(self, codes: list[str]) -> list[dict[str, str]]:
        return described(self._get(DIRECTORY_ID), codes)

    def town_enterprises(self, town: str) -> list[str]:
        index: TownIndex | None = self._get(town_index_id(town))
        return list(index.enterprises) if index else []

    # -- compile and submit -------------------------------------------------------------------
    def document_of(self, enterprise_id: str) -> dict[str, Any]:
        view = self._enterprise(enterprise_id)
        return register.compile_document(
            view.as_dict(),
            self.risk_points_of(enterprise_id),
            self.dangers_of(enterprise_id),
            self.departments(view.supervisors),
        )

    def _index(self, enterprise_id: str) -> FilingIndex:
        index: FilingIndex | None = self._get(filing_index_id(enterprise_id))
        return index or FilingIndex(enterprise_id=enterprise_id)

    @retried
    def compile(self, enterprise_id: str, reason: str = "requested") -> dict[str, Any]:
        """The current register to sign: a new version when the facts changed, else the latest."""
        view = self._enterprise(enterprise_id)
        if view.status == "closed":
            raise TransitionError("enterprise_id", "a closed enterprise files nothing", "closed")
        document = self.document_of(enterprise_id)
        digest = canonical.register_hash(document)
        index = self._index(enterprise_id)
        if index.latest and index.hashes[str(index.latest)] == digest:
            latest: Filing = self.repository.get(filing_id(enterprise_id, index.latest))
            if index.stale_since is not None:
                index.refresh()  # the change was undone: nothing new to file
                self.save(index)
            return self._compiled(latest, created=False)
        version = index.latest + 1
        filing = Filing(
            enterprise_id=enterprise_id,
            version=version,
            document=document,
            document_hash=digest,
            reason=reason,
        )
        index.add_version(version, digest)
        records: list[Any] = [filing, index]
        if index.latest - 1 >= 1:
            previous: Filing = self.repository.get(filing_id(enterprise_id, version - 1))
            previous.supersede(version)
            records.append(previous)
        self.save(*records)
        return self._compiled(filing, created=True)

    def _compiled(self, filing: Filing, created: bool) -> dict[str, Any]:
        return {
            **self._summary(filing),
            "canonical": canonical.register_bytes(filing.document).decode("utf-8"),
            "created": created,
        }

    @retried
    def submit(self, enterprise_id: str, version: int, sigs: dict[str, str]) -> dict[str, Any]:
        """Checks both signatures against the enterprise's registered public keys, then files the
        version with every supervising department and the town office."""
        view = self._enterprise(enterprise_id)
        if view.status == "closed":
            raise TransitionError("enterprise_id", "a closed enterprise files nothing", "closed")
        filing = self._filing(enterprise_id, version)
        data = canonical.register_bytes(filing.document)
        violations, raw = [], {}
        for role in ROLES:
            key = view.public_keys.get(role)
            try:  # raw r||s or DER (hex, base64): kept and passed on as raw r||s hex
                raw[role] = signatures.signature_from(sigs.get(role, ""))
            except ValueError as error:
                violations.append((f"signatures.{role}", str(error)))
                continue
            if not key:
                violations.append((f"signatures.{role}", "no public key is registered for this role"))
            elif not signatures.verify(key, data, raw[role]):
                violations.append((f"signatures.{role}", "does not verify over the canonical document"))
        if violations:
            raise ValidationError.many(violations)
        if filing.status == "submitted":
            return self._summary(filing)  # a retried submission: valid signatures, already filed
        if not view.supervisors:
            raise TransitionError("enterprise_id", "no supervising department is assigned yet", "unassigned")
        at = now()
        filing.submit(raw, {r: view.public_keys[r] for r in ROLES}, list(view.supervisors), at)
        index = self._index(enterprise_id)
        index.submitted(version, at)
        self.save(filing, index)
        self._recipients_cache[(enterprise_id, int(version))] = frozenset(filing.departments)
        # Nobody can have answered a version filed this instant: its ledger is all pending (the
        # twenty entries need not be looked up).
        return self._summary(filing, answered=False)

    def _filing(self, enterprise_id: str, version: int) -> Filing:
        found: Filing | None = self._get(filing_id(enterprise_id, int(version)))
        if found is None:
            raise NotFoundError("version", f"enterprise {enterprise_id} has no version {version}")
        return found

    # -- ledger, versions, diff ---------------------------------------------------------------
    @retried
    def record_delivery(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str = "",
        receipt: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Moves one department's ledger entry of one filing version."""
        entry = self._move(enterprise_id, version, department, outcome, reason, receipt, {})
        self.save(entry)  # nothing to save when it was a redelivery
        self._remember({entry.id: entry})
        return {"department": department, "ledger": {department: str(entry.state)}, "reason": entry.reason}

    @retried
    def record_deliveries(self, moves: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Moves many ledger entries in one transaction (the department adapter's answers, batched).

        An answer per move, in order: the entry's new state, or the error that refused it (the
        other moves are saved all the same).

        A department's first answer meets no entry yet. This process remembers the entries it has
        seen, and makes the others without looking them up; if another process made one meanwhile,
        the save conflicts and the batch runs again, looking every entry up."""
        try:
            return self._record_deliveries(moves, remembered=True)
        except RecordConflictError:
            return self._record_deliveries(moves, remembered=False)

    def _record_deliveries(self, moves: list[dict[str, Any]], remembered: bool) -> list[dict[str, Any]]:
        entries: dict[UUID, FilingDelivery] = {}
        answers: list[dict[str, Any]] = []
        for move in moves:
            department = str(move.get("department", ""))
            try:
                with correlation.bound(move.get("correlation_id") or None):  # each move's own cause
                    entry = self._move(
                        str(move.get("enterprise_id", "")),
                        int(move.get("version", 0)),
                        department,
                        str(move.get("outcome", "")),
                        str(move.get("reason") or ""),
                        move.get("receipt"),
                        entries,
                        remembered,
                    )
            except DomainError as error:
                answers.append(
                    {"department": department, "error": {"field": error.field, "rule": error.rule}}
                )
                continue
            entries[entry.id] = entry
            answers.append({"department": department, "ledger": {department: str(entry.state)}})
        self.save(*entries.values())
        self._remember(entries)
        return answers

    def _remember(self, entries: dict[UUID, FilingDelivery]) -> None:
        if len(self._entries_seen) + len(entries) > 200_000:
            self._entries_seen.clear()  # forgetting is safe: it only costs look-ups
        self._entries_seen.update(entries)

    def _move(
        self,
        enterprise_id: str,
        version: int,
        department: str,
        outcome: str,
        reason: str,
        receipt: dict[str, Any] | None,
        loaded: dict[UUID, FilingDelivery],
        remembered: bool = False,
    ) -> FilingDelivery:
        if department not in self._recipients(enterprise_id, int(version)):
            raise TransitionError("department", f"{department} is not a recipient of this filing", "absent")
        key = delivery_entry_id(enterprise_id, version, department)
        entry: FilingDelivery | None = loaded.get(key)
        if entry is None and not (remembered and key not in self._entries_seen):
            entry = self._get(key)
        entry = entry or FilingDelivery(
            enterprise_id=enterprise_id, version=int(version), department=department
        )
        try:
            move = Delivery(outcome)
        except ValueError:
            raise ValidationError("outcome", f"one of {', '.join(d.value for d in Delivery)}") from None
        entry.record(move, reason, receipt)
        return entry

    def _recipients(self, enterprise_id: str, version: int) -> frozenset[str]:
        """The departments a submitted version went to: fixed at submission, so kept once read
        (a filing's whole document is loaded otherwise, once per department's answer)."""
        key = (enterprise_id, version)
        found = self._recipients_cache.get(key)
        if found is None:
            found = frozenset(self._filing(enterprise_id, version).departments)
            if found:  # not submitted yet: ask again next time
                if len(self._recipients_cache) >= 10_000:
                    self._recipients_cache.clear()
                self._recipients_cache[key] = found
        return found

    def _summary(self, filing: Filing, answered: bool = True) -> dict[str, Any]:
        """A version with its whole ledger (pending for a department that has no entry yet)."""
        ledger, reasons = {}, {}
        for department in sorted(filing.departments):
            entry = (
                self._get(delivery_entry_id(filing.enterprise_id, filing.register_version, department))
                if answered
                else None
            )
            ledger[department] = str(entry.state) if entry else "pending"
            if entry and entry.reason:
                reasons[department] = entry.reason
        return {**filing.summary(), "ledger": ledger, "reasons": reasons}

    def status(self, enterprise_id: str, version: int = 0) -> dict[str, Any]:
        version = version or self._index(enterprise_id).latest
        return self._summary(self._filing(enterprise_id, version))

    def document_hash(self, enterprise_id: str, version: int) -> str:
        """The SM3 hash of a compiled version: what its signatures and its receipts are about (without
        the ledger that `status` reads, an entry per department)."""
        return str(self._filing(enterprise_id, version).document_hash)

    def versions(self, enterprise_id: str) -> list[dict[str, Any]]:
        index = self._index(enterprise_id)
        return [self._summary(self._filing(enterprise_id, v)) for v in index.versions]

    def get_version(self, enterprise_id: str, version: int) -> dict[str, Any]:
        filing = self._filing(enterprise_id, version)
        return self._compiled(filing, created=False) | {"document": filing.document}

    def diff(self, enterprise_id: str, old: int, new: int) -> dict[str, Any]:
        a, b = self._filing(enterprise_id, old), self._filing(enterprise_id, new)
        return {"from": old, "to": new, **register.diff(a.document, b.document)}

    # -- re-filing after a risk factor changed -------------------------------------------------
    def stale_registers(self) -> list[str]:
        """The enterprises whose register is out of date. The log is read from where the last call
        stopped (the recompiler asks every few seconds; reading it from the start each time cost the
        whole log, millions of events in a province), and a register found up to date again is
        dropped until a new MarkedStale names it."""
        topic = f"{FilingIndex.__module__}:FilingIndex.MarkedStale"
        while True:
            page, self._stale_read = self.read_topic(self._stale_read, topic, 1000)
            self._maybe_stale.update(str(n.originator_id) for n in page)
            if len(page) < 1000:
                break
        stale = []
        found = self.get_many(UUID(i) for i in sorted(self._maybe_stale))  # read together, not one by one
        for index_id in sorted(self._maybe_stale):
            index: FilingIndex | None = found.get(UUID(index_id))
            if index is not None and index.stale_since is not None:
                stale.append(index.enterprise_id)
            else:
                self._maybe_stale.discard(index_id)
        return stale

    def recompile_stale(self) -> list[dict[str, Any]]:
        """Compiles a new version of every register whose risk factors changed since its last."""
        compiled = []
        for enterprise_id in self.stale_registers():
            index = self._index(enterprise_id)
            try:
                compiled.append(self.compile(enterprise_id, reason=f"re-file: {index.stale_reason}"))
            except (TransitionError, NotFoundError):
                continue
        return compiled

    # -- campaigns and 一镇一册 --------------------------------------------------------------------
    def open_campaign(self, town: str, name: str, deadline: str) -> dict[str, Any]:
        from services.filing.campaigns import FilingCampaign, campaign_id

        try:
            date.fromisoformat(deadline)
        except ValueError:
            raise ValidationError("deadline", "must be a date, YYYY-MM-DD") from None
        if not town.strip() or not name.strip():
            raise ValidationError.many(
                [(f, "must not be empty") for f, v in (("town", town), ("name", name)) if not v.strip()]
            )
        existing = self._get(campaign_id(town, name))
        if existing is None:
            self.save(FilingCampaign(town=town, name=name, deadline=deadline))
        elif existing.deadline != deadline:
            raise ValidationError("deadline", f"campaign {name} of {town} is due {existing.deadline}")
        return {"campaign_id": str(campaign_id(town, name)), "town": town, "name": name, "deadline": deadline}

    def campaign_status(self, town: str, name: str, at: str = "") -> dict[str, Any]:
        """Per enterprise of the town: filed on time, late, missing (or pending before the deadline)."""
        from services.filing.campaigns import campaign_id, standing

        campaign = self._get(campaign_id(town, name))
        if campaign is None:
            raise NotFoundError("name", f"{town} has no campaign {name}")
        when = datetime.fromisoformat(at) if at else datetime.now(UTC)
        rows = []
        for enterprise_id, view, (index,) in self._with_views(self.town_enterprises(town), filing_index_id):
            if view.status == "closed":
                continue
            first = index.first_submitted_at if index else None
            rows.append(
                {
                    "enterprise_id": enterprise_id,
                    "name": view.profile.get("name", ""),
                    "uscc": view.profile.get("uscc", ""),
                    "first_submitted_at": first,
                    "standing": standing(first, campaign.closes_at, when),
                }
            )
        counts = {k: sum(r["standing"] == k for r in rows) for k in ("on_time", "late", "missing", "pending")}
        return {
            "town": town,
            "name": name,
            "deadline": campaign.deadline,
            "counts": counts,
            "enterprises": rows,
        }

    def _with_views(
        self, members: list[str], *also: Callable[[str], UUID]
    ) -> Iterator[tuple[str, EnterpriseView, list[Any]]]:
        """Each enterprise with its view and, for each of `also` (an id from the enterprise id), that
        aggregate or None: read a page of enterprises at a time, not one aggregate at a time."""
        for page in pages(members, TOWN_PAGE):
            views = self.get_many(enterprise_view_id(e) for e in page)
            found = self.get_many(make(e) for make in also for e in page)
            for enterprise_id in page:
                view = views.get(enterprise_view_id(enterprise_id))
                if view is not None:
                    yield enterprise_id, view, [found.get(make(enterprise_id)) for make in also]

    def town_book(self, town: str) -> dict[str, Any]:
        """一镇一册: every level-1/2 risk point of the town's enterprises, with owner departments
        and open major dangers. Read a few hundred enterprises at a time (their views, risk point
        registers and danger registers together), not one aggregate at a time."""
        from services.filing import danger_views, riskpoint_views
        from services.filing.campaigns import book_rows

        directory: DepartmentsView | None = self._get(DIRECTORY_ID)
        members = self.town_enterprises(town)
        registers = (riskpoint_views.register_id, danger_views.register_id)
        rows: list[dict[str, Any]] = []
        for _, view, (points, dangers) in self._with_views(members, *registers):
            rows.extend(
                book_rows(
                    view.as_dict(),
                    points.as_list() if points is not None else [],
                    dangers.as_list() if dangers is not None else [],
                    described(directory, view.supervisors),
                )
            )
        rows.sort(key=lambda r: (r["level"], r["enterprise"], r["risk_point"]))
        return {
            "town": town,
            "rows": rows,
            "level_1": sum(r["level"] == 1 for r in rows),
            "level_2": sum(r["level"] == 2 for r in rows),
            "enterprises": len({r["enterprise_id"] for r in rows}),
        }

    def export_town_book(self, town: str, fmt: str) -> bytes:
        from services.filing import exports

        book = self.town_book(town)
        if fmt == "csv":
            return exports.to_csv(book["rows"])
        if fmt == "xlsx":
            return exports.to_xlsx(town, book["rows"])
        raise ValidationError("format", "must be csv or xlsx")

    # -- the pull feed for departments --------------------------------------------------------
    def feed(self, department: str, after: int = 0, limit: int = 100) -> list[dict[str, Any]]:
        """Filings addressed to a department, after a cursor (a notification id), oldest first."""
        topic = f"{Filing.__module__}:Filing.Submitted"
        found: list[dict[str, Any]] = []
        start = after + 1
        while len(found) < limit:
            page = self.recorder.select_notifications(start=start, limit=500, topics=[topic])
            if not page:
                break
            for notification in page:
                submitted = vars(self.mapper.to_domain_event(notification))
                if department in submitted["departments"]:
                    found.append(
                        {
                            "cursor": notification.id,
                            "enterprise_id": submitted["enterprise_id"],
                            "version": submitted["version"],
                            "canonical": canonical.register_bytes(submitted["document"]).decode("utf-8"),
                            "enterprise": submitted["document"]["enterprise"],
                            "document_hash": submitted["document_hash"],
                            "signatures": submitted["signatures"],
                            "public_keys": submitted["public_keys"],
                            "submitted_at": submitted["submitted_at"],
                            "correlation_id": submitted.get("correlation_id", ""),
                        }
                    )
                    if len(found) == limit:
                        break
            start = page[-1].id + 1
        return found
