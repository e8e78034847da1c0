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
from services.registry.index import IndexKey, Reindexer, Shard, index_id, keys_of, members_of, shard_of
from services.registry.routing import ROUTING_TABLE_ID, RoutingTable

REGISTERED_TOPIC = get_topic(Enterprise.Registered)  # type: ignore[attr-defined]


def enterprise_keys(enterprise: Enterprise) -> set[IndexKey]:
    return keys_of(enterprise.town, enterprise.industry, list(enterprise.supervisors))


def routed_to(table: RoutingTable, directory: DepartmentDirectory, industry: str, town: str) -> list[str]:
    """The supervisors the routing table gives an enterprise of this industry and town, and the town's
    safety office."""
    office = directory.town_office(town)
    return table.route(industry, town) + ([office] if office else [])


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

    def _indexes(
        self, keys: list[tuple[str, str, Shard]], read: dict[UUID, Any] | None = None
    ) -> dict[tuple[str, str, Shard], Any]:
        """The shards of `keys`, those among `read` (what the command read already: id → aggregate,
        None when it was read and not found) as read."""
        read = read or {}
        found = {i: a for i, a in read.items() if a is not None}
        missing = [i for key in keys if (i := index_id(*key)) not in read]
        if missing:
            found.update(self.get_many(missing))
        return {key: found[index_id(*key)] for key in keys if index_id(*key) in found}

    def _reindexer(self, read: dict[UUID, Any] | None = None) -> Reindexer:
        """Reads the shards a command touches together (a registration touches its town's, its
        industry's and each supervisor's), but for those in `read` (see `_indexes`)."""
        return Reindexer(self._index, lambda keys: self._indexes(keys, read))

    def _likely_shards(self, enterprise: str, town: str, industry: str) -> list[UUID]:
        """The shards a new enterprise of this town and industry will join, as the routing table and the
        directory this process keeps route it: read with the command's first read, so a registration
        reads once. Its town's and its industry's always; its supervisors' only when the table and the
        directory are kept (a hub with no routing table keeps none). A table changed elsewhere since
        only leaves a shard to read after routing."""
        table, directory = self.peek(ROUTING_TABLE_ID), self.peek(DIRECTORY_ID)
        kept = isinstance(table, RoutingTable) and isinstance(directory, DepartmentDirectory)
        routed = routed_to(table, directory, industry, town) if kept else []
        return [
            index_id(kind, value, shard_of(enterprise)) for kind, value in keys_of(town, industry, routed)
        ]

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
        routed = routed_to(table, directory, enterprise.industry, enterprise.town)
        enterprise.assign_supervisors(routed, manual)
        reindexer.move(str(enterprise.id), before, enterprise_keys(enterprise))
        return len(enterprise.pending_events) > pending
