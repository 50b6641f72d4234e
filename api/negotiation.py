"""Content negotiation: which representation a request asks for (Accept with q-values, or a suffix).

Every IRI we mint answers as HTML for browsers and as Turtle, JSON-LD, RDF/XML or N-Triples for
machines. A `.ttl`/`.jsonld`/`.rdf`/`.nt` suffix picks a format directly (handy in a browser).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import Response

from graph.media import match_quality, parse_accept


@dataclass(frozen=True)
class Representation:
    key: str  # html | turtle | jsonld | rdfxml | ntriples
    media_type: str
    suffix: str  # "" for HTML

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


HTML = Representation("html", "text/html", "")
TURTLE = Representation("turtle", "text/turtle", ".ttl")
JSONLD = Representation("jsonld", "application/ld+json", ".jsonld")
RDFXML = Representation("rdfxml", "application/rdf+xml", ".rdf")
NTRIPLES = Representation("ntriples", "application/n-triples", ".nt")

#: In order of preference when the client has none (a bare `*/*` gets HTML: a browser or curl).
REPRESENTATIONS = (HTML, TURTLE, JSONLD, RDFXML, NTRIPLES)
DATA_REPRESENTATIONS = REPRESENTATIONS[1:]
BY_SUFFIX = {r.suffix: r for r in DATA_REPRESENTATIONS}

#: Other names clients use for the same formats.
ALIASES = {
    "application/xhtml+xml": HTML,
    "application/x-turtle": TURTLE,
    "application/json": JSONLD,
    "application/xml": RDFXML,
    "text/xml": RDFXML,
    "text/plain": NTRIPLES,  # N-Triples' old media type
}


class NotAcceptable(Exception):
    """None of the types the client accepts can be given (HTTP 406)."""


def _quality(accept: list[tuple[str, float, int]], rep: Representation) -> tuple[float, int, int]:
    return match_quality(accept, rep.media_type, {alias for alias, r in ALIASES.items() if r is rep})


def negotiate(accept_header: str | None, suffix: str = "") -> Representation:
    """The representation to send. A suffix wins over Accept; no Accept means HTML."""
    if suffix:
        return BY_SUFFIX[suffix]
    if not accept_header or not accept_header.strip():
        return HTML
    accept = parse_accept(accept_header)
    if not accept:
        return HTML
    ranked = []
    for preference, rep in enumerate(REPRESENTATIONS):
        q, specificity, position = _quality(accept, rep)
        if q > 0:
            ranked.append((q, specificity, position, -preference, rep))
    if not ranked:
        raise NotAcceptable(accept_header)
    return max(ranked, key=lambda r: r[:4])[4]


def split_suffix(path: str) -> tuple[str, str]:
    """('/vocab/factors/5', '.ttl') for '/vocab/factors/5.ttl'; the suffix is '' when none is known."""
    for suffix in BY_SUFFIX:
        if path.endswith(suffix):
            return path[: -len(suffix)], suffix
    return path, ""


def not_acceptable(what: str) -> Response:
    """406 naming the types `what` (e.g. "this resource") is available as."""
    accepted = ", ".join(r.media_type for r in REPRESENTATIONS)
    return Response(
        f"406 Not Acceptable: {what} is available as {accepted}\n",
        status_code=406,
        media_type="text/plain",
        headers={"Vary": "Accept"},
    )
