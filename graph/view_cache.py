"""View models that depend only on the public data, kept until the data changes.

Some pages sum up the whole dataset (about, coverage, scheme trees) and cost tens of milliseconds to
seconds to compute; under load that is what pushes page p99 up. They are computed once per data version:

- `Scope.data`: the change log's newest sequence number (every record write, thesaurus edit and SPARQL
  write appends to it) and the ledger's newest history row. Both are one look-up, so a cached page is
  current the moment anything changes — also when another process or app instance made the change.
- `Scope.thesaurus`: the newest change-log entry that touched a concept scheme or the ontology (a scheme
  tree does not change when a record is approved). The cache reads the entries it has not seen when the
  head moves — one query per write, not per request.

Three ways to read:

- `get`: exact. When many requests find the same view out of date, one computes it and the others wait
  for that result (no stampede of identical computations competing for the CPU).
- `latest`: for whole-dataset summaries that take seconds at national scale (the coverage map, the
  dataset's statistics). After a change, one background thread computes the new figures; until they are
  ready, callers get the previous ones, which carry the time they were counted (`Counted.at`) so the page
  can say so. Only the first computation ever is waited for.
- `of_records`: for a view of some records (an actor's figures), kept until a change touches one of
  them (graph.view_cache.ChangeTracker), not until any change.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pyoxigraph import NamedNode

from graph.changelog import ChangeEntry
from graph.clock import today_in_copenhagen

if TYPE_CHECKING:
    from graph.services import Services

T = TypeVar("T")
#: At most this many views are kept (e.g. scheme pages in two languages).
MAX_ENTRIES = 64
#: At most this many views of records are kept (an actor's figures, what links to a record: a few kB each).
MAX_RECORD_VIEWS = 512
#: Records whose links are read in one query when following the change log.
LINK_CHUNK = 500

log = logging.getLogger(__name__)


class Scope(Enum):
    data = "data"  # anything public
    thesaurus = "thesaurus"  # the concept schemes and the ontology only
    pages = "pages"  # anything public, the search index this process reads and the date in Denmark (whole pages)


@dataclass(frozen=True)
class Counted(Generic[T]):
    """A summary and when it was counted (UTC); `current` is False while newer figures are being computed."""

    value: T
    at: datetime
    current: bool


@dataclass
class _Entry:
    version: Hashable
    value: Any
    at: datetime


class ChangeTracker:
    """What this process has read of the change log: for each record, the newest change that touched it
    — its own write, or a write of a record that links to it, or linked to it before a replacement or
    withdrawal (the pages of both show both; a page counts all records linking to it) — and the
    newest change that was not a record write (a thesaurus edit, a link report, a release, a SPARQL write).
    Reading the log costs one query per write (plus one for the written records' links), not per request."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._lock = threading.Lock()
        self._seen: int | None = None
        self.epoch = 0  # moves when the log went backwards (a restored store): everything is new then
        self.thesaurus = 0
        self.other = 0
        self._records: dict[str, int] = {}
        self._kinds: dict[str, int] = {}  # record kind -> newest write of a record of that kind

    def follow(self) -> int:
        """Read the log up to its head; returns the head."""
        changelog = self.services.records.changelog
        head = changelog.head()
        with self._lock:
            seen = self._seen
            if seen is None or head < seen:  # first call in this process, or a restored (older) store
                self.epoch += seen is not None
                self._seen, self.thesaurus, self.other = head, head, head
                self._records.clear()
                self._kinds.clear()
                return head
            if head == seen:
                return head
        entries: list[ChangeEntry] = []
        while seen < head:
            batch = changelog.entries(seen, head)
            if not batch:
                break
            entries += batch
            seen = batch[-1].sequence
        written = sorted({e.subject for e in entries if not e.thesaurus_edit and self._is_record(e.subject)})
        links = self._links(written)
        rewrites = sorted({e.sequence for e in entries if e.action not in (None, "created")})
        unlinked = self.services.records.changelog.linked_before(rewrites)
        with self._lock:
            for entry in entries:
                if entry.thesaurus_edit:
                    self.thesaurus = max(self.thesaurus, entry.sequence)
                if entry.thesaurus_edit or not self._is_record(entry.subject):
                    self.other = max(self.other, entry.sequence)
                    continue
                touched = (entry.subject, *links.get(entry.subject, ()), *unlinked.get(entry.sequence, ()))
                for record in touched:
                    self._records[record] = max(self._records.get(record, 0), entry.sequence)
                kind = self._kind(entry.subject)
                self._kinds[kind] = max(self._kinds.get(kind, 0), entry.sequence)
            self._seen = max(self._seen or 0, seen)
        return head

    def changed_since(self, head: int, records: Iterable[str] = (), kinds: Iterable[str] = ()) -> bool:
        """Whether anything but record writes, a write touching one of `records`, or a write of a record of
        one of `kinds` came after `head`."""
        with self._lock:
            return (
                self.other > head
                or any(self._records.get(r, 0) > head for r in records)
                or any(self._kinds.get(k, 0) > head for k in kinds)
            )

    def _is_record(self, iri: str) -> bool:
        return self.services.iris.parse_record(iri) is not None

    def _kind(self, iri: str) -> str:
        parsed = self.services.iris.parse_record(iri)
        return parsed[0].value if parsed else ""

    def _links(self, records: list[str]) -> dict[str, set[str]]:
        services = self.services
        found: dict[str, set[str]] = {}
        for start in range(0, len(records), LINK_CHUNK):
            graphs = [NamedNode(r) for r in records[start : start + LINK_CHUNK]]
            query = services.queries("record-links", graphs=graphs, prefix=services.iris.record_prefix())
            for row in services.store.select(query):
                found.setdefault(row["g"].value, set()).add(row["target"].value)
        return found


@dataclass(frozen=True)
class _RecordsView:
    value: Any
    records: frozenset[str]  # the records it shows: a change touching one of them after `head` outdates it
    head: int
    epoch: int
    day: date


class ViewCache:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.changes = ChangeTracker(services)
        self._entries: dict[Hashable, _Entry] = {}
        self._records_views: OrderedDict[Hashable, _RecordsView] = OrderedDict()  # least recently used first
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Event] = {}  # key -> set when its computation ends

    # -- versions ------------------------------------------------------------------------------

    def version(self, scope: Scope = Scope.data) -> Hashable:
        if scope is Scope.pages:
            # The index as this process reads it now (kept current by graph.search.index.IndexFollower and by
            # every search): a page built meanwhile from an older index is built again once the index moves.
            generation = self.services.search.generation
            return (*self.version(Scope.data), generation, today_in_copenhagen())
        if scope is Scope.thesaurus:
            self.changes.follow()
            return ("thesaurus", self.changes.epoch, self.changes.thesaurus)
        return self.services.records.changelog.head(), self.services.ledger.latest_change()[0]

    def record_head(self) -> int:
        """The change-log head a view of some records is built at, for `ChangeTracker.changed_since`: the
        older of what the tracker has read and what the search index holds (another instance's change
        reaches this index up to CHANGES_CHECK_SECONDS later), so that a view built from an index that
        lacks a change is built again once it has it."""
        return min(self.changes.follow(), self.services.search.changes_taken_in)

    # -- reading -------------------------------------------------------------------------------

    def of_records(self, key: Hashable, compute: Callable[[], tuple[T, Iterable[str]]]) -> T:
        """A view of some records, kept until a change touches one of the records `compute` says it shows
        (or anything but a record changes, or the date): an actor's figures stay while none of its
        records changes, however many other records are written. Computed once however many ask at once."""
        head, epoch, today = self.record_head(), self.changes.epoch, today_in_copenhagen()

        def kept() -> tuple[bool, Any]:
            view = self._records_views.get(key)
            if view is None or (view.epoch, view.day) != (epoch, today):
                return False, None
            if self.changes.changed_since(view.head, view.records):
                return False, None
            self._records_views.move_to_end(key)
            return True, view.value

        def compute_and_keep() -> T:
            value, records = compute()
            with self._lock:
                self._records_views[key] = _RecordsView(value, frozenset(records), head, epoch, today)
                while len(self._records_views) > MAX_RECORD_VIEWS:
                    self._records_views.popitem(last=False)
            return value

        return self._computed_once(key, kept, compute_and_keep)

    def get(self, key: Hashable, compute: Callable[[], T], scope: Scope = Scope.data) -> T:
        """The view for the current data version; computed once per version, however many ask at once."""
        version = self.version(scope)

        def kept() -> tuple[bool, Any]:
            entry = self._entries.get(key)
            return (True, entry.value) if entry is not None and entry.version == version else (False, None)

        def compute_and_keep() -> T:
            value = compute()
            self._store(key, version, value)
            return value

        return self._computed_once(key, kept, compute_and_keep)

    def latest(self, key: Hashable, compute: Callable[[], T], scope: Scope = Scope.data) -> Counted[T]:
        """The newest figures there are, never waiting for a recomputation once figures exist."""
        version = self.version(scope)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                return Counted(entry.value, entry.at, True)
            start = entry is not None and key not in self._computing
            if start:
                self._computing[key] = threading.Event()
        if entry is None:  # nothing to show yet: compute now (once)
            value = self.get(key, compute, scope)
            with self._lock:
                at = self._entries[key].at if key in self._entries else datetime.now(UTC)
            return Counted(value, at, True)
        if start:
            threading.Thread(target=self._refresh, args=(key, compute, version), daemon=True).start()
        return Counted(entry.value, entry.at, False)

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until no view is being computed (tests, and `latest` callers that must see the newest)."""
        with self._lock:
            running = list(self._computing.values())
        for event in running:
            event.wait(timeout)

    # -- internals -----------------------------------------------------------------------------

    def _computed_once(self, key: Hashable, kept: Callable[[], tuple[bool, Any]], compute: Callable[[], T]) -> T:
        """What `kept` finds (looked at under the lock), or else what `compute` gives: one thread computes
        it, the others asking meanwhile wait for it and look again."""
        while True:
            with self._lock:
                found, value = kept()
                if found:
                    return value  # type: ignore[no-any-return]
                running = self._computing.get(key)
                if running is None:
                    running = self._computing[key] = threading.Event()
                    break
            running.wait()  # another thread computes it; then look again
        try:
            return compute()
        finally:
            self._finish(key, running)

    def _refresh(self, key: Hashable, compute: Callable[[], Any], version: Hashable) -> None:
        with self._lock:
            running = self._computing[key]
        try:
            self._store(key, version, compute())
        except Exception:  # the previous figures stay; the next request tries again
            log.exception("recomputing the view %r failed", key)
        finally:
            self._finish(key, running)

    def _store(self, key: Hashable, version: Hashable, value: Any) -> None:
        with self._lock:
            if key not in self._entries and len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = _Entry(version, value, datetime.now(UTC))

    def _finish(self, key: Hashable, running: threading.Event) -> None:
        with self._lock:
            if self._computing.get(key) is running:
                del self._computing[key]
        running.set()
