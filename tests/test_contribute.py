"""Contributing in the browser: forms from the shapes, field errors kept with the user's input,
review by an editor; pending records stay invisible until approved."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from tests.login_util import app_with_users, csrf_of, log_in

FACTOR = "https://w3id.org/arbejdsmiljoviden/vocab/factors/1.1"


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    with app_with_users(make_settings(data_dir)) as client:
        yield client


def test_forms_need_a_login(app_client: TestClient) -> None:
    response = app_client.get("/submit/problem", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_form_fields_come_from_the_shapes_with_help_in_the_users_language(app_client: TestClient) -> None:
    log_in(app_client, "bidrag@example.org")
    danish = app_client.get("/submit/problem").text
    assert "Arbejdsmiljøfaktorer" in danish and 'name="title.da"' in danish and 'name="factors"' in danish
    assert "fx støj, tunge løft eller stress" in danish
    english = app_client.get("/submit/problem?lang=en").text
    assert "Work-environment factors" in english


def test_submit_with_an_error_keeps_the_input_then_fix_then_review(app_client: TestClient) -> None:
    log_in(app_client, "bidrag@example.org")
    csrf = csrf_of(app_client.get("/submit/problem").text)
    form = {"csrf": csrf, "title.da": "Tunge løft på lageret <b>nu</b>", "description.da": "Manuel håndtering."}
    refused = app_client.post("/submit/problem", data=form)
    assert refused.status_code == 422
    assert 'id="factors-error"' in refused.text and "arbejdsmiljøfaktor" in refused.text
    assert "Tunge løft på lageret &lt;b&gt;nu&lt;/b&gt;" in refused.text  # kept, and escaped

    accepted = app_client.post("/submit/problem", data={**form, "factors": FACTOR}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"].startswith("/my/submissions")
    mine = app_client.get(accepted.headers["location"]).text
    assert "Venter på godkendelse" in mine
    submission_id = re.search(r'data-submission="([0-9a-z]+)"', mine).group(1)  # type: ignore[union-attr]
    services = app_client.app.state.services  # type: ignore[attr-defined]
    iri = services.submissions.get(submission_id).iri
    path = "/" + iri.split("/arbejdsmiljoviden/", 1)[1]
    assert app_client.get(path).status_code == 404  # pending: not public

    assert app_client.get("/review").status_code == 403  # a contributor cannot review
    log_in(app_client, "redaktion@example.org")
    queue = app_client.get("/review").text
    assert f'data-submission="{submission_id}"' in queue
    forged = app_client.post(f"/review/{submission_id}", data={"csrf": "forged", "decision": "approve"})
    assert forged.status_code == 403
    approved = app_client.post(
        f"/review/{submission_id}", data={"csrf": csrf_of(queue), "decision": "approve"}, follow_redirects=False
    )
    assert approved.status_code == 303
    page = app_client.get(path)
    assert page.status_code == 200 and "Tunge løft på lageret" in page.text
    assert services.ledger.get(iri).submitted_by == "user:bidrag@example.org"
