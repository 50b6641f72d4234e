"""A Skosmos-compatible REST API (`/rest/v1/`): the answers, as plain JSON-ready dicts.

Clients and widgets written for Skosmos (https://skosmos.org, the NatLibFi vocabulary browser) work
against us unchanged. A Skosmos "vocabulary" is one of our concept schemes, its id the scheme's slug
(`factors`, `industries`, …) and its URI space `<base>vocab/{slug}/`. Paths, parameters, response
shapes and JSON-LD contexts follow Skosmos' REST controller and its swagger description (Skosmos 2.x,
whose REST API v1 Skosmos 3 keeps); the few deliberate differences are noted where they are made.

Every answer comes from named queries (`sparql/skosmos-*.rq`) run per request, as Skosmos does: no
cache, so nothing can go stale. User text never reaches a query as syntax: concept URIs are bound as
checked IRIs, search text as literals, and the exact matching of search patterns (`*` wildcards) and
of languages is done here in Python over the candidates a query returns.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http import HTTPStatus
from urllib.parse import urlsplit

import pyoxigraph as ox
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.iris import DCT, OWL, RDF, RDFS, SKOS, XSD
from graph.serialize import prefixes
from graph.services import Services
from graph.store import Row
from graph.text import DANISH_ALPHABET, danish_sort_key, initial_letter

ISOTHES = "http://purl.org/iso25964/skos-thes#"
ONKI = "http://schema.onki.fi/onki#"
DC11 = "http://purl.org/dc/elements/1.1/"
VOID = "http://rdfs.org/ns/void#"
VOID_EXT = "http://ldf.fi/void-ext#"

DEFAULT_LANGUAGE = "da"  # every vocabulary's default language (Skosmos: skosmos:defaultLanguage)
DEFAULT_TRANSITIVE_LIMIT = 1000  # Skosmos' DEFAULT_TRANSITIVE_LIMIT
DEFAULT_CHANGE_LIMIT = 200  # Skosmos' default `limit` of `new` and `modified`
MAX_TERM_LENGTH = 500  # longer search terms are refused (Skosmos has no limit; ours keeps matching cheap)
CHUNK = 500  # IRIs bound into one query at most

#: The RDF formats of `data`, in Skosmos' order of preference (RestController::SUPPORTED_FORMATS).
SUPPORTED_FORMATS = ("application/rdf+xml", "text/turtle", "application/ld+json", "application/json")
FORMAT_SUFFIX = {
    "application/rdf+xml": ".rdf",
    "text/turtle": ".ttl",
    "application/ld+json": ".jsonld",
    "application/json": ".jsonld",
}

CONCEPT = SKOS + "Concept"
COLLECTION = SKOS + "Collection"
PREF, ALT, HIDDEN = SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel"
MAPPING_PROPERTIES = [SKOS + m for m in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")]

#: Prefixes a client may use in `type=` (Skosmos expands them with EasyRdf's namespaces).
TYPE_PREFIXES = {
    "skos": SKOS,
    "isothes": ISOTHES,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "dc": DCT,
    "dct": DCT,
    "dcterms": DCT,
    "dc11": DC11,
}

#: Names of the SKOS classes (`types`, statistics) and mapping properties (`mappings` typeLabel).
TYPE_LABELS = {
    CONCEPT: {"da": "Begreb", "en": "Concept"},
    COLLECTION: {"da": "Samling", "en": "Collection"},
    ISOTHES + "ConceptGroup": {"da": "Begrebsgruppe", "en": "Concept group"},
    ISOTHES + "ThesaurusArray": {"da": "Begrebsrække", "en": "Array of sibling concepts"},
}
MAPPING_LABELS = {
    SKOS + "exactMatch": {"da": "Præcist tilsvarende begreber", "en": "Exactly matching concepts"},
    SKOS + "closeMatch": {"da": "Nært tilsvarende begreber", "en": "Closely matching concepts"},
    SKOS + "broadMatch": {"da": "Bredere tilsvarende begreber", "en": "Broader matching concepts"},
    SKOS + "narrowMatch": {"da": "Snævrere tilsvarende begreber", "en": "Narrower matching concepts"},
    SKOS + "relatedMatch": {"da": "Relaterede tilsvarende begreber", "en": "Related matching concepts"},
}
LANGUAGE_NAMES = {
    "da": {"da": "dansk", "en": "Danish"},
    "en": {"da": "engelsk", "en": "English"},
}

#: The JSON-LD context Skosmos uses for RDF data of a concept (`data`, and the graph of `mappings`).
DATA_CONTEXT: dict[str, str] = {
    "skos": SKOS,
    "isothes": ISOTHES,
    "rdfs": RDFS,
    "owl": OWL,
    "dct": DCT,
    "dc11": DC11,
    "uri": "@id",
    "type": "@type",
    "lang": "@language",
    "value": "@value",
    "graph": "@graph",
    "label": "rdfs:label",
    "prefLabel": "skos:prefLabel",
    "altLabel": "skos:altLabel",
    "hiddenLabel": "skos:hiddenLabel",
    "broader": "skos:broader",
    "narrower": "skos:narrower",
    "related": "skos:related",
    "inScheme": "skos:inScheme",
    "exactMatch": "skos:exactMatch",
    "closeMatch": "skos:closeMatch",
    "broadMatch": "skos:broadMatch",
    "narrowMatch": "skos:narrowMatch",
    "relatedMatch": "skos:relatedMatch",
}


class SkosmosError(Exception):
    """A request Skosmos would refuse: the HTTP status and Skosmos' message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def reason(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, object]:
        return {"status": self.status, "error": self.reason, "message": self.message}


def _context(**extra: object) -> dict[str, object]:
    """Skosmos' base context (`RestController::$context`) merged with a method's own terms."""
    return {"skos": SKOS, "uri": "@id", "type": "@type", **extra}


# -- parameters ------------------------------------------------------------------------------

_LANG_TAG = re.compile(r"^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)$")


def language(value: str | None, name: str = "lang") -> str | None:
    """A language parameter: None when absent or empty, 400 when it is not a language tag."""
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    if not _LANG_TAG.match(value):
        raise SkosmosError(400, f"{name} parameter is invalid")
    return value


def lang_matches(tag: str, wanted: str | None) -> bool:
    """SPARQL's langMatches (basic filtering): `en` matches `en` and `en-GB`; `*` any tagged literal."""
    if wanted is None:
        return True
    if wanted == "*":
        return tag != ""
    tag, wanted = tag.lower(), wanted.lower()
    return tag == wanted or tag.startswith(wanted + "-")


def _count(value: str | None, name: str) -> int:
    """A non-negative whole-number parameter (`maxhits`, `offset`; 0 when absent); 400 when it is not one.
    As in Skosmos, `maxhits=0` means no limit."""
    text = (value or "").strip()
    if not text:
        return 0
    if not text.isdigit():
        raise SkosmosError(400, f"{name} parameter is invalid")
    return int(text)


def _lenient_count(value: str | None, default: int) -> int:
    """`offset`/`limit` of the index and change lists: Skosmos ignores values that are not numbers."""
    text = (value or "").strip()
    return int(text) if text.isdigit() else default


def boolean(value: str | None) -> bool:
    """PHP's FILTER_VALIDATE_BOOLEAN, as Skosmos reads `unique`."""
    return (value or "").strip().lower() in ("1", "true", "on", "yes")


def _iri(value: str | None) -> NamedNode | None:
    """A checked IRI (bound into queries as a term, never as text), or None when it is not one."""
    if not value:
        return None
    try:
        return NamedNode(value.strip())
    except ValueError:
        return None


def _required_uri(value: str | None) -> str:
    if value is None or value.strip() == "":
        raise SkosmosError(400, "uri parameter missing")
    return value.strip()


def _not_found(uri: str) -> SkosmosError:
    return SkosmosError(404, f"Could not find concept <{uri}>")


# -- vocabularies ----------------------------------------------------------------------------


def _pick(texts: dict[str, str], lang: str | None) -> str | None:
    """The text in `lang` (langMatches), else Danish, else English, else any."""
    if lang:
        for tag in sorted(texts):
            if tag and lang_matches(tag, lang):
                return texts[tag]
    for tag in (DEFAULT_LANGUAGE, "en", ""):
        if tag in texts:
            return texts[tag]
    return next(iter(texts.values()), None)


def _in_language(texts: dict[str, str], lang: str | None) -> str | None:
    """The text in `lang` only (or any text when no language is asked for)."""
    if lang is None:
        return _pick(texts, None)
    return next((texts[tag] for tag in sorted(texts) if tag and lang_matches(tag, lang)), None)


@dataclass(frozen=True)
class Vocabulary:
    """One of our concept schemes, seen as a Skosmos vocabulary."""

    id: str
    iri: str
    titles: dict[str, str] = field(default_factory=dict)  # dct:title
    labels: dict[str, str] = field(default_factory=dict)  # rdfs:label
    pref_labels: dict[str, str] = field(default_factory=dict)  # skos:prefLabel

    @property
    def node(self) -> NamedNode:
        return NamedNode(self.iri)

    @property
    def uri_space(self) -> str:
        return self.iri + "/"

    def title(self, lang: str | None) -> str:
        return _pick(self.titles, lang) or _pick(self.labels, lang) or _pick(self.pref_labels, lang) or self.id

    def contains(self, uri: str) -> bool:
        return uri.startswith(self.uri_space)

    def local_name(self, uri: str) -> str:
        return uri[len(self.uri_space) :] if self.contains(uri) else uri


def vocabularies(services: Services) -> dict[str, Vocabulary]:
    """Every scheme as a vocabulary, by id (the slug of `<base>vocab/{slug}`)."""
    prefix = services.iris.base + "vocab/"
    found: dict[str, dict[str, dict[str, str]]] = {}
    for row in services.store.select(services.queries("skosmos-schemes")):
        iri = row["scheme"].value
        slug = iri[len(prefix) :] if iri.startswith(prefix) else ""
        if not slug or "/" in slug:
            continue
        names = found.setdefault(slug, {"title": {}, "label": {}, "pref": {}})
        value = row.get("value")
        if isinstance(value, Literal):
            key = {DCT + "title": "title", RDFS + "label": "label", PREF: "pref"}[row["property"].value]
            names[key].setdefault(value.language or "", value.value)
    return {
        slug: Vocabulary(slug, prefix + slug, n["title"], n["label"], n["pref"]) for slug, n in sorted(found.items())
    }


def vocabulary(services: Services, vocid: str) -> Vocabulary:
    found = vocabularies(services).get(vocid)
    if found is None:
        raise SkosmosError(404, f"Vocabulary id '{vocid}' not found.")
    return found


def guess_vocabulary(vocabs: Iterable[Vocabulary], uri: str) -> Vocabulary | None:
    """The vocabulary whose URI space holds `uri` (Skosmos' Model::guessVocabularyFromURI)."""
    matches = [v for v in vocabs if v.contains(uri)]
    return max(matches, key=lambda v: len(v.uri_space)) if matches else None


def _languages(services: Services, vocab: Vocabulary) -> list[str]:
    rows = services.store.select(services.queries("skosmos-languages", scheme=vocab.node))
    found = {row["lang"].value for row in rows if row.get("lang") is not None and row["lang"].value}
    return sorted(found, key=lambda tag: (tag != DEFAULT_LANGUAGE, tag))


# -- facts about concepts --------------------------------------------------------------------


@dataclass
class Node:
    """What one query tells of a resource in a scheme graph."""

    iri: str
    types: set[str] = field(default_factory=set)
    pref: dict[str, str] = field(default_factory=dict)
    alt: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    hidden: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    notation: str | None = None
    deprecated: bool = False
    top_of: set[str] = field(default_factory=set)
    broader: set[str] = field(default_factory=set)
    narrower: set[str] = field(default_factory=set)
    related: set[str] = field(default_factory=set)

    @property
    def is_concept(self) -> bool:
        return CONCEPT in self.types

    @property
    def has_children(self) -> bool:
        return bool(self.narrower)

    def strict_label(self, lang: str | None) -> str | None:
        """The preferred label in `lang`, else one without a language tag, else None (Skosmos'
        queryProperty, used for broader/narrower/related and the transitive lists)."""
        found = _in_language(self.pref, lang)
        return found if found is not None else self.pref.get("")

    def label_with_fallback(self, lang: str | None, *, mark: bool) -> str | None:
        """The label in `lang`, else in the vocabulary's default language, else in any; marked with its
        language, `label (en)`, when it is not in `lang` and `mark` is set (Skosmos' hierarchy views)."""
        tags = _ordered_tags(self.pref)
        for wanted in (lang, DEFAULT_LANGUAGE):
            tag = next((t for t in tags if t and wanted and lang_matches(t, wanted)), None)
            if tag is not None:
                break
        else:
            tag = tags[0] if tags else None
        if tag is None:
            return None
        text = self.pref[tag]
        if mark and lang and tag and not lang_matches(tag, lang):
            return f"{text} ({tag})"
        return text


def _ordered_tags(texts: dict[str, str] | dict[str, list[str]]) -> list[str]:
    return sorted(texts, key=lambda tag: (tag != DEFAULT_LANGUAGE, tag != "en", tag))


def _sort_literals(values: Iterable[str]) -> list[str]:
    return sorted(values, key=danish_sort_key)


def facts(services: Services, vocab: Vocabulary, iris: Iterable[str]) -> dict[str, Node]:
    """Names, notation, types and links of resources, read from a vocabulary's scheme graph."""
    wanted = sorted({i for i in iris if _iri(i) is not None})
    nodes: dict[str, Node] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = [NamedNode(i) for i in wanted[start : start + CHUNK]]
        rows = services.store.select(services.queries("skosmos-facts", scheme=vocab.node, nodes=chunk))
        for row in sorted(rows, key=_row_order):
            _add_fact(nodes, row)
    for node in nodes.values():
        node.alt = {tag: _sort_literals(v) for tag, v in node.alt.items()}
        node.hidden = {tag: _sort_literals(v) for tag, v in node.hidden.items()}
    return nodes


def _row_order(row: Row) -> tuple[str, ...]:
    return tuple(str(row.get(k, "")) for k in ("node", "property", "inverse", "value"))


#: A link stated from the other end, as seen from the node (skos:narrower of a parent = our skos:broader).
_INVERSE = {
    SKOS + "narrower": SKOS + "broader",
    SKOS + "broader": SKOS + "narrower",
    SKOS + "related": SKOS + "related",
    SKOS + "hasTopConcept": SKOS + "topConceptOf",
}


def _add_fact(nodes: dict[str, Node], row: Row) -> None:
    iri = row["node"].value
    node = nodes.get(iri)
    if node is None:
        node = nodes[iri] = Node(iri)
    value = row["value"]
    prop = row["property"].value if "property" in row else _INVERSE[row["inverse"].value]
    if isinstance(value, Literal):
        tag = value.language or ""
        if prop == PREF:
            node.pref.setdefault(tag, value.value)
        elif prop == ALT:
            node.alt[tag].append(value.value)
        elif prop == HIDDEN:
            node.hidden[tag].append(value.value)
        elif prop == SKOS + "notation" and node.notation is None:
            node.notation = value.value
        elif prop == OWL + "deprecated" and value.value in ("true", "1"):
            node.deprecated = True
    elif isinstance(value, NamedNode):
        target = {
            RDF + "type": node.types,
            SKOS + "topConceptOf": node.top_of,
            SKOS + "broader": node.broader,
            SKOS + "narrower": node.narrower,
            SKOS + "related": node.related,
        }.get(prop)
        if target is not None:
            target.add(value.value)


def _concept(services: Services, vocab: Vocabulary, uri: str) -> Node:
    """The concept `uri` of the vocabulary; 404 when the vocabulary has no such concept."""
    node = facts(services, vocab, [uri]).get(uri)
    if node is None or not node.is_concept:
        raise _not_found(uri)
    return node


def _notation_key(node: Node, lang: str | None) -> tuple[object, ...]:
    """Concepts in the order of their notations (1, 1.2, 1.10; A, B), then by label."""
    notation = node.notation or ""
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", notation) if p)
    return (notation == "", parts, danish_sort_key(node.label_with_fallback(lang, mark=False) or node.iri))


def _shorten_type(uri: str) -> str:
    """Skosmos shortens only SKOS types (`skos:Concept`); others stay full URIs."""
    return "skos:" + uri[len(SKOS) :] if uri.startswith(SKOS) else uri


# -- global methods --------------------------------------------------------------------------


def list_vocabularies(services: Services, *, lang: str | None, api_base: str) -> dict[str, object]:
    """`GET /rest/v1/vocabularies?lang=`: every vocabulary with its title in `lang`."""
    lang = language(lang)
    if lang is None:
        raise SkosmosError(400, "lang parameter missing")
    return {
        "@context": {
            "rdfs": RDFS,
            "onki": ONKI,
            "title": {"@id": "rdfs:label", "@language": lang},
            "vocabularies": "onki:hasVocabulary",
            "id": "onki:vocabularyIdentifier",
            "uri": "@id",
            "@base": api_base + "vocabularies",
        },
        "uri": "",
        "vocabularies": [{"uri": v.id, "id": v.id, "title": v.title(lang)} for v in vocabularies(services).values()],
    }


def types(services: Services, *, lang: str | None, api_base: str, vocid: str | None = None) -> dict[str, object]:
    """`GET /rest/v1/types?lang=` and `/rest/v1/{vocid}/types`: the SKOS classes with instances."""
    lang = language(lang)
    if vocid is None and lang is None:
        raise SkosmosError(400, "lang parameter missing")
    if vocid is not None:
        scope = [vocabulary(services, vocid)]
        lang = lang or DEFAULT_LANGUAGE
        base = f"{api_base}{vocid}/"
    else:
        scope = list(vocabularies(services).values())
        base = api_base
    found: dict[str, dict[str, object]] = {}
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    rows = [row for v in scope for row in services.store.select(services.queries("skosmos-types", scheme=v.node))]
    for row in rows:
        uri = row["type"].value
        entry = found.setdefault(uri, {"uri": uri})
        if isinstance(row.get("superclass"), NamedNode):
            entry["superclass"] = row["superclass"].value
        label = row.get("label")
        if isinstance(label, Literal):
            labels[uri].setdefault(label.language or "", label.value)
    for uri, entry in found.items():
        text = _in_language(labels[uri], lang) or _pick(TYPE_LABELS.get(uri, {}), lang)
        if text is not None:
            entry["label"] = text
    return {
        "@context": _context(
            rdfs=RDFS,
            onki=ONKI,
            label="rdfs:label",
            superclass={"@id": "rdfs:subClassOf", "@type": "@id"},
            types="onki:hasType",
            **{"@language": lang, "@base": base},
        ),
        "uri": "",
        "types": [found[uri] for uri in sorted(found)],
    }


# -- search ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """The parameters of a Skosmos concept search (ConceptSearchParameters, REST flavour)."""

    term: str
    search_lang: str | None  # `lang`: the language of the labels to match (None: any)
    label_lang: str | None  # `labellang`, else the request language: the language of the labels to show
    vocabs: tuple[Vocabulary, ...]
    explicit_vocabs: bool  # a vocabulary was named (the results then carry `localname`)
    types: frozenset[str] = frozenset({CONCEPT})
    parent: str | None = None
    group: str | None = None
    unique: bool = False
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Candidate:
    scheme: str
    concept: str
    prop: str
    value: str
    lang: str


_PRIORITY = {PREF: 1, ALT: 3, SKOS + "notation": 5, HIDDEN: 7}
_FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")


def normalise_term(value: str | None) -> str:
    """The search term as Skosmos takes it: trimmed, NFC-normalised, runs of `*` collapsed."""
    term = unicodedata.normalize("NFC", (value or "").strip())
    return re.sub(r"\*{2,}", "*", term)


def _expand_type(name: str) -> str:
    prefix, colon, local = name.partition(":")
    if colon and prefix in TYPE_PREFIXES and not local.startswith("//"):
        return TYPE_PREFIXES[prefix] + local
    return name


def _type_limit(value: str | None) -> frozenset[str]:
    text = (value or "").strip()
    if not text:
        return frozenset({CONCEPT})
    names = text.split(" ") if " " in text else text.split("+")
    return frozenset(_expand_type(n) for n in names if n)


def _candidates(services: Services, query: SearchQuery) -> list[_Candidate]:
    """Labels that match the term (Skosmos' pattern semantics, case-insensitive), in the search language."""
    raw = query.term.replace("*", "")
    if raw == "":
        # No term but a parent or group: every concept, matched by its preferred label (Skosmos).
        properties, parts = [NamedNode(PREF)], ["", ""]
    else:
        properties = [NamedNode(PREF), NamedNode(ALT), NamedNode(HIDDEN)]
        parts = query.term.lower().split("*")
    starts, ends = parts[0], parts[-1]
    middle = sorted(parts[1:-1], key=len, reverse=True)
    contains = middle[0] if middle else ""
    found = []
    for vocab in query.vocabs:
        rows = services.store.select(
            services.queries(
                "skosmos-search", scheme=vocab.node, properties=properties, starts=starts, ends=ends, contains=contains
            )
        )
        found += _matching(rows, vocab, query, parts, term_given=raw != "")
    return found


def glob_match(text: str, parts: Sequence[str]) -> bool:
    """Whether `text` matches a pattern split at its `*` wildcards (`parts`), e.g. `st*j` → ["st", "j"].
    Placing each middle part at its leftmost possible position is enough for `*`-only patterns, so
    this takes linear time whatever the pattern (a regular expression could backtrack badly)."""
    if len(parts) == 1:
        return text == parts[0]
    first, last = parts[0], parts[-1]
    if len(text) < len(first) + len(last) or not text.startswith(first) or not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for part in parts[1:-1]:
        found = text.find(part, position, end)
        if found < 0:
            return False
        position = found + len(part)
    return True


def _matching(
    rows: list[Row], vocab: Vocabulary, query: SearchQuery, parts: Sequence[str], *, term_given: bool
) -> list[_Candidate]:
    found = []
    for row in rows:
        label = row["label"]
        if not isinstance(label, Literal) or not glob_match(label.value.lower(), parts):
            continue
        tag = label.language or ""
        if not term_given:
            if query.label_lang and not lang_matches(tag, query.label_lang):
                continue
        elif query.search_lang and not lang_matches(tag, query.search_lang):
            continue
        found.append(_Candidate(vocab.iri, row["concept"].value, row["property"].value, label.value, tag))
    return found


def _members(services: Services, vocabs: Sequence[Vocabulary], group: str) -> set[str]:
    node = _iri(group)
    if node is None:
        return set()
    found: set[str] = set()
    for vocab in vocabs:
        rows = services.store.select(services.queries("skosmos-group-members", scheme=vocab.node, group=node))
        found |= {row["member"].value for row in rows}
    return found


def _ancestors(services: Services, vocab: Vocabulary, iris: Sequence[str]) -> dict[str, list[str]]:
    """Each concept with itself and its broader concepts, transitively, in the vocabulary."""
    return _closure(services, "skosmos-ancestors", vocab, iris)


def _closure(services: Services, name: str, vocab: Vocabulary, iris: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    wanted = sorted({i for i in iris if _iri(i) is not None})
    for start in range(0, len(wanted), CHUNK):
        chunk = [NamedNode(i) for i in wanted[start : start + CHUNK]]
        for row in services.store.select(services.queries(name, scheme=vocab.node, nodes=chunk)):
            found[row["start"].value].append(row["node"].value)
    return found


def run_search(services: Services, query: SearchQuery) -> list[dict[str, object]]:
    """The hits of a search, in Skosmos' order (by the matched label), before paging."""
    if query.term.replace("*", "") == "" and not query.parent and not query.group:
        return []  # Skosmos does not search for nothing (e.g. `*`) without a parent or group
    if len(query.term) > MAX_TERM_LENGTH:
        raise SkosmosError(400, "query parameter is too long")
    candidates = _candidates(services, query)
    by_id = {v.iri: v for v in query.vocabs}
    nodes: dict[str, Node] = {}
    for scheme, group in _group_by_scheme(candidates).items():
        nodes.update({f"{scheme} {k}": n for k, n in facts(services, by_id[scheme], group).items()})
    allowed_parent: set[str] | None = None
    if query.parent:
        allowed_parent = set()
        for scheme, group in _group_by_scheme(candidates).items():
            for concept, above in _ancestors(services, by_id[scheme], group).items():
                if query.parent in above and query.parent != concept:
                    allowed_parent.add(f"{scheme} {concept}")
    allowed_group = _members(services, query.vocabs, query.group) if query.group else None

    # One row per concept and matched label; with `unique`, the best match per concept (Skosmos encodes
    # each match as "<priority><lang>@<text>" and keeps the smallest: preferred < alternative < hidden
    # label, a label in the display language before the same kind in another).
    rows: dict[tuple[str, ...], tuple[str, _Candidate, tuple[str, str] | None]] = {}
    for candidate in candidates:
        key = f"{candidate.scheme} {candidate.concept}"
        node = nodes.get(key)
        if node is None or not node.types & query.types or node.deprecated:
            continue
        if allowed_parent is not None and key not in allowed_parent:
            continue
        if allowed_group is not None and candidate.concept not in allowed_group:
            continue
        label = _display_label(node, candidate, query)
        priority = _PRIORITY[candidate.prop]
        if not (query.label_lang and lang_matches(candidate.lang, query.label_lang)):
            priority += 1
        hit = f"{priority}{candidate.lang}@{candidate.value}"
        ident = (candidate.scheme, candidate.concept, node.notation or "", *(label or ("", "")))
        if query.unique:
            best = rows.get(ident)
            if best is None or hit < best[0]:
                rows[ident] = (hit, candidate, label)
        else:
            rows[(*ident, hit)] = (hit, candidate, label)

    ordered = sorted(rows.values(), key=lambda r: (danish_sort_key(r[1].value.lower()), r[1].lang, r[1].concept, r[0]))
    return [
        _hit(query, by_id[c.scheme], c, nodes[f"{c.scheme} {c.concept}"], hit[0], label) for hit, c, label in ordered
    ]


def _group_by_scheme(candidates: Iterable[_Candidate]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for c in candidates:
        grouped[c.scheme].append(c.concept)
    return grouped


def _display_label(node: Node, candidate: _Candidate, query: SearchQuery) -> tuple[str, str] | None:
    """The preferred label a hit shows (Skosmos' inner search query, with its fallback)."""
    if query.term.replace("*", "") == "":
        return (candidate.value, candidate.lang)
    tags = _ordered_tags(node.pref)
    if query.label_lang:
        tag = next((t for t in tags if t and lang_matches(t, query.label_lang)), None)
    elif candidate.lang == "":
        tag = next(iter(tags), None)
    else:
        tag = next((t for t in tags if t and lang_matches(t, candidate.lang)), None)
    if tag is None and query.search_lang != query.label_lang and candidate.lang:
        tag = next((t for t in tags if t and lang_matches(t, candidate.lang)), None)
    return (node.pref[tag], tag) if tag is not None else None


def _hit(
    query: SearchQuery,
    vocab: Vocabulary,
    candidate: _Candidate,
    node: Node,
    priority: str,
    label: tuple[str, str] | None,
) -> dict[str, object]:
    hit: dict[str, object] = {
        "uri": node.iri,
        "type": sorted((_shorten_type(t) for t in node.types), key=lambda t: (not t.startswith("skos:"), t)),
    }
    if query.explicit_vocabs and vocab.contains(node.iri):
        hit["localname"] = vocab.local_name(node.iri)
    if label is not None:
        hit["prefLabel"], hit["lang"] = label
    if node.notation is not None:
        hit["notation"] = node.notation
    if query.term.replace("*", "") != "":
        matched = (candidate.value, candidate.lang)
        if priority in "12" and matched != label:
            hit["matchedPrefLabel"], hit["lang"] = matched
        elif priority in "34":
            hit["altLabel"], hit["lang"] = matched
        elif priority in "78":
            hit["hiddenLabel"], hit["lang"] = matched
    hit["vocab"] = vocab.id
    return hit


def _add_fields(services: Services, query: SearchQuery, hits: list[dict[str, object]]) -> None:
    """Extra fields (`fields=broader related prefLabel …`): SKOS properties of each hit (Skosmos)."""
    if not hits or not query.fields:
        return
    by_id = {v.id: v for v in query.vocabs}
    properties = [NamedNode(SKOS + f) for f in query.fields if f != "prefLabel"]
    if "prefLabel" in query.fields:
        properties.append(NamedNode(PREF))
    values: dict[tuple[str, str], dict[str, object]] = defaultdict(dict)
    labels: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    batches = []
    for vid in sorted({str(h["vocab"]) for h in hits}):
        concepts = sorted({str(h["uri"]) for h in hits if h["vocab"] == vid})
        for start in range(0, len(concepts), CHUNK):
            nodes = [NamedNode(c) for c in concepts[start : start + CHUNK]]
            batches.append((by_id[vid], nodes))
    for vocab, nodes in batches:
        rows = services.store.select(
            services.queries("skosmos-values", scheme=vocab.node, nodes=nodes, properties=properties)
        )
        for row in rows:
            key = (row["node"].value, row["property"].value)
            value = row["value"]
            if isinstance(value, NamedNode):
                values[key].setdefault(value.value, value)
                label = row.get("valueLabel")
                if isinstance(label, Literal):
                    labels[(*key, value.value)].setdefault(label.language or "", label.value)
            elif isinstance(value, Literal):
                values[key].setdefault(f"{value.language or ''}@{value.value}", value)
    for hit in hits:
        uri = str(hit["uri"])
        for name in query.fields:
            if name != "prefLabel" and name in hit:
                continue  # never replace a standard key of the hit (`notation`, `type`, …)
            found = values.get((uri, SKOS + name), {})
            if name == "prefLabel":
                pref = {v.language or "": v.value for v in found.values() if isinstance(v, Literal)}
                if pref:
                    hit["prefLabels"] = {tag: pref[tag] for tag in _ordered_tags(pref)}
                continue
            entries: list[object] = []
            for key in sorted(found):
                term = found[key]
                if isinstance(term, NamedNode):
                    entry: dict[str, str] = {"uri": term.value}
                    text = _in_language(labels.get((uri, SKOS + name, term.value), {}), query.label_lang)
                    if text is not None:
                        entry["prefLabel"] = text
                    entries.append(entry)
                elif isinstance(term, Literal) and (not term.language or lang_matches(term.language, query.label_lang)):
                    entries.append(term.value)
            if entries:
                hit[name] = entries


def search(
    services: Services,
    *,
    query: str | None,
    lang: str | None = None,
    labellang: str | None = None,
    vocab: str | None = None,
    type: str | None = None,
    parent: str | None = None,
    group: str | None = None,
    maxhits: str | None = None,
    offset: str | None = None,
    fields: str | None = None,
    unique: str | None = None,
    vocid: str | None = None,
) -> dict[str, object]:
    """`GET /rest/v1/search?query=…` and `/rest/v1/{vocid}/search?query=…` (Skosmos `search`)."""
    term = normalise_term(query)
    parent_uri = (parent or "").strip() or None
    group_uri = (group or "").strip() or None
    if term == "" and not group_uri and not parent_uri:
        raise SkosmosError(400, "query parameter missing")
    limit = _count(maxhits, "maxhits")
    start = _count(offset, "offset")
    search_lang = language(lang)
    label_lang = language(labellang, "labellang") or search_lang
    known = vocabularies(services)
    if vocab and vocab.strip():
        chosen = []
        for vid in vocab.split():
            if vid not in known:
                raise SkosmosError(404, f"Vocabulary id '{vid}' not found.")
            chosen.append(known[vid])
        explicit = True
    elif vocid is not None:
        if vocid not in known:
            raise SkosmosError(404, f"Vocabulary id '{vocid}' not found.")
        chosen, explicit = [known[vocid]], True
        label_lang = label_lang or DEFAULT_LANGUAGE  # the request language defaults to the vocabulary's
    else:
        chosen, explicit = list(known.values()), False
    field_names = tuple(dict.fromkeys(f for f in (fields or "").split() if _FIELD.match(f)))
    search_query = SearchQuery(
        term=term,
        search_lang=search_lang,
        label_lang=label_lang,
        vocabs=tuple(chosen),
        explicit_vocabs=explicit,
        types=_type_limit(type),
        parent=parent_uri,
        group=group_uri,
        unique=boolean(unique),
        fields=field_names,
    )
    hits = run_search(services, search_query)
    hits = hits[start : start + limit] if limit else hits[start:]
    _add_fields(services, search_query, hits)
    context: dict[str, object] = {
        "skos": SKOS,
        "isothes": ISOTHES,
        "onki": ONKI,
        "uri": "@id",
        "type": "@type",
        "results": {"@id": "onki:results", "@container": "@list"},
        "prefLabel": "skos:prefLabel",
        "altLabel": "skos:altLabel",
        "hiddenLabel": "skos:hiddenLabel",
    }
    for name in field_names:
        if name != "prefLabel":
            context[name] = "skos:" + name
    if hits and "prefLabels" in hits[0]:
        context["prefLabels"] = {"@id": "skos:prefLabel", "@container": "@language"}
    asked = language(labellang, "labellang") or search_lang
    if asked:
        context["@language"] = asked
    return {"@context": context, "uri": "", "results": hits}


def lookup(
    services: Services, vocid: str, *, label: str | None, lang: str | None, labellang: str | None = None
) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/lookup?label=&lang=`: the concepts best matching a label (Skosmos' order
    of precedence: preferred label exactly, then case-insensitively, then — without `lang` — a preferred
    label in another language, then an alternative label exactly, then case-insensitively)."""
    if not label:
        raise SkosmosError(400, "label parameter missing")
    vocab = vocabulary(services, vocid)
    search_lang = language(lang)
    query = SearchQuery(
        term=normalise_term(label),
        search_lang=search_lang,
        label_lang=language(labellang, "labellang") or search_lang or DEFAULT_LANGUAGE,
        vocabs=(vocab,),
        explicit_vocabs=True,
    )
    results = run_search(services, query)
    hits = _lookup_hits(results, unicodedata.normalize("NFC", label.strip()), search_lang)
    if not hits:
        raise SkosmosError(404, f"Could not find label '{label}'")
    context = _context(
        onki=ONKI,
        results={"@id": "onki:results"},
        prefLabel="skos:prefLabel",
        altLabel="skos:altLabel",
        hiddenLabel="skos:hiddenLabel",
    )
    if search_lang:
        context["@language"] = search_lang
    return {"@context": context, "result": hits}


def _lookup_hits(results: list[dict[str, object]], label: str, lang: str | None) -> list[dict[str, object]]:
    def where(key: str, exact: bool) -> list[dict[str, object]]:
        wanted = label if exact else label.lower()
        return [r for r in results if key in r and (str(r[key]) if exact else str(r[key]).lower()) == wanted]

    for key, exact in (("prefLabel", True), ("prefLabel", False)):
        if hits := where(key, exact):
            return hits
    if lang is None:
        for exact in (True, False):
            if hits := where("matchedPrefLabel", exact):
                moved = []
                for hit in hits:
                    hit = dict(hit)
                    hit["prefLabel"] = hit.pop("matchedPrefLabel")
                    moved.append(hit)
                return moved
    for key, exact in (("altLabel", True), ("altLabel", False)):
        if hits := where(key, exact):
            return hits
    return []


# -- vocabulary-specific methods -------------------------------------------------------------


def vocabulary_information(services: Services, vocid: str, *, lang: str | None, api_base: str) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/`: id, title, languages and concept schemes of a vocabulary."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    scheme: dict[str, object] = {"uri": vocab.iri, "type": "skos:ConceptScheme"}
    for key, texts in (("label", vocab.labels), ("prefLabel", vocab.pref_labels), ("title", vocab.titles)):
        text = _in_language(texts, lang)
        if text is not None:
            scheme[key] = text
    return {
        "@context": {
            "rdfs": RDFS,
            "skos": SKOS,
            "onki": ONKI,
            "dct": DCT,
            "uri": "@id",
            "type": "@type",
            "conceptschemes": "onki:hasConceptScheme",
            "id": "onki:vocabularyIdentifier",
            "defaultLanguage": "onki:defaultLanguage",
            "languages": "onki:language",
            "label": "rdfs:label",
            "prefLabel": "skos:prefLabel",
            "title": "dct:title",
            "@language": lang,
            "@base": f"{api_base}{vocid}/",
        },
        "uri": "",
        "id": vocab.id,
        "title": vocab.title(lang),
        "defaultLanguage": DEFAULT_LANGUAGE,
        "languages": _languages(services, vocab),
        "conceptschemes": [scheme],
    }


def top_concepts(services: Services, vocid: str, *, lang: str | None, scheme: str | None = None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/topConcepts?lang=`: the top concepts, with label, notation and
    whether they have narrower concepts; in the order of their notations."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    scheme_uri = (scheme or "").strip() or vocab.iri
    scheme_node = _iri(scheme_uri)
    tops: list[dict[str, object]] = []
    if scheme_node is not None:
        rows = services.store.select(services.queries("skosmos-top-concepts", graph=vocab.node, scheme=scheme_node))
        nodes = facts(services, vocab, [row["top"].value for row in rows])
        for node in sorted(nodes.values(), key=lambda n: _notation_key(n, lang)):
            label = node.label_with_fallback(lang, mark=True)
            if label is None:
                continue
            top: dict[str, object] = {
                "uri": node.iri,
                "topConceptOf": scheme_uri,
                "label": label,
                "hasChildren": node.has_children,
            }
            if node.notation is not None:
                top["notation"] = node.notation
            tops.append(top)
    return {
        "@context": _context(
            onki=ONKI,
            topconcepts="skos:hasTopConcept",
            notation="skos:notation",
            label="skos:prefLabel",
            **{"@language": lang},
        ),
        "uri": scheme_uri,
        "topconcepts": tops,
    }


def label(services: Services, *, uri: str | None, lang: str | None, vocid: str | None = None) -> dict[str, object]:
    """`GET /rest/v1/label?uri=` and `/rest/v1/{vocid}/label?uri=&lang=`: a concept's labels in `lang`
    (the preferred one, and the alternative and hidden ones)."""
    wanted = _required_uri(uri)
    lang = language(lang)
    if vocid is not None:
        vocab: Vocabulary | None = vocabulary(services, vocid)
        lang = lang or DEFAULT_LANGUAGE
    else:
        vocab = guess_vocabulary(vocabularies(services).values(), wanted)
    if vocab is None:
        raise _not_found(wanted)
    node = facts(services, vocab, [wanted]).get(wanted)
    if node is None or not node.types:
        raise _not_found(wanted)
    result: dict[str, object] = {
        "@context": _context(
            prefLabel="skos:prefLabel", altLabel="skos:altLabel", hiddenLabel="skos:hiddenLabel", **{"@language": lang}
        ),
        "uri": wanted,
    }
    pref = [node.pref[t] for t in _ordered_tags(node.pref) if lang is None or (t and lang_matches(t, lang))]
    if pref:
        result["prefLabel"] = pref[0]
    for key, texts in (("altLabel", node.alt), ("hiddenLabel", node.hidden)):
        values = [v for t in _ordered_tags(texts) if lang is None or (t and lang_matches(t, lang)) for v in texts[t]]
        if values:
            result[key] = values
    return result


def _relation(
    services: Services, vocid: str, uri: str | None, lang: str | None, name: str, values: str
) -> dict[str, object]:
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    node = _concept(services, vocab, wanted)
    linked = facts(services, vocab, getattr(node, values))
    items = [
        {"uri": iri, "prefLabel": linked[iri].strict_label(lang) if iri in linked else None}
        for iri in sorted(getattr(node, values))
    ]
    items.sort(key=lambda i: (danish_sort_key(str(i["prefLabel"] or "")), str(i["uri"])))
    return {
        "@context": _context(prefLabel="skos:prefLabel", **{name: "skos:" + name, "@language": lang}),
        "uri": wanted,
        name: items,
    }


def broader(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/broader?uri=`: the broader concepts."""
    return _relation(services, vocid, uri, lang, "broader", "broader")


def narrower(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/narrower?uri=`: the narrower concepts."""
    return _relation(services, vocid, uri, lang, "narrower", "narrower")


def related(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/related?uri=`: the related concepts."""
    return _relation(services, vocid, uri, lang, "related", "related")


def _transitive(
    services: Services, vocid: str, uri: str | None, lang: str | None, limit: str | None, *, up: bool
) -> dict[str, object]:
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    text = (limit or "").strip()
    count = int(text) if re.fullmatch(r"-?\d+", text) else DEFAULT_TRANSITIVE_LIMIT
    if count <= 0:
        raise SkosmosError(400, "Invalid limit parameter")
    _concept(services, vocab, wanted)
    query = "skosmos-ancestors" if up else "skosmos-descendants"
    reached = set(_closure(services, query, vocab, [wanted]).get(wanted, [wanted]))
    nodes = facts(services, vocab, reached)
    direct_key, name = ("broader", "broaderTransitive") if up else ("narrower", "narrowerTransitive")

    def order(iri: str) -> tuple[object, ...]:
        return (iri != wanted, _notation_key(nodes[iri], lang) if iri in nodes else (), iri)

    results: dict[str, dict[str, object]] = {}
    for iri in sorted(reached | {wanted}, key=order)[:count]:
        node = nodes.get(iri)
        entry: dict[str, object] = {"uri": iri, "prefLabel": node.strict_label(lang) if node else None}
        direct = sorted(getattr(node, direct_key)) if node else []
        if direct:
            entry[direct_key] = direct
        results[iri] = entry
    return {
        "@context": _context(
            prefLabel="skos:prefLabel",
            **{
                direct_key: {"@id": "skos:" + direct_key, "@type": "@id"},
                name: {"@id": "skos:" + name, "@container": "@index"},
                "@language": lang,
            },
        ),
        "uri": wanted,
        name: results,
    }


def broader_transitive(
    services: Services, vocid: str, *, uri: str | None, lang: str | None, limit: str | None = None
) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/broaderTransitive?uri=`: the concept and all its broader concepts,
    keyed by URI, each with its direct broader concepts."""
    return _transitive(services, vocid, uri, lang, limit, up=True)


def narrower_transitive(
    services: Services, vocid: str, *, uri: str | None, lang: str | None, limit: str | None = None
) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/narrowerTransitive?uri=`: the concept and all its narrower concepts,
    keyed by URI, each with its direct narrower concepts."""
    return _transitive(services, vocid, uri, lang, limit, up=False)


def _child(node: Node, lang: str, label_key: str, *, mark: bool) -> dict[str, object]:
    child: dict[str, object] = {
        "uri": node.iri,
        label_key: node.label_with_fallback(lang, mark=mark),
        "hasChildren": node.has_children,
    }
    if node.notation is not None:
        child["notation"] = node.notation
    return child


def children(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/children?uri=`: the narrower concepts, for a hierarchy view."""
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    node = _concept(services, vocab, wanted)
    below = facts(services, vocab, node.narrower)
    ordered = sorted(below.values(), key=lambda n: _notation_key(n, lang))
    return {
        "@context": _context(
            onki=ONKI,
            prefLabel="skos:prefLabel",
            narrower="skos:narrower",
            notation="skos:notation",
            hasChildren="onki:hasChildren",
            **{"@language": lang},
        ),
        "uri": wanted,
        "narrower": [_child(n, lang, "prefLabel", mark=False) for n in ordered],
    }


def hierarchy(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/hierarchy?uri=`: the concept and its ancestors, each with its narrower
    concepts (its siblings, for the ancestors' children), for drawing the tree down to the concept."""
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    _concept(services, vocab, wanted)
    above = list(dict.fromkeys(_ancestors(services, vocab, [wanted]).get(wanted, [wanted])))
    nodes = facts(services, vocab, above)
    child_iris = {c for iri in above if iri in nodes for c in nodes[iri].narrower}
    kids = facts(services, vocab, child_iris)
    results: dict[str, dict[str, object]] = {}
    for iri in above:
        node = nodes.get(iri)
        if node is None:
            continue
        entry: dict[str, object] = {"uri": iri}
        tops = sorted(node.top_of)
        if tops:
            entry["tops"] = tops
            entry["top"] = vocab.iri if vocab.iri in tops else tops[0]
        if node.narrower:
            ordered = sorted((kids[c] for c in node.narrower if c in kids), key=lambda n: _notation_key(n, lang))
            entry["narrower"] = [_child(k, lang, "label", mark=True) for k in ordered]
        label = node.label_with_fallback(lang, mark=True)
        if label is not None:
            entry["prefLabel"] = label
        if node.notation is not None:
            entry["notation"] = node.notation
        if node.broader:
            entry["broader"] = sorted(node.broader)
        entry["hasChildren"] = node.has_children
        results[iri] = entry
    return {
        "@context": _context(
            onki=ONKI,
            prefLabel="skos:prefLabel",
            notation="skos:notation",
            narrower={"@id": "skos:narrower", "@type": "@id"},
            broader={"@id": "skos:broader", "@type": "@id"},
            broaderTransitive={"@id": "skos:broaderTransitive", "@container": "@index"},
            top={"@id": "skos:topConceptOf", "@type": "@id"},
            tops={"@id": "skos:topConceptOf", "@type": "@id"},
            hasChildren="onki:hasChildren",
            **{"@language": lang},
        ),
        "uri": wanted,
        "broaderTransitive": results,
    }


def groups(services: Services, vocid: str, *, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/groups`: the concept groups (skos:Collection) with a name in `lang`;
    a scheme's collections (graph.vocab_schemes)."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    found: dict[str, dict[str, object]] = {}
    names: dict[str, dict[str, str]] = defaultdict(dict)
    for row in services.store.select(services.queries("skosmos-groups", scheme=vocab.node)):
        uri = row["group"].value
        entry = found.setdefault(uri, {"uri": uri, "childGroups": [], "hasMembers": False})
        if isinstance(row.get("label"), Literal):
            names[uri].setdefault(row["label"].language or "", row["label"].value)
        if isinstance(row.get("notation"), Literal):
            entry["notation"] = row["notation"].value
        if isinstance(row.get("member"), NamedNode):
            entry["hasMembers"] = True
            if row.get("memberIsGroup") is not None and row["memberIsGroup"].value in ("true", "1"):
                entry["childGroups"].append(row["member"].value)  # type: ignore[attr-defined]
    result = []
    for uri, entry in found.items():
        name = _in_language(names[uri], lang)
        if name is None:
            continue  # Skosmos lists the groups named in the asked language
        entry["prefLabel"] = name
        if not entry["childGroups"]:
            del entry["childGroups"]
        else:
            entry["childGroups"] = sorted(set(entry["childGroups"]))  # type: ignore[arg-type]
        result.append(entry)
    result.sort(key=lambda e: danish_sort_key(str(e["prefLabel"])))
    return {
        "@context": _context(
            onki=ONKI,
            prefLabel="skos:prefLabel",
            groups="onki:hasGroup",
            childGroups={"@id": "skos:member", "@type": "@id"},
            hasMembers="onki:hasMembers",
            **{"@language": lang},
        ),
        "uri": "",
        "groups": result,
    }


def group_members(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/groupMembers?uri=`: the members of a concept group; 404 when the
    vocabulary has no such group (as Skosmos answers)."""
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    members = sorted(_members(services, [vocab], wanted))
    if not members:
        raise SkosmosError(404, f"Could not find group <{wanted}>")
    nodes = facts(services, vocab, members)
    groups_with_members = {
        row["group"].value
        for row in services.store.select(services.queries("skosmos-groups", scheme=vocab.node))
        if row.get("member") is not None
    }
    result = []
    for iri in members:
        node = nodes.get(iri, Node(iri))
        entry: dict[str, object] = {
            "uri": iri,
            "isSuper": False,
            "hasMembers": iri in groups_with_members,
            "type": sorted(_shorten_type(t) for t in node.types),
        }
        name = node.label_with_fallback(lang, mark=True)
        if name is not None:
            entry["prefLabel"] = name
        if node.notation is not None:
            entry["notation"] = node.notation
        result.append(entry)
    result.sort(key=lambda e: danish_sort_key(str(e.get("prefLabel", e["uri"]))))
    return {
        "@context": _context(prefLabel="skos:prefLabel", members="skos:member", **{"@language": lang}),
        "uri": wanted,
        "members": result,
    }


# -- the alphabetical index ------------------------------------------------------------------


def index_letter(text: str) -> str:
    """The index a label is filed under: A–Z, Æ, Ø, Å (Danish: ä with æ, ö with ø, é with e …), or
    Skosmos' special classes `0-9` (digits) and `!*` (anything else)."""
    letter = initial_letter(text)
    if letter != "#":
        return letter
    stripped = text.strip()
    return "0-9" if stripped[:1].isdigit() else "!*"


def _index_rows(services: Services, vocab: Vocabulary, lang: str, *, alternative: bool) -> list[Row]:
    properties = [NamedNode(PREF), NamedNode(ALT)] if alternative else [NamedNode(PREF)]
    return services.store.select(services.queries("skosmos-index", scheme=vocab.node, properties=properties, lang=lang))


def index_letters(services: Services, vocid: str, *, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/index/`: the letters under which preferred labels in `lang` are filed,
    in Danish alphabetical order (… X Y Z Æ Ø Å), then `!*` and `0-9` as Skosmos lists them."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    used = {
        index_letter(row["label"].value)
        for row in _index_rows(services, vocab, lang, alternative=False)
        if row.get("deprecated") is None or row["deprecated"].value not in ("true", "1")
    }
    letters = [x for x in DANISH_ALPHABET if x in used]
    letters += sorted(x for x in used if x not in DANISH_ALPHABET and x not in ("!*", "0-9"))
    letters += [x for x in ("!*", "0-9") if x in used]
    return {
        "@context": _context(indexLetters={"@id": "skosmos:indexLetters", "@container": "@list", "@language": lang}),
        "uri": "",
        "indexLetters": letters,
    }


def index_concepts(
    services: Services,
    vocid: str,
    letter: str,
    *,
    lang: str | None,
    limit: str | None = None,
    offset: str | None = None,
) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/index/{letter}`: concepts with a preferred or alternative label in
    `lang` filed under the letter, in Danish collation (`index/A` has no `Å…`; `index/Å` has them).
    `*` gives everything, `0-9` and `!*` the special classes; a longer text is taken as a prefix."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    wanted = unicodedata.normalize("NFC", letter.strip())
    upper = wanted.upper()

    def filed(text: str) -> bool:
        if wanted == "*":
            return True
        if wanted in ("0-9", "!*") or len(wanted) == 1:
            return index_letter(text) == upper
        return text.lower().startswith(wanted.lower())

    pref: dict[str, tuple[str, str]] = {}
    alts: list[tuple[str, str, str]] = []
    for row in _index_rows(services, vocab, lang, alternative=True):
        if row.get("deprecated") is not None and row["deprecated"].value in ("true", "1"):
            continue
        value = row["label"]
        assert isinstance(value, Literal)
        concept = row["concept"].value
        if row["property"].value == PREF:
            pref.setdefault(concept, (value.value, value.language or ""))
        else:
            alts.append((concept, value.value, value.language or ""))
    entries: list[tuple[tuple[str, str], str, dict[str, object]]] = []
    for concept, (text, tag) in pref.items():
        if filed(text):
            entry = {"uri": concept, "localname": _local(concept), "prefLabel": text, "lang": tag}
            entries.append((danish_sort_key(text), concept, entry))
    for concept, text, tag in alts:
        if concept in pref and filed(text):
            entry = {
                "uri": concept,
                "localname": _local(concept),
                "prefLabel": pref[concept][0],
                "altLabel": text,
                "lang": tag,
            }
            entries.append((danish_sort_key(text), concept, entry))
    entries.sort(key=lambda e: (e[0], e[1]))
    start = _lenient_count(offset, 0)
    count = _lenient_count(limit, 0)
    chosen = entries[start : start + count] if count else entries[start:]
    return {
        "@context": _context(indexConcepts={"@id": "skosmos:indexConcepts", "@container": "@list"}),
        "uri": "",
        "indexConcepts": [e[2] for e in chosen],
    }


def _local(uri: str) -> str:
    """EasyRdf's localName: what follows the last `/` or `#`."""
    return re.split(r"[/#]", uri)[-1]


# -- change lists, statistics ----------------------------------------------------------------


def _parse_date(text: str) -> datetime | None:
    try:
        if "T" in text:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        else:
            day = date.fromisoformat(text[:10])
            parsed = datetime(day.year, day.month, day.day)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def changes(
    services: Services, vocid: str, *, prop: str, lang: str | None, offset: str | None, limit: str | None
) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/new` (dct:created) and `/modified` (dct:modified): concepts by date, newest
    month first, then by label; each with `date` as Skosmos formats it (`2024-05-01T00:00:00+0000`)."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    start = _lenient_count(offset, 0)
    count = _lenient_count(limit, DEFAULT_CHANGE_LIMIT)
    rows = services.store.select(
        services.queries("skosmos-changes", scheme=vocab.node, property=NamedNode(DCT + prop), lang=lang)
    )
    found: dict[str, tuple[datetime, str]] = {}
    for row in rows:
        when = _parse_date(row["date"].value)
        if when is None:
            continue  # Skosmos skips malformed dates
        concept = row["concept"].value
        if concept not in found or when > found[concept][0]:
            found[concept] = (when, row["label"].value)
    # Skosmos' order: newest month first, then by label, then by URI descending (stable sorts, last key first).
    ordered = sorted(found.items(), key=lambda kv: kv[0], reverse=True)
    ordered.sort(key=lambda kv: danish_sort_key(kv[1][1]))
    ordered.sort(key=lambda kv: (kv[1][0].year, kv[1][0].month), reverse=True)
    chosen = ordered[start : start + count] if count else ordered[start:]
    return {
        "@context": _context(
            **{"@language": lang},
            prefLabel="skos:prefLabel",
            xsd=XSD,
            date={"@id": DCT + "date", "@type": XSD + "dateTime"},
        ),
        "changeList": [
            {"uri": uri, "prefLabel": text, "date": when.strftime("%Y-%m-%dT%H:%M:%S%z"), "deprecated": False}
            for uri, (when, text) in chosen
        ],
    }


def vocabulary_statistics(services: Services, vocid: str, *, lang: str | None, api_base: str) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/vocabularyStatistics`: how many concepts (and deprecated ones) and groups."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    counts = {
        row["type"].value: (int(row["count"].value), int(row["deprecatedCount"].value))
        for row in services.store.select(services.queries("skosmos-statistics", scheme=vocab.node))
    }
    concepts, deprecated = counts.get(CONCEPT, (0, 0))
    result: dict[str, object] = {
        "@context": {
            "rdfs": RDFS,
            "skos": SKOS,
            "void": VOID,
            "onki": ONKI,
            "uri": "@id",
            "id": "onki:vocabularyIdentifier",
            "concepts": "void:classPartition",
            "label": "rdfs:label",
            "class": {"@id": "void:class", "@type": "@id"},
            "subTypes": {"@id": "void:class", "@type": "@id"},
            "count": "void:entities",
            "@language": lang,
            "@base": f"{api_base}{vocid}/",
        },
        "uri": "",
        "id": vocab.id,
        "title": vocab.title(lang),
        "concepts": {
            "class": CONCEPT,
            "label": _pick(TYPE_LABELS[CONCEPT], lang),
            "count": concepts,
            "deprecatedCount": deprecated,
        },
        "subTypes": [],
    }
    if COLLECTION in counts:
        result["conceptGroups"] = {
            "class": COLLECTION,
            "label": _pick(TYPE_LABELS[COLLECTION], lang),
            "count": counts[COLLECTION][0],
            "deprecatedCount": counts[COLLECTION][1],
        }
    return result


def label_statistics(services: Services, vocid: str, *, lang: str | None, api_base: str) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/labelStatistics`: preferred, alternative and hidden labels per language."""
    vocab = vocabulary(services, vocid)
    lang = language(lang) or DEFAULT_LANGUAGE
    props = ("skos:prefLabel", "skos:altLabel", "skos:hiddenLabel")
    counts: dict[str, dict[str, int]] = {tag: dict.fromkeys(props, 0) for tag in _languages(services, vocab)}
    for row in services.store.select(services.queries("skosmos-label-statistics", scheme=vocab.node)):
        tag = row["lang"].value if row.get("lang") is not None else ""
        if tag in counts:
            counts[tag]["skos:" + row["property"].value[len(SKOS) :]] += int(row["count"].value)
    languages = []
    for tag in sorted(counts):
        entry: dict[str, object] = {"language": tag}
        names = LANGUAGE_NAMES.get(tag.split("-")[0].lower())
        if names:
            entry["literal"] = _pick(names, lang)
        entry["properties"] = [{"property": p, "labels": n} for p, n in counts[tag].items()]
        languages.append(entry)
    return {
        "@context": {
            "rdfs": RDFS,
            "skos": SKOS,
            "void": VOID,
            "void-ext": VOID_EXT,
            "onki": ONKI,
            "uri": "@id",
            "id": "onki:vocabularyIdentifier",
            "languages": "void-ext:languagePartition",
            "language": "void-ext:language",
            "properties": "void:propertyPartition",
            "labels": "void:triples",
            "@base": f"{api_base}{vocid}/",
            "literal": {"@id": "rdfs:label", "@language": lang},
        },
        "uri": "",
        "id": vocab.id,
        "title": vocab.title(lang),
        "languages": languages,
    }


# -- RDF data and mappings -------------------------------------------------------------------


def concept_triples(services: Services, *, uri: str | None, vocid: str | None = None) -> list[Triple]:
    """The RDF data of a concept as Skosmos' `data?uri=` gives it; 404 when there is no such concept."""
    wanted = _required_uri(uri)
    if vocid is not None:
        vocab: Vocabulary | None = vocabulary(services, vocid)
    else:
        vocab = guess_vocabulary(vocabularies(services).values(), wanted)
    node = _iri(wanted)
    if vocab is None or node is None:
        raise SkosmosError(404, "no concept found with given uri")
    triples = services.store.construct(services.queries("skosmos-describe", scheme=vocab.node, concept=node))
    if not any(t.subject == node for t in triples):
        raise SkosmosError(404, "no concept found with given uri")
    return sorted(set(triples), key=str)


def vocabulary_data_path(services: Services, vocid: str, media_type: str) -> str:
    """Where the whole vocabulary is served (Skosmos redirects `data` without `uri` to its download)."""
    vocab = vocabulary(services, vocid)
    return "/" + vocab.iri[len(services.iris.base) :] + FORMAT_SUFFIX[media_type]


def _compact(iri: str) -> str:
    for prefix, namespace in DATA_CONTEXT.items():
        if namespace.startswith("http") and iri.startswith(namespace) and len(iri) > len(namespace):
            return f"{prefix}:{iri[len(namespace) :]}"
    return iri


def _expand(key: str) -> str:
    """A term, compact IRI or IRI of DATA_CONTEXT as a full IRI."""
    value = DATA_CONTEXT.get(key, key)
    prefix, _, local = value.partition(":")
    return DATA_CONTEXT[prefix] + local if prefix in DATA_CONTEXT and not local.startswith("//") else value


#: Property IRIs that have a term of their own in DATA_CONTEXT (`prefLabel`, `broader`, …).
_TERMS = {_expand(term): term for term, value in DATA_CONTEXT.items() if value.startswith(("skos:", "rdfs:"))}


def jsonld_document(triples: Sequence[Triple]) -> dict[str, object]:
    """Triples as the JSON-LD Skosmos sends: compacted with DATA_CONTEXT (`uri`, `type`, `lang`,
    `value`; one value as itself, several as a list; nodes in the `graph` list, ordered by IRI)."""
    nodes: dict[str, dict[str, list[object]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        subject = t.subject.value if isinstance(t.subject, NamedNode) else f"_:{t.subject.value}"
        predicate = t.predicate.value
        value = t.object
        if predicate == RDF + "type" and isinstance(value, NamedNode):
            nodes[subject]["type"].append(_compact(value.value))
            continue
        key = _TERMS.get(predicate) or _compact(predicate)
        if isinstance(value, NamedNode):
            nodes[subject][key].append({"uri": _compact(value.value)})
        elif isinstance(value, BlankNode):
            nodes[subject][key].append({"uri": f"_:{value.value}"})
        elif isinstance(value, Literal):
            if value.language:
                nodes[subject][key].append({"lang": value.language, "value": value.value})
            elif value.datatype.value == XSD + "string":
                nodes[subject][key].append(value.value)
            else:
                nodes[subject][key].append({"type": _compact(value.datatype.value), "value": value.value})
    graph = []
    for subject in sorted(nodes):
        node: dict[str, object] = {"uri": _compact(subject)}
        props = nodes[subject]
        for key in ["type", *sorted((k for k in props if k != "type"), key=lambda k: _expand(k))]:
            if key not in props:
                continue
            values = sorted(props[key], key=lambda v: json.dumps(v, ensure_ascii=False, sort_keys=True))
            node[key] = values[0] if len(values) == 1 else values
        graph.append(node)
    document: dict[str, object] = {"@context": dict(DATA_CONTEXT)}
    if len(graph) == 1:
        document.update(graph[0])
    else:
        document["graph"] = graph
    return document


def serialize_data(services: Services, triples: Sequence[Triple], media_type: str) -> bytes:
    """The concept data in one of SUPPORTED_FORMATS."""
    if media_type == "text/turtle":
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=prefixes(services.iris))
    if media_type == "application/rdf+xml":
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML, prefixes=prefixes(services.iris))
    return json.dumps(jsonld_document(triples), ensure_ascii=False, indent=2).encode("utf-8")


def mappings(services: Services, vocid: str, *, uri: str | None, lang: str | None) -> dict[str, object]:
    """`GET /rest/v1/{vocid}/mappings?uri=`: the concept's mapping relations (exact, close, broad,
    narrow, related match) as JSKOS mappings, as Skosmos gives them, plus the concept's JSON-LD."""
    vocab = vocabulary(services, vocid)
    wanted = _required_uri(uri)
    lang = language(lang) or DEFAULT_LANGUAGE
    _concept(services, vocab, wanted)
    triples = concept_triples(services, uri=wanted, vocid=vocid)
    known = vocabularies(services)
    subject = NamedNode(wanted)
    described: dict[str, dict[str, list[Literal | NamedNode]]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        if isinstance(t.subject, NamedNode) and isinstance(t.object, NamedNode | Literal):
            described[t.subject.value][t.predicate.value].append(t.object)
    result = []
    for prop in MAPPING_PROPERTIES:
        targets = sorted(t.object.value for t in triples if t.subject == subject and t.predicate.value == prop)
        items = [_jskos(services, vocab, known, wanted, prop, target, described[target], lang) for target in targets]
        items.sort(key=lambda m: f"{m['vocabName']}: {m['prefLabel']}".lower())
        result.extend(items)
    return {
        "mappings": result,
        "graph": json.dumps(jsonld_document(triples), ensure_ascii=False),
    }


def _jskos(
    services: Services,
    vocab: Vocabulary,
    known: dict[str, Vocabulary],
    source: str,
    prop: str,
    target: str,
    facts_of: dict[str, list[Literal | NamedNode]],
    lang: str,
) -> dict[str, object]:
    names = {v.language or "": v.value for v in facts_of.get(PREF, []) if isinstance(v, Literal)}
    names = names or {v.language or "": v.value for v in facts_of.get(RDFS + "label", []) if isinstance(v, Literal)}
    notation = next((v.value for v in facts_of.get(SKOS + "notation", []) if isinstance(v, Literal)), None)
    target_vocab = guess_vocabulary(known.values(), target)
    tag = next((t for t in _ordered_tags(names) if t and lang_matches(t, lang)), None)
    if tag is None:
        tag = next(iter(_ordered_tags(names)), None)
    label = names[tag] if tag is not None else None
    short = _compact(target)
    host = urlsplit(target).hostname or target
    path = "/" + target[len(services.iris.base) :] if target.startswith(services.iris.base) else target
    item: dict[str, object] = {
        "uri": source,
        "notation": notation,
        "type": ["skos:" + prop[len(SKOS) :]],
        "prefLabel": label if label is not None else short,
        "from": {"memberSet": [{"uri": source}]},
        "to": {"memberSet": [{"uri": target}]},
        "hrefLink": path,
        "lang": tag if tag is not None else lang,
        "vocabName": target_vocab.title(lang) if target_vocab else host,
        "typeLabel": _pick(MAPPING_LABELS[prop], lang),
        "fromScheme": {"uri": vocab.iri},
    }
    if target_vocab is not None:
        item["toScheme"] = {"uri": target_vocab.iri}
    member = item["to"]["memberSet"][0]  # type: ignore[index]
    if notation is not None:
        member["notation"] = notation
    if label is not None:
        member["prefLabel"] = {tag: label}
    return item
