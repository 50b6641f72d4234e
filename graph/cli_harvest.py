"""`amv harvest …`: configure harvest sources and run them (graph/harvest).

`amv harvest add NAME --type TYPE --url URL [--kind item|event] [--actor ID|IRI] [--concept CODE…]
[--every HOURS] [--default-type CODE]`, `amv harvest list`, `amv harvest remove NAME`,
`amv harvest run [NAME] [--due] [--dry-run]`. Exit codes: 0 success, 1 a refused definition, an unknown
source or a run that failed, 3 store unavailable.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from graph.harvest.runner import Harvester, RunResult, SourceRefused, define_source
from graph.harvest.sources import SourceType

app = typer.Typer(
    help="Harvest partners' publications and international research into the review queue.",
    no_args_is_help=True,
)


class Output(StrEnum):
    text = "text"
    json = "json"


class Kind(StrEnum):
    item = "item"
    event = "event"


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="A short name: lower-case letters, digits, '.', '_', '-'.")],
    type_name: Annotated[
        str, typer.Option("--type", help=f"What the source is: {', '.join(t.value for t in SourceType)}.")
    ],
    url: Annotated[
        str | None,
        typer.Option("--url", help="Feed, page, sitemap or OAI-PMH base URL; for openalex/crossref the API base."),
    ] = None,
    kind: Annotated[
        Kind, typer.Option("--kind", help="What its entries become (schema:Event is an event).")
    ] = Kind.item,
    actor: Annotated[
        str | None, typer.Option("--actor", help="The actor (id or IRI): publisher of items, organiser of events.")
    ] = None,
    concepts: Annotated[
        list[str] | None,
        typer.Option("--concept", help="A concept code (5.1), key (industries/F) or IRI; repeat for more."),
    ] = None,
    every: Annotated[float, typer.Option("--every", help="Hours between scheduled runs (0: only by hand).")] = 24.0,
    default_type: Annotated[
        str | None,
        typer.Option("--default-type", help="Knowledge type (items) or event type (events) code when not guessed."),
    ] = None,
) -> None:
    """Add a source."""
    from graph.cli import EXIT_REJECTED, _agent, _services, console, out

    with _services() as services:
        try:
            source = define_source(
                services,
                name=name,
                type_name=type_name,
                url=url,
                kind=kind.value,
                actor=actor,
                concepts=list(concepts or []),
                default_type=default_type,
                every_hours=every,
                created_by=_agent(),
            )
        except SourceRefused as exc:
            console.print(f"[red]refused:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"added {source.name} ({source.type.value}) {escape(source.url)}")


@app.command("list")
def list_sources(format: Annotated[Output, typer.Option("--format")] = Output.text) -> None:
    """The sources, with their last run."""
    from graph.cli import _services, out

    with _services() as services:
        sources = services.harvest.all()
    if format == Output.json:
        print(json.dumps([s.as_json() for s in sources], ensure_ascii=False, indent=2))
        return
    if not sources:
        out.print("no sources (add one with `amv harvest add`)")
    for s in sources:
        last = f"last run {s.last_run_at} {s.last_status}" if s.last_run_at else "never run"
        every = f"every {s.every_hours:g} h" if s.every_hours else "by hand"
        out.print(
            f"{s.name}  {s.type.value}  {escape(s.url)}  {s.kind.value}  {every}  {last}  queued {s.queued_total}"
        )
        if s.last_status == "error" and s.last_error:
            out.print(f"    [red]error:[/red] {escape(s.last_error)}")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a source (what it queued stays in the review queue)."""
    from graph.cli import EXIT_REJECTED, _services, console, out

    with _services() as services:
        if not services.harvest.remove(name):
            console.print(f"[red]error:[/red] no source named {escape(name)}")
            raise typer.Exit(EXIT_REJECTED)
    out.print(f"removed {escape(name)}")


def _print(result: RunResult, dry_run: bool) -> None:
    from graph.cli import out

    if result.status in ("error", "busy"):
        out.print(f"{result.source}: [red]{result.status}[/red] {escape(result.error or '')}")
    elif result.status == "not_modified":
        out.print(f"{result.source}: not modified since the last run")
    else:
        verb = "would queue" if dry_run else "queued"
        queued = result.count("would-queue") if dry_run else result.queued
        out.print(f"{result.source}: {len(result.entries)} entries, {verb} {queued}")
    for entry in result.entries:
        out.print(
            f"  {entry.outcome:<11} {escape(entry.title[:90])}"
            + (f"  ({escape(entry.detail)})" if entry.detail else "")
        )
        for suggestion in entry.suggestions:
            out.print(f"              suggested: {escape(suggestion)}")
        for problem in entry.problems:
            out.print(f"              to complete: {escape(problem)}")
    for note in result.notes:
        out.print(f"  note: {escape(note)}")


@app.command("run")
def run(
    name: Annotated[str | None, typer.Argument(help="One source; without it, every source.")] = None,
    due: Annotated[bool, typer.Option("--due", help="Only the sources whose interval has passed (for cron).")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fetch and map, show what would be queued; write nothing.")
    ] = False,
    format: Annotated[Output, typer.Option("--format")] = Output.text,
) -> None:
    """Harvest now: fetch, map, tag and queue new entries for review."""
    from graph.cli import EXIT_REJECTED, _services, console

    with _services() as services:
        if name:
            source = services.harvest.get(name)
            if source is None:
                console.print(f"[red]error:[/red] no source named {escape(name)}")
                raise typer.Exit(EXIT_REJECTED)
            sources = [source]
        else:
            sources = [s for s in services.harvest.all() if s.due() or not due]
        harvester = Harvester(services)
        results = [r for r in (harvester.run(s, dry_run=dry_run) for s in sources) if r is not None]
    if format == Output.json:
        print(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
    else:
        for result in results:
            _print(result, dry_run)
    if any(r.status == "error" for r in results):
        raise typer.Exit(EXIT_REJECTED)
