"""`amv import FILE [--dry-run] [--publish] [--as AGENT]`: bulk import from CSV, XLSX, JSON-LD or Turtle.

The command acts as an administrator: with `--publish` the valid rows are published at once, otherwise
they wait in the review queue as pending submissions. The layout of the files is in the README
("Bulk import") and in `graph.bulk_import`.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from graph.bulk_import import STATUS_WORDS, Importer, ImportRefused, RowStatus, report_lines

# Options may follow the file (`amv import FILE --dry-run`): a group stops parsing options at its first
# argument unless told otherwise.
app = typer.Typer(
    help="Bulk import of records from CSV, XLSX, JSON-LD or Turtle.",
    context_settings={"allow_interspersed_args": True},
)


class Language(StrEnum):
    da = "da"
    en = "en"


class Output(StrEnum):
    text = "text"
    json = "json"


@app.callback(invoke_without_command=True)
def import_file(
    file: Annotated[Path, typer.Argument(help="A .csv, .xlsx, .jsonld or .ttl file.", exists=True, dir_okay=False)],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check every row and report; change nothing.")] = False,
    publish: Annotated[
        bool, typer.Option("--publish", help="Publish the valid rows at once instead of queueing them for review.")
    ] = False,
    agent: Annotated[
        str | None, typer.Option("--as", help="Who the import is recorded as (default: cli:<user name>).")
    ] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Language of the report.")] = Language.da,
    format: Annotated[Output, typer.Option("--format", help="text, or json for scripts.")] = Output.text,
) -> None:
    """Import the valid rows of FILE in one transaction and report row by row; exit 1 if any row is wrong."""
    from graph.cli import EXIT_REJECTED, _agent, _services, console, out

    with _services() as services:
        try:
            report = Importer(services).run(
                file.read_bytes(),
                file.name,
                agent=agent or _agent(),
                apply=not dry_run,
                publish=publish,
            )
        except ImportRefused as exc:
            console.print(f"[red]error:[/red] {escape(exc.message(lang.value))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    if format == Output.json:
        out.print_json(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        for style, line in report_lines(report, lang.value):
            out.print(f"[{style}]{escape(line)}[/{style}]" if style else escape(line))
        words = STATUS_WORDS[lang.value]
        counts = ", ".join(f"{report.count(s)} {words[s]}" for s in RowStatus)
        if dry_run:
            tail = {"da": "prøvekørsel: intet er ændret", "en": "dry run: nothing was changed"}[lang.value]
        elif publish:
            tail = {"da": "de gyldige rækker er udgivet", "en": "the valid rows are published"}[lang.value]
        else:
            tail = {
                "da": "de gyldige rækker venter på gennemsyn",
                "en": "the valid rows wait for review",
            }[lang.value]
        out.print(f"{counts} ({tail})")
    if report.errors:
        raise typer.Exit(EXIT_REJECTED)
