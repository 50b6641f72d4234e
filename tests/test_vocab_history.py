"""The thesaurus' history: an edit shows as a diff on its changeset page, in the scheme's history, in the
Atom feed of the scheme's changes and between two versions of the concept; a revert restores the earlier
state (SPARQL, concept page) as a new changeset; a revert that conflicts with later changes is refused
and changes nothing."""

from __future__ import annotations

import re

import feedparser
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role
from tests.conftest import bearer

FACTORS = "https://w3id.org/arbejdsmiljoviden/vocab/factors"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PASSWORD = "en lang og god adgangskode"


@pytest.fixture
def client(served_client: TestClient) -> TestClient:
    return served_client


def edit(client: TestClient, code: str, change: dict[str, object], reason: str, headers: dict[str, str]) -> int:
    """Change some fields of a concept through the API; the new changeset's number."""
    concept = client.get(f"/api/concepts/factors/{code}").json()
    concept.update(change)
    response = client.put(f"/api/concepts/factors/{code}", json={"reason": reason, "concept": concept}, headers=headers)
    assert response.status_code == 200, response.text
    return client.get(f"/api/concepts/factors/{code}/history").json()["changes"][0]["sequence"]


def ask(client: TestClient, query: str) -> bool:
    return client.get("/sparql", params={"query": query}).json()["boolean"]


def pref_label(client: TestClient, code: str, text: str, lang: str) -> bool:
    return ask(client, f'ASK {{ <{FACTORS}/{code}> <{SKOS}prefLabel> "{text}"@{lang} }}')


def log_in_editor(client: TestClient) -> None:
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    accounts.add_user("redaktion@example.org", "Rut Redaktør", Role.editor, PASSWORD)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    form = {"email": "redaktion@example.org", "password": PASSWORD, "csrf": csrf}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303


def test_an_edit_shows_as_a_diff_in_history_feed_and_version_comparison(client: TestClient) -> None:
    headers = bearer(client, Role.editor, "redaktør")
    labels = client.get("/api/concepts/factors/5.1").json()
    old_en = labels["prefLabel"]["en"]
    n = edit(
        client,
        "5.1",
        {
            "altLabel": {**labels["altLabel"], "da": [*labels["altLabel"]["da"], "larmende maskiner"]},
            "prefLabel": {**labels["prefLabel"], "en": "noise at work"},
        },
        "Ønske fra BFA Transport",
        headers,
    )

    page = client.get(f"/changes/{n}")
    assert page.status_code == 200
    html = page.text
    assert "Ønske fra BFA Transport" in html and "token:redaktør" in html
    added = re.findall(r"<ins>(.*?)</ins>", html, re.S)
    removed = re.findall(r"<del>(.*?)</del>", html, re.S)
    assert any("larmende maskiner" in a and "alternativ betegnelse" in a for a in added)
    assert any("noise at work" in a for a in added) and any(old_en in r for r in removed)
    assert "Tilføjet:" in html and "Fjernet:" in html  # said in words, not by colour only

    data = client.get(f"/changes/{n}.json").json()
    assert data["sequence"] == n and data["scheme"] == FACTORS and data["reason"] == "Ønske fra BFA Transport"
    assert {a["object"] for a in data["added"]} == {'"larmende maskiner"@da', '"noise at work"@en'}
    assert [r["object"] for r in data["removed"]] == [f'"{old_en}"@en']
    turtle = client.get(f"/changes/{n}", headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(turtle.content, format=ox.RdfFormat.TURTLE))
    assert any(q.predicate.value.endswith("#changeReason") for q in triples)

    history = client.get("/vocab/factors/changes").text
    assert f'href="/changes/{n}"' in history and "Ønske fra BFA Transport" in history

    scheme_page = client.get("/vocab/factors").text
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="/vocab/factors/changes.atom"', scheme_page
    )
    feed = client.get("/vocab/factors/changes.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo, parsed.bozo_exception
    entry = parsed.entries[0]
    assert entry.id == f"https://w3id.org/arbejdsmiljoviden/changes/{n}"
    assert "Ønske fra BFA Transport" in entry.title and "larmende maskiner" in entry.summary
    assert entry.link.endswith(f"/changes/{n}")
    json_feed = client.get("/vocab/factors/changes.json").json()
    assert json_feed["items"][0]["id"] == entry.id
    assert client.get("/vocab/factors/changes.atom", headers={"If-None-Match": feed.headers["etag"]}).status_code == 304

    concept_page = client.get("/vocab/factors/5.1").text
    assert 'href="/vocab/factors/5.1/compare"' in concept_page and f'href="/changes/{n}"' in concept_page
    compare = client.get("/vocab/factors/5.1/compare", params={"from": "0", "to": "current"}).text
    assert any("larmende maskiner" in a for a in re.findall(r"<ins>(.*?)</ins>", compare, re.S))
    same = client.get("/vocab/factors/5.1/compare.json", params={"from": str(n), "to": "current"}).json()
    assert same["added"] == [] and same["removed"] == []
    before = client.get("/vocab/factors/5.1/compare.json", params={"from": "0", "to": str(n)}).json()
    assert {a.get("value") for a in before["added"]} == {"larmende maskiner", "noise at work"}
    assert client.get("/vocab/factors/5.1/compare", params={"from": "x"}).status_code == 400
    assert client.get("/changes/999999").status_code == 404


def test_revert_button_restores_the_previous_state_as_a_new_change(client: TestClient) -> None:
    n = edit(client, "5.1", {"prefLabel": {"da": "støjgener", "en": "noise"}}, "omdøbt", bearer(client, Role.editor))
    assert pref_label(client, "5.1", "støjgener", "da") and not pref_label(client, "5.1", "støj", "da")

    assert 'action="/changes/' not in client.get(f"/changes/{n}").text  # no button without an editor's login
    log_in_editor(client)
    page = client.get(f"/changes/{n}").text
    assert f'action="/changes/{n}/revert"' in page
    refused = client.post(f"/changes/{n}/revert", data={"csrf": "forkert"}, follow_redirects=False)
    assert refused.status_code == 403 and pref_label(client, "5.1", "støjgener", "da")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = client.post(f"/changes/{n}/revert", data={"csrf": csrf, "reason": "fejl"}, follow_redirects=False)
    assert done.status_code == 303
    revert_page = done.headers["location"]
    assert revert_page != f"/changes/{n}"

    assert pref_label(client, "5.1", "støj", "da") and not pref_label(client, "5.1", "støjgener", "da")
    assert "<h1>støj</h1>" in client.get("/vocab/factors/5.1").text
    reverted = client.get(revert_page + ".json").json()
    assert reverted["reason"] == f"Revert of #{n}: fejl" and reverted["creator"] == "user:redaktion@example.org"
    assert {r["object"] for r in reverted["removed"]} == {'"støjgener"@da'}
    history = client.get("/vocab/factors/changes").text
    assert f"Revert of #{n}: fejl" in history


def test_a_revert_that_later_changes_conflict_with_is_refused_and_changes_nothing(client: TestClient) -> None:
    headers = bearer(client, Role.editor)
    first = edit(client, "5.2", {"prefLabel": {"da": "vibration", "en": "vibration"}}, "ental", headers)
    second = edit(client, "5.2", {"prefLabel": {"da": "svingninger", "en": "vibration"}}, "bedre ord", headers)
    graph = client.get("/rdf-graph-store", params={"graph": FACTORS}, headers={"Accept": "application/n-triples"}).text
    log_size = len(client.get("/vocab/factors/changes").text)

    response = client.post(f"/api/changes/{first}/revert", json={"reason": "fortrudt"}, headers=headers)
    assert response.status_code == 409
    assert f"#{second}" in response.json()["error"]
    after = client.get("/rdf-graph-store", params={"graph": FACTORS}, headers={"Accept": "application/n-triples"}).text
    assert sorted(after.splitlines()) == sorted(graph.splitlines())
    assert len(client.get("/vocab/factors/changes").text) == log_size
    assert pref_label(client, "5.2", "svingninger", "da")

    assert client.post(f"/api/changes/{second}/revert", headers=bearer(client, Role.contributor)).status_code == 403
    assert client.post("/api/changes/999999/revert", headers=headers).status_code == 404
    undone = client.post(f"/api/changes/{second}/revert", headers=headers)
    assert undone.status_code == 201, undone.text
    assert undone.json()["reverted"] == second and undone.headers["location"] == f"/changes/{undone.json()['sequence']}"
    assert pref_label(client, "5.2", "vibration", "da")
