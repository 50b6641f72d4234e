"""The change log: one ordered, durable log of every change to the public graph, kept in the store.

Every write appends a `cs:ChangeSet` (the Talis changeset vocabulary) to the named graph
`<base>changes`, in the SAME SPARQL update as the change itself, so the data and the log never
disagree:
- a thesaurus edit (graph.vocab_edit) logs who, when, why, the scheme (`dct:isPartOf`) and the
  statements added and removed (reified);
- a record write (graph.records) logs the records it changed and what happened to them (`amv:action`:
  created, replaced, withdrawn, or batch for a bulk write of several kinds) — their content is the records'
  graphs themselves, and their versions are in the ledger.

Changesets are numbered 1, 2, 3 … (`amv:sequence`) and named `<base>changes/{n}`; the newest number is
kept in one statement, `<base>changes amv:head n`, so that appending costs one look-up however long
the log is, and a follower (another app instance, the search index after a restart, a webhook
worker) reads what happened after the sequence it has seen by naming the changesets it has not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import RDF_TYPE, XSD, Iris
from graph.sparql import Queries
from graph.store import Store, delete_data, insert_data

CS = "http://purl.org/vocab/changeset/schema#"
#: How many changesets one follow step reads at most (a follower far behind catches up in steps).
FOLLOW_BATCH = 2_000


@dataclass(frozen=True)
class ChangeEntry:
    """What a follower needs to know about one changeset."""

    sequence: int
    subject: str
    scheme: str | None  # set for thesaurus edits
    action: str | None  # set for record writes

    @property
    def thesaurus_edit(self) -> bool:
        """Whether it changed a concept scheme or the ontology (rather than records)."""
        return self.scheme is not None


class ChangeLog:
    def __init__(self, store: Store, iris: Iris, queries: Queries) -> None:
        self.store = store
        self.iris = iris
        self.queries = queries
        self.graph = NamedNode(iris.base + "changes")
        self._head = NamedNode(iris.amv + "head")
        self._sequence = NamedNode(iris.amv + "sequence")
        self._linked_before = NamedNode(iris.amv + "linkedBefore")

    def changeset(self, sequence: int) -> NamedNode:
        return NamedNode(f"{self.iris.base}changes/{sequence}")

    def head(self) -> int:
        """The number of the newest changeset (0 for an empty log). Logs written before the head
        statement existed are counted once."""
        rows = self.store.select(self.queries("change-log-head", graph=self.graph))
        if rows and "head" in rows[0]:
            return int(rows[0]["head"].value)
        rows = self.store.select(self.queries("last-change", graph=self.graph))
        value = rows[0].get("sequence") if rows else None
        return int(value.value) if value is not None else 0

    def created(self, sequence: int) -> str:
        """When changeset `sequence` was made (ISO 8601, UTC; "" when there is no such changeset)."""
        rows = self.store.select(self.queries("change-log-created", graph=self.graph, change=self.changeset(sequence)))
        return rows[0]["created"].value if rows else ""

    def advance(self, old: int, new: int) -> tuple[list[Triple], list[Triple]]:
        """The statements to remove and to add (in the same update as the change) to move the head."""
        removed = [Triple(self.graph, self._head, _integer(old))] if old else []
        return removed, [Triple(self.graph, self._head, _integer(new))]

    def appending(self, head: int, log: list[Triple]) -> list[str]:
        """The update operations that append changeset `head + 1` (its statements `log`) and move the head; a
        writer sends them in the same update as its change."""
        old_head, new_head = self.advance(head, head + 1)
        return [*([delete_data({self.graph: old_head})] if old_head else []), insert_data({self.graph: log + new_head})]

    def header(self, sequence: int, subject: NamedNode, *, created: str, creator: str, reason: str) -> list[Triple]:
        """The statements every changeset has."""
        change = self.changeset(sequence)
        return [
            Triple(change, RDF_TYPE, NamedNode(CS + "ChangeSet")),
            Triple(change, NamedNode(CS + "subjectOfChange"), subject),
            Triple(change, NamedNode(CS + "createdDate"), Literal(created, datatype=NamedNode(XSD + "dateTime"))),
            Triple(change, NamedNode(CS + "creatorName"), Literal(creator)),
            Triple(change, NamedNode(CS + "changeReason"), Literal(reason or "")),
            Triple(change, self._sequence, _integer(sequence)),
        ]

    def record_change(
        self,
        sequence: int,
        records: list[NamedNode],
        action: str,
        *,
        created: str,
        creator: str,
        reason: str = "",
        linked_before: Iterable[NamedNode] = (),
    ) -> list[Triple]:
        """The changeset of a record write: one per write, naming each record it changed (a bulk import
        is one changeset with many subjects) and the records that the replaced or withdrawn ones linked to
        before (`amv:linkedBefore`: their pages count their linking records, so a follower learns that
        they changed too, which the store no longer shows once the links are gone)."""
        change = self.changeset(sequence)
        header = self.header(sequence, records[0], created=created, creator=creator, reason=reason)
        return [
            *header,
            *(Triple(change, NamedNode(CS + "subjectOfChange"), record) for record in records[1:]),
            Triple(change, NamedNode(self.iris.amv + "action"), Literal(action)),
            *(Triple(change, self._linked_before, record) for record in linked_before),
        ]

    def linked_before(self, sequences: Sequence[int]) -> dict[int, set[str]]:
        """Per changeset: the records that the records it replaced or withdrew linked to before."""
        if not sequences:
            return {}
        changes = [self.changeset(n) for n in sequences]
        rows = self.store.select(self.queries("change-log-linked-before", graph=self.graph, changes=changes))
        found: dict[int, set[str]] = {}
        for row in rows:
            found.setdefault(int(row["sequence"].value), set()).add(row["record"].value)
        return found

    def entries(self, after: int, upto: int) -> list[ChangeEntry]:
        """The changesets numbered after..upto (at most FOLLOW_BATCH of them), oldest first."""
        last = min(upto, after + FOLLOW_BATCH)
        if last <= after:
            return []
        names = [self.changeset(n) for n in range(after + 1, last + 1)]
        rows = self.store.select(self.queries("change-log-entries", graph=self.graph, changes=names))
        entries = [
            ChangeEntry(
                sequence=int(row["sequence"].value),
                subject=row["subject"].value,
                scheme=row["scheme"].value if "scheme" in row else None,
                action=row["action"].value if "action" in row else None,
            )
            for row in rows
        ]
        return sorted(entries, key=lambda e: e.sequence)


def _integer(value: int) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD + "integer"))
