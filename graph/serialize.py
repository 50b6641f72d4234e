"""Serialising descriptions for machines: Turtle, N-Triples, RDF/XML (pyoxigraph) and compacted
JSON-LD with our published `@context` (rdflib's JSON-LD compaction)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache

import pyoxigraph as ox

from graph.iris import DCT, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, XSD, Iris
from graph.rdf import to_rdflib

FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"


def prefixes(iris: Iris) -> dict[str, str]:
    return {
        "amv": iris.amv,
        "dct": DCT,
        "skos": SKOS,
        "schema": SCHEMA,
        "owl": OWL,
        "rdf": RDF,
        "rdfs": RDFS,
        "xsd": XSD,
        "prov": PROV,
        "foaf": FOAF,
        "org": ORG,
        "void": VOID,
        "dcat": DCAT,
    }


@cache
def jsonld_context(base: str) -> dict[str, object]:
    """The published `@context` (served at /context.jsonld): short names for the terms we use."""
    iris = Iris(base)
    ctx: dict[str, object] = dict(prefixes(iris))
    link = {"@type": "@id"}
    by_language = {"@container": "@language"}
    terms: dict[str, tuple[str, dict[str, str]]] = {
        # the thesaurus
        "prefLabel": (SKOS + "prefLabel", by_language),
        "altLabel": (SKOS + "altLabel", {"@container": "@set"}),
        "hiddenLabel": (SKOS + "hiddenLabel", {"@container": "@set"}),
        "definition": (SKOS + "definition", by_language),
        "scopeNote": (SKOS + "scopeNote", by_language),
        "notation": (SKOS + "notation", {}),
        "inScheme": (SKOS + "inScheme", link),
        "topConceptOf": (SKOS + "topConceptOf", link),
        "hasTopConcept": (SKOS + "hasTopConcept", {**link, "@container": "@set"}),
        "broader": (SKOS + "broader", {**link, "@container": "@set"}),
        "narrower": (SKOS + "narrower", {**link, "@container": "@set"}),
        "related": (SKOS + "related", {**link, "@container": "@set"}),
        "exactMatch": (SKOS + "exactMatch", {**link, "@container": "@set"}),
        "closeMatch": (SKOS + "closeMatch", {**link, "@container": "@set"}),
        "deprecated": (OWL + "deprecated", {}),
        "isReplacedBy": (DCT + "isReplacedBy", link),
        # records
        "title": (DCT + "title", by_language),
        "description": (DCT + "description", by_language),
        "created": (DCT + "created", {}),
        "modified": (DCT + "modified", {}),
        "issued": (DCT + "issued", {}),
        "publisher": (DCT + "publisher", link),
        "creator": (DCT + "creator", {**link, "@container": "@set"}),
        "factor": (iris.amv + "factor", {**link, "@container": "@set"}),
        "industry": (iris.amv + "industry", {**link, "@container": "@set"}),
        "audience": (iris.amv + "audience", {**link, "@container": "@set"}),
        "knowledgeType": (iris.amv + "knowledgeType", link),
        "evidenceLevel": (iris.amv + "evidenceLevel", link),
        "certainty": (iris.amv + "certainty", link),
        "actorType": (iris.amv + "actorType", {**link, "@container": "@set"}),
        "eventType": (iris.amv + "eventType", link),
        "region": (iris.amv + "region", {**link, "@container": "@set"}),
        "addresses": (iris.amv + "addresses", {**link, "@container": "@set"}),
        "describesSolution": (iris.amv + "describesSolution", {**link, "@container": "@set"}),
        "solves": (iris.amv + "solves", {**link, "@container": "@set"}),
        "offeredBy": (iris.amv + "offeredBy", {**link, "@container": "@set"}),
        "url": (SCHEMA + "url", link),
        "startDate": (SCHEMA + "startDate", {}),
        "endDate": (SCHEMA + "endDate", {}),
        "location": (SCHEMA + "location", {}),
        "organizer": (SCHEMA + "organizer", {**link, "@container": "@set"}),
        "label": (RDFS + "label", by_language),
    }
    for name, (iri, extra) in terms.items():
        ctx[name] = {"@id": iri, **extra}
    return ctx


def serialize(triples: Sequence[ox.Triple], key: str, iris: Iris, *, context_url: str | None) -> bytes:
    """`key` is a representation key of api.negotiation: turtle, ntriples, rdfxml or jsonld.

    JSON-LD refers to the published context by `context_url`, or carries it inline when that is None
    (files read offline)."""
    if key == "turtle":
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(iris))
    if key == "ntriples":
        return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    if key == "rdfxml":
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=prefixes(iris))
    if key == "jsonld":
        context = jsonld_context(iris.base)
        text = to_rdflib(triples).serialize(format="json-ld", context=context, auto_compact=True)
        document = json.loads(text)
        if context_url is not None:
            document["@context"] = context_url  # the same context, by reference to the published copy
        return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    raise ValueError(f"unknown representation {key!r}")
