"""The SPARQL 1.1 Graph Store HTTP Protocol, graph side: payloads, reads and writes of one graph.

A graph is a named graph (`NamedNode`) or the store's own default graph (`None`). Note that SPARQL
queries see the union of all graphs as their default graph; the Graph Store Protocol's default
graph is the store's real default graph, so that what is PUT there is what a GET gives back.

Writes never paste request text into SPARQL: the payload is parsed by pyoxigraph, and the update
is written from the parsed triples (escaped N-Triples, as `graph.store.insert_data` does), then
applied by `graph.graph_writes.apply_update` like every editor's write: under the write lock, with
record graphs validated and the whole write refused and undone when one breaks the rules.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections.abc import Mapping, Sequence

import pyoxigraph as ox
from pyoxigraph import DefaultGraph, NamedNode, Quad, Triple

from graph.graph_writes import WriteResult, apply_update
from graph.ledger import RecordStatus
from graph.rdf import SUFFIXES, RdfSyntaxError, check_rdfxml
from graph.serialize import prefixes, serialize
from graph.services import Services
from graph.store import insert_data

Graph = NamedNode | None  # None is the default graph

#: Request payload media types -> pyoxigraph formats. TriG and N-Quads are read when every quad
#: is in the default graph (a request writes one graph).
REQUEST_FORMATS: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
MULTIPART = "multipart/form-data"

#: Response formats by key (the keys of graph.serialize, plus the quad formats) -> media type.
RESPONSE_FORMATS: dict[str, str] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "trig": "application/trig",
    "nquads": "application/n-quads",
}
RESPONSE_ALIASES: dict[str, str] = {
    "application/x-turtle": "turtle",
    "text/plain": "ntriples",
    "application/xml": "rdfxml",
    "text/xml": "rdfxml",
    "application/json": "jsonld",
}


class PayloadError(Exception):
    """A request payload we cannot take: 415 for a type we do not read, 400 for bad content."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type_of(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def _charset_ok(content_type: str) -> bool:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def _inline_contexts(data: bytes, contexts: Mapping[str, object]) -> bytes:
    """Replace references to contexts we publish by their content (remote contexts are never fetched)."""
    if not contexts:
        return data
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        return data  # the parser reports the error with its position (or its own nesting limit)

    def walk(node: object) -> object:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                if key == "@context":
                    items = value if isinstance(value, list) else [value]
                    resolved = [contexts.get(v, v) if isinstance(v, str) else walk(v) for v in items]
                    out[key] = resolved if isinstance(value, list) else resolved[0]
                else:
                    out[key] = walk(value)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    try:
        return json.dumps(walk(document)).encode("utf-8")
    except RecursionError:
        return data  # nested deeper than we walk: left to the parser


def parse_payload(
    data: bytes,
    content_type: str,
    *,
    base_iri: str,
    contexts: Mapping[str, object] | None = None,
    source: str = "The request body",
) -> list[Triple]:
    """The triples of one RDF document; PayloadError (415/400, with the parser's message) otherwise."""
    media = media_type_of(content_type)
    fmt = REQUEST_FORMATS.get(media)
    if fmt is None:
        raise PayloadError(
            415,
            f"{source}: cannot read {media or 'a payload without a Content-Type'}; "
            f"send one of {', '.join(REQUEST_FORMATS)} (or {MULTIPART} to POST several documents).",
        )
    if not _charset_ok(content_type):
        raise PayloadError(415, f"{source}: RDF payloads must be sent in UTF-8.")
    if fmt == ox.RdfFormat.JSON_LD:
        data = _inline_contexts(data, contexts or {})
    if fmt == ox.RdfFormat.RDF_XML:
        try:
            check_rdfxml(data, source)
        except RdfSyntaxError as exc:
            raise PayloadError(400, str(exc)) from None
    try:
        quads = list(ox.parse(data, format=fmt, base_iri=base_iri))
    except SyntaxError as exc:
        raise PayloadError(400, f"{source} is not valid {media}: {exc}") from None
    except ValueError as exc:  # e.g. an unusable base IRI
        raise PayloadError(400, f"{source} cannot be read: {exc}") from None
    named = next((q.graph_name for q in quads if not isinstance(q.graph_name, DefaultGraph)), None)
    if named is not None:
        raise PayloadError(
            400,
            f"{source} puts statements in the named graph {named}; a Graph Store request writes one graph, "
            "so send only default-graph statements (the graph is named by the request).",
        )
    return [q.triple for q in quads]


def parse_multipart(
    data: bytes, content_type: str, *, base_iri: str, contexts: Mapping[str, object] | None = None
) -> list[Triple]:
    """The triples of every part of a multipart/form-data request, each part an RDF document."""
    try:
        header = b"Content-Type: " + content_type.encode("ascii") + b"\r\nMIME-Version: 1.0\r\n\r\n"
    except UnicodeEncodeError:
        raise PayloadError(400, "The Content-Type header is not ASCII.") from None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + data)
    if not message.is_multipart() or not message.get_boundary():
        raise PayloadError(400, f"A {MULTIPART} request needs a boundary and at least one part.")
    parts = list(message.iter_parts())
    if not parts or message.defects:
        raise PayloadError(400, f"The {MULTIPART} body is malformed (check the boundary and the part headers).")
    triples: list[Triple] = []
    for number, part in enumerate(parts, start=1):
        filename = part.get_filename()
        name = f"Part {number}" + (f" ({filename})" if filename else "")
        part_type = part.get("content-type")
        if part_type is None and filename:
            suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
            fmt = SUFFIXES.get(suffix)
            part_type = next((m for m, f in REQUEST_FORMATS.items() if f == fmt), None)
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise PayloadError(400, f"{name} of the {MULTIPART} body is itself multipart; send RDF documents.")
        triples += parse_payload(payload, str(part_type or ""), base_iri=base_iri, contexts=contexts, source=name)
    return triples


def parse_request(
    data: bytes,
    content_type: str,
    *,
    base_iri: str,
    contexts: Mapping[str, object] | None = None,
    multipart: bool = False,
) -> list[Triple]:
    """The triples a PUT or POST sends (multipart/form-data only where `multipart` allows it)."""
    if multipart and media_type_of(content_type) == MULTIPART:
        return parse_multipart(data, content_type, base_iri=base_iri, contexts=contexts)
    return parse_payload(data, content_type, base_iri=base_iri, contexts=contexts)


# -- reading ---------------------------------------------------------------------------------


def exists(services: Services, graph: Graph) -> bool:
    """Whether the graph is in the store (the default graph always is; a named graph may be empty)."""
    if graph is None:
        return True
    return services.store.ask(services.queries("graph-exists", graph=graph))


def withdrawn(services: Services, graph: NamedNode) -> bool:
    """Whether the graph is a record that was withdrawn (its IRI answers 410 Gone)."""
    entry = services.ledger.get(graph.value)
    return entry is not None and entry.status == RecordStatus.withdrawn


def read(services: Services, graph: Graph) -> list[Triple]:
    if graph is None:
        return services.store.default_graph_triples()
    return services.store.graph_triples(graph)


def serialize_graph(
    triples: Sequence[Triple], graph: Graph, key: str, services: Services, *, context_url: str
) -> bytes:
    """The graph in the response format `key` (a key of RESPONSE_FORMATS)."""
    if key in ("trig", "nquads"):
        name = graph if graph is not None else DefaultGraph()
        quads = [Quad(t.subject, t.predicate, t.object, name) for t in triples]
        if key == "trig":
            return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=prefixes(services.iris))
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    return serialize(triples, key, services.iris, context_url=context_url)


# -- writing ---------------------------------------------------------------------------------


def _insert(graph: Graph, triples: Sequence[Triple]) -> str:
    if graph is not None:
        return insert_data({graph: triples})
    return "INSERT DATA {\n" + ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8") + "}"


def _written(graph: Graph) -> set[str]:
    return set() if graph is None else {graph.value}


def _apply(services: Services, update: str, graph: Graph, agent: str) -> WriteResult:
    return apply_update(services, update, agent=agent, written=_written(graph), source="graph-store")


def replace(services: Services, graph: Graph, triples: Sequence[Triple], *, agent: str) -> WriteResult:
    """PUT: the graph holds exactly `triples` afterwards (an empty PUT leaves an empty graph; for a
    record, an empty graph is a withdrawn record and no graph at all)."""
    if graph is None:
        return _apply(services, "DROP SILENT DEFAULT ;\n" + _insert(None, triples), None, agent)
    if triples:
        update = f"DROP SILENT GRAPH {graph} ;\n" + _insert(graph, triples)
    elif services.iris.parse_record(graph):
        update = f"DROP SILENT GRAPH {graph}"
    else:
        update = f"DROP SILENT GRAPH {graph} ;\nCREATE GRAPH {graph}"
    return _apply(services, update, graph, agent)


def merge(services: Services, graph: Graph, triples: Sequence[Triple], *, agent: str) -> WriteResult:
    """POST: add `triples` to the graph (creating it when it does not exist)."""
    if triples:
        return _apply(services, _insert(graph, triples), graph, agent)
    if graph is not None and not services.iris.parse_record(graph):
        return _apply(services, f"CREATE SILENT GRAPH {graph}", graph, agent)
    return WriteResult()


def delete(services: Services, graph: Graph, *, agent: str) -> WriteResult:
    """DELETE: drop a named graph (a record is withdrawn), or empty the default graph."""
    update = "CLEAR SILENT DEFAULT" if graph is None else f"DROP SILENT GRAPH {graph}"
    return _apply(services, update, graph, agent)
