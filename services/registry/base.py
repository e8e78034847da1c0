"""What every registry use case shares: loading aggregates, routing an enterprise, keeping indexes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from services.backbone.errors import NotFoundError
from services.backbone.store import HubApplication
from services.kernel.validation import uuid_field
from services.registry.departments import DIRECTORY_ID, DepartmentDirectory
from services.registry.domain import Enterprise
from services.registry.index import IndexKey, Reindexer, Shard, index_id, keys_of, members_of
from services.registry.routing import ROUTING_TABLE_ID, RoutingTable

REGISTERED_TOPIC = get_topic(Enterprise.Registered)  # type: ignore[attr-defined]


def enterprise_keys(enterprise: Enterprise) -> set[IndexKey]:
    return keys_of(enterprise.town, enterprise.industry, list(enterprise.supervisors))


def summary(enterprise: Enterprise) -> dict[str, Any]:
    """What a listing shows of an enterprise."""
    return {
        "enterprise_id": str(enterprise.id),
        "unified_social_credit_code": enterprise.uscc,
        "name": enterprise.name,
        "industry": enterprise.industry,
        "town": enterprise.town,
        "status": str(enterprise.status),
        "supervisors": list(enterprise.supervisors),
        "manual_supervisors": list(enterprise.manual_supervisors),
    }


class RegistryBase(HubApplication):
    """The registry's store and the helpers its use cases share."""

    def _enterprise(self, enterprise: str) -> Enterprise:
        eid = uuid_field(enterprise, "enterprise_id")
        found = self.find(eid)
        if not isinstance(found, Enterprise):
            raise NotFoundError("enterprise_id", f"no enterprise {eid}")
        return found

    def _directory(self) -> DepartmentDirectory:
        return self.find(DIRECTORY_ID) or DepartmentDirectory()

    def _table(self) -> RoutingTable:
        return self.find(ROUTING_TABLE_ID) or RoutingTable()

    def _index(self, kind: str, value: str, shard: Shard) -> Any | None:
        return self.find(index_id(kind, value, shard))

    def _indexes(self, keys: list[tuple[str, str, Shard]]) -> dict[tuple[str, str, Shard], Any]:
        found = self.get_many([index_id(*key) for key in keys])
        return {key: found[index_id(*key)] for key in keys if index_id(*key) in found}

    def _reindexer(self) -> Reindexer:
        """Reads the shards a command touches together (a registration touches its town's, its
        industry's and each supervisor's)."""
        return Reindexer(self._index, self._indexes)

    def _members(self, kind: str, value: str) -> list[str]:
        return members_of(self._index, kind, value)

    def _all_enterprise_ids(self) -> Iterator[str]:
        """Every registered enterprise, from the notification log (rare: '*' rules, full listings)."""
        start = 1
        while page := self.recorder.select_notifications(start=start, limit=1000, topics=[REGISTERED_TOPIC]):
            yield from (str(n.originator_id) for n in page)
            start = page[-1].id + 1

    def _enterprises(self, ids: list[str] | Iterator[str]) -> list[Enterprise]:
        found = (self.find(UUID(i)) for i in ids)
        return [e for e in found if isinstance(e, Enterprise)]

    def _route(
        self,
        enterprise: Enterprise,
        table: RoutingTable,
        directory: DepartmentDirectory,
        reindexer: Reindexer,
        manual: list[str] | None = None,
        before: set[IndexKey] | None = None,
    ) -> bool:
        """Assigns supervisors: the table's, the town's safety office, and the manual ones (kept unless
        given). Moves the enterprise between indexes from `before` (default: as it is now). True if
        the supervisors changed."""
        before = enterprise_keys(enterprise) if before is None else before
        pending = len(enterprise.pending_events)
        office = directory.town_office(enterprise.town)
        routed = table.route(enterprise.industry, enterprise.town) + ([office] if office else [])
        enterprise.assign_supervisors(routed, manual)
        reindexer.move(str(enterprise.id), before, enterprise_keys(enterprise))
        return len(enterprise.pending_events) > pending
