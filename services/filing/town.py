"""Filing campaigns and 一镇一册: the town office's views over its enterprises' filings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from services.backbone.errors import NotFoundError, ValidationError
from services.backbone.store import pages
from services.filing import danger_views, exports, riskpoint_views
from services.filing.base import TOWN_PAGE, FilingBase, described
from services.filing.campaigns import FilingCampaign, book_rows, campaign_id, standing
from services.filing.domain import filing_index_id
from services.filing.views import (
    DIRECTORY_ID,
    DepartmentsView,
    EnterpriseView,
    enterprise_view_id,
)
from services.kernel.validation import scheduled


class Town(FilingBase):
    """Campaigns and 一镇一册."""

    def open_campaign(self, town: str, name: str, deadline: str) -> dict[str, Any]:
        deadline = scheduled().check(deadline, "deadline").isoformat()
        if not town.strip() or not name.strip():
            raise ValidationError.many(
                [(f, "must not be empty") for f, v in (("town", town), ("name", name)) if not v.strip()]
            )
        existing = self.find(campaign_id(town, name))
        if existing is None:
            self.save(FilingCampaign(town=town, name=name, deadline=deadline))
        elif existing.deadline != deadline:
            raise ValidationError("deadline", f"campaign {name} of {town} is due {existing.deadline}")
        return {"campaign_id": str(campaign_id(town, name)), "town": town, "name": name, "deadline": deadline}

    def campaign_status(self, town: str, name: str, at: str = "") -> dict[str, Any]:
        """Per enterprise of the town: filed on time, late, missing (or pending before the deadline)."""
        campaign = self.find(campaign_id(town, name))
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
        directory: DepartmentsView | None = self.find(DIRECTORY_ID)
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

        book = self.town_book(town)
        if fmt == "csv":
            return exports.to_csv(book["rows"])
        if fmt == "xlsx":
            return exports.to_xlsx(town, book["rows"])
        raise ValidationError("format", "must be csv or xlsx")
