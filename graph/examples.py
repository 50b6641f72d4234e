"""Example SPARQL queries for researchers (`sparql/examples/*.rq`) and the view models of the query page.

Each example file starts with a header of comment lines that name it in both languages:

    # title@da: Viden pr. arbejdsmiljøfaktor og branche
    # title@en: Knowledge per work-environment factor and industry
    # description@da: …
    # description@en: …

followed by the query with its full PREFIX declarations, so that it can be copied and run anywhere.
A header line may continue on the next comment line when that line is indented (`#   more text`).

Unlike the named queries of `graph.sparql`, examples take no parameters: they are shown, edited and
run as researchers' own text. They are written against the default base IRI and rebased for a
deployment under another base (`load_examples(base=…)`).

The query page (`sparql_page`) and the HTML rendering of a result (`results_table`,
`triples_table`) are plain view models; the route in api/routes/sparql.py runs the query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.config import DEFAULT_BASE_URI
from graph.iris import RDF, XSD
from graph.sparql import QUERY_DIR, STANDARD_PREFIXES
from graph.views import Site, pick

EXAMPLE_DIR = QUERY_DIR / "examples"

#: The header fields every example must have, in the order they are written.
HEADER_FIELDS = ("title@da", "title@en", "description@da", "description@en")

_HEADER_LINE = re.compile(r"^#\s*(?P<key>[A-Za-z]+@[A-Za-z-]+)\s*:\s*(?P<value>.*)$")
_CONTINUATION = re.compile(r"^#\s{2,}(?P<value>\S.*)$")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class ExampleError(ValueError):
    """An example file that cannot be used: no header, a missing or unknown header field, no query."""


@dataclass(frozen=True)
class Example:
    slug: str  # the file name without .rq; used in /sparql?example=<slug>
    titles: dict[str, str]
    descriptions: dict[str, str]
    query: str  # the query text after the header: PREFIX declarations and the query itself

    def title(self, lang: str) -> str:
        return pick(self.titles, lang, self.slug)

    def description(self, lang: str) -> str:
        return pick(self.descriptions, lang)

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE."""
        return query_form(self.query)


def parse_example(slug: str, text: str, source: str = "") -> Example:
    """An example from the text of its file; `source` names the file in error messages."""
    where = source or f"{slug}.rq"
    if not _SLUG.match(slug):
        raise ExampleError(f"{where}: the file name must be lower-case words joined by hyphens, e.g. 'my-query.rq'")
    lines = text.lstrip("\ufeff").splitlines()
    fields: dict[str, str] = {}
    current: str | None = None
    body_start = len(lines)
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("#"):
            body_start = number
            break
        if match := _HEADER_LINE.match(stripped):
            key = match.group("key")
            if key not in HEADER_FIELDS:
                raise ExampleError(
                    f"{where}, line {number + 1}: unknown header field {key!r}; "
                    f"the header has exactly {', '.join(HEADER_FIELDS)}"
                )
            if key in fields:
                raise ExampleError(f"{where}, line {number + 1}: header field {key!r} given twice")
            fields[key] = match.group("value").strip()
            current = key
        elif current and (match := _CONTINUATION.match(line.rstrip())):
            fields[current] = f"{fields[current]} {match.group('value').strip()}".strip()
        else:
            current = None  # another comment: ends a field's continuation lines
    missing = [key for key in HEADER_FIELDS if not fields.get(key)]
    if missing:
        wanted = "\n".join(f"  # {key}: …" for key in missing)
        raise ExampleError(f"{where}: missing header line(s); the file must start with\n{wanted}")
    query = "\n".join(lines[body_start:]).strip() + "\n"
    if not query.strip():
        raise ExampleError(f"{where}: no query after the header")
    if not query_form(query):
        raise ExampleError(f"{where}: no SELECT, ASK, CONSTRUCT or DESCRIBE query after the header")
    return Example(
        slug=slug,
        titles={lang: fields[f"title@{lang}"] for lang in ("da", "en")},
        descriptions={lang: fields[f"description@{lang}"] for lang in ("da", "en")},
        query=query,
    )


def load_examples(directory: Path = EXAMPLE_DIR, *, base: str = DEFAULT_BASE_URI) -> list[Example]:
    """Every example of `directory`, sorted by file name; IRIs rebased onto `base`.

    Raises ExampleError naming the file when one is malformed.
    """
    examples = []
    for path in sorted(directory.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if base != DEFAULT_BASE_URI:
            text = text.replace(DEFAULT_BASE_URI, base)
        examples.append(parse_example(path.stem, text, source=str(path)))
    return examples


# Strings, IRIs and comments, so that keywords inside them are not taken for the query form.
_SKIPPED = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r'|<[^<>"{}|^`\\\x00-\x20]*>'
    r"|\#[^\n]*",
    re.DOTALL,
)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(query: str) -> str:
    """The form of a query ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE"), or "" when there is none.

    The first form keyword after the prologue decides, so a sub-SELECT inside a CONSTRUCT does not.
    """
    match = _FORM.search(_SKIPPED.sub(" ", query))
    return match.group(1).upper() if match else ""


# -- the query page ----------------------------------------------------------------------------

#: Prefixes offered in the editor and used in the starting query; `amv` is the deployment's own.
EDITOR_PREFIXES = ("amv", "skos", "dct", "schema", "rdf", "rdfs", "owl", "xsd")


def editor_prefixes(base: str = DEFAULT_BASE_URI) -> dict[str, str]:
    return {p: base + "ontology#" if p == "amv" else STANDARD_PREFIXES[p] for p in EDITOR_PREFIXES}


def starting_query(base: str = DEFAULT_BASE_URI) -> str:
    """The query in an empty editor: the usual prefixes and a first question (records per class)."""
    prologue = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in editor_prefixes(base).items())
    return (
        prologue
        + "\n"
        + "# Antal poster pr. klasse / Number of records per class\n"
        + "SELECT ?class (COUNT(?record) AS ?records)\n"
        + "WHERE {\n"
        + "  ?record a ?class .\n"
        + "  ?class rdfs:subClassOf amv:Record .\n"
        + "}\n"
        + "GROUP BY ?class\n"
        + "ORDER BY DESC(?records)\n"
    )


@dataclass(frozen=True)
class ResultFormat:
    key: str  # the value of the form's `format` parameter
    media_type: str
    label: str  # the format's name, the same in both languages ("" for the HTML table: translated)
    forms: tuple[str, ...]  # the query forms it serves


#: The formats offered in the form's <select>, in order. The route maps `key` to `media_type`.
RESULT_FORMATS = (
    ResultFormat("html", "text/html", "", ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")),
    ResultFormat("json", "application/sparql-results+json", "SPARQL JSON", ("SELECT", "ASK")),
    ResultFormat("xml", "application/sparql-results+xml", "SPARQL XML", ("SELECT", "ASK")),
    ResultFormat("csv", "text/csv", "CSV", ("SELECT",)),
    ResultFormat("tsv", "text/tab-separated-values", "TSV", ("SELECT",)),
    ResultFormat("turtle", "text/turtle", "Turtle", ("CONSTRUCT", "DESCRIBE")),
    ResultFormat("ntriples", "application/n-triples", "N-Triples", ("CONSTRUCT", "DESCRIBE")),
    ResultFormat("rdfxml", "application/rdf+xml", "RDF/XML", ("CONSTRUCT", "DESCRIBE")),
    ResultFormat("jsonld", "application/ld+json", "JSON-LD", ("CONSTRUCT", "DESCRIBE")),
)
FORMATS_BY_KEY = {f.key: f for f in RESULT_FORMATS}


@dataclass(frozen=True)
class GalleryEntry:
    slug: str
    title: str
    description: str
    form: str
    query: str
    href: str  # opens the example in the form: /sparql?example=<slug>
    current: bool  # the example shown in the editor now


@dataclass
class SparqlPage:
    lang: str
    query: str  # the text in the editor
    format: str  # the chosen result format key
    example: Example | None  # the example in the editor, if one was asked for and found
    unknown_example: str  # an ?example= slug that names no example ("" if none)
    prefilled: bool  # the editor holds a query from the URL (an example or a query), not the starting one
    gallery: list[GalleryEntry]
    prefixes: dict[str, str]
    starting_query: str  # what a new editor tab holds
    formats: tuple[ResultFormat, ...] = RESULT_FORMATS

    def schema_org(self, site_url: str) -> dict[str, object]:
        """schema.org JSON-LD of the page: a web page whose main entity is the list of examples."""
        root = site_url.rstrip("/")
        return {
            "@context": "https://schema.org",
            "@type": "WebPage",
            "url": root + "/sparql",
            "name": "SPARQL",
            "inLanguage": self.lang,
            "mainEntity": {
                "@type": "ItemList",
                "numberOfItems": len(self.gallery),
                "itemListElement": [
                    {
                        "@type": "ListItem",
                        "position": n,
                        "item": {
                            "@type": "SoftwareSourceCode",
                            "name": e.title,
                            "description": e.description,
                            "programmingLanguage": "SPARQL",
                            "url": root + e.href,
                        },
                    }
                    for n, e in enumerate(self.gallery, start=1)
                ],
            },
        }

    def editor_config(self) -> dict[str, object]:
        """What the page's script needs to set up the editor (printed with |tojson, which escapes it)."""
        return {
            "endpoint": "/sparql",
            "prefixes": self.prefixes,
            "prefilled": self.prefilled,
            "startingQuery": self.starting_query,
            "tabName": self.example.title(self.lang) if self.example else "",
            "examples": [{"slug": e.slug, "title": e.title, "query": e.query} for e in self.gallery],
        }


def sparql_page(
    examples: Sequence[Example],
    lang: str,
    query: str | None,
    example_slug: str | None,
    *,
    format: str | None = None,
    base: str = DEFAULT_BASE_URI,
) -> SparqlPage:
    """The query page: the editor prefilled with `query`, else with the example `example_slug`, else
    with the starting query; and the gallery of examples in `lang`.

    An unknown example slug or format is ignored (the page says so for the example), never an error.
    """
    by_slug = {e.slug: e for e in examples}
    slug = (example_slug or "").strip()
    example = by_slug.get(slug) if slug else None
    unknown = slug if slug and example is None else ""
    given = query if query and query.strip() else None
    if given is not None:
        text = given
        # The example stays selected only while its text is what the editor shows.
        if example is not None and example.query.strip() != given.strip():
            example = None
    elif example is not None:
        text = example.query
    else:
        text = starting_query(base)
    gallery = [
        GalleryEntry(
            slug=e.slug,
            title=e.title(lang),
            description=e.description(lang),
            form=e.form,
            query=e.query,
            href=f"/sparql?example={e.slug}",
            current=example is not None and e.slug == example.slug,
        )
        for e in examples
    ]
    return SparqlPage(
        lang=lang,
        query=text,
        format=format if format in FORMATS_BY_KEY else "html",
        example=example,
        unknown_example=unknown,
        prefilled=given is not None or example is not None,
        gallery=gallery,
        prefixes=editor_prefixes(base),
        starting_query=starting_query(base),
    )


# -- results as an HTML table -----------------------------------------------------------------

#: Prefixes used to shorten IRIs and datatypes in result cells.
_CELL_PREFIXES = {**STANDARD_PREFIXES}


@dataclass(frozen=True)
class Cell:
    """One value of a result: an IRI (with a link), a literal (with language or datatype), a blank node."""

    kind: str = ""  # "iri" | "literal" | "bnode" | "" (unbound)
    text: str = ""
    href: str = ""  # a local path for IRIs under our base, the IRI itself for other http(s) IRIs
    local: bool = False  # the link goes to one of our own pages
    lang: str = ""  # the language tag of a literal
    datatype: str = ""  # a literal's datatype, shortened (xsd:integer); "" for strings and tagged text


@dataclass(frozen=True)
class ResultsTable:
    variables: list[str]
    rows: list[list[Cell]]


def _shorten(iri: str, prefixes: Mapping[str, str]) -> str:
    for prefix, namespace in prefixes.items():
        if iri.startswith(namespace) and len(iri) > len(namespace):
            local = iri[len(namespace) :]
            if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", local) and not local.endswith("."):
                return f"{prefix}:{local}"
    return iri


def cell(term: object, site: Site) -> Cell:
    """The table cell of one RDF term (None: an unbound variable)."""
    if term is None:
        return Cell()
    if isinstance(term, NamedNode):
        iri = term.value
        path = site.path(iri)
        prefixes = {"amv": site.iris.amv, **_CELL_PREFIXES}
        if path:
            return Cell("iri", _shorten(iri, {"amv": site.iris.amv}), href=path, local=True)
        external = iri if iri.startswith(("http://", "https://")) else ""
        return Cell("iri", _shorten(iri, prefixes), href=external)
    if isinstance(term, Literal):
        datatype = term.datatype.value
        shown = "" if term.language or datatype in (XSD + "string", RDF + "langString") else datatype
        prefixes = {"amv": site.iris.amv, **_CELL_PREFIXES}
        return Cell("literal", term.value, lang=term.language or "", datatype=_shorten(shown, prefixes))
    if isinstance(term, BlankNode):
        return Cell("bnode", f"_:{term.value}")
    return Cell("literal", str(term))  # an RDF-star triple term


def _value(row: object, name: str) -> object:
    """A variable's term in a row: a dict of `Store.select` (unbound left out) or a pyoxigraph
    QuerySolution (unbound is None)."""
    if isinstance(row, Mapping):
        return row.get(name)
    try:
        return row[name]  # type: ignore[index]
    except (KeyError, IndexError):
        return None


def results_table(variables: Sequence[str], rows: Iterable[object], site: Site) -> ResultsTable:
    """The cells of a SELECT result, one row per solution, in the order of `variables`.

    `rows` are dicts (from `Store.select`) or pyoxigraph QuerySolutions. IRIs under our base link
    to our own pages (`Site.path`), other http(s) IRIs link out, literals keep their language tag
    (for the `lang` attribute) and show a non-string datatype.
    """
    names = list(variables)
    return ResultsTable(names, [[cell(_value(row, name), site) for name in names] for row in rows])


def triples_table(triples: Iterable[Triple], site: Site) -> ResultsTable:
    """A CONSTRUCT or DESCRIBE result as a table of subject, predicate and object."""
    return ResultsTable(
        ["subject", "predicate", "object"],
        [[cell(t.subject, site), cell(t.predicate, site), cell(t.object, site)] for t in triples],
    )
