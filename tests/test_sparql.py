"""The public SPARQL endpoint: protocol, formats, the guard against outbound access, limits."""

from __future__ import annotations

import concurrent.futures
import csv
import html
import io
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings

AMV = "https://w3id.org/arbejdsmiljoviden/ontology#"
COUNT_PROBLEMS = f"SELECT (COUNT(?p) AS ?n) WHERE {{ ?p a <{AMV}Problem> }}"
CARTESIAN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def server_dir(tmp_path_factory: pytest.TempPathFactory, initialised_dir: Path) -> Path:
    import shutil

    target = tmp_path_factory.mktemp("sparql") / "data"
    shutil.copytree(initialised_dir, target)
    return target


@pytest.fixture(scope="module")
def client(server_dir: Path) -> Iterator[TestClient]:
    settings = replace(make_settings(server_dir), query_timeout=3.0, result_limit=50)
    with ManagedStoreServer(settings) as server, TestClient(create_app(replace(settings, store_url=server.url))) as c:
        yield c


def solutions(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    data = response.json()
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def test_get_post_form_and_post_direct_give_the_same_answer(client: TestClient) -> None:
    by_get = client.get("/sparql", params={"query": COUNT_PROBLEMS})
    by_form = client.post("/sparql", data={"query": COUNT_PROBLEMS})
    by_direct = client.post("/sparql", content=COUNT_PROBLEMS, headers={"Content-Type": "application/sparql-query"})
    for response in (by_get, by_form, by_direct):
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/sparql-results+json")
        # what every answer gets (api.middleware.ServiceHeaders)
        assert (
            response.headers["x-request-id"] and "frame-ancestors 'none'" in response.headers["content-security-policy"]
        )
    assert solutions(by_get) == solutions(by_form) == solutions(by_direct)
    assert int(solutions(by_get)[0]["n"]) >= 20


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("application/json", "application/sparql-results+json"),
    ],
)
def test_select_result_formats_by_accept(client: TestClient, accept: str, media_type: str) -> None:
    response = client.get("/sparql", params={"query": COUNT_PROBLEMS}, headers={"Accept": accept})
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    if media_type == "text/csv":
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows[0] == ["n"] and int(rows[1][0]) >= 20


def test_format_parameter_for_browsers(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": COUNT_PROBLEMS, "format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert client.get("/sparql", params={"query": COUNT_PROBLEMS, "format": "nonsense"}).status_code == 400


@pytest.mark.parametrize(
    ("accept", "rdf_format"),
    [
        ("text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_construct_and_describe_return_rdf(client: TestClient, accept: str, rdf_format: ox.RdfFormat) -> None:
    construct = (
        "CONSTRUCT { ?c ?p ?o } WHERE { ?c ?p ?o FILTER(?c = <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1>) }"
    )
    for query in (construct, "DESCRIBE <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1>"):
        response = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and response.headers["content-type"].startswith(accept)
        triples = list(ox.parse(response.content, format=rdf_format))
        assert any(q.object == ox.Literal("støj", language="da") for q in triples)


def test_construct_as_jsonld(client: TestClient) -> None:
    query = "DESCRIBE <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1>"
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/ld+json"})
    assert response.status_code == 200 and "@context" in response.json()


def test_ask(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": f"ASK {{ ?x a <{AMV}Actor> }}"})
    assert response.json() == {"head": {}, "boolean": True}


def test_protocol_errors(client: TestClient) -> None:
    syntax = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p "})
    assert syntax.status_code == 400 and "error" in syntax.text.lower()
    assert client.post("/sparql", content="ASK {}", headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.put("/sparql", content="ASK {}").status_code == 405
    assert client.head("/sparql").status_code == 405
    too_big = client.post("/sparql", content="#" * 20_000_001, headers={"Content-Type": "application/sparql-query"})
    assert too_big.status_code == 413
    assert client.get("/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D").status_code == 400
    non_utf8 = client.post(
        "/sparql",
        content="ASK {}".encode("utf-16"),
        headers={"Content-Type": "application/sparql-query; charset=UTF-16"},
    )
    assert non_utf8.status_code in (400, 415)
    assert client.get("/sparql", params={"update": "CLEAR ALL"}).status_code == 400


@pytest.mark.parametrize(
    "query",
    [
        "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "select * where { service <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
        "PREFIX s: <http://x/>\nSELECT * WHERE { # harmless comment\n SeRvIcE\n<http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { SERVICE SILENT <http://127.0.0.1:9/> { ?s ?p ?o } }",
        "SELECT * WHERE { OPTIONAL { SERVICE ?endpoint { ?s ?p ?o } } VALUES ?endpoint { <http://127.0.0.1:9/> } }",
    ],
)
def test_service_is_refused_before_evaluation(client: TestClient, query: str) -> None:
    response = client.get("/sparql", params={"query": query})
    assert response.status_code == 403 and "SERVICE" in response.text


def test_the_word_service_in_strings_comments_and_names_is_fine(client: TestClient) -> None:
    query = 'PREFIX service: <http://x/>\nSELECT ?s WHERE { ?s ?p "SERVICE" . # SERVICE <http://a/>\n} LIMIT 1'
    assert client.get("/sparql", params={"query": query}).status_code == 200


def test_result_rows_are_capped_and_the_cap_is_signalled(client: TestClient) -> None:
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert response.status_code == 200
    assert len(solutions(response)) == 50
    assert response.headers["x-result-truncated"] == "50"
    small = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 3"})
    assert len(solutions(small)) == 3 and "x-result-truncated" not in small.headers


def test_a_cartesian_product_is_stopped_while_pages_and_small_queries_keep_answering(client: TestClient) -> None:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        bomb = pool.submit(client.get, "/sparql", params={"query": CARTESIAN})
        time.sleep(0.3)
        while not bomb.done():
            t = time.monotonic()
            assert client.get("/sparql", params={"query": COUNT_PROBLEMS}).status_code == 200
            assert client.get("/vocab/factors/5.1").status_code == 200
            assert time.monotonic() - t < 1.0
            time.sleep(0.2)
        response = bomb.result()
        elapsed = time.monotonic() - started
    assert response.status_code == 503 and "time limit of 3 seconds" in response.text
    assert elapsed < 10


def test_pending_records_are_invisible_through_any_dataset(client: TestClient) -> None:
    from graph.submissions import record_from_json

    services = client.app.state.services  # type: ignore[attr-defined]
    iri = "https://w3id.org/arbejdsmiljoviden/id/problem/p3nd1ngx"
    # A real submission waiting for review (the ledger holds it; the store must not).
    record = record_from_json(
        {
            "type": "problem",
            "id": "p3nd1ngx",
            "title": {"da": "Hemmelig"},
            "description": {"da": "x"},
            "factors": ["5.1"],
        },
        services.iris,
    )
    submission, _ = services.submissions.submit(record, agent="token:test")
    assert submission.status.value == "pending" and submission.iri == iri
    for query in (
        f"ASK {{ <{iri}> ?p ?o }}",
        f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}",
        'ASK { GRAPH ?g { ?s ?p "Hemmelig" } }',
    ):
        assert client.get("/sparql", params={"query": query}).json()["boolean"] is False
    response = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": iri})
    assert solutions(response) == []


def test_default_and_named_graph_parameters(client: TestClient) -> None:
    scheme = "https://w3id.org/arbejdsmiljoviden/vocab/certainty"
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    only_certainty = client.get("/sparql", params={"query": query, "default-graph-uri": scheme})
    everything = client.get("/sparql", params={"query": query})
    assert 10 < int(solutions(only_certainty)[0]["n"]) < int(solutions(everything)[0]["n"])
    named = client.get(
        "/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": scheme}
    )
    assert solutions(named) == [{"g": scheme}]


def test_service_description(client: TestClient) -> None:
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    triples = list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert any(q.predicate.value == sd + "endpoint" for q in triples)
    assert any(q.object.value == sd + "UnionDefaultGraph" for q in triples)


def test_sparqlwrapper_and_rdflib_sparqlstore_against_the_running_server(server_dir: Path, tmp_path: Path) -> None:
    import shutil

    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore
    from SPARQLWrapper import JSON, SPARQLWrapper

    from graph.store_server import free_port
    from tests.serve_util import start_serve

    data_dir = tmp_path / "data"
    shutil.copytree(server_dir, data_dir)
    port = free_port()
    serve = start_serve(data_dir, port)
    try:
        endpoint = f"http://127.0.0.1:{port}/sparql"
        wrapper = SPARQLWrapper(endpoint)
        wrapper.setQuery(COUNT_PROBLEMS)
        wrapper.setReturnFormat(JSON)
        result = wrapper.query().convert()
        assert int(result["results"]["bindings"][0]["n"]["value"]) >= 20  # type: ignore[index, call-overload]

        graph = rdflib.Graph(store=SPARQLStore(endpoint))
        labels = {
            str(row[0])
            for row in graph.query(
                "SELECT ?l WHERE { <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> "
                "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }"
            )
        }
        assert "støj" in labels
    finally:
        serve.terminate()
        serve.wait(timeout=30)


def test_json_is_valid_even_for_awkward_literals(client: TestClient) -> None:
    query = 'SELECT ?x WHERE { BIND("<script>\\"x\\"</script>"@da AS ?x) }'
    response = client.get("/sparql", params={"query": query})
    assert json.loads(response.text)["results"]["bindings"][0]["x"]["value"] == '<script>"x"</script>'


def test_the_html_result_page_offers_downloads_in_every_format(client: TestClient) -> None:
    page = client.get("/sparql", params={"query": COUNT_PROBLEMS}, headers={"Accept": "text/html"})
    assert page.status_code == 200 and "<table" in page.text
    links = re.findall(r'<a href="(/sparql\?[^"]+)" download>', page.text)
    formats = {urllib.parse.parse_qs(urllib.parse.urlparse(html.unescape(link)).query)["format"][0] for link in links}
    assert formats == {"json", "xml", "csv", "tsv"}
    for link in links:
        assert client.get(html.unescape(link)).status_code == 200


def threads_of(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="thread counts are read from /proc (Linux)")
def test_public_queries_wait_while_the_store_server_has_too_many_threads(initialised_dir: Path, tmp_path: Path) -> None:
    """`oxigraph serve --timeout-s` keeps a thread per query alive for the whole limit; past the budget the
    public is asked to come back in a second, while pages go on."""
    import shutil

    shutil.copytree(initialised_dir, tmp_path / "data")
    settings = replace(make_settings(tmp_path / "data"), query_timeout=1.0)
    lookup = {"query": "SELECT ?label WHERE { <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> ?p ?label }"}
    with (
        ManagedStoreServer(settings) as server,
        TestClient(create_app(replace(settings, store_url=server.url))) as client,
    ):
        assert server.process is not None
        assert client.get("/sparql", params=lookup).status_code == 200
        time.sleep(1.5)  # the query's time-limit thread has ended
        client.app.state.public_sparql.store_threads.budget = threads_of(server.process.pid) + 10  # type: ignore[attr-defined]
        answers = []
        while len(answers) < 1000 and (not answers or answers[-1].status_code == 200):
            answers.append(client.get("/sparql", params=lookup))
        refused = answers[-1]
        assert refused.status_code == 503, [a.status_code for a in answers[-3:]]
        assert len(answers) > 10  # the budget's worth of queries were answered first
        assert refused.headers["retry-after"] == "1"
        assert "too many queries in flight" in refused.text
        page = client.get("/vocab/factors/5.1", headers={"Cache-Control": "no-cache"})
        assert page.status_code == 200 and "støj" in page.text
        deadline = time.monotonic() + 10
        while client.get("/sparql", params=lookup).status_code != 200:  # the threads end with their limit
            assert time.monotonic() < deadline
            time.sleep(0.2)
