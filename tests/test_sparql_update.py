"""SPARQL Update for editors: tokens and roles, validation of record graphs, refusal changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role
from tests.conftest import bearer as token
from tests.records_util import pending_submission

DCT = "http://purl.org/dc/terms/"
AMV = "https://w3id.org/arbejdsmiljoviden/ontology#"


@pytest.fixture
def client(served_client: TestClient) -> TestClient:
    return served_client


def ask(client: TestClient, query: str) -> bool:
    return bool(client.get("/sparql", params={"query": query}).json()["boolean"])


def a_problem(client: TestClient) -> str:
    rows = client.get("/sparql", params={"query": f"SELECT ?p WHERE {{ ?p a <{AMV}Problem> }} ORDER BY ?p LIMIT 1"})
    return str(rows.json()["results"]["bindings"][0]["p"]["value"])


INSERT = 'INSERT DATA { GRAPH <https://example.org/notes> { <https://example.org/a> <https://example.org/b> "c" } }'


def test_updates_need_an_editor_token(client: TestClient) -> None:
    none = client.post("/sparql/update", data={"update": INSERT})
    assert none.status_code == 401 and "Bearer" in none.headers["www-authenticate"]
    bad = client.post("/sparql/update", data={"update": INSERT}, headers={"Authorization": "Bearer amv_x_y"})
    assert bad.status_code == 401
    contributor = client.post("/sparql/update", data={"update": INSERT}, headers=token(client, Role.contributor))
    assert contributor.status_code == 403
    assert not ask(client, "ASK { <https://example.org/a> ?p ?o }")
    editor = client.post("/sparql/update", data={"update": INSERT}, headers=token(client, Role.editor))
    assert editor.status_code == 200, editor.text
    assert ask(client, "ASK { <https://example.org/a> ?p ?o }")


def test_direct_post_and_protocol_errors(client: TestClient) -> None:
    headers = token(client, Role.admin)
    direct = client.post(
        "/sparql/update", content=INSERT, headers={**headers, "Content-Type": "application/sparql-update"}
    )
    assert direct.status_code == 200
    assert client.get("/sparql/update", params={"update": INSERT}).status_code == 405
    assert (
        client.post("/sparql/update", content=INSERT, headers={**headers, "Content-Type": "text/plain"}).status_code
        == 415
    )
    syntax = client.post("/sparql/update", data={"update": "INSERT DATA { <a> "}, headers=headers)
    assert syntax.status_code == 400
    load = client.post("/sparql/update", data={"update": "LOAD <http://127.0.0.1:9/x.ttl>"}, headers=headers)
    assert load.status_code == 403 and "LOAD" in load.text


def test_editing_a_record_republishes_it(client: TestClient) -> None:
    problem = a_problem(client)
    services = client.app.state.services  # type: ignore[attr-defined]
    before = services.ledger.get(problem)
    update = (
        f"DELETE {{ GRAPH <{problem}> {{ <{problem}> <{DCT}title> ?t }} }} "
        f'INSERT {{ GRAPH <{problem}> {{ <{problem}> <{DCT}title> "Ny titel"@da }} }} '
        f"WHERE {{ GRAPH <{problem}> {{ <{problem}> <{DCT}title> ?t }} }}"
    )
    response = client.post("/sparql/update", data={"update": update}, headers=token(client, Role.editor))
    assert response.status_code == 200, response.text
    assert response.json()["changed"] == [problem]
    page = client.get("/" + problem.split("/arbejdsmiljoviden/", 1)[1])
    assert "Ny titel" in page.text
    after = services.ledger.get(problem)
    assert after.title == "Ny titel" and after.modified >= before.modified
    assert services.ledger.history(problem)[-1].agent == "token:test-editor"


def test_a_write_that_breaks_a_record_is_refused_whole(client: TestClient) -> None:
    problem = a_problem(client)
    update = (
        f"INSERT DATA {{ GRAPH <https://example.org/notes> {{ <https://example.org/x> <https://example.org/y> 1 }} }} ;"
        f"DELETE WHERE {{ GRAPH <{problem}> {{ <{problem}> <{AMV}factor> ?f }} }}"
    )
    response = client.post("/sparql/update", data={"update": update}, headers=token(client, Role.editor))
    assert response.status_code == 422
    assert any(v["field"] == "amv:factor" for v in response.json()["violations"])
    assert ask(client, f"ASK {{ <{problem}> <{AMV}factor> ?f }}")


def test_dropping_a_record_graph_withdraws_the_record(client: TestClient) -> None:
    problem = a_problem(client)
    response = client.post(
        "/sparql/update", data={"update": f"DROP GRAPH <{problem}>"}, headers=token(client, Role.editor)
    )
    assert response.status_code == 200 and response.json()["withdrawn"] == [problem]
    assert client.get("/" + problem.split("/arbejdsmiljoviden/", 1)[1]).status_code == 410


def test_pending_record_graphs_cannot_be_written(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    iri = "https://w3id.org/arbejdsmiljoviden/id/problem/p3nd1ngx"
    pending_submission(services, iri)
    update = f'INSERT DATA {{ GRAPH <{iri}> {{ <{iri}> <{DCT}title> "x"@da }} }}'
    response = client.post("/sparql/update", data={"update": update}, headers=token(client, Role.editor))
    assert response.status_code == 409
    assert not ask(client, f"ASK {{ <{iri}> ?p ?o }}")
