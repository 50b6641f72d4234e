"""The Skosmos-compatible REST API (/rest/v1/): what a Skosmos client or widget relies on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.services import open_services
from graph.store_server import ManagedStoreServer
from graph.text import danish_sort_key
from tests.conftest import make_settings

BASE = "https://w3id.org/arbejdsmiljoviden/"
FACTORS = BASE + "vocab/factors/"
INDUSTRIES = BASE + "vocab/industries/"
NOISE = FACTORS + "5.1"
REPETITIVE = FACTORS + "1.3"
LIFTING = FACTORS + "1.1.1"  # third level: 1 ergonomic → 1.1 manual handling → 1.1.1 lifting
NACE = "http://ec.europa.eu/eurostat/ramon/rdfdata/nace_r2/"


@pytest.fixture(scope="module", params=["embedded", "remote"])
def client(
    request: pytest.FixtureRequest, initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The app on a private copy of the initialised store: embedded, and through a real Oxigraph server."""
    data_dir = tmp_path_factory.mktemp("skosmos") / "data"
    shutil.copytree(initialised_dir, data_dir)
    settings = make_settings(data_dir)
    if request.param == "embedded":
        with TestClient(create_app(settings)) as c:
            yield c
    else:
        with (
            ManagedStoreServer(settings) as server,
            TestClient(create_app(replace(settings, store_url=server.url))) as c,
        ):
            yield c


def get(client: TestClient, path: str, status: int = 200, **params: str) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == status, (path, params, response.text)
    assert response.headers["access-control-allow-origin"] == "*"
    if response.headers["content-type"].startswith("application/json"):
        return response.json()
    return response


def uris(results: list[dict[str, Any]]) -> list[str]:
    return [r["uri"] for r in results]


# -- vocabularies ----------------------------------------------------------------------------


def test_vocabularies_lists_every_scheme_with_its_title_in_the_asked_language(client: TestClient) -> None:
    response = client.get("/rest/v1/vocabularies", params={"lang": "en"})
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    english = {v["id"]: v for v in response.json()["vocabularies"]}
    assert {"factors", "industries", "branchegrupper", "knowledge-types", "evidence-levels", "regions"} <= set(english)
    assert english["factors"]["title"] == "Work-environment factors"
    assert english["factors"]["uri"] == "factors"
    danish = {v["id"]: v["title"] for v in get(client, "/rest/v1/vocabularies", lang="da")["vocabularies"]}
    assert danish["factors"] == "Arbejdsmiljøfaktorer"
    assert list(danish) == sorted(danish)  # Skosmos sorts by id
    assert get(client, "/rest/v1/vocabularies", 400)["message"] == "lang parameter missing"


def test_vocabulary_information_names_its_languages_and_concept_scheme(client: TestClient) -> None:
    info = get(client, "/rest/v1/factors/", lang="en")
    assert info["id"] == "factors"
    assert info["title"] == "Work-environment factors"
    assert info["defaultLanguage"] == "da"
    assert info["languages"] == ["da", "en"]
    assert info["conceptschemes"][0]["uri"] == BASE + "vocab/factors"
    assert info["conceptschemes"][0]["type"] == "skos:ConceptScheme"
    # Skosmos sends /rest/v1/{vocid} on to /rest/v1/{vocid}/
    redirect = client.get("/rest/v1/factors?lang=en", follow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["location"] == "/rest/v1/factors/?lang=en"


def test_top_concepts_of_factors_are_the_seven_areas(client: TestClient) -> None:
    answer = get(client, "/rest/v1/factors/topConcepts", lang="en")
    tops = answer["topconcepts"]
    assert [t["notation"] for t in tops] == ["1", "2", "3", "4", "5", "6", "7"]
    assert all(t["hasChildren"] and t["topConceptOf"] == BASE + "vocab/factors" for t in tops)
    assert tops[0]["label"] == "ergonomic work environment"
    assert answer["uri"] == BASE + "vocab/factors"
    assert answer["@context"]["topconcepts"] == "skos:hasTopConcept"
    danish = get(client, "/rest/v1/factors/topConcepts")["topconcepts"]  # the vocabulary's default language
    assert danish[0]["label"] == "ergonomisk arbejdsmiljø"


# -- search and lookup -----------------------------------------------------------------------


def test_prefix_search_finds_noise_by_its_labels(client: TestClient) -> None:
    answer = get(client, "/rest/v1/factors/search", query="støj*")
    results = answer["results"]
    assert answer["@context"]["results"] == {"@id": "onki:results", "@container": "@list"}
    noise = [r for r in results if r["uri"] == NOISE]
    assert noise and noise[0]["prefLabel"] == "støj" and noise[0]["type"] == ["skos:Concept"]
    assert noise[0]["vocab"] == "factors" and noise[0]["localname"] == "5.1" and noise[0]["notation"] == "5.1"
    for hit in results:  # every hit says which label matched: its own, or an alternative one
        matched = hit.get("altLabel") or hit.get("hiddenLabel") or hit.get("matchedPrefLabel") or hit["prefLabel"]
        assert matched.lower().startswith("støj"), hit
    matched = [r.get("altLabel") or r["prefLabel"] for r in results]
    assert matched == sorted(matched, key=danish_sort_key)
    # Case does not matter, and without a wildcard the whole label must match.
    assert NOISE in uris(get(client, "/rest/v1/factors/search", query="STØJ")["results"])
    assert NOISE not in uris(get(client, "/rest/v1/factors/search", query="stø")["results"])
    suffix = get(client, "/rest/v1/factors/search", query="*støj")["results"]
    assert suffix and all((r.get("altLabel") or r["prefLabel"]).lower().endswith("støj") for r in suffix)


def test_ega_finds_repetitive_work_through_its_alternative_label(client: TestClient) -> None:
    results = get(client, "/rest/v1/factors/search", query="EGA")["results"]
    assert len(results) == 1
    assert results[0]["uri"] == REPETITIVE
    assert results[0]["altLabel"] == "EGA"
    assert results[0]["prefLabel"] == "ensidigt gentaget arbejde"


def test_stoej_finds_noise_through_a_hidden_label(client: TestClient) -> None:
    results = get(client, "/rest/v1/factors/search", query="stoej")["results"]
    assert uris(results) == [NOISE]
    assert results[0]["hiddenLabel"] == "stoej" and results[0]["prefLabel"] == "støj"


def test_search_in_english_across_all_vocabularies(client: TestClient) -> None:
    answer = get(client, "/rest/v1/search", query="noise", lang="en")
    assert answer["@context"]["@language"] == "en"
    hit = next(r for r in answer["results"] if r["uri"] == NOISE)
    assert hit["prefLabel"] == "noise" and hit["lang"] == "en" and hit["vocab"] == "factors"
    # A Danish word is not found when only English labels are searched …
    assert get(client, "/rest/v1/search", query="støj", lang="en")["results"] == []
    # … and without `lang` every language is searched, the hit shown in the label language asked for.
    hit = get(client, "/rest/v1/search", query="noise", labellang="da")["results"][0]
    assert hit["prefLabel"] == "støj" and hit["matchedPrefLabel"] == "noise" and hit["lang"] == "en"
    # `vocab` limits the search.
    assert get(client, "/rest/v1/search", query="noise", vocab="industries")["results"] == []


def test_search_paging_unique_parent_and_bad_parameters(client: TestClient) -> None:
    everything = get(client, "/rest/v1/factors/search", query="*støj*")["results"]
    assert len(everything) > 3
    page = get(client, "/rest/v1/factors/search", query="*støj*", maxhits="2", offset="1")["results"]
    assert page == everything[1:3]
    unique = get(client, "/rest/v1/factors/search", query="*støj*", unique="true")["results"]
    assert len(uris(unique)) == len(set(uris(unique))) < len(everything)
    under_noise = get(client, "/rest/v1/factors/search", query="*", parent=NOISE)["results"]
    assert under_noise and all(r["uri"].startswith(NOISE + ".") for r in under_noise)
    assert get(client, "/rest/v1/factors/search", query="*")["results"] == []  # Skosmos does not list everything
    assert get(client, "/rest/v1/factors/search", query="støj", type="skos:Collection")["results"] == []
    assert get(client, "/rest/v1/search", 400)["message"] == "query parameter missing"
    assert get(client, "/rest/v1/search", 400, query="  ")["message"] == "query parameter missing"
    assert get(client, "/rest/v1/search", 400, query="støj", maxhits="ten")["message"] == "maxhits parameter is invalid"
    assert get(client, "/rest/v1/search", 400, query="støj", offset="-1")["message"] == "offset parameter is invalid"
    # Patterns full of wildcards are matched in linear time; absurdly long ones are refused.
    assert get(client, "/rest/v1/search", query="a*" * 200 + "b")["results"] == []
    assert NOISE in uris(get(client, "/rest/v1/factors/search", query="s*t*ø*j")["results"])
    assert get(client, "/rest/v1/search", 400, query="x" * 501)["message"] == "query parameter is too long"


def test_search_fields_add_skos_properties(client: TestClient) -> None:
    answer = get(client, "/rest/v1/factors/search", query="støj", fields="broader prefLabel")
    hit = answer["results"][0]
    assert hit["broader"] == [{"uri": FACTORS + "5", "prefLabel": "fysisk arbejdsmiljø"}]
    assert hit["prefLabels"] == {"da": "støj", "en": "noise"}
    assert answer["@context"]["broader"] == "skos:broader"


def test_lookup_by_exact_label(client: TestClient) -> None:
    answer = get(client, "/rest/v1/factors/lookup", label="støj")
    assert uris(answer["result"]) == [NOISE] and answer["result"][0]["prefLabel"] == "støj"
    assert uris(get(client, "/rest/v1/factors/lookup", label="Støj")["result"]) == [NOISE]
    english = get(client, "/rest/v1/factors/lookup", label="noise", lang="en")
    assert english["result"][0]["prefLabel"] == "noise" and english["@context"]["@language"] == "en"
    assert uris(get(client, "/rest/v1/factors/lookup", label="EGA")["result"]) == [REPETITIVE]
    assert "støjbelastning" not in str(get(client, "/rest/v1/factors/lookup", label="støj"))
    missing = get(client, "/rest/v1/factors/lookup", 404, label="no such thing")
    assert missing["message"] == "Could not find label 'no such thing'"
    assert get(client, "/rest/v1/factors/lookup", 400)["message"] == "label parameter missing"


# -- the alphabetical index ------------------------------------------------------------------


def test_index_letters_are_in_danish_order(client: TestClient) -> None:
    letters = get(client, "/rest/v1/factors/index/")["indexLetters"]
    assert {"A", "S", "Æ", "Ø", "Å"} <= set(letters)
    assert letters[-3:] == ["Æ", "Ø", "Å"]
    assert letters == sorted(letters, key=danish_sort_key)


@pytest.mark.parametrize("letter", ["Æ", "Ø", "Å"])
def test_index_of_a_danish_letter_lists_its_concepts_in_danish_order(client: TestClient, letter: str) -> None:
    entries = get(client, f"/rest/v1/factors/index/{letter}")["indexConcepts"]
    assert entries
    filed = [e.get("altLabel") or e["prefLabel"] for e in entries]
    assert all(text[0].upper() == letter for text in filed), filed
    assert filed == sorted(filed, key=danish_sort_key)
    assert all(e["lang"] == "da" and e["uri"].startswith(FACTORS) and e["localname"] for e in entries)


def test_index_a_has_no_labels_beginning_with_aa(client: TestClient) -> None:
    entries = get(client, "/rest/v1/factors/index/A")["indexConcepts"]
    filed = [e.get("altLabel") or e["prefLabel"] for e in entries]
    assert filed and all(text[0].upper() == "A" for text in filed)
    assert not [t for t in filed if t[0] in "Åå"]
    assert get(client, "/rest/v1/factors/index/a")["indexConcepts"] == entries
    first = get(client, "/rest/v1/factors/index/A", limit="2", offset="1")["indexConcepts"]
    assert first == entries[1:3]
    english = get(client, "/rest/v1/factors/index/N", lang="en")["indexConcepts"]
    assert any(e["uri"] == NOISE and e["prefLabel"] == "noise" for e in english)


# -- one concept -----------------------------------------------------------------------------


def test_label_in_danish_and_english(client: TestClient) -> None:
    danish = get(client, "/rest/v1/factors/label", uri=NOISE, lang="da")
    assert danish["uri"] == NOISE and danish["prefLabel"] == "støj"
    assert "larm" in danish["altLabel"] and "stoej" in danish["hiddenLabel"]
    assert danish["@context"]["@language"] == "da"
    english = get(client, "/rest/v1/factors/label", uri=NOISE, lang="en")
    assert english["prefLabel"] == "noise" and "hiddenLabel" not in english
    assert get(client, "/rest/v1/label", uri=NOISE, lang="en")["prefLabel"] == "noise"  # the global method
    assert get(client, "/rest/v1/factors/label", uri=NOISE, lang="fi") == {
        "@context": danish["@context"] | {"@language": "fi"},
        "uri": NOISE,
    }
    missing = get(client, "/rest/v1/factors/label", 404, uri=FACTORS + "99.99")
    assert missing["message"] == f"Could not find concept <{FACTORS}99.99>"
    get(client, "/rest/v1/industries/label", 404, uri=NOISE)  # a concept of another vocabulary
    assert get(client, "/rest/v1/factors/label", 400)["message"] == "uri parameter missing"


def test_broader_narrower_related_and_children(client: TestClient) -> None:
    broader = get(client, "/rest/v1/factors/broader", uri=LIFTING, lang="en")
    assert broader["broader"] == [{"uri": FACTORS + "1.1", "prefLabel": "manual handling"}]
    narrower = get(client, "/rest/v1/factors/narrower", uri=FACTORS + "1.1")["narrower"]
    assert LIFTING in uris(narrower)
    assert get(client, "/rest/v1/factors/related", uri=LIFTING)["related"]
    children = get(client, "/rest/v1/factors/children", uri=NOISE)["narrower"]
    assert [c["notation"] for c in children] == sorted((c["notation"] for c in children), key=lambda n: n.split("."))
    assert all(c["hasChildren"] is False and c["prefLabel"] for c in children)
    get(client, "/rest/v1/factors/children", 404, uri=FACTORS + "nope")


def test_transitive_broader_and_narrower(client: TestClient) -> None:
    answer = get(client, "/rest/v1/factors/broaderTransitive", uri=LIFTING)
    chain = answer["broaderTransitive"]
    assert set(chain) == {LIFTING, FACTORS + "1.1", FACTORS + "1"}
    assert chain[LIFTING] == {"uri": LIFTING, "prefLabel": "løft", "broader": [FACTORS + "1.1"]}
    assert chain[FACTORS + "1.1"]["broader"] == [FACTORS + "1"]
    assert "broader" not in chain[FACTORS + "1"]
    assert answer["@context"]["broaderTransitive"] == {"@id": "skos:broaderTransitive", "@container": "@index"}
    below = get(client, "/rest/v1/factors/narrowerTransitive", uri=FACTORS + "1.1")["narrowerTransitive"]
    assert LIFTING in below and LIFTING in below[FACTORS + "1.1"]["narrower"]
    assert "narrower" not in below[LIFTING]
    assert (
        len(get(client, "/rest/v1/factors/narrowerTransitive", uri=FACTORS + "1", limit="2")["narrowerTransitive"]) == 2
    )
    get(client, "/rest/v1/factors/broaderTransitive", 400, uri=LIFTING, limit="0")
    get(client, "/rest/v1/factors/broaderTransitive", 404, uri=FACTORS + "nope")


def test_hierarchy_of_a_third_level_factor_includes_its_ancestors(client: TestClient) -> None:
    tree = get(client, "/rest/v1/factors/hierarchy", uri=LIFTING, lang="en")["broaderTransitive"]
    assert set(tree) == {FACTORS + "1", FACTORS + "1.1", LIFTING}
    top = tree[FACTORS + "1"]
    assert top["top"] == BASE + "vocab/factors" and top["prefLabel"] == "ergonomic work environment"
    assert FACTORS + "1.1" in uris(top["narrower"])
    siblings = tree[FACTORS + "1.1"]["narrower"]
    assert {"uri": LIFTING, "label": "lifting", "hasChildren": False, "notation": "1.1.1"} in siblings
    assert tree[LIFTING]["broader"] == [FACTORS + "1.1"] and tree[LIFTING]["hasChildren"] is False


def test_data_as_turtle_and_json_ld_parses(client: TestClient) -> None:
    response = get(client, "/rest/v1/data", uri=NOISE, format="text/turtle")
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    graph = triples(response.content, ox.RdfFormat.TURTLE)
    noise = ox.NamedNode(NOISE)
    assert ox.Triple(noise, ox.NamedNode(ox_skos("prefLabel")), ox.Literal("støj", language="da")) in graph
    assert ox.Triple(ox.NamedNode(FACTORS + "5"), ox.NamedNode(ox_skos("narrower")), noise) in graph
    jsonld = get(client, "/rest/v1/factors/data", uri=NOISE, format="application/ld+json")
    assert jsonld.headers["content-type"] == "application/ld+json; charset=utf-8"
    assert set(triples(jsonld.content, ox.RdfFormat.JSON_LD)) == set(graph)
    rdfxml = client.get("/rest/v1/factors/data", params={"uri": NOISE}, headers={"Accept": "application/rdf+xml"})
    assert set(triples(rdfxml.content, ox.RdfFormat.RDF_XML)) == set(graph)
    assert get(client, "/rest/v1/data", 406, uri=NOISE, format="text/html")["error"] == "Not Acceptable"
    assert get(client, "/rest/v1/data", 400)["message"] == "uri parameter missing"
    get(client, "/rest/v1/data", 404, uri=FACTORS + "nope")
    whole = client.get("/rest/v1/factors/data", params={"format": "text/turtle"}, follow_redirects=False)
    assert whole.status_code == 302 and whole.headers["location"] == "/vocab/factors.ttl"


def triples(data: bytes, rdf_format: ox.RdfFormat) -> list[ox.Triple]:
    return [quad.triple for quad in ox.parse(data, format=rdf_format)]


def ox_skos(name: str) -> str:
    return "http://www.w3.org/2004/02/skos/core#" + name


def test_mappings_of_an_industry_give_its_nace_equivalent(client: TestClient) -> None:
    answer = get(client, "/rest/v1/industries/mappings", uri=INDUSTRIES + "01", lang="en")
    exact = [m for m in answer["mappings"] if m["type"] == ["skos:exactMatch"]]
    assert [m["to"]["memberSet"][0]["uri"] for m in exact] == [NACE + "01"]
    assert exact[0]["from"]["memberSet"][0]["uri"] == INDUSTRIES + "01"
    assert exact[0]["fromScheme"] == {"uri": BASE + "vocab/industries"}
    assert exact[0]["typeLabel"] == "Exactly matching concepts"
    assert isinstance(answer["graph"], str) and INDUSTRIES + "01" in answer["graph"]
    close = get(client, "/rest/v1/branchegrupper/mappings", uri=BASE + "vocab/branchegrupper/01.01")["mappings"]
    assert close[0]["type"] == ["skos:closeMatch"] and close[0]["toScheme"] == {"uri": BASE + "vocab/industries"}
    assert close[0]["to"]["memberSet"][0]["prefLabel"] == {"da": close[0]["prefLabel"]}


# -- vocabulary-wide methods -----------------------------------------------------------------


def test_statistics_types_and_groups(client: TestClient) -> None:
    stats = get(client, "/rest/v1/factors/vocabularyStatistics", lang="en")
    count = stats["concepts"]["count"]
    assert stats["concepts"]["class"] == ox_skos("Concept") and stats["concepts"]["label"] == "Concept"
    assert count > 300 and stats["concepts"]["deprecatedCount"] == 0
    labels = {entry["language"]: entry for entry in get(client, "/rest/v1/factors/labelStatistics")["languages"]}
    assert set(labels) == {"da", "en"} and labels["da"]["literal"] == "dansk"
    prefs = {p["property"]: p["labels"] for p in labels["da"]["properties"]}
    assert prefs["skos:prefLabel"] == count and prefs["skos:hiddenLabel"] > 0
    kinds = get(client, "/rest/v1/types", lang="en")["types"]
    assert {"uri": ox_skos("Concept"), "label": "Concept"} in kinds
    assert get(client, "/rest/v1/types", 400)["message"] == "lang parameter missing"
    assert get(client, "/rest/v1/factors/types")["types"]
    assert get(client, "/rest/v1/factors/groups")["groups"] == []
    assert get(client, "/rest/v1/factors/groupMembers", 404, uri=NOISE)["error"] == "Not Found"


def test_change_lists_are_empty_without_dates(client: TestClient) -> None:
    assert get(client, "/rest/v1/factors/new")["changeList"] == []
    assert get(client, "/rest/v1/factors/modified", lang="en")["changeList"] == []


def test_new_and_modified_concepts_come_newest_first(data_dir: Path) -> None:
    settings = make_settings(data_dir)
    with open_services(settings, embedded_only=True) as services:
        services.store.update(
            f"""PREFIX dct: <http://purl.org/dc/terms/>
            PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
            INSERT DATA {{ GRAPH <{BASE}vocab/factors> {{
              <{NOISE}> dct:created "2025-03-02"^^xsd:date .
              <{LIFTING}> dct:created "2025-05-20T10:00:00Z"^^xsd:dateTime .
              <{REPETITIVE}> dct:created "2025-05-01"^^xsd:date ; dct:modified "2026-01-15"^^xsd:date .
            }} }}"""
        )
    with TestClient(create_app(settings)) as client:
        new = get(client, "/rest/v1/factors/new", lang="en")["changeList"]
        # Newest month first; within a month by label ("lifting" before "repetitive work").
        assert [c["uri"] for c in new] == [LIFTING, REPETITIVE, NOISE]
        assert new[0]["date"] == "2025-05-20T10:00:00+0000"
        assert new[-1] == {"uri": NOISE, "prefLabel": "noise", "date": "2025-03-02T00:00:00+0000", "deprecated": False}
        assert get(client, "/rest/v1/factors/new", lang="en", limit="1", offset="1")["changeList"] == new[1:2]
        modified = get(client, "/rest/v1/factors/modified")["changeList"]
        assert [(c["uri"], c["prefLabel"]) for c in modified] == [(REPETITIVE, "ensidigt gentaget arbejde")]


# -- errors and bad input --------------------------------------------------------------------


def test_unknown_vocabulary_method_or_concept_is_a_json_404(client: TestClient) -> None:
    for path in ("/rest/v1/nope/", "/rest/v1/nope/topConcepts", "/rest/v1/nope/whatever"):
        answer = get(client, path, 404)
        assert answer == {"status": 404, "error": "Not Found", "message": "Vocabulary id 'nope' not found."}
    assert get(client, "/rest/v1/factors/whatever", 404)["status"] == 404
    assert get(client, "/rest/v1/", 404)["status"] == 404
    assert get(client, "/rest/v1/factors/broader", 404, uri=INDUSTRIES + "01")["status"] == 404


def test_json_ld_accept_and_jsonp(client: TestClient) -> None:
    response = client.get("/rest/v1/vocabularies?lang=da", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"] == "application/ld+json; charset=utf-8"
    assert response.headers["vary"] == "Accept"
    jsonp = client.get("/rest/v1/vocabularies", params={"lang": "da", "callback": "show"})
    assert jsonp.headers["content-type"].startswith("application/javascript")
    assert jsonp.text.startswith('show({"@context"') and jsonp.text.endswith(");")
    assert get(client, "/rest/v1/vocabularies", 400, lang="da", callback="alert(1)//")["status"] == 400


INJECTIONS = [
    '"} DROP ALL ; #',
    "'} ; DROP GRAPH <https://w3id.org/arbejdsmiljoviden/vocab/factors> ; #",
    "<script>alert(1)</script>",
    "> } DELETE WHERE { ?s ?p ?o } #",
    "\\",
    '*"}*',
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_injection_attempts_do_no_harm(client: TestClient, payload: str) -> None:
    requests = [
        ("/rest/v1/search", {"query": payload}),
        ("/rest/v1/factors/search", {"query": payload, "lang": "da", "fields": payload, "type": payload}),
        ("/rest/v1/factors/search", {"query": "støj", "lang": payload}),
        ("/rest/v1/factors/search", {"query": "*", "parent": payload}),
        ("/rest/v1/factors/lookup", {"label": payload}),
        ("/rest/v1/factors/label", {"uri": payload}),
        ("/rest/v1/label", {"uri": payload}),
        ("/rest/v1/factors/hierarchy", {"uri": payload}),
        ("/rest/v1/factors/broaderTransitive", {"uri": FACTORS + payload}),
        ("/rest/v1/factors/mappings", {"uri": payload}),
        ("/rest/v1/factors/data", {"uri": payload, "format": "text/turtle"}),
        ("/rest/v1/factors/topConcepts", {"scheme": payload}),
        ("/rest/v1/factors/new", {"lang": payload}),
        ("/rest/v1/factors/groupMembers", {"uri": payload}),
        ("/rest/v1/vocabularies", {"lang": payload}),
        (f"/rest/v1/factors/index/{payload.replace('/', '')}", {}),
    ]
    for path, params in requests:
        response = client.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text)
        assert response.headers["content-type"].startswith("application/json"), (path, params)
    # Nothing was executed: the vocabularies are all still there.
    assert len(get(client, "/rest/v1/factors/topConcepts")["topconcepts"]) == 7
    assert get(client, "/rest/v1/factors/label", uri=NOISE)["prefLabel"] == "støj"
