"""Impact: what an actor contributed and what it covers (on its page), and dataset-wide statistics
(`/statistics`): growth, coverage by factor and industry, and the gaps.

Counts come from where they are cheap (DESIGN.md): the search index, which holds every record with its
actors, kind, publication year and concepts *with their broader concepts* (so a top factor's count takes
in everything tagged with a narrower one), answers each page's counts in one aggregation; so are
the links between records (the problems and solutions an actor's records address, solve or describe);
growth over time is one aggregate over the ledger (when each published record entered the graph).

Charts are server-rendered SVG built with ElementTree (so every text is escaped and the document is
well-formed), accessible: `role="img"`, `<title>` and `<desc>` referenced by `aria-labelledby`, and the
same numbers in a table beside each chart on the page. No JavaScript.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import tantivy
from markupsafe import Markup

from graph.iris import RecordKind
from graph.ledger import RecordStatus
from graph.services import Services
from graph.views import Ref, Site, pick

SVG_NS = "http://www.w3.org/2000/svg"
TOP_LINKS = 10  # problems and solutions listed on an actor's page (all are counted)
LABEL_CHARS = 34  # longer labels are shortened in a chart (the table beside it has them in full)
GAP_SHARE = 0.25  # a top concept with fewer items than this share of the median top concept is a gap

CHART_TEXT = {
    "kinds": {"da": "Bidrag efter posttype", "en": "Contributions by record type"},
    "factors": {"da": "Viden efter arbejdsmiljøfaktor", "en": "Knowledge by work-environment factor"},
    "industries": {"da": "Viden efter branche", "en": "Knowledge by industry"},
    "years": {"da": "Vidensressourcer pr. udgivelsesår", "en": "Knowledge items per year of publication"},
    "growth": {"da": "Poster optaget pr. måned", "en": "Records added per month"},
    "desc": {
        "da": "Diagram. Tallene står også i tabellen ved siden af.",
        "en": "Chart. The numbers are also in the table beside it.",
    },
}


# -- charts ----------------------------------------------------------------------------------------


@dataclass
class Bar:
    labels: dict[str, str]
    value: int
    href: str = ""

    def label(self, lang: str) -> str:
        return pick(self.labels, lang)


@dataclass
class Chart:
    """A bar chart and the data of its table: horizontal bars (categories) or columns (a time series)."""

    id: str
    titles: dict[str, str]
    bars: list[Bar]
    columns: bool = False  # a time series, left to right

    def title(self, lang: str) -> str:
        return pick(self.titles, lang)

    @property
    def total(self) -> int:
        return sum(b.value for b in self.bars)

    def svg(self, lang: str) -> Markup:
        return Markup(ET.tostring(self.element(lang), encoding="unicode"))

    def element(self, lang: str) -> ET.Element:
        return (_columns if self.columns else _bars)(self, lang)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1].rstrip() + "…"


def _root(chart: Chart, lang: str, width: int, height: int) -> ET.Element:
    described = f"{chart.id}-title {chart.id}-desc"
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "viewBox": f"0 0 {width} {height}",
            "width": str(width),
            "height": str(height),
            "role": "img",
            "aria-labelledby": described,
            "class": "chart",
            "id": chart.id,
        },
    )
    title = ET.SubElement(svg, "title", {"id": f"{chart.id}-title"})
    title.text = chart.title(lang)
    desc = ET.SubElement(svg, "desc", {"id": f"{chart.id}-desc"})
    shown = "; ".join(f"{b.label(lang)}: {b.value}" for b in chart.bars)
    desc.text = CHART_TEXT["desc"][lang] + (" " + shown if shown else "")
    return svg


def _text(parent: ET.Element, x: float, y: float, text: str, **attributes: str) -> None:
    element = ET.SubElement(parent, "text", {"x": f"{x:g}", "y": f"{y:g}", **attributes})
    element.text = text


def _bars(chart: Chart, lang: str) -> ET.Element:
    label_width, bar_width, row, gap = 230, 300, 22, 6
    width = label_width + bar_width + 60
    height = max(1, len(chart.bars)) * (row + gap) + gap
    svg = _root(chart, lang, width, height)
    top = max((b.value for b in chart.bars), default=0) or 1
    for i, bar in enumerate(chart.bars):
        y = gap + i * (row + gap)
        length = round(bar_width * bar.value / top, 1)
        group = ET.SubElement(svg, "g", {"class": "chart-row"})
        _text(group, label_width - 8, y + row * 0.7, _short(bar.label(lang)), **{"text-anchor": "end"})
        if bar.value:
            ET.SubElement(
                group,
                "rect",
                {"x": str(label_width), "y": str(y), "width": f"{length:g}", "height": str(row), "class": "chart-bar"},
            )
        _text(group, label_width + length + 6, y + row * 0.7, str(bar.value), **{"class": "chart-value"})
    return svg


def _columns(chart: Chart, lang: str) -> ET.Element:
    plot_height, axis, step = 160, 34, max(14, min(48, 560 // max(1, len(chart.bars))))
    width = max(200, step * len(chart.bars) + 20)
    height = plot_height + axis + 20
    svg = _root(chart, lang, width, height)
    top = max((b.value for b in chart.bars), default=0) or 1
    every = max(1, -(-len(chart.bars) * 40 // width))  # label every n-th column so that labels do not overlap
    base = 20 + plot_height
    for i, bar in enumerate(chart.bars):
        x = 10 + i * step
        length = round(plot_height * bar.value / top, 1)
        group = ET.SubElement(svg, "g", {"class": "chart-column"})
        if bar.value:
            ET.SubElement(
                group,
                "rect",
                {
                    "x": str(x + 2),
                    "y": f"{base - length:g}",
                    "width": str(step - 4),
                    "height": f"{length:g}",
                    "class": "chart-bar",
                },
            )
            if step >= 24:
                _text(group, x + step / 2, base - length - 4, str(bar.value), **{"text-anchor": "middle"})
        if i % every == 0:
            _text(group, x + step / 2, base + 16, bar.label(lang), **{"text-anchor": "middle", "class": "chart-axis"})
    ET.SubElement(
        svg, "line", {"x1": "10", "x2": str(width - 10), "y1": str(base), "y2": str(base), "class": "chart-axis"}
    )
    return svg


# -- counting in the search index ------------------------------------------------------------------


def _aggregate(services: Services, query: tantivy.Query, fields: dict[str, int]) -> dict[str, dict[str, int]]:
    """Terms counts of some fields over the records a query matches (one aggregation)."""
    searcher = services.search.searcher()
    answer = searcher.aggregate(
        query, {name: {"terms": {"field": name, "size": size}} for name, size in fields.items()}
    )
    found: dict[str, dict[str, int]] = {}
    for name in fields:
        buckets = answer.get(name, {}).get("buckets", [])
        found[name] = {str(int(b["key"])) if name == "year" else str(b["key"]): int(b["doc_count"]) for b in buckets}
    return found


def _term(services: Services, name: str, value: str) -> tantivy.Query:
    return tantivy.Query.term_query(services.search.schema, name, value)


def _all_of(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, q) for q in queries])


def _concept_bars(services: Services, site: Site, counts: dict[str, int], slug: str, *, all_roots: bool) -> list[Bar]:
    """One bar per top concept of a scheme (DB07 sections for industries): all of them, or those with items."""
    thesaurus = services.search.thesaurus
    roots = [r for r in thesaurus.roots((slug,)) if slug != "industries" or r.notation.isalpha()]
    bars = [Bar(dict(r.pref), counts.get(r.iri, 0), site.path(r.iri)) for r in roots]
    return bars if all_roots else sorted((b for b in bars if b.value), key=lambda b: -b.value)


def _year_bars(counts: dict[str, int]) -> list[Bar]:
    """Every year from the first to the last with items, gaps included (a trend needs its empty years)."""
    years = sorted(int(y) for y in counts)
    if not years:
        return []
    return [Bar({"": str(y)}, counts.get(str(y), 0)) for y in range(years[0], years[-1] + 1)]


# -- an actor's impact -------------------------------------------------------------------------------


@dataclass
class ActorImpact:
    kinds: list[tuple[RecordKind, int]]  # records naming the actor (publisher, creator, organiser, provider)
    items: int  # knowledge items among them
    undated: int  # items without a publication year (not in the year chart)
    charts: list[Chart]
    problems: list[tuple[Ref, int]]  # problems its records inform, with how many of its records do
    solutions: list[tuple[Ref, int]]
    problem_count: int
    solution_count: int

    @property
    def total(self) -> int:
        return sum(n for _, n in self.kinds)

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.id == chart_id), None)


def actor_impact(services: Services, actor: str) -> ActorImpact:
    """Kept until a change touches the actor (every record naming it does, also when it stops naming it) or
    a problem or solution it shows: at national scale the busiest actor has a hundred thousand records."""

    def compute() -> tuple[ActorImpact, list[str]]:
        impact = count_actor_impact(services, actor)
        return impact, [actor, *(ref.iri for ref, _ in impact.problems + impact.solutions)]

    return services.views.of_records(("actor-impact", actor), compute)


def count_actor_impact(services: Services, actor: str) -> ActorImpact:
    site = Site(services)
    by_actor = _term(services, "actor", actor)
    kinds = _aggregate(services, by_actor, {"kind": 10})["kind"]
    items = _aggregate(
        services, _all_of(by_actor, _term(services, "kind", "item")), {"factor": 2000, "industry": 4000, "year": 500}
    )
    item_count = kinds.get(RecordKind.item.value, 0)
    years = _year_bars(items["year"])
    charts = [
        Chart(
            "impact-factors",
            CHART_TEXT["factors"],
            _concept_bars(services, site, items["factor"], "factors", all_roots=True),
        ),
        Chart(
            "impact-industries",
            CHART_TEXT["industries"],
            _concept_bars(services, site, items["industry"], "industries", all_roots=False),
        ),
        Chart("impact-years", CHART_TEXT["years"], years, columns=True),
    ]
    # The problems and solutions the actor's records link to (address, solve, describe), from the index.
    informed = (RecordKind.problem, RecordKind.solution)
    prefixes = [services.iris.record_prefix(kind) for kind in informed]
    linked = dict(zip(informed, services.search.linked_by(by_actor, prefixes, TOP_LINKS), strict=True))
    names = site.names([iri for _, top in linked.values() for iri, _ in top])

    def refs(kind: RecordKind) -> list[tuple[Ref, int]]:
        return [(site.ref(iri, names.get(iri, {})), n) for iri, n in linked[kind][1]]

    return ActorImpact(
        kinds=[(k, kinds[k.value]) for k in RecordKind if kinds.get(k.value)],
        items=item_count,
        undated=item_count - sum(b.value for b in years),
        charts=charts,
        problems=refs(RecordKind.problem),
        solutions=refs(RecordKind.solution),
        problem_count=linked[RecordKind.problem][0],
        solution_count=linked[RecordKind.solution][0],
    )


# -- dataset-wide statistics -------------------------------------------------------------------------


@dataclass
class Period:
    key: str  # "2026" or "2026-11"
    added: dict[str, int]  # records per kind that entered the graph in the period (and are public now)
    cumulative: int  # public records that had entered by the end of the period

    @property
    def total(self) -> int:
        return sum(self.added.values())


@dataclass
class Statistics:
    counts: dict[str, int]  # public records per kind
    months: list[Period]
    years: list[Period]
    factors: Chart
    industries: Chart
    gap_below: int  # a top factor or DB07 section with fewer items than this is a gap
    factor_gaps: list[Bar] = field(default_factory=list)
    industry_gaps: list[Bar] = field(default_factory=list)
    growth: Chart | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _periods(rows: Sequence[tuple[str, str, int]]) -> list[Period]:
    added: dict[str, dict[str, int]] = defaultdict(dict)
    for period, kind, n in rows:
        added[period][kind] = added[period].get(kind, 0) + n
    found, running = [], 0
    for key in sorted(added):
        running += sum(added[key].values())
        found.append(Period(key, added[key], running))
    return found


def statistics(services: Services) -> Statistics:
    site = Site(services)
    # When each public record entered the graph: one aggregate over the ledger.
    rows = services.ledger.db.execute(
        "SELECT substr(created, 1, 7) AS month, kind, COUNT(*) AS n FROM records WHERE status = ? GROUP BY month, kind",
        (RecordStatus.published.value,),
    ).fetchall()
    month_rows = [(r[0], r[1], int(r[2])) for r in rows]
    months = _periods(month_rows)
    years = _periods([(m[:4], kind, n) for m, kind, n in month_rows])
    counts = {k.value: 0 for k in RecordKind}
    for _, kind, n in month_rows:
        counts[kind] = counts.get(kind, 0) + n
    items = _aggregate(services, _term(services, "kind", "item"), {"factor": 2000, "industry": 4000})
    factor_bars = _concept_bars(services, site, items["factor"], "factors", all_roots=True)
    industry_bars = _concept_bars(services, site, items["industry"], "industries", all_roots=True)
    values = [b.value for b in factor_bars + industry_bars]
    gap_below = max(1, round(median(values) * GAP_SHARE)) if values else 1
    return Statistics(
        counts=counts,
        months=months,
        years=years,
        factors=Chart("statistics-factors", CHART_TEXT["factors"], factor_bars),
        industries=Chart("statistics-industries", CHART_TEXT["industries"], industry_bars),
        gap_below=gap_below,
        factor_gaps=sorted((b for b in factor_bars if b.value < gap_below), key=lambda b: b.value),
        industry_gaps=sorted((b for b in industry_bars if b.value < gap_below), key=lambda b: b.value),
        growth=Chart(
            "statistics-growth", CHART_TEXT["growth"], [Bar({"": p.key}, p.total) for p in months], columns=True
        ),
    )


def statistics_data(stats: Statistics, site_url: str = "") -> dict[str, Any]:
    """The data twin of `/statistics` (`/statistics.json`)."""

    def bars(chart: Chart) -> list[dict[str, Any]]:
        return [
            {"label": b.labels, "items": b.value, "page": site_url + b.href if b.href else None} for b in chart.bars
        ]

    def periods(found: list[Period]) -> list[dict[str, Any]]:
        return [{"period": p.key, "added": p.added, "total": p.total, "cumulative": p.cumulative} for p in found]

    return {
        "records": stats.counts,
        "growth": {"byMonth": periods(stats.months), "byYear": periods(stats.years)},
        "coverage": {"factors": bars(stats.factors), "industries": bars(stats.industries)},
        "gaps": {
            "fewerThan": stats.gap_below,
            "factors": [{"label": b.labels, "items": b.value} for b in stats.factor_gaps],
            "industries": [{"label": b.labels, "items": b.value} for b in stats.industry_gaps],
        },
        "description": (
            "records: public records per type; growth: records that entered the graph per month/year (cumulative: "
            "in total by then); coverage: knowledge items tagged with each top work-environment factor and each "
            "DB07 section, or a narrower concept; gaps: those with fewer items than fewerThan "
            f"({GAP_SHARE:.0%} of the median)"
        ),
    }
