"""View models: what each page shows, as plain objects built from named queries.

Pages (api/templates) only format these; they never see SPARQL or RDF terms. Every view keeps
labels in all languages and picks one with `.label(lang)`, so one view serves Danish and English.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.iris import DCT, RDF, SCHEMA, SKOS, Iris, RecordKind
from graph.links import LinkFlag, broken_links
from graph.resources import Resolution
from graph.services import Services
from graph.text import DANISH_ALPHABET, danish_sort_key, initial_letter

LABEL_PROPERTIES = (SKOS + "prefLabel", DCT + "title", "http://www.w3.org/2000/01/rdf-schema#label")


def pick(texts: dict[str, str], lang: str, fallback: str = "") -> str:
    """The text in `lang`, else Danish, else English, else any, else `fallback`."""
    return (
        texts.get(lang) or texts.get("da") or texts.get("en") or texts.get("") or next(iter(texts.values()), fallback)
    )


@dataclass
class Ref:
    """A link to a resource with its names in every language."""

    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    path: str = ""  # where it is served on this site; "" for an external IRI

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.iri)


def labels_from(triples: Iterable[Triple]) -> dict[str, dict[str, str]]:
    """IRI -> {lang: label} from label triples (prefLabel wins over title over rdfs:label)."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    rank: dict[tuple[str, str], int] = {}
    for t in triples:
        if t.predicate.value in LABEL_PROPERTIES and isinstance(t.object, Literal):
            key = (str(t.subject.value), t.object.language or "")
            order = LABEL_PROPERTIES.index(t.predicate.value)
            if key not in rank or order < rank[key]:
                rank[key] = order
                found[key[0]][key[1]] = t.object.value
    return found


_PROPERTY_LABELS: dict[str, dict[str, dict[str, str]]] = {}


class Site:
    """Shared helpers for views: IRIs to local paths, names of things, property names."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.iris: Iris = services.iris

    def path(self, iri: str) -> str:
        base = self.iris.base
        return "/" + iri[len(base) :] if iri.startswith(base) else ""

    def ref(self, iri: str, labels: dict[str, str] | None = None) -> Ref:
        return Ref(iri, labels or {}, self.path(iri))

    def refs(self, iris: Iterable[str], names: Mapping[str, dict[str, str]] | None = None) -> list[Ref]:
        """Named references, sorted by Danish label; labels fetched in one query unless given."""
        unique = sorted(set(iris))
        names = self.names(unique) if names is None else names
        refs = [self.ref(i, names.get(i, {})) for i in unique]
        return sorted(refs, key=lambda r: danish_sort_key(r.label("da")))

    def names(self, iris: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for start in range(0, len(iris), 500):
            chunk = [NamedNode(i) for i in iris[start : start + 500]]
            if not chunk:
                continue
            for row in self.services.store.select(self.services.queries("labels", resources=chunk)):
                label = row["label"]
                assert isinstance(label, Literal)
                found[row["resource"].value].setdefault(label.language or "", label.value)
        return found

    @property
    def property_labels(self) -> dict[str, dict[str, str]]:
        """Names of the ontology's terms; read once per process (the ontology changes only on upgrade)."""
        cached = _PROPERTY_LABELS.get(self.iris.base)
        if cached is None:
            cached = _PROPERTY_LABELS[self.iris.base] = self._read_property_labels()
        return cached

    def _read_property_labels(self) -> dict[str, dict[str, str]]:
        rows = self.services.store.select(self.services.queries("property-labels", ontology=self.iris.ontology))
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for row in rows:
            label = row["label"]
            assert isinstance(label, Literal)
            found[row["term"].value][label.language or ""] = label.value
        return found

    def kind_of_class(self, class_iri: str) -> RecordKind | None:
        return self.iris.kind_of_class(NamedNode(class_iri))


# -- values shown on a page -----------------------------------------------------------------


@dataclass
class Value:
    """One value of a property: a link, or a literal (with its language, if any)."""

    text: str = ""
    lang: str = ""
    ref: Ref | None = None
    datatype: str = ""

    def label(self, lang: str) -> str:
        return self.ref.label(lang) if self.ref else self.text


@dataclass
class Property:
    iri: str
    labels: dict[str, str]
    values: list[Value]

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.iri)

    def values_for(self, lang: str) -> list[Value]:
        """Language-tagged literals: the ones in `lang` when there are any, else all of them."""
        tagged = [v for v in self.values if v.lang]
        if not tagged:
            return self.values
        chosen = [v for v in tagged if v.lang == lang] or tagged
        return chosen + [v for v in self.values if not v.lang]


def properties_of(
    site: Site, subject: NamedNode, triples: Sequence[Triple], skip: Iterable[str] = ()
) -> list[Property]:
    labels = labels_from(triples)
    skipped = set(skip)
    grouped: dict[str, list[Value]] = defaultdict(list)
    for t in triples:
        if t.subject != subject or t.predicate.value in skipped:
            continue
        o = t.object
        if isinstance(o, NamedNode):
            grouped[t.predicate.value].append(Value(ref=site.ref(o.value, labels.get(o.value, {}))))
        elif isinstance(o, Literal):
            grouped[t.predicate.value].append(Value(text=o.value, lang=o.language or "", datatype=o.datatype.value))
        elif isinstance(o, BlankNode):
            grouped[t.predicate.value].append(Value(text=f"_:{o.value}"))
    return [
        Property(
            p,
            site.property_labels.get(p, {"": p.rsplit("/", 1)[-1].rsplit("#", 1)[-1]}),
            sorted(vs, key=lambda v: danish_sort_key(v.label("da"))),
        )
        for p, vs in grouped.items()
    ]


# -- concept pages ---------------------------------------------------------------------------


@dataclass
class TaggedGroup:
    kind: RecordKind
    count: int
    records: list[Ref]


@dataclass
class ConceptPage:
    iri: str
    labels: dict[str, str]
    properties: list[Property]
    scheme: Ref | None
    breadcrumbs: list[list[Ref]]
    narrower: list[Ref]
    related: list[Ref]
    mappings: list[tuple[str, list[Ref]]]
    tagged: list[TaggedGroup]
    deprecated: bool
    replaced_by: list[Ref]

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.iri)

    def texts(self, prop: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        for p in self.properties:
            if p.iri == prop:
                for v in p.values:
                    found[v.lang].append(v.text)
        return found


MAPPING_PROPERTIES = [SKOS + m for m in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")]
TAGGED_LIMIT = 50


def concept_page(site: Site, resolution: Resolution, triples: Sequence[Triple]) -> ConceptPage:
    services = site.services
    iri = resolution.iri
    labels = labels_from(triples)
    own_labels = {
        t.object.language: t.object.value
        for t in triples
        if t.subject == iri and t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, Literal)
    }

    def linked(prop: str) -> list[Ref]:
        refs = [
            site.ref(t.object.value, labels.get(t.object.value, {}))
            for t in triples
            if t.subject == iri and t.predicate.value == prop and isinstance(t.object, NamedNode)
        ]
        return sorted(refs, key=lambda r: danish_sort_key(r.label("da")))

    schemes = linked(SKOS + "inScheme")
    rows = services.store.select(services.queries("concept-ancestors", concept=iri))
    parents: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if "parent" in row:
            parents[row["ancestor"].value].add(row["parent"].value)
    ancestor_names = site.names(sorted(parents.keys() | {p for ps in parents.values() for p in ps}))

    def paths(node: str, seen: frozenset[str]) -> list[list[str]]:
        if not parents.get(node):
            return [[node]]
        return [path + [node] for p in sorted(parents[node]) if p not in seen for path in paths(p, seen | {p})]

    breadcrumbs = [
        [site.ref(a, ancestor_names.get(a, {})) for a in path[:-1]] for path in paths(iri.value, frozenset())
    ]
    breadcrumbs = [b for b in breadcrumbs if b]

    # Counts and the newest records per kind come from the search index (see DESIGN.md: SPARQL would walk
    # every tagged record of a busy concept).
    tagged = services.search.tagged(iri.value, [kind.value for kind in RecordKind], TAGGED_LIMIT)
    groups = []
    for kind in RecordKind:
        count, newest = tagged[kind.value]
        groups.append(TaggedGroup(kind, count, [site.ref(r, titles) for r, titles in newest.items()]))

    skip = {SKOS + p for p in ("prefLabel", "broader", "narrower", "related", "inScheme", "topConceptOf")}
    skip |= set(MAPPING_PROPERTIES) | {RDF + "type"}
    return ConceptPage(
        iri=iri.value,
        labels=own_labels,
        properties=properties_of(site, iri, triples, skip=skip),
        scheme=schemes[0] if schemes else None,
        breadcrumbs=breadcrumbs,
        narrower=linked(SKOS + "narrower"),
        related=linked(SKOS + "related"),
        mappings=[(m, linked(m)) for m in MAPPING_PROPERTIES if linked(m)],
        tagged=groups,
        deprecated=resolution.deprecated,
        replaced_by=site.refs(resolution.replaced_by),
    )


# -- scheme pages ----------------------------------------------------------------------------


@dataclass
class TreeNode:
    ref: Ref
    notation: str
    deprecated: bool
    children: list[TreeNode] = field(default_factory=list)


@dataclass
class IndexEntry:
    text: str  # the label filed under the letter (a preferred or an alternative label)
    concept: Ref
    preferred: bool


@dataclass
class SchemePage:
    iri: str
    labels: dict[str, str]
    properties: list[Property]
    roots: list[TreeNode]
    concept_count: int
    all_labels: dict[str, dict[str, list[tuple[str, bool]]]]  # concept -> lang -> [(label, preferred)]

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.iri)

    def index(self, lang: str) -> list[tuple[str, list[IndexEntry]]]:
        """The alphabetical index in `lang`: A–Z, then Æ, Ø, Å, each in Danish collation."""
        letters: dict[str, list[IndexEntry]] = defaultdict(list)
        refs = {n.ref.iri: n.ref for n in walk(self.roots)}
        for concept, by_lang in self.all_labels.items():
            ref = refs.get(concept)
            if ref is None:
                continue
            for text, preferred in by_lang.get(lang, []) or by_lang.get("da", []):
                letters[initial_letter(text)].append(IndexEntry(text, ref, preferred))
        order = [*DANISH_ALPHABET, "#"]
        return [
            (letter, sorted(letters[letter], key=lambda e: danish_sort_key(e.text)))
            for letter in order
            if letters.get(letter)
        ]


def walk(nodes: Iterable[TreeNode]) -> Iterable[TreeNode]:
    for node in nodes:
        yield node
        yield from walk(node.children)


def _notation_key(notation: str) -> tuple[object, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in notation.replace("-", ".").split("."))


def scheme_page(site: Site, resolution: Resolution, triples: Sequence[Triple]) -> SchemePage:
    services = site.services
    iri = resolution.iri
    rows = services.store.select(services.queries("scheme-concepts", scheme=iri))
    label_rows = services.store.select(services.queries("scheme-labels", scheme=iri))
    pref: dict[str, dict[str, str]] = defaultdict(dict)
    all_labels: dict[str, dict[str, list[tuple[str, bool]]]] = defaultdict(lambda: defaultdict(list))
    for row in label_rows:
        label = row["label"]
        assert isinstance(label, Literal)
        preferred = row["property"].value == SKOS + "prefLabel"
        if preferred:
            pref[row["concept"].value][label.language or ""] = label.value
        all_labels[row["concept"].value][label.language or ""].append((label.value, preferred))

    nodes: dict[str, TreeNode] = {}
    broader: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        c = row["concept"].value
        if c not in nodes:
            nodes[c] = TreeNode(site.ref(c, pref.get(c, {})), row.get("notation", Literal("")).value, False)
        if row.get("deprecated") is not None and row["deprecated"].value in ("true", "1"):
            nodes[c].deprecated = True
        if "broader" in row:
            broader[c].add(row["broader"].value)
    roots = []
    for c, node in nodes.items():
        parents = [p for p in broader.get(c, ()) if p in nodes]
        if not parents:
            roots.append(node)
        for p in parents:
            nodes[p].children.append(node)
    for node in nodes.values():
        node.children.sort(key=lambda n: _notation_key(n.notation))
    roots.sort(key=lambda n: _notation_key(n.notation))
    own = labels_from(triples).get(iri.value, {})
    skip = {SKOS + "hasTopConcept", RDF + "type"}
    return SchemePage(
        iri.value,
        own,
        properties_of(site, iri, triples, skip=skip),
        roots,
        len(nodes),
        {c: dict(v) for c, v in all_labels.items()},
    )


# -- record pages ----------------------------------------------------------------------------

#: The order in which a record's properties are shown (others follow, by name).
PROPERTY_ORDER = [
    DCT + "description",
    "AMV:knowledgeType",
    "AMV:actorType",
    "AMV:eventType",
    SCHEMA + "startDate",
    SCHEMA + "endDate",
    SCHEMA + "location",
    "AMV:factor",
    "AMV:industry",
    "AMV:audience",
    "AMV:evidenceLevel",
    "AMV:certainty",
    "AMV:region",
    "AMV:service",
    "AMV:addresses",
    "AMV:solves",
    "AMV:describesSolution",
    "AMV:offeredBy",
    SCHEMA + "organizer",
    DCT + "publisher",
    DCT + "creator",
    DCT + "issued",
    DCT + "language",
    DCT + "bibliographicCitation",
    SCHEMA + "url",
    "AMV:archivedCopy",
    SCHEMA + "email",
    SCHEMA + "telephone",
    SCHEMA + "address",
    SKOS + "altLabel",
    DCT + "license",
    DCT + "source",
    DCT + "created",
    DCT + "modified",
]


#: How many of the records that link to a record its page names, per kind and property (newest first).
INCOMING_SHOWN = 50


@dataclass
class IncomingGroup:
    """Records of one kind that link here by one property (e.g. solutions that solve this problem)."""

    kind: RecordKind
    property: str
    records: list[Ref]  # the newest INCOMING_SHOWN of them
    details: dict[str, list[Property]] = field(default_factory=dict)  # record IRI -> extra facts
    total: int = 0  # how many there are
    more: str = ""  # where all of them are listed, when the page shows only some


@dataclass
class RecordPage:
    iri: str
    kind: RecordKind
    titles: dict[str, str]
    properties: list[Property]
    incoming: list[IncomingGroup]
    modified: str | None
    #: External addresses of the record that the link checker found broken (graph/links.py).
    broken_links: list[LinkFlag] = field(default_factory=list)

    def label(self, lang: str) -> str:
        return pick(self.titles, lang, self.iri)

    def description(self, lang: str) -> str:
        for p in self.properties:
            if p.iri == DCT + "description":
                return " ".join(v.text for v in p.values_for(lang))
        return ""

    def prop(self, iri: str) -> Property | None:
        return next((p for p in self.properties if p.iri == iri), None)


def record_page(site: Site, resolution: Resolution, triples: Sequence[Triple]) -> RecordPage:
    services = site.services
    iri = resolution.iri
    assert resolution.record_kind is not None
    order = [p.replace("AMV:", site.iris.amv) for p in PROPERTY_ORDER]
    props = properties_of(site, iri, triples, skip={RDF + "type", DCT + "title"})
    props.sort(key=lambda p: (order.index(p.iri) if p.iri in order else len(order), p.label("da")))
    titles = {
        t.object.language or "": t.object.value
        for t in triples
        if t.subject == iri and t.predicate.value == DCT + "title" and isinstance(t.object, Literal)
    }

    # Counted and listed from the search index: a busy actor or problem is linked from thousands of records.
    # Kept until one of them changes: each touches this record when it is written, replaced or withdrawn.
    linking = services.views.of_records(
        ("incoming", iri.value), lambda: (services.search.incoming(iri.value, INCOMING_SHOWN), [iri.value])
    )
    kinds = list(RecordKind)
    incoming = []
    for (kind_name, prop), (total, newest) in sorted(
        linking.items(), key=lambda kv: (kinds.index(RecordKind(kv[0][0])), kv[0][1])
    ):
        kind = RecordKind(kind_name)
        group = IncomingGroup(kind, prop, site.refs(newest, names=newest), total=total)
        if group.total > len(newest) and resolution.record_kind == RecordKind.actor:
            group.more = "/search?" + urlencode({"actor": iri.value.rsplit("/", 1)[-1], "type": kind.value})
        if kind == RecordKind.solution:
            group.details = solution_details(site, list(newest))
        incoming.append(group)
    return RecordPage(
        iri.value,
        resolution.record_kind,
        titles,
        props,
        incoming,
        resolution.modified,
        broken_links=broken_links(services, iri, triples),
    )


def solution_details(site: Site, solutions: Sequence[str]) -> dict[str, list[Property]]:
    """Evidence level, certainty and offering actors of each solution, for lists of solutions."""
    services = site.services
    rows = services.store.select(services.queries("solution-evidence", solutions=[NamedNode(s) for s in solutions]))
    names = site.names(sorted({r["value"].value for r in rows}))
    found: dict[str, dict[str, list[Value]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        value = row["value"].value
        found[row["solution"].value][row["property"].value].append(Value(ref=site.ref(value, names.get(value, {}))))
    return {
        s: [Property(p, site.property_labels.get(p, {}), vs) for p, vs in sorted(props.items())]
        for s, props in found.items()
    }


# -- home page -------------------------------------------------------------------------------


@dataclass
class HomePage:
    counts: dict[str, int]
    factors: list[Ref]
    industries: list[Ref]
    newest: list[Ref]
    upcoming: list[tuple[str, Ref]]


def home_page(site: Site, today: date) -> HomePage:
    services = site.services
    queries = services.queries
    store = services.store
    newest_rows = store.select(queries("newest-records", recordClass=site.iris.record_class(RecordKind.item), limit=8))
    newest_iris = [r["record"].value for r in newest_rows]
    names = site.names(newest_iris)
    event_rows = store.select(queries("upcoming-events", today=today.isoformat(), limit=6))
    event_names = site.names([r["event"].value for r in event_rows])

    def tops(slug: str) -> list[Ref]:
        rows = store.select(queries("top-concepts", scheme=site.iris.scheme(slug)))
        refs = site.refs(r["concept"].value for r in rows)
        return sorted(refs, key=lambda r: _notation_key(r.iri.rsplit("/", 1)[-1]))

    return HomePage(
        counts=services.records.counts(),
        factors=tops("factors"),
        industries=tops("industries"),
        newest=[site.ref(i, names.get(i, {})) for i in newest_iris],
        upcoming=[
            (r["start"].value, site.ref(r["event"].value, event_names.get(r["event"].value, {}))) for r in event_rows
        ],
    )


# -- ontology documentation ------------------------------------------------------------------


@dataclass
class TermDoc:
    iri: str
    name: str  # the local name, e.g. "KnowledgeItem"
    kind: str  # class | object property | datatype property | reused term
    labels: dict[str, str]
    definitions: dict[str, str]
    comments: dict[str, str]
    superclasses: list[Ref]
    domains: list[Ref]
    ranges: list[Ref]
    inverse: list[Ref]

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.name)


@dataclass
class OntologyPage:
    iri: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    version: str
    classes: list[TermDoc]
    properties: list[TermDoc]
    reused: list[TermDoc]

    def label(self, lang: str) -> str:
        return pick(self.titles, lang, self.iri)


def ontology_page(site: Site, resolution: Resolution, triples: Sequence[Triple]) -> OntologyPage:
    """Every class and property of the ontology file, documented from its own labels and definitions."""
    owl = "http://www.w3.org/2002/07/owl#"
    rdfs = "http://www.w3.org/2000/01/rdf-schema#"
    by_subject: dict[str, list[Triple]] = defaultdict(list)
    for t in triples:
        by_subject[str(t.subject.value)].append(t)
    names = labels_from(triples)

    def texts(subject: str, prop: str) -> dict[str, str]:
        return {
            t.object.language or "": t.object.value
            for t in by_subject[subject]
            if t.predicate.value == prop and isinstance(t.object, Literal)
        }

    def links(subject: str, prop: str) -> list[Ref]:
        return [
            site.ref(t.object.value, names.get(t.object.value, {}))
            for t in by_subject[subject]
            if t.predicate.value == prop and isinstance(t.object, NamedNode)
        ]

    def types(subject: str) -> set[str]:
        return {t.object.value for t in by_subject[subject] if t.predicate.value == RDF + "type"}

    ontology_iri = site.iris.ontology.value
    docs = []
    for subject in by_subject:
        if subject == ontology_iri:
            continue
        kinds = types(subject)
        if owl + "Class" in kinds:
            kind = "class"
        elif owl + "ObjectProperty" in kinds:
            kind = "object property"
        elif owl + "DatatypeProperty" in kinds:
            kind = "datatype property"
        else:
            kind = "reused term"
        docs.append(
            TermDoc(
                iri=subject,
                name=subject.rsplit("#", 1)[-1].rsplit("/", 1)[-1],
                kind=kind,
                labels=texts(subject, rdfs + "label"),
                definitions=texts(subject, SKOS + "definition"),
                comments=texts(subject, rdfs + "comment"),
                superclasses=links(subject, rdfs + "subClassOf") + links(subject, rdfs + "subPropertyOf"),
                domains=links(subject, rdfs + "domain"),
                ranges=links(subject, rdfs + "range"),
                inverse=links(subject, owl + "inverseOf"),
            )
        )
    docs.sort(key=lambda d: d.name.lower())
    own = site.iris.amv
    return OntologyPage(
        iri=ontology_iri,
        titles=texts(ontology_iri, DCT + "title"),
        descriptions=texts(ontology_iri, DCT + "description"),
        version=next(iter(texts(ontology_iri, owl + "versionInfo").values()), ""),
        classes=[d for d in docs if d.kind == "class" and d.iri.startswith(own)],
        properties=[d for d in docs if d.kind.endswith("property") and d.iri.startswith(own)],
        reused=[d for d in docs if not d.iri.startswith(own)],
    )
