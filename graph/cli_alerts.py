"""`amv alerts …`: the e-mail digest job and a look at the subscriptions (graph/alerts.py)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from graph.alerts import Alerts

app = typer.Typer(help="E-mail alerts: send the digests that are due, list subscriptions.", no_args_is_help=True)


@app.command("send")
def send(
    now: Annotated[
        bool, typer.Option("--now", help="Send to every confirmed subscription now, whether due or not.")
    ] = False,
) -> None:
    """Send each confirmed subscriber that is due (daily/weekly) the new knowledge matching their filter.
    Nothing new: no mail. A failed send is tried again on the next run. Exit 1 if a digest failed."""
    from graph.cli import EXIT_REJECTED, _services, console, out

    with _services() as services:
        alerts = Alerts(services)
        if not alerts.mailer.configured:
            console.print("[red]error:[/red] no SMTP server is configured (AMV_SMTP_HOST)")
            raise typer.Exit(EXIT_REJECTED)
        report = alerts.send_digests(force=now)
    if report.busy:
        out.print("another digest run is in progress; nothing done")
        return
    out.print(
        f"digests sent: {report.sent} ({report.items} items); nothing new: {report.nothing_new}; "
        f"failed: {report.failed}; unconfirmed expired: {report.expired}"
    )
    for error in report.errors:
        console.print(f"[red]failed:[/red] {escape(error)}")
    if report.failed:
        raise typer.Exit(EXIT_REJECTED)


@app.command("list")
def list_subscriptions() -> None:
    """Every subscription: address, status, frequency, what it follows, failures."""
    from graph.cli import _services, out
    from graph.sqlite import connect

    with _services() as services:
        alerts = Alerts(services)
        with connect(alerts.path) as db:
            ids = [r[0] for r in db.execute("SELECT id FROM alert_subscriptions ORDER BY created")]
        for subscription_id in ids:
            s = alerts.get(subscription_id)
            if s is None:
                continue
            follows = " ".join(f"{p}={v}" for p, v in s.parameters) or "(everything)"
            out.print(
                f"{s.id}  {escape(s.email)}  {s.status:9} {s.frequency.value:6} {s.lang}  {escape(follows)}"
                + (f"  failures: {s.failures}" if s.failures else "")
            )
