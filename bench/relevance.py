"""Relevance on the judged queries (tests/relevance/judgments.json): nDCG@10 and recall@20 of plain BM25
(the words alone: no thesaurus, no concepts) versus our thesaurus-aware retrieval, over the sample data.

Both run through the same search code (`graph.search.query.search`); the baseline only switches the
thesaurus off (`SearchRequest.thesaurus=False`). Graded gains (2^grade - 1) with a log2 discount; recall
counts every judged record (grade 1 or 2). tests/test_relevance.py holds the thesaurus-aware figures to
the recorded baseline (tests/relevance/baseline.json).

    python -m bench.relevance [--per-query]
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from graph.config import PROJECT_ROOT, Settings
from graph.search.index import SearchIndex
from graph.search.query import SearchRequest, search

JUDGMENTS = PROJECT_ROOT / "tests" / "relevance" / "judgments.json"
BASELINE = PROJECT_ROOT / "tests" / "relevance" / "baseline.json"
NDCG_AT = 10
RECALL_AT = 20


@dataclass(frozen=True)
class Judged:
    query: str
    lang: str
    relevant: dict[str, int]  # record IRI -> grade (1 or 2)


@dataclass(frozen=True)
class Scores:
    ndcg: float  # mean nDCG@10
    recall: float  # mean recall@20
    per_query: dict[str, tuple[float, float]]


def load_judgments(base: str, path: Path = JUDGMENTS) -> list[Judged]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Judged(q["query"], q["lang"], {base + "id/" + key: int(grade) for key, grade in q["relevant"].items()})
        for q in data["queries"]
    ]


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], k: int = NDCG_AT) -> float:
    def dcg(grades: Sequence[int]) -> float:
        return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:k]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(iri, 0) for iri in ranked]) / ideal if ideal else 0.0


def recall(ranked: Sequence[str], relevant: Mapping[str, int], k: int = RECALL_AT) -> float:
    return len(set(ranked[:k]) & set(relevant)) / len(relevant) if relevant else 0.0


def evaluate(index: SearchIndex, judged: Sequence[Judged], *, thesaurus: bool) -> Scores:
    per_query: dict[str, tuple[float, float]] = {}
    for j in judged:
        request = SearchRequest(q=j.query, lang=j.lang, page_size=max(NDCG_AT, RECALL_AT), thesaurus=thesaurus)
        ranked = [hit.iri for hit in search(index, request).hits]
        per_query[j.query] = (ndcg(ranked, j.relevant), recall(ranked, j.relevant))
    n = len(per_query) or 1
    return Scores(sum(v[0] for v in per_query.values()) / n, sum(v[1] for v in per_query.values()) / n, per_query)


def main(per_query: bool = False) -> None:
    from bench.common import initialised_data_dir
    from graph.services import open_services

    data_dir = initialised_data_dir()
    try:
        with open_services(Settings(data_dir=data_dir, base_uri=Settings.from_env().base_uri)) as services:
            index = services.search
            index.rebuild()
            judged = load_judgments(services.iris.base)
            plain = evaluate(index, judged, thesaurus=False)
            aware = evaluate(index, judged, thesaurus=True)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"relevance, {len(judged)} judged queries over the sample data (tests/relevance/judgments.json)")
    print(f"  plain BM25 (words only):     nDCG@{NDCG_AT} {plain.ndcg:.3f}   recall@{RECALL_AT} {plain.recall:.3f}")
    print(f"  thesaurus-aware (ours):      nDCG@{NDCG_AT} {aware.ndcg:.3f}   recall@{RECALL_AT} {aware.recall:.3f}")
    if per_query:
        print(f"  {'query':40} {'plain nDCG':>10} {'ours nDCG':>10} {'plain rec':>10} {'ours rec':>10}")
        for q, (n_aware, r_aware) in aware.per_query.items():
            n_plain, r_plain = plain.per_query[q]
            print(f"  {q:40} {n_plain:10.3f} {n_aware:10.3f} {r_plain:10.3f} {r_aware:10.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-query", action="store_true", help="print the figures of every query")
    main(parser.parse_args().per_query)
