"""What the notifications service does with other services' events.

Registry events build its views (views.py); riskpoints, dangers and filing events fill the ledgers the
monthly report reads (ledgers.py) and request notifications (on_riskpoints.py, on_dangers.py,
on_filing.py). Everything a message causes is stored in the consumer's transaction; sending is not.
"""

from __future__ import annotations

from typing import Any

from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers, UnitOfWork
from services.notifications import clock, on_dangers, on_filing, on_riskpoints, requests
from services.notifications.views import DIRECTORY_ID, Directory, EnterpriseCard, card_id

handlers = Handlers("notifications")
on_riskpoints.register(handlers)
on_dangers.register(handlers)
on_filing.register(handlers)

PROFILE_FIELDS = ("name", "legal_representative", "legal_representative_mobile", "town", "contacts", "uscc")


def _directory(uow: UnitOfWork) -> Directory:
    return requests.directory_to_change(uow)


def _card(uow: UnitOfWork, envelope: Envelope) -> EnterpriseCard:
    found = uow.get(card_id(str(envelope.enterprise_id)))
    if found is None:
        # Registered comes first in the registry's ordered stream.
        raise LookupError(f"no card of enterprise {envelope.enterprise_id} yet")
    return found  # type: ignore[no-any-return]


def _profile(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if k in PROFILE_FIELDS}


@handlers.on("registry", "Enterprise.Registered")
def registered(uow: UnitOfWork, envelope: Envelope) -> None:
    eid = str(envelope.enterprise_id)
    card = uow.add(
        EnterpriseCard(
            enterprise_id=eid,
            profile=_profile(envelope.payload),
            registered_at=clock.utc(envelope.occurred_at),
        )
    )
    _directory(uow).record_enterprise(enterprise_id=eid, name=card.name, town=card.town, old_town="")


@handlers.on("registry", "Enterprise.ProfileUpdated")
def profile_updated(uow: UnitOfWork, envelope: Envelope) -> None:
    changes = _profile(envelope.payload["changes"])
    if not changes:
        return
    card = _card(uow, envelope)
    old_town, old_name = card.town, card.name
    card.change(changes)
    if (card.town, card.name) != (old_town, old_name):
        _directory(uow).record_enterprise(
            enterprise_id=card.enterprise_id, name=card.name, town=card.town, old_town=old_town
        )


@handlers.on("registry", "Enterprise.SupervisorsAssigned")
def supervisors_assigned(uow: UnitOfWork, envelope: Envelope) -> None:
    _card(uow, envelope).change_supervisors(list(envelope.payload["departments"]))


@handlers.on("registry", "Enterprise.Closed")
def closed(uow: UnitOfWork, envelope: Envelope) -> None:
    _card(uow, envelope).close(clock.utc(envelope.occurred_at))


# the directory (kept from the last page) checked with the page's other reads, not on its own
handlers.reads("registry", "Enterprise.Registered", "Enterprise.ProfileUpdated")(
    lambda envelope: [DIRECTORY_ID, card_id(str(envelope.enterprise_id))]
)


@handlers.on("registry", "Department.Registered")
def department_registered(uow: UnitOfWork, envelope: Envelope) -> None:
    p = envelope.payload
    _directory(uow).record_department(
        code=p["code"], fields={"name": p["name"], "kind": p["kind"], "town": p.get("town") or ""}
    )


@handlers.on("registry", "Department.Changed")
def department_changed(uow: UnitOfWork, envelope: Envelope) -> None:
    changes = {k: str(v) for k, v in envelope.payload["changes"].items() if k in ("name", "kind", "town")}
    if changes:
        _directory(uow).record_department(code=envelope.payload["code"], fields=changes)
