"""Writes that touch both the store and the ledger, made one unit even across `kill -9`.

The store and the ledger (SQLite) cannot share a transaction. So a write goes:

1. note how to undo the store change, in the ledger, committed (`begin`);
2. apply the change to the store;
3. commit the ledger change together with the removal of that note (`finish`) — the moment the
   write is acknowledged.

If the process dies between 1 and 3, the note is still there: the next start undoes the store
change (`recover`), and store and ledger agree again on the state before the write, which was never
acknowledged. If it dies after 3, both hold the write. Undo updates are written so that running them
twice does no harm.
"""

from __future__ import annotations

import sqlite3

from graph.ledger import Ledger, now
from graph.store import Store

SCHEMA = """CREATE TABLE IF NOT EXISTS store_undo (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created TEXT NOT NULL,
    undo TEXT NOT NULL
)"""


class UndoLog:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        ledger.db.execute(SCHEMA)

    def begin(self, undo: str) -> int:
        """Note how to undo a store change about to be made; committed before the change is."""
        with self.ledger.transaction() as db:
            cursor = db.execute("INSERT INTO store_undo (created, undo) VALUES (?, ?)", (now(), undo))
            return int(cursor.lastrowid or 0)

    def finish(self, db: sqlite3.Connection, entry: int) -> None:
        """Inside the ledger transaction that records the change: the store change is now for good."""
        db.execute("DELETE FROM store_undo WHERE id = ?", (entry,))

    def cancel(self, entry: int, store: Store | None = None) -> None:
        """The write did not go through: undo the store change (if it may have been made) and forget it."""
        if store is not None:
            undo = self.ledger.db.execute("SELECT undo FROM store_undo WHERE id = ?", (entry,)).fetchone()
            if undo is not None:
                store.update(undo[0])
        with self.ledger.transaction() as db:
            db.execute("DELETE FROM store_undo WHERE id = ?", (entry,))

    def pending(self) -> int:
        return int(self.ledger.db.execute("SELECT count(*) FROM store_undo").fetchone()[0])

    def recover(self, store: Store) -> int:
        """At start: undo every store change whose write was never acknowledged, newest first."""
        rows = self.ledger.db.execute("SELECT id, undo FROM store_undo ORDER BY id DESC").fetchall()
        for entry, undo in rows:
            store.update(undo)
            with self.ledger.transaction() as db:
                db.execute("DELETE FROM store_undo WHERE id = ?", (entry,))
        return len(rows)
