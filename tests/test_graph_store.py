"""The Graph Store HTTP Protocol on our data: tokens, record rules, publishing and withdrawing records,
formats and protocol errors (the W3C suite in test_w3c_conformance.py covers the protocol itself)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role
from graph.iris import mint_id
from tests.conftest import bearer as token
from tests.records_util import pending_submission

BASE = "https://w3id.org/arbejdsmiljoviden/"
DCT = "http://purl.org/dc/terms/"
AMV = BASE + "ontology#"
NOTES = "https://example.org/notes"
TURTLE = {"Content-Type": "text/turtle; charset=utf-8"}


@pytest.fixture
def client(served_client: TestClient) -> TestClient:
    return served_client


def page_of(iri: str) -> str:
    return "/" + iri.removeprefix(BASE)


def a_problem(client: TestClient) -> str:
    query = f"SELECT ?p WHERE {{ ?p a <{AMV}Problem> }} ORDER BY ?p LIMIT 1"
    return str(client.get("/sparql", params={"query": query}).json()["results"]["bindings"][0]["p"]["value"])


def graph_triples(client: TestClient, iri: str) -> set[ox.Triple]:
    response = client.get("/rdf-graph-store", params={"graph": iri}, headers={"Accept": "application/n-triples"})
    assert response.status_code == 200, response.text
    return {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)}


def turtle(triples: set[ox.Triple] | list[ox.Triple]) -> bytes:
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE)


def renamed(triples: set[ox.Triple], old: str, new: str) -> list[ox.Triple]:
    swap = {ox.NamedNode(old): ox.NamedNode(new)}
    return [ox.Triple(swap.get(t.subject, t.subject), t.predicate, swap.get(t.object, t.object)) for t in triples]  # type: ignore[arg-type]


def titled(triples: list[ox.Triple], subject: str, title: str) -> list[ox.Triple]:
    node = ox.NamedNode(subject)
    kept = [t for t in triples if not (t.subject == node and t.predicate == ox.NamedNode(DCT + "title"))]
    return kept + [ox.Triple(node, ox.NamedNode(DCT + "title"), ox.Literal(title, language="da"))]


def test_writes_need_an_editor_token_and_change_nothing_without_one(client: TestClient) -> None:
    body = b"<https://example.org/a> <https://example.org/b> 'c' ."
    url = f"/rdf-graph-store?graph={NOTES}"
    for method in ("PUT", "POST", "DELETE"):
        anonymous = client.request(method, url, content=body, headers=TURTLE)
        assert anonymous.status_code == 401 and "Bearer" in anonymous.headers["www-authenticate"]
        wrong = client.request(method, url, content=body, headers={**TURTLE, "Authorization": "Bearer amv_x_y"})
        assert wrong.status_code == 401
        contributor = client.request(method, url, content=body, headers={**TURTLE, **token(client, Role.contributor)})
        assert contributor.status_code == 403 and "editor" in contributor.text
    assert client.get(url).status_code == 404
    created = client.put(url, content=body, headers={**TURTLE, **token(client, Role.editor)})
    assert created.status_code == 201, created.text
    assert client.get(url).status_code == 200  # reads need no token


def test_get_of_a_record_graph_gives_its_triples_in_turtle(client: TestClient) -> None:
    problem = a_problem(client)
    response = client.get("/rdf-graph-store", params={"graph": problem}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/turtle; charset=utf-8"
    triples = {q.triple for q in ox.parse(response.content, format=ox.RdfFormat.TURTLE)}
    services = client.app.state.services  # type: ignore[attr-defined]
    assert triples == set(services.store.graph_triples(ox.NamedNode(problem)))
    assert (
        ox.Triple(
            ox.NamedNode(problem),
            ox.NamedNode(ox.NamedNode(DCT + "title").value),
            next(t.object for t in triples if t.predicate == ox.NamedNode(DCT + "title")),
        )
        in triples
    )
    head = client.head("/rdf-graph-store", params={"graph": problem}, headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"] == "text/turtle; charset=utf-8"
    assert head.headers["content-length"] == str(len(response.content))


def test_a_put_of_a_broken_record_graph_is_refused_and_changes_nothing(client: TestClient) -> None:
    problem = a_problem(client)
    before = graph_triples(client, problem)
    broken = [t for t in before if t.predicate != ox.NamedNode(AMV + "factor")]
    response = client.put(
        "/rdf-graph-store",
        params={"graph": problem},
        content=turtle(broken),
        headers={**TURTLE, **token(client, Role.editor)},
    )
    assert response.status_code == 422
    report = response.json()
    assert "nothing was changed" in report["error"]
    assert any(v["field"] == "amv:factor" and v["focus"] == problem for v in report["violations"])
    assert graph_triples(client, problem) == before
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.ledger.history(problem)[-1].agent != "token:test-editor"


def test_a_record_graph_holding_another_resource_is_refused(client: TestClient) -> None:
    problem = a_problem(client)
    before = graph_triples(client, problem)
    extra = ox.Triple(ox.NamedNode("https://example.org/stray"), ox.NamedNode(DCT + "title"), ox.Literal("x"))
    response = client.put(
        "/rdf-graph-store",
        params={"graph": problem},
        content=turtle([*before, extra]),
        headers={**TURTLE, **token(client, Role.editor)},
    )
    assert response.status_code == 422
    assert graph_triples(client, problem) == before


def test_a_put_of_a_valid_record_graph_publishes_it(client: TestClient) -> None:
    problem = a_problem(client)
    new = f"{BASE}id/problem/{mint_id()}"
    assert client.get(page_of(new)).status_code == 404
    triples = titled(renamed(graph_triples(client, problem), problem, new), new, "Støj fra nyt værktøj")
    editor = token(client, Role.editor)
    created = client.put(
        "/rdf-graph-store", params={"graph": new}, content=turtle(triples), headers={**TURTLE, **editor}
    )
    assert created.status_code == 201, created.text
    page = client.get(page_of(new))
    assert page.status_code == 200 and "Støj fra nyt værktøj" in page.text
    services = client.app.state.services  # type: ignore[attr-defined]
    entry = services.ledger.get(new)
    assert entry.status.value == "published" and entry.source == "graph-store"
    assert services.ledger.history(new)[-1].agent == "token:test-editor"

    replaced = client.put(
        "/rdf-graph-store",
        params={"graph": new},
        content=turtle(titled(triples, new, "Støj fra gammelt værktøj")),
        headers={**TURTLE, **editor},
    )
    assert replaced.status_code == 204
    page = client.get(page_of(new))
    assert "Støj fra gammelt værktøj" in page.text and "Støj fra nyt værktøj" not in page.text


def test_a_post_merges_into_a_record_and_is_validated_too(client: TestClient) -> None:
    problem = a_problem(client)
    editor = token(client, Role.editor)
    english = f'<{problem}> <{DCT}description> "Another English description"@en .'.encode()
    merged = client.post(
        "/rdf-graph-store",
        params={"graph": problem},
        content=english,
        headers={"Content-Type": "application/n-triples", **editor},
    )
    assert merged.status_code == 204, merged.text
    assert "Another English description" in client.get("/rdf-graph-store", params={"graph": problem}).text
    bad = f'<{problem}> <{AMV}factor> "not a concept" .'.encode()
    refused = client.post(
        "/rdf-graph-store",
        params={"graph": problem},
        content=bad,
        headers={"Content-Type": "application/n-triples", **editor},
    )
    assert refused.status_code == 422
    assert "not a concept" not in client.get("/rdf-graph-store", params={"graph": problem}).text


def test_delete_of_a_record_graph_withdraws_the_record(client: TestClient) -> None:
    problem = a_problem(client)
    response = client.delete("/rdf-graph-store", params={"graph": problem}, headers=token(client, Role.editor))
    assert response.status_code == 204
    assert client.get(page_of(problem)).status_code == 410
    assert client.get("/rdf-graph-store", params={"graph": problem}).status_code == 410
    services = client.app.state.services  # type: ignore[attr-defined]
    assert services.ledger.get(problem).status.value == "withdrawn"


def test_pending_records_cannot_be_written_or_seen(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    iri = f"{BASE}id/problem/p3nd1ngx"
    pending_submission(services, iri)
    assert client.get("/rdf-graph-store", params={"graph": iri}).status_code == 404
    body = f'<{iri}> <{DCT}title> "x"@da .'.encode()
    response = client.put(
        "/rdf-graph-store", params={"graph": iri}, content=body, headers={**TURTLE, **token(client, Role.editor)}
    )
    assert response.status_code == 409
    assert client.get("/rdf-graph-store", params={"graph": iri}).status_code == 404


def test_json_ld_round_trip_with_our_published_context(client: TestClient) -> None:
    problem = a_problem(client)
    document = client.get("/rdf-graph-store", params={"graph": problem}, headers={"Accept": "application/ld+json"})
    assert document.status_code == 200 and document.json()["@context"].endswith("/context.jsonld")
    before = graph_triples(client, problem)
    response = client.put(
        "/rdf-graph-store",
        params={"graph": problem},
        content=document.content,
        headers={"Content-Type": "application/ld+json", **token(client, Role.editor)},
    )
    assert response.status_code == 204, response.text
    modified = ox.NamedNode(DCT + "modified")
    assert {t for t in graph_triples(client, problem) if t.predicate != modified} == {
        t for t in before if t.predicate != modified
    }


def test_multipart_with_one_bad_part_changes_nothing(client: TestClient) -> None:
    editor = token(client, Role.editor)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="a"; filename="a.ttl"\r\nContent-Type: text/turtle\r\n\r\n'
        b'<https://example.org/a> <https://example.org/p> "\xc3\xa6\xc3\xb8\xc3\xa5" .\r\n'
        b'--b\r\nContent-Disposition: form-data; name="b"; filename="b.nt"\r\n\r\n'
        b"<https://example.org/a> <https://example.org/q> .\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b", **editor}
    bad = client.post("/rdf-graph-store", params={"graph": NOTES}, content=body, headers=headers)
    assert bad.status_code == 400 and "Part 2 (b.nt)" in bad.text
    assert client.get("/rdf-graph-store", params={"graph": NOTES}).status_code == 404
    good = client.post(
        "/rdf-graph-store", params={"graph": NOTES}, content=body.replace(b"/q> .", b'/q> "1" .'), headers=headers
    )
    assert good.status_code == 201, good.text
    text = client.get("/rdf-graph-store", params={"graph": NOTES}, headers={"Accept": "application/n-triples"}).text
    assert '"æøå"' in text and '<https://example.org/q> "1"' in text


def test_direct_identification_and_graph_creation(client: TestClient) -> None:
    editor = token(client, Role.editor)
    body = b"<https://example.org/a> <https://example.org/b> <https://example.org/c> ."
    put = client.put("/rdf-graph-store/notes/1", content=body, headers={**TURTLE, **editor})
    assert put.status_code == 201
    same = client.get("/rdf-graph-store", params={"graph": "http://testserver/rdf-graph-store/notes/1"})
    assert same.status_code == 200 and "https://example.org/c" in same.text
    post = client.post("/rdf-graph-store", content=body, headers={**TURTLE, **editor})
    assert post.status_code == 201
    location = post.headers["location"]
    assert location.startswith("http://testserver/rdf-graph-store/")
    assert client.get(location.removeprefix("http://testserver")).status_code == 200
    quads = client.get(location.removeprefix("http://testserver"), headers={"Accept": "application/n-quads"})
    assert f"<{location}> ." in quads.text


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "status"),
    [
        ("GET", "/rdf-graph-store", {}, None, 400),
        ("GET", "/rdf-graph-store?graph=not%20an%20iri", {}, None, 400),
        ("GET", "/rdf-graph-store?graph=https://example.org/a&graph=https://example.org/b", {}, None, 400),
        ("GET", "/rdf-graph-store?graph=https://example.org/a&default", {}, None, 400),
        ("GET", "/rdf-graph-store/x?graph=https://example.org/a", {}, None, 400),
        ("GET", "/rdf-graph-store?graph=https://example.org/never", {}, None, 404),
        ("GET", "/rdf-graph-store?default", {"Accept": "text/csv"}, None, 406),
        ("PUT", "/rdf-graph-store?graph=https://example.org/n", {"Content-Type": "text/csv"}, b"a,b", 415),
        ("PUT", "/rdf-graph-store?graph=https://example.org/n", {}, b"<a> <b> <c> .", 415),
        ("PUT", "/rdf-graph-store?graph=https://example.org/n", TURTLE, b'<https://e.org/a> <https://e.org/b> "x', 400),
        ("PUT", "/rdf-graph-store?graph=https://example.org/n", TURTLE, b'"}<script>', 400),
        (
            "PUT",
            "/rdf-graph-store?graph=https://example.org/n",
            {"Content-Type": "application/n-quads"},
            b"<https://e.org/a> <https://e.org/b> <https://e.org/c> <https://e.org/g> .",
            400,
        ),
        ("PUT", "/rdf-graph-store", TURTLE, b"", 400),
        (
            "PUT",
            "/rdf-graph-store?graph=https://example.org/n",
            {"Content-Type": "application/rdf+xml"},
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><r>&b;</r>',
            400,
        ),
        ("DELETE", "/rdf-graph-store?graph=https://example.org/never", {}, None, 404),
        ("PATCH", "/rdf-graph-store?default", {}, b"", 405),
    ],
)
def test_protocol_errors_are_clear_4xx(
    client: TestClient, method: str, url: str, headers: dict[str, str], body: bytes | None, status: int
) -> None:
    if method in ("PUT", "POST", "DELETE"):
        headers = {**headers, **token(client, Role.editor)}
    response = client.request(method, url, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.text.strip() or method == "PATCH"


def test_parser_message_names_the_line(client: TestClient) -> None:
    response = client.put(
        "/rdf-graph-store",
        params={"graph": NOTES},
        content=b"<https://e.org/a> <https://e.org/b> <https://e.org/c> .\n<https://e.org/a> <https://e.org/b> .",
        headers={**TURTLE, **token(client, Role.editor)},
    )
    assert response.status_code == 400 and "line 2" in response.text


def test_the_default_graph_is_the_stores_own(client: TestClient) -> None:
    editor = token(client, Role.editor)
    empty = client.get("/rdf-graph-store?default", headers={"Accept": "application/n-triples"})
    assert empty.status_code == 200 and empty.text.strip() == ""
    body = b"<https://example.org/d> <https://example.org/p> 1 ."
    assert client.put("/rdf-graph-store?default", content=body, headers={**TURTLE, **editor}).status_code == 204
    text = client.get("/rdf-graph-store?default", headers={"Accept": "application/n-triples"}).text
    assert (
        text.strip()
        == '<https://example.org/d> <https://example.org/p> "1"^^<http://www.w3.org/2001/XMLSchema#integer> .'
    )
    # Queries see the union of every graph, the default graph included.
    ask = client.get("/sparql", params={"query": "ASK { <https://example.org/d> ?p ?o }"})
    assert json.loads(ask.text)["boolean"] is True
    assert client.delete("/rdf-graph-store?default", headers=editor).status_code == 204
    assert client.get("/rdf-graph-store?default", headers={"Accept": "application/n-triples"}).text.strip() == ""
