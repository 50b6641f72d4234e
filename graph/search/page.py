"""The search page and its API, as plain objects: URL parameters in, a view (and its JSON) out.

URLs are the shareable state of a search: `q`, `concept=` (a concept added to the query),
`noconcept=` (a concept the words should not be read as), one parameter per facet (`factor`,
`industry`, `knowledgeType`, `evidenceLevel`, `audience`, `actor`, `year`, `type`; repeat a parameter
for several values), `sort` and `page`. Concepts are written as their key under `<base>vocab/`
(`factors/5.1`); a bare code, a `/vocab/…` path or the full IRI is accepted too. Actors are written
as their record id. Bad values are refused with a message naming the parameter (HTTP 400).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from graph.iris import Iris, RecordKind
from graph.search.index import SearchIndex
from graph.search.query import (
    FACETS,
    MAX_FILTER_VALUES,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    SORTS,
    Completion,
    Facet,
    FacetValue,
    SearchRequest,
    SearchResult,
    Understood,
    search,
    suggest,
)
from graph.search.thesaurus import CONCEPT_FACETS, Concept, Thesaurus

_YEAR = re.compile(r"^[12]\d{3}$")
_ACTOR_ID = re.compile(r"^[0-9a-z]{8}$")
_PATH = "/search"
API_PATH = "/api/search"


class SearchParameterError(ValueError):
    """A URL parameter with a value search cannot use (HTTP 400), explained in both languages."""

    def __init__(self, param: str, value: str, messages: dict[str, str]) -> None:
        super().__init__(messages["en"])
        self.param, self.value, self.messages = param, value, messages


def _error(param: str, value: str, da: str, en: str) -> SearchParameterError:
    return SearchParameterError(param, value[:100], {"da": da, "en": en})


def _concept(thesaurus: Thesaurus, value: str, schemes: Sequence[str] = ()) -> Concept | None:
    concept = thesaurus.resolve(value)
    if concept is None and schemes:
        concept = thesaurus.by_key.get(f"{schemes[0]}/{value.strip()}")
    if concept is not None and schemes and concept.scheme not in schemes:
        return None
    return concept


def parse_request(
    params: Mapping[str, Sequence[str]], thesaurus: Thesaurus, iris: Iris, lang: str = "da"
) -> SearchRequest:
    """The search the URL parameters ask for; raises SearchParameterError for a value it cannot use."""

    def values(name: str) -> list[str]:
        found = [v.strip() for v in params.get(name, ()) if v and v.strip()]
        if len(found) > MAX_FILTER_VALUES:
            raise _error(
                name,
                found[0],
                f"Højst {MAX_FILTER_VALUES} værdier af {name} ad gangen.",
                f"At most {MAX_FILTER_VALUES} values of {name} at a time.",
            )
        return list(dict.fromkeys(found))

    def single(name: str, default: str) -> str:
        found = values(name)
        return found[-1] if found else default

    q = " ".join(single("q", "").split())[:MAX_QUERY_LENGTH]
    page_text = single("page", "1")
    if not page_text.isdigit() or not 1 <= int(page_text) <= MAX_PAGE:
        raise _error(
            "page",
            page_text,
            f"Sidetallet skal være et helt tal fra 1 til {MAX_PAGE}.",
            f"The page number must be a whole number from 1 to {MAX_PAGE}.",
        )
    sort = single("sort", "relevance")
    if sort not in SORTS:
        raise _error(
            "sort", sort, "Sortér efter relevance eller newest.", "Sort by relevance or newest (nothing else)."
        )

    filters: dict[str, list[str]] = {}
    for name, schemes in CONCEPT_FACETS.items():
        chosen = []
        for value in values(name):
            concept = _concept(thesaurus, value, schemes)
            if concept is None:
                raise _error(
                    name,
                    value,
                    f"„{value}“ er ikke et begreb, der kan filtreres på her ({', '.join(schemes)}).",
                    f"“{value}” is not a concept this filter takes ({', '.join(schemes)}).",
                )
            chosen.append(concept.iri)
        filters[name] = chosen
    actors = []
    for value in values("actor"):
        tail = value.rstrip("/").rsplit("/", 1)[-1]
        iri = iris.record_prefix(RecordKind.actor) + tail
        if not _ACTOR_ID.match(tail) or (value.startswith("http") and value != iri) or iris.parse_record(iri) is None:
            raise _error(
                "actor",
                value,
                "En aktør angives med sit id på 8 tegn (fx actor=20tyy8nm).",
                "An actor is given by its 8-character id (e.g. actor=20tyy8nm).",
            )
        actors.append(iri)
    filters["actor"] = actors
    years = values("year")
    for year in years:
        if not _YEAR.match(year):
            raise _error("year", year, "Et år skrives med fire cifre, fx 2024.", "A year has four digits, e.g. 2024.")
    filters["year"] = years
    kinds = values("type")
    for kind in kinds:
        if kind not in RecordKind.__members__:
            raise _error(
                "type",
                kind,
                "Typen skal være item, problem, solution, actor eller event.",
                "The type must be item, problem, solution, actor or event.",
            )
    filters["type"] = kinds

    added = []
    for value in values("concept"):
        concept = _concept(thesaurus, value)
        if concept is None:
            raise _error("concept", value, f"„{value}“ er ikke et begreb.", f"“{value}” is not a concept.")
        added.append(concept.iri)
    removed = [c.iri for v in values("noconcept") if (c := _concept(thesaurus, v)) is not None]
    return SearchRequest(
        q=q,
        lang=lang,
        page=int(page_text),
        sort=sort,
        filters=filters,
        concepts=added,
        noconcepts=removed,
    )


# -- the view ----------------------------------------------------------------------------------


@dataclass
class SearchPage:
    result: SearchResult
    thesaurus: Thesaurus
    iris: Iris

    @property
    def request(self) -> SearchRequest:
        return self.result.request

    @property
    def query(self) -> str:
        return self.request.q

    def path(self, iri: str) -> str:
        base = self.iris.base
        return "/" + iri[len(base) :] if iri.startswith(base) else iri

    # -- URLs --------------------------------------------------------------------------------

    def params(
        self,
        *,
        page: int | None = None,
        sort: str | None = None,
        toggle: tuple[str, str] | None = None,
        concepts: Sequence[str] | None = None,
        noconcepts: Sequence[str] | None = None,
        q: str | None = None,
        filters: bool = True,
    ) -> list[tuple[str, str]]:
        """The URL parameters of this search with some changes (a changed search starts at page 1)."""
        request = self.request
        out: list[tuple[str, str]] = []
        text = request.q if q is None else q
        if text:
            out.append(("q", text))
        for iri in request.concepts if concepts is None else concepts:
            out.append(("concept", self._key(iri)))
        for iri in request.noconcepts if noconcepts is None else noconcepts:
            out.append(("noconcept", self._key(iri)))
        for name in FACETS if filters else ():
            chosen = [self._value(name, v) for v in request.filters.get(name, [])]
            if toggle and toggle[0] == name:
                chosen = [v for v in chosen if v != toggle[1]] if toggle[1] in chosen else [*chosen, toggle[1]]
            out += [(name, v) for v in chosen]
        chosen_sort = request.sort if sort is None else sort
        if chosen_sort != "relevance":
            out.append(("sort", chosen_sort))
        if page and page > 1:
            out.append(("page", str(page)))
        return out

    def href(self, base: str = _PATH, **changes: object) -> str:
        params = self.params(**changes)  # type: ignore[arg-type]
        return base + ("?" + urlencode(params) if params else "")

    def _key(self, iri: str) -> str:
        concept = self.thesaurus.concepts.get(iri)
        return concept.key if concept else iri

    def _value(self, facet: str, iri: str) -> str:
        if facet in CONCEPT_FACETS:
            return self._key(iri)
        if facet == "actor":
            return iri.rsplit("/", 1)[-1]
        return iri

    def toggle_href(self, facet: str, value: FacetValue) -> str:
        return self.href(toggle=(facet, value.value))

    def without_href(self, understood: Understood) -> str:
        """This search without reading the query as one concept (or without a concept added to it)."""
        return self.href(**_removal(self, understood))

    def concept_search_href(self, concept: Concept, lang: str) -> str:
        """A new search for a concept's name (spelling suggestions, broader concepts)."""
        return _PATH + "?" + urlencode({"q": concept.label(lang)})

    def page_href(self, page: int, base: str = _PATH) -> str:
        return self.href(base, page=page)

    @property
    def prev_href(self) -> str | None:
        page = self.request.page
        return self.page_href(min(page - 1, self.result.pages)) if page > 1 else None

    @property
    def next_href(self) -> str | None:
        return self.page_href(self.request.page + 1) if self.request.page < self.result.pages else None

    @property
    def data_href(self) -> str:
        return self.href(API_PATH, page=self.request.page)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """What the facet form must carry besides its own fields (the concepts read or added)."""
        return [(k, v) for k, v in self.params(filters=False, sort="relevance") if k in ("concept", "noconcept")]

    @property
    def chosen(self) -> list[tuple[Facet, FacetValue]]:
        return [(f, v) for f in self.result.facets for v in f.selected]

    # -- data ---------------------------------------------------------------------------------

    def as_json(self, lang: str) -> dict[str, object]:
        result = self.result
        request = self.request

        def facet_value(facet: str, v: FacetValue) -> dict[str, object]:
            out: dict[str, object] = {
                "value": v.value,
                "label": v.label(lang) if facet != "type" else v.value,
                "count": v.count,
                "selected": v.selected,
            }
            if facet not in ("year", "type"):
                out["iri"] = v.iri
            if facet in ("factor", "industry"):
                out["children"] = [facet_value(facet, c) for c in v.children]
            return out

        def concept(c: Concept) -> dict[str, object]:
            return {"iri": c.iri, "key": c.key, "label": c.label(lang), "search": self.concept_search_href(c, lang)}

        return {
            "query": request.q,
            "lang": lang,
            "sort": request.sort,
            "page": request.page,
            "pageSize": request.page_size,
            "pages": result.pages,
            "total": result.total,
            "relaxed": result.relaxed,
            "concepts": [
                {
                    "iri": u.concept.iri,
                    "key": u.concept.key,
                    "label": u.concept.label(lang),
                    "labels": u.concept.pref,
                    "scheme": u.concept.scheme,
                    "words": u.words,
                    "fuzzy": u.fuzzy,
                    "added": u.added,
                    "includesNarrower": u.has_narrower,
                    "remove": self.href(API_PATH, **_removal(self, u)),
                }
                for u in result.understood
            ],
            "results": [
                {
                    "iri": h.iri,
                    "type": h.kind,
                    "title": h.title(lang),
                    "titles": h.titles,
                    "url": self.path(h.iri),
                    "snippet": str(h.snippet),
                    "year": h.year,
                    "score": round(h.score, 4),
                }
                for h in result.hits
            ],
            "facets": {f.name: [facet_value(f.name, v) for v in f.values] for f in result.facets},
            "suggestions": {
                "spelling": [concept(c) for c in result.spelling],
                "broader": [concept(c) for c in result.broader],
            },
            "links": {
                "self": self.href(API_PATH, page=request.page),
                "html": self.href(page=request.page),
                "next": self.page_href(request.page + 1, API_PATH) if request.page < result.pages else None,
                "prev": self.page_href(request.page - 1, API_PATH) if request.page > 1 else None,
            },
        }


def _removal(page: SearchPage, understood: Understood) -> dict[str, object]:
    iri = understood.concept.iri
    if understood.added:
        return {"concepts": [c for c in page.request.concepts if c != iri]}
    return {"noconcepts": [*page.request.noconcepts, iri]}


def search_page(index: SearchIndex, params: Mapping[str, Sequence[str]], lang: str) -> SearchPage:
    """Parse, search, and wrap the result for the page (raises SearchParameterError on bad input)."""
    request = parse_request(params, index.thesaurus, index.services.iris, lang)
    return SearchPage(search(index, request), index.thesaurus, index.services.iris)


def suggestions(
    index: SearchIndex, text: str, lang: str, limit: int = 8, schemes: Sequence[str] = ()
) -> list[dict[str, object]]:
    """Autocomplete: concept labels and record titles starting with the text. With `schemes` (slugs),
    only concepts of those schemes (a concept picker); raises SearchParameterError for an unknown one.
    Each concept carries `path`: its labels from the top of its hierarchy down, itself last."""
    thesaurus = index.thesaurus
    for slug in schemes:
        if slug not in thesaurus.schemes:
            raise _error(
                "scheme",
                slug,
                f"Ukendt begrebssystem: {slug[:100]}",
                f"Unknown concept scheme: {slug[:100]}",
            )

    def entry(c: Completion) -> dict[str, object]:
        base = index.services.iris.base
        path = "/" + c.iri[len(base) :] if c.iri.startswith(base) else c.iri
        out: dict[str, object] = {"type": c.kind, "label": c.label(lang), "iri": c.iri, "url": path}
        if c.kind == "concept":
            out["scheme"] = c.scheme
            out["matched"] = c.matched
            out["search"] = _PATH + "?" + urlencode({"q": c.label(lang)})
            concept = thesaurus.concepts.get(c.iri)
            out["notation"] = concept.notation if concept else ""
            out["path"] = [step.label(lang) for step in thesaurus.path(c.iri)]
        return out

    return [entry(c) for c in suggest(index, text, limit=limit, schemes=schemes)]
