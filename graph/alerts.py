"""E-mail alerts: anyone subscribes (no account) to new knowledge about any combination of factors,
industries and knowledge types, and gets a daily or weekly digest.

- **What a subscription follows** is a feed scope (graph.feeds): the same URL parameters as
  `/feeds/items.atom` (`factor`, `industry`, `knowledgeType`, also `evidenceLevel` and `actor`),
  stored in canonical form and re-read at every digest, so a filter takes in the narrower concepts the
  thesaurus has at that moment. No filter at all means every new knowledge item.
- **Double opt-in**: a subscription starts *pending*; the confirmation mail carries a single-use link
  (256 random bits, stored hashed) that expires after `CONFIRM_HOURS`; expired pending subscriptions
  are deleted by the digest job. Confirming is a POST (the link opens a page with a button), so mail
  scanners that follow links cannot subscribe someone.
- **Manage and unsubscribe** links are signed: HMAC-SHA256 of the subscription id with a key kept in
  the ledger database. Every digest carries them and `List-Unsubscribe` / `List-Unsubscribe-Post:
  List-Unsubscribe=One-Click` (RFC 8058). Unsubscribing deletes the subscription and what was sent.
- **Digests**: "new" means first published (the ledger history's `created` entries) after the
  subscription's cursor, a history id. A digest that was accepted by the SMTP server advances the cursor
  and records each item sent, in one transaction; a failed send advances nothing, so the next run tries
  again with the same items (nothing missed) and items already sent are never sent again. A run holds a
  lease in the database, so the web app's scheduler, other workers and `amv alerts send` never send
  at the same time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import socket
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from urllib.parse import urlencode

from pyoxigraph import NamedNode

from graph.accounts import EMAIL
from graph.coverage import FILTERS, FilterError, filter_parameters
from graph.facets import first_text, iris, record_facts, texts
from graph.feeds import ACTOR, ItemScope, parse_item_scope
from graph.iris import DCT
from graph.ledger import now
from graph.mail import Mail, MailConnection, Mailer, MailError, render, translator
from graph.ratelimit import Limit, RateLimiter
from graph.services import Services
from graph.sqlite import connect, ensure_schema, transaction
from graph.views import Ref, Site, pick

log = logging.getLogger(__name__)

CONFIRM_HOURS = 48
PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
#: A scheduled run sends a digest a little before the full period is over, so that an hourly job does
#: not push a daily digest an hour later every day.
PERIOD_SLACK = timedelta(minutes=10)
LANGUAGES = ("da", "en")
PARAMETERS = (*(spec.param for spec in FILTERS), ACTOR)
MAX_DIGEST_ITEMS = 100  # more than this: the digest lists the newest and links to the rest
LEASE_SECONDS = 600
SUBSCRIBE_LIMITS = {"ip": Limit(10, 3600), "email": Limit(3, 3600)}
MAX_EMAIL = 254

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_subscriptions (
    id           TEXT PRIMARY KEY,   -- opaque, random
    email        TEXT NOT NULL,      -- lower-cased
    parameters   TEXT NOT NULL,      -- JSON [[param, value], ...]: the feed scope, canonical
    frequency    TEXT NOT NULL,      -- daily | weekly
    lang         TEXT NOT NULL,      -- da | en
    status       TEXT NOT NULL,      -- pending | confirmed
    confirm_hash TEXT,               -- SHA-256 of the single-use confirmation token (pending only)
    created      TEXT NOT NULL,
    confirmed    TEXT,
    cursor       INTEGER NOT NULL DEFAULT 0,  -- ledger history id up to which publications were considered
    last_digest  TEXT,               -- when the last digest run for it completed
    failures     INTEGER NOT NULL DEFAULT 0,  -- failed sends since the last success
    last_error   TEXT
);
CREATE INDEX IF NOT EXISTS alert_subscriptions_email ON alert_subscriptions (email);
CREATE INDEX IF NOT EXISTS alert_subscriptions_status ON alert_subscriptions (status, created);
CREATE TABLE IF NOT EXISTS alert_sent (
    subscription TEXT NOT NULL,
    item         TEXT NOT NULL,
    digest       INTEGER NOT NULL,
    PRIMARY KEY (subscription, item)
);
CREATE TABLE IF NOT EXISTS alert_digests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription TEXT NOT NULL,
    sent_at      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    items        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_meta (
    key   TEXT PRIMARY KEY,  -- signing-key | lease
    value TEXT NOT NULL
);
"""


class Frequency(StrEnum):
    daily = "daily"
    weekly = "weekly"


class AlertRefused(ValueError):
    """Bad subscription input: which field, and why in Danish and English (HTTP 422)."""

    def __init__(self, field_name: str, messages: dict[str, str]) -> None:
        super().__init__(messages["en"])
        self.field = field_name
        self.messages = messages


@dataclass(frozen=True)
class Subscription:
    id: str
    email: str
    parameters: list[tuple[str, str]]
    frequency: Frequency
    lang: str
    status: str
    created: str
    confirmed: str | None
    cursor: int
    last_digest: str | None
    failures: int
    last_error: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Subscription:
        return cls(
            id=row["id"],
            email=row["email"],
            parameters=[(p, v) for p, v in json.loads(row["parameters"])],
            frequency=Frequency(row["frequency"]),
            lang=row["lang"],
            status=row["status"],
            created=row["created"],
            confirmed=row["confirmed"],
            cursor=row["cursor"],
            last_digest=row["last_digest"],
            failures=row["failures"],
            last_error=row["last_error"],
        )

    def values(self, param: str) -> list[str]:
        return [v for p, v in self.parameters if p == param]


@dataclass
class DigestEntry:
    iri: str
    url: str
    titles: dict[str, str]
    summaries: dict[str, str]
    knowledge_type: Ref | None
    publishers: list[Ref]

    def title(self, lang: str) -> str:
        return pick(self.titles, lang, self.iri)

    def summary(self, lang: str, limit: int = 280) -> str:
        text = " ".join(pick(self.summaries, lang).split())
        return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


@dataclass
class DigestReport:
    sent: int = 0  # digests accepted by the SMTP server
    items: int = 0  # items in them
    nothing_new: int = 0  # due subscriptions with nothing new (no mail)
    failed: int = 0  # digests that could not be sent (tried again next run)
    expired: int = 0  # unconfirmed subscriptions deleted
    busy: bool = False  # another run held the lease
    errors: list[str] = field(default_factory=list)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


#: Mail texts (the pages' texts are in api/i18n.py; graph does not import api).
MAIL_TEXT: dict[str, dict[str, str]] = {
    "confirm.subject": {
        "da": "Bekræft dit abonnement på ny viden fra Arbejdsmiljøviden",
        "en": "Confirm your subscription to new knowledge from Arbejdsmiljøviden",
    },
    "confirm.intro": {
        "da": "Nogen (forhåbentlig dig) har bedt om at få besked på e-mail om ny viden i Arbejdsmiljøviden:",
        "en": "Someone (hopefully you) asked to be told by e-mail about new knowledge in Arbejdsmiljøviden:",
    },
    "confirm.action": {"da": "Bekræft abonnementet", "en": "Confirm the subscription"},
    "confirm.expires": {
        "da": f"Linket virker én gang og udløber efter {CONFIRM_HOURS} timer. Har du ikke bedt om det, "
        "så se bort fra denne e-mail: uden bekræftelse sender vi intet.",
        "en": f"The link works once and expires after {CONFIRM_HOURS} hours. If you did not ask for this, "
        "ignore this e-mail: without confirmation we send nothing.",
    },
    "already.subject": {
        "da": "Du abonnerer allerede på denne viden",
        "en": "You already subscribe to this knowledge",
    },
    "already.intro": {
        "da": "Der blev bedt om et abonnement, som du allerede har:",
        "en": "A subscription was asked for that you already have:",
    },
    "digest.subject": {
        "da": "Ny viden fra Arbejdsmiljøviden ({n})",
        "en": "New knowledge from Arbejdsmiljøviden ({n})",
    },
    "digest.intro": {
        "da": "Nye vidensressourcer, der passer til dit abonnement:",
        "en": "New knowledge items matching your subscription:",
    },
    "digest.more": {
        "da": "Der er flere: se dem alle på",
        "en": "There are more: see them all at",
    },
    "scope": {"da": "Du følger", "en": "You follow"},
    "frequency.daily": {"da": "dagligt", "en": "daily"},
    "frequency.weekly": {"da": "ugentligt", "en": "weekly"},
    "manage": {"da": "Ret dit abonnement", "en": "Manage your subscription"},
    "unsubscribe": {"da": "Afmeld", "en": "Unsubscribe"},
    "type": {"da": "Type", "en": "Type"},
    "publisher": {"da": "Udgiver", "en": "Publisher"},
    "footer": {
        "da": "Du får denne e-mail, fordi du har tilmeldt dig nyheder fra Arbejdsmiljøviden.",
        "en": "You receive this e-mail because you subscribed to news from Arbejdsmiljøviden.",
    },
}


def mail_translator(lang: str):  # noqa: ANN201 - a plain callable for templates
    return translator(MAIL_TEXT, lang)


class Alerts:
    """The data-manager layer of e-mail alerts (`Alerts(services)`; cheap to create)."""

    def __init__(self, services: Services, mailer: Mailer | None = None) -> None:
        self.services = services
        self.settings = services.settings
        self.path = services.settings.ledger_path
        self.mailer = mailer or Mailer(services.settings)
        ensure_schema(self.path, SCHEMA)
        self.limiter = RateLimiter(self.path, "alerts")

    # -- signing ---------------------------------------------------------------------------

    def _key(self) -> bytes:
        with connect(self.path) as db:
            row = db.execute("SELECT value FROM alert_meta WHERE key = 'signing-key'").fetchone()
            if row is None:
                db.execute(
                    "INSERT OR IGNORE INTO alert_meta (key, value) VALUES ('signing-key', ?)", (secrets.token_hex(32),)
                )
                row = db.execute("SELECT value FROM alert_meta WHERE key = 'signing-key'").fetchone()
        return bytes.fromhex(row["value"])

    def signature(self, subscription_id: str) -> str:
        digest = hmac.new(self._key(), b"manage:" + subscription_id.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def verify(self, subscription_id: str, signature: str) -> bool:
        # compare_digest refuses non-ASCII text (TypeError); such a signature is simply wrong.
        return signature.isascii() and hmac.compare_digest(self.signature(subscription_id), signature)

    def manage_path(self, subscription_id: str) -> str:
        return f"/alerts/manage/{subscription_id}/{self.signature(subscription_id)}"

    def unsubscribe_path(self, subscription_id: str) -> str:
        return f"/alerts/unsubscribe/{subscription_id}/{self.signature(subscription_id)}"

    def url(self, path: str, lang: str = "da") -> str:
        link = self.settings.public_url + path
        return link if lang == "da" else link + ("&" if "?" in link else "?") + "lang=" + lang

    # -- reading ---------------------------------------------------------------------------

    def get(self, subscription_id: str) -> Subscription | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM alert_subscriptions WHERE id = ?", (subscription_id,)).fetchone()
        return Subscription.from_row(row) if row else None

    def by_email(self, email: str) -> list[Subscription]:
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT * FROM alert_subscriptions WHERE email = ? ORDER BY created", (email.strip().lower(),)
            ).fetchall()
        return [Subscription.from_row(r) for r in rows]

    def scope(self, parameters: Sequence[tuple[str, str]]) -> ItemScope:
        """The feed scope of parameters; FilterError when one names nothing (any more)."""
        asked: dict[str, list[str]] = {}
        for param, value in parameters:
            asked.setdefault(param, []).append(value)
        return parse_item_scope(Site(self.services), asked)

    # -- subscribing -----------------------------------------------------------------------

    def check(
        self, email: str, parameters: Sequence[tuple[str, str]], frequency: str, lang: str
    ) -> tuple[str, ItemScope]:
        """The normalised address and the scope; AlertRefused (or FilterError) for bad input."""
        address = email.strip().lower()
        if not address:
            raise AlertRefused("email", {"da": "Skriv din e-mailadresse.", "en": "Enter your e-mail address."})
        if len(address) > MAX_EMAIL or not EMAIL.match(address):
            raise AlertRefused(
                "email",
                {
                    "da": "E-mailadressen ser ikke rigtig ud (fx navn@eksempel.dk).",
                    "en": "The e-mail address does not look right (e.g. name@example.org).",
                },
            )
        if frequency not in Frequency.__members__:
            raise AlertRefused(
                "frequency",
                {"da": "Vælg dagligt eller ugentligt.", "en": "Choose daily or weekly."},
            )
        if lang not in LANGUAGES:
            raise AlertRefused("lang", {"da": "Vælg dansk eller engelsk.", "en": "Choose Danish or English."})
        unknown = sorted({p for p, _ in parameters} - set(PARAMETERS))
        if unknown:
            raise AlertRefused(
                unknown[0],
                {"da": f"Ukendt filter «{unknown[0]}».", "en": f"Unknown filter “{unknown[0]}”."},
            )
        return address, self.scope(parameters)

    def subscribe(
        self, email: str, parameters: Sequence[tuple[str, str]], frequency: str, lang: str, client: str
    ) -> str:
        """Start a subscription and send the confirmation mail (or, for one already confirmed, a reminder of
        its manage link). Returns "confirm" or "already". Raises AlertRefused/FilterError for bad input,
        RateLimited when the address or client asked too often, MailError when the mail could not be sent
        (then nothing is kept)."""
        address, scope = self.check(email, parameters, frequency, lang)
        self.limiter.hit({f"ip:{client}": SUBSCRIBE_LIMITS["ip"], f"email:{address}": SUBSCRIBE_LIMITS["email"]})
        canonical = json.dumps(scope.parameters)
        with connect(self.path) as db:
            existing = db.execute(
                "SELECT * FROM alert_subscriptions WHERE email = ? AND parameters = ? "
                "ORDER BY status = 'confirmed' DESC",
                (address, canonical),
            ).fetchone()
        if existing is not None and existing["status"] == "confirmed":
            found = Subscription.from_row(existing)
            self._send_notice(found, scope, "already", {})
            return "already"
        token = secrets.token_urlsafe(32)
        created = now()
        with connect(self.path) as db:
            if existing is not None:  # a pending one: a fresh link (the old one stops working)
                subscription_id = existing["id"]
                db.execute(
                    "UPDATE alert_subscriptions SET confirm_hash = ?, created = ?, frequency = ?, lang = ? "
                    "WHERE id = ?",
                    (_hash(token), created, frequency, lang, subscription_id),
                )
            else:
                subscription_id = secrets.token_hex(8)
                db.execute(
                    "INSERT INTO alert_subscriptions (id, email, parameters, frequency, lang, status, confirm_hash, "
                    "created) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                    (subscription_id, address, canonical, frequency, lang, _hash(token), created),
                )
        pending = self.get(subscription_id)
        assert pending is not None
        try:
            self._send_notice(pending, scope, "confirm", {"confirm_url": self.url(f"/alerts/confirm/{token}", lang)})
        except MailError:
            if existing is None:
                with connect(self.path) as db:
                    db.execute("DELETE FROM alert_subscriptions WHERE id = ?", (subscription_id,))
            raise
        return "confirm"

    def _send_notice(self, subscription: Subscription, scope: ItemScope, template: str, extra: dict[str, str]) -> None:
        lang = subscription.lang
        t = mail_translator(lang)
        context = {
            "t": t,
            "lang": lang,
            "scope": scope.title(lang),
            "frequency": t("frequency." + subscription.frequency.value),
            "manage_url": self.url(self.manage_path(subscription.id), lang),
            **extra,
        }
        text, html = render("alert_" + template, context)
        self.mailer.send(Mail(subscription.email, t(template + ".subject"), text, html, lang))

    def confirm(self, token: str) -> Subscription | None:
        """Confirm the pending subscription of a confirmation token; None if the token is unknown, used or expired.

        From now on it follows what is published after this moment."""
        oldest = _iso(datetime.now(UTC) - timedelta(hours=CONFIRM_HOURS))
        with connect(self.path) as db, transaction(db):
            row = db.execute(
                "SELECT id FROM alert_subscriptions WHERE confirm_hash = ? AND status = 'pending' AND created >= ?",
                (_hash(token), oldest),
            ).fetchone()
            if row is None:
                return None  # nothing written: committing the read is as good as rolling it back
            moment = now()
            db.execute(
                "UPDATE alert_subscriptions SET status = 'confirmed', confirm_hash = NULL, confirmed = ?, "
                "last_digest = ?, cursor = (SELECT COALESCE(MAX(id), 0) FROM history) WHERE id = ?",
                (moment, moment, row["id"]),
            )
        return self.get(row["id"])

    def update(self, subscription_id: str, parameters: Sequence[tuple[str, str]], frequency: str, lang: str) -> None:
        """Change what a subscription follows, how often and in which language."""
        current = self.get(subscription_id)
        if current is None:
            raise LookupError(subscription_id)
        _, scope = self.check(current.email, parameters, frequency, lang)
        with connect(self.path) as db:
            db.execute(
                "UPDATE alert_subscriptions SET parameters = ?, frequency = ?, lang = ? WHERE id = ?",
                (json.dumps(scope.parameters), frequency, lang, subscription_id),
            )

    def unsubscribe(self, subscription_id: str) -> bool:
        """Delete the subscription and the record of what was sent to it (True if there was one)."""
        with connect(self.path) as db, transaction(db):
            gone = db.execute("DELETE FROM alert_subscriptions WHERE id = ?", (subscription_id,)).rowcount
            db.execute("DELETE FROM alert_sent WHERE subscription = ?", (subscription_id,))
            db.execute("DELETE FROM alert_digests WHERE subscription = ?", (subscription_id,))
        return bool(gone)

    def expire(self) -> int:
        """Delete unconfirmed subscriptions whose link has expired."""
        oldest = _iso(datetime.now(UTC) - timedelta(hours=CONFIRM_HOURS))
        with connect(self.path) as db:
            return db.execute(
                "DELETE FROM alert_subscriptions WHERE status = 'pending' AND created < ?", (oldest,)
            ).rowcount

    # -- digests ---------------------------------------------------------------------------

    def _lease(self, holder: str, release: bool = False) -> bool:
        moment = time.time()
        with connect(self.path) as db, transaction(db):
            row = db.execute("SELECT value FROM alert_meta WHERE key = 'lease'").fetchone()
            owner, _, until = (row["value"] if row else "|0").partition("|")
            if release:
                if owner == holder:
                    db.execute("DELETE FROM alert_meta WHERE key = 'lease'")
                return True
            if owner and owner != holder and float(until or 0) > moment:
                return False
            db.execute(
                "INSERT OR REPLACE INTO alert_meta (key, value) VALUES ('lease', ?)",
                (f"{holder}|{moment + LEASE_SECONDS}",),
            )
        return True

    def due(self, *, force: bool, at: datetime | None = None) -> list[Subscription]:
        moment = at or datetime.now(UTC)
        with connect(self.path) as db:
            rows = db.execute("SELECT * FROM alert_subscriptions WHERE status = 'confirmed' ORDER BY id").fetchall()
        found = []
        for row in rows:
            subscription = Subscription.from_row(row)
            last = _parse(subscription.last_digest) if subscription.last_digest else None
            if force or last is None or moment - last >= PERIODS[subscription.frequency.value] - PERIOD_SLACK:
                found.append(subscription)
        return found

    def _candidates(self, subscription: Subscription, high: int) -> list[str]:
        """Knowledge items first published after the cursor (up to `high`), still public, not yet sent to it."""
        with connect(self.path) as db:
            rows = db.execute(
                """SELECT h.iri, MAX(h.id) AS at FROM history h JOIN records r ON r.iri = h.iri
                   WHERE h.id > ? AND h.id <= ? AND h.action = 'created'
                     AND r.status = 'published' AND r.kind = 'item'
                     AND h.iri NOT IN (SELECT item FROM alert_sent WHERE subscription = ?)
                   GROUP BY h.iri ORDER BY at DESC""",
                (subscription.cursor, high, subscription.id),
            ).fetchall()
        return [r["iri"] for r in rows]

    def matching(self, scope: ItemScope, candidates: Sequence[str]) -> list[str]:
        """The candidates (in their order) that the scope accepts: one query per 500 candidates."""
        if not candidates or not scope.active:
            return list(candidates)
        services = self.services
        bindings: dict[str, int | list[NamedNode]] = dict(scope.accepted)
        bindings["actors"] = [NamedNode(a.iri) for a in scope.actors]
        accepted: set[str] = set()
        for start in range(0, len(candidates), 500):
            chunk = [NamedNode(c) for c in candidates[start : start + 500]]
            query = services.queries("alert-matches", items=chunk, filters=scope.active, **bindings)
            accepted |= {row["item"].value for row in services.store.select(query)}
        return [c for c in candidates if c in accepted]

    def entries(self, items: Sequence[str], lang: str) -> list[DigestEntry]:
        site = Site(self.services)
        amv = site.iris.amv
        properties = [DCT + "title", DCT + "description", DCT + "publisher", amv + "knowledgeType"]
        facts = record_facts(site, items, properties)
        linked = {v for f in facts.values() for p in properties[2:] for v in iris(f, p)}
        names = site.names(sorted(linked))
        found = []
        for item in items:
            f = facts.get(item, {})
            types = iris(f, amv + "knowledgeType")
            found.append(
                DigestEntry(
                    iri=item,
                    url=self.url(site.path(item), lang),
                    titles=texts(f, DCT + "title") or {"": first_text(f, DCT + "title") or item},
                    summaries=texts(f, DCT + "description"),
                    knowledge_type=site.ref(types[0], names.get(types[0], {})) if types else None,
                    publishers=[site.ref(p, names.get(p, {})) for p in iris(f, DCT + "publisher")],
                )
            )
        return found

    def digest_mail(self, subscription: Subscription, scope: ItemScope, items: Sequence[str]) -> Mail:
        lang = subscription.lang
        t = mail_translator(lang)
        shown = items[:MAX_DIGEST_ITEMS]
        unsubscribe = self.url(self.unsubscribe_path(subscription.id))
        more = ""
        if len(items) > len(shown):
            more = self.url("/items" + ("?" + urlencode(scope.parameters) if scope.parameters else ""), lang)
        context = {
            "t": t,
            "lang": lang,
            "scope": scope.title(lang),
            "frequency": t("frequency." + subscription.frequency.value),
            "entries": self.entries(shown, lang),
            "count": len(items),
            "more_url": more,
            "manage_url": self.url(self.manage_path(subscription.id), lang),
            "unsubscribe_url": self.url(self.unsubscribe_path(subscription.id), lang),
        }
        text, html = render("alert_digest", context)
        headers = {
            # RFC 2369 and RFC 8058: mail clients offer one-click unsubscribe (a POST to this URL).
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Arbejdsmiljøviden <alerts.{self.settings.public_url.split('://', 1)[-1].split('/')[0]}>",
            "Precedence": "bulk",
        }
        return Mail(subscription.email, t("digest.subject", n=len(items)), text, html, lang, headers)

    def send_digests(self, *, force: bool = False, at: datetime | None = None) -> DigestReport:
        """One digest run: every confirmed subscription that is due (all of them with `force`) gets the items
        first published since its last digest that match its filter; nothing new, no mail."""
        report = DigestReport()
        holder = f"{socket.gethostname()}:{id(self)}:{secrets.token_hex(4)}"
        if not self._lease(holder):
            report.busy = True
            return report
        try:
            report.expired = self.expire()
            with connect(self.path) as db:
                high = int(db.execute("SELECT COALESCE(MAX(id), 0) FROM history").fetchone()[0])
            scopes: dict[str, ItemScope | None] = {}
            with self.mailer.connect() as connection:
                for subscription in self.due(force=force, at=at):
                    key = json.dumps(subscription.parameters)
                    if key not in scopes:
                        try:
                            scopes[key] = self.scope(subscription.parameters)
                        except FilterError as error:  # a concept or actor it follows is gone
                            log.warning("alert %s: %s", subscription.id, error)
                            scopes[key] = None
                    scope = scopes[key]
                    if scope is None:
                        continue
                    self._digest(connection, subscription, scope, high, report)
        finally:
            self._lease(holder, release=True)
        return report

    def _digest(
        self, connection: MailConnection, subscription: Subscription, scope: ItemScope, high: int, report: DigestReport
    ) -> None:
        items = self.matching(scope, self._candidates(subscription, high))
        moment = now()
        if not items:
            with connect(self.path) as db:
                db.execute(
                    "UPDATE alert_subscriptions SET cursor = ?, last_digest = ? WHERE id = ? AND status = 'confirmed'",
                    (high, moment, subscription.id),
                )
            report.nothing_new += 1
            return
        mail = self.digest_mail(subscription, scope, items)
        try:
            message_id = connection.send(mail)
        except MailError as exc:
            report.failed += 1
            report.errors.append(str(exc))
            with connect(self.path) as db:
                db.execute(
                    "UPDATE alert_subscriptions SET failures = failures + 1, last_error = ? WHERE id = ?",
                    (str(exc)[:500], subscription.id),
                )
            log.warning("alert digest %s not sent (tried again next run): %s", subscription.id, exc)
            return
        with connect(self.path) as db, transaction(db):
            digest = db.execute(
                "INSERT INTO alert_digests (subscription, sent_at, message_id, items) VALUES (?, ?, ?, ?)",
                (subscription.id, moment, message_id, len(items)),
            ).lastrowid
            db.executemany(
                "INSERT OR IGNORE INTO alert_sent (subscription, item, digest) VALUES (?, ?, ?)",
                [(subscription.id, item, digest) for item in items],
            )
            db.execute(
                "UPDATE alert_subscriptions SET cursor = ?, last_digest = ?, failures = 0, last_error = NULL "
                "WHERE id = ?",
                (high, moment, subscription.id),
            )
        report.sent += 1
        report.items += len(items)

    def digests_sent(self, subscription_id: str) -> list[dict[str, object]]:
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT sent_at, message_id, items FROM alert_digests WHERE subscription = ? ORDER BY id",
                (subscription_id,),
            ).fetchall()
        return [dict(r) for r in rows]


# -- the subscription form ------------------------------------------------------------------------


@dataclass
class Choice:
    """One checkbox of the subscription form: a filter parameter and its canonical value."""

    param: str
    value: str
    labels: dict[str, str]
    checked: bool = False
    children: list[Choice] = field(default_factory=list)

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.value)


@dataclass
class AlertForm:
    factors: list[Choice]  # top factors, each with its narrower concepts as children
    industries: list[Choice]  # DB07 sections
    knowledge_types: list[Choice]  # every knowledge type (narrower ones as children)
    others: list[Choice]  # chosen values the lists above do not show (a deeper concept, an actor, …)


def alert_form(services: Services, chosen: Sequence[tuple[str, str]] = (), scope: ItemScope | None = None) -> AlertForm:
    """The options of the subscription form, with `chosen` (canonical parameters) checked."""
    site = Site(services)
    thesaurus = services.search.thesaurus
    picked = set(chosen)
    factor_roots = thesaurus.roots(("factors",))
    factor_children = {r.iri: thesaurus.children(r.iri) for r in factor_roots}
    industry_roots = [c for c in thesaurus.roots(("industries",)) if c.notation.isalpha()]
    type_roots = thesaurus.roots(("knowledge-types",))
    type_children = {r.iri: thesaurus.children(r.iri) for r in type_roots}
    nodes = {
        "factor": [NamedNode(c.iri) for r in factor_roots for c in (r, *factor_children[r.iri])],
        "industry": [NamedNode(c.iri) for c in industry_roots],
        "knowledgeType": [NamedNode(c.iri) for r in type_roots for c in (r, *type_children[r.iri])],
    }
    value_of = {(param, iri): value for param, value, iri in filter_parameters(site, nodes)}
    shown: set[tuple[str, str]] = set()

    def choice(param: str, concept: object, children: Sequence[object] = ()) -> Choice:
        iri = concept.iri  # type: ignore[attr-defined]
        value = value_of[(param, iri)]
        shown.add((param, value))
        return Choice(
            param,
            value,
            dict(concept.pref),  # type: ignore[attr-defined]
            (param, value) in picked,
            [choice(param, c) for c in children],
        )

    form = AlertForm(
        factors=[choice("factor", r, factor_children[r.iri]) for r in factor_roots],
        industries=[choice("industry", c) for c in industry_roots],
        knowledge_types=[choice("knowledgeType", r, type_children[r.iri]) for r in type_roots],
        others=[],
    )
    if scope is not None:
        labels = {(t.param, t.ref.iri): t.ref.labels for t in scope.topics}
        params = {(p, v): iri for p, v, iri in filter_parameters(site, {k: list(v) for k, v in scope.filters.items()})}
        params.update({("actor", a.iri.rsplit("/", 1)[-1]): a.iri for a in scope.actors})
        for param, value in scope.parameters:
            if (param, value) not in shown:
                iri = params.get((param, value), value)
                form.others.append(Choice(param, value, dict(labels.get((param, iri), {})), True))
    return form


def scope_parameters(values: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """The filter parameters of a form or URL, in the order of PARAMETERS (blank values dropped)."""
    return [(param, v.strip()) for param in PARAMETERS for v in values.get(param, ()) if v.strip()]
