"""`amv links …`: the link checker from the command line (graph/links.py).

`amv links check [--only-stale]` checks every external address of every published record (with
`--only-stale`: those not checked in the last AMV_LINK_CHECK_HOURS, default 24), prints a summary and
the broken links, and refreshes the public graph `<base>linkstatus`. Exit 0 whatever it finds (broken
links are findings, not an error of the command); 3 when the store is unavailable.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.config import Settings
from graph.links import LinkChecker
from graph.services import open_services
from graph.store import StoreError

app = typer.Typer(help="Check the external links of the published records.", no_args_is_help=True)
console = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)

EXIT_STORE = 3


@app.command("check")
def check(
    only_stale: Annotated[
        bool, typer.Option("--only-stale", help="Only addresses not checked within AMV_LINK_CHECK_HOURS (24).")
    ] = False,
) -> None:
    """Check every external address (HEAD, then GET when HEAD fails) and report the broken ones."""
    settings = Settings.from_env()
    try:
        services = open_services(settings)
    except StoreError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_STORE) from exc
    with (
        services,
        Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("checking links", total=None)
        summary = LinkChecker(services).run(
            only_stale=only_stale,
            stale_after=timedelta(hours=settings.link_check_hours or 24),
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    states = ", ".join(f"{state} {n}" for state, n in sorted(summary.by_state.items()))
    out.print(f"checked {summary.checked} addresses in {summary.seconds:.1f} s: {states or 'nothing to check'}")
    for link in summary.broken:
        answer = str(link.status) if link.status else (link.error or "")
        last = link.last_ok_at or "never"
        out.print(f"[red]broken[/red] {escape(link.url)}  {escape(answer)}  last seen working: {last}")
        for record in link.records:
            out.print(f"       used by {escape(record)}")
