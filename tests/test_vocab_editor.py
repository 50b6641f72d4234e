"""The vocabulary editor: HTML forms with a login session (and CSRF) and the JSON API with tokens.

Each action — editing labels, creating a narrower concept, deprecating, merging, a new concept scheme,
collections, proposals — is driven through the forms and shown where a user or a partner would see
it: the concept page and its history, SPARQL and the Skosmos REST API. Refused changes show the
reasons next to the fields in Danish and English, keep what was typed and leave the store unchanged.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from graph.store_server import ManagedStoreServer
from tests.conftest import bearer, make_settings
from tests.login_util import CONTRIBUTOR, EDITOR, USERS, add_users, csrf_of, log_in

BASE = "https://w3id.org/arbejdsmiljoviden/"
FACTORS = BASE + "vocab/factors"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SECOND_EDITOR = "anden.redaktor@example.org"


@pytest.fixture(scope="module")
def served(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app as `amv serve` runs it (store server, so /sparql answers), with two editors and a contributor.

    One per module, to keep the suite fast: each test edits concepts of its own and compares the store
    before and after within itself."""
    data_dir = tmp_path_factory.mktemp("vocab-editor") / "data"
    shutil.copytree(initialised_dir, data_dir)
    settings = make_settings(data_dir)
    with ManagedStoreServer(settings) as server, TestClient(create_app(replace(settings, store_url=server.url))) as c:
        add_users(c, [*USERS, (SECOND_EDITOR, "Erik Redaktør", Role.editor)])
        yield c


@pytest.fixture
def client(served: TestClient) -> TestClient:
    served.cookies.clear()  # every test starts logged out
    return served


def proposal_id(response: Any) -> str:
    """The id of the proposal a form just saved (from the redirect to "my proposals")."""
    assert response.status_code == 303, response.text
    return re.search(r"proposed=([0-9a-z]+)", response.headers["location"]).group(1)  # type: ignore[union-attr]


def form_of(client: TestClient, path: str) -> dict[str, str]:
    """The form's fields as the page fills them in (what a browser would send unchanged)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    html = page.text[page.text.index('class="ve-form"') :]
    fields = {"csrf": csrf_of(html)}
    for name, value in re.findall(r'<input id="[^"]+" name="([^"]+)"[^>]*?value="([^"]*)"', html):
        fields[name] = value
    for name, value in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        fields[name] = value
    for key, value in fields.items():
        fields[key] = value.replace("&#39;", "'").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    return fields


def ask(client: TestClient, query: str) -> bool:
    response = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["boolean"]


def factors_dump(client: TestClient) -> set[str]:
    return set(client.get("/vocab/factors.nt").text.splitlines())


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="field-error" id="{re.escape(name)}-error">(.*?)</div>', html, re.S)
    assert found, f"no error shown next to {name}"
    return re.sub(r"<[^>]+>", " ", found.group(1))


def skosmos(client: TestClient, path: str, **params: Any) -> Any:
    response = client.get(f"/rest/v1/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


# -- editing a concept through the form --------------------------------------------------------------


def test_editor_edits_labels_through_the_form_and_sees_it_everywhere(client: TestClient) -> None:
    assert "/editor/concepts/factors/5.1" not in client.get("/vocab/factors/5.1").text  # no edit link for the public
    log_in(client, EDITOR)
    page = client.get("/vocab/factors/5.1").text
    assert 'href="/editor/concepts/factors/5.1"' in page and "Redigér begrebet" in page

    form = form_of(client, "/editor/concepts/factors/5.1")
    assert form["prefLabel.da"] == "støj" and "støjbelastning" in form["altLabel.da"]
    form.update(
        {
            "prefLabel.en": "noise at work",
            "altLabel.da": form["altLabel.da"] + "\nlarmende maskiner",
            "altLabel.other": "sv: buller",
            "reason": "Ønske fra BFA Industri",
            "action": "apply",
        }
    )
    response = client.post("/editor/concepts/factors/5.1", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/vocab/factors/5.1"

    page = client.get("/vocab/factors/5.1").text
    assert "noise at work" in client.get("/vocab/factors/5.1?lang=en").text
    assert "larmende maskiner" in page
    history = client.get("/api/concepts/factors/5.1/history").json()["changes"]
    assert history[0]["reason"] == "Ønske fra BFA Industri" and history[0]["creator"] == f"user:{EDITOR}"
    assert "Ønske fra BFA Industri" in page  # the history on the concept page
    assert ask(client, f'ASK {{ <{FACTORS}/5.1> <{SKOS}altLabel> "buller"@sv }}')
    assert ask(client, f'ASK {{ <{FACTORS}/5.1> <{SKOS}prefLabel> "noise at work"@en }}')
    found = skosmos(client, "factors/search", query="larmende*", lang="da")
    assert [r["uri"] for r in found["results"]] == [f"{FACTORS}/5.1"]
    # Unchanged fields are kept as they were: the definition, the hierarchy, the hidden labels.
    concept = client.get("/api/concepts/factors/5.1").json()
    assert concept["broader"] == [f"{FACTORS}/5"] and concept["hiddenLabel"]["da"] == ["stoej", "stoj"]
    assert concept["definition"]["da"][0].startswith("Støj er uønsket lyd")


def test_editing_a_top_concept_keeps_it_on_top(client: TestClient) -> None:
    log_in(client, EDITOR)
    form = form_of(client, "/editor/concepts/factors/5")
    form.update({"altLabel.da": form["altLabel.da"] + "\nfysisk miljø", "action": "apply"})
    assert client.post("/editor/concepts/factors/5", data=form, follow_redirects=False).status_code == 303
    tops = [t["uri"] for t in skosmos(client, "factors/topConcepts", lang="da")["topconcepts"]]
    assert f"{FACTORS}/5" in tops


@pytest.mark.parametrize("lang", ["da", "en"])
def test_refused_changes_keep_the_input_show_the_reason_and_change_nothing(client: TestClient, lang: str) -> None:
    log_in(client, EDITOR)
    before = factors_dump(client)
    path = f"/editor/concepts/factors/5.1?lang={lang}"

    # A cycle: 5.1's own narrower concept as its broader one.
    form = form_of(client, path)
    form.update({"broader": "5\n5.1.1", "reason": "Flyt under høreskader <b>nu</b>", "action": "apply"})
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    expected = {"da": "cirkel i hierarkiet", "en": "cycle in the hierarchy"}[lang]
    assert expected in field_error(refused.text, "broader")
    assert "5.1.1</textarea>" in refused.text  # what was typed is kept …
    assert "Flyt under høreskader &lt;b&gt;nu&lt;/b&gt;" in refused.text  # … and escaped
    assert 'aria-invalid="true"' in refused.text

    # A second Danish preferred label.
    form = form_of(client, path)
    form.update({"prefLabel.other": "da: larm på arbejdet", "action": "apply"})
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    expected = {"da": "højst én pr. sprog", "en": "at most one per language"}[lang]
    assert expected in field_error(refused.text, "prefLabel")
    assert "da: larm på arbejdet" in refused.text

    # A new concept with a code the scheme uses already.
    form = form_of(client, f"/editor/concepts/factors?lang={lang}")
    form.update({"notation": "5.1", "prefLabel.da": "dublet", "prefLabel.en": "duplicate", "action": "apply"})
    refused = client.post(f"/editor/concepts/factors?lang={lang}", data=form)
    assert refused.status_code == 409
    expected = {"da": "koden bruges allerede", "en": "the code is used by another concept"}[lang]
    assert expected in field_error(refused.text, "notation")
    assert factors_dump(client) == before


def test_duplicate_notation_through_the_api_is_refused_in_both_languages(client: TestClient) -> None:
    before = factors_dump(client)
    concept = client.get("/api/concepts/factors/5.2").json()
    concept["notation"] = "5.1"
    response = client.put("/api/concepts/factors/5.2", json={"concept": concept}, headers=bearer(client, Role.editor))
    assert response.status_code == 422
    problem = next(e for e in response.json()["errors"] if e["rule"] == "skos:notation-unique")
    assert problem["messages"]["da"] == "notationen 5.1 bruges af et andet begreb"
    assert problem["messages"]["en"] == "the notation 5.1 is used by another concept"
    assert factors_dump(client) == before


def test_forms_need_a_login_a_role_and_the_csrf_token(client: TestClient) -> None:
    response = client.get("/editor/concepts/factors/5.1", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    before = factors_dump(client)
    log_in(client, EDITOR)
    form = form_of(client, "/editor/concepts/factors/5.1")
    form.update({"prefLabel.da": "larm", "csrf": "forged", "action": "apply"})
    assert client.post("/editor/concepts/factors/5.1", data=form).status_code == 403
    log_in(client, CONTRIBUTOR)
    assert client.get("/editor/concepts/factors/5.1/deprecate").status_code == 403
    assert client.get("/editor/schemes").status_code == 403
    assert factors_dump(client) == before


# -- creating, deprecating, merging ----------------------------------------------------------------------


def test_new_narrower_concept_from_the_concept_page(client: TestClient) -> None:
    log_in(client, EDITOR)
    assert 'href="/editor/concepts/factors?broader=5.1"' in client.get("/vocab/factors/5.1").text
    form = form_of(client, "/editor/concepts/factors?broader=5.1")
    assert form["broader"] == "5.1"
    form.update(
        {
            "notation": "5.1.77",
            "prefLabel.da": "motorstøj",
            "prefLabel.en": "engine noise",
            "definition.da": "Støj fra motorer i køretøjer og maskiner.",
            "related": "5.2",
            "exactMatch": "http://www.wikidata.org/entity/Q1141286",
            "reason": "Nyt underbegreb",
            "action": "apply",
        }
    )
    response = client.post("/editor/concepts/factors", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/vocab/factors/5.1.77"
    page = client.get("/vocab/factors/5.1.77").text
    assert "motorstøj" in page and "Støj fra motorer" in page and "Q1141286" in page and "Nyt underbegreb" in page
    assert "motorstøj" in client.get("/vocab/factors/5.1").text  # listed as a narrower concept of its parent
    narrower = skosmos(client, "factors/narrower", uri=f"{FACTORS}/5.1", lang="da")["narrower"]
    assert f"{FACTORS}/5.1.77" in [n["uri"] for n in narrower]
    assert ask(client, f"ASK {{ <{FACTORS}/5.2> <{SKOS}related> <{FACTORS}/5.1.77> }}")  # the inverse link


def test_deprecate_with_a_replacement_and_merge_through_the_forms(client: TestClient) -> None:
    log_in(client, EDITOR)
    form = form_of(client, "/editor/concepts/factors/5.1.6/deprecate")
    form.update({"replacement": "9.99", "reason": "Udgår"})
    refused = client.post("/editor/concepts/factors/5.1.6/deprecate", data=form)
    assert refused.status_code == 422 and "er ikke et begreb i dette begrebssystem" in field_error(
        refused.text, "replacement"
    )
    form["replacement"] = "5.1.4"
    assert client.post("/editor/concepts/factors/5.1.6/deprecate", data=form, follow_redirects=False).status_code == 303
    page = client.get("/vocab/factors/5.1.6")
    assert "Dette begreb er udgået" in page.text and "generende støj" in page.text
    assert 'rel="successor-version"' in page.headers["link"]
    assert ask(client, f"ASK {{ <{FACTORS}/5.1.6> <http://purl.org/dc/terms/isReplacedBy> <{FACTORS}/5.1.4> }}")

    form = form_of(client, "/editor/concepts/factors/5.1.3/merge?lang=en")
    form.update({"into": "5.1.3", "reason": "Sammenlægning"})
    refused = client.post("/editor/concepts/factors/5.1.3/merge?lang=en", data=form)
    assert refused.status_code == 422 and "cannot be merged into itself" in field_error(refused.text, "into")
    form["into"] = f"{FACTORS}/5.1"
    assert client.post("/editor/concepts/factors/5.1.3/merge", data=form, follow_redirects=False).status_code == 303
    concept = client.get("/api/concepts/factors/5.1").json()
    assert "impulsstøj" in concept["altLabel"]["da"] and "slagstøj" in concept["altLabel"]["da"]
    assert client.get("/api/concepts/factors/5.1.3").json()["deprecated"] is True


# -- concept schemes -----------------------------------------------------------------------------------------


def test_new_concept_scheme_through_the_form_and_the_api(client: TestClient) -> None:
    log_in(client, EDITOR)
    form = form_of(client, "/editor/schemes")
    form.update({"id": "psykisk", "title.da": "Psykisk arbejdsmiljø", "reason": "Nyt begrebssystem"})
    refused = client.post("/editor/schemes", data=form)
    assert refused.status_code == 422 and "skal udfyldes på engelsk" in field_error(refused.text, "title")
    assert 'value="Psykisk arbejdsmiljø"' in refused.text
    form["title.en"] = "Psychosocial work environment"
    response = client.post("/editor/schemes", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/vocab/psykisk"
    assert "<h1>Psykisk arbejdsmiljø</h1>" in client.get("/vocab/psykisk").text
    assert 'href="/vocab/psykisk"' in client.get("/vocab").text
    vocabularies = skosmos(client, "vocabularies", lang="en")["vocabularies"]
    assert {"id": "psykisk", "title": "Psychosocial work environment"}.items() <= next(
        v for v in vocabularies if v["id"] == "psykisk"
    ).items()
    logged = "PREFIX cs: <http://purl.org/vocab/changeset/schema#> ASK { ?c cs:subjectOfChange <%s> }"
    assert ask(client, logged % (BASE + "vocab/psykisk"))  # in the change log
    assert client.post("/editor/schemes", data=form).status_code == 409  # the id is taken

    # The same through the API; the first concept of a new scheme becomes its top concept.
    token = bearer(client, Role.editor)
    body = {"id": "fysisk", "title": {"da": "Fysisk", "en": "Physical"}, "reason": "API"}
    assert client.post("/api/schemes", json=body, headers=bearer(client, Role.contributor)).status_code == 403
    created = client.post("/api/schemes", json=body, headers=token)
    assert created.status_code == 201 and created.headers["location"] == "/vocab/fysisk"
    missing = client.post("/api/schemes", json={"id": "x1", "title": {"da": "X"}}, headers=token)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "title"
    concept = {"notation": "1", "prefLabel": {"da": "støj", "en": "noise"}}
    assert client.post("/api/concepts/fysisk", json={"concept": concept}, headers=token).status_code == 201
    tops = skosmos(client, "fysisk/topConcepts", lang="da")["topconcepts"]
    assert [t["uri"] for t in tops] == [BASE + "vocab/fysisk/1"]


# -- collections --------------------------------------------------------------------------------------------


def test_collections_through_the_form_and_the_api(client: TestClient) -> None:
    log_in(client, EDITOR)
    form = form_of(client, "/editor/collections/factors")
    form.update({"code": "larm", "prefLabel.da": "Larm og rystelser", "prefLabel.en": "Noise and vibration"})
    form.update({"members": "5.1\n5.2\n99.9", "reason": "Til BFA-vejledning"})
    refused = client.post("/editor/collections/factors", data=form)
    assert refused.status_code == 422 and "99" in field_error(refused.text, "members")
    assert "5.2\n99.9</textarea>" in refused.text
    form["members"] = "5.1\n5.2"
    response = client.post("/editor/collections/factors", data=form, follow_redirects=False)
    assert response.status_code == 303

    scheme_page = client.get("/vocab/factors").text
    assert 'href="/vocab/factors/collection/larm"' in scheme_page and "Larm og rystelser" in scheme_page
    collection_page = client.get("/vocab/factors/collection/larm").text
    assert "<h1>Larm og rystelser</h1>" in collection_page and "vibrationer" in collection_page
    groups = skosmos(client, "factors/groups", lang="da")["groups"]
    assert {"uri": f"{FACTORS}/collection/larm", "prefLabel": "Larm og rystelser", "hasMembers": True}.items() <= (
        groups[0].items()
    )
    members = skosmos(client, "factors/groupMembers", uri=f"{FACTORS}/collection/larm", lang="da")["members"]
    assert sorted(m["uri"] for m in members) == [f"{FACTORS}/5.1", f"{FACTORS}/5.2"]

    token = bearer(client, Role.editor)
    changed = client.post(
        "/api/schemes/factors/collections/larm/members",
        json={"add": ["5.3"], "remove": [f"{FACTORS}/5.1"], "reason": "Indeklima med"},
        headers=token,
    )
    assert changed.status_code == 200 and changed.json()["added"] == 1 and changed.json()["removed"] == 1
    got = client.get("/api/schemes/factors/collections/larm").json()
    assert got["members"] == [f"{FACTORS}/5.2", f"{FACTORS}/5.3"]
    bad = client.post(
        "/api/schemes/factors/collections", json={"code": "x", "prefLabel": {"da": "x"}, "members": []}, headers=token
    )
    assert bad.status_code == 422 and {e["field"] for e in bad.json()["errors"]} == {"prefLabel"}
    assert ask(
        client,
        "PREFIX cs: <http://purl.org/vocab/changeset/schema#> "
        f'ASK {{ ?c cs:subjectOfChange <{FACTORS}/collection/larm> ; cs:changeReason "Indeklima med" }}',
    )


# -- proposals ---------------------------------------------------------------------------------------------


def test_contributor_proposes_a_label_and_another_editor_accepts_it(client: TestClient) -> None:
    log_in(client, CONTRIBUTOR)
    page = client.get("/vocab/factors/5.1").text
    assert "Foreslå nye betegnelser" in page and "Redigér begrebet" not in page
    form = form_of(client, "/editor/concepts/factors/5.1")
    assert "definition.da" not in form and "broader" not in form  # contributors see the labels only
    assert 'value="apply"' not in client.get("/editor/concepts/factors/5.1").text
    before = factors_dump(client)

    form.update({"altLabel.da": form["altLabel.da"] + "\nbulder", "reason": "Bruges på byggepladser"})
    applied = client.post("/editor/concepts/factors/5.1", data={**form, "action": "apply"})
    assert applied.status_code == 403 and "kun foreslå" in applied.text  # a contributor cannot apply directly
    proposed = client.post("/editor/concepts/factors/5.1", data={**form, "action": "propose"}, follow_redirects=False)
    saved = proposal_id(proposed)
    mine = client.get(proposed.headers["location"]).text
    assert "Venter på en redaktør" in mine and "bulder" in mine
    assert factors_dump(client) == before  # nothing applied yet

    log_in(client, EDITOR)
    queue = client.get("/editor/proposals").text
    assert f'data-proposal="{saved}"' in queue and "bulder" in queue
    decided = client.post(
        f"/editor/proposals/{saved}", data={"csrf": csrf_of(queue), "decision": "accept"}, follow_redirects=False
    )
    assert decided.status_code == 303
    assert "bulder" in client.get("/api/concepts/factors/5.1").json()["altLabel"]["da"]
    reason = client.get("/api/concepts/factors/5.1/history").json()["changes"][0]["reason"]
    assert f"user:{CONTRIBUTOR}" in reason and f"user:{EDITOR}" in reason and "Bruges på byggepladser" in reason

    log_in(client, CONTRIBUTOR)
    assert "Godkendt" in client.get("/my/proposals").text


def test_editor_saves_a_proposal_which_only_another_editor_decides(client: TestClient) -> None:
    log_in(client, EDITOR)
    before = factors_dump(client)
    form = form_of(client, "/editor/concepts/factors/5.2")
    form.update({"definition.da": "Mekaniske svingninger.", "reason": "Kortere definition", "action": "propose"})
    saved = proposal_id(client.post("/editor/concepts/factors/5.2", data=form, follow_redirects=False))
    assert factors_dump(client) == before
    queue = client.get("/editor/proposals").text
    assert "Dit eget forslag" in queue
    own = client.post(f"/editor/proposals/{saved}", data={"csrf": form["csrf"], "decision": "accept"})
    assert own.status_code == 403 and "dit eget forslag" in own.text
    assert factors_dump(client) == before

    log_in(client, SECOND_EDITOR)
    csrf = csrf_of(client.get("/editor/proposals").text)
    no_reason = client.post(f"/editor/proposals/{saved}", data={"csrf": csrf, "decision": "reject"})
    assert no_reason.status_code == 422
    rejected = client.post(
        f"/editor/proposals/{saved}",
        data={"csrf": csrf, "decision": "reject", "comment": "Definitionen skal nævne helkropsvibrationer"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303 and factors_dump(client) == before

    log_in(client, EDITOR)
    mine = client.get("/my/proposals?lang=en").text
    assert "Rejected" in mine and "helkropsvibrationer" in mine


def test_proposals_api_rules_and_a_conflict(client: TestClient) -> None:
    alice, bob = bearer(client, Role.editor, "alice"), bearer(client, Role.editor, "bob")
    contributor = bearer(client, Role.contributor, "bidrag")
    concept = client.get("/api/concepts/factors/5.1").json()

    # Contributors: new concepts and labels only; never a direct edit.
    assert client.put("/api/concepts/factors/5.1", json={"concept": concept}, headers=contributor).status_code == 403
    changed = {**concept, "definition": {"da": ["Ny definition."]}}
    body = {"scheme": "factors", "code": "5.1", "concept": changed}
    refused = client.post("/api/proposals", json=body, headers=contributor)
    assert refused.status_code == 403 and refused.json()["errors"][0]["field"] == "definition"
    new = {"notation": "5.1.88", "prefLabel": {"da": "bulder", "en": "rumble"}, "broader": ["5.1"]}
    created = client.post(
        "/api/proposals", json={"scheme": "factors", "create": True, "concept": new}, headers=contributor
    )
    assert created.status_code == 201 and created.json()["action"] == "create"
    cycle = {**concept, "broader": [f"{FACTORS}/5.1.1"]}
    invalid = client.post("/api/proposals", json={"scheme": "factors", "code": "5.1", "concept": cycle}, headers=alice)
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["rule"] == "skos:cycle"  # refused at once

    # An editor's proposal: not by its proposer; applied by another editor, validated again then.
    label = {**concept, "altLabel": {**concept["altLabel"], "da": [*concept["altLabel"]["da"], "drøn"]}}
    proposal = client.post(
        "/api/proposals", json={"scheme": "factors", "code": "5.1", "concept": label, "reason": "r"}, headers=alice
    ).json()
    assert client.post(f"/api/proposals/{proposal['id']}/accept", headers=alice).status_code == 403
    listed = client.get("/api/proposals", headers=bob).json()["proposals"]
    assert {proposal["id"], created.json()["id"]} <= {p["id"] for p in listed}
    assert all(p["status"] == "open" for p in listed)
    assert [p["id"] for p in client.get("/api/proposals", headers=contributor).json()["proposals"]] == [
        created.json()["id"]
    ]
    accepted = client.post(f"/api/proposals/{proposal['id']}/accept", headers=bob)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert "drøn" in client.get("/api/concepts/factors/5.1").json()["altLabel"]["da"]
    assert client.post(f"/api/proposals/{proposal['id']}/reject", json={"comment": "x"}, headers=bob).status_code == 409

    # A proposal whose field someone else changed meanwhile is not applied over that change.
    current = client.get("/api/concepts/factors/5.2").json()
    mine = {**current, "prefLabel": {**current["prefLabel"], "en": "vibrations"}}
    stale = client.post("/api/proposals", json={"scheme": "factors", "code": "5.2", "concept": mine}, headers=alice)
    theirs = {**current, "prefLabel": {**current["prefLabel"], "en": "vibration (mechanical)"}}
    assert client.put("/api/concepts/factors/5.2", json={"concept": theirs}, headers=bob).status_code == 200
    conflict = client.post(f"/api/proposals/{stale.json()['id']}/accept", headers=bob)
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["field"] == "prefLabel"
    assert client.get("/api/concepts/factors/5.2").json()["prefLabel"]["en"] == "vibration (mechanical)"
    assert client.get(f"/api/proposals/{stale.json()['id']}", headers=alice).json()["status"] == "open"
