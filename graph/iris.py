"""Identifiers: the IRI patterns of DESIGN.md, minting of record ids, and rebasing.

Data files are written against DEFAULT_BASE_URI; `Iris.rebase` maps them onto the configured
base so that a deployment under another domain serves its own IRIs.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from pyoxigraph import BlankNode, DefaultGraph, Literal, NamedNode, Quad, Triple

from graph.config import DEFAULT_BASE_URI

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
SCHEMA = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"

RDF_TYPE = NamedNode(RDF + "type")

#: Record ids: short, opaque, stable; Crockford base32 (no i, l, o, u), lower case.
ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
ID_LENGTH = 8
ID_PATTERN = re.compile(rf"^[{ID_ALPHABET}]{{{ID_LENGTH}}}$")

Term = NamedNode | BlankNode | Literal


class RecordKind(StrEnum):
    """The five record types; the value is the path segment of their IRIs."""

    item = "item"
    problem = "problem"
    solution = "solution"
    actor = "actor"
    event = "event"

    @property
    def class_name(self) -> str:
        return {
            "item": "KnowledgeItem",
            "problem": "Problem",
            "solution": "Solution",
            "actor": "Actor",
            "event": "Event",
        }[self.value]


def mint_id() -> str:
    # One call for all random bytes (a bulk import mints thousands); 256 is a multiple of 32, so uniform.
    return "".join(ID_ALPHABET[b % len(ID_ALPHABET)] for b in secrets.token_bytes(ID_LENGTH))


@dataclass(frozen=True)
class Iris:
    """All IRIs of one deployment, derived from its base."""

    base: str

    @property
    def ontology(self) -> NamedNode:
        return NamedNode(self.base + "ontology")

    @property
    def amv(self) -> str:
        """The ontology namespace (`amv:`)."""
        return self.base + "ontology#"

    def term(self, local_name: str) -> NamedNode:
        return NamedNode(self.amv + local_name)

    def record_class(self, kind: RecordKind) -> NamedNode:
        return self.term(kind.class_name)

    def kind_of_class(self, class_iri: NamedNode) -> RecordKind | None:
        for kind in RecordKind:
            if self.record_class(kind) == class_iri:
                return kind
        return None

    def scheme(self, slug: str) -> NamedNode:
        return NamedNode(f"{self.base}vocab/{slug}")

    def concept(self, slug: str, code: str) -> NamedNode:
        return NamedNode(f"{self.base}vocab/{slug}/{code}")

    def record(self, kind: RecordKind, record_id: str) -> NamedNode:
        return NamedNode(self.record_prefix(kind) + record_id)

    def record_prefix(self, kind: RecordKind | None = None) -> str:
        """How the IRIs of records (of one kind) begin."""
        return f"{self.base}id/{kind.value}/" if kind else f"{self.base}id/"

    def parse_record(self, iri: NamedNode | str) -> tuple[RecordKind, str] | None:
        """(kind, id) when `iri` is a record IRI of this deployment, else None."""
        value = iri.value if isinstance(iri, NamedNode) else iri
        prefix = self.record_prefix()
        if not value.startswith(prefix):
            return None
        kind, _, record_id = value[len(prefix) :].partition("/")
        if kind not in RecordKind.__members__ or not ID_PATTERN.match(record_id):
            return None
        return RecordKind(kind), record_id

    # -- rebasing data files written against DEFAULT_BASE_URI ------------------------------

    def rebase_term(self, term: Term) -> Term:
        if self.base == DEFAULT_BASE_URI:
            return term
        if isinstance(term, NamedNode) and term.value.startswith(DEFAULT_BASE_URI):
            return NamedNode(self.base + term.value[len(DEFAULT_BASE_URI) :])
        if isinstance(term, Literal) and term.datatype.value.startswith(DEFAULT_BASE_URI):
            return Literal(term.value, datatype=self.rebase_term(term.datatype))
        return term

    def rebase_triples(self, triples: Iterable[Triple]) -> Iterator[Triple]:
        if self.base == DEFAULT_BASE_URI:
            yield from triples
            return
        r = self.rebase_term
        for t in triples:
            yield Triple(r(t.subject), r(t.predicate), r(t.object))

    def rebase_quads(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        if self.base == DEFAULT_BASE_URI:
            yield from quads
            return
        r = self.rebase_term
        for q in quads:
            graph = q.graph_name if isinstance(q.graph_name, DefaultGraph) else r(q.graph_name)
            yield Quad(r(q.subject), r(q.predicate), r(q.object), graph)
