"""`amv vocab …`: working with the concept schemes from the command line.

`amv vocab release SCHEME VERSION [--note TEXT]` freezes a scheme as a dated release;
`amv vocab check-mappings SCHEME` checks now (not in the background) whether the IRIs the scheme's
concepts are mapped to resolve, for the quality report.
`amv vocab export SCHEME --format …` and `amv vocab import FILE [--id SCHEME] [--yes]` (graph/vocab_io.py):
RDF in any format and the spreadsheet round trip; import shows the diff and applies it when confirmed.

The shared helpers of graph/cli.py (opening the deployment, the consoles, who is acting) are imported
when a command runs: graph/cli.py imports this module to register `vocab_app`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pyoxigraph import NamedNode
from rich.markup import escape

from graph.services import Services

vocab_app = typer.Typer(help="Concept schemes: releases, quality checks, import and export.", no_args_is_help=True)


def _scheme_iri(services: Services, scheme: str) -> NamedNode:
    """A scheme named by its id (`factors`) or its IRI."""
    return NamedNode(scheme) if scheme.startswith(("http://", "https://")) else services.iris.scheme(scheme)


@vocab_app.command("release")
def release(
    scheme: Annotated[str, typer.Argument(help="The scheme's id (e.g. factors) or IRI.")],
    version: Annotated[str, typer.Argument(help="The version to release, e.g. 1.1 or 2026.1 (once per scheme).")],
    note: Annotated[str, typer.Option("--note", help="What the release is about (shown with it).")] = "",
) -> None:
    """Freeze the scheme as it is now as a dated release, downloadable at /vocab/SCHEME/release/VERSION."""
    from graph.cli import EXIT_REJECTED, _agent, _services, console, out
    from graph.vocab_release import ReleaseRefused, create_release

    with _services() as services:
        try:
            made = create_release(services, _scheme_iri(services, scheme), version, note=note, agent=_agent())
        except (ReleaseRefused, ValueError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(
        f"released {escape(made.scheme)} version {escape(made.version)} "
        f"({made.triples} triples, change log #{made.sequence}): {escape(made.iri)}"
    )


@vocab_app.command("check-mappings")
def check_mappings_command(
    scheme: Annotated[str, typer.Argument(help="The scheme's id (e.g. factors) or IRI.")],
) -> None:
    """Check whether every mapping target of the scheme resolves (for the quality report); exit 1 if any does not."""
    from graph.cli import EXIT_REJECTED, _services, console, out
    from graph.vocab_quality import BROKEN, UNREACHABLE, check_mappings

    with _services() as services:
        iri = _scheme_iri(services, scheme)
        if not services.store.ask(services.queries("is-scheme", scheme=iri)):
            console.print(f"[red]error:[/red] no concept scheme {escape(str(iri))}")
            raise typer.Exit(EXIT_REJECTED)
        results = check_mappings(services, iri)
    failed = [r for r in results if r.outcome in (BROKEN, UNREACHABLE)]
    for r in results:
        out.print(f"{r.outcome:11} {escape(r.url)}  {escape(r.detail)}")
    out.print(f"{len(results)} mapping targets checked, {len(failed)} do not resolve")
    if failed:
        raise typer.Exit(EXIT_REJECTED)


@vocab_app.command("export")
def export_command(
    scheme: Annotated[str, typer.Argument(help="The scheme's id (e.g. factors) or IRI.")],
    format: Annotated[str, typer.Option("--format", help="turtle, nt, jsonld, xml, csv or xlsx.")] = "turtle",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Export a scheme as RDF or as a spreadsheet (one row per concept; see the README for the columns)."""
    from graph.cli import EXIT_REJECTED, _services, console
    from graph.vocab_io import EXPORT_FORMATS, ImportFailed, export_scheme

    if format not in EXPORT_FORMATS:
        console.print(f"[red]error:[/red] unknown format {escape(format)!r}; use one of {', '.join(EXPORT_FORMATS)}")
        raise typer.Exit(2)
    with _services() as services:
        try:
            data = export_scheme(services, _scheme_iri(services, scheme), format)
        except ImportFailed as exc:
            console.print(f"[red]error:[/red] {escape(exc.message('en'))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


@vocab_app.command("import")
def import_command(
    file: Annotated[
        Path, typer.Argument(help="A spreadsheet (.csv .xlsx) or RDF file (.ttl .nt .rdf .jsonld .trig …).")
    ],
    scheme_id: Annotated[
        str | None, typer.Option("--id", help="The scheme to import into, or the id of the new scheme.")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Apply without asking.")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the change log).")] = "",
) -> None:
    """Show what importing FILE would change, then apply it as one changeset per scheme when confirmed."""
    from graph.cli import EXIT_REJECTED, _agent, _services, console, out
    from graph.vocab_edit import EditRefused
    from graph.vocab_io import ImportFailed, apply_import, plan_import

    try:
        data = file.read_bytes()
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {escape(str(file))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(EXIT_REJECTED) from exc
    with _services() as services:
        try:
            plan = plan_import(services, data, file.name, slug=scheme_id)
        except ImportFailed as exc:
            console.print(f"[red]error:[/red] {escape(exc.message('en'))}")
            raise typer.Exit(EXIT_REJECTED) from exc
        for note in plan.notes:
            out.print(f"repaired: {escape(note)}")
        if not plan.ok:
            for problem in plan.problems:
                out.print(f"[red]error[/red]  {escape(problem.describe('en'))}")
            console.print(f"{len(plan.problems)} problems; nothing was changed")
            raise typer.Exit(EXIT_REJECTED)
        for target in plan.schemes:
            what = "new scheme" if target.new else f"{target.concepts} concepts in the file, {target.kept} others kept"
            out.print(f"[bold]{escape(target.scheme.value)}[/bold] ({what})")
            for line in target.lines():
                sign = "[green]+[/green]" if line.added else "[red]-[/red]"
                out.print(f"  {sign} {escape(line.subject)}  {escape(line.property)}  {escape(line.value)}")
        if plan.empty:
            out.print("no changes")
            return
        out.print(f"{plan.added} statements to add, {plan.removed} to remove")
        if not yes and not (sys.stdin.isatty() and typer.confirm("Apply these changes?")):
            out.print("nothing was changed (use --yes to apply)")
            return
        try:
            applied = apply_import(services, plan, agent=_agent(), reason=reason or f"import of {file.name}")
        except ImportFailed as exc:
            console.print(f"[red]error:[/red] {escape(exc.message('en'))}")
            raise typer.Exit(EXIT_REJECTED) from exc
        except EditRefused as exc:
            console.print(f"[red]error:[/red] {escape(exc.message)}")
            for v in exc.violations:
                out.print(f"  {escape(v.describe())}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"applied: {len(applied)} changesets")
