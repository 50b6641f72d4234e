"""The public dataset's fixed parts: the ontology and the concept schemes, loaded from their files,
plus the sample records; and whole-store validation.

Files are the source of truth for the ontology and the vocabularies (reviewed like code). Each scheme
file holds exactly one skos:ConceptScheme and is stored in the named graph of that scheme's IRI; the
ontology is stored in the graph `<base>ontology`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Triple

from graph.config import PROJECT_ROOT
from graph.iris import RDF_TYPE, SKOS, Iris
from graph.rdf import RdfSyntaxError, parse_file
from graph.records import Record, RecordOutcome, Records
from graph.sparql import Queries
from graph.store import Store
from graph.validation import ValidationReport, Validator, Violation

ONTOLOGY_FILE = PROJECT_ROOT / "ontology" / "amv.ttl"
VOCABULARY_DIR = PROJECT_ROOT / "vocabularies"
SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"

CONCEPT_SCHEME = NamedNode(SKOS + "ConceptScheme")

Tick = Callable[[str], None]


@dataclass(frozen=True)
class GraphFile:
    path: Path
    graph: NamedNode
    triples: list[Triple]


def read_ontology(iris: Iris) -> GraphFile:
    triples = list(iris.rebase_triples(q.triple for q in parse_file(ONTOLOGY_FILE)))
    return GraphFile(ONTOLOGY_FILE, iris.ontology, triples)


def read_scheme(path: Path, iris: Iris) -> GraphFile:
    triples = list(iris.rebase_triples(q.triple for q in parse_file(path)))
    schemes = {t.subject for t in triples if t.predicate == RDF_TYPE and t.object == CONCEPT_SCHEME}
    if len(schemes) != 1:
        raise RdfSyntaxError(
            f"{path}: a vocabulary file must hold exactly one skos:ConceptScheme, found {len(schemes)}"
        )
    (scheme,) = schemes
    assert isinstance(scheme, NamedNode)
    return GraphFile(path, scheme, triples)


def read_vocabularies(iris: Iris, directory: Path = VOCABULARY_DIR) -> list[GraphFile]:
    return [read_scheme(path, iris) for path in sorted(directory.glob("*.ttl"))]


def sample_files() -> list[Path]:
    return sorted(SAMPLE_DIR.glob("*.ttl"))


def load_fixed_graphs(store: Store, iris: Iris, *, refresh: bool, tick: Tick | None = None) -> list[str]:
    """Load the ontology and every scheme whose graph is missing (or all of them with `refresh`).

    Without `refresh` an existing graph is left alone, so edits made in the running service are
    never overwritten by running `amv init` again.
    """
    existing = set(store.named_graphs())
    loaded = []
    for graph_file in [read_ontology(iris), *read_vocabularies(iris)]:
        if refresh or graph_file.graph not in existing:
            store.replace_graph(graph_file.graph, graph_file.triples)
            loaded.append(graph_file.graph.value)
        if tick:
            tick(graph_file.path.name)
    return loaded


def load_sample(records: Records, *, agent: str) -> list[RecordOutcome]:
    """Publish the sample records that are not in the ledger yet (all files as one batch, since
    sample records link to each other across files)."""
    triples = records.iris.rebase_triples(q.triple for path in sample_files() for q in parse_file(path))
    return records.load(triples, agent=agent, source="data/sample", skip_existing=True)


def validate_store(store: Store, records: Records, validator: Validator, tick: Tick | None = None) -> ValidationReport:
    """Everything public, checked: every scheme graph (SKOS shapes + skosify) and every record graph."""
    queries = Queries(records.iris)
    report = ValidationReport()
    scheme_graphs = [r["scheme"] for r in store.select(queries("scheme-graphs"))]
    vocabulary = [t for g in scheme_graphs for t in store.graph_triples(g)]  # type: ignore[arg-type]
    report.violations += validator.validate_vocabularies(vocabulary).violations
    if tick:
        tick("vocabularies")

    by_record: dict[NamedNode, list[Triple]] = defaultdict(list)
    for quad in store.quads():
        if isinstance(quad.graph_name, NamedNode) and records.iris.parse_record(quad.graph_name):
            by_record[quad.graph_name].append(quad.triple)
    batch: list[Record] = []
    for iri, triples in sorted(by_record.items(), key=lambda kv: kv[0].value):
        parsed = records.iris.parse_record(iri)
        assert parsed is not None
        batch.append(Record(iri, parsed[0], triples))
        if len(batch) == 500:
            report.violations += _flatten(records.validate(batch))
            batch = []
            if tick:
                tick("records")
    if batch:
        report.violations += _flatten(records.validate(batch))
    if tick:
        tick("records")
    return report


def _flatten(found: dict[str, list[Violation]]) -> list[Violation]:
    return [v for violations in found.values() for v in violations]
