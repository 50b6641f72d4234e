"""Building small records for tests, in Turtle, against the default base IRI."""

from __future__ import annotations

from functools import cache

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SKOS

from graph.dataset import SAMPLE_DIR, VOCABULARY_DIR
from graph.iris import mint_id
from graph.records import split_records
from graph.services import Services

PREFIXES = """\
@prefix amv: <https://w3id.org/arbejdsmiljoviden/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix factor: <https://w3id.org/arbejdsmiljoviden/vocab/factors/> .
@prefix industry: <https://w3id.org/arbejdsmiljoviden/vocab/industries/> .
"""

BASE = "https://w3id.org/arbejdsmiljoviden/"


def problem_turtle(record_id: str | None = None, *, title: str = "Støj i storkøkkener", extra: str = "") -> str:
    record_id = record_id or mint_id()
    return (
        PREFIXES
        + f"""
<{BASE}id/problem/{record_id}> a amv:Problem ;
    dct:title "{title}"@da , "Noise in commercial kitchens"@en ;
    dct:description "Høje lydniveauer fra opvask og ventilation i storkøkkener."@da ;
    amv:factor factor:5 ;
    amv:industry industry:I {extra} .
"""
    )


def triples(turtle: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]


def iri(kind: str, record_id: str) -> ox.NamedNode:
    return ox.NamedNode(f"{BASE}id/{kind}/{record_id}")


@cache
def files_graph() -> rdflib.Graph:
    """The factor and industry vocabularies and the sample records, straight from the files: the
    independent reference that tests compare the service's answers with."""
    graph = rdflib.Graph()
    for path in [VOCABULARY_DIR / "factors.ttl", VOCABULARY_DIR / "industries.ttl", *sorted(SAMPLE_DIR.glob("*.ttl"))]:
        graph.parse(path)
    return graph


def ancestors(graph: rdflib.Graph, concept: rdflib.term.Node) -> set[str]:
    """The concept and everything broader than it (skos:broader*), as IRIs."""
    found: set[str] = set()
    todo = [concept]
    while todo:
        node = todo.pop()
        if str(node) not in found:
            found.add(str(node))
            todo += list(graph.objects(node, SKOS.broader))
    return found


def pending_submission(services: Services, record_iri: str) -> None:
    """A problem with this IRI submitted for review (pending: not public anywhere)."""
    records, problems = split_records(triples(problem_turtle(record_iri.rsplit("/", 1)[1])), services.iris)
    assert not problems and len(records) == 1
    services.submissions.submit(records[0], agent="token:test-contributor")
