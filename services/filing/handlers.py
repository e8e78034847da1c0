"""How the filing service's views follow the registry, risk points and hidden dangers."""

from __future__ import annotations

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.backbone.view_cache import ViewCache
from services.filing import danger_views, refiling, riskpoint_views
from services.filing.views import (
    DIRECTORY_ID,
    DepartmentsView,
    EnterpriseView,
    TownIndex,
    enterprise_view_id,
    town_index_id,
)

handlers = Handlers("filing")
riskpoint_views.register(handlers)  # risk points: services/filing/riskpoint_views.py
danger_views.register(handlers)  # hidden dangers: services/filing/danger_views.py
refiling.watch(handlers)  # risk factor changes make a filed register out of date


def _view(uow: UnitOfWork, envelope: Envelope) -> EnterpriseView:
    view = uow.get(enterprise_view_id(str(envelope.enterprise_id)))
    if view is None:
        # Registered always comes first in the registry's ordered stream.
        raise LookupError(f"no view of enterprise {envelope.enterprise_id} yet")
    return view  # type: ignore[no-any-return]


# A town index grows with its town: kept between pages rather than replayed for each one.
TOWNS = ViewCache(maxsize=64)


def _town(uow: UnitOfWork, town: str) -> TownIndex:
    return TOWNS.get_or_add(uow, town_index_id(town), lambda: TownIndex(town=town))  # type: ignore[no-any-return]


@handlers.on("registry", "Enterprise.Registered")
def enterprise_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    profile = {k: v for k, v in envelope.payload.items() if k != "contacts"}
    uow.add(EnterpriseView(enterprise_id=str(envelope.enterprise_id), profile=profile))
    _town(uow, profile["town"]).add(str(envelope.enterprise_id))


# the town's index (kept from the last page) checked with the page's other reads, not on its own
handlers.reads("registry", "Enterprise.Registered")(
    lambda envelope: [town_index_id(envelope.payload.get("town", ""))]
)


@handlers.on("registry", "Enterprise.ProfileUpdated")
def profile_updated(uow: UnitOfWork, envelope: Envelope) -> None:
    view = _view(uow, envelope)
    old_town = view.profile.get("town")
    view.change_profile(envelope.payload["changes"])
    new_town = view.profile.get("town")
    if new_town != old_town:
        if old_town:
            _town(uow, old_town).remove(view.enterprise_id)
        _town(uow, new_town).add(view.enterprise_id)


def _directory(uow: UnitOfWork) -> DepartmentsView:
    return uow.get(DIRECTORY_ID) or uow.add(DepartmentsView())  # type: ignore[no-any-return]


@handlers.on("registry", "Department.Registered")
def department_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    _directory(uow).record(p["code"], {"name": p["name"], "kind": p["kind"], "town": p.get("town") or ""})


@handlers.on("registry", "Department.Changed")
def department_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    changes = {k: str(v) for k, v in envelope.payload["changes"].items() if k in ("name", "kind", "town")}
    if changes:
        _directory(uow).record(envelope.payload["code"], changes)


@handlers.on("registry", "Enterprise.SupervisorsAssigned")
def supervisors_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_supervisors(envelope.payload["departments"])


@handlers.on("registry", "Enterprise.PublicKeyRegistered")
def public_key_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_public_key(envelope.payload["role"], envelope.payload["public_key"])


@handlers.on("registry", "Enterprise.ProductionSuspended")
def suspended(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_status("suspended")


@handlers.on("registry", "Enterprise.ProductionResumed")
def resumed(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_status("operating")


@handlers.on("registry", "Enterprise.Closed")
def closed(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_status("closed")
