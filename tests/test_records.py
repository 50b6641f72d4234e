"""Writing records: validation before write, atomic replace, withdrawal, status and provenance.

Runs against both stores (embedded pyoxigraph and a real Oxigraph server process)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pyoxigraph as ox
import pytest

import graph.records as records_module
from bench.synthetic import Generator
from graph.iris import DCT, RecordKind
from graph.ledger import RecordStatus
from graph.records import Record
from graph.search.query import SearchRequest, search
from graph.services import Services
from graph.validation import Violation
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


# -- bulk writing: batches validated on a second thread while the one before is written ---------------------


def _linking_batches(generator: Generator) -> tuple[list[Record], list[Record]]:
    """The actors, problems and solutions as one batch; the knowledge items, which link to them, as the next."""
    *context, items = generator.batches(1_000)
    return [r for batch in context for r in batch], items


def test_a_batch_validated_before_the_one_it_links_to_is_written_sees_that_one(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next batch is validated while the one before is still being written: its links to that batch's
    records must count as links to records that exist. Writing the first batch here waits until the second
    has been validated, so the second certainly did not find the first in the store."""
    first, second = _linking_batches(Generator(30, actors=6, problems=5, solutions=5))
    assert any(t.object == r.iri for t in second[0].triples for r in first)  # an item names an actor
    validated: list[int] = []
    second_checked = threading.Event()
    validate, commit = services.records.validate, services.records._commit

    def validate_and_tell(records: Sequence[Record], **options: Any) -> dict[str, list[Violation]]:
        found = validate(records, **options)
        validated.append(len(records))
        if len(validated) == 2:
            second_checked.set()
        return found

    def commit_after_second_check(*args: Any, **options: Any) -> None:
        assert second_checked.wait(30), "the second batch was not validated while the first was being written"
        commit(*args, **options)

    monkeypatch.setattr(services.records, "validate", validate_and_tell)
    monkeypatch.setattr(services.records, "_commit", commit_after_second_check)
    items, indexed = services.records.counts()["item"], services.search.count()
    outcomes = list(services.records.publish_batches([first, second], agent="tester", source="bulk"))
    assert validated == [len(first), len(second)]
    assert [[o.iri for o in batch if not o.accepted] for batch in outcomes] == [[], []]
    assert services.records.counts()["item"] == items + len(second)
    assert services.search.count() == indexed + len(first) + len(second)


def test_a_link_to_a_record_the_batch_before_rejected_is_a_link_to_nothing(services: Services) -> None:
    first, second = _linking_batches(Generator(30, actors=6, problems=5, solutions=5))
    broken = next(r for r in first if r.kind == RecordKind.actor)
    broken.triples = [t for t in broken.triples if not isinstance(t.object, ox.Literal)]  # no name: invalid
    naming = {r.iri.value for r in second if any(t.object == broken.iri for t in r.triples)}
    assert naming and len(naming) < len(second)
    items = services.records.counts()["item"]
    first_outcomes, second_outcomes = services.records.publish_batches([first, second], agent="tester")
    assert [o.iri for o in first_outcomes if not o.accepted] == [broken.iri.value]
    assert {o.iri for o in second_outcomes if not o.accepted} == naming
    rejected = next(o for o in second_outcomes if not o.accepted)
    assert any(v.rule.endswith("ClassConstraintComponent") and v.value == broken.iri.value for v in rejected.violations)
    assert services.records.counts()["item"] == items + len(second) - len(naming)


def test_load_writes_in_batches_and_a_link_to_a_record_further_on_counts(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`amv load` takes its input as one whole, however many batches it is written in: an item (written
    first, its IRI sorts first) may address a problem that comes later in the input."""
    monkeypatch.setattr(records_module, "BULK_BATCH", 1)
    problem = problem_turtle("q4w8e2r6")
    item = f"""
<{iri("item", "a1b2c3d4").value}> a amv:KnowledgeItem ;
    dct:title "Støjguide til storkøkkener"@da ;
    dct:description "Sådan dæmpes støjen fra opvasken."@da ;
    amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/10> ;
    amv:factor factor:5 ;
    amv:audience <https://w3id.org/arbejdsmiljoviden/vocab/audiences/01> ;
    amv:addresses <{iri("problem", "q4w8e2r6").value}> ;
    dct:publisher <https://w3id.org/arbejdsmiljoviden/id/actor/20tyy8nm> ;
    dct:language "da" .
"""
    head = services.records.changelog.head()
    outcomes = services.records.load(triples(problem + item), agent="tester", source="two batches")
    assert [(o.kind, o.accepted, o.action, o.violations) for o in outcomes] == [
        ("item", True, "created", []),
        ("problem", True, "created", []),
    ]
    assert services.records.changelog.head() == head + 2  # one unit of work (one changeset) per batch
    found = search(services.search, SearchRequest(q="støjguide"))
    assert [hit.iri for hit in found.hits] == [iri("item", "a1b2c3d4").value]
