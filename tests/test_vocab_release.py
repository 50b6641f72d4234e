"""Releases of a concept scheme: made with `amv vocab release` or the editors' button, downloadable in
every RDF format as the scheme was at that moment (not as later edited), listed on the scheme page, and a
changelog between two releases naming exactly the added, changed and deprecated concepts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from graph.accounts import Role
from graph.cli import app as amv
from tests.conftest import bearer, make_settings

FACTORS = "https://w3id.org/arbejdsmiljoviden/vocab/factors"
OWL = "http://www.w3.org/2002/07/owl#"
DCT = "http://purl.org/dc/terms/"
PASSWORD = "en lang og god adgangskode"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".jsonld": ox.RdfFormat.JSON_LD,
}


def release_cli(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(amv, ["vocab", "release", *args], env={"AMV_DATA_DIR": str(data_dir), "COLUMNS": "200"})
    return result.exit_code, result.output


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as client:
        yield client


def scheme_graph(client: TestClient) -> set[ox.Triple]:
    data = client.get("/rdf-graph-store", params={"graph": FACTORS}, headers={"Accept": "application/n-triples"})
    assert data.status_code == 200
    return {q.triple for q in ox.parse(data.content, format=ox.RdfFormat.N_TRIPLES)}


def parse(client: TestClient, body: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    if fmt == ox.RdfFormat.JSON_LD:  # the context is referenced by URL: give the parser the published one
        document = json.loads(body)
        document["@context"] = client.get("/context.jsonld").json()["@context"]
        body = json.dumps(document).encode()
    return {q.triple for q in ox.parse(body, format=fmt)}


def without_version(triples: set[ox.Triple], release: str) -> set[ox.Triple]:
    """The scheme's statements, without what a release says about its version. (The scheme has no blank
    nodes, so two graphs are isomorphic exactly when they hold the same triples.)"""
    assert not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples)
    version = {OWL + "versionInfo", OWL + "versionIRI", DCT + "issued"}
    return {
        t
        for t in triples
        if t.subject.value != release and not (t.subject.value == FACTORS and t.predicate.value in version)
    }


def value(triples: set[ox.Triple], subject: str, predicate: str) -> ox.NamedNode | ox.Literal | None:
    return next((t.object for t in triples if t.subject.value == subject and t.predicate.value == predicate), None)  # type: ignore[misc]


def edit(client: TestClient, code: str, change: dict[str, object], headers: dict[str, str]) -> None:
    concept = client.get(f"/api/concepts/factors/{code}").json()
    concept.update(change)
    response = client.put(f"/api/concepts/factors/{code}", json={"reason": "test", "concept": concept}, headers=headers)
    assert response.status_code == 200, response.text


def test_a_release_made_with_the_cli_downloads_as_the_scheme_was_then_in_every_format(data_dir: Path) -> None:
    code, output = release_cli(data_dir, "factors", "1.1", "--note", "Første udgivelse")
    assert code == 0, output
    assert "released" in output and f"{FACTORS}/release/1.1" in output
    code, output = release_cli(data_dir, "factors", "1.1")
    assert code == 1 and "already" in output
    code, output = release_cli(data_dir, "factors", "1.1/../2")
    assert code == 1 and "not a valid version" in output

    with TestClient(create_app(make_settings(data_dir))) as client:
        at_release = scheme_graph(client)
        edit(client, "5.1", {"prefLabel": {"da": "støjgener", "en": "noise"}}, bearer(client, Role.editor))
        assert any(t.object == ox.Literal("støjgener", language="da") for t in scheme_graph(client))

        release = f"{FACTORS}/release/1.1"
        edited = ox.Literal("støjgener", language="da")
        for suffix, fmt in FORMATS.items():
            response = client.get(f"/vocab/factors/release/1.1{suffix}")
            assert response.status_code == 200, (suffix, response.text[:300])
            triples = parse(client, response.content, fmt)
            assert without_version(triples, release) == without_version(at_release, release), suffix
            assert value(triples, FACTORS, OWL + "versionInfo") == ox.Literal("1.1")
            assert value(triples, FACTORS, OWL + "versionIRI") == ox.NamedNode(release)
            assert value(triples, release, RDFS + "comment") == ox.Literal("Første udgivelse")
            assert not any(t.object == edited for t in triples)
        negotiated = client.get("/vocab/factors/release/1.1", headers={"Accept": "application/n-triples"})
        assert negotiated.headers["content-type"].startswith("application/n-triples")
        assert client.get("/vocab/factors/release/1.1", headers={"Accept": "image/png"}).status_code == 406
        page = client.get("/vocab/factors/release/1.1")
        assert page.headers["content-type"].startswith("text/html") and "Første udgivelse" in page.text
        assert client.get("/vocab/factors/release/9.9").status_code == 404
        # The release stays out of the union default graph: the concept has one Danish prefLabel.
        assert client.get("/api/concepts/factors/5.1").json()["prefLabel"]["da"] == "støjgener"
        assert "<h1>støjgener</h1>" in client.get("/vocab/factors/5.1").text


def log_in_editor(client: TestClient) -> str:
    client.app.state.services.accounts.add_user("redaktion@example.org", "Rut", Role.editor, PASSWORD)  # type: ignore[attr-defined]
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
    form = {"email": "redaktion@example.org", "password": PASSWORD, "csrf": csrf}
    assert client.post("/login", data=form, follow_redirects=False).status_code == 303
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/vocab/factors/releases").text).group(1)  # type: ignore[union-attr]


def test_release_button_and_the_changelog_between_two_releases(app_client: TestClient) -> None:
    client = app_client
    assert client.post("/vocab/factors/releases", data={"version": "1.0", "csrf": "x"}).status_code in (401, 403)
    csrf = log_in_editor(client)
    assert 'action="/vocab/factors/releases"' in client.get("/vocab/factors").text
    made = client.post("/vocab/factors/releases", data={"version": "1.0", "csrf": csrf}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"] == "/vocab/factors/release/1.0"
    again = client.post("/vocab/factors/releases", data={"version": "1.0", "csrf": csrf})
    assert again.status_code == 409 and "allerede udgivet" in again.text
    assert len(client.get("/vocab/factors/releases.json").json()["releases"]) == 1

    headers = bearer(client, Role.editor)
    created = client.post(
        "/api/concepts/factors",
        json={
            "concept": {
                "notation": "5.2.90",
                "prefLabel": {"da": "helkropsvibration i skibe", "en": "ship vibration"},
                "broader": ["5.2"],
            }
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    concept = client.get("/api/concepts/factors/5.1").json()
    edit(
        client,
        "5.1",
        {"altLabel": {**concept["altLabel"], "da": [*concept["altLabel"]["da"], "larmende maskiner"]}},
        headers,
    )
    deprecated = client.post("/api/concepts/factors/5.1.2/deprecate", json={"replacedBy": "5.1.1"}, headers=headers)
    assert deprecated.status_code == 200, deprecated.text
    second = client.post("/api/vocab/factors/releases", json={"version": "1.1", "note": "Ny"}, headers=headers)
    assert second.status_code == 201 and second.headers["location"] == "/vocab/factors/release/1.1"

    log = client.get("/vocab/factors/changelog.json", params={"from": "1.0", "to": "1.1"}).json()
    assert [c["iri"] for c in log["added"]] == [f"{FACTORS}/5.2.90"]
    assert [c["iri"] for c in log["changed"]] == [f"{FACTORS}/5.1"]
    assert log["changed"][0]["changes"] == [
        {
            "property": "http://www.w3.org/2004/02/skos/core#altLabel",
            "removed": [],
            "added": [{"value": "larmende maskiner", "lang": "da"}],
        }
    ]
    assert [c["iri"] for c in log["deprecated"]] == [f"{FACTORS}/5.1.2"]
    assert log["deprecated"][0]["isReplacedBy"] == [f"{FACTORS}/5.1.1"]
    assert log["removed"] == []
    html = client.get("/vocab/factors/changelog", params={"from": "1.0", "to": "1.1"}).text
    assert "helkropsvibration i skibe" in html and "larmende maskiner" in html and 'href="/vocab/factors/5.1.2"' in html
    unchanged = client.get("/vocab/factors/changelog.json", params={"from": "1.1", "to": "current"}).json()
    assert unchanged["added"] == unchanged["changed"] == unchanged["deprecated"] == []
    assert client.get("/vocab/factors/changelog.json", params={"from": "7.7"}).status_code == 404

    scheme_page = client.get("/vocab/factors").text
    assert 'href="/vocab/factors/release/1.1"' in scheme_page and 'href="/vocab/factors/release/1.0"' in scheme_page
