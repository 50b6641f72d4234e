"""SQLite plumbing shared by every module that keeps tables in a SQLite file (ledger.sqlite and its
neighbours): one way to open a connection and one way to run a transaction.

- `SharedConnection`: a long-lived connection that the threads of a process share, with the lock that
  serialises them (the ledger, harvest sources, link statuses, webhooks); `open_connection` opens one
  without the lock (accounts: single statements only).
- `connect`: a short-lived connection of one's own, closed on leaving (rate limits, alerts, guidance
  requests, vocabulary proposals, mapping checks): safe from any thread, and never inside a transaction
  someone else holds on a shared connection.
- `ensure_schema`: a module's tables, created once per process.
- `transaction`: BEGIN IMMEDIATE … COMMIT, ROLLBACK on any exception. IMMEDIATE takes the write lock
  at once, so a read-then-write inside it cannot be overtaken by another writer.

Connections are in autocommit mode (`isolation_level=None`): a statement outside `transaction` commits
on its own. Rows come back as `sqlite3.Row` (by name or by position).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Literal

#: How long a statement waits for another connection's write lock before failing with "database is locked".
BUSY_TIMEOUT_SECONDS = 10.0

#: PRAGMA synchronous levels: FULL where an acknowledged write must survive power loss, NORMAL where
#: what is written can be rebuilt from elsewhere.
Synchronous = Literal["NORMAL", "FULL"]


def _configure(db: sqlite3.Connection, synchronous: Synchronous | None) -> None:
    db.row_factory = sqlite3.Row
    if synchronous is not None:
        if synchronous not in ("NORMAL", "FULL"):  # the level is formatted into the pragma
            raise ValueError(f"unknown synchronous level {synchronous!r}")
        db.execute(f"PRAGMA synchronous={synchronous}")


@contextmanager
def connect(
    path: Path, *, timeout: float = BUSY_TIMEOUT_SECONDS, synchronous: Synchronous | None = None
) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to the database at `path`, closed on leaving (safe to use from any thread)."""
    db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    try:
        _configure(db, synchronous)
        yield db
    finally:
        db.close()


_schemas_made: set[tuple[str, str]] = set()


def ensure_schema(path: Path, schema: str) -> None:
    """Run `schema` (a script of CREATE … IF NOT EXISTS statements) on the database at `path`, once per process."""
    key = (str(path), schema)
    if key not in _schemas_made:
        with connect(path) as db:
            db.executescript(schema)
        _schemas_made.add(key)


@contextmanager
def transaction(
    db: sqlite3.Connection, lock: AbstractContextManager[object] | None = None
) -> Iterator[sqlite3.Connection]:
    """One atomic unit on `db` (in autocommit mode): commit on success, roll back on any exception.
    `lock`, when given, is held throughout (SQLite has one transaction per connection)."""
    with lock if lock is not None else nullcontext():
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


def open_connection(path: Path, *, synchronous: Synchronous | None = None) -> sqlite3.Connection:
    """A long-lived connection that the threads of a process may share (serialise its transactions, e.g. with
    `SharedConnection`). WAL lets readers in other connections and processes go on while one writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    _configure(db, synchronous)
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
    return db


class SharedConnection:
    """A long-lived connection shared by the threads of a process, and the re-entrant lock that serialises them."""

    def __init__(self, path: Path, *, synchronous: Synchronous | None = None) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.db = open_connection(path, synchronous=synchronous)

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic unit under the lock: commit on success, roll back on any exception."""
        return transaction(self.db, self.lock)

    def rows(self, sql: str, params: Iterable[object] = ()) -> list[sqlite3.Row]:
        """All rows of one query, read under the lock."""
        with self.lock:
            return self.db.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        with self.lock:
            self.db.close()
