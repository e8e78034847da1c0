"""Compiling the register and submitting a signed version; re-compiling the registers whose risk
factors changed."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.backbone import consistency, topology
from services.backbone.conflicts import retried
from services.backbone.errors import NotFoundError, TransitionError, ValidationError
from services.backbone.set_aside import set_aside
from services.filing import register
from services.filing.base import ROLES, FilingBase, now
from services.filing.domain import (
    Filing,
    FilingIndex,
    FilingStatus,
    filing_id,
    filing_index_id,
    opened_ledger,
)
from services.filing.views import EnterpriseView, enterprise_view_id
from services.kernel import canonical, signatures
from services.kernel.receipts import MAX_VERSION
from services.kernel.validation import bounded_int, uuid_field


class Compiling(FilingBase):
    """Compiles, submits and re-compiles registers."""

    def document_of(self, enterprise_id: str) -> dict[str, Any]:
        view = self._enterprise(enterprise_id)
        return register.compile_document(
            view.as_dict(),
            self.risk_points_of(enterprise_id),
            self.dangers_of(enterprise_id),
            self.departments(view.supervisors),
        )

    @retried
    def compile(
        self, enterprise_id: str, reason: str = "requested", after: dict[str, int] | None = None
    ) -> dict[str, Any]:
        """The current register to sign: a new version when the facts changed, else the latest. With
        `after` (positions in upstream stores, consistency.py), once the views hold those writes."""
        if after:
            wanted = {s: int(n) for s, n in after.items() if s in topology.upstreams_of(self.service)}
            consistency.wait_until_applied(
                lambda upstream: self.recorder.max_tracking_id(upstream) or 0,
                wanted,
                float(self.env.get("HUB_CONSISTENCY_WAIT") or 10),
            )
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

    def _filed_before(self, enterprise_id: str, version: int, read: dict[UUID, Any]) -> list[Filing]:
        """The filed version this submission replaces, superseded by it (versions compiled and never
        filed were superseded when the next was compiled; the walk stops at the first filed one).
        The version just before is taken from `read` when it was read with the submission."""
        for earlier in range(version - 1, 0, -1):
            key = filing_id(enterprise_id, earlier)
            filing: Filing | None = read.get(key) if key in read else self.find(key)
            if filing is None:
                break
            if filing.status == FilingStatus.SUBMITTED:
                filing.replaced_by_filing(version)
                return [filing]
            if filing.submitted_at is not None:  # filed and already superseded: nothing further back
                break
        return []

    def _compiled(self, filing: Filing, created: bool) -> dict[str, Any]:
        return {
            **self._summary(filing),
            "canonical": canonical.register_bytes(filing.document).decode("utf-8"),
            "created": created,
        }

    def _submission(
        self, enterprise_id: str, version: int
    ) -> tuple[EnterpriseView, Filing, FilingIndex, dict[UUID, Any]]:
        """What a submission reads, read together (one query on PostgreSQL, where a find each cost
        two): the enterprise's view, the version, the enterprise's index of versions and the version
        before (the one a submission usually supersedes); refused as _enterprise and _filing refuse."""
        view_id = enterprise_view_id(uuid_field(enterprise_id, "enterprise_id"))
        invalid: ValidationError | None = None
        try:
            number = bounded_int(version, "version", 1, MAX_VERSION)
        except ValidationError as error:
            number, invalid = 0, error  # said after the enterprise's own refusals, as before
        wanted = [view_id, filing_index_id(enterprise_id)]
        wanted += [filing_id(enterprise_id, n) for n in (number, number - 1) if n >= 1]
        read = self.get_many(wanted)
        view: EnterpriseView | None = read.get(view_id)
        if view is None:
            raise NotFoundError("enterprise_id", f"filing has no record of enterprise {enterprise_id}")
        if view.status == "closed":
            raise TransitionError("enterprise_id", "a closed enterprise files nothing", "closed")
        if invalid is not None:
            raise invalid
        filing: Filing | None = read.get(filing_id(enterprise_id, number))
        if filing is None:
            raise NotFoundError("version", f"enterprise {enterprise_id} has no version {number}")
        index = read.get(filing_index_id(enterprise_id)) or FilingIndex(enterprise_id=enterprise_id)
        return view, filing, index, read

    @retried
    def submit(self, enterprise_id: str, version: int, sigs: dict[str, str]) -> dict[str, Any]:
        """Checks both signatures against the enterprise's registered public keys, then files the
        version with every supervising department and the town office."""
        view, filing, index, read = self._submission(enterprise_id, version)
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
        if filing.submitted_at is not None:
            return self._summary(filing)  # a retried submission: valid signatures, already filed
        if not view.supervisors:
            raise TransitionError("enterprise_id", "no supervising department is assigned yet", "unassigned")
        at = now()
        filing.submit(raw, {r: view.public_keys[r] for r in ROLES}, list(view.supervisors), at)
        index.submitted(version, at)
        records: list[Any] = [
            filing,
            index,
            opened_ledger(filing),
            *self._filed_before(enterprise_id, int(version), read),
        ]
        self.save(*records)
        # Nobody can have answered a version filed this instant: its ledger is all pending (it need
        # not be read).
        return self._summary(filing, answered=False)

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
            try:
                index = self._index(enterprise_id)
                compiled.append(self.compile(enterprise_id, reason=f"re-file: {index.stale_reason}"))
            except (TransitionError, NotFoundError):
                continue
            except Exception as error:  # noqa: BLE001 - one register never stops the others' re-filing
                # left until a new change marks it stale again
                self._maybe_stale.discard(str(filing_index_id(enterprise_id)))
                set_aside(self, "re-filing", enterprise_id, error)
        return compiled
