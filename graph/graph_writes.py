"""Writes by editors through SPARQL Update and the Graph Store Protocol, kept as safe as record loads.

Every write is applied under one write lock (shared by all worker processes), and the record graphs
it touched are validated afterwards like any other record write: if one breaks the shapes, or
touches a record that is not published, the touched graphs are put back as they were and the whole
write is refused. A record graph that a write changes is re-published (fresh dct:modified, ledger
entry, history); one it empties is withdrawn (its IRI keeps a tombstone). Other graphs are public.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import rdflib
from pyoxigraph import NamedNode, Triple
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate

from graph.ledger import RecordStatus
from graph.locks import write_lock
from graph.records import Record, split_records
from graph.services import Services
from graph.sparql_guard import keywords
from graph.store import QueryError
from graph.validation import Violation

ALL = "ALL"  # the write may touch any graph


class WriteRefused(Exception):
    """A write that was not applied; `status` is the HTTP status that fits, `violations` the reasons."""

    def __init__(self, status: int, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.violations = violations or []


@dataclass
class WriteResult:
    changed_records: list[str] = field(default_factory=list)
    withdrawn_records: list[str] = field(default_factory=list)


def _operations(update: str) -> list[object]:
    # SERVICE in an update's WHERE would make the store fetch from any address (LOAD is refused below).
    if "SERVICE" in keywords(update):
        raise WriteRefused(
            403,
            "SERVICE is not available in updates: it would make this server fetch from other servers. "
            "Send the data in the request instead (Graph Store Protocol or INSERT DATA).",
        )
    try:
        return list(translateUpdate(parseUpdate(update)).algebra)
    except Exception as exc:  # noqa: BLE001 - rdflib raises many kinds of parse errors
        raise WriteRefused(400, f"The update is not valid SPARQL 1.1 Update: {exc}") from None


def _part(op: object, name: str) -> object:
    """A part of an rdflib algebra node, or None (CompValue.get answers a missing key with its name)."""
    return op[name] if name in op else None  # type: ignore[operator, index]  # noqa: SIM401 - CompValue.get differs


def written_graphs(update: str) -> set[str] | str:
    """The IRIs of the named graphs an update may write to, or ALL; refuses LOAD and bad syntax."""
    return _written_graphs(_operations(update))


def _written_graphs(operations: list[object]) -> set[str] | str:
    graphs: set[str] = set()

    def graph_ref(ref: object) -> None:
        nonlocal graphs
        if isinstance(ref, rdflib.URIRef):
            graphs.add(str(ref))
        elif ref in ("ALL", "NAMED") or isinstance(ref, rdflib.Variable):
            graphs.add(ALL)

    for op in operations:
        name = op.name  # type: ignore[attr-defined]
        if name == "Load":
            raise WriteRefused(
                403,
                "LOAD is not available: it would make this server fetch from the web. "
                "Send the data in the request instead (Graph Store Protocol or INSERT DATA).",
            )
        if name in ("InsertData", "DeleteData", "DeleteWhere"):
            for g in _part(op, "quads") or {}:
                graph_ref(g)
        elif name == "Modify":
            graph_ref(_part(op, "withClause"))
            for part in ("delete", "insert"):
                clause = _part(op, part)
                for g in (_part(clause, "quads") if clause is not None else None) or {}:
                    graph_ref(g)
        elif name in ("Clear", "Drop"):
            graph_ref(_part(op, "graphiri"))
        elif name in ("Add", "Copy", "Move"):
            source, target = _part(op, "graph")  # type: ignore[misc]
            graph_ref(target)
            if name == "Move":
                graph_ref(source)
    return ALL if ALL in graphs else graphs


def _names_its_dataset(operations: list[object]) -> bool:
    """True when an operation has USING, USING NAMED or WITH (then the protocol's using-* must not be sent)."""
    return any(
        op.name == "Modify" and (_part(op, "using") or _part(op, "withClause") is not None)  # type: ignore[attr-defined]
        for op in operations
    )


def apply_update(
    services: Services,
    update: str,
    *,
    agent: str,
    using_graphs: Sequence[str] = (),
    using_named_graphs: Sequence[str] = (),
    written: set[str] | None = None,
    source: str = "sparql-update",
) -> WriteResult:
    """Apply a SPARQL Update for an editor, with the record rules above; raises WriteRefused.

    `using_graphs` / `using_named_graphs` are the protocol's `using-graph-uri` / `using-named-graph-uri`
    (refused with USING, USING NAMED or WITH in the update, as SPARQL 1.1 Protocol requires).
    `written` is for callers that built the update themselves from parsed data (the Graph Store
    Protocol): the exact IRIs of the graphs it writes, which spares parsing a large INSERT DATA.
    """
    if written is not None:
        targets: set[str] | str = written
    else:
        operations = _operations(update)
        targets = _written_graphs(operations)
        if (using_graphs or using_named_graphs) and _names_its_dataset(operations):
            raise WriteRefused(
                400,
                "using-graph-uri / using-named-graph-uri cannot be combined with USING, USING NAMED or WITH "
                "in the update: name the dataset in one place only.",
            )
    iris = services.iris
    with write_lock(services.settings.data_dir):
        if targets == ALL:
            record_graphs = [g for g in services.store.named_graphs() if iris.parse_record(g)]
        else:
            record_graphs = [NamedNode(g) for g in sorted(targets) if iris.parse_record(g)]
        before = {g: services.store.graph_triples(g) for g in record_graphs}
        try:
            services.store.update(update, using_graphs=using_graphs, using_named_graphs=using_named_graphs)
        except QueryError as exc:
            raise WriteRefused(400, f"The store refused the update: {exc}") from None
        if targets == ALL:
            record_graphs = sorted(
                set(record_graphs) | {g for g in services.store.named_graphs() if iris.parse_record(g)},
                key=lambda n: n.value,
            )
            before.update({g: [] for g in record_graphs if g not in before})
        after = {g: services.store.graph_triples(g) for g in record_graphs}
        changed = [g for g in record_graphs if set(before[g]) != set(after[g])]
        try:
            result = _settle(services, changed, after, agent=agent, source=source)
        except WriteRefused:
            for graph in changed:
                services.store.replace_graph(graph, before[graph])
            raise
        # Record graphs were logged by their publication; other graphs (schemes, the ontology) get a
        # changeset of their own, so that followers of the change log (other instances' search indexes and
        # cached pages) see the write too.
        others = [services.iris.base] if targets == ALL else sorted(t for t in targets if not iris.parse_record(t))
        if others:
            services.records.log_change([NamedNode(g) for g in others], "sparql-update", agent=agent, reason=source)
        return result


def _settle(
    services: Services,
    changed: list[NamedNode],
    after: dict[NamedNode, list[Triple]],
    *,
    agent: str,
    source: str,
) -> WriteResult:
    """Validate and record what a write did to record graphs (raises WriteRefused to undo it)."""
    iris = services.iris
    result = WriteResult()
    emptied = [g for g in changed if not after[g]]
    filled = [g for g in changed if after[g]]
    for graph in changed:
        if services.submissions.open_for(graph.value):
            raise WriteRefused(
                409,
                f"{graph.value} is a record waiting for review: decide it through the submission workflow instead.",
            )
    records: list[Record] = []
    problems: list[Violation] = []
    for graph in filled:
        found, structural = split_records(after[graph], iris)
        problems += structural
        if [r.iri for r in found] != [graph]:
            problems.append(
                Violation(
                    graph.value,
                    None,
                    {
                        "en": "a record graph must hold exactly its own record, typed with its record class",
                        "da": "en postgraf skal indeholde netop sin egen post med dens posttype",
                    },
                    rule="record-graph",
                )
            )
        records += [r for r in found if r.iri == graph]
    if records:
        found_violations = services.records.validate(records)
        problems += [v for r in records for v in found_violations.get(r.iri.value, []) if v.is_violation]
    if problems:
        raise WriteRefused(422, "The write breaks the record rules; nothing was changed.", problems)
    for record in records:
        services.records.publish(record, agent=agent, source=source)
        result.changed_records.append(record.iri.value)
    for graph in emptied:
        entry = services.ledger.get(graph.value)
        if entry is not None and entry.status == RecordStatus.published:
            services.records.withdraw(graph, agent=agent, reason="removed by an editor through the SPARQL interface")
            result.withdrawn_records.append(graph.value)
    return result
