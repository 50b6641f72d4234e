"""Searching: a query, understood through the thesaurus, run against the index with facets.

The query's words are read first as concepts (longest runs of words that name a concept label, in
Danish or English, folded and stemmed; an unknown word of 5+ letters within one edit). Each run or
remaining word is one *unit* and every unit must match (if none matches that way, any unit may, and
the result says so). A unit matches a record

- through a concept: the record is tagged with the concept or a narrower one (broader concepts are
  indexed with each record), whatever the language of the record's text;
- through its words: the folded, stemmed word in a title (weighted higher) or description in
  Danish or English; the word within one edit (5+ letters); or the word inside a longer word, a
  compound (5+ letters: "støjbelastning" holds "belastning").

Facets are counted over the query with the other facets' filters applied (so choosing a value
never hides the other values of the same facet); factor and industry counts are hierarchical.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import tantivy
from markupsafe import Markup

from graph.iris import RecordKind
from graph.search.analysis import LONG_WORD, Highlighter, fold, inside_pattern, is_stop_word, terms, words
from graph.search.index import TEXT_FIELDS, SearchIndex, stored_data
from graph.search.thesaurus import CONCEPT_FACETS, HIERARCHICAL, Concept, Match, Thesaurus
from graph.text import danish_sort_key

PAGE_SIZE = 20
MAX_PAGE = 500
MAX_QUERY_LENGTH = 200
MAX_WORDS = 12
MAX_FILTER_VALUES = 20
SORTS = ("relevance", "newest")
FACETS = (*CONCEPT_FACETS, "actor", "year", "type")
#: How many values of each facet are counted (the concept facets: all the thesaurus can have).
FACET_SIZES = {"factor": 2000, "industry": 4000, "actor": 30, "year": 200, "type": 10}
TITLE_BOOST = 3.0
CONCEPT_BOOST = 2.0
FUZZY_BOOST = 0.4
PART_BOOST = 0.3
FACET_CACHE = 32
#: Threads that find a page of hits while the facets of a new search are counted (see `search`).
_SEARCHING = ThreadPoolExecutor(max_workers=8, thread_name_prefix="search-hits")


@dataclass
class SearchRequest:
    q: str = ""
    lang: str = "da"
    page: int = 1
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)  # facet -> IRIs (years and types as text)
    concepts: list[str] = field(default_factory=list)  # concept IRIs added to the query (`concept=`)
    noconcepts: list[str] = field(default_factory=list)  # concept IRIs not to read the query as (`noconcept=`)
    page_size: int = PAGE_SIZE
    #: Read the query through the thesaurus. False gives plain BM25 over the words alone (no concepts,
    #: no expansion to narrower concepts): the baseline that bench/relevance.py measures against.
    thesaurus: bool = True
    #: Every unit of the query must match. False: any may, those matching more rank first (the candidates
    #: of the ask box, whose questions hold more words than any one record has).
    match_all: bool = True


@dataclass
class Hit:
    iri: str
    kind: str
    titles: dict[str, str]
    snippet: Markup
    year: int | None
    score: float
    concepts: list[str]
    snippet_lang: str = ""
    descriptions: dict[str, str] = field(default_factory=dict)  # by language, as stored (the ask box quotes them)

    def title_lang(self, lang: str) -> str:
        """The language of the title shown for `lang` ("" when unknown)."""
        return next((k for k in (lang, "da", "en", "") if self.titles.get(k)), next(iter(self.titles), ""))

    def title(self, lang: str) -> str:
        return self.titles.get(self.title_lang(lang)) or self.iri


@dataclass
class FacetValue:
    value: str  # as the URL writes it: a concept key, an actor id, a year, a record type
    iri: str
    labels: dict[str, str]
    count: int
    selected: bool = False
    children: list[FacetValue] = field(default_factory=list)
    open: bool = False  # selected, or holds a selected value

    def label(self, lang: str) -> str:
        t = self.labels
        return t.get(lang) or t.get("da") or t.get("en") or t.get("") or next(iter(t.values()), self.value)


@dataclass
class Facet:
    name: str
    values: list[FacetValue]
    hierarchical: bool = False

    @property
    def selected(self) -> list[FacetValue]:
        found = []
        stack = list(self.values)
        while stack:
            v = stack.pop(0)
            if v.selected:
                found.append(v)
            stack.extend(v.children)
        return found


@dataclass
class Understood:
    """A concept the query was read as."""

    concept: Concept
    words: str  # the query words it came from ("" when added with `concept=`)
    fuzzy: bool
    added: bool  # named in the URL rather than read from the words

    @property
    def has_narrower(self) -> bool:
        return bool(self.concept.narrower)


@dataclass
class SearchResult:
    request: SearchRequest
    total: int
    hits: list[Hit]
    facets: list[Facet]
    understood: list[Understood]
    relaxed: bool = False  # no record matched every word; these match some
    spelling: list[Concept] = field(default_factory=list)
    broader: list[Concept] = field(default_factory=list)
    loose: list[str] = field(default_factory=list)  # the query words matched as words, not as a concept

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.page_size))

    @property
    def first(self) -> int:
        return (self.request.page - 1) * self.request.page_size + 1 if self.hits else 0

    @property
    def last(self) -> int:
        return (self.request.page - 1) * self.request.page_size + len(self.hits)

    def facet(self, name: str) -> Facet | None:
        return next((f for f in self.facets if f.name == name), None)


# -- building the query ----------------------------------------------------------------------------


class _Builder:
    def __init__(self, index: SearchIndex, searcher: tantivy.Searcher) -> None:
        self.index = index
        self.schema = index.schema
        self.searcher = searcher

    def term(self, name: str, value: str | int) -> tantivy.Query:
        return tantivy.Query.term_query(self.schema, name, value)

    def known(self, folded: str) -> bool:
        """Whether the index has the word (in any text field): unknown words may be typos."""
        return any(self.searcher.doc_freq(name, t) > 0 for name in TEXT_FIELDS for t in terms(folded, name[-2:]))

    def word(self, folded: str) -> tantivy.Query | None:
        """A record matches one word: its stem in a title or description, within one edit, or inside a compound."""
        should: list[tantivy.Query] = []
        for name in TEXT_FIELDS:
            for t in terms(folded, name[-2:]):
                q = self.term(name, t)
                should.append(tantivy.Query.boost_query(q, TITLE_BOOST) if name.startswith("title") else q)
                if len(folded) >= LONG_WORD:
                    fuzzy = tantivy.Query.fuzzy_term_query(self.schema, name, t, distance=1)
                    should.append(tantivy.Query.boost_query(fuzzy, FUZZY_BOOST))
        pattern = inside_pattern(folded)
        if pattern is not None:
            # The word inside a longer word of the record: the suffixes that begin with it. No positions are read
            # (a phrase of the word's n-grams cost ten times as much on a big index), and only the part of the
            # term dictionary below the word is walked (a substring pattern walked all of it, in every segment).
            inside = self.index.inside_query(pattern)
            should.append(tantivy.Query.const_score_query(inside, PART_BOOST))
        if not should:
            return None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in should])

    def concept(self, iri: str) -> tantivy.Query:
        return tantivy.Query.boost_query(self.term("concepts", iri), CONCEPT_BOOST)

    def any_of(self, name: str, values: Sequence[str]) -> tantivy.Query:
        if name == "year":
            clauses = [self.term("year", int(v)) for v in values]
        else:
            clauses = [self.term("kind" if name == "type" else name, v) for v in values]
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in clauses])


def _units(
    builder: _Builder, thesaurus: Thesaurus, request: SearchRequest
) -> tuple[list[tantivy.Query], list[Understood], list[str]]:
    """The units of the query (each must match), what the query was understood as, and its unmatched words."""
    query_words = words(request.q[:MAX_QUERY_LENGTH])[:MAX_WORDS]
    folded = [fold(w) for w in query_words]
    matches = thesaurus.understand(query_words, builder.known, removed=request.noconcepts) if request.thesaurus else []
    by_start: dict[int, Match] = {m.start: m for m in matches}
    units: list[tantivy.Query] = []
    understood: list[Understood] = []
    loose: list[str] = []
    i = 0
    while i < len(folded):
        match = by_start.get(i)
        if match is not None:
            span_words = [w for w in folded[match.start : match.end] if not is_stop_word(w)]
            span = [q for q in (builder.word(w) for w in span_words) if q is not None]
            should = [builder.concept(c) for c in match.concepts]
            if span:
                text = tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in span])
                should.append(text)
            units.append(tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in should]))
            phrase = " ".join(query_words[match.start : match.end])
            understood += [Understood(thesaurus.concepts[c], phrase, match.fuzzy, False) for c in match.concepts]
            i = match.end
            continue
        unit = builder.word(folded[i]) if not is_stop_word(folded[i]) else None
        if unit is not None:
            units.append(unit)
            loose.append(query_words[i])
        i += 1
    for iri in request.concepts if request.thesaurus else ():
        if iri not in request.noconcepts and all(u.concept.iri != iri for u in understood):
            units.append(builder.concept(iri))
            understood.append(Understood(thesaurus.concepts[iri], "", False, True))
    return units, understood, loose


def _combine(units: Sequence[tantivy.Query], occur: tantivy.Occur) -> tantivy.Query:
    if not units:
        return tantivy.Query.all_query()
    if len(units) == 1:
        return units[0]
    return tantivy.Query.boolean_query([(occur, u) for u in units])


def _filtered(builder: _Builder, query: tantivy.Query, filters: dict[str, list[str]], skip: str = "") -> tantivy.Query:
    clauses = [(tantivy.Occur.Must, query)]
    for name, values in filters.items():
        if values and name != skip:
            clauses.append((tantivy.Occur.Must, tantivy.Query.const_score_query(builder.any_of(name, values), 0.0)))
    return query if len(clauses) == 1 else tantivy.Query.boolean_query(clauses)


# -- running it ------------------------------------------------------------------------------------


def search(index: SearchIndex, request: SearchRequest) -> SearchResult:
    searcher = index.searcher()
    thesaurus = index.thesaurus
    builder = _Builder(index, searcher)
    units, understood, loose = _units(builder, thesaurus, request)
    filters = {k: v for k, v in request.filters.items() if v}

    base = _combine(units, tantivy.Occur.Must if request.match_all else tantivy.Occur.Should)
    if not units and request.q.strip():  # only stop words or punctuation: nothing to look for
        base = tantivy.Query.empty_query()
    query = _filtered(builder, base, filters)
    newest = request.sort == "newest" or not units
    offset = (request.page - 1) * request.page_size
    key = _facets_key(index, request, filters, relaxed=False)
    facets = _kept_facets(index, key)
    page_meanwhile: Future[tantivy.SearchResult] | None = None
    if facets is None:
        # Counting the facets and finding the page of hits each evaluate the query over every match. tantivy
        # lets go of the GIL, so the two run at once: a search not asked before costs the longer, not the sum.
        page_meanwhile = _SEARCHING.submit(_run, searcher, query, request.page_size, offset, newest)
        facets = _keep_facets(index, key, _facets(builder, searcher, thesaurus, base, filters, request))
    total = _total(facets, filters)
    relaxed = False
    if total == 0 and len(units) > 1 and request.match_all:
        base = _combine(units, tantivy.Occur.Should)
        key = _facets_key(index, request, filters, relaxed=True)
        facets = _kept_facets(index, key) or _keep_facets(
            index, key, _facets(builder, searcher, thesaurus, base, filters, request)
        )
        total = _total(facets, filters)
        relaxed = total > 0
        query, page_meanwhile = _filtered(builder, base, filters), None

    # The total comes from the facet counts, so the search itself needs no count and can skip
    # documents that cannot reach the page (block-max WAND).
    found = None
    if total:
        found = page_meanwhile.result() if page_meanwhile else _run(searcher, query, request.page_size, offset, newest)

    labels = [text for u in understood for text, _, kind in u.concept.labels if kind != "hidden"]
    highlighter = Highlighter.for_words(loose + [w for u in understood for w in words(u.words)], labels)
    hits = [_hit(searcher, score, address, request.lang, highlighter) for score, address in found.hits] if found else []
    result = SearchResult(request, total, hits, facets, understood, relaxed, loose=loose)
    if result.total == 0:
        result.spelling = _spelling(thesaurus, loose)
        seen = {u.concept.iri for u in understood}
        broader = {b for u in understood for b in u.concept.broader if b in thesaurus.concepts and b not in seen}
        result.broader = thesaurus.ordered(thesaurus.concepts[b] for b in broader)
    return result


def _total(facets: list[Facet], filters: dict[str, list[str]]) -> int:
    """How many records match: every record has one type, and the type facet is counted without its
    own filter, so the total is the sum over the chosen types (or over all)."""
    types = next(f for f in facets if f.name == "type").values
    chosen = filters.get("type")
    return sum(v.count for v in types if not chosen or v.value in chosen)


def _facets_key(
    index: SearchIndex, request: SearchRequest, filters: dict[str, list[str]], *, relaxed: bool
) -> tuple[object, ...]:
    """Facets do not change with the page or the order: the next page of a search reuses them."""
    return (
        index.generation,
        request.q,
        request.thesaurus,
        request.match_all,
        relaxed,
        tuple(request.concepts),
        tuple(request.noconcepts),
        tuple((k, tuple(v)) for k, v in sorted(filters.items())),
    )


def _kept_facets(index: SearchIndex, key: tuple[object, ...]) -> list[Facet] | None:
    return index.facet_cache.get(key)  # type: ignore[return-value]


def _keep_facets(index: SearchIndex, key: tuple[object, ...], facets: list[Facet]) -> list[Facet]:
    cache = index.facet_cache
    with contextlib.suppress(KeyError, RuntimeError, StopIteration):  # another thread got there first
        if cache and next(iter(cache))[0] != index.generation:
            cache.clear()
        while len(cache) >= FACET_CACHE:
            cache.pop(next(iter(cache)))
    cache[key] = facets
    return facets


def _run(
    searcher: tantivy.Searcher, query: tantivy.Query, limit: int, offset: int, newest: bool
) -> tantivy.SearchResult:
    if newest:
        return searcher.search(query, limit, count=False, order_by_field="date", offset=offset)
    return searcher.search(query, limit, count=False, offset=offset)


def _hit(
    searcher: tantivy.Searcher, score: float, address: tantivy.DocAddress, lang: str, highlighter: Highlighter
) -> Hit:
    data = stored_data(searcher, address)
    titles: dict[str, str] = data.get("titles", {})  # type: ignore[assignment]
    descriptions: dict[str, str] = data.get("descriptions", {})  # type: ignore[assignment]
    text_lang = next((k for k in (lang, "da", "en", "") if descriptions.get(k)), next(iter(descriptions), ""))
    text = descriptions.get(text_lang, "")
    return Hit(
        iri=str(data.get("iri", "")),
        kind=str(data.get("kind", "")),
        titles=titles,
        snippet=highlighter.snippet(text) if text else Markup(""),
        year=data.get("year"),  # type: ignore[arg-type]
        score=float(score),
        concepts=list(data.get("concepts", [])),  # type: ignore[call-overload]
        snippet_lang=text_lang,
        descriptions=descriptions,
    )


def _spelling(thesaurus: Thesaurus, loose: Sequence[str]) -> list[Concept]:
    found: dict[str, Concept] = {}
    for word in loose:
        for concept in thesaurus.closest(word):
            found.setdefault(concept.iri, concept)
    return list(found.values())[:6]


# -- facets ----------------------------------------------------------------------------------------


def _facet_field(name: str) -> str:
    return "kind" if name == "type" else name


def _facets(
    builder: _Builder,
    searcher: tantivy.Searcher,
    thesaurus: Thesaurus,
    base: tantivy.Query,
    filters: dict[str, list[str]],
    request: SearchRequest,
) -> list[Facet]:
    counts: dict[str, dict[str, int]] = {}
    # Facets without a chosen value are counted together over the fully filtered query; a facet with
    # chosen values is counted without its own filter.
    plain = [f for f in FACETS if not filters.get(f)]
    requests = [(plain, _filtered(builder, base, filters))] if plain else []
    requests += [([f], _filtered(builder, base, filters, skip=f)) for f in FACETS if filters.get(f)]
    for names, query in requests:
        aggregations = {
            name: {"terms": {"field": _facet_field(name), "size": FACET_SIZES.get(name, 200)}} for name in names
        }
        answer = searcher.aggregate(query, aggregations)
        for name in names:
            buckets = answer.get(name, {}).get("buckets", [])
            counts[name] = {str(int(b["key"])) if name == "year" else str(b["key"]): b["doc_count"] for b in buckets}

    facets = []
    for name in CONCEPT_FACETS:
        chosen = set(filters.get(name, []))
        if name in HIERARCHICAL:
            facets.append(Facet(name, _tree(thesaurus, name, counts.get(name, {}), chosen), True))
        else:
            values = [
                FacetValue(c.key, c.iri, c.pref, n, c.iri in chosen)
                for iri, n in counts.get(name, {}).items()
                if (c := thesaurus.concepts.get(iri)) is not None
            ]
            values += [
                FacetValue(c.key, c.iri, c.pref, 0, True)
                for iri in chosen
                if iri not in counts.get(name, {}) and (c := thesaurus.concepts.get(iri)) is not None
            ]
            facets.append(Facet(name, _by_count(values)))
    facets.append(Facet("actor", _actors(builder, searcher, counts.get("actor", {}), filters.get("actor", []))))
    years = counts.get("year", {})
    chosen_years = set(filters.get("year", []))
    facets.append(
        Facet(
            "year",
            [
                FacetValue(y, y, {"": y}, years.get(y, 0), y in chosen_years)
                for y in sorted(set(years) | chosen_years, reverse=True)
            ],
        )
    )
    kinds = counts.get("type", {})
    chosen_kinds = set(filters.get("type", []))
    facets.append(
        Facet(
            "type",
            [
                FacetValue(k.value, k.value, {}, kinds.get(k.value, 0), k.value in chosen_kinds)
                for k in RecordKind
                if kinds.get(k.value) or k.value in chosen_kinds
            ],
        )
    )
    return facets


def _by_count(values: list[FacetValue]) -> list[FacetValue]:
    return sorted(values, key=lambda v: (-v.count, danish_sort_key(v.label("da"))))


#: Levels of a hierarchical facet that are counted and shown (deeper ones only on the way to a chosen value).
FACET_DEPTH = 3


def _tree(thesaurus: Thesaurus, facet: str, counts: dict[str, int], chosen: set[str]) -> list[FacetValue]:
    on_path: set[str] = set()
    for iri in chosen:
        on_path |= thesaurus.ancestors(iri)

    def node(concept: Concept, depth: int) -> FacetValue:
        value = FacetValue(concept.key, concept.iri, concept.pref, counts.get(concept.iri, 0), concept.iri in chosen)
        if depth + 1 < FACET_DEPTH or concept.iri in on_path:
            value.children = [
                node(c, depth + 1) for c in thesaurus.children(concept.iri) if c.iri in counts or c.iri in on_path
            ]
        value.open = value.selected or any(c.open for c in value.children)
        return value

    roots = thesaurus.roots(CONCEPT_FACETS[facet])
    return [node(r, 0) for r in roots if r.iri in counts or r.iri in on_path]


def _actors(
    builder: _Builder, searcher: tantivy.Searcher, counts: dict[str, int], chosen: list[str]
) -> list[FacetValue]:
    wanted = list(dict.fromkeys([*chosen, *counts]))
    names: dict[str, dict[str, str]] = defaultdict(dict)
    if wanted:
        query = tantivy.Query.term_set_query(builder.schema, "iri", wanted)
        for _, address in searcher.search(query, len(wanted), count=False).hits:
            data = stored_data(searcher, address)
            names[str(data.get("iri"))] = dict(data.get("titles", {}))  # type: ignore[call-overload]
    values = [
        FacetValue(iri.rsplit("/", 1)[-1], iri, names.get(iri) or {"": iri}, counts.get(iri, 0), iri in chosen)
        for iri in wanted
    ]
    return _by_count(values)


# -- autocomplete ----------------------------------------------------------------------------------


@dataclass
class Completion:
    kind: str  # "concept" or a record type
    iri: str
    labels: dict[str, str]
    matched: str  # the text that matched (an alternative label may differ from the label shown)
    scheme: str = ""

    def label(self, lang: str) -> str:
        t = self.labels
        return t.get(lang) or t.get("da") or t.get("en") or t.get("") or next(iter(t.values()), self.iri)


def suggest(index: SearchIndex, text: str, limit: int = 8, schemes: Collection[str] = ()) -> list[Completion]:
    """Concepts and record titles that start with the text (or have a word that does), folded.
    With `schemes` (slugs), only concepts of those schemes: what a concept picker offers."""
    text = text[:MAX_QUERY_LENGTH]
    folded = words(fold(text))
    if not folded:
        return []
    searcher = index.searcher()  # first: it also follows vocabulary edits into the thesaurus
    completions = [
        Completion("concept", s.concept.iri, s.concept.pref, s.matched, s.concept.scheme)
        for s in index.thesaurus.suggest(text, limit=limit, schemes=schemes or None)
    ]
    if schemes:
        return completions
    room = max(3, limit - len(completions))
    if len(folded[-1]) < 2:
        return completions[:limit]
    schema = index.schema
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for word in folded[:-1][-4:]:
        found = [tantivy.Query.term_query(schema, f, t) for f in ("title_da", "title_en") for t in terms(word, f[-2:])]
        if found:
            clauses.append(
                (tantivy.Occur.Must, tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in found]))
            )
    last = folded[-1]
    prefix = [
        tantivy.Query.fuzzy_term_query(schema, f, last, distance=0, prefix=True) for f in ("title_da", "title_en")
    ]
    prefix += [tantivy.Query.term_query(schema, f, t) for f in ("title_da", "title_en") for t in terms(last, f[-2:])]
    clauses.append((tantivy.Occur.Must, tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in prefix])))
    for _, address in searcher.search(tantivy.Query.boolean_query(clauses), room, count=False).hits:
        data = stored_data(searcher, address)
        titles: dict[str, str] = data.get("titles", {})  # type: ignore[assignment]
        completions.append(Completion(str(data.get("kind")), str(data.get("iri")), titles, ""))
    return completions[: limit + room]
