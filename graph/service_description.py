"""The SPARQL 1.1 Service Description of the public endpoint."""

from __future__ import annotations

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.iris import DCT, RDF_TYPE, Iris

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"

RESULT_FORMATS = [
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
]


def service_description(iris: Iris, endpoint: str, available: bool) -> list[Triple]:
    service = BlankNode()
    dataset = BlankNode()
    default_graph = BlankNode()
    sd = lambda name: NamedNode(SD + name)  # noqa: E731 - local shorthand
    triples = [
        Triple(service, RDF_TYPE, sd("Service")),
        Triple(service, sd("endpoint"), NamedNode(endpoint)),
        Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        Triple(service, sd("feature"), sd("UnionDefaultGraph")),
        Triple(service, sd("defaultDataset"), dataset),
        Triple(dataset, RDF_TYPE, sd("Dataset")),
        Triple(dataset, sd("defaultGraph"), default_graph),
        Triple(default_graph, RDF_TYPE, sd("Graph")),
        Triple(dataset, NamedNode(DCT + "title"), Literal("Arbejdsmiljøviden", language="da")),
        Triple(dataset, NamedNode(VOID + "uriSpace"), Literal(iris.base)),
        Triple(
            service,
            NamedNode(DCT + "description"),
            Literal(
                "Det offentlige SPARQL-endpoint for Arbejdsmiljøviden. Standardgrafen er foreningen af alle "
                "offentlige grafer. SERVICE er ikke tilladt; forespørgsler stoppes efter tidsgrænsen."
                if available
                else "SPARQL-endpointet er ikke tilgængeligt i denne opsætning.",
                language="da",
            ),
        ),
    ]
    triples += [Triple(service, sd("resultFormat"), NamedNode(FORMATS + f)) for f in RESULT_FORMATS]
    return triples
