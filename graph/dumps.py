"""Downloadable dumps of the whole public dataset, generated on demand and cached on disk.

Each dump is written once per version of the dataset (see `graph.dataset_description.freshness`)
to `AMV_DATA_DIR/dumps/<stem>-<key>.<ext>.gz`: streamed from the store straight into gzip, never
held in memory as a whole, written to a temporary file and renamed into place so that a reader never
sees half a file. Older versions are removed once the new one is in place (a download already
reading one keeps its open file).

The store holds exactly the public dataset (pending and rejected records live in the ledger only),
so a dump of the store contains published records, schemes and the ontology, and nothing else.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.dataset_description import DUMPS, Dump, freshness
from graph.serialize import prefixes
from graph.services import Services

_FORMATS = {"application/n-quads": ox.RdfFormat.N_QUADS, "text/turtle": ox.RdfFormat.TURTLE}
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass(frozen=True)
class DumpFile:
    dump: Dump
    path: Path
    key: str  # the freshness key of the dataset version it holds

    @property
    def etag(self) -> str:
        return f'"{self.key[:32]}-{self.dump.format_name.lower()}"'


def dump_by_name(filename: str) -> Dump | None:
    return next((d for d in DUMPS if d.filename == filename), None)


def dump_dir(services: Services) -> Path:
    return services.settings.data_dir / "dumps"


def _cached_name(dump: Dump, key: str) -> str:
    stem, _, ext = dump.filename.partition(".")
    return f"{stem}-{key[:24]}.{ext}"


def _lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(path), threading.Lock())


def ensure_dump(services: Services, dump: Dump) -> DumpFile:
    """The dump file of the current dataset version, generating it if it is not cached yet."""
    key = freshness(services).key
    directory = dump_dir(services)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / _cached_name(dump, key)
    with _lock(target):
        if not target.exists():
            write_dump(services, dump, target)
            _remove_older(directory, dump, keep=target)
    return DumpFile(dump, target, key)


def write_dump(services: Services, dump: Dump, target: Path) -> None:
    """Stream the store into a gzipped file at `target` (atomically: temporary file, then rename)."""
    fmt = _FORMATS[dump.media_type]
    handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".gz", dir=target.parent)
    os.close(handle)
    try:
        with gzip.open(temporary, "wb", compresslevel=6) as out:
            if fmt == ox.RdfFormat.N_QUADS:
                ox.serialize(services.store.quads(), out, format=fmt)
            else:
                ox.serialize(_union(services), out, format=fmt, prefixes=prefixes(services.iris))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _union(services: Services) -> Iterator[ox.Triple]:
    """The triples of every named graph (the union; a triple stated in two graphs is written twice,
    which RDF readers merge, rather than holding the whole dataset in memory to remove it)."""
    for quad in services.store.quads():
        yield quad.triple


def _remove_older(directory: Path, dump: Dump, keep: Path) -> None:
    stem, _, ext = dump.filename.partition(".")
    for old in directory.glob(f"{stem}-*.{ext}"):
        if old != keep:
            old.unlink(missing_ok=True)
