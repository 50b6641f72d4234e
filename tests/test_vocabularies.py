"""The vocabulary files: SKOS integrity, completeness against the reference data, labels in da and en."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import DCTERMS, RDF, SKOS

from graph.config import DEFAULT_BASE_URI, PROJECT_ROOT
from graph.dataset import VOCABULARY_DIR, read_scheme
from graph.iris import Iris
from graph.validation import Validator

SHARED_DATA = PROJECT_ROOT / "data" / "reference"  # a copy of ../shared/data, so a clone is self-contained
VOCAB_FILES = sorted(VOCABULARY_DIR.glob("*.ttl"))
EXPECTED_SCHEMES = {
    "factors",
    "industries",
    "branchegrupper",
    "knowledge-types",
    "evidence-levels",
    "certainty",
    "audiences",
    "actor-types",
    "event-types",
    "regions",
}


def load(name: str) -> rdflib.Graph:
    return rdflib.Graph().parse(VOCABULARY_DIR / f"{name}.ttl")


def test_every_expected_scheme_has_its_file() -> None:
    assert {p.stem for p in VOCAB_FILES} >= EXPECTED_SCHEMES


@pytest.mark.parametrize("path", VOCAB_FILES, ids=lambda p: p.name)
def test_vocabulary_parses_and_passes_the_skos_shapes(path: Path) -> None:
    graph_file = read_scheme(path, Iris(DEFAULT_BASE_URI))
    assert graph_file.graph.value == f"{DEFAULT_BASE_URI}vocab/{path.stem}"
    report = Validator(Iris(DEFAULT_BASE_URI)).validate_vocabularies(graph_file.triples)
    assert report.conforms, [v.describe() for v in report.errors[:20]]


@pytest.mark.parametrize("path", VOCAB_FILES, ids=lambda p: p.name)
def test_every_concept_has_labels_in_danish_and_english_and_a_matching_notation(path: Path) -> None:
    g = rdflib.Graph().parse(path)
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    assert concepts
    for concept in concepts:
        langs = Counter(label.language for label in g.objects(concept, SKOS.prefLabel))
        assert langs["da"] == 1 and langs["en"] == 1, (concept, langs)
        assert str(g.value(concept, SKOS.notation)) == str(concept).rsplit("/", 1)[1]
    scheme = next(g.subjects(RDF.type, SKOS.ConceptScheme))
    assert {t.language for t in g.objects(scheme, DCTERMS.title)} >= {"da", "en"}


def test_factors_have_at_least_150_concepts_in_three_levels_with_definitions_and_synonyms() -> None:
    g = load("factors")
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) >= 150

    def depth(c: rdflib.term.Node) -> int:
        parent = g.value(c, SKOS.broader)
        return 1 if parent is None else 1 + depth(parent)

    depths = {c: depth(c) for c in concepts}
    assert max(depths.values()) >= 3
    for concept, d in depths.items():
        if d <= 2:
            assert {x.language for x in g.objects(concept, SKOS.definition)} >= {"da", "en"}, concept
    alt = {str(label).lower() for label in g.objects(None, SKOS.altLabel)}
    assert {"stress", "tunge løft", "ega"} <= alt
    top_da = {str(g.value(c, SKOS.prefLabel)).lower() for c in g.subjects(SKOS.topConceptOf, None)}
    for area in ("ergonomi", "psykosocial", "kemi", "biologi", "fysisk", "ulykke"):
        assert any(area in label for label in top_da), (area, top_da)


def test_industries_hold_every_db07_code_of_the_data_file() -> None:
    with (SHARED_DATA / "db07.tsv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    g = load("industries")
    notations = {str(n) for n in g.objects(None, SKOS.notation)}
    codes = {row["DB07"] or row["Undergruppe"] or row["Gruppe"] or row["Hovedgruppe"] or row["Section"] for row in rows}
    assert len(rows) == 1740
    assert codes <= notations, sorted(codes - notations)[:10]
    assert len({c for c in g.subjects(RDF.type, SKOS.Concept)}) == len(rows)
    texts = {str(label) for label in g.objects(None, SKOS.prefLabel) if label.language == "da"}
    assert "Dyrkning af korn (undtagen ris), bælgfrugter og olieholdige frø" in texts


def test_industries_map_to_nace_rev2() -> None:
    g = load("industries")
    matches = {str(o) for p in (SKOS.exactMatch, SKOS.closeMatch) for o in g.objects(None, p)}
    assert sum(m.startswith("http://ec.europa.eu/eurostat/ramon/rdfdata/nace_r2/") for m in matches) >= 900
    english = {str(label) for label in g.objects(None, SKOS.prefLabel) if label.language == "en"}
    assert "Construction" in {e.strip().title() if e.isupper() else e for e in english} or "CONSTRUCTION" in english


def test_branchegrupper_has_the_36_groups_in_10_main_groups() -> None:
    g = load("branchegrupper")
    tops = set(g.subjects(SKOS.topConceptOf, None))
    assert len(tops) == 10
    assert len(set(g.subjects(RDF.type, SKOS.Concept))) == 46
    with (SHARED_DATA / "arbejdstilsynet-branchegrupper.txt").open(encoding="utf-8") as f:
        names = {name.strip() for line in f if ":" in line for name in line.split(":", 1)[1].split("|")}
    labels = {str(label) for label in g.objects(None, SKOS.prefLabel) if label.language == "da"}
    assert names <= labels


def test_evidence_levels_run_from_systematic_review_to_expert_opinion() -> None:
    g = load("evidence-levels")
    labels = " ".join(str(label).lower() for label in g.objects(None, SKOS.prefLabel) if label.language == "da")
    assert "systematisk review" in labels and "ekspert" in labels
    grade = {str(label).lower() for label in load("certainty").objects(None, SKOS.prefLabel) if label.language == "da"}
    assert {"høj", "moderat", "lav", "meget lav"} <= grade
