"""The quality report of a concept scheme: qSKOS-style checks, each a small named rule.

Each rule asks the scheme's graph one named query (`sparql/quality-*.rq`) and turns the answer into
findings, each about one concept (so every finding links to it):

| rule                     | finds                                                                      |
|--------------------------|----------------------------------------------------------------------------|
| missing_labels           | concepts without a preferred label in Danish or English                    |
| missing_definitions      | concepts at the top two levels without a definition in Danish or English   |
| duplicate_labels         | two concepts in use with the same preferred label (per language, any case)  |
| orphan_concepts          | concepts with no broader concept that are not top concepts                 |
| cycles                   | concepts on a cycle of broader links                                       |
| overlapping_labels       | a preferred label that is another concept's alternative or hidden label    |
| undocumented_deprecated  | deprecated concepts with neither a replacement nor a note saying why       |
| unresolvable_mappings    | mappings to IRIs that did not resolve when last checked                    |

Whether a mapping's IRI resolves is not asked while the report is built: `check_mappings` fetches
each target through graph/outbound.py (the outbound policy, robots.txt, one request per host per
`min_interval`) in the background, and keeps the answers in `AMV_DATA_DIR/mapping-checks.sqlite`
with their date; the report shows what was found at that date.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from graph.ledger import now
from graph.outbound import HostPacer, OutboundError, OutboundPolicy, OutboundRefused, RobotsRules, fetch
from graph.services import Services
from graph.sqlite import connect, transaction
from graph.text import danish_sort_key
from graph.views import Ref, Site
from graph.vocab_history import local_name

LANGUAGES = ("da", "en")
CHECK_WORKERS = 4
#: A check that has not finished after this long is taken to have died with its process.
STALE_RUN = timedelta(hours=2)


@dataclass
class Finding:
    """One problem, about one concept; which fields are filled depends on the rule."""

    concept: Ref
    lang: str = ""  # the language concerned (a missing label or definition, a duplicate label)
    text: str = ""  # the label concerned
    others: list[Ref] = field(default_factory=list)  # the other concepts involved
    target: str = ""  # a mapping's target IRI
    detail: str = ""  # what the check of a mapping answered (status or reason)
    checked_at: str = ""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"concept": self.concept.iri, "path": self.concept.path}
        for key in ("lang", "text", "target", "detail", "checked_at"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        if self.others:
            data["others"] = [o.iri for o in self.others]
        return data


@dataclass
class QualityContext:
    """What the rules of one report share: the scheme, and answers asked once."""

    site: Site
    scheme: NamedNode
    checks: MappingChecks
    _labels: list[tuple[str, str, str, str]] | None = None  # (concept, property, lang, text)

    def select(self, name: str, **values: Any) -> list[dict[str, Any]]:
        services = self.site.services
        return services.store.select(services.queries(name, scheme=self.scheme, **values))  # type: ignore[arg-type]

    def labels(self) -> list[tuple[str, str, str, str]]:
        if self._labels is None:
            self._labels = [
                (r["concept"].value, local_name(r["property"].value), r["label"].language or "", r["label"].value)
                for r in self.select("quality-labels")
            ]
        return self._labels


Check = Callable[[QualityContext], list[tuple[str, dict[str, Any]]]]  # [(concept IRI, finding fields)]
RULES: dict[str, Check] = {}


def rule(check: Check) -> Check:
    """Register a rule under its function's name (the order of definition is the order of the report)."""
    RULES[check.__name__] = check
    return check


@rule
def missing_labels(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    return [
        (r["concept"].value, {"lang": r["lang"].value})
        for r in ctx.select("quality-missing-labels", languages=list(LANGUAGES))
    ]


@rule
def missing_definitions(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    rows = ctx.select("quality-top-definitions", languages=list(LANGUAGES))
    return [(r["concept"].value, {"lang": r["lang"].value}) for r in rows]


@rule
def duplicate_labels(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    holders: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)  # (lang, folded) -> concept -> label
    for concept, prop, lang, text in ctx.labels():
        if prop == "prefLabel":
            holders[(lang, text.strip().casefold())][concept] = text
    found = []
    for (lang, _), concepts in holders.items():
        if len(concepts) > 1:
            for concept, text in concepts.items():
                found.append((concept, {"lang": lang, "text": text, "others": sorted(set(concepts) - {concept})}))
    return found


@rule
def orphan_concepts(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    return [(r["concept"].value, {}) for r in ctx.select("quality-orphans")]


@rule
def cycles(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for r in ctx.select("quality-broader-links"):
        edges[r["concept"].value].add(r["broader"].value)
    found = []
    for component in strongly_connected(edges):
        if len(component) > 1 or next(iter(component)) in edges.get(next(iter(component)), ()):
            for concept in sorted(component):
                found.append((concept, {"others": sorted(component - {concept})}))
    return found


@rule
def overlapping_labels(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    other_labels: dict[tuple[str, str], set[str]] = defaultdict(set)  # (lang, folded) -> concepts
    for concept, prop, lang, text in ctx.labels():
        if prop in ("altLabel", "hiddenLabel"):
            other_labels[(lang, text.strip().casefold())].add(concept)
    found = []
    for concept, prop, lang, text in ctx.labels():
        if prop == "prefLabel":
            others = other_labels.get((lang, text.strip().casefold()), set()) - {concept}
            if others:
                found.append((concept, {"lang": lang, "text": text, "others": sorted(others)}))
    return found


@rule
def undocumented_deprecated(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    return [(r["concept"].value, {}) for r in ctx.select("quality-undocumented-deprecated")]


@rule
def unresolvable_mappings(ctx: QualityContext) -> list[tuple[str, dict[str, Any]]]:
    rows = ctx.select("quality-mappings")
    results = ctx.checks.results([r["target"].value for r in rows])
    found = []
    for r in rows:
        result = results.get(r["target"].value)
        if result is not None and result.outcome in (BROKEN, UNREACHABLE):
            fields = {"target": r["target"].value, "detail": result.detail, "checked_at": result.checked_at}
            found.append((r["concept"].value, {"text": local_name(r["property"].value), **fields}))
    return found


def strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, without recursion (hierarchies can be deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


# -- the report --------------------------------------------------------------------------------------


@dataclass
class RuleResult:
    name: str
    findings: list[Finding]


@dataclass
class MappingStatus:
    targets: int  # distinct mapping targets in the scheme
    checked: int  # of which have an answer on record
    last_started: str
    last_finished: str
    running: bool


@dataclass
class QualityReport:
    scheme: Ref
    results: list[RuleResult]
    mappings: MappingStatus

    @property
    def total(self) -> int:
        return sum(len(r.findings) for r in self.results)

    def as_json(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme.iri,
            "total": self.total,
            "rules": {r.name: [f.as_json() for f in r.findings] for r in self.results},
            "mappings": {
                "targets": self.mappings.targets,
                "checked": self.mappings.checked,
                "lastCheckStarted": self.mappings.last_started or None,
                "lastCheckFinished": self.mappings.last_finished or None,
                "running": self.mappings.running,
            },
        }


def quality_report(site: Site, scheme: Ref, rules: dict[str, Check] | None = None) -> QualityReport:
    checks = MappingChecks(site.services.settings.data_dir)
    ctx = QualityContext(site, NamedNode(scheme.iri), checks)
    raw = {name: check(ctx) for name, check in (rules or RULES).items()}
    iris: set[str] = set()
    for found in raw.values():
        for concept, fields in found:
            iris |= {concept, *fields.get("others", [])}
    names = site.names(sorted(iris))

    def ref(iri: str) -> Ref:
        return site.ref(iri, names.get(iri, {}))

    results = []
    for name, found in raw.items():
        findings = [
            Finding(ref(concept), **{**fields, "others": [ref(o) for o in fields.get("others", [])]})
            for concept, fields in found
        ]
        findings.sort(key=lambda f: (danish_sort_key(f.concept.label("da")), f.lang, f.target))
        results.append(RuleResult(name, findings))
    targets = sorted({r["target"].value for r in ctx.select("quality-mappings")})
    run = checks.last_run(scheme.iri)
    return QualityReport(
        scheme,
        results,
        MappingStatus(
            targets=len(targets),
            checked=len(checks.results(targets)),
            last_started=run.started_at if run else "",
            last_finished=run.finished_at if run else "",
            running=bool(run and run.running),
        ),
    )


# -- checking mappings (in the background) -------------------------------------------------------------

OK, BROKEN, UNREACHABLE, SKIPPED = "ok", "broken", "unreachable", "skipped"


@dataclass(frozen=True)
class CheckResult:
    url: str
    outcome: str  # ok | broken (HTTP error status) | unreachable (no answer, or refused) | skipped (robots.txt)
    status: int | None
    final_url: str
    detail: str
    checked_at: str


@dataclass(frozen=True)
class CheckRun:
    scheme: str
    started_at: str
    finished_at: str
    total: int
    checked: int

    @property
    def running(self) -> bool:
        if self.finished_at:
            return False
        try:
            started = datetime.fromisoformat(self.started_at.replace("Z", "+00:00"))
        except ValueError:
            return False
        return datetime.now(UTC) - started < STALE_RUN


class MappingChecks:
    """The answers of mapping checks, kept in `mapping-checks.sqlite` under the data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "mapping-checks.sqlite"

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with connect(self.path, timeout=30) as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS mapping_check (url TEXT PRIMARY KEY, outcome TEXT NOT NULL, "
                "status INTEGER, final_url TEXT NOT NULL, detail TEXT NOT NULL, checked_at TEXT NOT NULL)"
            )
            db.execute(
                "CREATE TABLE IF NOT EXISTS mapping_run (scheme TEXT PRIMARY KEY, started_at TEXT NOT NULL, "
                "finished_at TEXT NOT NULL DEFAULT '', total INTEGER NOT NULL, checked INTEGER NOT NULL DEFAULT 0)"
            )
            yield db

    def results(self, urls: list[str]) -> dict[str, CheckResult]:
        if not urls or not self.path.exists():
            return {}
        found: dict[str, CheckResult] = {}
        with self._connection() as db:
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = "SELECT url, outcome, status, final_url, detail, checked_at FROM mapping_check WHERE url IN "
                for row in db.execute(query + f"({marks})", chunk):  # only placeholders are formatted in
                    found[row[0]] = CheckResult(*row)
        return found

    def record(self, result: CheckResult, scheme: str) -> None:
        with self._connection() as db, transaction(db):
            db.execute(
                "INSERT OR REPLACE INTO mapping_check VALUES (?, ?, ?, ?, ?, ?)",
                (result.url, result.outcome, result.status, result.final_url, result.detail, result.checked_at),
            )
            db.execute("UPDATE mapping_run SET checked = checked + 1 WHERE scheme = ?", (scheme,))

    def begin(self, scheme: str, total: int) -> bool:
        """Mark a run as started; False when one is running already for the scheme."""
        with self._connection() as db, transaction(db):
            row = db.execute("SELECT * FROM mapping_run WHERE scheme = ?", (scheme,)).fetchone()
            if row is not None and CheckRun(*row).running:
                return False
            db.execute("INSERT OR REPLACE INTO mapping_run VALUES (?, ?, '', ?, 0)", (scheme, now(), total))
            return True

    def finish(self, scheme: str) -> None:
        with self._connection() as db:
            db.execute("UPDATE mapping_run SET finished_at = ? WHERE scheme = ?", (now(), scheme))

    def last_run(self, scheme: str) -> CheckRun | None:
        if not self.path.exists():
            return None
        with self._connection() as db:
            row = db.execute("SELECT * FROM mapping_run WHERE scheme = ?", (scheme,)).fetchone()
        return CheckRun(*row) if row else None


def mapping_targets(services: Services, scheme: NamedNode) -> list[str]:
    rows = services.store.select(services.queries("quality-mappings", scheme=scheme))
    return sorted({r["target"].value for r in rows})


def check_url(url: str, policy: OutboundPolicy, robots: RobotsRules, pacer: HostPacer) -> CheckResult:
    """Whether `url` resolves: HEAD (GET when HEAD is not supported), redirects followed."""
    try:
        if not robots.allowed(url):
            return CheckResult(url, SKIPPED, None, "", "robots.txt", now())
        with pacer.wait(url):
            result = fetch(url, policy=policy, method="HEAD")
        if result.status in (405, 501):
            with pacer.wait(url):
                result = fetch(url, policy=policy, method="GET")
    except OutboundRefused as exc:
        return CheckResult(url, UNREACHABLE, None, "", exc.reason, now())
    except OutboundError as exc:
        return CheckResult(url, UNREACHABLE, None, "", exc.reason, now())
    outcome = OK if result.status < 400 else BROKEN
    return CheckResult(url, outcome, result.status, result.final_url, f"HTTP {result.status}", now())


def check_mappings(
    services: Services, scheme: NamedNode, *, targets: list[str] | None = None, min_interval: float = 1.0
) -> list[CheckResult]:
    """Check every mapping target of the scheme now (in this thread); the answers are kept."""
    checks = MappingChecks(services.settings.data_dir)
    urls = mapping_targets(services, scheme) if targets is None else targets
    if not checks.begin(scheme.value, len(urls)):
        return []
    policy = OutboundPolicy.from_settings(services.settings)
    robots, pacer = RobotsRules(policy), HostPacer(min_interval)
    results: list[CheckResult] = []
    try:

        def one(url: str) -> CheckResult:
            result = check_url(url, policy, robots, pacer)
            checks.record(result, scheme.value)
            return result

        with ThreadPoolExecutor(max_workers=CHECK_WORKERS, thread_name_prefix="mapping-check") as pool:
            results = list(pool.map(one, urls))
    finally:
        checks.finish(scheme.value)
    return results


_background: dict[str, threading.Thread] = {}
_background_lock = threading.Lock()


def start_mapping_check(services: Services, scheme: NamedNode, *, min_interval: float = 1.0) -> bool:
    """Check the scheme's mappings in a background thread; False when a check is running already.

    The targets are read here, so the thread never touches the store: only the network and SQLite."""
    checks = MappingChecks(services.settings.data_dir)
    run = checks.last_run(scheme.value)
    with _background_lock:
        thread = _background.get(scheme.value)
        if (thread is not None and thread.is_alive()) or (run is not None and run.running):
            return False
        targets = mapping_targets(services, scheme)
        thread = threading.Thread(
            target=check_mappings,
            args=(services, scheme),
            kwargs={"targets": targets, "min_interval": min_interval},
            name=f"mapping-check {scheme.value}",
            daemon=True,
        )
        _background[scheme.value] = thread
        thread.start()
    return True
