"""Resolving and describing any IRI we mint: ontology, schemes, concepts and records.

`resolve` says what an IRI is and whether it is live, deprecated, gone (withdrawn record) or unknown
(never minted, or not public). `describe` gives its triples plus the labels of what it links to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import DCT, PROV, RDF_TYPE, RDFS, SKOS, XSD, RecordKind
from graph.ledger import LedgerEntry, RecordStatus
from graph.services import Services


class ResourceKind(StrEnum):
    ontology = "ontology"
    scheme = "scheme"
    concept = "concept"
    collection = "collection"  # a skos:Collection of a scheme (graph.vocab_schemes)
    record = "record"


class Status(StrEnum):
    live = "live"
    gone = "gone"  # a withdrawn record: 410 with a tombstone
    missing = "missing"  # never minted, or not public: 404


@dataclass
class Resolution:
    iri: NamedNode
    status: Status
    kind: ResourceKind | None = None
    record_kind: RecordKind | None = None
    deprecated: bool = False
    replaced_by: list[str] = field(default_factory=list)
    modified: str | None = None
    tombstone: LedgerEntry | None = None


def resolve(services: Services, iri: NamedNode) -> Resolution:
    iris = services.iris
    if iri == iris.ontology:
        return Resolution(iri, Status.live, ResourceKind.ontology)
    parsed = iris.parse_record(iri)
    if parsed is not None:
        entry = services.ledger.get(iri.value)
        if entry is None:  # never published (perhaps pending review): not public
            return Resolution(iri, Status.missing)
        if entry.status == RecordStatus.withdrawn:
            return Resolution(
                iri,
                Status.gone,
                ResourceKind.record,
                parsed[0],
                tombstone=entry,
                replaced_by=[entry.replaced_by] if entry.replaced_by else [],
                modified=entry.modified,
            )
        return Resolution(iri, Status.live, ResourceKind.record, parsed[0], modified=entry.modified)
    if not iri.value.startswith(iris.base + "vocab/"):
        return Resolution(iri, Status.missing)
    rows = services.store.select(services.queries("resource-facts", resource=iri))
    types = {r["type"].value for r in rows}
    if SKOS + "ConceptScheme" in types:
        kind = ResourceKind.scheme
    elif SKOS + "Concept" in types:
        kind = ResourceKind.concept
    elif SKOS + "Collection" in types:
        kind = ResourceKind.collection
    else:
        return Resolution(iri, Status.missing)
    deprecated = any(r["deprecated"].value in ("true", "1") for r in rows if "deprecated" in r)
    replaced = sorted({r["replacement"].value for r in rows if "replacement" in r})
    modified = max((r["modified"].value for r in rows if "modified" in r), default=None)
    return Resolution(iri, Status.live, kind, deprecated=deprecated, replaced_by=replaced, modified=modified)


def describe(services: Services, resolution: Resolution) -> list[Triple]:
    """The resource's own triples plus the labels of the resources it links to."""
    if resolution.kind == ResourceKind.ontology:
        return services.store.graph_triples(resolution.iri)
    return services.store.construct(services.queries("describe", resource=resolution.iri))


def tombstone(services: Services, resolution: Resolution) -> list[Triple]:
    """What stays public about a withdrawn record: its title, when and why, and what replaces it."""
    entry = resolution.tombstone
    assert entry is not None and resolution.record_kind is not None
    iri = resolution.iri
    triples = [
        Triple(iri, RDF_TYPE, services.iris.record_class(resolution.record_kind)),
        Triple(iri, NamedNode(DCT + "title"), Literal(entry.title)),
        Triple(
            iri, NamedNode(PROV + "invalidatedAtTime"), Literal(entry.modified, datatype=NamedNode(XSD + "dateTime"))
        ),
        Triple(iri, NamedNode(RDFS + "comment"), Literal(entry.withdrawn_reason or "")),
    ]
    triples += [Triple(iri, NamedNode(DCT + "isReplacedBy"), NamedNode(r)) for r in resolution.replaced_by]
    return triples
