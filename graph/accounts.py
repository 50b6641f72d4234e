"""API tokens with roles: who may write, and who wrote.

Reads are public; writes need a token with a role. A token is shown once when created and stored
only as a SHA-256 hash (tokens are 256 random bits, so a fast hash is safe; passwords, which people
choose, will get a slow KDF). A token looks like `amv_<id>_<secret>`: the id finds the row, the
secret is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from graph.ledger import now

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id       TEXT PRIMARY KEY,
    name     TEXT NOT NULL,
    role     TEXT NOT NULL,
    hash     TEXT NOT NULL,
    created  TEXT NOT NULL,
    revoked  TEXT
);
"""


class Role(StrEnum):
    contributor = "contributor"
    editor = "editor"
    admin = "admin"

    def at_least(self, other: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True)
class Principal:
    """Who is making a request: the token's name and role."""

    token_id: str
    name: str
    role: Role

    @property
    def agent(self) -> str:
        return f"token:{self.name}"


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    created: str
    revoked: str | None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Accounts:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(SCHEMA)

    def create_token(self, name: str, role: Role) -> str:
        """Create a token and return it; this is the only time the secret is available."""
        if not name.strip():
            raise ValueError("a token needs a name (who or what uses it)")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._db.execute(
            "INSERT INTO tokens (id, name, role, hash, created) VALUES (?, ?, ?, ?, ?)",
            (token_id, name.strip(), role.value, _hash(secret), now()),
        )
        return f"amv_{token_id}_{secret}"

    def authenticate(self, token: str) -> Principal | None:
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != "amv" or not token_id or not secret:
            return None
        row = self._db.execute(
            "SELECT name, role, hash FROM tokens WHERE id = ? AND revoked IS NULL", (token_id,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row[2], _hash(secret)):
            return None
        return Principal(token_id, row[0], Role(row[1]))

    def revoke(self, token_id: str) -> bool:
        cursor = self._db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now(), token_id))
        return cursor.rowcount == 1

    def tokens(self) -> list[TokenInfo]:
        rows = self._db.execute("SELECT id, name, role, created, revoked FROM tokens ORDER BY created")
        return [TokenInfo(r[0], r[1], Role(r[2]), r[3], r[4]) for r in rows]

    def close(self) -> None:
        self._db.close()
