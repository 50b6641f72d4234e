"""Relevance is measured: nDCG@10 and recall@20 of the thesaurus-aware search over the judged queries of
tests/relevance/judgments.json must not drop below the recorded baseline, and must beat plain BM25."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.relevance import BASELINE, JUDGMENTS, evaluate, load_judgments, ndcg, recall
from graph.ledger import RecordStatus
from graph.services import Services, open_services
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def services(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    data_dir = tmp_path_factory.mktemp("relevance") / "data"
    shutil.copytree(initialised_dir, data_dir)
    with open_services(make_settings(data_dir), embedded_only=True) as s:
        yield s


def test_the_judged_set_is_realistic_and_names_only_published_records(services: Services) -> None:
    data = json.loads(JUDGMENTS.read_text(encoding="utf-8"))
    queries = data["queries"]
    assert len(queries) >= 40
    langs = {q["lang"] for q in queries}
    assert langs == {"da", "en"}
    texts = {q["query"] for q in queries}
    assert {"støj", "støjbelastning", "noise", "larm", "EGA", "kemisk arbejdsmiljø"} <= texts
    published = set(services.ledger.iris_with_status(RecordStatus.published))
    for judged in load_judgments(services.iris.base):
        assert judged.relevant, judged.query
        assert set(judged.relevant) <= published, judged.query
        assert set(judged.relevant.values()) <= {1, 2}, judged.query


def test_the_metrics_count_what_they_should() -> None:
    relevant = {"a": 2, "b": 1}
    assert ndcg(["a", "b"], relevant) == pytest.approx(1.0)
    assert ndcg(["x", "a"], relevant) < ndcg(["a", "x"], relevant)
    assert ndcg(["b", "a"], relevant) < 1.0
    assert ndcg(["x", "y"], relevant) == 0.0
    assert recall(["x", "b"], relevant) == pytest.approx(0.5)
    assert recall(["x"] * 20 + ["a"], relevant) == 0.0  # past the cut-off


def test_thesaurus_aware_retrieval_keeps_its_baseline_and_beats_plain_bm25(services: Services) -> None:
    baseline = json.loads(BASELINE.read_text(encoding="utf-8"))
    tolerance = baseline["tolerance"]
    judged = load_judgments(services.iris.base)
    ours = evaluate(services.search, judged, thesaurus=True)
    plain = evaluate(services.search, judged, thesaurus=False)
    assert ours.ndcg >= baseline["thesaurus"]["ndcg@10"] - tolerance, ours.per_query
    assert ours.recall >= baseline["thesaurus"]["recall@20"] - tolerance, ours.per_query
    assert ours.ndcg > plain.ndcg
    assert ours.recall > plain.recall
    # The examples in particular: synonyms and abbreviations only the thesaurus knows.
    for q in ("larm", "EGA"):
        assert ours.per_query[q][0] > 0.5 and plain.per_query[q][0] == 0.0, q
