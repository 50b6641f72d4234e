"""Link preservation: check every external web address of every published record, remember what was
found, and say so on the record page, in the editors' report and in the public data.

What is checked: the values of schema:url, dct:source, dct:license and amv:archivedCopy of every
published record (`sparql/link-urls.rq`) that are http(s) addresses outside our own base IRI. Every
fetch goes through `graph.outbound` (no private or loopback address unless AMV_OUTBOUND_ALLOW lists
it, bounded redirects, time and size limits), at most `link_check_concurrency` at once and at most
one request per host every `link_host_interval` seconds. A check asks HEAD first; when HEAD fails in
any way (405, 501, any other 4xx/5xx, timeout, connection error) it asks GET, because many servers
answer HEAD wrongly. robots.txt is not consulted: one request for a page a record links to is what a
reader's browser would do, not crawling.

The rule (`judge`), per address:
- **working**: the final answer (after redirects) was 2xx/3xx; failures reset to 0, last seen working = now.
- **broken**: the answer was 404 or 410 (the server says it is gone), or `BROKEN_AFTER` (2) checks in
  a row failed (any other error status, timeout, connection failure).
- **failing**: one failed check that is not 404/410 — may be temporary, not shown to readers yet.
- **refused**: our outbound rules forbid fetching it (private/loopback address, scheme, redirect into
  one); it was not fetched, and it is listed as such in the report.

Results live in `ledger.sqlite` (tables `link_checks`, `link_uses`, `link_runs`), written per address
as it is checked, so an interrupted run keeps what it did. After each run the public named graph
`<base>linkstatus` is replaced with one description per address (amv:linkState, amv:httpStatus,
amv:lastChecked, amv:lastSeenWorking, amv:consecutiveFailures, amv:redirectsTo, amv:linkCheckError,
dct:isReferencedBy the records), so partners see it through SPARQL, dumps and `/linkstatus`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import DCT, RDF_TYPE, XSD, Iris
from graph.ledger import now
from graph.outbound import HostPacer, OutboundError, OutboundPolicy, OutboundRefused, fetch
from graph.sqlite import SharedConnection

if TYPE_CHECKING:
    from graph.services import Services

log = logging.getLogger("amv.links")

#: Statuses that say "gone" at once; anything else needs BROKEN_AFTER failures in a row.
GONE = frozenset({404, 410})
BROKEN_AFTER = 2
#: A run that started this long ago and never finished is taken to have died.
RUN_LEASE = timedelta(hours=6)
WAYBACK = "https://web.archive.org/web/*/"

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS link_checks (
    url         TEXT PRIMARY KEY,
    host        TEXT NOT NULL,
    state       TEXT NOT NULL,      -- working | failing | broken | refused
    status      INTEGER,            -- HTTP status of the final answer, if there was one
    error       TEXT,               -- why there was no (good) answer
    final_url   TEXT,               -- where redirects ended
    method      TEXT,               -- HEAD, or GET after HEAD failed
    checked_at  TEXT NOT NULL,
    last_ok_at  TEXT,
    failures    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS link_checks_state ON link_checks (state, host);
CREATE TABLE IF NOT EXISTS link_uses (
    record    TEXT NOT NULL,
    property  TEXT NOT NULL,
    url       TEXT NOT NULL,
    PRIMARY KEY (record, property, url)
);
CREATE INDEX IF NOT EXISTS link_uses_url ON link_uses (url);
CREATE TABLE IF NOT EXISTS link_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    trigger      TEXT NOT NULL,     -- schedule | cli
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    checked      INTEGER,
    broken       INTEGER
);
"""


class LinkState(StrEnum):
    working = "working"
    failing = "failing"
    broken = "broken"
    refused = "refused"

    @property
    def term(self) -> str:
        """The ontology individual's local name (amv:linkWorking …)."""
        return "link" + self.value.capitalize()


@dataclass(frozen=True)
class Probe:
    """What one check of one address found."""

    status: int | None
    final_url: str | None
    error: str | None
    method: str
    refused: bool = False

    @property
    def ok(self) -> bool:
        return not self.refused and self.error is None and (self.status is None or self.status < 400)


@dataclass
class LinkCheck:
    """The remembered state of one address."""

    url: str
    host: str
    state: LinkState
    status: int | None
    error: str | None
    final_url: str | None
    method: str | None
    checked_at: str
    last_ok_at: str | None
    failures: int
    records: list[str] = field(default_factory=list)
    #: Danish title of each record in `records` (from the ledger), for the report.
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def redirected(self) -> bool:
        return bool(self.final_url) and self.final_url != self.url

    def archive_url(self, archived_copy: str | None = None) -> str:
        """Where a reader can still find the page: the record's archived copy, else the Wayback Machine."""
        return archived_copy or WAYBACK + self.url

    def as_json(self) -> dict[str, object]:
        return {
            "url": self.url,
            "host": self.host,
            "state": self.state.value,
            "status": self.status,
            "error": self.error,
            "finalUrl": self.final_url,
            "method": self.method,
            "checkedAt": self.checked_at,
            "lastSeenWorking": self.last_ok_at,
            "consecutiveFailures": self.failures,
            "archive": self.archive_url(),
            "records": self.records,
        }


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_external(url: str, iris: Iris) -> bool:
    return url.startswith(("http://", "https://")) and not url.startswith(iris.base) and bool(host_of(url))


def _body_too_large(exc: OutboundRefused) -> bool:
    # The server did answer, with more than we read: the page exists (a large PDF, typically).
    return "larger than the limit" in exc.reason


def probe(url: str, policy: OutboundPolicy, pace: Callable[[str], AbstractContextManager[None]] | None = None) -> Probe:
    """Check one address: HEAD, and GET when HEAD fails in any way. Refused addresses are not fetched."""
    pace = pace or (lambda _url: nullcontext())
    try:
        with pace(url):
            head = fetch(url, policy=policy, method="HEAD")
    except OutboundRefused as exc:
        return Probe(None, None, exc.reason, "HEAD", refused=True)
    except OutboundError:
        pass  # a server that cannot do HEAD may still do GET
    else:
        if head.status < 400:
            return Probe(head.status, head.final_url, None, "HEAD")
    try:
        with pace(url):
            got = fetch(url, policy=policy, method="GET")
    except OutboundRefused as exc:
        if _body_too_large(exc):
            return Probe(None, None, None, "GET")
        return Probe(None, None, exc.reason, "GET", refused=True)
    except OutboundError as exc:
        return Probe(None, None, exc.reason, "GET")
    return Probe(got.status, got.final_url, None if got.status < 400 else f"HTTP {got.status}", "GET")


def judge(url: str, previous: LinkCheck | None, found: Probe, at: str, broken_after: int = BROKEN_AFTER) -> LinkCheck:
    """The rule of the module docstring: the new state of an address from its old state and a probe."""
    last_ok = previous.last_ok_at if previous else None
    if found.refused:
        state, failures = LinkState.refused, 0
    elif found.ok:
        state, failures, last_ok = LinkState.working, 0, at
    else:
        failures = (previous.failures if previous else 0) + 1
        gone = found.status in GONE
        state = LinkState.broken if gone or failures >= broken_after else LinkState.failing
    return LinkCheck(
        url=url,
        host=host_of(url),
        state=state,
        status=found.status,
        error=found.error,
        final_url=found.final_url,
        method=found.method,
        checked_at=at,
        last_ok_at=last_ok,
        failures=failures,
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


SORTS = {
    "host": "c.host, c.url",
    "status": "c.status IS NULL, c.status, c.host, c.url",
    "state": "CASE c.state WHEN 'broken' THEN 0 WHEN 'failing' THEN 1 WHEN 'refused' THEN 2 ELSE 3 END, c.host, c.url",
    "checked": "c.checked_at, c.url",
    "failures": "c.failures, c.host, c.url",
}


class LinkStatuses:
    """The link tables in ledger.sqlite, on a connection of their own (used from several threads)."""

    def __init__(self, path: Path) -> None:
        self._sql = SharedConnection(path)
        self._sql.db.executescript(SCHEMA_SQL)

    @staticmethod
    def _check(row: sqlite3.Row) -> LinkCheck:
        return LinkCheck(
            url=row["url"],
            host=row["host"],
            state=LinkState(row["state"]),
            status=row["status"],
            error=row["error"],
            final_url=row["final_url"],
            method=row["method"],
            checked_at=row["checked_at"],
            last_ok_at=row["last_ok_at"],
            failures=row["failures"],
        )

    # -- checks ----------------------------------------------------------------------------

    def get(self, url: str) -> LinkCheck | None:
        rows = self._sql.rows("SELECT * FROM link_checks WHERE url = ?", (url,))
        return self._check(rows[0]) if rows else None

    def many(self, urls: Iterable[str]) -> dict[str, LinkCheck]:
        wanted = list(dict.fromkeys(urls))
        found: dict[str, LinkCheck] = {}
        for start in range(0, len(wanted), 500):  # SQLite's limit on host parameters
            chunk = wanted[start : start + 500]
            for row in self._sql.rows(f"SELECT * FROM link_checks WHERE url IN ({','.join('?' * len(chunk))})", chunk):
                found[row["url"]] = self._check(row)
        return found

    def save(self, check: LinkCheck) -> None:
        with self._sql.transaction() as db:
            db.execute(
                """INSERT INTO link_checks (url, host, state, status, error, final_url, method, checked_at,
                                            last_ok_at, failures)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (url) DO UPDATE SET host = excluded.host, state = excluded.state,
                     status = excluded.status, error = excluded.error, final_url = excluded.final_url,
                     method = excluded.method, checked_at = excluded.checked_at,
                     last_ok_at = excluded.last_ok_at, failures = excluded.failures""",
                (
                    check.url,
                    check.host,
                    check.state.value,
                    check.status,
                    check.error,
                    check.final_url,
                    check.method,
                    check.checked_at,
                    check.last_ok_at,
                    check.failures,
                ),
            )

    def replace_uses(self, uses: Iterable[tuple[str, str, str]]) -> None:
        """Which record uses which address by which property, as the store says now."""
        with self._sql.transaction() as db:
            db.execute("DELETE FROM link_uses")
            db.executemany("INSERT OR IGNORE INTO link_uses (record, property, url) VALUES (?, ?, ?)", uses)

    def report(
        self,
        *,
        state: LinkState | None = None,
        sort: str = "state",
        descending: bool = False,
        limit: int | None = None,
    ) -> list[LinkCheck]:
        """Checked addresses still used by a record, with the records that use it (and their titles)."""
        order = SORTS.get(sort, SORTS["state"])
        if descending:
            order = ", ".join(part + " DESC" for part in order.split(", "))
        only_state = "AND c.state = ?" if state else ""
        params: list[object] = [state.value] if state else []
        page = ""
        if limit is not None:
            page, params = "LIMIT ?", [*params, limit]
        rows = self._sql.rows(
            f"""SELECT c.* FROM link_checks c WHERE c.url IN (SELECT url FROM link_uses)
                {only_state} ORDER BY {order} {page}""",
            params,
        )
        checks = [self._check(row) for row in rows]
        by_url = {c.url: c for c in checks}
        urls = list(by_url)
        for start in range(0, len(urls), 500):
            chunk = urls[start : start + 500]
            # The ledger's `records` table is in the same file: the titles come with one join.
            for use in self._sql.rows(
                f"""SELECT DISTINCT u.url, u.record, r.title FROM link_uses u LEFT JOIN records r ON r.iri = u.record
                    WHERE u.url IN ({",".join("?" * len(chunk))}) ORDER BY u.record""",
                chunk,
            ):
                check = by_url[use["url"]]
                check.records.append(use["record"])
                check.titles[use["record"]] = use["title"] or use["record"]
        return checks

    def counts(self) -> dict[str, int]:
        """Addresses in use per state."""
        rows = self._sql.rows(
            "SELECT state, COUNT(*) AS n FROM link_checks WHERE url IN (SELECT url FROM link_uses) GROUP BY state"
        )
        return {r["state"]: r["n"] for r in rows}

    # -- runs ------------------------------------------------------------------------------

    def start_run(self, trigger: str, *, not_within: timedelta | None = None) -> int | None:
        """Record the start of a run. With `not_within`, only if no run started that recently and none
        is running (several web workers share one schedule); None when another run has it."""
        with self._sql.transaction() as db:
            if not_within is not None:
                last = db.execute("SELECT started_at, finished_at FROM link_runs ORDER BY id DESC LIMIT 1").fetchone()
                if last is not None:
                    started = _parse_time(last["started_at"])
                    age = datetime.now(UTC) - started
                    if age < not_within or (last["finished_at"] is None and age < RUN_LEASE):
                        return None
            cursor = db.execute("INSERT INTO link_runs (trigger, started_at) VALUES (?, ?)", (trigger, now()))
            return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, checked: int, broken: int) -> None:
        with self._sql.transaction() as db:
            db.execute(
                "UPDATE link_runs SET finished_at = ?, checked = ?, broken = ? WHERE id = ?",
                (now(), checked, broken, run_id),
            )

    def last_run(self) -> sqlite3.Row | None:
        rows = self._sql.rows("SELECT * FROM link_runs ORDER BY id DESC LIMIT 1")
        return rows[0] if rows else None

    def close(self) -> None:
        self._sql.close()


# -- the checker ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    checked: int
    by_state: dict[str, int]
    broken: list[LinkCheck]
    seconds: float


class LinkChecker:
    """One run over the published records' addresses (the CLI and the scheduled job both use this)."""

    def __init__(
        self,
        services: Services,
        *,
        policy: OutboundPolicy | None = None,
        concurrency: int | None = None,
        host_interval: float | None = None,
    ) -> None:
        settings = services.settings
        self.services = services
        self.statuses: LinkStatuses = services.links
        self.policy = policy or OutboundPolicy.from_settings(settings)
        self.concurrency = max(1, concurrency or settings.link_check_concurrency)
        self.pacer = HostPacer(settings.link_host_interval if host_interval is None else host_interval)

    def uses(self) -> dict[str, list[tuple[str, str]]]:
        """Address -> [(record, property)] for every external address of every published record."""
        services = self.services
        found: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for row in services.store.select(services.queries("link-urls")):
            url = row["url"].value
            if is_external(url, services.iris):
                found[url].append((row["record"].value, row["property"].value))
        return dict(found)

    def run(
        self,
        *,
        only_stale: bool = False,
        stale_after: timedelta = timedelta(hours=24),
        trigger: str = "cli",
        run_id: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> RunSummary:
        """Check the addresses (with `only_stale`, those not checked within `stale_after`); `stop` ends
        the run early (what was checked is kept; the public graph is then left as it was)."""
        started = time.monotonic()
        if run_id is None:
            run_id = self.statuses.start_run(trigger)
        assert run_id is not None
        uses = self.uses()
        self.statuses.replace_uses((record, prop, url) for url, found in uses.items() for record, prop in found)
        known = self.statuses.many(uses)
        urls = list(uses)
        if only_stale:
            cutoff = datetime.now(UTC) - stale_after
            urls = [u for u in urls if u not in known or _parse_time(known[u].checked_at) < cutoff]
        done = 0
        results: list[LinkCheck] = []
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="amv-links") as pool:
            futures = [pool.submit(self._check_one, url, known.get(url)) for url in _interleave_hosts(urls)]
            for future in as_completed(futures):
                results.append(future.result())
                done += 1
                if progress:
                    progress(done, len(urls))
                if stop is not None and stop.is_set():
                    pool.shutdown(wait=True, cancel_futures=True)
                    break
        if stop is None or not stop.is_set():
            self.publish()
        by_state: dict[str, int] = defaultdict(int)
        for check in results:
            by_state[check.state.value] += 1
        broken = sorted((c for c in results if c.state == LinkState.broken), key=lambda c: (c.host, c.url))
        self.statuses.finish_run(run_id, len(results), len(broken))
        for check in broken:
            check.records = sorted(record for record, _ in uses.get(check.url, []))
        return RunSummary(len(results), dict(by_state), broken, time.monotonic() - started)

    def _check_one(self, url: str, previous: LinkCheck | None) -> LinkCheck:
        try:
            found = probe(url, self.policy, self.pacer.wait)
        except Exception as exc:  # noqa: BLE001 - one odd address must not stop the run
            log.warning("link check of %s failed unexpectedly: %s", url, exc)
            found = Probe(None, None, f"{type(exc).__name__}: {exc}", "GET")
        check = judge(url, previous, found, now())
        self.statuses.save(check)
        return check

    def publish(self) -> None:
        """Replace the public graph <base>linkstatus with what is known about the addresses in use."""
        iris = self.services.iris
        checks = self.statuses.report(sort="host")
        self.services.store.replace_graph(linkstatus_graph(iris), linkstatus_triples(iris, checks))
        # Logged, so that dumps and the dataset's statistics know the public graph changed.
        self.services.records.log_change(
            [linkstatus_graph(iris)], "linkstatus", agent="link checker", reason="link check", thesaurus=False
        )


def _interleave_hosts(urls: list[str]) -> list[str]:
    """Round-robin over hosts, so that workers pacing one slow host do not hold up all the others."""
    by_host: dict[str, list[str]] = defaultdict(list)
    for url in sorted(urls):
        by_host[host_of(url)].append(url)
    queues = list(by_host.values())
    ordered: list[str] = []
    while queues:
        ordered += [q.pop(0) for q in queues]
        queues = [q for q in queues if q]
    return ordered


def linkstatus_graph(iris: Iris) -> NamedNode:
    return NamedNode(iris.base + "linkstatus")


def linkstatus_triples(iris: Iris, checks: Iterable[LinkCheck]) -> list[Triple]:
    date_time = NamedNode(XSD + "dateTime")
    triples: list[Triple] = []
    for check in checks:
        try:
            subject = NamedNode(check.url)
        except ValueError:
            continue  # not a valid IRI: stays in the editors' report only
        triples += [
            Triple(subject, iris.term("linkState"), iris.term(check.state.term)),
            Triple(subject, iris.term("lastChecked"), Literal(check.checked_at, datatype=date_time)),
            Triple(
                subject,
                iris.term("consecutiveFailures"),
                Literal(str(check.failures), datatype=NamedNode(XSD + "nonNegativeInteger")),
            ),
        ]
        if check.status is not None:
            status = Literal(str(check.status), datatype=NamedNode(XSD + "integer"))
            triples.append(Triple(subject, iris.term("httpStatus"), status))
        if check.last_ok_at:
            triples.append(Triple(subject, iris.term("lastSeenWorking"), Literal(check.last_ok_at, datatype=date_time)))
        if check.error:
            triples.append(Triple(subject, iris.term("linkCheckError"), Literal(check.error)))
        if check.redirected and check.final_url:
            with suppress(ValueError):  # a final address that is no valid IRI is left out
                triples.append(Triple(subject, iris.term("redirectsTo"), NamedNode(check.final_url)))
        triples += [Triple(subject, NamedNode(DCT + "isReferencedBy"), NamedNode(r)) for r in check.records]
    if triples:
        triples.append(Triple(linkstatus_graph(iris), RDF_TYPE, NamedNode("http://rdfs.org/ns/void#Dataset")))
    return triples


# -- the editors' report ---------------------------------------------------------------------

REPORT_LIMIT = 1000


@dataclass
class LinkReport:
    """The `/links` page and JSON: addresses with their state, filtered and sorted."""

    checks: list[LinkCheck]
    counts: dict[str, int]
    state: LinkState | None
    sort: str
    descending: bool
    limit: int
    last_run: dict[str, object] | None
    base: str

    @property
    def total(self) -> int:
        return self.counts.get(self.state.value, 0) if self.state else sum(self.counts.values())

    def path(self, record: str) -> str:
        return "/" + record[len(self.base) :] if record.startswith(self.base) else record

    def as_json(self) -> dict[str, object]:
        return {
            "total": self.total,
            "shown": len(self.checks),
            "counts": {s.value: self.counts.get(s.value, 0) for s in LinkState},
            "state": self.state.value if self.state else None,
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "lastRun": self.last_run,
            "links": [c.as_json() for c in self.checks],
        }


def link_report(
    services: Services,
    *,
    state: LinkState | None = None,
    sort: str = "state",
    descending: bool = False,
    limit: int = REPORT_LIMIT,
) -> LinkReport:
    statuses = services.links
    last = statuses.last_run()
    return LinkReport(
        checks=statuses.report(state=state, sort=sort, descending=descending, limit=limit),
        counts=statuses.counts(),
        state=state,
        sort=sort if sort in SORTS else "state",
        descending=descending,
        limit=limit,
        last_run=None
        if last is None
        else {
            "startedAt": last["started_at"],
            "finishedAt": last["finished_at"],
            "checked": last["checked"],
            "broken": last["broken"],
        },
        base=services.iris.base,
    )


# -- for the record page --------------------------------------------------------------------


@dataclass(frozen=True)
class LinkFlag:
    """A broken address on a record page: what it was, since when it is gone, where to look instead."""

    url: str
    property: str
    status: int | None
    error: str | None
    checked_at: str
    last_ok_at: str | None
    archive_url: str
    own_archive: bool  # the record's own archived copy (else the Wayback Machine's list of captures)


def broken_links(services: Services, record: NamedNode, triples: Iterable[Triple]) -> list[LinkFlag]:
    """The record's external addresses that the checker found broken."""
    amv = services.iris.amv
    url_properties = {"https://schema.org/url", DCT + "source", DCT + "license", amv + "archivedCopy"}
    used = [
        (t.predicate.value, t.object.value)
        for t in triples
        if t.subject == record and t.predicate.value in url_properties and isinstance(t.object, NamedNode)
    ]
    if not used:
        return []
    archived = next((url for prop, url in used if prop == amv + "archivedCopy"), None)
    checks = services.links.many(url for _, url in used)
    flags = []
    for prop, url in sorted(used):
        check = checks.get(url)
        if check is None or check.state != LinkState.broken:
            continue
        own = archived is not None and archived != url
        flags.append(
            LinkFlag(
                url=url,
                property=prop,
                status=check.status,
                error=check.error,
                checked_at=check.checked_at,
                last_ok_at=check.last_ok_at,
                archive_url=check.archive_url(archived if own else None),
                own_archive=own,
            )
        )
    return flags


# -- the scheduled job inside `amv serve` ----------------------------------------------------


class LinkCheckJob:
    """Runs the checker every `link_check_hours` in a background thread of the web app.

    Runs are claimed in the ledger (`LinkStatuses.start_run` with `not_within`), so several web
    workers share one schedule, and a restart does not check again before the interval is over.
    The job's first look comes `first_delay` (10 minutes) after start, or one interval if shorter, so
    that short-lived servers (tests, a quick restart) do not start fetching the web at once."""

    def __init__(self, services: Services, interval: timedelta, *, first_delay: float = 600.0) -> None:
        self.services = services
        self.interval = interval
        self.first_delay = min(first_delay, interval.total_seconds())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amv-link-check-job", daemon=True)
        self.runs = 0

    @classmethod
    def start(cls, services: Services) -> LinkCheckJob | None:
        hours = services.settings.link_check_hours
        if hours <= 0:
            return None
        job = cls(services, timedelta(hours=hours))
        job._thread.start()
        return job

    def _seconds_until_due(self) -> float:
        last = self.services.links.last_run()
        if last is None:
            return 0.0
        due = _parse_time(last["started_at"]) + self.interval
        return max(0.0, (due - datetime.now(UTC)).total_seconds())

    def _loop(self) -> None:
        if self._stop.wait(self.first_delay):
            return
        while not self._stop.is_set():
            try:
                run_id = self.services.links.start_run("schedule", not_within=self.interval)
                if run_id is not None:
                    summary = LinkChecker(self.services).run(trigger="schedule", run_id=run_id, stop=self._stop)
                    self.runs += 1
                    log.info("link check: %d addresses, %d broken", summary.checked, len(summary.broken))
                wait = self._seconds_until_due()
            except Exception:  # noqa: BLE001 - the job must survive a bad night (store down, disk full)
                log.exception("the scheduled link check failed; trying again later")
                wait = 300.0
            self._stop.wait(max(1.0, min(wait, 3600.0)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
