"""The public dataset described as a whole: its size, its freshness, and its VoID + DCAT description.

Used by the "about the data" page, `/.well-known/void`, the dumps (which are regenerated when the
freshness key changes) and the sitemap.

The freshness key changes whenever the public dataset does: it is made of the change log's head (every
write to the public graph appends to it) and the ledger's newest history row — two look-ups, however big
the dataset is.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date

from pyoxigraph import Literal, NamedNode, Triple

from graph.concepts import SchemeSummary, scheme_summaries
from graph.iris import DCT, RDF, RDFS, SKOS, XSD, RecordKind
from graph.serialize import DCAT, FOAF, VOID
from graph.services import Services
from graph.view_cache import Counted

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
IANA = "http://www.iana.org/assignments/media-types/"

TITLE = {"da": "Arbejdsmiljøviden", "en": "Arbejdsmiljøviden"}
SUBTITLE = {
    "da": "åben vidensgraf om arbejdsmiljø",
    "en": "open knowledge graph of the Danish work environment",
}
DESCRIPTION = {
    "da": (
        "Samlet, åben viden om arbejdsmiljø i Danmark: vidensressourcer (forskning, vejledninger, værktøjer, "
        "praksiserfaringer), arbejdsmiljøproblemer, løsninger, aktører og arrangementer, beskrevet med et fælles "
        "begrebsapparat (SKOS) af arbejdsmiljøfaktorer, brancher (DB07) m.m. Kun offentliggjorte poster indgår; "
        "indsendte poster, der venter på godkendelse, er ikke med."
    ),
    "en": (
        "Open, shared knowledge about the work environment in Denmark: knowledge items (research, guidance, tools, "
        "practice experience), work-environment problems, solutions, actors and events, described with one shared "
        "vocabulary (SKOS) of work-environment factors, industries (DB07) and more. "
        "Only published records are included; submitted records awaiting review are not."
    ),
}
KEYWORDS = {
    "da": ["arbejdsmiljø", "arbejdsmiljøfaktorer", "forebyggelse", "brancher", "vidensgraf"],
    "en": ["occupational safety and health", "work environment", "prevention", "industries", "knowledge graph"],
}

#: Namespaces whose terms count as one vocabulary (void:vocabulary); the amv: namespace is the ontology.
KNOWN_NAMESPACES = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2002/07/owl#",
    "http://www.w3.org/2004/02/skos/core#",
    "http://purl.org/dc/terms/",
    "https://schema.org/",
    "http://www.w3.org/ns/prov#",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/ns/org#",
    "http://purl.org/vocab/vann/",
    "http://www.w3.org/ns/dcat#",
    "http://rdfs.org/ns/void#",
)


@dataclass(frozen=True)
class Dump:
    """A downloadable dump of the whole public dataset."""

    filename: str
    title: dict[str, str]
    media_type: str  # of the content inside the gzip
    format_name: str

    @property
    def path(self) -> str:
        return "/dumps/" + self.filename


DUMPS = (
    Dump(
        "arbejdsmiljoviden.nq.gz",
        {
            "da": "Hele datasættet som N-Quads (alle navngivne grafer)",
            "en": "The whole dataset as N-Quads (all graphs)",
        },
        "application/n-quads",
        "N-Quads",
    ),
    Dump(
        "arbejdsmiljoviden.ttl.gz",
        {"da": "Hele datasættet som Turtle (foreningen af graferne)", "en": "The whole dataset as Turtle (the union)"},
        "text/turtle",
        "Turtle",
    ),
)


# -- freshness -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    key: str  # changes whenever the public dataset changes
    modified: str  # the latest known modification (a record's history or the change log), ISO 8601


def freshness(services: Services) -> Freshness:
    """Every write to the public graph appends to the change log (records, thesaurus edits, SPARQL and Graph
    Store writes, `amv init`) and every record change writes a ledger history row: together, two look-ups
    name the dataset's version."""
    changelog = services.records.changelog
    head = changelog.head()
    history_id, history_at = services.ledger.latest_change()
    parts = [services.iris.base, str(head), str(history_id)]
    key = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
    return Freshness(key, max(history_at, changelog.created(head) if head else ""))


# -- statistics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetStats:
    freshness: Freshness
    triples: int
    entities: int
    counts: dict[str, int]  # records per kind, concepts and schemes (as on the home page)
    vocabularies: list[str]  # IRIs of the vocabularies whose terms the data uses

    @property
    def modified(self) -> str:
        return self.freshness.modified


def current_stats(services: Services) -> Counted[DatasetStats]:
    """The dataset's statistics as last counted: recounted in the background after each change (they scan
    the whole dataset), so a request never waits for them once they exist (graph.view_cache)."""
    return services.views.latest("dataset-stats", lambda: dataset_stats(services))


def dataset_stats(services: Services) -> DatasetStats:
    """Size and make-up of the public dataset, counted now (whole-dataset scans)."""
    store, queries = services.store, services.queries
    fresh = freshness(services)
    size = store.select(queries("dataset-size", base=services.iris.base))
    terms = [r["term"].value for r in store.select(queries("dataset-terms"))]
    return DatasetStats(
        freshness=fresh,
        triples=int(size[0]["triples"].value) if size else 0,
        entities=int(size[0]["entities"].value) if size else 0,
        counts=services.records.counts(),
        vocabularies=vocabularies_used(services, terms),
    )


def vocabularies_used(services: Services, terms: list[str]) -> list[str]:
    found = set()
    for term in terms:
        if term.startswith(services.iris.amv):
            found.add(services.iris.ontology.value)
            continue
        for namespace in KNOWN_NAMESPACES:
            if term.startswith(namespace):
                found.add(namespace)
                break
    return sorted(found)


# -- VoID + DCAT -----------------------------------------------------------------------------


def void_iri(services: Services) -> str:
    """The IRI of the dataset description document (`/.well-known/void`)."""
    return services.iris.base + ".well-known/void"


def dataset_iri(services: Services) -> NamedNode:
    return NamedNode(void_iri(services) + "#dataset")


def example_resources(services: Services) -> list[NamedNode]:
    """A scheme, a concept and the newest knowledge item: what a newcomer could look up first."""
    iris = services.iris
    examples = [iris.scheme("factors"), iris.concept("factors", "1.1")]
    rows = services.store.select(
        services.queries("newest-records", recordClass=iris.record_class(RecordKind.item), limit=1)
    )
    examples += [r["record"] for r in rows if isinstance(r["record"], NamedNode)]
    return examples


def void_triples(
    services: Services,
    stats: DatasetStats,
    *,
    sparql_endpoint: bool,
    schemes: list[SchemeSummary] | None = None,
) -> list[Triple]:
    """The VoID and DCAT description of the public dataset.

    `sparql_endpoint` says whether `<base>sparql` answers; void:sparqlEndpoint is only claimed then.
    """
    iris = services.iris
    base = iris.base
    doc = NamedNode(void_iri(services))
    ds = dataset_iri(services)
    publisher = NamedNode(base)
    licence = NamedNode(LICENSE)

    def n(iri: str) -> NamedNode:
        return NamedNode(iri)

    def integer(value: int) -> Literal:
        return Literal(str(value), datatype=n(XSD + "integer"))

    def texts(subject: NamedNode, prop: str, by_lang: dict[str, str]) -> list[Triple]:
        return [Triple(subject, n(prop), Literal(text, language=lang)) for lang, text in by_lang.items()]

    rdf_type = n(RDF + "type")
    t: list[Triple] = [
        Triple(doc, rdf_type, n(VOID + "DatasetDescription")),
        Triple(doc, n(DCT + "title"), Literal("VoID- og DCAT-beskrivelse af Arbejdsmiljøviden", language="da")),
        Triple(doc, n(DCT + "title"), Literal("VoID and DCAT description of Arbejdsmiljøviden", language="en")),
        Triple(doc, n(FOAF + "primaryTopic"), ds),
        Triple(ds, rdf_type, n(VOID + "Dataset")),
        Triple(ds, rdf_type, n(DCAT + "Dataset")),
        *texts(ds, DCT + "title", {lang: f"{TITLE[lang]}: {SUBTITLE[lang]}" for lang in TITLE}),
        *texts(ds, DCT + "description", DESCRIPTION),
        Triple(ds, n(DCT + "license"), licence),
        Triple(ds, n(DCT + "publisher"), publisher),
        Triple(publisher, rdf_type, n(FOAF + "Agent")),
        Triple(publisher, n(FOAF + "name"), Literal("Arbejdsmiljøviden")),
        Triple(ds, n(FOAF + "homepage"), n(base)),
        Triple(ds, n(DCAT + "landingPage"), n(base + "about")),
        Triple(ds, n(DCT + "language"), n("http://id.loc.gov/vocabulary/iso639-1/da")),
        Triple(ds, n(DCT + "language"), n("http://id.loc.gov/vocabulary/iso639-1/en")),
        Triple(ds, n(VOID + "uriSpace"), Literal(base)),
        Triple(ds, n(VOID + "triples"), integer(stats.triples)),
        Triple(ds, n(VOID + "entities"), integer(stats.entities)),
        Triple(ds, n(VOID + "feature"), n("http://www.w3.org/ns/formats/N-Quads")),
        Triple(ds, n(VOID + "feature"), n("http://www.w3.org/ns/formats/Turtle")),
    ]
    t += [Triple(ds, n(DCAT + "keyword"), Literal(k, language=lang)) for lang, ks in KEYWORDS.items() for k in ks]
    if stats.modified:
        kind = "dateTime" if "T" in stats.modified else "date"
        t.append(Triple(ds, n(DCT + "modified"), Literal(stats.modified, datatype=n(XSD + kind))))

    classes = {kind.value: iris.record_class(kind) for kind in RecordKind}
    classes["concept"] = n(SKOS + "Concept")
    classes["scheme"] = n(SKOS + "ConceptScheme")
    for key, cls in classes.items():
        partition = n(f"{doc.value}#class-{key}")
        t += [
            Triple(ds, n(VOID + "classPartition"), partition),
            Triple(partition, n(VOID + "class"), cls),
            Triple(partition, n(VOID + "entities"), integer(stats.counts.get(key, 0))),
        ]
    t += [Triple(ds, n(VOID + "vocabulary"), n(v)) for v in stats.vocabularies]
    for summary in schemes or []:
        t.append(Triple(ds, n(VOID + "rootResource"), n(summary.iri)))

    for dump in DUMPS:
        url = n(base + dump.path.lstrip("/"))
        dist = n(f"{doc.value}#dump-{dump.format_name.lower().replace('-', '')}")
        t += [
            Triple(ds, n(VOID + "dataDump"), url),
            Triple(ds, n(DCAT + "distribution"), dist),
            Triple(dist, rdf_type, n(DCAT + "Distribution")),
            *texts(dist, DCT + "title", dump.title),
            Triple(dist, n(DCAT + "downloadURL"), url),
            Triple(dist, n(DCAT + "accessURL"), url),
            Triple(dist, n(DCAT + "mediaType"), n(IANA + dump.media_type)),
            Triple(dist, n(DCAT + "compressFormat"), n(IANA + "application/gzip")),
            Triple(dist, n(DCT + "license"), licence),
        ]
    for example in example_resources(services):
        t.append(Triple(ds, n(VOID + "exampleResource"), example))
    if sparql_endpoint:
        t.append(Triple(ds, n(VOID + "sparqlEndpoint"), n(base + "sparql")))
    t.append(Triple(ds, n(RDFS + "seeAlso"), n(base + "about")))
    # Grouped by subject (in order of first mention), so that Turtle writes each resource in one block.
    order = {s: i for i, s in reversed(list(enumerate(x.subject for x in t)))}
    return sorted(t, key=lambda x: order[x.subject])


# -- the "about the data" page ---------------------------------------------------------------


@dataclass
class AboutPage:
    counted: Counted[DatasetStats]
    schemes: list[SchemeSummary]
    dumps: tuple[Dump, ...]
    sparql_endpoint: bool
    base: str
    accessed: date
    record_kinds: list[str] = field(default_factory=lambda: [k.value for k in RecordKind])

    def title(self, lang: str) -> str:
        return f"{TITLE[lang]}: {SUBTITLE[lang]}"

    def description(self, lang: str) -> str:
        return DESCRIPTION[lang]

    @property
    def stats(self) -> DatasetStats:
        return self.counted.value

    @property
    def year(self) -> str:
        return (self.stats.modified or self.accessed.isoformat())[:4]


def about_page(services: Services, today: date, stats: Counted[DatasetStats], *, sparql_endpoint: bool) -> AboutPage:
    return AboutPage(
        counted=stats,
        schemes=scheme_summaries(services.store, services.queries),
        dumps=DUMPS,
        sparql_endpoint=sparql_endpoint,
        base=services.iris.base,
        accessed=today,
    )
