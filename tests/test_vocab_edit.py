"""Editing the thesaurus through the API: validated changes, shown on the concept page, in its
history, in SPARQL and in the Skosmos REST API; refused changes change nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role

FACTORS = "https://w3id.org/arbejdsmiljoviden/vocab/factors"


@pytest.fixture
def client(served_client: TestClient) -> TestClient:
    return served_client


def editor(client: TestClient, role: Role = Role.editor) -> dict[str, str]:
    token = client.app.state.services.accounts.create_token(f"redaktør-{role.value}", role)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {token}"}


def scheme_dump(client: TestClient) -> str:
    return client.get("/vocab/factors.nt").text


def test_adding_a_synonym_shows_everywhere(client: TestClient) -> None:
    headers = editor(client)
    concept = client.get("/api/concepts/factors/5.1").json()
    concept["altLabel"]["da"].append("larmende maskiner")
    response = client.put(
        "/api/concepts/factors/5.1", json={"reason": "Ønske fra BFA", "concept": concept}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"iri": f"{FACTORS}/5.1", "added": 1, "removed": 0}
    page = client.get("/vocab/factors/5.1").text
    assert "larmende maskiner" in page and "Ønske fra BFA" in page  # the label and the history
    ask = f'ASK {{ <{FACTORS}/5.1> <http://www.w3.org/2004/02/skos/core#altLabel> "larmende maskiner"@da }}'
    assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
    found = client.get("/rest/v1/factors/search", params={"query": "larmende*", "lang": "da"}).json()
    assert [r["uri"] for r in found["results"]] == [f"{FACTORS}/5.1"]
    history = client.get("/api/concepts/factors/5.1/history").json()["changes"]
    assert history[0]["reason"] == "Ønske fra BFA" and history[0]["creator"] == "token:redaktør-editor"


def test_creating_a_concept_links_both_ways(client: TestClient) -> None:
    body = {
        "reason": "nyt begreb",
        "concept": {"notation": "5.1.90", "prefLabel": {"da": "motorstøj", "en": "engine noise"}, "broader": ["5.1"]},
    }
    created = client.post("/api/concepts/factors", json=body, headers=editor(client))
    assert created.status_code == 201 and created.headers["location"] == "/api/concepts/factors/5.1.90"
    parent = client.get("/api/concepts/factors/5.1").json()
    assert f"{FACTORS}/5.1.90" not in parent.get("broader", [])
    assert "motorstøj" in client.get("/vocab/factors/5.1").text  # listed as a narrower concept
    assert client.post("/api/concepts/factors", json=body, headers=editor(client)).status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda c: c.update(broader=["5.1.1"]), "broader"),  # a cycle
        (lambda c: c.update(notation="5.2"), "notation"),  # a duplicate notation
        (lambda c: c["altLabel"].update(da=[c["prefLabel"]["da"]]), None),  # prefLabel also altLabel
        (lambda c: c.update(related=["5"]), "related"),  # related to its own broader concept
        (lambda c: c.update(prefLabel={"da": ["støj", "larm"], "en": "noise"}), None),  # two Danish prefLabels
    ],
)
def test_invalid_changes_are_refused_and_change_nothing(client: TestClient, change, field) -> None:  # type: ignore[no-untyped-def]
    before = scheme_dump(client)
    concept = client.get("/api/concepts/factors/5.1").json()
    change(concept)
    response = client.put("/api/concepts/factors/5.1", json={"concept": concept}, headers=editor(client))
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors and all({"da", "en"} <= e["messages"].keys() or e["messages"] for e in errors)
    if field:
        assert any(e["path"] == field for e in errors)
    assert scheme_dump(client) == before
    assert client.get("/api/concepts/factors/5.1/history").json()["changes"] == []


def test_deprecate_keeps_the_iri_and_points_to_the_replacement(client: TestClient) -> None:
    response = client.post(
        "/api/concepts/factors/5.1.1/deprecate",
        json={"replacedBy": "5.1.2", "reason": "samlet"},
        headers=editor(client),
    )
    assert response.status_code == 200, response.text
    page = client.get("/vocab/factors/5.1.1")
    assert page.status_code == 200 and 'rel="successor-version"' in page.headers["link"]


def test_merge_moves_labels_and_shows_tagged_records_under_the_target(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    rows = services.store.select(
        "SELECT ?c (COUNT(?r) AS ?n) WHERE { ?r <https://w3id.org/arbejdsmiljoviden/ontology#factor> ?c . "
        f"FILTER(STRSTARTS(STR(?c), '{FACTORS}/2.')) }} GROUP BY ?c ORDER BY DESC(?n) LIMIT 2"
    )
    old, into = (r["c"].value.rsplit("/", 1)[1] for r in rows)
    old_label = client.get(f"/api/concepts/factors/{old}").json()["prefLabel"]["da"]
    response = client.post(
        f"/api/concepts/factors/{old}/merge", json={"into": into, "reason": "dublet"}, headers=editor(client)
    )
    assert response.status_code == 200, response.text
    target = client.get(f"/api/concepts/factors/{into}").json()
    assert old_label in target["altLabel"]["da"]
    tagged_old = services.store.select(
        f"SELECT ?r WHERE {{ ?r <https://w3id.org/arbejdsmiljoviden/ontology#factor> <{FACTORS}/{old}> }}"
    )
    page = client.get(f"/vocab/factors/{into}").text
    for row in tagged_old:
        assert row["r"].value.split("/arbejdsmiljoviden", 1)[1] in page


def test_editing_needs_an_editor_token(client: TestClient) -> None:
    concept = client.get("/api/concepts/factors/5.1").json()
    assert client.put("/api/concepts/factors/5.1", json={"concept": concept}).status_code == 401
    assert (
        client.put(
            "/api/concepts/factors/5.1", json={"concept": concept}, headers=editor(client, Role.contributor)
        ).status_code
        == 403
    )
