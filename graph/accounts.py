"""People and machines with roles: who may write, and who wrote.

Reads are public; writes need an API token (machines) or a login session (people), each with a
role: contributor < editor < admin.

- Tokens are shown once when created and stored only as a SHA-256 hash (they are 256 random bits,
  so a fast hash is safe). A token looks like `amv_<id>_<secret>`: the id finds the row, the secret
  is compared in constant time.
- Passwords, which people choose, are hashed with Argon2id (argon2-cffi's defaults, rehashed when
  those change). Failed logins are counted per account and per client address; too many in the
  window block further attempts for a while.
- Sessions are random 256-bit ids kept hashed, with their own CSRF token and an expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from graph.ledger import now
from graph.sqlite import open_connection

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12
HASHER = PasswordHasher()

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    email     TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    role      TEXT NOT NULL,
    password  TEXT NOT NULL,
    created   TEXT NOT NULL,
    disabled  TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id       TEXT PRIMARY KEY,      -- SHA-256 of the session secret
    email    TEXT NOT NULL,
    csrf     TEXT NOT NULL,
    expires  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key  TEXT NOT NULL,             -- "account:<email>" or "client:<address>"
    at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);
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
    """Who is making a request: a person (by e-mail) or a token (by its name), with a role."""

    id: str  # the e-mail of a person, the id of a token
    name: str
    role: Role
    kind: str = "token"  # token | user
    #: The actor (organisation) they act for, when their account or token is linked to one: they
    #: may then also revise that actor's records, and forms name it as publisher or organiser.
    actor: str | None = None

    @property
    def agent(self) -> str:
        """How the history names them."""
        return f"user:{self.id}" if self.kind == "user" else f"token:{self.name}"


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str


class LoginRefused(Exception):
    """Wrong credentials, or too many failures (then `retry_after` says how long to wait)."""

    def __init__(self, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


SESSION_SECONDS = 8 * 3600
FAILURE_WINDOW = 15 * 60
MAX_FAILURES = 5


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
        self._db = open_connection(path, synchronous="FULL")
        self._db.executescript(SCHEMA)
        for table in ("users", "tokens"):  # accounts made before actors could be linked
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if "actor" not in columns:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN actor TEXT")

    def create_token(self, name: str, role: Role, actor: str | None = None) -> str:
        """Create a token and return it; this is the only time the secret is available. `actor`: the IRI
        of the actor (organisation) the token acts for."""
        if not name.strip():
            raise ValueError("a token needs a name (who or what uses it)")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        self._db.execute(
            "INSERT INTO tokens (id, name, role, hash, created, actor) VALUES (?, ?, ?, ?, ?, ?)",
            (token_id, name.strip(), role.value, _hash(secret), now(), actor),
        )
        return f"amv_{token_id}_{secret}"

    def authenticate(self, token: str) -> Principal | None:
        prefix, _, rest = token.partition("_")
        token_id, _, secret = rest.partition("_")
        if prefix != "amv" or not token_id or not secret:
            return None
        row = self._db.execute(
            "SELECT name, role, hash, actor FROM tokens WHERE id = ? AND revoked IS NULL", (token_id,)
        ).fetchone()
        if row is None or not hmac.compare_digest(row[2], _hash(secret)):
            return None
        return Principal(token_id, row[0], Role(row[1]), actor=row[3])

    # -- people ----------------------------------------------------------------------------

    def add_user(self, email: str, name: str, role: Role, password: str, actor: str | None = None) -> None:
        email = email.strip().lower()
        if not EMAIL.match(email):
            raise ValueError(f"not an e-mail address: {email!r}")
        if not name.strip():
            raise ValueError("a user needs a name")
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
        try:
            self._db.execute(
                "INSERT INTO users (email, name, role, password, created, actor) VALUES (?, ?, ?, ?, ?, ?)",
                (email, name.strip(), role.value, HASHER.hash(password), now(), actor),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"a user {email} exists already") from None

    def people(self, at_least: Role = Role.contributor) -> list[Principal]:
        """People who can log in with at least a role (e.g. the editors a guidance request can be assigned to)."""
        rows = self._db.execute("SELECT email, name, role FROM users WHERE disabled IS NULL ORDER BY name, email")
        people = [Principal(r[0], r[1], Role(r[2]), kind="user") for r in rows]
        return [p for p in people if p.role.at_least(at_least)]

    def login(self, email: str, password: str, client: str) -> tuple[str, Session]:
        """Check a password (rate-limited per account and per client) and open a session.

        Returns the session secret (the cookie value; stored only hashed) and the session."""
        email = email.strip().lower()
        keys = (f"account:{email}", f"client:{client}")
        cutoff = time.time() - FAILURE_WINDOW
        self._db.execute("DELETE FROM login_failures WHERE at < ?", (cutoff,))
        for key in keys:
            rows = self._db.execute("SELECT at FROM login_failures WHERE key = ? ORDER BY at", (key,)).fetchall()
            if len(rows) >= MAX_FAILURES:
                wait = int(rows[0][0] + FAILURE_WINDOW - time.time()) + 1
                raise LoginRefused("Too many failed logins; try again later.", retry_after=max(wait, 1))
        row = self._db.execute(
            "SELECT name, role, password, actor FROM users WHERE email = ? AND disabled IS NULL", (email,)
        ).fetchone()
        stored = row[2] if row else HASHER.hash("timing equaliser")
        try:
            HASHER.verify(stored, password)
            ok = row is not None
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            for key in keys:
                self._db.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, time.time()))
            raise LoginRefused("Wrong e-mail or password.")
        if HASHER.check_needs_rehash(stored):
            self._db.execute("UPDATE users SET password = ? WHERE email = ?", (HASHER.hash(password), email))
        self._db.execute("DELETE FROM login_failures WHERE key = ?", (keys[0],))
        secret = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        self._db.execute(
            "INSERT INTO sessions (id, email, csrf, expires) VALUES (?, ?, ?, ?)",
            (_hash(secret), email, csrf, time.time() + SESSION_SECONDS),
        )
        return secret, Session(Principal(email, row[0], Role(row[1]), kind="user", actor=row[3]), csrf)

    def session(self, secret: str) -> Session | None:
        row = self._db.execute(
            "SELECT s.email, s.csrf, u.name, u.role, u.actor FROM sessions s JOIN users u ON u.email = s.email "
            "WHERE s.id = ? AND s.expires > ? AND u.disabled IS NULL",
            (_hash(secret), time.time()),
        ).fetchone()
        if row is None:
            return None
        return Session(Principal(row[0], row[2], Role(row[3]), kind="user", actor=row[4]), row[1])

    def end_session(self, secret: str) -> None:
        self._db.execute("DELETE FROM sessions WHERE id = ?", (_hash(secret),))

    def revoke(self, token_id: str) -> bool:
        cursor = self._db.execute("UPDATE tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", (now(), token_id))
        return cursor.rowcount == 1

    def tokens(self) -> list[TokenInfo]:
        rows = self._db.execute("SELECT id, name, role, created, revoked FROM tokens ORDER BY created")
        return [TokenInfo(r[0], r[1], Role(r[2]), r[3], r[4]) for r in rows]

    def close(self) -> None:
        self._db.close()
