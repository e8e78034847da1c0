"""The read model's enterprises and departments, from the registry's events."""

from __future__ import annotations

import json
from typing import Any

from console.readmodel.work import ViewWork
from services.backbone.envelope import Envelope
from services.backbone.handlers import Handlers

UPSTREAM = "registry"
PROFILE = {  # registry field → column
    "name": "name",
    "uscc": "uscc",
    "town": "town",
    "industry": "industry",
    "address": "address",
    "legal_representative": "legal_representative",
    "legal_representative_mobile": "legal_mobile",
}
# the rows that keep a copy of their enterprise's town and name (and a risk point its credit code)
COPIES = ("risk_points", "dangers", "cases", "inspections", "deliveries")
# department code → name, for the summaries of the events (kept by this consumer, read at start)
DEPARTMENT_NAMES: dict[str, str] = {}


def department_name(code: str) -> str:
    return DEPARTMENT_NAMES.get(code, code)


def _copy_to_rows(uow: ViewWork, enterprise_id: str) -> None:
    """Every row that copies the enterprise's town and name takes them again."""
    for table in COPIES:
        extra = ", uscc = (SELECT uscc FROM @enterprises WHERE id = %(id)s)" if table == "risk_points" else ""
        uow.run(
            f"UPDATE @{table} SET town = (SELECT town FROM @enterprises WHERE id = %(id)s), "
            f"enterprise_name = (SELECT name FROM @enterprises WHERE id = %(id)s){extra} "
            "WHERE enterprise_id = %(id)s",
            id=enterprise_id,
        )


def registered(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    values = {column: str(p.get(field) or "") for field, column in PROFILE.items()}
    columns = ", ".join(values)
    uow.run(
        f"INSERT INTO @enterprises (id, {columns}, contacts, registered_at) "
        f"VALUES (%(id)s, {', '.join(f'%({c})s' for c in values)}, %(contacts)s, %(at)s) "
        f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in values)}, "
        "contacts = excluded.contacts, registered_at = excluded.registered_at",
        id=str(envelope.enterprise_id),
        contacts=json.dumps(p.get("contacts") or [], ensure_ascii=False),
        at=envelope.occurred_at,
        **values,
    )
    _copy_to_rows(uow, str(envelope.enterprise_id))
    uow.recount(str(envelope.enterprise_id))  # risk points that arrived before the registration


def profile_updated(uow: ViewWork, envelope: Envelope) -> None:
    changes: dict[str, Any] = envelope.payload.get("changes") or {}
    values = {PROFILE[k]: str(v or "") for k, v in changes.items() if k in PROFILE}
    if "contacts" in changes:
        values["contacts"] = json.dumps(changes["contacts"] or [], ensure_ascii=False)
    if not values:
        return
    sets = ", ".join(f"{c} = %({c})s" for c in values)
    uow.run(f"UPDATE @enterprises SET {sets} WHERE id = %(id)s", id=str(envelope.enterprise_id), **values)
    if {"name", "town", "uscc"} & changes.keys():
        _copy_to_rows(uow, str(envelope.enterprise_id))


def supervisors_assigned(uow: ViewWork, envelope: Envelope) -> None:
    enterprise = str(envelope.enterprise_id)
    codes = sorted(set(envelope.payload.get("departments") or []))
    uow.run(
        "INSERT INTO @enterprises (id, supervisors) VALUES (%(id)s, %(codes)s) "
        "ON CONFLICT (id) DO UPDATE SET supervisors = excluded.supervisors",
        id=enterprise,
        codes=",".join(codes),
    )
    uow.run("DELETE FROM @supervision WHERE enterprise_id = %(id)s", id=enterprise)
    for code in codes:
        uow.run(
            "INSERT INTO @supervision (department, enterprise_id) VALUES (%(code)s, %(id)s) "
            "ON CONFLICT (department, enterprise_id) DO NOTHING",
            code=code,
            id=enterprise,
        )


def _status(status: str) -> Any:
    def handler(uow: ViewWork, envelope: Envelope) -> None:
        uow.run(
            "UPDATE @enterprises SET status = %(status)s WHERE id = %(id)s",
            id=str(envelope.enterprise_id),
            status=status,
        )

    return handler


def department_registered(uow: ViewWork, envelope: Envelope) -> None:
    p = envelope.payload
    fields = {"name": p.get("name") or p["code"], "kind": p.get("kind") or "", "town": p.get("town") or ""}
    uow.run(
        "INSERT INTO @departments (code, name, kind, town) VALUES (%(code)s, %(name)s, %(kind)s, %(town)s) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, town = excluded.town",
        code=p["code"],
        **fields,
    )
    DEPARTMENT_NAMES[p["code"]] = fields["name"]


def department_changed(uow: ViewWork, envelope: Envelope) -> None:
    changes = {
        k: str(v) for k, v in (envelope.payload.get("changes") or {}).items() if k in ("name", "kind", "town")
    }
    if not changes:
        return
    sets = ", ".join(f"{k} = %({k})s" for k in changes)
    uow.run(f"UPDATE @departments SET {sets} WHERE code = %(code)s", code=envelope.payload["code"], **changes)
    if "name" in changes:
        DEPARTMENT_NAMES[envelope.payload["code"]] = changes["name"]


def register(handlers: Handlers) -> None:
    on = handlers.on
    on(UPSTREAM, "Enterprise.Registered")(registered)
    on(UPSTREAM, "Enterprise.ProfileUpdated")(profile_updated)
    on(UPSTREAM, "Enterprise.SupervisorsAssigned")(supervisors_assigned)
    on(UPSTREAM, "Enterprise.ProductionSuspended")(_status("suspended"))
    on(UPSTREAM, "Enterprise.ProductionResumed")(_status("operating"))
    on(UPSTREAM, "Enterprise.Closed")(_status("closed"))
    on(UPSTREAM, "Department.Registered")(department_registered)
    on(UPSTREAM, "Department.Changed")(department_changed)


def load_names(app: Any) -> None:
    """The department names known to the read model, for the summaries of the next events."""
    for row in app.query("SELECT code, name FROM @departments"):
        DEPARTMENT_NAMES[row["code"]] = row["name"]
