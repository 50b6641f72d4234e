"""Finding knowledge: full-text, thesaurus-aware search (`/search`, `/api/search`, `/api/suggest`).

Words, synonyms, English names, spellings without æ/ø/å, compound words and typos all lead to the
records tagged with the concept they name or a narrower one; new and changed records are found by
the very next search and withdrawn ones are gone; facets add up; nothing a user types breaks it.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from api.app import create_app
from graph.iris import RecordKind
from graph.ledger import Ledger
from graph.services import Services
from graph.store import RemoteStore
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, iri, problem_turtle, triples

FACTOR = BASE + "vocab/factors/"
SKOS = "http://www.w3.org/2004/02/skos/core#"


@pytest.fixture(scope="module")
def client(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app on a private copy of the sample data, for searches that change nothing."""
    data_dir = tmp_path_factory.mktemp("search") / "data"
    shutil.copytree(initialised_dir, data_dir)
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


def api(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/api/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def found(client: TestClient, q: str, **params: Any) -> set[str]:
    """Every record a search finds, over all its pages."""
    first = api(client, q=q, **params)
    iris = {r["iri"] for r in first["results"]}
    for page in range(2, first["pages"] + 1):
        iris |= {r["iri"] for r in api(client, q=q, page=page, **params)["results"]}
    assert len(iris) == first["total"]
    return iris


def tagged(client: TestClient, concept: str) -> set[str]:
    """The published records tagged with a concept or one of its narrower concepts (asked of the store)."""
    query = f"""
        SELECT DISTINCT ?record WHERE {{
          ?record ?p ?tag . ?tag <{SKOS}broader>* <{concept}> .
          ?record a ?class .
          FILTER(STRSTARTS(STR(?record), "{BASE}id/"))
        }}"""
    rows = client.app.state.services.store.select(query)  # type: ignore[attr-defined]
    return {r["record"].value for r in rows}


# -- 1. the thesaurus leads to the records --------------------------------------------------------------


@pytest.mark.parametrize("q", ["støj", "støjbelastning", "noise", "larm", "stoej", "Støj", "STØJ"])
def test_every_name_of_noise_finds_everything_tagged_with_noise_or_narrower(client: TestClient, q: str) -> None:
    expected = tagged(client, FACTOR + "5.1")
    assert len(expected) >= 10, "the sample data should have plenty about noise"
    # Some are tagged only with a narrower concept (høreskader, høreværn, …): they are found too.
    assert expected - tagged(client, FACTOR + "5.1.1") - tagged(client, FACTOR + "5.1.5")
    assert expected <= found(client, q)
    concepts = api(client, q=q)["concepts"]
    assert [c["key"] for c in concepts] == ["factors/5.1"]
    assert concepts[0]["includesNarrower"] is True


def test_an_abbreviation_finds_what_is_tagged_with_its_concept(client: TestClient) -> None:
    expected = tagged(client, FACTOR + "1.3")  # ensidigt gentaget arbejde, altLabel "EGA"
    assert expected
    assert expected <= found(client, "EGA")
    assert api(client, q="ega")["concepts"][0]["label"] == "ensidigt gentaget arbejde"


def test_a_broad_concept_finds_what_is_tagged_with_its_narrower_concepts(client: TestClient) -> None:
    narrower_only = tagged(client, FACTOR + "3") - {
        r["record"].value
        for r in client.app.state.services.store.select(  # type: ignore[attr-defined]
            f"SELECT ?record WHERE {{ ?record <{BASE}ontology#factor> <{FACTOR}3> }}"
        )
    }
    assert narrower_only, "some records are tagged only with narrower chemical factors"
    assert narrower_only <= found(client, "kemisk arbejdsmiljø")


def test_records_match_across_languages_through_their_concepts(client: TestClient) -> None:
    """An English query finds a record that has no English text at all, through its concept."""
    rows = client.app.state.services.store.select(  # type: ignore[attr-defined]
        f"""SELECT ?record WHERE {{
              ?record <{BASE}ontology#factor> <{FACTOR}5.1> ; <http://purl.org/dc/terms/title> ?t .
              FILTER NOT EXISTS {{ ?record ?p ?en FILTER(LANG(?en) = "en") }} }}"""
    )
    danish_only = {r["record"].value for r in rows}
    assert danish_only
    assert danish_only <= found(client, "occupational noise")


@pytest.mark.parametrize(("typo", "concept"), [("stresss", "2.5"), ("stoej", "5.1"), ("hørevern", "5.1.5")])
def test_typos_and_spellings_without_danish_letters_still_find(client: TestClient, typo: str, concept: str) -> None:
    expected = tagged(client, FACTOR + concept)
    assert expected <= found(client, typo)


def test_the_ascii_spelling_of_a_word_finds_its_text(client: TestClient) -> None:
    titles = {r["title"] for r in api(client, q="arbejdsmiljoe")["results"]}
    assert any("arbejdsmiljø" in t.lower() for t in titles), titles


def test_a_word_finds_compounds_that_contain_it(client: TestClient) -> None:
    snippets = " ".join(r["snippet"] for r in api(client, q="belastning", noconcept="factors/1")["results"])
    assert re.search(r"<mark>\w+belastning\w*</mark>", snippets), snippets


# -- 2. what the query was understood as, and undoing it ---------------------------------------------------


def test_the_page_says_which_concepts_it_understood_and_offers_to_drop_each(client: TestClient) -> None:
    page = client.get("/search", params={"q": "støj", "lang": "da"})
    assert page.status_code == 200
    text = page.text
    assert "Viser resultater for" in text and "og underbegreber" in text
    assert "<h1>Søgeresultater: „støj“</h1>" in text
    link = html.unescape(re.search(r'<a href="([^"]*noconcept=[^"]*)"', text).group(1))  # type: ignore[union-attr]
    without = client.get(link).text
    assert "Viser resultater for" not in without
    english = client.get("/search", params={"q": "noise", "lang": "en"}).text
    assert "Showing results for" in english and "and narrower concepts" in english


def test_without_the_concept_only_the_words_match(client: TestClient) -> None:
    with_concept = api(client, q="larm")
    without = api(client, q="larm", noconcept="factors/5.1")
    assert with_concept["total"] > without["total"]
    assert without["concepts"] == []


def test_a_concept_can_be_added_to_the_query_by_url(client: TestClient) -> None:
    result = api(client, concept="factors/5.1.5")
    assert result["concepts"][0]["added"] is True
    assert {r["iri"] for r in result["results"]} == tagged(client, FACTOR + "5.1.5")


def test_no_result_suggests_spellings_and_broader_concepts(client: TestClient) -> None:
    misspelt = api(client, q="vibbratiomer")
    assert misspelt["total"] == 0
    assert "vibrationer" in [c["label"] for c in misspelt["suggestions"]["spelling"]]
    narrow = api(client, q="tinnitus", factor="factors/1")  # nothing about tinnitus is ergonomic
    assert narrow["total"] == 0
    assert "støj" in [c["label"] for c in narrow["suggestions"]["broader"]]
    page = client.get("/search", params={"q": "vibbratiomer", "lang": "da"}).text
    assert "Mente du" in page and "/search?q=vibrationer" in page


# -- 3. the index follows every write --------------------------------------------------------------------


RECORD = (
    PREFIXES
    + """
<{iri}> a amv:KnowledgeItem ;
    dct:title "{title}"@da ;
    dct:description "{description}"@da ;
    amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/04> ;
    amv:factor factor:5.2 ;
    dct:issued "2024"^^xsd:gYear .
"""
)


def item_turtle(record_id: str, title: str, description: str = "En vejledning til test.") -> str:
    return RECORD.format(iri=iri("item", record_id).value, title=title, description=description)


def engine_found(services: Services, q: str) -> set[str]:
    from graph.search.query import SearchRequest, search

    return {h.iri for h in search(services.search, SearchRequest(q=q, page_size=100)).hits}


def test_a_loaded_record_is_found_by_the_next_search_and_gone_after_withdrawal(services: Services) -> None:
    record = iri("item", "s3archzz")
    outcomes = services.records.load(triples(item_turtle("s3archzz", "Kvasirvejledning om vibrationer")), agent="t")
    assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]
    assert record.value in engine_found(services, "kvasirvejledning")
    assert record.value in engine_found(services, "kvasir")  # the start of the compound

    services.records.load(triples(item_turtle("s3archzz", "Mjødvejledning om vibrationer")), agent="t")
    assert record.value in engine_found(services, "mjødvejledning")
    assert record.value not in engine_found(services, "kvasirvejledning")

    services.records.withdraw(record, agent="t", reason="test")
    assert record.value not in engine_found(services, "mjødvejledning")
    assert services.search.count() == services.ledger.count_by_status()["published"]


def test_a_word_is_found_inside_a_compound_only_where_it_is_spelt_out_whole(services: Services) -> None:
    record = iri("item", "c0mp0s1t")
    outcomes = services.records.load(triples(item_turtle("c0mp0s1t", "Kvasirfjordfjeldet i skoven")), agent="t")
    assert all(o.accepted for o in outcomes)
    assert record.value in engine_found(services, "fjordfjeld")  # inside the word, whole
    assert record.value in engine_found(services, "KVASIRFJORD")  # its start, any case
    # Every five letters of "kvasirfjeld" occur in the word, but not the word itself: no match.
    assert record.value not in engine_found(services, "kvasirfjeld")


@pytest.mark.embedded_store("runs its own store server on the data directory")
def test_changes_made_by_another_process_are_seen_by_the_next_search(data_dir: Path) -> None:
    """Two deployments' worth of objects on one data directory (as `amv serve` and `amv load` are)."""
    settings = make_settings(data_dir)
    with (
        ManagedStoreServer(settings) as server,
        Services(settings, RemoteStore(server.url), Ledger(settings.ledger_path)) as web,
        Services(settings, RemoteStore(server.url), Ledger(settings.ledger_path)) as cli,
    ):
        assert not engine_found(web, "trolderamme")
        outcomes = cli.records.load(triples(item_turtle("tr0dzzzz", "Trolderamme i værkstedet")), agent="cli")
        assert all(o.accepted for o in outcomes)
        assert engine_found(web, "trolderamme") == {iri("item", "tr0dzzzz").value}
        cli.records.withdraw(iri("item", "tr0dzzzz"), agent="cli", reason="test")
        assert not engine_found(cli, "trolderamme")  # the other process applies the change this time …
        assert not engine_found(web, "trolderamme")  # … and this one follows its commit


def test_the_web_finds_a_record_published_a_moment_ago(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        before = api(client, q="gnomeværn")["total"]
        services.records.load(triples(item_turtle("gn0mezzz", "Gnomeværn på værkstedet")), agent="t")
        after = api(client, q="gnomeværn")
        assert (before, after["total"]) == (0, 1)
        assert after["results"][0]["url"] == "/id/item/gn0mezzz"
        services.records.withdraw(NamedNode(BASE + "id/item/gn0mezzz"), agent="t", reason="test")
        assert api(client, q="gnomeværn")["total"] == 0


def test_when_no_record_has_every_word_those_with_some_are_shown_and_said_to_be(services: Services) -> None:
    from graph.search.query import SearchRequest, search

    for record_id, word in (("z1xb4rnm", "Zyxbarnguide"), ("q0pp3nhv", "Qoppelhusråd")):
        assert all(o.accepted for o in services.records.load(triples(item_turtle(record_id, word)), agent="t"))
    both = SearchRequest(q="zyxbarnguide qoppelhusråd")
    first, again = search(services.search, both), search(services.search, both)  # the second from kept facets
    for result in (first, again):
        assert result.relaxed and result.total == 2
        assert {h.iri for h in result.hits} == {iri("item", "z1xb4rnm").value, iri("item", "q0pp3nhv").value}
    one = search(services.search, SearchRequest(q="zyxbarnguide"))
    assert not one.relaxed and [h.iri for h in one.hits] == [iri("item", "z1xb4rnm").value]


def test_what_links_to_a_record_counts_the_current_versions_only(services: Services) -> None:
    """The index keeps the terms of replaced and withdrawn versions until its segments merge: the counts and
    lists of what links to a record must not include them, nor show a group that no current record is in."""
    problem = iri("problem", "p7nk3t0m")
    assert all(o.accepted for o in services.records.load(triples(problem_turtle("p7nk3t0m")), agent="t"))
    assert services.search.incoming(problem.value, 5) == {}
    addressing = f"; <{BASE}ontology#addresses> <{problem.value}>"
    linking = RECORD.format(iri=iri("item", "r1nk1ng0").value, title="Dæmp støjen", description="Råd.")
    services.records.load(triples(linking.rstrip().removesuffix(".") + addressing + " .\n"), agent="t")
    group = (RecordKind.item.value, f"{BASE}ontology#addresses")
    assert services.search.incoming(problem.value, 5) == {
        group: (1, {iri("item", "r1nk1ng0").value: {"da": "Dæmp støjen"}})
    }
    services.records.load(triples(linking), agent="t")  # the new version no longer addresses the problem
    assert services.search.incoming(problem.value, 5) == {}


def test_vocabulary_edits_are_followed_without_a_restart(embedded: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new synonym is understood, and records follow a concept that moved in the hierarchy."""
    from graph.search import index as search_index
    from graph.search.query import SearchRequest, search
    from graph.vocab_edit import Thesaurus

    monkeypatch.setattr(search_index, "CHANGES_CHECK_SECONDS", 0.0)
    factors = NamedNode(FACTOR[:-1])
    editing = Thesaurus(embedded)
    assert search(embedded.search, SearchRequest(q="bulder")).understood == []

    noise = editing.describe_json(NamedNode(FACTOR + "5.1"), factors)
    noise["altLabel"]["da"].append("bulder")
    editing.edit(NamedNode(FACTOR + "5.1"), factors, noise, agent="t", reason="synonym")
    result = search(embedded.search, SearchRequest(q="bulder", page_size=100))
    assert [u.concept.key for u in result.understood] == ["factors/5.1"]
    noise_records = {
        r["r"].value
        for r in embedded.store.select(
            f"SELECT DISTINCT ?r WHERE {{ ?r <{BASE}ontology#factor> ?f . ?f <{SKOS}broader>* <{FACTOR}5.1> }}"
        )
    }
    assert noise_records <= {h.iri for h in result.hits}

    tinnitus = tagged_in(embedded, FACTOR + "5.1.2")
    assert tinnitus
    under_vibration = SearchRequest(filters={"factor": [FACTOR + "5.2"]}, page_size=100)
    assert not tinnitus & {h.iri for h in search(embedded.search, under_vibration).hits}
    moved = editing.describe_json(NamedNode(FACTOR + "5.1.2"), factors)
    moved["broader"] = [FACTOR + "5.2"]
    editing.edit(NamedNode(FACTOR + "5.1.2"), factors, moved, agent="t", reason="moved")
    assert tinnitus <= {h.iri for h in search(embedded.search, under_vibration).hits}


def tagged_in(services: Services, concept: str) -> set[str]:
    rows = services.store.select(f"SELECT DISTINCT ?r WHERE {{ ?r <{BASE}ontology#factor> <{concept}> }}")
    return {r["r"].value for r in rows}


def test_a_missing_or_stale_index_is_rebuilt_when_the_app_starts(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "search", ignore_errors=True)
    with TestClient(create_app(make_settings(data_dir))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert services.search.count() == services.ledger.count_by_status()["published"]
        assert api(client, q="støj")["total"] > 0
    # An index that lost a record (e.g. written by a crashed process) is rebuilt too.
    with TestClient(create_app(make_settings(data_dir))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        index = services.search
        writer = index._index.writer(heap_size=15_000_000, num_threads=1)  # type: ignore[union-attr]
        writer.delete_documents_by_term("iri", iri("item", "h6wg09c6").value)
        writer.commit()
        writer.wait_merging_threads()
        del writer
    with TestClient(create_app(make_settings(data_dir))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        assert services.search.count() == services.ledger.count_by_status()["published"]


def test_amv_reindex_rebuilds_the_index_with_progress(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "search", ignore_errors=True)
    result = subprocess.run(
        [sys.executable, "-m", "graph.cli", "reindex"],
        capture_output=True,
        text=True,
        env={"AMV_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"search index rebuilt: \d{3} records", result.stdout)
    assert (data_dir / "search" / "CURRENT").exists()


# -- 4. facets, sorting, pages ----------------------------------------------------------------------------


def test_facet_counts_add_up(client: TestClient) -> None:
    result = api(client, q="støj")
    facets = result["facets"]
    assert sum(v["count"] for v in facets["type"]) == result["total"]

    def check(values: list[dict[str, Any]], parent: int) -> None:
        for v in values:
            assert v["count"] <= parent
            for child in v["children"]:
                assert child["count"] <= v["count"]
            check(v["children"], v["count"])

    check(facets["factor"], result["total"])
    check(facets["industry"], result["total"])
    for name in ("factor", "knowledgeType", "audience", "year", "type", "actor"):
        value = facets[name][0]
        narrowed = api(client, q="støj", **{name: value["value"]})
        assert narrowed["total"] == value["count"], (name, value)
        # The other values of a facet stay visible (and countable) when one is chosen.
        assert len(narrowed["facets"][name]) == len(facets[name])


def test_facets_combine_and_the_api_has_one_parameter_per_facet(client: TestClient) -> None:
    both = api(client, q="støj", type="item", knowledgeType="knowledge-types/04")
    assert both["total"] >= 1
    assert all(r["type"] == "item" for r in both["results"])
    years = api(client, q="", year=["2024", "2019"])
    assert years["total"] >= 1 and {v["value"] for v in years["facets"]["year"] if v["selected"]} == {"2024", "2019"}
    actor = api(client, q="", actor="20tyy8nm")
    assert actor["total"] >= 1


def test_the_json_has_the_documented_shape(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "støj", "lang": "en", "sort": "newest"})
    assert response.headers["content-type"].startswith("application/json")
    data = response.json()
    assert {"total", "results", "facets", "concepts", "page", "pages", "links", "suggestions"} <= set(data)
    assert data["total"] > 20 and len(data["results"]) == 20
    first = data["results"][0]
    assert {"iri", "type", "title", "snippet", "url"} <= set(first)
    assert set(data["facets"]) == {
        "factor",
        "industry",
        "knowledgeType",
        "evidenceLevel",
        "audience",
        "actor",
        "year",
        "type",
    }
    factor = next(v for v in data["facets"]["factor"] if v["value"] == "factors/5")
    assert factor["label"] == "physical work environment"
    assert any(c["value"] == "factors/5.1" for c in factor["children"])
    assert data["concepts"][0]["label"] == "noise"
    assert data["links"]["next"].startswith("/api/search?") and "page=2" in data["links"]["next"]


def test_newest_first_sorts_by_date(client: TestClient) -> None:
    years = [r["year"] for r in api(client, q="", type="item", sort="newest")["results"] if r["year"]]
    assert years == sorted(years, reverse=True)


def test_pages_do_not_overlap_and_are_shareable_urls(client: TestClient) -> None:
    one = api(client, q="arbejdsmiljø")
    two = client.get(one["links"]["next"]).json()
    assert not {r["iri"] for r in one["results"]} & {r["iri"] for r in two["results"]}
    page = client.get("/search", params={"q": "arbejdsmiljø", "page": "2"}).text
    assert 'rel="prev"' in page and "/api/search?q=arbejdsmilj%C3%B8&amp;page=2" in page


# -- 5. autocomplete ----------------------------------------------------------------------------------------


def test_suggest_gives_concept_labels_and_titles_for_a_prefix(client: TestClient) -> None:
    response = client.get("/api/suggest", params={"q": "stø"})
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    labels = [s["label"] for s in suggestions if s["type"] == "concept"]
    assert labels[0] == "støj"
    assert any(s["type"] != "concept" for s in suggestions), "record titles are suggested too"
    folded = client.get("/api/suggest", params={"q": "stoe"}).json()["suggestions"]
    assert "støj" in [s["label"] for s in folded]
    english = client.get("/api/suggest", params={"q": "noi", "lang": "en"}).json()["suggestions"]
    assert english[0]["label"] == "noise"
    assert client.get("/api/suggest", params={"q": ""}).json()["suggestions"] == []


# -- 6. safety --------------------------------------------------------------------------------------------


def test_snippets_escape_markup_and_mark_the_matches(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        description = 'Ondt <script>alert(1)</script> & \\"citat\\" om trommestøj i hallen.'
        outcomes = services.records.load(
            triples(item_turtle("xss0zzzz", "Trommestøj <b>fed</b>", description)), agent="t"
        )
        assert all(o.accepted for o in outcomes)
        result = api(client, q="trommestøj")
        snippet = result["results"][0]["snippet"]
        assert "<script>" not in snippet and "&lt;script&gt;" in snippet and "&amp;" in snippet
        assert "<mark>trommestøj</mark>" in snippet
        page = client.get("/search", params={"q": "trommestøj"}).text
        assert "<script>alert" not in page and "<b>fed</b>" not in page
        assert "&lt;b&gt;fed&lt;/b&gt;" in page


@pytest.mark.parametrize(
    "params",
    [
        {"q": '"}'},
        {"q": "<script>alert(1)</script>"},
        {"q": "title:støj AND (noise OR"},
        {"q": "*"},
        {"q": "\\"},
        {"q": "'; DROP TABLE records; --"},
        {"q": "støj " * 500},
        {"q": "\u0000\ufffd😀"},
        {"q": "ø" * 300},
        {"q": "støj", "factor": '"}'},
        {"q": "støj", "factor": "industries/F"},
        {"q": "støj", "page": "-1"},
        {"q": "støj", "page": "9999999999"},
        {"q": "støj", "sort": "random"},
        {"q": "støj", "year": "20x4"},
        {"q": "støj", "actor": "../../etc/passwd"},
        {"q": "støj", "type": "<script>"},
        {"q": "støj", "concept": "<script>"},
        {"q": "støj", "noconcept": "<script>"},
        {"q": "støj", "industry": ["F"] * 50},
    ],
)
def test_bad_or_hostile_input_never_gives_a_server_error(client: TestClient, params: dict[str, Any]) -> None:
    for path in ("/search", "/api/search"):
        response = client.get(path, params=params)
        assert response.status_code in (200, 400), (path, params, response.status_code)
        if response.status_code == 400:
            assert "parameter" in response.json() if path.startswith("/api") else "notice" in response.text
        if path == "/search":
            assert "<script>alert" not in response.text
    assert client.get("/api/suggest", params={"q": params["q"]}).status_code == 200


def test_a_bad_filter_value_is_explained(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": "støj", "factor": "factors/99.99"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "factor"
    page = client.get("/search", params={"q": "støj", "page": "abc", "lang": "da"})
    assert page.status_code == 400 and "Sidetallet" in page.text
