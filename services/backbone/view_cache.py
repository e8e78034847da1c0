"""Views a tracked consumer saved, kept for its next page so that they need not be replayed (filing's
registers and town indexes, the notifications directory).

A view that grows with every page (a register of thousands of risk points) would otherwise be
rebuilt from all its events once per page. A kept view is used again only if the store still ends
exactly at its version (one small query, or a part of the page's prefetch when its handlers declared
they read it) and it holds no unsaved change: a page that failed before or during its save leaves
nothing behind.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID
from weakref import WeakKeyDictionary, WeakSet


class UnitOfWork(Protocol):
    """What a view cache uses of the handlers' unit of work (services.backbone.handlers)."""

    app: Any

    def get(self, aggregate_id: UUID, default: Any = None) -> Any: ...

    def add(self, aggregate: Any) -> Any: ...


_CACHES: WeakSet[ViewCache] = WeakSet()  # every cache of this process, for `kept`


class ViewCache:
    """Per consumer process: the last saved state of up to `maxsize` views."""

    def __init__(self, is_clean: Callable[[Any], bool] = lambda _view: True, maxsize: int = 256) -> None:
        self.is_clean, self.maxsize = is_clean, maxsize
        self._kept: OrderedDict[UUID, tuple[Any, Any]] = OrderedDict()  # id -> (app, view)
        self._served: WeakKeyDictionary[UnitOfWork, dict[UUID, Any]] = WeakKeyDictionary()
        _CACHES.add(self)

    def get(self, uow: UnitOfWork, view_id: UUID) -> Any | None:
        """The view as this page has it: kept from the last page, else loaded; None if none exists."""
        served = self._served.setdefault(uow, {})
        if view_id in served:
            return served[view_id]
        found = self._reuse(uow.app, view_id)
        if found is None:
            found = uow.get(view_id)
        if found is not None:
            self.add(uow, found)
        return found

    def get_or_add(self, uow: UnitOfWork, view_id: UUID, make: Callable[[], Any]) -> Any:
        """The view (kept or loaded), or a new one from `make` added to the page."""
        found = self.get(uow, view_id)
        return found if found is not None else self.add(uow, make())

    def serve(self, uow: UnitOfWork, view_id: UUID, view: Any | None) -> None:
        """The kept view as the page's prefetch found it current (or caught up); None: gone, forgotten."""
        if view is None:
            self._kept.pop(view_id, None)
        else:
            self.add(uow, view)

    def add(self, uow: UnitOfWork, view: Any) -> Any:
        uow.add(view)
        self._served.setdefault(uow, {})[view.id] = view
        self._kept[view.id] = (uow.app, view)
        self._kept.move_to_end(view.id)
        while len(self._kept) > self.maxsize:
            self._kept.popitem(last=False)
        return view

    def _reuse(self, app: Any, view_id: UUID) -> Any | None:
        kept = self._kept.pop(view_id, None)
        if kept is None:
            return None
        kept_app, view = kept
        if kept_app is not app or not self.is_clean(view) or not is_current(app, view):
            return None
        return view


def kept_views(app: Any, view_ids: list[UUID]) -> dict[UUID, tuple[ViewCache, Any]]:
    """The views of `app` among these that a cache of this process keeps clean from an earlier page,
    with the cache keeping each: a page's prefetch checks them with its reads (HubApplication.get_many:
    one query for all) and hands each back with `serve`."""
    found: dict[UUID, tuple[ViewCache, Any]] = {}
    for cache in _CACHES:
        for view_id in view_ids:
            entry = cache._kept.get(view_id)
            if entry is not None and entry[0] is app and cache.is_clean(entry[1]):
                found[view_id] = (cache, entry[1])
    return found


def is_current(app: Any, aggregate: Any) -> bool:
    """True when the aggregate holds no unsaved change and the store ends exactly at its version
    (one small query): not when its last save failed, nor when someone else saved after it."""
    if aggregate.pending_events:
        return False
    stored = app.recorder.select_events(aggregate.id, gt=aggregate.version - 1, limit=2)
    return [s.originator_version for s in stored] == [aggregate.version]
