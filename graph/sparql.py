"""Named SPARQL queries (`sparql/*.rq`) and safe parameter binding.

A query file marks its parameters with the `$` variable sigil (`$concept`), and result variables
with `?`. `bind` replaces each `$name` token with the SPARQL serialisation of an RDF term, escaped
by pyoxigraph, so user text always arrives as a literal or a checked IRI and never as query
syntax. A sequence binds as a space-separated list, for use inside `VALUES ?x { $list }`.
The same text then runs on the embedded store and on any remote SPARQL server.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from pyoxigraph import BlankNode, Literal, NamedNode

from graph.config import PROJECT_ROOT
from graph.iris import DCT, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, XSD, Iris

QUERY_DIR = PROJECT_ROOT / "sparql"

Bindable = NamedNode | Literal | str | int | bool

# One token of interest at a time: long strings, short strings, IRIs, comments, or a parameter.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|\#[^\n]*"
    r"|\$(?P<param>[A-Za-z_][A-Za-z0-9_]*)",
    re.DOTALL,
)


class QueryParameterError(ValueError):
    pass


@cache
def load_query(name: str) -> str:
    """The text of `sparql/{name}.rq`."""
    path = QUERY_DIR / f"{name}.rq"
    if not path.is_file():
        raise FileNotFoundError(f"no named query {name!r} ({path})")
    return path.read_text(encoding="utf-8")


def parameters(query: str) -> set[str]:
    return {m.group("param") for m in _TOKEN.finditer(query) if m.group("param")}


def render_term(value: Bindable) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return str(Literal(value))
    if isinstance(value, BlankNode):
        raise QueryParameterError("blank nodes cannot be bound into a query")
    return str(value)


def bind(query: str, **values: Bindable | Sequence[Bindable]) -> str:
    """Replace every `$name` in `query` by the serialised term bound to `name`.

    Every parameter of the query must be bound, and every binding must be used: a mismatch is a
    programming error that should fail loudly, not run a different query.
    """
    wanted = parameters(query)
    if missing := wanted - values.keys():
        raise QueryParameterError(f"unbound query parameters: {sorted(missing)}")
    if unused := values.keys() - wanted:
        raise QueryParameterError(f"parameters not in the query: {sorted(unused)}")

    def replace(match: re.Match[str]) -> str:
        name = match.group("param")
        if not name:
            return match.group(0)
        value = values[name]
        if isinstance(value, Sequence) and not isinstance(value, str):
            return " ".join(render_term(v) for v in value)
        return render_term(value)

    return _TOKEN.sub(replace, query)


STANDARD_PREFIXES = {
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "owl": OWL,
    "skos": SKOS,
    "dct": DCT,
    "schema": SCHEMA,
    "prov": PROV,
}


@dataclass(frozen=True)
class Queries:
    """Named queries of one deployment: each gets the `amv:` prefix of the configured base.

    Query files therefore declare no prefixes of their own for the standard vocabularies.
    """

    iris: Iris

    @property
    def prologue(self) -> str:
        prefixes = {"amv": self.iris.amv, **STANDARD_PREFIXES}
        return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items())

    def __call__(self, name: str, **values: Bindable | Sequence[Bindable]) -> str:
        """Load the named query, bind its parameters and prefix the standard prefixes."""
        return self.prologue + bind(load_query(name), **values)
