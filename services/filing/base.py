"""What the filing service's use cases share: its store, the views it keeps of other services' data,
and finding an enterprise's filings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.backbone.errors import NotFoundError
from services.backbone.store import HubApplication
from services.filing import danger_views, riskpoint_views
from services.filing.domain import (
    Filing,
    FilingIndex,
    filing_id,
    filing_index_id,
)
from services.filing.views import (
    DIRECTORY_ID,
    DepartmentsView,
    EnterpriseView,
    TownIndex,
    enterprise_view_id,
    town_index_id,
)
from services.kernel import signatures
from services.kernel.receipts import MAX_VERSION
from services.kernel.validation import bounded_int, uuid_field

ROLES = tuple(s.value for s in signatures.Signer)
TOWN_PAGE = 500  # enterprises read together by the town's queries


def described(directory: DepartmentsView | None, codes: list[str]) -> list[dict[str, str]]:
    """Departments by code, with their names (the codes alone before the directory knows any)."""
    if directory is None:
        return [{"code": c, "name": c} for c in sorted(set(codes))]
    return directory.describe(codes)


def now() -> str:
    return datetime.now(UTC).isoformat()


class FilingBase(HubApplication):
    """The filing service's store and the helpers its use cases share."""

    service = "filing"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._stale_read = 0  # how far stale_registers has read the log
        self._maybe_stale: set[str] = set()  # filing indexes marked stale since, not yet seen current

    # -- views --------------------------------------------------------------------------------
    def _enterprise(self, enterprise_id: str) -> EnterpriseView:
        view = self.find(enterprise_view_id(uuid_field(enterprise_id, "enterprise_id")))
        if view is None:
            raise NotFoundError("enterprise_id", f"filing has no record of enterprise {enterprise_id}")
        return view  # type: ignore[no-any-return]

    def enterprise_view(self, enterprise_id: str) -> dict[str, Any]:
        return self._enterprise(enterprise_id).as_dict()

    def risk_points_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        """The enterprise's risk points as the filing view holds them (from riskpoints events)."""
        return list(riskpoint_views.riskpoint_register(self, enterprise_id))

    def dangers_of(self, enterprise_id: str) -> list[dict[str, Any]]:
        """The enterprise's hidden dangers as the filing view holds them (from dangers events)."""
        return list(danger_views.dangers_of(self, enterprise_id))

    def departments(self, codes: list[str]) -> list[dict[str, str]]:
        return described(self.find(DIRECTORY_ID), codes)

    def town_enterprises(self, town: str) -> list[str]:
        index: TownIndex | None = self.find(town_index_id(town))
        return list(index.enterprises) if index else []

    def _index(self, enterprise_id: str) -> FilingIndex:
        index: FilingIndex | None = self.find(filing_index_id(enterprise_id))
        return index or FilingIndex(enterprise_id=enterprise_id)

    def _filing(self, enterprise_id: str, version: int, field: str = "version") -> Filing:
        version = bounded_int(version, field, 1, MAX_VERSION)
        found: Filing | None = self.find(filing_id(enterprise_id, version))
        if found is None:
            raise NotFoundError(field, f"enterprise {enterprise_id} has no version {version}")
        return found
