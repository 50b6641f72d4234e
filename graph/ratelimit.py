"""Rate limits for public forms (alert subscriptions, guidance requests), shared by every process.

Attempts are counted per key ("ip:<address>", "email:<address>") in a sliding window, in a table of
the ledger database, so the limit holds across web workers and restarts. Old attempts are pruned as
new ones are counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from graph.sqlite import connect, ensure_schema, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS form_attempts (
    form TEXT NOT NULL,   -- which form: alerts | guidance
    key  TEXT NOT NULL,   -- "ip:<address>" or "email:<address>"
    at   REAL NOT NULL    -- seconds since 1970
);
CREATE INDEX IF NOT EXISTS form_attempts_key ON form_attempts (form, key, at);
"""


@dataclass(frozen=True)
class Limit:
    """At most `count` attempts per `window` seconds for one key."""

    count: int
    window: float


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many attempts; try again in {retry_after} s")
        self.retry_after = retry_after


class RateLimiter:
    def __init__(self, path: Path, form: str) -> None:
        self.path = path
        self.form = form
        ensure_schema(path, SCHEMA)

    def hit(self, limits: dict[str, Limit], *, now: float | None = None) -> None:
        """Count one attempt for each key, or raise RateLimited (counting nothing) if one key is over its limit."""
        moment = time.time() if now is None else now
        with connect(self.path) as db, transaction(db):
            longest = max((limit.window for limit in limits.values()), default=0.0)
            db.execute("DELETE FROM form_attempts WHERE form = ? AND at < ?", (self.form, moment - longest))
            wait = 0.0
            for key, limit in limits.items():
                rows = db.execute(
                    "SELECT at FROM form_attempts WHERE form = ? AND key = ? AND at >= ? ORDER BY at",
                    (self.form, key, moment - limit.window),
                ).fetchall()
                if len(rows) >= limit.count:
                    # Free again when the oldest attempt inside the window leaves it.
                    wait = max(wait, rows[len(rows) - limit.count][0] + limit.window - moment)
            if wait <= 0:
                db.executemany(
                    "INSERT INTO form_attempts (form, key, at) VALUES (?, ?, ?)",
                    [(self.form, key, moment) for key in limits],
                )
        if wait > 0:  # raised after the commit: the pruning above is kept
            raise RateLimited(max(1, int(wait + 0.999)))
