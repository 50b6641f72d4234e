"""The ledger: status, provenance and history of every record, in SQLite beside the store.

The quad store holds exactly the public dataset (ontology, schemes, published records), so nothing
pending can leak through pages, search, dumps or SPARQL by construction. Everything about a record
that is not public content lives here: its status (published or withdrawn),
who submitted and approved it, where it came from, the submissions waiting for review (with their
content), the tombstone of a withdrawn record, and the history of every change.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from graph.sqlite import SharedConnection

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    iri              TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    title            TEXT NOT NULL,
    created          TEXT NOT NULL,
    modified         TEXT NOT NULL,
    submitted_by     TEXT,
    approved_by      TEXT,
    source           TEXT,
    withdrawn_reason TEXT,
    replaced_by      TEXT
);
CREATE INDEX IF NOT EXISTS records_status ON records (status, kind);
CREATE TABLE IF NOT EXISTS history (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    iri    TEXT NOT NULL,
    at     TEXT NOT NULL,
    agent  TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS history_iri ON history (iri, id);
CREATE TABLE IF NOT EXISTS submissions (
    id            TEXT PRIMARY KEY,  -- opaque submission id (a record may have many versions)
    iri           TEXT NOT NULL,     -- the record it proposes (new, or a new version of a published one)
    kind          TEXT NOT NULL,
    status        TEXT NOT NULL,     -- pending | approved | rejected
    title         TEXT NOT NULL,
    content       TEXT NOT NULL,     -- N-Triples of the proposed record
    submitted_by  TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    client_key    TEXT,              -- the client's idempotency key, unique per submitter
    decided_by    TEXT,
    decided_at    TEXT,
    reason        TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS submissions_client_key ON submissions (submitted_by, client_key);
CREATE INDEX IF NOT EXISTS submissions_status ON submissions (status, submitted_at);
CREATE INDEX IF NOT EXISTS submissions_iri ON submissions (iri, submitted_at);
CREATE TABLE IF NOT EXISTS import_keys (  -- bulk import: which record each imported row became (graph/bulk_import.py)
    key    TEXT PRIMARY KEY,  -- sha256 of the row's identity: record IRI, else type + web address, else type + title
    iri    TEXT NOT NULL,
    agent  TEXT NOT NULL,
    at     TEXT NOT NULL,
    source TEXT               -- the file name
);
"""


class RecordStatus(StrEnum):
    """A record's place in the public dataset; work waiting for review is in the submissions table."""

    published = "published"
    withdrawn = "withdrawn"


@dataclass(frozen=True)
class LedgerEntry:
    iri: str
    kind: str
    status: RecordStatus
    title: str
    created: str
    modified: str
    submitted_by: str | None = None
    approved_by: str | None = None
    source: str | None = None
    withdrawn_reason: str | None = None
    replaced_by: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    iri: str
    at: str
    agent: str
    action: str
    detail: str | None


def now() -> str:
    """UTC timestamp with seconds, as stored and as written to dct:modified."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        # FULL so that an acknowledged write survives power loss.
        self._sql = SharedConnection(path, synchronous="FULL")
        self._db = self._sql.db
        self._db.executescript(SCHEMA)

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for modules that keep their tables in the ledger (submissions)."""
        return self._db

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic unit: commit on success, roll back on any exception. One at a time per process:
        the web app's threads share this connection, and SQLite has one transaction per connection."""
        return self._sql.transaction()

    def get(self, iri: str) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT iri, kind, status, title, created, modified, submitted_by, approved_by, source, "
            "withdrawn_reason, replaced_by FROM records WHERE iri = ?",
            (iri,),
        ).fetchone()
        return None if row is None else LedgerEntry(**{**dict(row), "status": RecordStatus(row["status"])})

    def upsert(self, db: sqlite3.Connection, entry: LedgerEntry) -> None:
        db.execute(
            """INSERT INTO records (iri, kind, status, title, created, modified, submitted_by, approved_by,
                                    source, withdrawn_reason, replaced_by)
               VALUES (:iri, :kind, :status, :title, :created, :modified, :submitted_by, :approved_by,
                       :source, :withdrawn_reason, :replaced_by)
               ON CONFLICT (iri) DO UPDATE SET
                 kind = excluded.kind, status = excluded.status, title = excluded.title,
                 modified = excluded.modified, submitted_by = excluded.submitted_by,
                 approved_by = excluded.approved_by, source = excluded.source,
                 withdrawn_reason = excluded.withdrawn_reason, replaced_by = excluded.replaced_by""",
            {**entry.__dict__, "status": entry.status.value},
        )

    def get_many(self, iris: Iterable[str]) -> dict[str, LedgerEntry]:
        """The entries of many records at once (bulk import), by IRI; unknown IRIs are left out."""
        wanted = list(dict.fromkeys(iris))
        found: dict[str, LedgerEntry] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on host parameters
            chunk = wanted[start : start + 500]
            rows = self._db.execute(
                "SELECT iri, kind, status, title, created, modified, submitted_by, approved_by, source, "
                f"withdrawn_reason, replaced_by FROM records WHERE iri IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            for row in rows:
                found[row["iri"]] = LedgerEntry(**{**dict(row), "status": RecordStatus(row["status"])})
        return found

    def upsert_many(self, db: sqlite3.Connection, entries: Iterable[LedgerEntry]) -> None:
        for entry in entries:
            self.upsert(db, entry)

    def log_many(self, db: sqlite3.Connection, rows: Iterable[tuple[str, str, str, str | None]]) -> None:
        """History rows (iri, agent, action, detail) stamped with one time: one batch, one moment."""
        at = now()
        db.executemany(
            "INSERT INTO history (iri, at, agent, action, detail) VALUES (?, ?, ?, ?, ?)",
            [(iri, at, agent, action, detail) for iri, agent, action, detail in rows],
        )

    def log(self, db: sqlite3.Connection, iri: str, agent: str, action: str, detail: str | None = None) -> None:
        db.execute(
            "INSERT INTO history (iri, at, agent, action, detail) VALUES (?, ?, ?, ?, ?)",
            (iri, now(), agent, action, detail),
        )

    def history(self, iri: str) -> list[HistoryEntry]:
        rows = self._db.execute("SELECT iri, at, agent, action, detail FROM history WHERE iri = ? ORDER BY id", (iri,))
        return [HistoryEntry(**dict(r)) for r in rows]

    def latest_change(self) -> tuple[int, str]:
        """(id, time) of the newest history row: every change to a record writes one (0, "" if none)."""
        row = self._db.execute("SELECT id, at FROM history ORDER BY id DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, "")

    def count_by_status(self) -> dict[str, int]:
        rows = self._db.execute("SELECT status, COUNT(*) AS n FROM records GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def iris_with_status(self, status: RecordStatus) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT iri FROM records WHERE status = ?", (status.value,))}

    def close(self) -> None:
        self._db.close()
