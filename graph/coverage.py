"""The coverage map (factor × industry: how much knowledge exists where) and the filtered list of
knowledge items that each of its cells links to.

Both are plain view models built from named queries (sparql/coverage*.rq, sparql/items-*.rq); the
pages in api/ only format them. A filter or a cell always includes the narrower concepts of the
concept it names (skos:broader*), so knowledge tagged "lifting" counts under "manual handling".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from pyoxigraph import NamedNode

from graph.iris import DCT
from graph.services import Services
from graph.text import danish_sort_key
from graph.view_cache import Counted
from graph.views import Ref, Site

FACTORS = "factors"
INDUSTRIES = "industries"

#: Colour classes of the heatmap: 0 for an empty cell, then 1..QUANTILES by quantile of the non-empty cells.
QUANTILES = 4


def notation_key(notation: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key of a notation: numeric parts as numbers ("1.10" after "1.9"), letters as text."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in notation.replace("-", ".").split("."))


# -- the coverage map ------------------------------------------------------------------------


@dataclass
class Axis:
    """One row or column of the map: a concept with its code and names."""

    ref: Ref
    code: str
    total: int = 0  # items tagged with this concept (or a narrower one), whatever the other axis

    def label(self, lang: str) -> str:
        return self.ref.label(lang)


@dataclass
class RowGroup:
    """A top concept of the factor scheme and its narrower concepts (the rows under it)."""

    head: Axis
    rows: list[Axis] = field(default_factory=list)


@dataclass
class Coverage:
    groups: list[RowGroup]
    columns: list[Axis]
    counts: dict[tuple[str, str], int]  # (factor IRI, industry IRI) -> items
    total_items: int  # every published knowledge item, tagged or not
    thresholds: list[int]  # lower bounds of colour classes 1..QUANTILES

    def count(self, row: Axis, column: Axis) -> int:
        return self.counts.get((row.ref.iri, column.ref.iri), 0)

    def level(self, count: int) -> int:
        """The colour class of a count: 0 when empty, else 1..QUANTILES (higher = more knowledge)."""
        if count <= 0:
            return 0
        return max((i + 1 for i, bound in enumerate(self.thresholds) if count >= bound), default=1)

    def legend(self) -> list[tuple[int, int, int | None]]:
        """(class, lowest count, highest count or None for "and more") for each colour class in use."""
        bounds = sorted(set(self.thresholds))
        legend: list[tuple[int, int, int | None]] = [(0, 0, 0)]
        for i, low in enumerate(bounds):
            high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
            legend.append((self.level(low), low, high))
        return legend

    @property
    def rows(self) -> list[Axis]:
        return [axis for g in self.groups for axis in (g.head, *g.rows)]


def quantile_thresholds(values: Sequence[int], classes: int = QUANTILES) -> list[int]:
    """Lower bounds of up to `classes` colour classes splitting the non-zero `values` at their quantiles.

    Counts are small integers with many ties, so a bound that would repeat the one before moves up to
    the next value that occurs (1 1 1 1 2 2 3 5 gives 1, 2, 3, 5 rather than 1, 2); with fewer distinct
    values there are fewer classes. The first bound is always 1.
    """
    data = sorted(v for v in values if v > 0)
    if not data:
        return [1]
    distinct = sorted(set(data))
    bounds = [1]
    for k in range(1, classes):
        bound = data[min(len(data) - 1, (k * len(data)) // classes)]
        if bound <= bounds[-1]:
            bigger = [v for v in distinct if v > bounds[-1]]
            if not bigger:
                break
            bound = bigger[0]
        bounds.append(bound)
    return bounds


def current_coverage(services: Services) -> Counted[Coverage]:
    """The coverage map as last counted: recounted in the background after each change (its aggregates take
    seconds at national scale), so a request never waits for it once a map exists (graph.view_cache)."""
    return services.views.latest("coverage", lambda: coverage(Site(services)))


def coverage(site: Site) -> Coverage:
    """The coverage map counted now."""
    services = site.services
    store, queries, iris = services.store, services.queries, site.iris
    rows = store.select(queries("coverage-axes", factors=iris.scheme(FACTORS), industries=iris.scheme(INDUSTRIES)))
    notation: dict[str, str] = {}
    heads: list[str] = []
    children: dict[str, list[str]] = defaultdict(list)
    columns: list[str] = []
    for row in rows:
        concept = row["concept"].value
        if "notation" in row:
            notation[concept] = row["notation"].value
        axis = row["axis"].value
        if axis == "group":
            heads.append(concept)
        elif axis == "row":
            children[row["group"].value].append(concept)
        else:
            columns.append(concept)

    def code(iri: str) -> str:
        return notation.get(iri) or iri.rsplit("/", 1)[-1]

    # The columns are the DB07 sections A–U (letter codes); the "activity not stated" top concept is not a section.
    columns = sorted({c for c in columns if code(c).isalpha()}, key=code)
    heads = sorted(set(heads), key=lambda c: notation_key(code(c)))
    under = {h: sorted(set(children[h]), key=lambda c: notation_key(code(c))) for h in heads}
    row_iris = [c for h in heads for c in (h, *under[h])]

    names = site.names(sorted(set(row_iris) | set(columns)))

    def axis(iri: str) -> Axis:
        return Axis(site.ref(iri, names.get(iri, {})), code(iri))

    counts: dict[tuple[str, str], int] = {}
    totals: dict[str, int] = {}
    if row_iris and columns:
        row_nodes = [NamedNode(r) for r in row_iris]
        column_nodes = [NamedNode(c) for c in columns]
        for row in store.select(queries("coverage", rows=row_nodes, columns=column_nodes)):
            counts[(row["row"].value, row["column"].value)] = int(row["n"].value)
        for row in store.select(queries("coverage-totals", rows=row_nodes, columns=column_nodes)):
            totals[row["concept"].value] = int(row["n"].value)

    groups = []
    for head in heads:
        group = RowGroup(axis(head), [axis(c) for c in under[head]])
        for a in (group.head, *group.rows):
            a.total = totals.get(a.ref.iri, 0)
        groups.append(group)
    column_axes = [axis(c) for c in columns]
    for a in column_axes:
        a.total = totals.get(a.ref.iri, 0)
    second_level = {a.ref.iri for g in groups for a in g.rows}
    return Coverage(
        groups=groups,
        columns=column_axes,
        counts=counts,
        total_items=services.records.counts()["item"],
        # The colour scale follows the detailed rows; the group rows use the same scale.
        thresholds=quantile_thresholds([n for (r, _), n in counts.items() if r in second_level]),
    )


def coverage_data(counted: Counted[Coverage]) -> dict[str, object]:
    """The data twin of the coverage page (`/coverage.json`)."""
    cov = counted.value

    def axis(a: Axis, **extra: object) -> dict[str, object]:
        return {"iri": a.ref.iri, "code": a.code, "label": a.ref.labels, "total": a.total, **extra}

    rows = [axis(a, group=g.head.code, level=1 if a is g.head else 2) for g in cov.groups for a in (g.head, *g.rows)]
    return {
        "rows": rows,
        "columns": [axis(c) for c in cov.columns],
        "counts": [[cov.count(r, c) for c in cov.columns] for r in cov.rows],
        "totalItems": cov.total_items,
        "countedAt": counted.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "current": counted.current,  # false while the map is being recounted after a change
        "description": (
            "counts[i][j] is the number of published knowledge items tagged with rows[i] or a narrower factor "
            "and with columns[j] or a narrower industry"
        ),
    }


# -- the list of knowledge items -------------------------------------------------------------


@dataclass(frozen=True)
class FilterSpec:
    """A filter of the item list: its URL parameter, the property and the schemes its values come from."""

    param: str  # the URL parameter, named after the amv: property it filters on
    schemes: tuple[str, ...]  # scheme slugs; a bare code is looked up in the first one
    query_parameter: str  # the parameter of sparql/items-*.rq that lists the accepted concepts


FILTERS = (
    FilterSpec("factor", (FACTORS,), "factors"),
    FilterSpec("industry", (INDUSTRIES, "branchegrupper"), "industries"),
    FilterSpec("knowledgeType", ("knowledge-types",), "knowledgeTypes"),
    FilterSpec("evidenceLevel", ("evidence-levels",), "evidenceLevels"),
)


def items_link(concept: str, scheme: str) -> str:
    """The full, paginated list of knowledge items tagged with a concept (narrower included), or ""."""
    slug = scheme.rstrip("/").rsplit("/", 1)[-1]
    for spec in FILTERS:
        if slug in spec.schemes:
            return "/items?" + urlencode({spec.param: concept})
    return ""


PAGE_SIZE = 20
MAX_FILTER_VALUES = 10
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


class FilterError(ValueError):
    """A filter value that names no concept of the right scheme (HTTP 400), in both languages."""

    def __init__(self, param: str, value: str, messages: dict[str, str]) -> None:
        super().__init__(messages["en"])
        self.param = param
        self.value = value
        self.messages = messages


@dataclass
class ItemEntry:
    ref: Ref
    knowledge_type: Ref | None
    publishers: list[Ref]
    year: str


@dataclass
class ItemList:
    filters: dict[str, list[Ref]]  # param -> the concepts it filters by
    entries: list[ItemEntry]
    total: int
    page: int
    parameters: list[tuple[str, str, str]] = field(default_factory=list)  # (param, value in the URL, concept IRI)
    page_size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.entries else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * self.page_size + len(self.entries)

    def query(self, page: int | None = None, without: str | None = None) -> list[tuple[str, str]]:
        """The URL parameters of this list's filters (less the concept `without`), and `page` when not the first."""
        params = [(param, value) for param, value, iri in self.parameters if iri != without]
        if page and page > 1:
            params.append(("page", str(page)))
        return params


def filter_concepts(site: Site, params: Mapping[str, Sequence[str]]) -> dict[str, list[NamedNode]]:
    """The concepts each filter parameter names (an IRI, a site path or a code), checked to exist.

    Raises FilterError for a value that is not a concept of the filter's schemes.
    """
    iris = site.iris
    wanted: dict[str, list[tuple[str, NamedNode]]] = {}
    for spec in FILTERS:
        values = [v.strip() for v in params.get(spec.param, ()) if v.strip()]
        if len(values) > MAX_FILTER_VALUES:
            raise FilterError(
                spec.param,
                values[MAX_FILTER_VALUES],
                {
                    "da": f"Højst {MAX_FILTER_VALUES} værdier for «{spec.param}».",
                    "en": f"At most {MAX_FILTER_VALUES} values for “{spec.param}”.",
                },
            )
        for value in values:
            wanted.setdefault(spec.param, []).append((value, _concept_iri(site, spec, value)))
    found: dict[str, set[str]] = defaultdict(set)
    nodes = sorted({node.value for pairs in wanted.values() for _, node in pairs})
    if nodes:
        rows = site.services.store.select(
            site.services.queries("filter-concepts", concepts=[NamedNode(n) for n in nodes])
        )
        for row in rows:
            found[row["concept"].value].add(row["scheme"].value)
    result: dict[str, list[NamedNode]] = {}
    for spec in FILTERS:
        allowed = {iris.scheme(slug).value for slug in spec.schemes}
        for value, node in wanted.get(spec.param, []):
            if not found.get(node.value, set()) & allowed:
                raise FilterError(spec.param, value, _unknown(spec, value))
            if node not in result.setdefault(spec.param, []):
                result[spec.param].append(node)
    return result


def _concept_iri(site: Site, spec: FilterSpec, value: str) -> NamedNode:
    base = site.iris.base
    if value.startswith("/vocab/"):
        value = base + value[1:]
    if value.startswith(base + "vocab/"):
        try:
            return NamedNode(value)
        except ValueError:
            pass
    elif _CODE.match(value):
        return site.iris.concept(spec.schemes[0], value)
    raise FilterError(spec.param, value, _unknown(spec, value))


def _unknown(spec: FilterSpec, value: str) -> dict[str, str]:
    shown = value if len(value) <= 80 else value[:77] + "…"
    return {
        "da": f"«{shown}» er ikke et kendt begreb for filteret «{spec.param}». "
        f"Brug en kode eller en begrebs-IRI fra begrebssystemet {spec.schemes[0]}.",
        "en": f"“{shown}” is not a known concept for the filter “{spec.param}”. "
        f"Use a code or a concept IRI of the {spec.schemes[0]} scheme.",
    }


def item_list(site: Site, filters: Mapping[str, Sequence[NamedNode]], page: int = 1) -> ItemList:
    """One page of the published knowledge items matching every filter (each incl. narrower concepts)."""
    services = site.services
    roots = sorted({n.value for ns in filters.values() for n in ns})
    narrower: dict[str, set[str]] = defaultdict(set)
    if roots:
        rows = services.store.select(services.queries("narrower-closure", concepts=[NamedNode(r) for r in roots]))
        for row in rows:
            narrower[row["concept"].value].add(row["narrower"].value)
    active = [spec for spec in FILTERS if filters.get(spec.param)]
    offset = (page - 1) * PAGE_SIZE
    if active:
        bindings: dict[str, int | list[NamedNode]] = {"filters": len(active)}
        for spec in FILTERS:
            accepted = {c for n in filters.get(spec.param, ()) for c in narrower.get(n.value, {n.value})}
            bindings[spec.query_parameter] = [NamedNode(c) for c in sorted(accepted)]
        total_rows = services.store.select(services.queries("items-count", **bindings))
        total = int(total_rows[0]["n"].value) if total_rows else 0
        page_rows = services.store.select(services.queries("items-page", limit=PAGE_SIZE, offset=offset, **bindings))
    else:
        total = services.records.counts()["item"]
        page_rows = services.store.select(services.queries("items-all-page", limit=PAGE_SIZE, offset=offset))
    items = list(dict.fromkeys(r["item"].value for r in page_rows))
    facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    if items:
        for row in services.store.select(services.queries("items-summary", items=[NamedNode(i) for i in items])):
            facts[row["item"].value][row["property"].value].append(row["value"].value)
    amv = site.iris.amv
    linked = {v for f in facts.values() for p in (amv + "knowledgeType", DCT + "publisher") for v in f.get(p, [])}
    names = site.names(sorted(set(items) | linked))

    def year(f: Mapping[str, list[str]]) -> str:
        dates = f.get(DCT + "issued") or f.get(DCT + "modified") or [""]
        return min(dates)[:4]

    entries = []
    for item in items:
        f = facts.get(item, {})
        types = sorted(f.get(amv + "knowledgeType", []))
        entries.append(
            ItemEntry(
                site.ref(item, names.get(item, {})),
                site.ref(types[0], names.get(types[0], {})) if types else None,
                sorted(
                    (site.ref(p, names.get(p, {})) for p in set(f.get(DCT + "publisher", []))),
                    key=lambda r: danish_sort_key(r.label("da")),
                ),
                year(f),
            )
        )
    concept_names = site.names(sorted({n.value for ns in filters.values() for n in ns}))
    chosen_refs = {
        spec.param: [site.ref(n.value, concept_names.get(n.value, {})) for n in filters.get(spec.param, ())]
        for spec in FILTERS
        if filters.get(spec.param)
    }
    return ItemList(chosen_refs, entries, total, page, filter_parameters(site, filters))


def filter_parameters(site: Site, filters: Mapping[str, Sequence[NamedNode]]) -> list[tuple[str, str, str]]:
    """(param, value, concept IRI) that select `filters`: the value is the concept's code where it is in the
    filter's main scheme, else its IRI."""
    params = []
    for spec in FILTERS:
        prefix = site.iris.concept(spec.schemes[0], "").value
        for node in filters.get(spec.param, ()):
            code = node.value[len(prefix) :] if node.value.startswith(prefix) else ""
            params.append((spec.param, code if _CODE.match(code) else node.value, node.value))
    return params


def items_path(param_pairs: Sequence[tuple[str, str]], suffix: str = "") -> str:
    """`/items?…` (or `/items.json?…` with `suffix=".json"`) for URL parameters, values percent-encoded."""
    return "/items" + suffix + ("?" + urlencode(list(param_pairs)) if param_pairs else "")


def item_list_data(items: ItemList, lang: str) -> dict[str, object]:
    """The data twin of an item list (`/items.json`)."""

    def ref(r: Ref | None) -> dict[str, object] | None:
        return None if r is None else {"iri": r.iri, "label": r.labels}

    return {
        "filters": {param: [ref(r) for r in refs] for param, refs in items.filters.items()},
        "total": items.total,
        "page": items.page,
        "pages": items.pages,
        "pageSize": items.page_size,
        "items": [
            {
                "iri": e.ref.iri,
                "title": e.ref.labels,
                "knowledgeType": ref(e.knowledge_type),
                "publisher": [ref(p) for p in e.publishers],
                "year": e.year or None,
            }
            for e in items.entries
        ],
        "language": lang,
    }
