"""The quality report of a scheme: a clean scheme has no findings; planted problems (a concept without an
English label, an orphan, a duplicate label, a cycle) are found and link to the concept; a mapping to an
IRI that answers 404 is marked after the background check against a local HTTP server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from tests.conftest import bearer, make_settings
from tests.http_util import local_site

FACTORS = "https://w3id.org/arbejdsmiljoviden/vocab/factors"
PREFIXES = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir, outbound_allow=("127.0.0.1",)))) as c:
        yield c


def write(client: TestClient, statements: str) -> None:
    """Plant statements in the scheme's graph directly, as an import or a raw SPARQL Update could."""
    store = client.app.state.services.store  # type: ignore[attr-defined]
    store.update(f"{PREFIXES}INSERT DATA {{ GRAPH <{FACTORS}> {{ {statements} }} }}")


def concepts(report: dict[str, object], rule: str) -> set[str]:
    return {f["concept"] for f in report["rules"][rule]}  # type: ignore[index]


def test_a_clean_scheme_has_no_findings(client: TestClient) -> None:
    report = client.get("/vocab/factors/quality.json").json()
    assert report["total"] == 0, {k: v[:3] for k, v in report["rules"].items() if v}
    assert set(report["rules"]) == {
        "missing_labels",
        "missing_definitions",
        "duplicate_labels",
        "orphan_concepts",
        "cycles",
        "overlapping_labels",
        "undocumented_deprecated",
        "unresolvable_mappings",
    }
    page = client.get("/vocab/factors/quality")
    assert page.status_code == 200 and "Ingen fund" in page.text
    assert client.get("/vocab/nope/quality.json").status_code == 404


def test_planted_problems_are_found_and_link_to_their_concepts(client: TestClient) -> None:
    f = FACTORS
    write(
        client,
        f"""
        <{f}/9.1> a skos:Concept ; skos:inScheme <{f}> ; skos:notation "9.1" ; skos:prefLabel "kun dansk"@da .
        <{f}/9.2> a skos:Concept ; skos:inScheme <{f}> ; skos:notation "9.2" ; skos:broader <{f}/5> ;
            skos:prefLabel "STØJ"@da, "din"@en .
        <{f}/9.3> a skos:Concept ; skos:inScheme <{f}> ; skos:notation "9.3" ; skos:broader <{f}/9.4> ;
            skos:prefLabel "ring a"@da, "ring a"@en .
        <{f}/9.4> a skos:Concept ; skos:inScheme <{f}> ; skos:notation "9.4" ; skos:broader <{f}/9.3> ;
            skos:prefLabel "ring b"@da, "ring b"@en .
        """,
    )
    report = client.get("/vocab/factors/quality.json").json()
    missing = [(x["concept"], x["lang"]) for x in report["rules"]["missing_labels"]]
    assert missing == [(f"{f}/9.1", "en")]
    assert concepts(report, "orphan_concepts") == {f"{f}/9.1"}
    duplicates = report["rules"]["duplicate_labels"]
    assert {(d["concept"], d["lang"]) for d in duplicates} == {(f"{f}/9.2", "da"), (f"{f}/5.1", "da")}
    assert next(d for d in duplicates if d["concept"] == f"{f}/9.2")["others"] == [f"{f}/5.1"]
    assert concepts(report, "cycles") == {f"{f}/9.3", f"{f}/9.4"}
    assert report["rules"]["overlapping_labels"] == [] and report["rules"]["undocumented_deprecated"] == []

    page = client.get("/vocab/factors/quality").text
    for code in ("9.1", "9.2", "9.3", "9.4", "5.1"):
        assert f'href="/vocab/factors/{code}"' in page
    english = client.get("/vocab/factors/quality?lang=en").text
    assert "Missing preferred labels" in english and "Orphan concepts" in english


def test_the_background_mapping_check_marks_a_mapping_that_answers_404(client: TestClient) -> None:
    routes = {"/concept/ok": lambda _: (200, {"Content-Type": "text/html"}, b"<p>ok</p>")}
    with local_site(routes) as site:
        ok, missing = site.url("/concept/ok"), site.url("/concept/gone")
        write(client, f"<{FACTORS}/5.1> skos:exactMatch <{ok}> ; skos:closeMatch <{missing}> .")
        before = client.get("/vocab/factors/quality.json").json()
        assert before["rules"]["unresolvable_mappings"] == [] and before["mappings"]["checked"] == 0

        assert (
            client.post(
                "/api/vocab/factors/quality/check-mappings", headers=bearer(client, Role.contributor)
            ).status_code
            == 403
        )
        started = client.post("/api/vocab/factors/quality/check-mappings", headers=bearer(client, Role.editor))
        assert started.status_code == 202 and started.json()["started"] is True
        deadline = time.monotonic() + 20
        report = before
        while time.monotonic() < deadline:
            report = client.get("/vocab/factors/quality.json").json()
            if report["mappings"]["lastCheckFinished"]:
                break
            time.sleep(0.2)
        assert report["mappings"]["lastCheckFinished"], report["mappings"]
        assert {(r.method, r.path) for r in site.seen} >= {("HEAD", "/concept/ok"), ("HEAD", "/concept/gone")}

    broken = report["rules"]["unresolvable_mappings"]
    assert [(b["concept"], b["target"], b["detail"]) for b in broken] == [(f"{FACTORS}/5.1", missing, "HTTP 404")]
    assert broken[0]["checked_at"][:4].isdigit() and report["mappings"] == {
        **report["mappings"],
        "checked": 2,
        "targets": 2,
    }
    page = client.get("/vocab/factors/quality").text
    assert missing in page and "HTTP 404" in page and broken[0]["checked_at"][:10] in page
