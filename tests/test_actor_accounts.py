"""People and tokens act for an actor: forms name it, and they may revise that actor's records — and no
other actor's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from tests.conftest import make_settings
from tests.login_util import PASSWORD, log_in
from tests.test_submissions import EXAMPLE_ITEM


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as client:
        yield client


def test_actor_of_a_token_may_revise_its_records_and_no_other_actors(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    rows = services.store.select(
        "SELECT ?item ?actor WHERE { GRAPH ?item { ?item <http://purl.org/dc/terms/publisher> ?actor } } ORDER BY ?item"
    )
    mine, actor = rows[0]["item"].value, rows[0]["actor"].value
    theirs = next(r["item"].value for r in rows if r["actor"].value != actor)
    token = services.accounts.create_token("partner", Role.contributor, actor=actor)
    headers = {"Authorization": f"Bearer {token}"}
    revised = client.post(
        "/api/submissions", json={**EXAMPLE_ITEM, "id": mine.rsplit("/", 1)[1], "publisher": actor}, headers=headers
    )
    assert revised.status_code == 201, revised.text
    refused = client.post("/api/submissions", json={**EXAMPLE_ITEM, "id": theirs.rsplit("/", 1)[1]}, headers=headers)
    assert refused.status_code == 403 and "another actor" in refused.text
    # Without an actor, a contributor may revise only what they contributed themselves.
    plain = {"Authorization": "Bearer " + services.accounts.create_token("plain", Role.contributor)}
    assert (
        client.post("/api/submissions", json={**EXAMPLE_ITEM, "id": mine.rsplit("/", 1)[1]}, headers=plain).status_code
        == 403
    )


def test_the_submission_form_names_the_users_actor_as_publisher(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    actor = services.store.select(
        "SELECT ?a WHERE { ?a a <https://w3id.org/arbejdsmiljoviden/ontology#Actor> } ORDER BY ?a LIMIT 1"
    )[0]["a"].value
    services.accounts.add_user("nfa@example.org", "Nina NFA", Role.contributor, PASSWORD, actor=actor)
    log_in(client, "nfa@example.org")
    form = client.get("/submit/item").text
    assert f'<option value="{actor}" selected>' in form
    services.accounts.add_user("fri@example.org", "Frida Fri", Role.contributor, PASSWORD)
    log_in(client, "fri@example.org")
    assert "selected" not in client.get("/submit/item").text.split('name="publisher"', 1)[-1].split("</select>")[0]


def test_cli_links_accounts_only_to_published_actors(data_dir: Path) -> None:
    from tests.test_cli import amv

    bad = amv(data_dir, "token", "create", "--role", "contributor", "--name", "x", "--actor", "https://example.org/x")
    assert bad.returncode != 0 and "not a published actor" in bad.stderr
