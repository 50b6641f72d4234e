"""Backups, restores and dumps of a deployment.

- A **backup** (`amv backup DIR`) is everything needed to bring the service back: the store, every
  SQLite file of the data directory (ledger: record status, history, submissions, accounts and tokens;
  and the files of alerts, webhooks, links, …) and a manifest with the configuration it was made
  under. It is taken online: while `amv serve` runs, the store is read through its server in one
  read snapshot and the SQLite files with SQLite's online backup API, all under the write lock, so
  no write can land between the two halves. The search index is derived data and is rebuilt on restore.
- A **restore** (`amv restore DIR`) brings a backup back into an empty data directory (or replaces
  the current one with `--force`), checks the quad count against the manifest and rebuilds the index.
- A **dump** (`amv dump FILE`) is the public dataset as N-Quads — portable to any RDF tool;
  `amv load --dataset FILE` loads such a dump into an empty store, validating the record graphs and
  entering them in the ledger as published, so that the dump round-trips losslessly.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from pyoxigraph import NamedNode, Quad

from graph.config import Settings
from graph.ledger import LedgerEntry, RecordStatus, now
from graph.locks import write_lock
from graph.records import DCT_CREATED, DCT_MODIFIED, Record
from graph.services import Services, open_services
from graph.store import EmbeddedStore, insert_data, running_server_url

MANIFEST = "manifest.json"
DATASET = "dataset.nq"
FORMAT_VERSION = 1
#: Settings that describe the deployment; secrets (passwords, API keys) are never written to a backup.
SECRET_SETTINGS = {"smtp_password", "llm_api_key"}


class BackupError(Exception):
    """A backup or restore that cannot be done; nothing was changed."""


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    quads: int
    records: int
    files: list[str]
    seconds: float


def sqlite_files(data_dir: Path) -> list[Path]:
    """The SQLite databases of a data directory (not the search index's: it is rebuilt)."""
    return sorted(p for p in data_dir.glob("*.sqlite") if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(services: Services, target: Path) -> BackupReport:
    """Write a consistent backup of the running deployment into `target` (which must not exist yet)."""
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} exists and is not empty; a backup goes into a new directory")
    started = time.monotonic()
    settings = services.settings
    target.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    with write_lock(settings.data_dir):  # writers wait: the store and the ledger are copied at one moment
        for source in sqlite_files(settings.data_dir):
            with sqlite3.connect(source) as src, sqlite3.connect(target / source.name) as dst:
                src.backup(dst)
            files.append(source.name)
        with (target / DATASET).open("wb") as output:
            services.store.dump_nquads(output)
        files.append(DATASET)
    quads = _count_lines(target / DATASET)
    manifest = {
        "format": FORMAT_VERSION,
        "created": now(),
        "quads": quads,
        "records": services.ledger.count_by_status(),
        "settings": {
            name: str(value)
            for name, value in vars(settings).items()
            if name not in SECRET_SETTINGS and name != "data_dir"
        },
        "files": {name: _sha256(target / name) for name in files},
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    published = int(manifest["records"].get(RecordStatus.published.value, 0))  # type: ignore[union-attr]
    return BackupReport(target, quads, published, files, time.monotonic() - started)


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def read_manifest(source: Path) -> dict[str, object]:
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a backup made by `amv backup` (no readable {MANIFEST})") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"backup format {manifest.get('format')!r} is not supported (expected {FORMAT_VERSION})")
    for name, digest in dict(manifest.get("files", {})).items():
        path = source / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{path} is missing or damaged (checksum differs from the manifest)")
    return manifest


def restore(
    settings: Settings, source: Path, *, force: bool = False, progress: Callable[[str], None] = lambda _: None
) -> BackupReport:
    """Bring the backup in `source` back into the data directory of `settings`."""
    started = time.monotonic()
    manifest = read_manifest(source)
    data_dir = settings.data_dir
    if running_server_url(settings):
        raise BackupError("`amv serve` is running on this data directory; stop it before restoring")
    if settings.store_url:
        raise BackupError("AMV_STORE_URL is set: restore into a data directory, then load the store server from it")
    occupied = (data_dir / "store").exists() and any((data_dir / "store").iterdir())
    occupied = occupied or bool(sqlite_files(data_dir))
    if occupied and not force:
        raise BackupError(f"{data_dir} already holds a deployment; restore into an empty one, or use --force")
    if occupied:
        for path in [data_dir / "store", data_dir / "search", *sqlite_files(data_dir)]:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)
    progress("store")
    store = EmbeddedStore(settings.store_dir)
    try:
        store.bulk_load_file(source / DATASET, ox.RdfFormat.N_QUADS)
        quads = len(store)
    finally:
        store.close()
    if quads != manifest["quads"]:
        raise BackupError(f"the restored store holds {quads} quads, the backup {manifest['quads']}")
    files = [DATASET]
    for name in manifest["files"]:  # type: ignore[union-attr]
        if name.endswith(".sqlite"):
            shutil.copy2(source / name, data_dir / name)
            files.append(name)
    progress("search index")
    with open_services(settings, embedded_only=True) as services:
        services.search.rebuild()
        published = services.ledger.count_by_status().get(RecordStatus.published.value, 0)
    return BackupReport(data_dir, quads, int(published), files, time.monotonic() - started)


# -- dumps ------------------------------------------------------------------------------------------


def load_dataset(services: Services, path: Path, *, agent: str) -> int:
    """Load a dump of `amv dump` into an empty store: every graph as it is, record graphs validated
    first (all or nothing) and entered in the ledger as published. Returns the number of records."""
    if services.store.named_graphs():
        raise BackupError("the store is not empty; a dataset dump loads into an empty store (`amv init` not run)")
    try:
        quads = list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    except (SyntaxError, OSError) as exc:
        raise BackupError(f"{path} is not an N-Quads file: {exc}") from exc
    graphs: dict[NamedNode, list[ox.Triple]] = {}
    for quad in quads:
        if isinstance(quad.graph_name, NamedNode):
            graphs.setdefault(quad.graph_name, []).append(quad.triple)
    records = []
    context = EmbeddedStore(None)  # in memory: what the record graphs link to, for validation
    for graph, triples in graphs.items():
        parsed = services.iris.parse_record(graph)
        if parsed is not None:
            records.append(Record(graph, parsed[0], triples))
        else:
            context.add_quads(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    found = services.records.validate(records, context=context)
    problems = {iri: [v for v in violations if v.is_violation] for iri, violations in found.items()}
    problems = {iri: found for iri, found in problems.items() if found}
    if problems:
        first = next(iter(problems.items()))
        raise BackupError(
            f"{len(problems)} record graph(s) do not conform, nothing was loaded; first: {first[0]}: "
            + "; ".join(v.describe() for v in first[1][:3])
        )
    with services.ledger.transaction() as db:
        for record in records:
            stamps = {t.predicate: t.object.value for t in record.triples if t.subject == record.iri}
            services.ledger.upsert(
                db,
                LedgerEntry(
                    iri=record.iri.value,
                    kind=record.kind.value,
                    status=RecordStatus.published,
                    title=record.title(),
                    created=str(stamps.get(DCT_CREATED, now())),
                    modified=str(stamps.get(DCT_MODIFIED, now())),
                    submitted_by=agent,
                    approved_by=agent,
                    source=str(path),
                ),
            )
            services.ledger.log(db, record.iri.value, agent, "loaded", f"dataset dump {path.name}")
        # Last inside the ledger transaction: if the store refuses, no ledger entry is written.
        _load_quads(services, quads)
    services.search.rebuild()
    return len(records)


def _load_quads(services: Services, quads: list[Quad]) -> None:
    """Into an empty store: embedded in one transaction; remote in INSERT DATA batches of graphs."""
    store = services.store
    if isinstance(store, EmbeddedStore):
        store.add_quads(quads)
        return
    by_graph: dict[NamedNode, list[ox.Triple]] = {}
    default: list[ox.Triple] = []
    for quad in quads:
        if isinstance(quad.graph_name, NamedNode):
            by_graph.setdefault(quad.graph_name, []).append(quad.triple)
        else:
            default.append(quad.triple)
    names = list(by_graph)
    for start in range(0, len(names), 500):
        store.update(insert_data({g: by_graph[g] for g in names[start : start + 500]}))
    if default:
        store.update("INSERT DATA {\n" + ox.serialize(default, format=ox.RdfFormat.N_TRIPLES).decode() + "}")
