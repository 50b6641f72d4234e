"""Curation and concept pickers: /api/suggest restricted to a scheme with hierarchy paths, the review queue's
filters, editing a submission (a new version, the old one kept), sending it back with comments, resubmitting,
approving, and the history of it all — public on the record page, complete for the submitter and editors."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from graph.accounts import Role
from tests.conftest import bearer, make_settings
from tests.login_util import CONTRIBUTOR, EDITOR, USERS, app_with_users, csrf_of, log_in

BASE = "https://w3id.org/arbejdsmiljoviden/"
NOISE = BASE + "vocab/factors/5.1"
IMPULSE_NOISE = BASE + "vocab/factors/5.1.3"
HEAVY_LIFTING = BASE + "vocab/factors/1.1"
OTHER = "anden@example.org"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    users = [*USERS, (OTHER, "Ane Anden", Role.contributor)]
    with app_with_users(make_settings(data_dir), users) as c:
        yield c


def item(title: str, **more: Any) -> dict[str, Any]:
    """A valid knowledge item in the simple JSON schema."""
    return {
        "type": "item",
        "title": {"da": title},
        "description": {"da": "En vejledning om støj."},
        "knowledgeType": "04",
        "factors": ["5.1"],
        "url": "https://example.org/" + title.lower().replace(" ", "-"),
        **more,
    }


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE) :]


# -- concept pickers: /api/suggest by scheme, with the hierarchy path ---------------------------------------


def test_suggest_within_a_scheme_finds_any_label_in_either_language_with_its_path(client: TestClient) -> None:
    for text, lang in (("støj", "da"), ("noise", "en"), ("larm", "da"), ("stoej", "da")):
        found = client.get("/api/suggest", params={"q": text, "scheme": "factors", "lang": lang}).json()["suggestions"]
        assert found, text
        assert {s["type"] for s in found} == {"concept"} and {s["scheme"] for s in found} == {"factors"}
        noise = next(s for s in found if s["iri"] == NOISE)
        assert noise["path"][-1] == noise["label"] and len(noise["path"]) == 2, noise
    impulse = client.get("/api/suggest", params={"q": "impuls", "scheme": "factors"}).json()["suggestions"][0]
    assert impulse["iri"] == IMPULSE_NOISE
    assert impulse["path"] == ["fysisk arbejdsmiljø", "støj", "impulsstøj"]
    english = client.get("/api/suggest", params={"q": "impuls", "scheme": "factors", "lang": "en"}).json()
    assert english["suggestions"][0]["path"] == ["physical work environment", "noise", "impulse noise"]


def test_suggest_keeps_to_the_asked_schemes_and_refuses_an_unknown_one(client: TestClient) -> None:
    industries = client.get("/api/suggest", params={"q": "bygge", "scheme": ["industries", "branchegrupper"]}).json()
    assert industries["suggestions"] and {s["scheme"] for s in industries["suggestions"]} <= {
        "industries",
        "branchegrupper",
    }
    assert not client.get("/api/suggest", params={"q": "støj", "scheme": "industries"}).json()["suggestions"]
    refused = client.get("/api/suggest", params={"q": "støj", "scheme": "nonsense"})
    assert refused.status_code == 400 and refused.json()["parameter"] == "scheme"
    everything = client.get("/api/suggest", params={"q": "stø"}).json()["suggestions"]
    assert any(s["type"] != "concept" for s in everything), "without a scheme, record titles are suggested too"


def test_the_form_offers_pickers_for_concept_lists_and_keeps_selects_for_single_concepts(client: TestClient) -> None:
    log_in(client, CONTRIBUTOR)
    page = client.get("/submit/item").text
    assert '<script src="/static/concept-picker.js" defer></script>' in page
    assert re.search(r'<select id="factors" name="factors" multiple[^>]*data-concept-picker="factors"', page)
    assert re.search(r'<select id="industries"[^>]*data-concept-picker="industries branchegrupper"', page)
    knowledge_type = re.search(r'<select id="knowledgeType"[^>]*>', page)
    assert knowledge_type and "data-concept-picker" not in knowledge_type.group(0)
    assert not re.search(r"<script(?![^>]*(src=|application/ld\+json))", page), "no inline script"
    assert 'data-picker-count="{n} forslag"' in page
    assert 'data-picker-count="{n} suggestions"' in client.get("/submit/item?lang=en").text
    assert client.get("/static/concept-picker.js").status_code == 200


def test_the_submitter_comes_from_the_login_not_from_the_form(client: TestClient) -> None:
    log_in(client, CONTRIBUTOR)
    csrf = csrf_of(client.get("/submit/problem").text)
    form = {"csrf": csrf, "title.da": "Støj i køkkenet", "description.da": "Emhætter og opvask.", "factors": NOISE}
    sent = client.post("/submit/problem", data={**form, "submitted_by": "user:" + OTHER}, follow_redirects=False)
    assert sent.status_code == 303
    services = client.app.state.services  # type: ignore[attr-defined]
    (mine,) = services.submissions.by_submitter("user:" + CONTRIBUTOR)
    assert mine.title == "Støj i køkkenet" and not services.submissions.by_submitter("user:" + OTHER)


# -- curation in the browser (HTML, without JavaScript) ----------------------------------------------------


def test_edit_send_back_resubmit_approve_with_history(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    log_in(client, CONTRIBUTOR)
    csrf = csrf_of(client.get("/submit/problem").text)
    form = {
        "csrf": csrf,
        "title.da": "Larm i produktionshallen",
        "description.da": "Høje lydniveauer.",
        "factors": NOISE,
    }
    assert client.post("/submit/problem", data=form, follow_redirects=False).status_code == 303
    (submission,) = services.submissions.by_submitter("user:" + CONTRIBUTOR)
    sid, public_path = submission.id, path_of(submission.iri)

    # The editor sees it as it will appear, marked as a preview, and edits it: version 2, version 1 kept.
    log_in(client, EDITOR)
    preview = client.get(f"/submissions/{sid}")
    assert preview.status_code == 200
    assert (
        "Forhåndsvisning — ikke offentliggjort" in preview.text and "<h1>Larm i produktionshallen</h1>" in preview.text
    )
    assert "støj" in preview.text  # the factor, by its label, as on the record page
    edit_page = client.get(f"/submissions/{sid}/edit").text
    assert 'value="Larm i produktionshallen"' in edit_page and f'<option value="{NOISE}" selected' in edit_page
    changed = {"csrf": csrf_of(edit_page), "title.da": "Støj i produktionshallen", "factors": [NOISE, IMPULSE_NOISE]}
    changed["description.da"] = "Høje lydniveauer og slag fra presser."
    saved = client.post(f"/submissions/{sid}/edit", data=changed, follow_redirects=False)
    assert saved.status_code == 303
    page = client.get(saved.headers["location"]).text
    assert "Ændringerne er gemt som en ny version." in page
    assert re.search(r'data-version="1">Version 1: Larm i produktionshallen', page)
    assert re.search(r'data-version="2">Version 2: Støj i produktionshallen', page)
    assert 'data-action="edited"' in page and services.submissions.get(sid).status.value == "pending"

    # An edit that breaks a rule is refused next to the field, keeping the input, and stores nothing.
    refused = client.post(f"/submissions/{sid}/edit", data={"csrf": changed["csrf"], "title.da": "Uden faktor"})
    assert refused.status_code == 422 and 'id="factors-error"' in refused.text and 'value="Uden faktor"' in refused.text
    assert len(services.curation.versions(services.submissions.get(sid))) == 2

    # Sent back with comments: the contributor sees them, edits and resubmits.
    sent = client.post(
        f"/review/{sid}",
        data={
            "csrf": changed["csrf"],
            "decision": "send_back",
            "comments": "Tilføj et link til målingerne.",
            "back": f"/submissions/{sid}",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/submissions/{sid}"
    assert f'data-submission="{sid}"' not in client.get("/review").text  # no longer waiting for the editors
    assert f'data-submission="{sid}"' in client.get("/review?status=changes_requested").text
    log_in(client, CONTRIBUTOR)
    mine = client.get("/my/submissions").text
    row = re.search(rf'<tr data-submission="{sid}".*?</tr>', mine, re.S).group(0)  # type: ignore[union-attr]
    assert "Sendt tilbage til rettelse" in row and "Tilføj et link til målingerne." in row
    own_edit = client.get(f"/submissions/{sid}/edit").text
    assert "Tilføj et link til målingerne." in own_edit and "Gem og send til godkendelse igen" in own_edit
    assert 'value="Støj i produktionshallen"' in own_edit  # the editor's version is what the contributor edits
    resubmit = {**changed, "csrf": csrf_of(own_edit), "description.da": "Målinger: 92 dB(A) ved presserne."}
    done = client.post(f"/submissions/{sid}/edit", data=resubmit, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/my/submissions")
    assert services.submissions.get(sid).status.value == "pending"
    assert client.get(public_path).status_code == 404  # still not public
    assert client.get(f"/review/{sid}").status_code in (403, 405)  # a contributor cannot decide

    # Approved: public at once, with a public history that holds no private comments or names.
    log_in(client, EDITOR)
    queue = client.get("/review").text
    approved = client.post(
        f"/review/{sid}", data={"csrf": csrf_of(queue), "decision": "approve"}, follow_redirects=False
    )
    assert approved.status_code == 303
    client.cookies.clear()  # as the public sees it
    public = client.get(public_path)
    assert public.status_code == 200 and "Støj i produktionshallen" in public.text
    assert '<h2 id="record-history">Historik</h2>' in public.text and 'data-action="created"' in public.text
    assert "Tilføj et link" not in public.text and CONTRIBUTOR not in public.text and EDITOR not in public.text
    kind, record_id = public_path.split("/")[2:4]
    history = client.get(f"/api/records/{kind}/{record_id}/history").json()
    assert [e["action"] for e in history["history"]] == ["created"] and "agent" not in history["history"][0]

    # The editors (and the submitter) see every step, with who and why.
    log_in(client, EDITOR)
    full = client.get(f"/submissions/{sid}").text
    actions = re.findall(r'<tr data-action="([a-z_]+)">', full.split('id="curation-versions"')[0])
    assert actions == ["submitted", "edited", "sent_back", "resubmitted", "approved"]
    assert "Tilføj et link til målingerne." in full and "user:" + EDITOR in full
    assert client.get(f"/submissions/{sid}/edit").status_code == 409  # decided: no more edits


def test_a_contributor_cannot_see_or_edit_someone_elses_submission(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    log_in(client, CONTRIBUTOR)
    csrf = csrf_of(client.get("/submit/problem").text)
    mine = {"csrf": csrf, "title.da": "Mit problem", "description.da": "Beskrivelse.", "factors": NOISE}
    assert client.post("/submit/problem", data=mine, follow_redirects=False).status_code == 303
    (submission,) = services.submissions.by_submitter("user:" + CONTRIBUTOR)
    log_in(client, OTHER)
    assert client.get(f"/submissions/{submission.id}").status_code == 404
    assert client.get(f"/submissions/{submission.id}/edit").status_code == 403
    csrf = csrf_of(client.get("/submit/problem").text)
    taken = client.post(
        f"/submissions/{submission.id}/edit", data={"csrf": csrf, "title.da": "Overtaget", "factors": NOISE}
    )
    assert taken.status_code == 403
    assert services.submissions.get(submission.id).title == "Mit problem"


# -- the JSON API: PUT (edit), send-back, status with comments and history ------------------------------------


def test_api_edit_send_back_resubmit_approve(client: TestClient) -> None:
    submitter = bearer(client, Role.contributor, "partner-a")
    stranger = bearer(client, Role.contributor, "partner-b")
    editor = bearer(client, Role.editor, "redaktion")
    response = client.post("/api/submissions", json=item("Høreværn i praksis"), headers=submitter)
    assert response.status_code == 201, response.text
    created = response.json()
    path = created["location"]

    assert client.put(path, json=item("Overtaget"), headers=stranger).status_code == 403
    assert client.put("/api/submissions/zzzzzzzz", json=item("x"), headers=editor).status_code == 404
    by_editor = client.put(path, json=item("Høreværn i praksis", industries=["41.20"]), headers=editor)
    assert by_editor.status_code == 200 and by_editor.json()["version"] == 2
    other_record = client.put(path, json={**item("Andet"), "id": "k7m2p9qx"}, headers=submitter)
    assert other_record.status_code == 422 and other_record.json()["errors"][0]["field"] == "id"
    broken = client.put(path, json={"type": "item", "title": {"da": "Uden faktor"}}, headers=submitter)
    assert broken.status_code == 422 and {e["field"] for e in broken.json()["errors"]} >= {"factors"}
    assert client.get(path, headers=submitter).json()["version"] == 2  # nothing stored

    assert client.post(path + "/send-back", json={"comments": "Mere."}, headers=submitter).status_code == 403
    assert client.post(path + "/send-back", json={"comments": "  "}, headers=editor).status_code == 422
    sent = client.post(path + "/send-back", json={"comments": "Angiv en kilde."}, headers=editor)
    assert sent.status_code == 200 and sent.json()["status"] == "changes_requested"
    assert client.post(path + "/send-back", json={"comments": "Igen."}, headers=editor).status_code == 409
    assert client.post(path + "/approve", headers=editor).status_code == 409  # back with the submitter
    seen = client.get(path, headers=submitter).json()
    assert seen["status"] == "changes_requested" and seen["comments"] == "Angiv en kilde."

    resubmitted = client.put(
        path, json=item("Høreværn i praksis", source="https://example.org/kilde"), headers=submitter
    )
    assert resubmitted.status_code == 200
    assert resubmitted.json()["status"] == "pending" and resubmitted.json()["version"] == 3
    assert resubmitted.json()["comments"] is None
    assert client.post(path + "/approve", headers=editor).json()["status"] == "approved"
    assert client.put(path, json=item("For sent"), headers=submitter).status_code == 409
    final = client.get(path, headers=submitter).json()
    assert [e["action"] for e in final["history"]] == ["submitted", "edited", "sent_back", "resubmitted", "approved"]
    assert final["history"][2]["comment"] == "Angiv en kilde." and final["history"][1]["agent"] == "token:redaktion"
    page = client.get(path_of(created["iri"]))
    assert page.status_code == 200 and "kilde" in page.text  # the resubmitted version is what was published

    spec = client.get("/openapi.json").json()["paths"]
    assert "example" in str(spec["/api/submissions/{submission_id}/send-back"]["post"])
    assert "examples" in str(spec["/api/submissions/{submission_id}"]["put"])


# -- the queue's filters ------------------------------------------------------------------------------------


def test_queue_filters_by_type_submitter_age_and_status_oldest_first(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    alice = bearer(client, Role.contributor, "alice")
    bob = bearer(client, Role.contributor, "bob")
    editor = bearer(client, Role.editor, "redaktion")
    problem = {"type": "problem", "title": {"da": "Gammelt problem"}, "description": {"da": "Løft."}}
    problem["factors"] = ["1.1"]
    ids = {
        "old_problem": client.post("/api/submissions", json=problem, headers=alice).json()["id"],
        "alice_item": client.post("/api/submissions", json=item("Alices vejledning"), headers=alice).json()["id"],
        "bob_item": client.post("/api/submissions", json=item("Bobs vejledning"), headers=bob).json()["id"],
    }
    with services.ledger.transaction() as db:  # the problem has waited 30 days
        db.execute("UPDATE submissions SET submitted_at = '2020-01-01T00:00:00Z' WHERE id = ?", (ids["old_problem"],))

    def listed(**params: Any) -> list[str]:
        response = client.get("/api/submissions", params=params, headers=editor)
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["submissions"]]

    assert listed()[0] == ids["old_problem"], "oldest first"
    assert listed(type="problem") == [ids["old_problem"]]
    assert set(listed(type="item")) == {ids["alice_item"], ids["bob_item"]}
    assert set(listed(actor="token:alice")) == {ids["old_problem"], ids["alice_item"]}
    assert listed(actor="token:bob", type="item") == [ids["bob_item"]]
    assert listed(older_than=10) == [ids["old_problem"]]
    assert client.get("/api/submissions", params={"status": "approved"}, headers=editor).status_code == 400
    client.post(f"/api/submissions/{ids['bob_item']}/send-back", json={"comments": "Ret titlen."}, headers=editor)
    assert listed(status="changes_requested") == [ids["bob_item"]]
    assert ids["bob_item"] not in listed()

    log_in(client, EDITOR)
    old_only = client.get("/review", params={"older": "10"}).text
    assert re.findall(r'data-submission="([0-9a-z]+)"', old_only) == [ids["old_problem"]]
    alice_items = client.get("/review", params={"actor": "token:alice", "type": "item"}).text
    assert re.findall(r'data-submission="([0-9a-z]+)"', alice_items) == [ids["alice_item"]]
    assert '<option value="token:alice" selected>' in alice_items
    assert client.get("/review", params={"older": "tre"}).status_code == 400
    english = client.get("/review", params={"lang": "en"}).text
    assert "Older than (days)" in english and "Submitter" in english
