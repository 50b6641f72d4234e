"""Webhooks for partner systems: a signed JSON-LD notification for every published, updated or withdrawn
record that matches a partner's filter, delivered from a persistent outbox with retries.

**Nothing is lost.** Every change to a record writes a row to the ledger's `history` table in the same
SQLite transaction as the change itself (`Records.publish` / `withdraw`: actions `created`,
`replaced`, `withdrawn`). The outbox is filled from that history, in order, behind a persistent cursor
(`webhook_cursor`): `sync()` reads the rows after the cursor, writes one outbox row per matching hook
and moves the cursor — all in one transaction, so a row is enqueued exactly once (the outbox also has
UNIQUE (hook, history_id)). `sync()` runs in the `Records.listeners` callback (right after the change
commits, fast: a few small SQLite statements) and again on every poll of the delivery worker. So if
the process dies between the record's commit and the listener, or the listener fails, or the change
was made by another process (`amv load` while `amv serve` runs), the next sync picks it up from the
history: the write is never failed and its notification never lost.

**Matching.** A hook's filter has `kinds` (record types), `concepts` (concept IRIs; a record tagged
with a narrower concept matches too) and `actors` (actor IRIs: records that link to the actor —
publisher, creator, organiser, offered by — and the actor's own record). Each given criterion must
match (any of its values); an empty filter matches everything. For a withdrawal, the record's links
as last published are used (`webhook_record_refs`), since its graph is gone.

**Notifications** are ActivityStreams 2.0 activities in JSON-LD: `{"@context": [AS2, {...}], "id":
"urn:uuid:…", "type": "Create" | "Update" | "Delete", "published": <when the change was committed>,
"actor": <this service>, "object": <the record's JSON-LD, with our @context> | a Tombstone}`. The
body is fixed when the change is enqueued; each attempt sends exactly the same bytes.

**Signature.** Each POST carries `X-AMV-Timestamp: <unix seconds>` and
`X-AMV-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body, keyed with the hook's secret>`,
plus `X-AMV-Event` (the activity id, the same on every retry: use it to drop duplicates) and
`X-AMV-Delivery`. To verify: recompute the HMAC over the timestamp header, a dot and the raw body bytes,
compare in constant time, and refuse timestamps older than a few minutes (replay). `verify()` below
does exactly that.

**Delivery** (`DeliveryWorker`, a thread in each web worker): per hook strictly in order — a hook's
next notification waits until the one before it was delivered or given up — with exponential back-off
(`webhook_backoff` seconds, doubling, at most `webhook_backoff_max`) and, after `webhook_max_attempts`
failed attempts, status `failed` (redeliverable from the admin page or the API; it then goes first
again). Only a 2xx answer without redirects counts as delivered. A delivery in progress holds a lease
in the outbox row, so several web workers never send the same notification at once; a lease left by a
process that died expires after `LEASE_SECONDS` and the delivery resumes. Delivery is at least once:
a partner that answered 2xx but whose answer we never saw gets it again, with the same `X-AMV-Event`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from pyoxigraph import NamedNode, Triple

from graph.iris import RecordKind
from graph.ledger import RecordStatus, now
from graph.outbound import OutboundError, OutboundPolicy, OutboundRefused, fetch
from graph.serialize import serialize
from graph.sqlite import SharedConnection

if TYPE_CHECKING:
    from graph.services import Services

log = logging.getLogger("amv.webhooks")

ACTIVITY_STREAMS = "https://www.w3.org/ns/activitystreams"
CONTENT_TYPE = f'application/ld+json; profile="{ACTIVITY_STREAMS}"'
SIGNATURE_HEADER = "X-AMV-Signature"
TIMESTAMP_HEADER = "X-AMV-Timestamp"
#: A lease longer than any one attempt can take (the outbound time limit per hop, with redirects).
LEASE_SECONDS = 90.0
MIN_SECRET = 16
MAX_FILTER_VALUES = 200
SYNC_BATCH = 500

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS webhooks (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,     -- needed in clear to sign; shown to the partner once
    filter       TEXT NOT NULL,     -- JSON {"kinds": [...], "concepts": [...], "actors": [...]}
    owner        TEXT NOT NULL,     -- the agent that registered it (token name / e-mail)
    description  TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_outbox (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    hook          TEXT NOT NULL,
    history_id    INTEGER NOT NULL,  -- the ledger history row this notifies about
    event         TEXT NOT NULL,     -- the activity id (urn:uuid:…), the same for every hook and attempt
    activity      TEXT NOT NULL,     -- Create | Update | Delete
    record        TEXT NOT NULL,
    body          BLOB NOT NULL,
    status        TEXT NOT NULL,     -- pending | delivered | failed
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  REAL NOT NULL,     -- unix time
    lease_until   REAL,              -- unix time; a worker is delivering it
    last_status   INTEGER,
    last_error    TEXT,
    created       TEXT NOT NULL,
    delivered_at  TEXT,
    UNIQUE (hook, history_id)
);
CREATE INDEX IF NOT EXISTS webhook_outbox_queue ON webhook_outbox (hook, status, id);
CREATE TABLE IF NOT EXISTS webhook_attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery  INTEGER NOT NULL,
    at        TEXT NOT NULL,
    status    INTEGER,
    error     TEXT,
    seconds   REAL
);
CREATE INDEX IF NOT EXISTS webhook_attempts_delivery ON webhook_attempts (delivery, id);
CREATE TABLE IF NOT EXISTS webhook_cursor (
    name        TEXT PRIMARY KEY,
    history_id  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_record_refs (
    iri   TEXT PRIMARY KEY,
    refs  TEXT NOT NULL              -- JSON list of the IRIs the record's own statements link to
);
"""


class Activity(StrEnum):
    create = "Create"
    update = "Update"
    delete = "Delete"


#: Ledger history actions that change the public dataset, and the activity each one is.
ACTIONS = {"created": Activity.create, "replaced": Activity.update, "withdrawn": Activity.delete}


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookRefused(Exception):
    """A registration or action that was not done; `status` is the HTTP status that fits."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []


def _field_error(name: str, en: str, da: str) -> dict[str, Any]:
    return {"field": name, "messages": {"en": en, "da": da}}


@dataclass(frozen=True)
class HookFilter:
    kinds: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()

    def as_json(self) -> dict[str, list[str]]:
        return {"kinds": list(self.kinds), "concepts": list(self.concepts), "actors": list(self.actors)}

    def matches(self, record: str, kind: str, refs: set[str], ancestors: set[str]) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if self.concepts and not (set(self.concepts) & (refs | ancestors)):
            return False
        return not self.actors or bool(set(self.actors) & (refs | {record}))


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    owner: str
    filter: HookFilter
    description: str
    created: str
    counts: Mapping[str, int] = field(default_factory=dict)
    last_delivery: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "owner": self.owner,
            "description": self.description,
            "filter": self.filter.as_json(),
            "created": self.created,
            "deliveries": {s.value: self.counts.get(s.value, 0) for s in DeliveryStatus},
            "lastDelivered": self.last_delivery,
        }


@dataclass(frozen=True)
class Attempt:
    at: str
    status: int | None
    error: str | None
    seconds: float | None


@dataclass(frozen=True)
class Delivery:
    id: int
    hook: str
    event: str
    activity: str
    record: str
    status: DeliveryStatus
    attempts: int
    next_attempt: float
    last_status: int | None
    last_error: str | None
    created: str
    delivered_at: str | None
    log: tuple[Attempt, ...] = ()

    @property
    def next_attempt_at(self) -> str | None:
        if self.status != DeliveryStatus.pending:
            return None
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.next_attempt))

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "type": self.activity,
            "record": self.record,
            "status": self.status.value,
            "attempts": self.attempts,
            "nextAttempt": self.next_attempt_at,
            "lastStatus": self.last_status,
            "lastError": self.last_error,
            "created": self.created,
            "deliveredAt": self.delivered_at,
            "log": [{"at": a.at, "status": a.status, "error": a.error, "seconds": a.seconds} for a in self.log],
        }


@dataclass(frozen=True)
class Claimed:
    """A delivery a worker holds the lease of: everything needed to send it."""

    id: int
    hook: str
    url: str
    secret: str
    event: str
    body: bytes
    attempts: int


# -- signing -----------------------------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `<timestamp>.<body>`: the signature partners check."""
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance: float = 300.0) -> bool:
    """What a partner does with a notification: check the signature and that it is recent."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    signature = lowered.get(SIGNATURE_HEADER.lower(), "")
    if not timestamp.isdigit() or not signature.startswith("sha256="):
        return False
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature[len("sha256=") :], sign(secret, timestamp, body))


# -- the service ----------------------------------------------------------------------------------


class Webhooks:
    """Registered hooks, the outbox and delivery, in ledger.sqlite on a connection of their own."""

    def __init__(self, services: Services) -> None:
        self.services = services
        settings = services.settings
        self.policy = OutboundPolicy.from_settings(settings)
        self.max_attempts = max(1, settings.webhook_max_attempts)
        self.backoff = settings.webhook_backoff
        self.backoff_max = settings.webhook_backoff_max
        # Everything written here can be rebuilt from the ledger's history (fsynced there), so a commit
        # lost to a power cut is redone by the next sync: no fsync per notification on the write path.
        self._sql = SharedConnection(settings.ledger_path, synchronous="NORMAL")
        self._sql.db.executescript(SCHEMA_SQL)
        #: Set when there may be something to deliver (a change was enqueued); the worker waits on it.
        self.wake = threading.Event()
        with self._sql.transaction() as db:
            # A deployment starts notifying from now on, not about its whole past.
            db.execute(
                "INSERT OR IGNORE INTO webhook_cursor (name, history_id) "
                "SELECT 'outbox', COALESCE(MAX(id), 0) FROM history"
            )

    @classmethod
    def attach(cls, services: Services) -> Webhooks:
        """The webhooks of a deployment, listening to every record change."""
        hooks = cls(services)
        services.records.listeners.append(hooks.notify)
        batch_listeners = getattr(services.records, "batch_listeners", None)
        if batch_listeners is not None:  # bulk writes notify a whole batch at once
            batch_listeners[hooks.notify] = hooks.notify_many
        return hooks

    # -- registration ---------------------------------------------------------------------

    def parse_filter(self, data: object) -> HookFilter:
        """A filter from the API's JSON; every problem is reported, in Danish and English."""
        if data is None:
            return HookFilter()
        if not isinstance(data, dict):
            raise WebhookRefused(
                422,
                "filter must be an object.",
                [_field_error("filter", "filter must be a JSON object", "filter skal være et JSON-objekt")],
            )
        errors: list[dict[str, Any]] = []
        unknown = sorted(set(data) - {"kinds", "concepts", "actors"})
        if unknown:
            errors.append(
                _field_error(
                    "filter",
                    f"unknown filter fields: {', '.join(unknown)} (use kinds, concepts, actors)",
                    f"ukendte filterfelter: {', '.join(unknown)} (brug kinds, concepts, actors)",
                )
            )

        def strings(name: str) -> list[str]:
            value = data.get(name, [])
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                errors.append(
                    _field_error(
                        f"filter.{name}", f"{name} must be a list of texts", f"{name} skal være en liste af tekster"
                    )
                )
                return []
            if len(value) > MAX_FILTER_VALUES:
                errors.append(
                    _field_error(
                        f"filter.{name}",
                        f"at most {MAX_FILTER_VALUES} values in {name}",
                        f"højst {MAX_FILTER_VALUES} værdier i {name}",
                    )
                )
                return []
            return [v.strip() for v in value]

        kinds = strings("kinds")
        bad_kinds = [k for k in kinds if k not in RecordKind.__members__]
        if bad_kinds:
            allowed = ", ".join(RecordKind.__members__)
            errors.append(
                _field_error(
                    "filter.kinds",
                    f"unknown record types {', '.join(bad_kinds)}; use {allowed}",
                    f"ukendte posttyper {', '.join(bad_kinds)}; brug {allowed}",
                )
            )
        concepts = self._concepts(strings("concepts"), errors)
        actors = self._actors(strings("actors"), errors)
        if errors:
            raise WebhookRefused(422, "The filter is not valid; nothing was registered.", errors)
        return HookFilter(tuple(dict.fromkeys(kinds)), tuple(concepts), tuple(actors))

    def _concepts(self, values: list[str], errors: list[dict[str, Any]]) -> list[str]:
        """Concept IRIs, or `scheme/code` (e.g. `factors/5.1`); each must be a concept we publish."""
        base = self.services.iris.base
        iris: list[str] = []
        for value in values:
            iri = value if value.startswith(("http://", "https://")) else f"{base}vocab/{value.strip('/')}"
            try:
                NamedNode(iri)
            except ValueError:
                iri = ""
            iris.append(iri)
        known: set[str] = set()
        candidates = [NamedNode(i) for i in iris if i]
        if candidates:
            rows = self.services.store.select(self.services.queries("webhook-concepts", concepts=candidates))
            known = {r["concept"].value for r in rows}
        missing = [v for v, i in zip(values, iris, strict=True) if i not in known]
        if missing:
            errors.append(
                _field_error(
                    "filter.concepts",
                    f"no such concept: {', '.join(missing)} (give a concept IRI or scheme/code, e.g. factors/5.1)",
                    f"begrebet findes ikke: {', '.join(missing)} (angiv en begrebs-IRI eller skema/kode,"
                    " fx factors/5.1)",
                )
            )
        return list(dict.fromkeys(i for i in iris if i in known))

    def _actors(self, values: list[str], errors: list[dict[str, Any]]) -> list[str]:
        """Actor IRIs or ids; each must be a published actor."""
        iris_ = self.services.iris
        found: list[str] = []
        missing: list[str] = []
        for value in values:
            iri = value if value.startswith(("http://", "https://")) else iris_.base + f"id/actor/{value}"
            entry = self.services.ledger.get(iri)
            if entry is None or entry.kind != RecordKind.actor.value or entry.status != RecordStatus.published:
                missing.append(value)
            else:
                found.append(iri)
        if missing:
            errors.append(
                _field_error(
                    "filter.actors",
                    f"no published actor {', '.join(missing)} (give an actor IRI or id)",
                    f"ingen udgivet aktør {', '.join(missing)} (angiv en aktørs IRI eller id)",
                )
            )
        return list(dict.fromkeys(found))

    def create(
        self, url: str, hook_filter: HookFilter, *, owner: str, secret: str | None = None, description: str = ""
    ) -> tuple[Webhook, str]:
        """Register a hook; returns it with its secret (generated when not given), shown this once."""
        errors: list[dict[str, Any]] = []
        if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2000:
            errors.append(
                _field_error(
                    "url",
                    "url must be an http:// or https:// address (at most 2000 characters)",
                    "url skal være en http://- eller https://-adresse (højst 2000 tegn)",
                )
            )
        else:
            try:
                self.policy.check(url)
            except OutboundRefused as exc:
                errors.append(
                    _field_error(
                        "url",
                        f"we do not send to this address: {exc.reason}",
                        f"vi sender ikke til denne adresse: {exc.reason}",
                    )
                )
            except OutboundError:
                pass  # the name does not resolve yet; deliveries will retry
        if secret is not None and (not isinstance(secret, str) or len(secret) < MIN_SECRET or len(secret) > 200):
            errors.append(
                _field_error(
                    "secret",
                    f"secret must be text of {MIN_SECRET}–200 characters (or leave it out and we make one)",
                    f"secret skal være tekst på {MIN_SECRET}–200 tegn (eller udelad den, så laver vi en)",
                )
            )
        if not isinstance(description, str) or len(description) > 500:
            errors.append(
                _field_error(
                    "description", "description must be text of at most 500 characters", "description: højst 500 tegn"
                )
            )
        if errors:
            raise WebhookRefused(422, "The webhook is not valid; nothing was registered.", errors)
        secret = secret or secrets.token_urlsafe(32)
        hook = Webhook(
            id=secrets.token_hex(8),
            url=url,
            owner=owner,
            filter=hook_filter,
            description=description,
            created=now(),
        )
        with self._sql.transaction() as db:
            db.execute(
                "INSERT INTO webhooks (id, url, secret, filter, owner, description, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (hook.id, url, secret, json.dumps(hook_filter.as_json()), owner, description, hook.created),
            )
        return hook, secret

    def _hook(self, row: sqlite3.Row, counts: Mapping[str, int] | None = None, last: str | None = None) -> Webhook:
        spec = json.loads(row["filter"])
        return Webhook(
            id=row["id"],
            url=row["url"],
            owner=row["owner"],
            filter=HookFilter(tuple(spec["kinds"]), tuple(spec["concepts"]), tuple(spec["actors"])),
            description=row["description"],
            created=row["created"],
            counts=counts or {},
            last_delivery=last,
        )

    def hooks(self, owner: str | None = None) -> list[Webhook]:
        """Registered hooks with their delivery counts (one owner's, or all)."""
        where, params = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        rows = self._sql.rows(f"SELECT * FROM webhooks {where} ORDER BY created, id", params)
        counts: dict[str, dict[str, int]] = {}
        last: dict[str, str] = {}
        for r in self._sql.rows(
            "SELECT hook, status, COUNT(*) AS n, MAX(delivered_at) AS last FROM webhook_outbox GROUP BY hook, status"
        ):
            counts.setdefault(r["hook"], {})[r["status"]] = r["n"]
            if r["last"]:
                last[r["hook"]] = r["last"]
        return [self._hook(r, counts.get(r["id"], {}), last.get(r["id"])) for r in rows]

    def get(self, hook_id: str) -> Webhook | None:
        return next((h for h in self.hooks() if h.id == hook_id), None)

    def delete(self, hook_id: str) -> bool:
        """Remove a hook and its outbox (nothing more is sent to it)."""
        with self._sql.transaction() as db:
            db.execute(
                "DELETE FROM webhook_attempts WHERE delivery IN (SELECT id FROM webhook_outbox WHERE hook = ?)",
                (hook_id,),
            )
            db.execute("DELETE FROM webhook_outbox WHERE hook = ?", (hook_id,))
            return db.execute("DELETE FROM webhooks WHERE id = ?", (hook_id,)).rowcount > 0

    @staticmethod
    def _delivery(row: sqlite3.Row, attempts: Iterable[sqlite3.Row] = ()) -> Delivery:
        return Delivery(
            id=row["id"],
            hook=row["hook"],
            event=row["event"],
            activity=row["activity"],
            record=row["record"],
            status=DeliveryStatus(row["status"]),
            attempts=row["attempts"],
            next_attempt=row["next_attempt"],
            last_status=row["last_status"],
            last_error=row["last_error"],
            created=row["created"],
            delivered_at=row["delivered_at"],
            log=tuple(Attempt(a["at"], a["status"], a["error"], a["seconds"]) for a in attempts),
        )

    def deliveries(
        self, hook_id: str, *, status: DeliveryStatus | None = None, limit: int = 100, with_log: bool = True
    ) -> list[Delivery]:
        """A hook's notifications, newest first, each with its attempts."""
        where = "AND status = ?" if status else ""
        params: tuple[object, ...] = (hook_id, status.value, limit) if status else (hook_id, limit)
        columns = "id, hook, event, activity, record, status, attempts, next_attempt, last_status, last_error, "
        columns += "created, delivered_at"
        rows = self._sql.rows(
            f"SELECT {columns} FROM webhook_outbox WHERE hook = ? {where} ORDER BY id DESC LIMIT ?", params
        )
        attempts: dict[int, list[sqlite3.Row]] = {}
        if with_log and rows:
            ids = [r["id"] for r in rows]
            for a in self._sql.rows(
                f"SELECT * FROM webhook_attempts WHERE delivery IN ({','.join('?' * len(ids))}) ORDER BY id", ids
            ):
                attempts.setdefault(a["delivery"], []).append(a)
        return [self._delivery(r, attempts.get(r["id"], [])) for r in rows]

    def body(self, delivery_id: int) -> bytes | None:
        rows = self._sql.rows("SELECT body FROM webhook_outbox WHERE id = ?", (delivery_id,))
        return bytes(rows[0]["body"]) if rows else None

    def redeliver(self, hook_id: str, delivery_id: int) -> Delivery:
        """Send a notification again (a failed one, or a delivered one the partner lost), next in line."""
        with self._sql.transaction() as db:
            changed = db.execute(
                "UPDATE webhook_outbox SET status = 'pending', attempts = 0, next_attempt = ?, lease_until = NULL, "
                "delivered_at = NULL WHERE id = ? AND hook = ? AND status != 'pending'",
                (time.time(), delivery_id, hook_id),
            ).rowcount
            row = db.execute(
                "SELECT * FROM webhook_outbox WHERE id = ? AND hook = ?", (delivery_id, hook_id)
            ).fetchone()
        if row is None:
            raise WebhookRefused(404, f"No delivery {delivery_id} of webhook {hook_id}.")
        if not changed:
            raise WebhookRefused(409, "This notification is still waiting to be delivered.")
        self.wake.set()
        return self._delivery(row)

    # -- filling the outbox ------------------------------------------------------------------

    def notify(self, iri: str, triples: list[Triple] | None) -> None:
        """`Records.listeners` callback. Never raises: the change is committed, and anything missed here
        is found in the history by the next sync (see the module docstring)."""
        try:
            if self.sync({iri: triples}):
                self.wake.set()
        except Exception:  # noqa: BLE001 - must never fail the write; the next sync catches up
            log.exception("webhooks: could not enqueue the change of %s now; the delivery worker will", iri)

    def notify_many(self, changes: Mapping[str, list[Triple] | None]) -> None:
        """The batch form of `notify`, after a bulk write: one sync for the whole batch."""
        try:
            if self.sync(changes):
                self.wake.set()
        except Exception:  # noqa: BLE001 - as in `notify`
            log.exception(
                "webhooks: could not enqueue a batch of %d changes now; the delivery worker will", len(changes)
            )

    @staticmethod
    def _refs(iri: str, triples: Iterable[Triple]) -> list[str]:
        return sorted({t.object.value for t in triples if t.subject.value == iri and isinstance(t.object, NamedNode)})

    @staticmethod
    def _remember_refs(db: sqlite3.Connection, iri: str, refs: list[str]) -> None:
        """What a record links to, kept for matching its withdrawal later (its graph is gone by then)."""
        db.execute(
            "INSERT INTO webhook_record_refs (iri, refs) VALUES (?, ?) "
            "ON CONFLICT (iri) DO UPDATE SET refs = excluded.refs",
            (iri, json.dumps(refs)),
        )

    def sync(self, known: Mapping[str, list[Triple] | None] | None = None) -> int:
        """Enqueue notifications for the history rows after the cursor; how many outbox rows were added."""
        known = {iri: triples for iri, triples in (known or {}).items() if triples is not None}
        if not known and not self._behind():
            return 0  # the common case for the worker's poll: a read, no write lock
        added = 0
        while True:
            batch, more = self._sync_batch(known)
            known = {}  # remembered in the first batch
            added += batch
            if not more:
                return added

    def _behind(self) -> bool:
        return bool(
            self._sql.rows(
                "SELECT 1 FROM history WHERE id > (SELECT history_id FROM webhook_cursor WHERE name = 'outbox') LIMIT 1"
            )
        )

    def _sync_batch(self, known: Mapping[str, list[Triple]]) -> tuple[int, bool]:
        """One transaction: remember the links of the records just published (`known`, from the listener),
        then enqueue the history rows after the cursor and move it."""
        services = self.services
        with self._sql.transaction() as db:
            for iri, triples in known.items():
                self._remember_refs(db, iri, self._refs(iri, triples))
            cursor = db.execute("SELECT history_id FROM webhook_cursor WHERE name = 'outbox'").fetchone()[0]
            rows = db.execute(
                "SELECT id, iri, at, action FROM history WHERE id > ? ORDER BY id LIMIT ?", (cursor, SYNC_BATCH)
            ).fetchall()
            if not rows:
                return 0, False
            hooks = [self._hook(r) for r in db.execute("SELECT * FROM webhooks ORDER BY id")]
            wants_concepts = any(h.filter.concepts for h in hooks)
            added = 0
            for row in rows:
                activity = ACTIONS.get(row["action"])
                parsed = services.iris.parse_record(row["iri"])
                if activity is None or parsed is None or not hooks:
                    continue
                kind, iri = parsed[0].value, row["iri"]
                triples: list[Triple] | None = None
                if activity == Activity.delete:
                    stored = db.execute("SELECT refs FROM webhook_record_refs WHERE iri = ?", (iri,)).fetchone()
                    refs = set(json.loads(stored["refs"])) if stored else set()
                else:
                    triples = known.get(iri)
                    if triples is None:  # a change this process did not see (another process, or a crash)
                        triples = services.records.triples(NamedNode(iri))
                    refs = set(self._refs(iri, triples))
                    self._remember_refs(db, iri, sorted(refs))
                ancestors = self._ancestors(refs) if wants_concepts else set()
                matching = [h for h in hooks if h.filter.matches(iri, kind, refs, ancestors)]
                if not matching:
                    continue
                event = f"urn:uuid:{uuid.uuid4()}"
                body = self._activity(event, activity, iri, parsed[0], triples, row["at"])
                for hook in matching:
                    added += db.execute(
                        "INSERT OR IGNORE INTO webhook_outbox (hook, history_id, event, activity, record, body, status,"
                        " next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                        (hook.id, row["id"], event, activity.value, iri, body, time.time(), now()),
                    ).rowcount
            db.execute("UPDATE webhook_cursor SET history_id = ? WHERE name = 'outbox'", (rows[-1]["id"],))
            return added, len(rows) == SYNC_BATCH

    def _ancestors(self, refs: set[str]) -> set[str]:
        concepts = sorted(r for r in refs if r.startswith(self.services.iris.base + "vocab/"))
        if not concepts:
            return set()
        query = self.services.queries("webhook-ancestors", concepts=[NamedNode(c) for c in concepts])
        return {row["ancestor"].value for row in self.services.store.select(query)}

    def _activity(
        self, event: str, activity: Activity, iri: str, kind: RecordKind, triples: list[Triple] | None, at: str
    ) -> bytes:
        iris = self.services.iris
        record_class = f"amv:{kind.class_name}"
        if activity == Activity.delete or not triples:
            obj: dict[str, Any] = {"id": iri, "type": "Tombstone", "formerType": record_class, "deleted": at}
        else:
            obj = json.loads(serialize(triples, "jsonld", iris, context_url=iris.base + "context.jsonld"))
        document = {
            "@context": [ACTIVITY_STREAMS, {"amv": iris.amv}],
            "id": event,
            "type": activity.value,
            "published": at,
            "actor": {"id": iris.base, "type": "Service", "name": "Arbejdsmiljøviden"},
            "object": obj,
        }
        return json.dumps(document, ensure_ascii=False).encode("utf-8")

    # -- delivering --------------------------------------------------------------------------

    def claim_due(self, *, busy: Iterable[str] = (), limit: int = 32) -> list[Claimed]:
        """Take the lease of the first waiting notification of each hook that is due (per-hook order)."""
        moment = time.time()
        skip = set(busy)
        claimed: list[Claimed] = []
        with self._sql.transaction() as db:
            heads = db.execute(
                """SELECT o.id, o.hook, o.event, o.body, o.attempts, o.next_attempt, o.lease_until, h.url, h.secret
                   FROM webhook_outbox o JOIN webhooks h ON h.id = o.hook
                   WHERE o.status = 'pending'
                     AND o.id = (SELECT MIN(id) FROM webhook_outbox WHERE hook = o.hook AND status = 'pending')"""
            ).fetchall()
            for head in heads:
                if len(claimed) >= limit:
                    break
                if head["hook"] in skip or head["next_attempt"] > moment:
                    continue
                if head["lease_until"] is not None and head["lease_until"] > moment:
                    continue
                db.execute(
                    "UPDATE webhook_outbox SET lease_until = ? WHERE id = ?", (moment + LEASE_SECONDS, head["id"])
                )
                claimed.append(
                    Claimed(
                        head["id"],
                        head["hook"],
                        head["url"],
                        head["secret"],
                        head["event"],
                        bytes(head["body"]),
                        head["attempts"],
                    )
                )
        return claimed

    def retry_delay(self, attempts: int) -> float:
        """Seconds before the next attempt after `attempts` failed ones: exponential, capped."""
        return min(self.backoff * (2 ** max(0, attempts - 1)), self.backoff_max)

    def deliver(self, claimed: Claimed) -> DeliveryStatus:
        """One attempt: POST the signed notification, then record what happened."""
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": CONTENT_TYPE,
            "X-AMV-Event": claimed.event,
            "X-AMV-Delivery": str(claimed.id),
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: "sha256=" + sign(claimed.secret, timestamp, claimed.body),
        }
        started = time.monotonic()
        status: int | None = None
        try:
            result = fetch(claimed.url, policy=self.policy, method="POST", headers=headers, content=claimed.body)
            status = result.status
            if result.redirects:
                error = f"redirected to {result.final_url}; register the final address"
            else:
                error = None if 200 <= status < 300 else f"HTTP {status}"
        except OutboundRefused as exc:
            error = f"refused: {exc.reason}"
        except OutboundError as exc:
            error = exc.reason
        seconds = round(time.monotonic() - started, 3)
        attempts = claimed.attempts + 1
        if error is None:
            outcome = DeliveryStatus.delivered
        elif attempts >= self.max_attempts:
            outcome = DeliveryStatus.failed
        else:
            outcome = DeliveryStatus.pending
        with self._sql.transaction() as db:
            db.execute(
                "INSERT INTO webhook_attempts (delivery, at, status, error, seconds) VALUES (?, ?, ?, ?, ?)",
                (claimed.id, now(), status, error, seconds),
            )
            db.execute(
                """UPDATE webhook_outbox SET status = ?, attempts = ?, last_status = ?, last_error = ?,
                          next_attempt = ?, lease_until = NULL, delivered_at = ?
                   WHERE id = ? AND status = 'pending'""",
                (
                    outcome.value,
                    attempts,
                    status,
                    error,
                    time.time() + (self.retry_delay(attempts) if outcome == DeliveryStatus.pending else 0),
                    now() if outcome == DeliveryStatus.delivered else None,
                    claimed.id,
                ),
            )
        if error:
            log.info("webhook %s: delivery %d attempt %d failed: %s", claimed.hook, claimed.id, attempts, error)
        return outcome

    def close(self) -> None:
        self._sql.close()


class DeliveryWorker:
    """The background thread of a web worker that empties the outbox (and syncs it from the history)."""

    def __init__(self, webhooks: Webhooks, poll: float, *, concurrency: int = 4) -> None:
        self.webhooks = webhooks
        self.poll = poll
        self._stop = threading.Event()
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="amv-webhook")
        self._thread = threading.Thread(target=self._loop, name="amv-webhook-worker", daemon=True)

    @classmethod
    def start(cls, services: Services) -> DeliveryWorker | None:
        poll = services.settings.webhook_poll
        if poll <= 0:
            return None
        worker = cls(services.webhooks, poll)
        worker._thread.start()
        return worker

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.webhooks.sync()
                with self._busy_lock:
                    busy = set(self._busy)
                for claimed in self.webhooks.claim_due(busy=busy):
                    with self._busy_lock:
                        self._busy.add(claimed.hook)
                    self._pool.submit(self._deliver, claimed)
            except Exception:  # noqa: BLE001 - keep delivering after a bad moment (disk full, store down)
                log.exception("webhooks: the delivery loop failed; trying again")
            self.webhooks.wake.wait(self.poll)
            self.webhooks.wake.clear()

    def _deliver(self, claimed: Claimed) -> None:
        try:
            self.webhooks.deliver(claimed)
        except Exception:  # noqa: BLE001 - the lease expires and the delivery is tried again
            log.exception("webhooks: delivery %d failed unexpectedly", claimed.id)
        finally:
            with self._busy_lock:
                self._busy.discard(claimed.hook)
            self.webhooks.wake.set()  # the hook's next notification may go now

    def stop(self) -> None:
        self._stop.set()
        self.webhooks.wake.set()
        self._thread.join(timeout=30)
        self._pool.shutdown(wait=True, cancel_futures=True)
