"""The actors directory: every public actor, filterable by type, expertise, industry and region.

Filters on factors and industries include actors whose expertise is a narrower concept (an
actor with expertise in "løft" is found under "ergonomisk arbejdsmiljø"). Names sort in Danish
collation, so Æ, Ø and Å come after Z.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from graph.facets import Filter, apply_filters, class_facts, hierarchy, iris, picked_lang, refs_sorted, texts
from graph.iris import DCT, SCHEMA, SKOS, RecordKind
from graph.text import danish_sort_key
from graph.views import Ref, Site, pick

#: The filters of the directory, in the order of the form.
FILTERS = ("type", "factor", "industry", "region")
SHORT_DESCRIPTION = 220


def _filter_properties(site: Site) -> dict[str, str]:
    amv = site.iris.amv
    return {"type": amv + "actorType", "factor": amv + "factor", "industry": amv + "industry", "region": amv + "region"}


def shorten(text: str, limit: int = SHORT_DESCRIPTION) -> str:
    """The text cut at a word boundary near `limit` characters, with an ellipsis when cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:.–- ")
    return cut + " …"


@dataclass
class ActorEntry:
    iri: str
    path: str
    names: dict[str, str]
    other_names: list[str]
    descriptions: dict[str, str]
    url: str
    types: list[Ref]
    regions: list[Ref]
    factors: list[Ref]
    industries: list[Ref]
    tags: dict[str, set[str]] = field(default_factory=dict)

    def label(self, lang: str) -> str:
        return pick(self.names, lang, self.iri)

    def label_lang(self, lang: str) -> str:
        return picked_lang(self.names, lang)

    def description(self, lang: str) -> str:
        return pick(self.descriptions, lang)

    def description_lang(self, lang: str) -> str:
        return picked_lang(self.descriptions, lang)

    def short_description(self, lang: str) -> str:
        return shorten(self.description(lang))

    @property
    def expertise(self) -> list[Ref]:
        return self.factors + self.industries


@dataclass
class ActorsPage:
    actors: list[ActorEntry]
    total: int  # public actors before filtering
    filters: list[Filter]

    @property
    def chosen(self) -> dict[str, str]:
        return {f.name: f.selected.key for f in self.filters if f.selected}

    @property
    def rejected(self) -> list[Filter]:
        return [f for f in self.filters if f.rejected]


def actors_page(site: Site, asked: Mapping[str, str] | None = None, lang: str = "da") -> ActorsPage:
    by_filter = _filter_properties(site)
    properties = [DCT + "title", DCT + "description", SKOS + "altLabel", SCHEMA + "url", *by_filter.values()]
    facts = class_facts(site, site.iris.record_class(RecordKind.actor), properties)
    concepts = {c for f in facts.values() for p in by_filter.values() for c in iris(f, p)}
    tree = hierarchy(site, concepts)
    labels = site.names(sorted(tree.concepts | set(tree.schemes.values())))

    entries = []
    for actor, f in facts.items():
        entries.append(
            ActorEntry(
                iri=actor,
                path=site.path(actor),
                names=texts(f, DCT + "title"),
                other_names=sorted(
                    {x.value for x in f.get(SKOS + "altLabel", []) if not x.is_iri}, key=danish_sort_key
                ),
                descriptions=texts(f, DCT + "description"),
                url=next(iter(iris(f, SCHEMA + "url")), ""),
                types=refs_sorted(site, iris(f, by_filter["type"]), labels),
                regions=refs_sorted(site, iris(f, by_filter["region"]), labels),
                factors=refs_sorted(site, iris(f, by_filter["factor"]), labels),
                industries=refs_sorted(site, iris(f, by_filter["industry"]), labels),
                tags={name: tree.up(iris(f, prop)) for name, prop in by_filter.items()},
            )
        )
    matching, filters = apply_filters(site, entries, FILTERS, asked or {}, tree, labels, lang)
    matching.sort(key=lambda a: (danish_sort_key(a.label(lang)), a.iri))
    return ActorsPage(matching, len(entries), filters)
