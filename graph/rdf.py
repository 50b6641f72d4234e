"""Small bridges between pyoxigraph (storage, parsing, serialising) and rdflib (pyshacl, skosify)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
import rdflib

#: Media types and file suffixes we read and write, mapped to pyoxigraph formats.
FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
}

SUFFIXES: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


class RdfSyntaxError(ValueError):
    """Input that is not valid RDF in the stated format; the message says where."""


#: The only entity declarations RDF/XML may carry: a name for plain text (namespace shorthands).
_PLAIN_ENTITY = re.compile(rb"""<!ENTITY\s+[A-Za-z_][\w.\-]*\s+"([^"&%<]*)"\s*>""")
_EXPANSION_LIMIT = 50_000_000  # bytes that entity references may add to an RDF/XML document


def check_rdfxml(data: bytes, source: str) -> None:
    """Refuse RDF/XML that could expand without bound before parsing it: the parser expands entities
    (nested ones grow exponentially, long ones referenced often quadratically), or hides its text
    from this check in another encoding."""
    if b"\x00" in data:
        raise RdfSyntaxError(f"{source}: RDF/XML must be sent in UTF-8.")
    declarations = data.count(b"<!ENTITY")
    if not declarations:
        return
    values = _PLAIN_ENTITY.findall(data)
    if declarations != len(values):
        raise RdfSyntaxError(
            f"{source}: RDF/XML entity declarations may only stand for plain text "
            "(no nested, parameter or external entities)."
        )
    if data.count(b"&") * max(len(v) for v in values) > _EXPANSION_LIMIT:
        raise RdfSyntaxError(f"{source}: the RDF/XML entities would expand to too much text.")


def format_for_path(path: Path) -> ox.RdfFormat:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise RdfSyntaxError(
            f"{path}: unknown RDF file type {path.suffix!r} (use one of {', '.join(sorted(SUFFIXES))})"
        ) from None


def parse_quads(
    data: bytes | str, format: ox.RdfFormat, *, base_iri: str | None = None, source: str = "input"
) -> list[ox.Quad]:
    """Parse a whole document, turning the parser's error into a message that names the source."""
    if format == ox.RdfFormat.RDF_XML:
        check_rdfxml(data.encode() if isinstance(data, str) else data, source)
    try:
        return list(ox.parse(data, format=format, base_iri=base_iri))
    except SyntaxError as exc:
        raise RdfSyntaxError(f"{source}: {exc}") from exc


def parse_file(path: Path) -> list[ox.Quad]:
    return parse_quads(path.read_bytes(), format_for_path(path), source=str(path))


def to_rdflib(triples: Iterable[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Copy triples into an rdflib graph (through N-Triples, which both sides escape correctly)."""
    graph = graph if graph is not None else rdflib.Graph()
    data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    graph.parse(data=data, format="nt")
    return graph


def from_rdflib(graph: rdflib.Graph) -> list[ox.Triple]:
    data = graph.serialize(format="nt", encoding="utf-8")
    return [q.triple for q in ox.parse(data, format=ox.RdfFormat.N_TRIPLES)]
