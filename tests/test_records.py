"""Writing records: validation before write, atomic replace, withdrawal, status and provenance.

Runs against both stores (embedded pyoxigraph and a real Oxigraph server process)."""

from __future__ import annotations

import pyoxigraph as ox

from graph.iris import DCT, RecordKind
from graph.ledger import RecordStatus
from graph.services import Services
from tests.records_util import iri, problem_turtle, triples


def dataset(services: Services) -> set[str]:
    return {str(q) for q in services.store.quads()}


def test_valid_record_is_published_in_its_own_graph_with_provenance(services: Services) -> None:
    outcomes = services.records.load(triples(problem_turtle("k7m2p9qx")), agent="tester", source="unit")
    assert [(o.accepted, o.action) for o in outcomes] == [(True, "created")]
    record = iri("problem", "k7m2p9qx")
    stored = services.records.triples(record)
    assert ox.Triple(record, ox.NamedNode(DCT + "title"), ox.Literal("Støj i storkøkkener", language="da")) in stored
    assert any(t.predicate.value == DCT + "created" for t in stored)
    entry = services.ledger.get(record.value)
    assert entry is not None and entry.status == RecordStatus.published
    assert (entry.submitted_by, entry.source, entry.title) == ("tester", "unit", "Støj i storkøkkener")
    assert [h.action for h in services.ledger.history(record.value)] == ["created"]


def test_breaking_a_shape_rejects_the_record_names_property_and_rule_and_writes_nothing(services: Services) -> None:
    before = dataset(services)
    # A title in German and no factor: two rules broken.
    bad = (
        problem_turtle("b4dr3c0r", title="Lärm").replace('"Lärm"@da', '"Lärm"@de').replace("amv:factor factor:5 ;", "")
    )
    outcomes = services.records.load(triples(bad), agent="tester")
    assert len(outcomes) == 1 and not outcomes[0].accepted
    described = " | ".join(v.describe() for v in outcomes[0].violations)
    assert iri("problem", "b4dr3c0r").value in described
    assert "amv:factor" in described and "sh:MinCountConstraintComponent" in described
    assert "dct:title" in described and "sh:LanguageInConstraintComponent" in described
    # Every message exists in Danish and English.
    assert all({"da", "en"} <= v.messages.keys() for v in outcomes[0].violations)
    assert dataset(services) == before
    assert services.ledger.get(iri("problem", "b4dr3c0r").value) is None


def test_concept_from_the_wrong_scheme_is_rejected(services: Services) -> None:
    wrong = problem_turtle("wr0ngsc4").replace(
        "amv:factor factor:5", "amv:factor <https://w3id.org/arbejdsmiljoviden/vocab/industries/F>"
    )
    (outcome,) = services.records.load(triples(wrong), agent="tester")
    assert not outcome.accepted
    assert any(v.path and v.path.endswith("ontology#factor") for v in outcome.violations)


def test_statements_outside_any_record_reject_the_whole_input(services: Services) -> None:
    before = dataset(services)
    stray = problem_turtle("str4yyyy") + '<https://example.org/x> <https://example.org/p> "loose" .\n'
    outcomes = services.records.load(triples(stray), agent="tester")
    assert outcomes and not any(o.accepted for o in outcomes)
    assert outcomes[0].violations[0].rule == "stray-triples"
    assert dataset(services) == before


def test_record_iri_must_follow_the_pattern(services: Services) -> None:
    bad = problem_turtle().replace(
        f"{'https://w3id.org/arbejdsmiljoviden/'}id/problem/", "https://example.org/problem/"
    )
    (outcome,) = services.records.load(triples(bad), agent="tester")
    assert not outcome.accepted and outcome.violations[0].rule == "record-iri"


def test_blank_node_record_gets_a_minted_iri(services: Services) -> None:
    turtle = problem_turtle("xxxxxxxx").replace("<https://w3id.org/arbejdsmiljoviden/id/problem/xxxxxxxx>", "_:new")
    (outcome,) = services.records.load(triples(turtle), agent="tester")
    assert outcome.accepted
    parsed = services.iris.parse_record(outcome.iri)
    assert parsed is not None and parsed[0] == RecordKind.problem
    assert services.records.triples(ox.NamedNode(outcome.iri))


def test_replacing_a_record_replaces_its_graph_and_keeps_created(services: Services) -> None:
    record = iri("problem", "r3p1ace0")
    services.records.load(triples(problem_turtle("r3p1ace0", title="Gammel titel")), agent="a")
    created = services.ledger.get(record.value).created  # type: ignore[union-attr]
    (outcome,) = services.records.load(triples(problem_turtle("r3p1ace0", title="Ny titel")), agent="b")
    assert outcome.action == "replaced"
    titles = {t.object.value for t in services.records.triples(record) if t.predicate.value == DCT + "title"}
    assert titles == {"Ny titel", "Noise in commercial kitchens"}
    entry = services.ledger.get(record.value)
    assert entry is not None and entry.created == created and entry.title == "Ny titel"
    assert [h.action for h in services.ledger.history(record.value)] == ["created", "replaced"]


def test_withdrawing_takes_the_record_out_of_the_public_dataset_and_keeps_a_tombstone(services: Services) -> None:
    record = iri("problem", "w1thdr4w")
    services.records.load(triples(problem_turtle("w1thdr4w")), agent="a")
    services.records.withdraw(record, agent="editor", reason="forældet")
    assert services.records.triples(record) == []
    assert record not in services.store.named_graphs()
    entry = services.ledger.get(record.value)
    assert entry is not None and entry.status == RecordStatus.withdrawn and entry.withdrawn_reason == "forældet"
    assert entry.title == "Støj i storkøkkener"


def test_counts_reflect_published_records(services: Services) -> None:
    before = services.records.counts()
    (outcome,) = services.records.load(triples(problem_turtle("c0nt1ngx")), agent="a")
    assert outcome.accepted
    after = services.records.counts()
    assert after["problem"] == before["problem"] + 1
    assert after["concept"] > 2000 and after["scheme"] >= 10
