"""Records: split input into records, validate them, write them atomically, withdraw them.

A record is one resource typed with one of the five record classes, plus everything that hangs off
it (blank nodes it reaches, and `<record>#fragment` IRIs). Each record lives in its own named graph,
named by the record's IRI, so replacing a record is replacing its graph in one transaction.
Status and provenance go to the ledger in the same unit of work (see `graph.ledger`).
"""

from __future__ import annotations

import sqlite3
from collections import ChainMap, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.changelog import ChangeLog
from graph.iris import DCT, OWL, RDF_TYPE, SKOS, XSD, Iris, RecordKind, mint_id
from graph.ledger import Ledger, LedgerEntry, RecordStatus, now
from graph.locks import write_lock
from graph.sparql import Queries
from graph.store import Store, delete_data, insert_data
from graph.undo_log import UndoLog
from graph.validation import Validator, Violation

DCT_CREATED = NamedNode(DCT + "created")
DCT_MODIFIED = NamedNode(DCT + "modified")
DCT_TITLE = NamedNode(DCT + "title")
SYSTEM_PROPERTIES = {DCT_CREATED, DCT_MODIFIED}
#: The statements about a linked thing that the shapes look at (as sparql/reference-facts.rq selects them).
REFERENCE_FACTS = {RDF_TYPE, NamedNode(SKOS + "inScheme"), NamedNode(OWL + "deprecated")}
#: Records per unit of work in a bulk load: big enough that a batch's fixed costs (a changeset, an index
#: commit and its segment, the store's bulk load) are spread thin — 5,000 took 10-20% less CPU per record
#: than 2,000, measured in one run — and small enough that a batch is validated in a few seconds.
BULK_BATCH = 5_000


@dataclass
class Record:
    iri: NamedNode
    kind: RecordKind
    triples: list[Triple]

    def title(self, lang: str = "da") -> str:
        titles = {
            t.object.language or "": t.object.value
            for t in self.triples
            if t.subject == self.iri and t.predicate == DCT_TITLE and isinstance(t.object, Literal)
        }
        return titles.get(lang) or titles.get("en") or next(iter(titles.values()), self.iri.value)


@dataclass
class RecordOutcome:
    """What happened to one record of a load or submission."""

    iri: str
    kind: str
    title: str
    accepted: bool
    action: str = ""  # created | replaced | rejected
    violations: list[Violation] = field(default_factory=list)


@dataclass
class _Batch:
    """A batch of records planned for publishing (`Records._published_batch`), before it is written."""

    outcomes: list[RecordOutcome] = field(default_factory=list)
    written: list[Record] = field(default_factory=list)
    graphs: dict[NamedNode, list[Triple]] = field(default_factory=dict)
    ledger_rows: list[LedgerEntry] = field(default_factory=list)
    history: list[tuple[str, str, str, str | None]] = field(default_factory=list)


def _violation(focus: str, en: str, da: str, rule: str, path: str | None = None) -> Violation:
    return Violation(focus=focus, path=path, messages={"da": da, "en": en}, rule=rule)


def split_records(triples: Iterable[Triple], iris: Iris) -> tuple[list[Record], list[Violation]]:
    """Group triples into records; triples that belong to no record are reported, not dropped silently.

    A record given as a blank node gets a freshly minted IRI (the submitter left the id to us).
    """
    triples = list(triples)
    problems: list[Violation] = []
    kinds: dict[NamedNode | BlankNode, RecordKind] = {}
    for t in triples:
        if t.predicate == RDF_TYPE and isinstance(t.object, NamedNode):
            kind = iris.kind_of_class(t.object)
            if kind is None:
                continue
            if t.subject in kinds and kinds[t.subject] != kind:
                problems.append(
                    _violation(
                        str(t.subject.value),
                        "a record has exactly one record type",
                        "en post har præcis én posttype",
                        "record-type",
                    )
                )
            kinds[t.subject] = kind

    # Blank-node records get an IRI now; everything else must already be a record IRI of its kind.
    renamed: dict[BlankNode, NamedNode] = {}
    refused: set[str] = set()  # subjects already reported; their triples are not "stray" as well
    for subject, kind in list(kinds.items()):
        if isinstance(subject, BlankNode):
            renamed[subject] = iris.record(kind, mint_id())
            kinds[renamed[subject]] = kinds.pop(subject)
        else:
            parsed = iris.parse_record(subject)
            if parsed is None or parsed[0] != kind:
                problems.append(
                    _violation(
                        subject.value,
                        f"the IRI of a {kind.class_name} must be {iris.base}id/{kind.value}/"
                        " followed by an 8-character id",
                        f"IRI'en for en {kind.class_name} skal være {iris.base}id/{kind.value}/"
                        " efterfulgt af et id på 8 tegn",
                        "record-iri",
                    )
                )
                kinds.pop(subject)
                refused.add(str(subject))
    if renamed:
        triples = [
            Triple(renamed.get(t.subject, t.subject), t.predicate, renamed.get(t.object, t.object))  # type: ignore[arg-type]
            for t in triples
        ]

    # Assign each triple to a record: by subject, by `#fragment` of a record IRI, or by blank-node reach.
    owner: dict[NamedNode | BlankNode, NamedNode] = {s: s for s in kinds if isinstance(s, NamedNode)}
    for t in triples:
        if isinstance(t.subject, NamedNode) and t.subject not in owner and "#" in t.subject.value:
            base = NamedNode(t.subject.value.split("#", 1)[0])
            if base in kinds:
                owner[t.subject] = base
    by_subject: dict[NamedNode | BlankNode, list[Triple]] = defaultdict(list)
    for t in triples:
        by_subject[t.subject].append(t)
    frontier = list(owner)
    while frontier:
        node = frontier.pop()
        for t in by_subject.get(node, ()):
            if isinstance(t.object, BlankNode) and t.object not in owner:
                owner[t.object] = owner[node]
                frontier.append(t.object)

    grouped: dict[NamedNode, list[Triple]] = defaultdict(list)
    stray: set[str] = set()
    for t in triples:
        record = owner.get(t.subject)
        if record is not None:
            grouped[record].append(t)
        elif str(t.subject) not in refused:
            stray.add(str(t.subject))
    for subject in sorted(stray):
        problems.append(
            _violation(
                subject,
                "these statements belong to no record (a record is a resource typed amv:KnowledgeItem, amv:Problem, "
                "amv:Solution, amv:Actor or amv:Event)",
                "disse udsagn hører ikke til nogen post (en post er en ressource med typen amv:KnowledgeItem, "
                "amv:Problem, amv:Solution, amv:Actor eller amv:Event)",
                "stray-triples",
            )
        )
    records = [Record(iri, kinds[iri], grouped[iri]) for iri in sorted(grouped, key=lambda n: n.value)]
    return records, problems


def _as_published(
    record: Record,
    entry: LedgerEntry | None,
    timestamp: str,
    *,
    agent: str,
    source: str | None,
    approved_by: str | None = None,
    submitted_by: str | None = None,
) -> tuple[list[Triple], LedgerEntry, str]:
    """A record as written when published: its triples (with the system's created and modified dates), its
    ledger row and what writing it does ("created", or "replaced" for a published record's new version)."""
    created = entry.created if entry else timestamp
    triples = [t for t in record.triples if not (t.subject == record.iri and t.predicate in SYSTEM_PROPERTIES)]
    triples += [
        Triple(record.iri, DCT_CREATED, Literal(created, datatype=NamedNode(XSD + "dateTime"))),
        Triple(record.iri, DCT_MODIFIED, Literal(timestamp, datatype=NamedNode(XSD + "dateTime"))),
    ]
    action = "replaced" if entry and entry.status == RecordStatus.published else "created"
    row = LedgerEntry(
        iri=record.iri.value,
        kind=record.kind.value,
        status=RecordStatus.published,
        title=record.title(),
        created=created,
        modified=timestamp,
        submitted_by=entry.submitted_by if entry and entry.submitted_by else (submitted_by or agent),
        approved_by=approved_by or agent,
        source=source,
    )
    return triples, row, action


class Records:
    """The data-manager layer for records: what the CLI and the web call; never raw SPARQL from views."""

    def __init__(
        self, store: Store, ledger: Ledger, iris: Iris, validator: Validator, *, lock_dir: Path | None = None
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.iris = iris
        self.validator = validator
        self.queries = Queries(iris)
        self.changelog = ChangeLog(store, iris, self.queries)
        self.undo_log = UndoLog(ledger)
        #: Writers of one data directory take turns (processes and threads): the change log is numbered.
        self._lock_dir = lock_dir
        #: The change-log sequence numbers (first, last) of this process's latest write, for listeners.
        self.last_change: tuple[int, int] | None = None
        #: Called after every committed change to a record: (record IRI, its published triples, or
        #: None when it left the public dataset). Derived data (the search index) keeps itself current here.
        self.listeners: list[Callable[[str, list[Triple] | None], None]] = []
        #: The batch form of a listener, by that listener: after a bulk write it is called once with every
        #: change (IRI -> triples or None) instead of once per record (the search index commits once).
        self.batch_listeners: dict[
            Callable[[str, list[Triple] | None], None], Callable[[Mapping[str, list[Triple] | None]], None]
        ] = {}

    def _notify(self, iri: str, triples: list[Triple] | None) -> None:
        for listener in self.listeners:
            listener(iri, triples)

    def _notify_many(self, changes: Mapping[str, list[Triple] | None]) -> None:
        if not changes:
            return
        for listener in self.listeners:
            batch = self.batch_listeners.get(listener)
            if batch is not None:
                batch(changes)
            else:
                for iri, triples in changes.items():
                    listener(iri, triples)

    # -- validation ------------------------------------------------------------------------

    def reference_facts(
        self,
        records: Sequence[Record],
        context: Store | None = None,
        arriving: Mapping[NamedNode, Record] | None = None,
    ) -> list[Triple]:
        """What the shapes need to know about linked things: types, schemes, deprecation — from the
        store, or from `context` (a dataset being loaded, whose vocabularies are not in the store yet).
        A linked record in `arriving` (being written alongside, not yet in the store) speaks for itself."""
        batch = {r.iri for r in records}
        # Only our own IRIs (records, concepts, ontology) have such facts in the store; skipping web addresses
        # and other outside links saves a look-up per link (thousands in a bulk import).
        refs = sorted(
            {
                t.object
                for r in records
                for t in r.triples
                if isinstance(t.object, NamedNode) and t.object.value.startswith(self.iris.base)
            }
            - batch,
            key=lambda n: n.value,
        )
        facts: list[Triple] = []
        if arriving:
            present = [arriving[ref] for ref in refs if ref in arriving]
            facts += [t for r in present for t in r.triples if t.subject == r.iri and t.predicate in REFERENCE_FACTS]
            refs = [ref for ref in refs if ref not in arriving]
        for start in range(0, len(refs), 500):
            facts += (self.store if context is None else context).construct(
                self.queries("reference-facts", refs=refs[start : start + 500])
            )
        return facts

    def validate(
        self,
        records: Sequence[Record],
        *,
        context: Store | None = None,
        arriving: Mapping[NamedNode, Record] | None = None,
    ) -> dict[str, list[Violation]]:
        """Violations (and warnings) per record IRI; validated as one batch for speed. Links to records in
        `arriving` count as links to records that exist (they are written alongside)."""
        triples = [t for r in records for t in r.triples if t.predicate not in SYSTEM_PROPERTIES]
        # Results name their focus node by IRI; map it (and `#fragment` nodes) back to the record.
        owner = {t.subject.value: r.iri.value for r in records for t in r.triples if isinstance(t.subject, NamedNode)}
        # Only this batch's nodes are validated: the linked records' types are context, and validating
        # them would report them incomplete (a quarter of the validation time in a bulk import).
        report = self.validator.validate_records(
            triples + self.reference_facts(records, context, arriving), focus=[NamedNode(iri) for iri in owner]
        )
        found: dict[str, list[Violation]] = {r.iri.value: [] for r in records}
        for violation in report.violations:
            record = owner.get(violation.focus)  # a result about a node the batch's shapes reach
            if record is not None:
                found[record].append(violation)
        return found

    # -- writing ---------------------------------------------------------------------------

    def load(
        self, triples: Iterable[Triple], *, agent: str, source: str | None = None, skip_existing: bool = False
    ) -> list[RecordOutcome]:
        """Validate, then publish each valid record; a record with a violation is not written at all.
        Written BULK_BATCH records per unit of work (`publish_batches`). With `skip_existing`, records the
        ledger already knows are left as they are.

        Statements that belong to no record make the whole input fail: we cannot tell what the
        submitter meant, and writing part of it would silently drop the rest.
        """
        records, problems = split_records(triples, self.iris)
        if problems:
            return [
                RecordOutcome(p.focus, "", p.focus, accepted=False, action="rejected", violations=[p]) for p in problems
            ]
        if skip_existing:
            known = self.ledger.get_many(r.iri.value for r in records)
            records = [r for r in records if r.iri.value not in known]
        # Written in batches, but the input is one whole: a link to a record further on counts as present.
        batches = (records[start : start + BULK_BATCH] for start in range(0, len(records), BULK_BATCH))
        arriving = {r.iri: r for r in records}
        return [
            outcome
            for outcomes in self.publish_batches(batches, agent=agent, source=source, arriving=arriving)
            for outcome in outcomes
        ]

    def publish(
        self,
        record: Record,
        *,
        agent: str,
        source: str | None = None,
        approved_by: str | None = None,
        submitted_by: str | None = None,
        within: Callable[[sqlite3.Connection], None] | None = None,
    ) -> str:
        """Write a validated record as published: its graph and its ledger entry, as one unit.

        `within` runs inside the same ledger transaction (e.g. marking a submission approved)."""
        triples, row, action = _as_published(
            record,
            self.ledger.get(record.iri.value),
            now(),
            agent=agent,
            source=source,
            approved_by=approved_by,
            submitted_by=submitted_by,
        )

        def in_ledger(db: sqlite3.Connection) -> None:
            self.ledger.upsert(db, row)
            self.ledger.log(db, record.iri.value, agent, action, source)
            if within is not None:
                within(db)

        self._commit({record.iri: triples}, {record.iri: action}, in_ledger, agent=agent, reason=source or "")
        self._notify(record.iri.value, triples)
        return action

    def publish_many(
        self,
        records: Sequence[Record],
        *,
        agent: str,
        source: str | None = None,
        within: Callable[[sqlite3.Connection, Sequence[Record]], None] | None = None,
    ) -> list[RecordOutcome]:
        """Validate a batch in one call, then write every valid record as published in ONE unit: one ledger
        transaction and one store transaction (the store last, so a refusal rolls the ledger back too), and
        one notification of the whole batch. Records with a violation are not written; their outcome says why.

        `within(db, written)` runs inside the ledger transaction with the records being written."""
        batch = self._published_batch(records, self.validate(records), agent=agent, source=source)
        self._write_batch(batch, agent=agent, source=source, within=within)
        return batch.outcomes

    def publish_batches(
        self,
        batches: Iterable[Sequence[Record]],
        *,
        agent: str,
        source: str | None = None,
        arriving: Mapping[NamedNode, Record] | None = None,
    ) -> Iterator[list[RecordOutcome]]:
        """`publish_many` over a stream of batches (each its own unit), yielding each batch's outcomes as it
        is written — with the next batch validated on a second thread meanwhile. Validation is mostly
        Oxigraph evaluating the shapes and writing mostly the store and the search index, all of which let go
        of the GIL, so a bulk load keeps two cores busy. Each batch sees what the batches before it wrote,
        as in a loop of `publish_many`; links to records in `arriving` count as present."""
        iterator = iter(batches)
        records = next(iterator, None)
        if records is None:
            return
        known: Mapping[NamedNode, Record] = arriving or {}
        found = self.validate(records, arriving=known)
        with ThreadPoolExecutor(1, thread_name_prefix="validate-next") as validating:
            while records is not None:
                batch = self._published_batch(records, found, agent=agent, source=source)
                following = next(iterator, None)
                checked: Future[dict[str, list[Violation]]] | None = None
                if following is not None:
                    # The next batch may link to this one's records, which are not in the store yet.
                    in_flight = ChainMap({r.iri: r for r in batch.written}, known)  # not a copy of `known`
                    checked = validating.submit(self.validate, following, arriving=in_flight)
                try:
                    self._write_batch(batch, agent=agent, source=source, within=None)
                except BaseException:
                    if checked is not None:
                        checked.cancel()
                    raise
                yield batch.outcomes
                records, found = following, checked.result() if checked is not None else {}

    def _published_batch(
        self, records: Sequence[Record], found: Mapping[str, list[Violation]], *, agent: str, source: str | None
    ) -> _Batch:
        """What writing `records` as published means: the graphs, ledger rows and history of the valid ones,
        and an outcome for every one."""
        entries = self.ledger.get_many(r.iri.value for r in records)
        timestamp = now()
        batch = _Batch()
        for record in records:
            violations = found.get(record.iri.value, [])
            if any(v.is_violation for v in violations) or record.iri in batch.graphs:
                if record.iri in batch.graphs:  # the same record twice in one batch: which one is meant is unclear
                    violations = [
                        _violation(
                            record.iri.value,
                            "the record occurs more than once in the batch",
                            "posten forekommer mere end én gang i samlingen",
                            "duplicate-record",
                        )
                    ]
                batch.outcomes.append(
                    RecordOutcome(record.iri.value, record.kind.value, record.title(), False, "rejected", violations)
                )
                continue
            triples, row, action = _as_published(
                record, entries.get(record.iri.value), timestamp, agent=agent, source=source
            )
            batch.graphs[record.iri] = triples
            batch.written.append(record)
            batch.ledger_rows.append(row)
            batch.history.append((record.iri.value, agent, action, source))
            batch.outcomes.append(
                RecordOutcome(record.iri.value, record.kind.value, record.title(), True, action, violations)
            )
        return batch

    def _write_batch(
        self,
        batch: _Batch,
        *,
        agent: str,
        source: str | None,
        within: Callable[[sqlite3.Connection, Sequence[Record]], None] | None,
    ) -> None:
        if not batch.written:
            return
        actions = {NamedNode(iri): action for iri, _, action, _ in batch.history}

        def in_ledger(db: sqlite3.Connection) -> None:
            self.ledger.upsert_many(db, batch.ledger_rows)
            self.ledger.log_many(db, batch.history)
            if within is not None:
                within(db, batch.written)

        self._commit(batch.graphs, actions, in_ledger, agent=agent, reason=source or "")
        self._notify_many({g.value: triples for g, triples in batch.graphs.items()})

    def withdraw(self, iri: NamedNode, *, agent: str, reason: str, replaced_by: NamedNode | None = None) -> None:
        """Take a record out of the public dataset; its IRI keeps answering with a tombstone (410)."""
        entry = self.ledger.get(iri.value)
        if entry is None or entry.status != RecordStatus.published:
            raise LookupError(f"{iri.value} is not a published record")

        def in_ledger(db: sqlite3.Connection) -> None:
            self.ledger.upsert(
                db,
                LedgerEntry(
                    **{
                        **entry.__dict__,
                        "status": RecordStatus.withdrawn,
                        "modified": now(),
                        "withdrawn_reason": reason,
                        "replaced_by": replaced_by.value if replaced_by else None,
                    },
                ),
            )
            self.ledger.log(db, iri.value, agent, "withdrawn", reason)

        self._commit({iri: None}, {iri: "withdrawn"}, in_ledger, agent=agent, reason=reason)
        self._notify(iri.value, None)

    # -- the one write path ------------------------------------------------------------------

    def _lock(self) -> AbstractContextManager[None]:
        return write_lock(self._lock_dir) if self._lock_dir is not None else nullcontext()

    def _commit(
        self,
        graphs: Mapping[NamedNode, list[Triple] | None],
        actions: Mapping[NamedNode, str],
        in_ledger: Callable[[sqlite3.Connection], None],
        *,
        agent: str,
        reason: str,
    ) -> None:
        """Write record graphs (None: remove the graph) with their changeset in the change log (one for the
        write, naming every record of a batch), and
        their ledger change, as one unit that survives `kill -9` at any moment (graph.undo_log): the undo
        of the store change is noted first, the store is changed, and the ledger change commits together
        with the removal of the note — the moment the write is acknowledged."""
        with self._lock():
            existing = [g for g in graphs if self.ledger_has_graph(g)]
            before = {g: self.store.graph_triples(g) for g in existing}
            head = self.changelog.head()
            sequence = head + 1
            kinds = set(actions.values())
            linked_before = {
                t.object
                for triples in before.values()
                for t in triples
                if isinstance(t.object, NamedNode) and self.iris.parse_record(t.object) is not None
            }
            log = self.changelog.record_change(
                sequence,
                list(graphs),
                kinds.pop() if len(kinds) == 1 else "batch",
                created=now(),
                creator=agent,
                reason=reason,
                linked_before=sorted(linked_before, key=lambda n: n.value),
            )
            log_update = " ;\n".join(self.changelog.appending(head, log))
            old_head, new_head = self.changelog.advance(head, sequence)  # what the undo puts back
            undo = [f"DROP SILENT GRAPH {g}" for g in graphs]
            restored = {g: triples for g, triples in before.items() if triples}
            if restored:
                undo.append(insert_data(restored))
            change = self.changelog.changeset(sequence)
            undo.append(f"DELETE WHERE {{ GRAPH {self.changelog.graph} {{ {change} ?p ?o }} }}")
            undo.append(delete_data({self.changelog.graph: new_head}))
            if old_head:
                undo.append(insert_data({self.changelog.graph: old_head}))
            note = self.undo_log.begin(" ;\n".join(undo))
            try:
                written = {g: triples for g, triples in graphs.items() if triples is not None}
                removed = [g for g, triples in graphs.items() if triples is None]
                if removed:
                    self.store.update(" ;\n".join(f"DROP SILENT GRAPH {g}" for g in removed))
                if written:
                    self.store.replace_graphs(written, replaced=[g for g in existing if g in written])
                self.store.update(log_update)
            except BaseException:
                self.undo_log.cancel(note, self.store)
                raise
            try:
                with self.ledger.transaction() as db:
                    in_ledger(db)
                    self.undo_log.finish(db, note)
                self.last_change = (sequence, sequence)
            except BaseException:
                self.undo_log.cancel(note, self.store)  # the ledger refused: take the store change back
                raise

    def log_change(
        self, subjects: list[NamedNode], action: str, *, agent: str, reason: str, thesaurus: bool = True
    ) -> None:
        """Append a changeset about graphs that are not records (a SPARQL or Graph Store write to a scheme
        or the ontology; the link checker's report). With `thesaurus`, each subject counts as part of itself,
        so followers read the thesaurus again."""
        with self._lock():
            head = self.changelog.head()
            log = self.changelog.record_change(head + 1, subjects, action, created=now(), creator=agent, reason=reason)
            change = self.changelog.changeset(head + 1)
            if thesaurus:
                log += [Triple(change, NamedNode(DCT + "isPartOf"), subject) for subject in subjects]
            self.store.update(" ;\n".join(self.changelog.appending(head, log)))

    def ledger_has_graph(self, graph: NamedNode) -> bool:
        """Whether the store may hold a graph for this record now (it is or was published)."""
        entry = self.ledger.get(graph.value)
        return entry is not None and entry.status == RecordStatus.published

    def recover(self) -> int:
        """At start: take back store changes of writes that were never acknowledged (graph.undo_log)."""
        with self._lock():
            return self.undo_log.recover(self.store)

    # -- reading ---------------------------------------------------------------------------

    def triples(self, iri: NamedNode) -> list[Triple]:
        return self.store.graph_triples(iri)

    def counts(self) -> dict[str, int]:
        """Published records per kind, plus concepts and schemes (the home page's key numbers)."""
        rows = self.store.select(self.queries("counts"))
        by_class = {r["class"].value: int(r["n"].value) for r in rows if "class" in r}
        counts = {kind.value: by_class.get(self.iris.record_class(kind).value, 0) for kind in RecordKind}
        counts["concept"] = by_class.get("http://www.w3.org/2004/02/skos/core#Concept", 0)
        counts["scheme"] = by_class.get("http://www.w3.org/2004/02/skos/core#ConceptScheme", 0)
        return counts
