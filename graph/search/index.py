"""The full-text search index: derived data beside the store (`AMV_DATA_DIR/search/`), kept current on
every write and rebuildable from the store at any time (`amv reindex`).

One tantivy document per published record: its titles and descriptions per language (folded, then
stemmed with Danish or English rules), the suffixes of its long words (so a word inside a compound
matches: "belastning" finds "støjbelastning"), every concept it is tagged with *and all their broader
concepts* (so a concept matches what is tagged with its narrower concepts), one fast field per facet,
its year and a date to sort by.

Keeping it current, across any number of processes: `Records` calls `notify` after every committed
change; that only appends the record's IRI to a small journal (SQLite, `pending.sqlite`), so bulk
loads stay fast. Whoever reads the index next (any process) first applies the journal under a file
lock: it re-reads those records from the store, replaces their documents in one commit, and drops the
applied entries. Readers reload when the index on disk changed. A rebuild writes a fresh index
directory and switches `CURRENT` to it atomically; a reader in another process follows the switch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import tantivy
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.iris import DCT, RDF, SCHEMA, SKOS, Iris, RecordKind
from graph.ledger import RecordStatus
from graph.search import analysis
from graph.search.analysis import DA, EN, fold, word_suffixes
from graph.search.thesaurus import CONCEPT_FACETS, Thesaurus

if TYPE_CHECKING:
    from graph.services import Services

log = logging.getLogger(__name__)

#: Bump when the schema or the analysis changes: an index of another version is rebuilt.
SCHEMA_VERSION = 6
#: The most buckets one tantivy aggregation may make (its default limit).
MAX_BUCKETS = 65_000
#: `linked_by` counts every record linked to in one aggregation when there are no more than this many.
LINKED_AT_ONCE = MAX_BUCKETS
CHUNK = 500
#: How many compiled look-ups of a word inside compounds a process keeps.
INSIDE_QUERIES = 2_000
#: How often (at most) a process asks the store whether the vocabularies were edited.
#: How often (at most) a reader looks at the change log for changes made elsewhere.
CHANGES_CHECK_SECONDS = 0.5
#: The journal mark holding the newest change-log sequence the index has taken in.
CHANGES_MARK = "changes"
FACET_FIELDS = (*CONCEPT_FACETS, "actor", "kind")
TEXT_FIELDS = ("title_da", "body_da", "title_en", "body_en")
ACTOR_PROPERTIES = frozenset(
    {DCT + "publisher", DCT + "creator", DCT + "contributor", SCHEMA + "organizer", "AMV:offeredBy"}
)
#: Literal properties whose text is searchable besides titles and descriptions.
TEXT_PROPERTIES = frozenset(
    {SKOS + "altLabel", "AMV:service", SCHEMA + "location", SCHEMA + "address", SCHEMA + "name"}
)
_DATE = re.compile(r"^(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("iri", stored=True, tokenizer_name="raw", index_option="basic")
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name=DA if name.endswith("_da") else EN, index_option="freq")
    # The suffixes of the record's long words: a word inside a compound is a prefix of one (no positions). One
    # space-separated value per record: hundreds of values cost a call each from Python.
    builder.add_text_field("suffixes", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("concepts", tokenizer_name="raw", index_option="basic")
    # Links to other records: the records linked to, and "target kind property" for each link. Record pages
    # count and list what links to them from these, and actor pages what their records inform.
    builder.add_text_field("linked", fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("links", fast=True, tokenizer_name="raw", index_option="basic")
    for name in FACET_FIELDS:
        builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("year", indexed=True, fast=True)
    builder.add_integer_field("date", indexed=True, fast=True)
    builder.add_bytes_field("data", stored=True)
    return builder.build()


# -- one record as a document -------------------------------------------------------------------


@dataclass
class RecordDoc:
    """What the index keeps of one record."""

    iri: str
    kind: str
    titles: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # other names, services
    concepts: set[str] = field(default_factory=set)  # as tagged (not expanded)
    actors: list[str] = field(default_factory=list)
    links: set[tuple[str, str]] = field(default_factory=set)  # (property, record linked to)
    year: int | None = None
    date: int = 0  # seconds since 1970: the publication date or event start, else last change
    modified: str = ""

    def document(self, thesaurus: Thesaurus) -> tantivy.Document:
        expanded: set[str] = set()
        for concept in self.concepts:
            expanded |= thesaurus.ancestors(concept)
        facets: dict[str, list[str]] = defaultdict(list)
        for concept in sorted(expanded):
            known = thesaurus.concepts.get(concept)
            if known is not None and known.facet:
                facets[known.facet].append(concept)

        folded: dict[str, str] = {}  # a text without a language goes into both languages' fields: fold it once

        def fold_once(text: str) -> str:
            if text not in folded:
                folded[text] = fold(text)
            return folded[text]

        def texts(lang: str, titles: bool) -> list[str]:
            source = self.titles if titles else self.descriptions
            chosen = [t for language, t in source.items() if language == lang or language not in ("da", "en")]
            if not titles:
                chosen += [t for language, ts in self.texts.items() for t in ts if language in (lang, "")]
            return [fold_once(t) for t in chosen]

        fields: dict[str, object] = {
            "iri": self.iri,
            "kind": self.kind,
            "title_da": texts("da", True),
            "title_en": texts("en", True),
            "body_da": texts("da", False),
            "body_en": texts("en", False),
            "suffixes": word_suffixes([fold_once(t) for t in (*self.titles.values(), *self.descriptions.values())]),
            "concepts": sorted(expanded),
            "actor": sorted(set(self.actors)),
            "linked": sorted({target for _, target in self.links}),
            "links": sorted(f"{target} {self.kind} {prop}" for prop, target in self.links),
            "date": self.date,
            "data": json.dumps(self.stored(), ensure_ascii=False).encode(),
            **facets,
        }
        if self.year is not None:
            fields["year"] = self.year
        document = tantivy.Document()
        for name, value in fields.items():
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, str):
                    if v:
                        document.add_text(name, v)
                elif isinstance(v, bytes):
                    document.add_bytes(name, v)
                else:
                    document.add_integer(name, int(v))  # type: ignore[call-overload]
        return document

    def stored(self) -> dict[str, object]:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "titles": self.titles,
            "descriptions": self.descriptions,
            "concepts": sorted(self.concepts),
            "actors": self.actors,
            "year": self.year,
            "modified": self.modified,
        }


def _seconds(text: str) -> int:
    with contextlib.suppress(ValueError):
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
    match = _DATE.match(text)
    if not match:
        return 0
    with contextlib.suppress(ValueError):
        y, m, d = int(match.group(1)), int(match.group(2) or 1), int(match.group(3) or 1)
        return int(datetime(y, m, d, tzinfo=UTC).timestamp())
    return 0


def record_doc(iri: str, kind: RecordKind, triples: Sequence[Triple], iris: Iris) -> RecordDoc:
    """The document of one record from its graph."""
    doc = RecordDoc(iri, kind.value)
    amv, vocab = iris.amv, iris.base + "vocab/"
    dates: dict[str, str] = {}
    actor_properties = {p.replace("AMV:", amv) for p in ACTOR_PROPERTIES}
    text_properties = {p.replace("AMV:", amv) for p in TEXT_PROPERTIES}
    actor_prefix, record_prefix = iris.record_prefix(RecordKind.actor), iris.record_prefix()
    for t in triples:
        subject = t.subject
        own = isinstance(subject, NamedNode) and subject.value == iri
        if not (own or isinstance(subject, BlankNode) or str(subject.value).startswith(iri + "#")):
            continue
        p, o = t.predicate.value, t.object
        if isinstance(o, Literal):
            lang = o.language or ""
            if own and p == DCT + "title":
                doc.titles.setdefault(lang, o.value)
            elif own and p == DCT + "description":
                doc.descriptions[lang] = (doc.descriptions.get(lang, "") + " " + o.value).strip()
            elif p in text_properties:
                doc.texts[lang].append(o.value)
            elif own and p in (DCT + "issued", SCHEMA + "startDate", DCT + "modified"):
                dates.setdefault(p, o.value)
        elif isinstance(o, NamedNode) and p != RDF + "type":
            if own and o.value.startswith(record_prefix):
                doc.links.add((p, o.value))
            if p in actor_properties and o.value.startswith(actor_prefix):
                doc.actors.append(o.value)
            elif o.value.startswith(vocab):
                doc.concepts.add(o.value)
    issued = dates.get(DCT + "issued") or dates.get(SCHEMA + "startDate") or ""
    doc.modified = dates.get(DCT + "modified", "")
    match = _DATE.match(issued)
    doc.year = int(match.group(1)) if match else None
    doc.date = _seconds(issued) or _seconds(doc.modified)
    return doc


def stored_data(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> dict[str, object]:
    """What the index keeps of a record for showing it (`RecordDoc.stored`)."""
    data = searcher.doc(address).get_first("data")
    return json.loads(bytes(data)) if data else {}


#: Records found, in the order found: IRI -> titles by language (what a list of links to them needs).
Newest = dict[str, dict[str, str]]


def _newest(searcher: tantivy.Searcher, result: tantivy.SearchResult) -> Newest:
    found = (stored_data(searcher, address) for _, address in result.hits)
    return {str(data["iri"]): dict(data.get("titles") or {}) for data in found}  # type: ignore[call-overload]


# -- the journal of changes not yet applied -------------------------------------------------------


class Journal:
    """IRIs of records changed since the index last caught up (shared by every process)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, iri TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
            self._db = db
        return self._db

    def add(self, iri: str) -> None:
        with self._lock:
            self._connection().execute("INSERT INTO pending (iri) VALUES (?)", (iri,))

    def add_many(self, iris: Iterable[str]) -> None:
        """Note many changed records in one SQLite transaction (a bulk import)."""
        with self._lock:
            db = self._connection()
            db.execute("BEGIN")
            try:
                db.executemany("INSERT INTO pending (iri) VALUES (?)", [(iri,) for iri in iris])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def peek(self) -> tuple[int, list[str]]:
        """(the newest entry's id, the distinct IRIs up to it); (0, []) when nothing is pending."""
        if not self.path.exists() and self._db is None:
            return 0, []
        with self._lock:
            db = self._connection()
            row = db.execute("SELECT MAX(id) FROM pending").fetchone()
            if not row or row[0] is None:
                return 0, []
            high = int(row[0])
            iris = [r[0] for r in db.execute("SELECT DISTINCT iri FROM pending WHERE id <= ?", (high,))]
            return high, iris

    def repeated(self, high: int) -> set[str]:
        """IRIs noted more than once up to entry `high` (changed by more than one write since the last apply)."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT iri FROM pending WHERE id <= ? GROUP BY iri HAVING COUNT(*) > 1", (high,)
            )
            return {r[0] for r in rows}

    def high_water(self) -> int:
        """The newest entry's id (0 when nothing is pending): cheap enough for every search."""
        if not self.path.exists() and self._db is None:
            return 0
        with self._lock:
            row = self._connection().execute("SELECT MAX(id) FROM pending").fetchone()
            return int(row[0]) if row and row[0] is not None else 0

    def mark(self, name: str) -> int:
        """A number the index keeps (how far it has followed the change log)."""
        with self._lock:
            row = self._connection().execute("SELECT value FROM marks WHERE name = ?", (name,)).fetchone()
            return int(row[0]) if row else 0

    def set_mark(self, name: str, value: int) -> None:
        with self._lock:
            self._connection().execute(
                "INSERT INTO marks (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def done(self, high: int) -> None:
        if high:
            with self._lock:
                self._connection().execute("DELETE FROM pending WHERE id <= ?", (high,))

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


# -- the index ------------------------------------------------------------------------------------


class IndexUnavailable(RuntimeError):
    pass


class SearchIndex:
    """The search index of one data directory; `services.search`."""

    def __init__(self, services: Services, directory: Path | None = None) -> None:
        self.services = services
        self.directory = directory or services.settings.index_dir or services.settings.data_dir / "search"
        self.journal = Journal(self.directory / "pending.sqlite")
        self._lock = threading.RLock()
        self._index: tantivy.Index | None = None
        self._path: Path | None = None
        self._meta_stamp: tuple[int, int] | None = None
        self._thesaurus: Thesaurus | None = None
        self._checked = False
        self._merging: threading.Thread | None = None
        self._vocabulary_changed = False
        self._changes_checked = 0.0
        self.schema = build_schema()
        #: Facet counts of recent searches, by (generation, search); dropped when the index changes.
        self.facet_cache: dict[tuple[object, ...], object] = {}
        self._inside_queries: dict[str, tantivy.Query] = {}

    @classmethod
    def attach(cls, services: Services) -> SearchIndex:
        """The index of a deployment, listening to every record change."""
        index = cls(services)
        services.records.listeners.append(index.notify)
        services.records.batch_listeners[index.notify] = index.notify_many
        return index

    # -- keeping current --------------------------------------------------------------------

    def notify(self, iri: str, triples: list[Triple] | None) -> None:
        """A record was published, replaced or withdrawn: the next reader re-reads it from the store.

        The change is already committed, so a failure here must not make it look refused: it is
        logged, and `amv reindex` (or the count check at the next start) brings the index back."""
        try:
            self.journal.add(iri)
            self.noted_own_change()
        except sqlite3.Error:
            log.exception("could not note a change of %s for the search index; run `amv reindex`", iri)

    def notify_many(self, changes: Mapping[str, list[Triple] | None]) -> None:
        """A batch of records changed (bulk import): note them all at once, then bring the index up to date
        in one writer commit, so the batch is searchable as soon as the import returns.

        As with `notify`, a failure is logged and never makes the committed batch look refused."""
        try:
            self.journal.add_many(changes)
            self.noted_own_change()
        except sqlite3.Error:
            log.exception("could not note %d changes for the search index; run `amv reindex`", len(changes))
            return
        try:
            with self._lock:
                self._apply_pending(known=changes)
        except Exception:  # noqa: BLE001 - the journal keeps the changes; the next reader applies them
            log.exception("could not index %d changed records now; the next search will", len(changes))

    @property
    def thesaurus(self) -> Thesaurus:
        """The thesaurus as the store holds it now (read once per process, and on every rebuild)."""
        with self._lock:
            if self._thesaurus is None:
                services = self.services
                self._thesaurus = Thesaurus.load(services.store, services.queries, services.iris)
            return self._thesaurus

    def _follow_changes(self) -> None:
        """Follow the store's change log (checked at most every CHANGES_CHECK_SECONDS): records that any
        process or app instance changed are re-read from the store, and a thesaurus edit makes the
        thesaurus be read again. This is also how the index catches up after a crash."""
        now_ = time.monotonic()
        if now_ - self._changes_checked < CHANGES_CHECK_SECONDS:
            return
        self._changes_checked = now_
        changelog = self.services.records.changelog
        head = changelog.head()
        seen = self.journal.mark(CHANGES_MARK)
        while seen < head:
            entries = changelog.entries(seen, head)
            if not entries:
                break
            self.journal.add_many(e.subject for e in entries if not e.thesaurus_edit)
            if any(e.thesaurus_edit for e in entries):
                self._vocabulary_changed = True
            seen = entries[-1].sequence
            self.journal.set_mark(CHANGES_MARK, seen)

    def noted_own_change(self) -> None:
        """After a write by this process that the index has been told of directly: move the change-log
        mark past it (when nothing else came in between), so that following the log does not re-read it."""
        span = self.services.records.last_change
        if span is not None and self.journal.mark(CHANGES_MARK) == span[0] - 1:
            self.journal.set_mark(CHANGES_MARK, span[1])

    def _follow_vocabulary(self) -> None:
        """After a vocabulary edit: read the thesaurus again, and re-index the records tagged with a concept
        whose place in the hierarchy changed (their broader concepts are indexed with them)."""
        if self._thesaurus is None or not self._vocabulary_changed:
            return
        self._vocabulary_changed = False
        old = self._thesaurus
        self._thesaurus = None
        new = self.thesaurus
        moved = [
            iri
            for iri in old.concepts.keys() | new.concepts.keys()
            if iri not in old.concepts
            or iri not in new.concepts
            or old.concepts[iri].broader != new.concepts[iri].broader
        ]
        index = self._open_current()
        if index is None:
            return
        if moved:
            searcher = index.searcher()
            query = tantivy.Query.term_set_query(self.schema, "concepts", moved)
            hits = searcher.search(query, max(1, searcher.num_docs), count=False).hits
            for _, address in hits:
                self.journal.add(self._iri(searcher, address))
        with self._file_lock():
            if self._path is not None:
                self._write_state(self._path, new)

    def startup_check(self) -> None:
        """At start: build the index if it is missing or was built by another version, or if (with no
        change pending) it holds another number of records than the ledger has published."""
        with self._lock:
            missing = self._open_current() is None or self._state().get("schema") != SCHEMA_VERSION
            if missing or (not self.journal.high_water() and self.count() != self._published_count()):
                self.rebuild()

    def ensure_current(self) -> None:
        """Apply pending changes and follow other processes' commits; the first time in a process, also
        check the index against the thesaurus and the ledger and rebuild it if it is out of step."""
        with self._lock:
            if not self._checked:
                self._checked = True
                index = self._open_current()
                state = self._state()
                if (
                    index is None
                    or state.get("schema") != SCHEMA_VERSION
                    or state.get("thesaurus") != self.thesaurus.fingerprint
                ):
                    self.rebuild()
                    return
                self._apply_pending()
                if self.count() != self._published_count():
                    self.rebuild()
                    return
            self._follow_changes()
            self._follow_vocabulary()
            self._apply_pending()
            self._follow()

    @property
    def changes_taken_in(self) -> int:
        """The newest change-log sequence this index holds (or has pending, applied before any read): a view
        built from the index at a newer change-log head may lack what came in between."""
        return self.journal.mark(CHANGES_MARK)

    @property
    def generation(self) -> tuple[object, ...]:
        """Changes whenever the index this process reads changes."""
        return (self._path, self._meta_stamp)

    def searcher(self) -> tantivy.Searcher:
        """A searcher over the index as of now (pending changes applied first)."""
        self.ensure_current()
        assert self._index is not None
        return self._index.searcher()

    def inside_query(self, pattern: str) -> tantivy.Query:
        """The `suffixes` terms that match `pattern` (analysis.inside_pattern), as a query. Kept: compiling the
        pattern's automaton costs a fraction of a millisecond, and the query fits any generation."""
        query = self._inside_queries.get(pattern)
        if query is None:
            if len(self._inside_queries) >= INSIDE_QUERIES:
                self._inside_queries.clear()
            query = self._inside_queries[pattern] = tantivy.Query.regex_query(self.schema, "suffixes", pattern)
        return query

    def tagged(self, concept: str, kinds: Sequence[str], limit: int) -> dict[str, tuple[int, Newest]]:
        """Per record kind: how many published records are tagged with the concept, a narrower one or one
        merged into it, and the newest `limit` of them (IRI -> titles by language). From the index, where
        every record is indexed with its concepts and their ancestors: a busy concept costs what a quiet one
        does."""
        searcher = self.searcher()
        tag = tantivy.Query.term_query(self.schema, "concepts", concept)
        found: dict[str, tuple[int, Newest]] = {}
        for kind in kinds:
            query = tantivy.Query.boolean_query(
                [
                    (tantivy.Occur.Must, tag),
                    (tantivy.Occur.Must, tantivy.Query.term_query(self.schema, "kind", kind)),
                ]
            )
            result = searcher.search(query, limit, count=True, order_by_field="date")
            found[kind] = (result.count or 0, _newest(searcher, result))
        return found

    def incoming(self, target: str, limit: int) -> dict[tuple[str, str], tuple[int, Newest]]:
        """Per (kind, property) of the published records that link to `target` by that property: how many
        there are, and the newest `limit` (IRI -> titles by language). The groups are the `links` terms that
        start with the target (a walk of the term dictionary); each costs one search that counts and finds
        the newest, so a busy actor or problem, linked from thousands of records, costs what a quiet one does."""
        searcher = self.searcher()
        found: dict[tuple[str, str], tuple[int, Newest]] = {}
        # The dictionary's counts include records replaced or withdrawn since the last merge: the search counts.
        for term, _ in searcher.terms_with_prefix("links", target + " "):
            kind, prop = term[len(target) + 1 :].split(" ", 1)
            query = tantivy.Query.term_query(self.schema, "links", term)
            result = searcher.search(query, limit, count=True, order_by_field="date")
            if result.count:
                found[(kind, prop)] = (int(result.count), _newest(searcher, result))
        return found

    def linked_by(
        self, query: tantivy.Query, prefixes: Sequence[str], top: int
    ) -> list[tuple[int, list[tuple[str, int]]]]:
        """For each prefix, the records whose IRI starts with it that the records matching `query` link to:
        how many there are, and the `top` most linked with how many of those records link to each. One pass
        over the matching records for all prefixes."""
        searcher = self.searcher()
        # Every record linked to is counted, not estimated, up to tantivy's most buckets. All links at once,
        # sorted by prefix here: an `include` pattern per prefix would walk every IRI with that prefix in the
        # index, in each segment (about 20 ms at a million records, however few records match).
        everything = {"all": {"terms": {"field": "linked", "size": LINKED_AT_ONCE}}}

        def counts(answer: dict[str, object]) -> list[tuple[str, int]]:
            return [(str(b["key"]), int(b["doc_count"])) for b in answer["buckets"]]  # type: ignore[attr-defined]

        counted_all = searcher.aggregate(query, everything)["all"]
        if len(counted_all["buckets"]) < LINKED_AT_ONCE and not counted_all.get("sum_other_doc_count"):
            every = counts(counted_all)
            by_prefix = [[(iri, n) for iri, n in every if iri.startswith(prefix)] for prefix in prefixes]
        else:  # more records linked to than one aggregation may count: one per prefix
            terms = {
                str(n): {"terms": {"field": "linked", "size": MAX_BUCKETS, "include": re.escape(prefix) + ".+"}}
                for n, prefix in enumerate(prefixes)
            }
            answer = searcher.aggregate(query, terms)
            by_prefix = [counts(answer[str(n)]) for n in range(len(prefixes))]
        found = []
        for counted in by_prefix:
            counted.sort(key=lambda e: (-e[1], e[0]))
            found.append((len(counted), counted[:top]))
        return found

    @staticmethod
    def _iri(searcher: tantivy.Searcher, address: tantivy.DocAddress) -> str:
        return str(searcher.doc(address).get_first("iri"))

    def count(self) -> int:
        index = self._index or self._open_current()
        return index.searcher().num_docs if index is not None else 0

    def agreement(self) -> tuple[int, int]:
        """(documents in the index, records the ledger has published), after applying pending changes:
        equal when the index is complete."""
        self.ensure_current()
        return self.count(), self._published_count()

    def _published_count(self) -> int:
        return int(self.services.ledger.count_by_status().get(RecordStatus.published.value, 0))

    # -- files and locks ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        """One writer at a time across processes (tantivy allows one IndexWriter per index)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "write.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _current_path(self) -> Path | None:
        try:
            name = (self.directory / "CURRENT").read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.directory / name
        return path if name and (path / "meta.json").exists() else None

    def _open_current(self) -> tantivy.Index | None:
        """The index CURRENT names, (re)opened when it is not the one this process has."""
        path = self._current_path()
        if path is None:
            self._index = self._path = None
            return None
        if path != self._path or self._index is None:
            try:
                index = tantivy.Index.open(str(path))
            except Exception:  # noqa: BLE001 - a damaged or foreign index is rebuilt, whatever the error
                log.warning("the search index in %s cannot be opened; it will be rebuilt", path)
                self._index = self._path = None
                return None
            analysis.register_analyzers(index)
            index.config_reader(reload_policy="manual")
            self._index, self._path, self._meta_stamp = index, path, self._stamp(path)
        return self._index

    @staticmethod
    def _stamp(path: Path) -> tuple[int, int] | None:
        try:
            info = (path / "meta.json").stat()
        except FileNotFoundError:
            return None
        return info.st_ino, info.st_mtime_ns

    def _follow(self) -> None:
        """Reload when another process committed to the index, or switched to a rebuilt one."""
        index = self._open_current()
        if index is None or self._path is None:
            return
        stamp = self._stamp(self._path)
        if stamp != self._meta_stamp:
            index.reload()
            self._meta_stamp = stamp

    def _state(self) -> dict[str, object]:
        if self._path is None:
            return {}
        try:
            return json.loads((self._path / "amv-state.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    # -- writing --------------------------------------------------------------------------------

    def _documents(self, iris: Sequence[str], thesaurus: Thesaurus) -> Iterator[tuple[str, RecordDoc | None]]:
        """Each record's document from its graph in the store (None for a record no longer public)."""
        services = self.services
        for start in range(0, len(iris), CHUNK):
            chunk = list(iris[start : start + CHUNK])
            graphs: dict[str, list[Triple]] = defaultdict(list)
            query = services.queries("search-record-graphs", graphs=[NamedNode(i) for i in chunk])
            for row in services.store.select(query):
                graphs[row["g"].value].append(Triple(row["s"], row["p"], row["o"]))  # type: ignore[arg-type]
            for iri in chunk:
                parsed = services.iris.parse_record(iri)
                triples = graphs.get(iri)
                if parsed is None or not triples:
                    yield iri, None
                else:
                    yield iri, record_doc(iri, parsed[0], triples, services.iris)

    def _apply_pending(self, known: Mapping[str, list[Triple] | None] | None = None) -> None:
        """Apply the journal in one writer commit. `known` holds the committed content of records this process
        just wrote (a bulk write): they are indexed from it instead of being read back from the store, unless
        the journal shows another change of the same record, which the store then has the last word on."""
        if not self.journal.high_water():
            return
        with contextlib.ExitStack() as locked:
            locked.enter_context(self._file_lock())
            high, iris = self.journal.peek()
            if not iris:
                return
            index = self._open_current()
            if index is None:
                self._rebuild_locked(None)
                return
            thesaurus = self.thesaurus
            given: dict[str, RecordDoc | None] = {}
            if known:
                repeated = self.journal.repeated(high)
                for iri in iris:
                    if iri in known and iri not in repeated:
                        triples, parsed = known[iri], self.services.iris.parse_record(iri)
                        given[iri] = (
                            record_doc(iri, parsed[0], triples, self.services.iris) if triples and parsed else None
                        )
            from_store = [iri for iri in iris if iri not in given]
            writer = index.writer(heap_size=50_000_000, num_threads=1)
            try:
                for iri, doc in [*given.items(), *self._documents(from_store, thesaurus)]:
                    writer.delete_documents_by_term("iri", iri)
                    if doc is not None:
                        writer.add_document(doc.document(thesaurus))
                writer.commit()
            except BaseException:
                with contextlib.suppress(Exception):
                    writer.rollback()
                raise
            # Committed: searchable now. The segment merges the commit set off finish in the background (tantivy
            # runs them outside the GIL), holding the write lock until then: a bulk import validates its next
            # batch meanwhile instead of waiting.
            self.journal.done(high)
            self._finish_merges(writer, locked.pop_all())
            index.reload()
            self._meta_stamp = self._stamp(self._path) if self._path else None

    def _finish_merges(self, writer: tantivy.IndexWriter, lock: contextlib.ExitStack) -> None:
        def finish() -> None:
            try:
                writer.wait_merging_threads()
            except Exception:  # noqa: BLE001 - the commit stands; an unfinished merge only leaves more segments
                log.exception("merging index segments failed")
            finally:
                lock.close()

        self.settle()
        self._merging = threading.Thread(target=finish, name="index-merges", daemon=True)
        self._merging.start()

    def settle(self) -> None:
        """Wait until the segment merges of this process's last commit are done."""
        merging, self._merging = self._merging, None
        if merging is not None:
            merging.join()

    def rebuild(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Build a fresh index from the store and switch to it; returns how many records it holds."""
        with self._lock, self._file_lock():
            return self._rebuild_locked(progress)

    def _rebuild_locked(self, progress: Callable[[int, int], None] | None) -> int:
        services = self.services
        self._thesaurus = None
        thesaurus = self.thesaurus
        high = self.journal.high_water()
        head = services.records.changelog.head()  # changes after this are followed again: harmless
        iris = sorted(services.ledger.iris_with_status(RecordStatus.published))
        path = self.directory / f"index-{time.time_ns()}"
        path.mkdir(parents=True)
        index = tantivy.Index(self.schema, path=str(path), reuse=False)
        analysis.register_analyzers(index)
        writer = index.writer(heap_size=200_000_000, num_threads=max(1, min(4, (os.cpu_count() or 1))))
        count = 0
        if progress:
            progress(0, len(iris))
        for done, (_iri, doc) in enumerate(self._documents(iris, thesaurus), 1):
            if doc is not None:
                writer.add_document(doc.document(thesaurus))
                count += 1
            if progress and (done % CHUNK == 0 or done == len(iris)):
                progress(done, len(iris))
        writer.commit()
        writer.wait_merging_threads()
        del writer
        self._write_state(path, thesaurus)
        self._switch(path)
        self.journal.done(high)
        self.journal.set_mark(CHANGES_MARK, head)
        self._checked = True
        return count

    def write_documents(self, docs: Iterator[RecordDoc], thesaurus: Thesaurus) -> int:
        """Build a fresh index from documents made elsewhere (benchmarks, imports) and switch to it."""
        with self._lock, self._file_lock():
            self._thesaurus = thesaurus
            path = self.directory / f"index-{time.time_ns()}"
            path.mkdir(parents=True)
            index = tantivy.Index(self.schema, path=str(path), reuse=False)
            analysis.register_analyzers(index)
            writer = index.writer(heap_size=400_000_000, num_threads=max(1, min(4, (os.cpu_count() or 1))))
            count = 0
            for doc in docs:
                writer.add_document(doc.document(thesaurus))
                count += 1
            writer.commit()
            writer.wait_merging_threads()
            del writer
            self._write_state(path, thesaurus)
            self._switch(path)
            self._checked = True
            return count

    def _write_state(self, path: Path, thesaurus: Thesaurus) -> None:
        state = {"schema": SCHEMA_VERSION, "thesaurus": thesaurus.fingerprint, "built": datetime.now(UTC).isoformat()}
        (path / "amv-state.json").write_text(json.dumps(state), encoding="utf-8")

    def _switch(self, path: Path) -> None:
        pointer = self.directory / "CURRENT.tmp"
        pointer.write_text(path.name, encoding="utf-8")
        os.replace(pointer, self.directory / "CURRENT")
        self._index = None
        self._open_current()
        for old in self.directory.glob("index-*"):
            if old != path:
                shutil.rmtree(old, ignore_errors=True)

    def close(self) -> None:
        self.settle()
        self.journal.close()


class IndexFollower:
    """Keeps this process's index current in a background thread of the web app: changes made by other
    workers and instances (the change log) are applied here, every CHANGES_CHECK_SECONDS, rather than by
    whichever request comes first. Requests that search still apply what is pending before they read."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amv-index-follower", daemon=True)

    @classmethod
    def start(cls, services: Services) -> IndexFollower:
        follower = cls(services)
        follower._thread.start()
        return follower

    def _loop(self) -> None:
        while not self._stop.wait(CHANGES_CHECK_SECONDS):
            try:
                self.services.search.ensure_current()
            except Exception:  # noqa: BLE001 - the next round (or the next search) tries again
                log.exception("following the change log into the search index failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
