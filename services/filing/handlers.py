"""How the filing service's views follow the registry (and later risk points and dangers)."""

from __future__ import annotations

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.filing.views import EnterpriseView, enterprise_view_id

handlers = Handlers("filing")


def _view(uow: UnitOfWork, envelope: Envelope) -> EnterpriseView:
    view = uow.get(enterprise_view_id(str(envelope.enterprise_id)))
    if view is None:
        # Registered always comes first in the registry's ordered stream.
        raise LookupError(f"no view of enterprise {envelope.enterprise_id} yet")
    return view  # type: ignore[no-any-return]


@handlers.on("registry", "Enterprise.Registered")
def enterprise_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    profile = {k: v for k, v in envelope.payload.items() if k != "contacts"}
    uow.add(EnterpriseView(enterprise_id=str(envelope.enterprise_id), profile=profile))


@handlers.on("registry", "Enterprise.ProfileUpdated")
def profile_updated(uow: UnitOfWork, envelope: Envelope) -> None:
    _view(uow, envelope).change_profile(envelope.payload["changes"])


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
