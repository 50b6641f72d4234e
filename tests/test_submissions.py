"""The submission API: pending records stay invisible until approved; errors are per field."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM, EXAMPLE_TURTLE
from graph.accounts import Role
from tests.conftest import make_settings


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


def bearer(client: TestClient, role: Role, name: str = "") -> dict[str, str]:
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    return {"Authorization": "Bearer " + accounts.create_token(name or f"partner-{role.value}", role)}


def public_path(iri: str) -> str:
    return "/" + iri.split("/arbejdsmiljoviden/", 1)[1]


def visible_in_store(client: TestClient, iri: str) -> bool:
    services = client.app.state.services  # type: ignore[attr-defined]
    return bool(services.store.ask(f"ASK {{ <{iri}> ?p ?o }}"))


def test_round_trip_submit_422_fix_201_approve_with_the_openapi_example(client: TestClient) -> None:
    contributor, editor = bearer(client, Role.contributor), bearer(client, Role.editor)
    broken = copy.deepcopy(EXAMPLE_ITEM)
    del broken["factors"]
    refused = client.post("/api/submissions", json=broken, headers=contributor)
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert any(e["field"] == "factors" and "arbejdsmiljøfaktor" in e["messages"]["da"] for e in errors)

    created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=contributor)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending" and created.headers["location"] == f"/api/submissions/{body['id']}"
    iri = body["iri"]
    # Pending: invisible to the public everywhere.
    assert client.get(public_path(iri)).status_code == 404
    assert not visible_in_store(client, iri)
    assert public_path(iri) not in client.get("/search", params={"q": "Ro på stuen"}).text

    assert client.get(created.headers["location"], headers=contributor).json()["status"] == "pending"
    assert client.post(f"/api/submissions/{body['id']}/approve", headers=contributor).status_code == 403
    approved = client.post(f"/api/submissions/{body['id']}/approve", headers=editor)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    page = client.get(public_path(iri))
    assert page.status_code == 200 and "Ro på stuen" in page.text
    assert public_path(iri) in client.get("/search", params={"q": "Ro på stuen"}).text
    services = client.app.state.services  # type: ignore[attr-defined]
    entry = services.ledger.get(iri)
    assert entry.submitted_by == "token:partner-contributor" and entry.approved_by == "token:partner-editor"
    assert [h.action for h in services.ledger.history(iri)] == ["submitted", "created", "approved"]


def test_turtle_submission_with_a_blank_node_gets_an_iri(client: TestClient) -> None:
    response = client.post(
        "/api/submissions",
        content=EXAMPLE_TURTLE,
        headers={**bearer(client, Role.contributor), "Content-Type": "text/turtle"},
    )
    assert response.status_code == 201, response.text
    assert "/id/problem/" in response.json()["iri"]


def test_idempotent_resubmission(client: TestClient) -> None:
    headers = {**bearer(client, Role.contributor), "Idempotency-Key": "batch-7-row-3"}
    item = {**EXAMPLE_ITEM, "id": "k7m2p9qx"}
    first = client.post("/api/submissions", json=item, headers=headers)
    again = client.post("/api/submissions", json=item, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    different = client.post("/api/submissions", json={**item, "title": {"da": "Noget andet"}}, headers=headers)
    assert different.status_code == 409
    services = client.app.state.services  # type: ignore[attr-defined]
    assert len(services.submissions.queue()) == 1


def test_reject_needs_a_reason_and_keeps_the_record_out(client: TestClient) -> None:
    editor = bearer(client, Role.editor)
    created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=bearer(client, Role.contributor)).json()
    assert (
        client.post(f"/api/submissions/{created['id']}/reject", json={"reason": " "}, headers=editor).status_code == 422
    )
    rejected = client.post(f"/api/submissions/{created['id']}/reject", json={"reason": "Dublet"}, headers=editor)
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "Dublet"
    assert client.post(f"/api/submissions/{created['id']}/approve", headers=editor).status_code == 409
    assert client.get(public_path(created["iri"])).status_code == 404


def test_contributors_see_only_their_own_submissions(client: TestClient) -> None:
    mine = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=bearer(client, Role.contributor, "a")).json()
    other = bearer(client, Role.contributor, "b")
    assert client.get(f"/api/submissions/{mine['id']}", headers=other).status_code == 404
    assert client.get("/api/submissions", headers=other).json()["total"] == 0
    assert client.get("/api/submissions", headers=bearer(client, Role.editor)).json()["total"] == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 422),
        (b'{"type": "item", "title": {"da": "x"}, "factors": "5.1"}', "application/json", 422),
        (b'{"type": "spaceship", "title": {"da": "x"}}', "application/json", 422),
        (
            b'{"type": "item", "title": {"da": "x"}, "url": "javascript:alert(1)", "factors": ["5.1"],'
            b' "knowledgeType": "04", "description": {"da": "y"}}',
            "application/json",
            422,
        ),
        (b'{"type": "item", "nonsense": 1, "title": {"da": "x"}}', "application/json", 422),
        (b'{"type": [["item"]], "title": {"da": "x"}}', "application/json", 422),  # found by schemathesis
        (b"<a> <b> .", "text/turtle", 400),
        (b"hello", "text/plain", 415),
        (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;">]>'
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="http://x/y">'
            b"<rdf:value>&c;</rdf:value></rdf:Description></rdf:RDF>",
            "application/rdf+xml",
            400,
        ),
        (b"[" * 100000 + b"]" * 100000, "application/json", 400),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_stores_nothing(
    client: TestClient, body: bytes, content_type: str, status: int
) -> None:
    response = client.post(
        "/api/submissions", content=body, headers={**bearer(client, Role.contributor), "Content-Type": content_type}
    )
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert client.app.state.services.submissions.queue() == []  # type: ignore[attr-defined]


def test_a_queue_filter_beyond_any_date_is_a_clear_400(client: TestClient) -> None:
    editor = bearer(client, Role.editor)
    response = client.get("/api/submissions?older_than=999999999", headers=editor)  # found by schemathesis
    assert response.status_code == 400 and "older_than" in response.json()["error"]
    assert client.get("/api/submissions?older_than=30", headers=editor).status_code == 200


def test_submitting_needs_a_token(client: TestClient) -> None:
    assert client.post("/api/submissions", json=EXAMPLE_ITEM).status_code == 401


def test_openapi_documents_the_routes_with_examples(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    post = spec["paths"]["/api/submissions"]["post"]
    assert post["requestBody"]["content"]["application/json"]["examples"]["knowledge item"]["value"] == EXAMPLE_ITEM
    assert "422" in post["responses"] and "201" in post["responses"]
    for path in (
        "/api/submissions/{submission_id}",
        "/api/submissions/{submission_id}/approve",
        "/api/submissions/{submission_id}/reject",
    ):
        assert path in spec["paths"]


def test_possible_duplicates_are_flagged_by_url_and_title(client: TestClient) -> None:
    headers = bearer(client, Role.contributor)
    first = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=headers).json()
    client.post(f"/api/submissions/{first['id']}/approve", headers=bearer(client, Role.editor))
    twin = {**EXAMPLE_ITEM, "title": {"da": EXAMPLE_ITEM["title"]["da"].upper()}}  # type: ignore[index]
    second = client.post("/api/submissions", json=twin, headers=headers)
    assert second.status_code == 201
    reasons = {(w["iri"], w["reason"]) for w in second.json()["warnings"]}
    assert {(first["iri"], "url"), (first["iri"], "title")} <= reasons


def test_new_versions_of_a_published_record_only_by_its_contributor_or_an_editor(client: TestClient) -> None:
    owner, stranger = bearer(client, Role.contributor, "owner"), bearer(client, Role.contributor, "stranger")
    item = {**EXAMPLE_ITEM, "id": "v3rs10nx"}
    created = client.post("/api/submissions", json=item, headers=owner).json()
    client.post(f"/api/submissions/{created['id']}/approve", headers=bearer(client, Role.editor))
    revised = {**item, "title": {"da": "Ny udgave af guiden"}}
    assert client.post("/api/submissions", json=revised, headers=stranger).status_code == 403
    pending = client.post("/api/submissions", json=revised, headers=owner)
    assert pending.status_code == 201
    # The published version stays until the new one is approved.
    page = client.get(public_path(created["iri"])).text
    assert "Ro på stuen" in page and "Ny udgave" not in page
    client.post(f"/api/submissions/{pending.json()['id']}/approve", headers=bearer(client, Role.editor))
    assert "Ny udgave af guiden" in client.get(public_path(created["iri"])).text
