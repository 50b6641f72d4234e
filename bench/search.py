"""Search at scale: a synthetic index of 100,000 records over the real thesaurus, then the latency of
a search with all its facets (target: median < 50 ms) and of autocomplete (target: median < 15 ms).

Records get realistic text (sentences of the sample data, with the names of their concepts mixed in)
and skewed tags: a few factors, industries, actors and recent years carry most of the records, as
in real collections. Measured in-process on the search engine and the page's view model (parsing,
query, facets, snippets, JSON), i.e. everything `/api/search` does except HTTP.

    python -m bench.search [--size 100000] [--runs 200]
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.common import latencies, summary
from graph.config import PROJECT_ROOT, Settings
from graph.dataset import load_fixed_graphs
from graph.iris import DCT, RecordKind
from graph.rdf import parse_file
from graph.search.index import RecordDoc
from graph.search.page import search_page, suggestions
from graph.search.thesaurus import Concept, Thesaurus
from graph.services import open_services

SEARCH_TARGET_MS = 50.0
SUGGEST_TARGET_MS = 15.0
KINDS = [(RecordKind.item, 70), (RecordKind.problem, 10), (RecordKind.solution, 10), (RecordKind.event, 7)]
QUERIES = [
    "støj",
    "stress",
    "kemisk arbejdsmiljø",
    "tunge løft",
    "noise",
    "EGA",
    "støj byggeri",
    "arbejdsmiljoe",
    "stresss",
    "høreværn",
    "psykisk arbejdsmiljø ledere",
    "vold og trusler",
    "asbest renovering",
    "belastning",
    "hjemmepleje forflytning",
    "indeklima skoler",
    "",
]
PREFIXES = ["s", "st", "stø", "støj", "ar", "arb", "arbejdsm", "kem", "noi", "ergo", "tung", "psyk", "hjem"]


def _sentences() -> tuple[list[str], list[str], list[str]]:
    """Danish and English sentences and Danish titles from the sample data."""
    da: list[str] = []
    en: list[str] = []
    titles: list[str] = []
    for path in sorted((PROJECT_ROOT / "data" / "sample").glob("*.ttl")):
        for quad in parse_file(path):
            t = quad.triple
            if t.predicate.value not in (DCT + "description", DCT + "title"):
                continue
            lang = getattr(t.object, "language", None)
            if t.predicate.value == DCT + "title":
                if lang == "da":
                    titles.append(t.object.value)
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", t.object.value):
                (da if lang == "da" else en).append(sentence)
    return da, en, titles


def _zipf(items: list[Concept] | list[str], s: float = 1.1) -> list[float]:
    return [1 / (rank**s) for rank in range(1, len(items) + 1)]


def synthetic(thesaurus: Thesaurus, size: int, seed: int = 7) -> Iterator[RecordDoc]:
    rng = random.Random(seed)
    da, en, titles = _sentences()
    by_scheme: dict[str, list[Concept]] = {}
    for c in thesaurus.concepts.values():
        by_scheme.setdefault(c.scheme, []).append(c)
    for concepts in by_scheme.values():
        rng.shuffle(concepts)
    factors, industries = by_scheme["factors"], by_scheme["industries"] + by_scheme["branchegrupper"]
    weights = {name: _zipf(concepts) for name, concepts in by_scheme.items()}
    industry_weights = _zipf(industries)
    actors = [f"{thesaurus_base(thesaurus)}id/actor/{i:08d}" for i in range(500)]
    actor_weights = _zipf(actors)
    years = list(range(1995, 2027))
    year_weights = [1.12 ** (y - 1995) for y in years]
    kinds, kind_weights = zip(*KINDS, strict=True)
    for n in range(size):
        kind = rng.choices(kinds, kind_weights)[0]
        tags = rng.choices(factors, weights["factors"], k=rng.randint(1, 4))
        tags += rng.choices(industries, industry_weights, k=rng.randint(0, 3))
        tags += rng.choices(by_scheme["audiences"], weights["audiences"], k=rng.randint(1, 3))
        if kind == RecordKind.item:
            tags += rng.choices(by_scheme["knowledge-types"], weights["knowledge-types"], k=1)
        if kind == RecordKind.solution or rng.random() < 0.2:
            tags += rng.choices(by_scheme["evidence-levels"], weights["evidence-levels"], k=1)
        main = tags[0].label("da")
        title = f"{rng.choice(titles)} – {main}" if rng.random() < 0.5 else f"{main.capitalize()}: {rng.choice(titles)}"
        description = " ".join(rng.sample(da, rng.randint(2, 5)))
        description += f" Om {main} og {tags[-1].label('da')}."
        doc = RecordDoc(
            iri=f"{thesaurus_base(thesaurus)}id/{kind.value}/{n:08d}",
            kind=kind.value,
            titles={"da": title},
            descriptions={"da": description},
            concepts={c.iri for c in tags},
            actors=rng.choices(actors, actor_weights, k=rng.randint(1, 2)),
        )
        if rng.random() < 0.4:
            doc.titles["en"] = tags[0].label("en") + ": " + rng.choice(en)[:80]
            doc.descriptions["en"] = " ".join(rng.sample(en, 2))
        year = rng.choices(years, year_weights)[0]
        doc.year = year
        doc.date = int(time.mktime((year, rng.randint(1, 12), rng.randint(1, 28), 0, 0, 0, 0, 0, -1)))
        doc.modified = f"{year}-06-01T00:00:00Z"
        yield doc


def thesaurus_base(thesaurus: Thesaurus) -> str:
    any_iri = next(iter(thesaurus.concepts))
    return any_iri.split("vocab/", 1)[0]


def run(size: int, runs: int) -> dict[str, tuple[float, float]]:
    data_dir = Path(tempfile.mkdtemp(prefix="amv-bench-search-"))
    settings = Settings.from_env({"AMV_DATA_DIR": str(data_dir)})
    figures: dict[str, tuple[float, float]] = {}
    with open_services(settings, embedded_only=True) as services:
        load_fixed_graphs(services.store, services.iris, refresh=False)
        index = services.search
        thesaurus = Thesaurus.load(services.store, services.queries, services.iris)
        start = time.perf_counter()
        count = index.write_documents(synthetic(thesaurus, size), thesaurus)
        build = time.perf_counter() - start
        print(f"\nSearch index: {count:,} synthetic records built in {build:.0f} s ({count / build:,.0f} records/s)")
        rng = random.Random(3)
        factors = [c.key for c in thesaurus.concepts.values() if c.scheme == "factors"]

        def one_search() -> None:
            q = rng.choice(QUERIES)
            params: dict[str, list[str]] = {"q": [q]}
            if rng.random() < 0.5:
                params["factor"] = [rng.choice(factors[:40])]
            if rng.random() < 0.3:
                params["type"] = ["item"]
            if rng.random() < 0.2:
                params["sort"] = ["newest"]
            if rng.random() < 0.2:
                params["page"] = [str(rng.randint(2, 5))]
            index.facet_cache.clear()  # every search counts its facets afresh
            page = search_page(index, params, "da")
            page.as_json("da")

        figures["search with facets"] = summary(latencies(one_search, runs, warmup=20))
        for q in ("støj", "kemisk arbejdsmiljø"):

            def fresh(q: str = q) -> None:
                index.facet_cache.clear()
                search_page(index, {"q": [q]}, "da").as_json("da")

            figures[f"  {q!r}, no filter"] = summary(latencies(fresh, runs // 4, warmup=3))
        figures["  next page (facets reused)"] = summary(
            latencies(lambda: search_page(index, {"q": ["støj"], "page": ["2"]}, "da").as_json("da"), runs // 4, 3)
        )
        figures["suggest"] = summary(latencies(lambda: suggestions(index, rng.choice(PREFIXES), "da"), runs, 20))
        # The submission form's concept picker: concepts of one scheme, each with its hierarchy path.
        figures["  concept picker (scheme=factors)"] = summary(
            latencies(lambda: suggestions(index, rng.choice(PREFIXES), "da", schemes=["factors"]), runs, 20)
        )
    return figures


def main(size: int = 100_000, runs: int = 200) -> None:
    figures = run(size, runs)
    print(f"{'search latency, in-process, ' + str(runs) + ' calls':44} {'median ms':>10} {'p99 ms':>8}")
    for name, (median, p99) in figures.items():
        print(f"{name:44} {median:10.1f} {p99:8.1f}")
    search_ok = figures["search with facets"][0] < SEARCH_TARGET_MS
    suggest_ok = figures["suggest"][0] < SUGGEST_TARGET_MS
    print(
        f"targets: search median < {SEARCH_TARGET_MS:.0f} ms: {'met' if search_ok else 'MISSED'}; "
        f"suggest median < {SUGGEST_TARGET_MS:.0f} ms: {'met' if suggest_ok else 'MISSED'}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    main(args.size, args.runs)
