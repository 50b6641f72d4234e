"""`amv`: the command line of Arbejdsmiljøviden. Every command honours AMV_DATA_DIR.

Partners and operators script against these exact forms (see README), so options are stable.
Exit codes: 0 success, 1 rejected input or violations found, 2 usage error, 3 store unavailable.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from graph.accounts import Role
from graph.cli_alerts import app as alerts_app
from graph.cli_harvest import app as harvest_app
from graph.cli_import import app as import_app
from graph.cli_links import app as links_app
from graph.cli_vocab import vocab_app
from graph.config import Settings
from graph.dataset import load_fixed_graphs, load_sample, read_vocabularies, validate_store
from graph.rdf import FORMATS, RdfSyntaxError, parse_file
from graph.records import RecordOutcome
from graph.services import Services, open_services
from graph.store import StoreError, write_quads

app = typer.Typer(
    help="Arbejdsmiljøviden: the knowledge graph of Denmark's work-environment community.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(alerts_app, name="alerts")
app.add_typer(harvest_app, name="harvest")
app.add_typer(import_app, name="import")
app.add_typer(links_app, name="links")
app.add_typer(vocab_app, name="vocab")
console = Console(stderr=True, soft_wrap=True, highlight=False)
out = Console(soft_wrap=True, highlight=False)

EXIT_REJECTED = 1
EXIT_STORE = 3


def _agent() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"


def _services() -> Services:
    try:
        return open_services()
    except StoreError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_STORE) from exc


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def _report(outcomes: list[RecordOutcome]) -> int:
    """Print one line per record (and each violation under it); return how many were rejected."""
    rejected = 0
    for o in outcomes:
        if o.accepted:
            out.print(f"[green]{o.action:9}[/green] {o.kind:8} {escape(o.iri)}  {escape(o.title)}")
        else:
            rejected += 1
            out.print(f"[red]rejected [/red] {o.kind:8} {escape(o.iri)}  {escape(o.title)}")
        for v in o.violations:
            out.print(f"          {escape(v.describe())}")
    return rejected


@app.command()
def init(
    sample: Annotated[bool, typer.Option("--sample", help="Also load the sample records of data/sample/.")] = False,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Replace the ontology and schemes from their files even if present.")
    ] = False,
) -> None:
    """Load the ontology and vocabularies (and with --sample the demo records). Idempotent."""
    with _services() as services, _progress() as progress:
        files = 1 + len(read_vocabularies(services.iris))
        task = progress.add_task("ontology and vocabularies", total=files)
        loaded = load_fixed_graphs(
            services.store, services.iris, refresh=refresh, tick=lambda _: progress.advance(task)
        )
        if loaded:  # in the change log like any write, so running instances see the new schemes at once
            services.records.log_change([ox.NamedNode(g) for g in loaded], "loaded", agent=_agent(), reason="amv init")
        out.print(
            f"graphs loaded: {len(loaded)} (of {files}; existing ones kept)"
            if not refresh
            else f"graphs loaded: {len(loaded)}"
        )
        if sample:
            outcomes = load_sample(services.records, agent=_agent())
            rejected = _report([o for o in outcomes if not o.accepted])
            out.print(f"sample records published: {sum(o.accepted for o in outcomes)}, rejected: {rejected}")
            if rejected:
                raise typer.Exit(EXIT_REJECTED)


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="RDF files (.ttl .nt .nq .trig .jsonld .rdf) holding records.")],
    dataset: Annotated[
        bool,
        typer.Option("--dataset", help="The file is a whole-dataset dump of `amv dump`: load it into an empty store."),
    ] = False,
) -> None:
    """Validate records, then write the valid ones; report per record; exit 1 if any was rejected."""
    if dataset:
        _load_dataset(files)
        return
    triples = []
    for path in files:
        try:
            triples += [q.triple for q in parse_file(path)]
        except (RdfSyntaxError, OSError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    with _services() as services:
        outcomes = services.records.load(triples, agent=_agent(), source=", ".join(str(f) for f in files))
    rejected = _report(outcomes)
    out.print(f"{len(outcomes) - rejected} accepted, {rejected} rejected")
    if rejected:
        raise typer.Exit(EXIT_REJECTED)


def _load_dataset(files: list[Path]) -> None:
    from graph.backup import BackupError, load_dataset

    if len(files) != 1:
        console.print("[red]error:[/red] --dataset loads exactly one dump file")
        raise typer.Exit(EXIT_REJECTED)
    with _services() as services:
        try:
            records = load_dataset(services, files[0], agent=_agent())
        except BackupError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"dataset loaded: {records} records published")


@app.command()
def upgrade() -> None:
    """Bring AMV_DATA_DIR to this release's layout (graph/layout.py), step by step, and say what was done.
    Run it after installing a new release; opening the data directory does the same silently."""
    from graph.iris import Iris
    from graph.layout import CURRENT, LayoutError, read_version
    from graph.layout import upgrade as upgrade_layout
    from graph.locks import write_lock
    from graph.store import open_store

    settings = Settings.from_env()
    try:
        before = read_version(settings.data_dir)
        with open_store(settings) as store, write_lock(settings.data_dir):
            done = upgrade_layout(settings.data_dir, store, Iris(settings.base_uri), report=out.print)
    except (LayoutError, StoreError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_STORE) from exc
    out.print(f"layout {before} → {CURRENT}: {len(done)} step(s)" if done else f"layout {CURRENT}: up to date")


@app.command()
def dump(
    output: Annotated[Path | None, typer.Argument(help="N-Quads file to write (default: stdout).")] = None,
) -> None:
    """The whole public dataset as N-Quads (every graph: ontology, schemes, records, change log);
    `amv load --dataset FILE` loads it back."""
    with _services() as services:
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            services.store.dump_nquads(target)
        finally:
            if output:
                target.close()


@app.command()
def backup(
    directory: Annotated[Path, typer.Argument(help="A new directory to write the backup into.")],
) -> None:
    """A consistent backup, online while `amv serve` runs: the store, accounts, history, submissions
    and the other SQLite files, and a manifest with the configuration (no secrets)."""
    from graph.backup import BackupError
    from graph.backup import backup as make_backup

    with _services() as services:
        try:
            report = make_backup(services, directory)
        except BackupError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(
        f"backup written to {report.directory}: {report.quads} quads, {report.records} published records, "
        f"{len(report.files)} files, {report.seconds:.1f} s"
    )


@app.command()
def restore(
    directory: Annotated[Path, typer.Argument(help="A directory written by `amv backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the deployment in AMV_DATA_DIR.")] = False,
) -> None:
    """Bring a backup back into AMV_DATA_DIR (empty, or replaced with --force) and rebuild the search index."""
    from graph.backup import BackupError
    from graph.backup import restore as restore_backup

    try:
        report = restore_backup(Settings.from_env(), directory, force=force, progress=lambda s: console.print(s))
    except (BackupError, StoreError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"restored into {report.directory}: {report.quads} quads, {report.records} published records")


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


@app.command()
def validate(
    format: Annotated[ReportFormat, typer.Option("--format", help="text or json")] = ReportFormat.text,
) -> None:
    """Validate the whole store: SKOS quality of every scheme and the shapes of every record."""
    with _services() as services, _progress() as progress:
        task = progress.add_task("validating", total=None)
        report = validate_store(
            services.store, services.records, services.validator, tick=lambda _: progress.advance(task)
        )
    if format == ReportFormat.json:
        out.print_json(
            json.dumps(
                {
                    "conforms": report.conforms,
                    "violations": len(report.errors),
                    "warnings": len(report.warnings),
                    "results": [v.as_json() for v in report.violations],
                }
            )
        )
    else:
        for v in report.violations:
            out.print(escape(v.describe()))
        out.print(f"violations: {len(report.errors)}, warnings: {len(report.warnings)}")
    if not report.conforms:
        raise typer.Exit(EXIT_REJECTED)


class ExportFormat(StrEnum):
    turtle = "turtle"
    nt = "nt"
    nquads = "nquads"
    trig = "trig"
    jsonld = "jsonld"
    xml = "xml"


@app.command()
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help="Serialisation.")] = ExportFormat.nquads,
    scheme: Annotated[str | None, typer.Option("--scheme", help="IRI of one concept scheme to export.")] = None,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write (default: stdout).")] = None,
) -> None:
    """Export a concept scheme, or everything public (triple formats merge the named graphs)."""
    with _services() as services:
        graph = None
        if scheme:
            graph = ox.NamedNode(scheme)
            if graph not in services.store.named_graphs():
                console.print(f"[red]error:[/red] no concept scheme {escape(scheme)} in the store")
                raise typer.Exit(EXIT_REJECTED)
        quads = services.store.quads(graph)
        target = output.open("wb") if output else sys.stdout.buffer
        try:
            write_quads(quads, target, FORMATS[format.value])
        finally:
            if output:
                target.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option("--workers", help="Number of web worker processes (default: one per CPU core).")
    ] = 0,
) -> None:
    """Serve the web app. Without AMV_STORE_URL, the data directory is served by a managed Oxigraph
    server on a private loopback port, which stops with this command. The workers share the store
    server and the search index, so reads use every core."""
    import uvicorn

    from graph.store_server import ManagedStoreServer

    settings = Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = None
    if not settings.store_url:
        server = ManagedStoreServer(settings)
        try:
            os.environ["AMV_STORE_URL"] = server.start()
        except StoreError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_STORE) from exc
        console.print(f"store server: {server.url} (data in {settings.store_dir})")
        server.watch()  # started again on the same address if it ever dies
    workers = workers or os.cpu_count() or 1
    try:
        uvicorn.run(
            # Several workers are child processes of uvicorn's supervisor: each must die with it.
            "api.app:create_worker_app" if workers > 1 else "api.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # our own access log (logger amv.access) carries request ids, as JSON lines
            # A worker busy with long pages under load answers the supervisor's ping late; the default 5 s
            # got such workers killed (and their requests cut off). A hung worker is still replaced.
            timeout_worker_healthcheck=60,
            log_config=LOGGING,
        )
    finally:
        if server:
            server.stop()


#: uvicorn's logging plus ours: `amv.*` loggers write to stderr, one JSON object per access-log line.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(message)s"},
        "default": {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(message)s"},
    },
    "handlers": {
        "plain": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
        "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "amv": {"handlers": ["plain"], "level": "INFO", "propagate": False},
    },
}


@app.command()
def withdraw(
    iri: Annotated[str, typer.Argument(help="IRI of the published record to withdraw.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown on the tombstone page).")],
    replaced_by: Annotated[str | None, typer.Option("--replaced-by", help="IRI of a record that replaces it.")] = None,
) -> None:
    """Withdraw a published record: it leaves the public dataset and its IRI answers 410 Gone."""
    with _services() as services:
        try:
            services.records.withdraw(
                ox.NamedNode(iri),
                agent=_agent(),
                reason=reason,
                replaced_by=ox.NamedNode(replaced_by) if replaced_by else None,
            )
        except (LookupError, ValueError) as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"withdrawn: {iri}")


@app.command()
def reindex() -> None:
    """Rebuild the search index from the store (e.g. after a vocabulary change); searches keep working meanwhile."""
    with _services() as services, _progress() as progress:
        task = progress.add_task("indexing records", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        count = services.search.rebuild(progress=tick)
    out.print(f"search index rebuilt: {count} records")


token_app = typer.Typer(help="API tokens for writes (shown once, stored hashed).", no_args_is_help=True)
app.add_typer(token_app, name="token")


def _published_actor(services: Services, iri: str | None) -> str | None:
    """The IRI of a published actor record, or ValueError."""
    if iri is None:
        return None
    parsed = services.iris.parse_record(iri)
    entry = services.ledger.get(iri)
    if parsed is None or parsed[0].value != "actor" or entry is None or entry.status.value != "published":
        raise ValueError(f"{iri} is not a published actor (see /actors)")
    return iri


@token_app.command("create")
def token_create(
    role: Annotated[Role, typer.Option("--role", help="contributor, editor or admin.")],
    name: Annotated[str, typer.Option("--name", help="Who or what uses the token (shown in the history).")],
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="IRI of the actor (organisation) they act for."),
    ] = None,
) -> None:
    """Create a token and print it (the only time it is shown)."""
    with _services() as services:
        try:
            token = services.accounts.create_token(name, role, _published_actor(services, actor))
        except ValueError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    print(token)


@token_app.command("list")
def token_list() -> None:
    """List tokens (id, name, role, created, revoked) — never the secrets."""
    with _services() as services:
        for t in services.accounts.tokens():
            out.print(
                escape(
                    f"{t.id}  {t.role.value:11} {t.created}  {'revoked ' + t.revoked if t.revoked else 'active'}"
                    f"  {t.name}"
                )
            )


@token_app.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="The token's id (see `amv token list`).")]) -> None:
    """Revoke a token: it stops working at once."""
    with _services() as services:
        if not services.accounts.revoke(token_id):
            console.print(f"[red]error:[/red] no active token {escape(token_id)}")
            raise typer.Exit(EXIT_REJECTED)
    out.print(f"revoked: {escape(token_id)}")


user_app = typer.Typer(help="People who log in to the web (contributors, editors, admins).", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    email: Annotated[str, typer.Argument(help="E-mail address; the login name.")],
    name: Annotated[str, typer.Option("--name", help="Full name, shown in the history.")],
    role: Annotated[Role, typer.Option("--role", help="contributor, editor or admin.")] = Role.contributor,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="IRI of the actor (organisation) they act for."),
    ] = None,
) -> None:
    """Add a person who can log in. The password is asked for (or read from stdin), never an argument."""
    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass("Password: ")
    with _services() as services:
        try:
            services.accounts.add_user(email, name, role, password, _published_actor(services, actor))
        except ValueError as exc:
            console.print(f"[red]error:[/red] {escape(str(exc))}")
            raise typer.Exit(EXIT_REJECTED) from exc
    out.print(f"user added: {escape(email.strip().lower())} ({role.value})")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
