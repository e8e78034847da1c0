"""hubctl: the operator's command line for the hub."""

from __future__ import annotations

import typer

from hubctl import (
    audit,
    audit_proofs,
    deliveries,
    demo,
    departments,
    enterprises,
    inspectors,
    notifications,
    parked,
    platforms,
    report,
    riskpoints,
    routing,
    sign,
    status,
    subscriptions,
)

app = typer.Typer(help="Operate the safety-risk filing hub.", no_args_is_help=True)
app.command("status")(status.status)
app.command("demo")(demo.demo)
app.command("sign", context_settings=sign.SETTINGS, add_help_option=False)(sign.sign)
app.add_typer(parked.app, name="parked")
app.add_typer(audit.app, name="audit")  # with audit_proofs' commands (prove, export …)
assert audit_proofs.app is audit.app
app.add_typer(departments.app, name="departments")
app.add_typer(routing.app, name="routing")
app.add_typer(enterprises.app, name="enterprises")
app.add_typer(riskpoints.app, name="riskpoints")
app.add_typer(inspectors.app, name="inspectors")
app.add_typer(platforms.app, name="platform")
app.add_typer(deliveries.app, name="deliveries")
app.add_typer(subscriptions.app, name="subscriptions")
app.add_typer(notifications.app, name="notifications")
app.add_typer(report.app, name="report")


if __name__ == "__main__":
    app()
