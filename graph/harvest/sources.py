"""The configured harvest sources, what each run did, and every entry ever harvested (the memory that
makes re-running add nothing). Three tables in ledger.sqlite, on a connection of their own (the CLI,
the web page and the scheduled job use them from different threads and processes)."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from graph.iris import RecordKind
from graph.ledger import now
from graph.sqlite import SharedConnection

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS harvest_sources (
    name            TEXT PRIMARY KEY,
    type            TEXT NOT NULL,     -- rss | atom | sitemap | jsonld-page | oai-pmh | openalex | crossref
    url             TEXT NOT NULL,
    kind            TEXT NOT NULL,     -- item | event: what its entries become (schema:Event is an event anyway)
    actor           TEXT,              -- the actor IRI: publisher of its items, organiser of its events
    concepts        TEXT NOT NULL,     -- JSON list of concept IRIs (queries of openalex/crossref; suggestions)
    default_type    TEXT,              -- knowledge type (items) or event type (events) code, when not guessed
    every_hours     REAL NOT NULL,     -- 0: only when run by hand
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    last_run_at     TEXT,
    last_success_at TEXT,
    last_status     TEXT,              -- ok | not_modified | error
    last_error      TEXT,
    etag            TEXT,
    last_modified   TEXT,
    runs            INTEGER NOT NULL DEFAULT 0,
    queued_total    INTEGER NOT NULL DEFAULT 0,
    running_since   TEXT               -- a claim, so that one run of a source happens at a time
);
CREATE TABLE IF NOT EXISTS harvest_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    trigger     TEXT NOT NULL,         -- cli | schedule | web
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT,                  -- ok | not_modified | error
    found       INTEGER NOT NULL DEFAULT 0,
    queued      INTEGER NOT NULL DEFAULT 0,
    skipped     INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    notes       TEXT                   -- JSON list of problems with single entries
);
CREATE INDEX IF NOT EXISTS harvest_runs_source ON harvest_runs (source, id);
CREATE TABLE IF NOT EXISTS harvest_entries (
    key           TEXT PRIMARY KEY,    -- doi:… | oai:… | url:… | page:… (a sitemap page fetched)
    source        TEXT NOT NULL,
    status        TEXT NOT NULL,       -- queued | duplicate | refused | page
    submission_id TEXT,
    iri           TEXT,                -- the record it was queued as, or the published record it duplicates
    title         TEXT,
    suggestions   TEXT,                -- JSON list of Suggestion.as_json()
    detail        TEXT,                -- why it was skipped or refused
    at            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS harvest_entries_submission ON harvest_entries (submission_id);
"""

#: A run that claimed its source this long ago and never finished is taken to have died.
RUN_LEASE = timedelta(hours=1)
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


class SourceType(StrEnum):
    rss = "rss"
    atom = "atom"
    sitemap = "sitemap"
    jsonld_page = "jsonld-page"
    oai_pmh = "oai-pmh"
    openalex = "openalex"
    crossref = "crossref"

    @property
    def incremental(self) -> bool:
        """Asked for what is new since a day (the others are fetched whole, conditionally)."""
        return self in (SourceType.oai_pmh, SourceType.openalex, SourceType.crossref)


@dataclass
class HarvestSource:
    name: str
    type: SourceType
    url: str
    kind: RecordKind = RecordKind.item
    actor: str | None = None
    concepts: list[str] = field(default_factory=list)
    default_type: str | None = None
    every_hours: float = 24.0
    created_at: str = ""
    created_by: str = ""
    last_run_at: str | None = None
    last_success_at: str | None = None
    last_status: str | None = None
    last_error: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    runs: int = 0
    queued_total: int = 0
    running_since: str | None = None

    @property
    def agent(self) -> str:
        """Who its submissions are recorded as."""
        return f"harvest:{self.name}"

    def due(self, at: datetime | None = None) -> bool:
        if self.every_hours <= 0:
            return False
        if not self.last_run_at:
            return True
        return parse_time(self.last_run_at) + timedelta(hours=self.every_hours) <= (at or datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type.value,
            "url": self.url,
            "kind": self.kind.value,
            "actor": self.actor,
            "concepts": self.concepts,
            "defaultType": self.default_type,
            "everyHours": self.every_hours,
            "createdAt": self.created_at,
            "createdBy": self.created_by,
            "lastRunAt": self.last_run_at,
            "lastSuccessAt": self.last_success_at,
            "lastStatus": self.last_status,
            "lastError": self.last_error,
            "runs": self.runs,
            "queuedTotal": self.queued_total,
            "running": self.running_since is not None,
        }


@dataclass(frozen=True)
class HarvestRun:
    id: int
    source: str
    trigger: str
    started_at: str
    finished_at: str | None
    status: str | None
    found: int
    queued: int
    skipped: int
    error: str | None
    notes: list[str]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "trigger": self.trigger,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "status": self.status,
            "found": self.found,
            "queued": self.queued,
            "skipped": self.skipped,
            "error": self.error,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class EntryRecord:
    """What became of one harvested entry (a row of harvest_entries)."""

    key: str
    source: str
    status: str
    submission_id: str | None
    iri: str | None
    title: str | None
    suggestions: list[dict[str, str]]
    detail: str | None
    at: str


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class HarvestSources:
    def __init__(self, path: Path) -> None:
        self._sql = SharedConnection(path)
        self._sql.db.executescript(SCHEMA_SQL)

    # -- sources -------------------------------------------------------------------------------

    @staticmethod
    def _source(row: sqlite3.Row) -> HarvestSource:
        data = dict(row)
        data["type"] = SourceType(data["type"])
        data["kind"] = RecordKind(data["kind"])
        data["concepts"] = json.loads(data["concepts"] or "[]")
        return HarvestSource(**data)

    def add(self, source: HarvestSource) -> HarvestSource:
        """Store a new source; ValueError when the name is taken."""
        source.created_at = source.created_at or now()
        try:
            with self._sql.transaction() as db:
                db.execute(
                    """INSERT INTO harvest_sources (name, type, url, kind, actor, concepts, default_type, every_hours,
                                                    created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (
                        source.name,
                        source.type.value,
                        source.url,
                        source.kind.value,
                        source.actor,
                        json.dumps(source.concepts),
                        source.default_type,
                        source.every_hours,
                        source.created_at,
                        source.created_by,
                    ),
                )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"a source named {source.name!r} exists already") from exc
        return source

    def get(self, name: str) -> HarvestSource | None:
        rows = self._sql.rows("SELECT * FROM harvest_sources WHERE name = ?", (name,))
        return self._source(rows[0]) if rows else None

    def all(self) -> list[HarvestSource]:
        return [self._source(r) for r in self._sql.rows("SELECT * FROM harvest_sources ORDER BY name")]

    def remove(self, name: str) -> bool:
        """Forget a source (what it queued stays in the review queue; its entries stay known)."""
        with self._sql.transaction() as db:
            return db.execute("DELETE FROM harvest_sources WHERE name = ?", (name,)).rowcount > 0

    def claim(self, name: str) -> bool:
        """Mark the source as running, unless a run of it is under way (in any process)."""
        stale = (datetime.now(UTC) - RUN_LEASE).isoformat().replace("+00:00", "Z")
        with self._sql.transaction() as db:
            cursor = db.execute(
                "UPDATE harvest_sources SET running_since = ? WHERE name = ? "
                "AND (running_since IS NULL OR running_since < ?)",
                (now(), name, stale),
            )
            return cursor.rowcount == 1

    def finish(
        self,
        source: HarvestSource,
        *,
        status: str,
        error: str | None,
        etag: str | None,
        last_modified: str | None,
        queued: int,
        started_at: str,
    ) -> None:
        with self._sql.transaction() as db:
            db.execute(
                """UPDATE harvest_sources SET running_since = NULL, last_run_at = ?, last_status = ?, last_error = ?,
                     last_success_at = CASE WHEN ? = 'error' THEN last_success_at ELSE ? END,
                     etag = ?, last_modified = ?, runs = runs + 1, queued_total = queued_total + ?
                   WHERE name = ?""",
                (started_at, status, error, status, started_at, etag, last_modified, queued, source.name),
            )

    def release(self, name: str) -> None:
        with self._sql.transaction() as db:
            db.execute("UPDATE harvest_sources SET running_since = NULL WHERE name = ?", (name,))

    # -- runs ----------------------------------------------------------------------------------

    def start_run(self, source: str, trigger: str) -> tuple[int, str]:
        at = now()
        with self._sql.transaction() as db:
            cursor = db.execute(
                "INSERT INTO harvest_runs (source, trigger, started_at) VALUES (?, ?, ?)", (source, trigger, at)
            )
            return int(cursor.lastrowid or 0), at

    def finish_run(
        self, run_id: int, *, status: str, found: int, queued: int, skipped: int, error: str | None, notes: list[str]
    ) -> None:
        with self._sql.transaction() as db:
            db.execute(
                """UPDATE harvest_runs SET finished_at = ?, status = ?, found = ?, queued = ?, skipped = ?, error = ?,
                     notes = ? WHERE id = ?""",
                (now(), status, found, queued, skipped, error, json.dumps(notes, ensure_ascii=False), run_id),
            )

    def runs(self, source: str | None = None, limit: int = 20) -> list[HarvestRun]:
        where, params = ("WHERE source = ?", [source]) if source else ("", [])
        rows = self._sql.rows(f"SELECT * FROM harvest_runs {where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return [HarvestRun(**{**dict(r), "notes": json.loads(r["notes"] or "[]")}) for r in rows]

    # -- entries -------------------------------------------------------------------------------

    def known(self, keys: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._sql.rows(f"SELECT key FROM harvest_entries WHERE key IN ({','.join('?' * len(chunk))})", chunk)
            found |= {r["key"] for r in rows}
        return found

    def remember(self, rows: Iterable[EntryRecord]) -> None:
        with self._sql.transaction() as db:
            db.executemany(
                """INSERT OR IGNORE INTO harvest_entries (key, source, status, submission_id, iri, title, suggestions,
                                                          detail, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        r.key,
                        r.source,
                        r.status,
                        r.submission_id,
                        r.iri,
                        r.title,
                        json.dumps(r.suggestions, ensure_ascii=False),
                        r.detail,
                        r.at,
                    )
                    for r in rows
                ],
            )

    def for_submissions(self, submission_ids: Iterable[str]) -> dict[str, EntryRecord]:
        """The harvested entry behind each of these submissions (those that came from harvesting)."""
        wanted = list(dict.fromkeys(submission_ids))
        found: dict[str, EntryRecord] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._sql.rows(
                f"SELECT * FROM harvest_entries WHERE submission_id IN ({','.join('?' * len(chunk))})", chunk
            )
            for row in rows:
                found[row["submission_id"]] = EntryRecord(
                    **{**dict(row), "suggestions": json.loads(row["suggestions"] or "[]")}
                )
        return found

    def entries(self, source: str, limit: int = 50) -> list[EntryRecord]:
        rows = self._sql.rows(
            "SELECT * FROM harvest_entries WHERE source = ? AND status != 'page' ORDER BY at DESC, rowid DESC LIMIT ?",
            (source, limit),
        )
        return [EntryRecord(**{**dict(r), "suggestions": json.loads(r["suggestions"] or "[]")}) for r in rows]

    def close(self) -> None:
        self._sql.close()
