"""Filing use cases, on the filing service's own store and views."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError

from services.backbone.errors import NotFoundError
from services.backbone.store import HubApplication
from services.filing.views import EnterpriseView, enterprise_view_id


class FilingApplication(HubApplication):
    """The filing service's application."""

    service = "filing"
    snapshotting_intervals = {EnterpriseView: 100}

    def enterprise_view(self, enterprise_id: str) -> dict[str, Any]:
        try:
            view: EnterpriseView = self.repository.get(enterprise_view_id(enterprise_id))
        except (AggregateNotFoundError, ValueError):
            raise NotFoundError(
                "enterprise_id", f"filing has no record of enterprise {enterprise_id}"
            ) from None
        return view.as_dict()
