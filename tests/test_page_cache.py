"""Public pages are built once per data version for anonymous visitors, and never outlive a change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM
from graph import impact
from graph.accounts import Role
from graph.services import open_services
from graph.views import INCOMING_SHOWN
from graph.vocab_release import create_release
from tests.conftest import bearer, make_settings
from tests.login_util import EDITOR, app_with_users, log_in
from tests.records_util import BASE, PREFIXES, triples
from tests.test_actors import incoming_sections

HTML = {"Accept": "text/html"}
CONCEPT = "/vocab/factors/5.1"
ACTOR_ID = "zhe5ymay"  # an actor of the sample data


def test_a_page_is_built_once_and_again_after_any_write(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        first = client.get(CONCEPT, headers=HTML)
        second = client.get(CONCEPT, headers=HTML)
        assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
        assert second.text == first.text and second.headers["x-request-id"] != first.headers["x-request-id"]

        concept = client.get("/api/concepts/factors/5.1", headers=editor).json()
        concept["prefLabel"]["da"] = "støjgener"
        client.put("/api/concepts/factors/5.1", json={"concept": concept, "reason": "test"}, headers=editor)
        after_edit = client.get(CONCEPT, headers=HTML)
        assert after_edit.headers["x-cache"] == "miss" and "støjgener" in after_edit.text

        # A write that does not pass through this app's routes (the CLI, another worker or instance).
        services = client.app.state.services  # type: ignore[attr-defined]
        services.records.log_change(
            [services.iris.scheme("factors")], "sparql-update", agent="test", reason="elsewhere"
        )
        assert client.get(CONCEPT, headers=HTML).headers["x-cache"] == "miss"
        assert client.get(CONCEPT, headers=HTML).headers["x-cache"] == "hit"
        reload = client.get(CONCEPT, headers={**HTML, "Cache-Control": "no-cache"})  # a browser's reload
        assert reload.headers["x-cache"] == "miss" and reload.text == after_edit.text


def test_the_data_twin_and_each_language_are_kept_apart(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        html = client.get(CONCEPT, headers=HTML)
        turtle = client.get(CONCEPT, headers={"Accept": "text/turtle"})
        assert turtle.headers["content-type"].startswith("text/turtle") and turtle.text != html.text
        english = client.get(CONCEPT + "?lang=en", headers=HTML)  # sets the language cookie: not kept
        assert english.headers["x-cache"] == "miss" and 'lang="en"' in english.text
        assert client.get(CONCEPT + "?lang=en", headers=HTML).headers["x-cache"] == "miss"
        client.cookies.set("lang", "en")
        assert 'lang="en"' in client.get(CONCEPT, headers=HTML).text
        again = client.get(CONCEPT, headers=HTML)
        assert again.headers["x-cache"] == "hit" and 'lang="en"' in again.text
        client.cookies.clear()
        assert '<html lang="da"' in client.get(CONCEPT, headers=HTML).text


def test_a_logged_in_editor_never_gets_the_anonymous_page_nor_leaks_theirs(data_dir: Path) -> None:
    with app_with_users(make_settings(data_dir)) as client:
        anonymous = client.get(CONCEPT, headers=HTML)
        log_in(client, EDITOR)
        as_editor = client.get(CONCEPT, headers=HTML)
        assert "x-cache" not in as_editor.headers and as_editor.text != anonymous.text
        client.cookies.clear()
        again = client.get(CONCEPT, headers=HTML)
        assert again.headers["x-cache"] == "hit" and again.text == anonymous.text
        token = bearer(client, Role.editor)
        assert "x-cache" not in client.get(CONCEPT, headers={**HTML, **token}).headers


def test_a_scheme_tree_outlives_record_writes_but_not_a_thesaurus_edit(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        assert client.get("/vocab/factors", headers=HTML).headers["x-cache"] == "miss"
        created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=editor).json()
        client.post(f"/api/submissions/{created['id']}/approve", headers=editor)
        assert client.get("/vocab/factors", headers=HTML).headers["x-cache"] == "hit"
        assert client.get(CONCEPT, headers=HTML).headers["x-cache"] == "miss"  # lists the records tagged
        concept = client.get("/api/concepts/factors/5.1", headers=editor).json()
        concept["prefLabel"]["da"] = "støjgener"
        client.put("/api/concepts/factors/5.1", json={"concept": concept, "reason": "test"}, headers=editor)
        tree = client.get("/vocab/factors", headers=HTML)
        assert tree.headers["x-cache"] == "miss" and "støjgener" in tree.text
        services = client.app.state.services  # type: ignore[attr-defined]
        create_release(services, services.iris.scheme("factors"), "2026.9", agent="test")  # e.g. `amv vocab release`
        released = client.get("/vocab/factors", headers=HTML)
        assert released.headers["x-cache"] == "miss" and "2026.9" in released.text  # the page lists its releases


def test_a_record_page_is_kept_until_a_record_it_shows_changes(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        target, other = "/id/problem/y8q6s2j0", "/id/problem/ykvxhw3b"  # two problems of the sample data
        for path in (target, other):
            assert client.get(path, headers=HTML).headers["x-cache"] == "miss"
        assert client.get(target, headers=HTML).headers["x-cache"] == "hit"

        def publish(item: dict[str, object]) -> str:
            created = client.post("/api/submissions", json=item, headers=editor).json()
            assert client.post(f"/api/submissions/{created['id']}/approve", headers=editor).status_code == 200
            return str(created["iri"])

        publish({**EXAMPLE_ITEM, "title": {"da": "Et emne uden forbindelse"}})  # links to neither problem
        assert client.get(target, headers=HTML).headers["x-cache"] == "hit"
        assert client.get(other, headers=HTML).headers["x-cache"] == "hit"

        linking = publish(
            {**EXAMPLE_ITEM, "title": {"da": "Viden om netop dette problem"}, "addresses": [target.rsplit("/", 1)[-1]]}
        )
        fresh = client.get(target, headers=HTML)  # a new record that links to the problem changes its page
        assert fresh.headers["x-cache"] == "miss" and linking.rsplit("/", 1)[-1] in fresh.text
        assert client.get(other, headers=HTML).headers["x-cache"] == "hit"

        services = client.app.state.services  # type: ignore[attr-defined]
        services.records.withdraw(NamedNode(linking), agent="test", reason="test")  # e.g. from the CLI
        gone = client.get(target, headers=HTML)  # and so does its withdrawal
        assert gone.headers["x-cache"] == "miss" and linking.rsplit("/", 1)[-1] not in gone.text


def test_the_lists_of_actors_and_events_are_kept_until_an_actor_or_event_changes(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        for path in ("/actors", "/events"):
            assert client.get(path, headers=HTML).headers["x-cache"] == "miss"
        created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=editor).json()
        client.post(f"/api/submissions/{created['id']}/approve", headers=editor)  # a knowledge item
        for path in ("/actors", "/events"):
            assert client.get(path, headers=HTML).headers["x-cache"] == "hit"
        services = client.app.state.services  # type: ignore[attr-defined]
        actor = services.iris.base + "id/actor/" + ACTOR_ID
        assert "/id/actor/" + ACTOR_ID in client.get("/actors", headers=HTML).text
        services.records.withdraw(NamedNode(actor), agent="test", reason="test")
        assert client.get("/events", headers=HTML).headers["x-cache"] == "miss"  # it names organisers
        fresh = client.get("/actors", headers=HTML)
        assert fresh.headers["x-cache"] == "miss" and "/id/actor/" + ACTOR_ID not in fresh.text


def test_a_busy_records_count_follows_a_change_to_a_record_it_does_not_name(data_dir: Path) -> None:
    """A page names the newest 50 records that link to it but counts them all: when one it does not name
    stops linking to it (a new version, or a withdrawal), the kept page is not served any more."""
    problem = f"{BASE}id/problem/y8q6s2j0"  # a problem of the sample data

    def item(n: int, *, linked: bool) -> str:
        return f"""<{BASE}id/item/b{n:07d}> a amv:KnowledgeItem ;
    dct:title "Viden nummer {n:02d} om problemet"@da ;
    dct:description "En af mange vejledninger om samme problem."@da ;
    amv:knowledgeType <{BASE}vocab/knowledge-types/04> ;
    amv:factor factor:5.1 ;
    dct:issued "20{n:02d}-01-01"^^xsd:date {f"; amv:addresses <{problem}>" if linked else ""} .
"""

    with open_services(make_settings(data_dir), embedded_only=True) as services:
        turtle = PREFIXES + "\n".join(item(n, linked=True) for n in range(INCOMING_SHOWN + 5))
        assert all(o.accepted for o in services.records.load(triples(turtle), agent="test"))
    path = "/id/problem/y8q6s2j0"
    with TestClient(create_app(make_settings(data_dir))) as client:
        before = incoming_sections(client.get(path, headers=HTML).text)["item"]
        assert client.get(path, headers=HTML).headers["x-cache"] == "hit"
        assert "b0000000" not in before[1]  # the oldest: counted, not named

        services = client.app.state.services  # type: ignore[attr-defined]
        outcome = services.records.load(triples(PREFIXES + item(0, linked=False)), agent="test")
        assert outcome[0].action == "replaced"
        after = client.get(path, headers=HTML)
        assert after.headers["x-cache"] == "miss"
        assert incoming_sections(after.text)["item"][0] == before[0] - 1

        services.records.withdraw(NamedNode(f"{BASE}id/item/b0000001"), agent="test", reason="test")
        withdrawn = client.get(path, headers=HTML)
        assert withdrawn.headers["x-cache"] == "miss"
        assert incoming_sections(withdrawn.text)["item"][0] == before[0] - 2


def test_an_actors_page_and_figures_are_kept_until_a_record_naming_it_changes(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An actor's page sums up every record naming it. It is kept, and its figures are kept even when the
    page is built again (a reload), until a record naming it is written, replaced or withdrawn."""
    counted: list[str] = []
    count_actor_impact = impact.count_actor_impact

    def counting(services: object, actor: str) -> impact.ActorImpact:
        counted.append(actor)
        return count_actor_impact(services, actor)  # type: ignore[arg-type]

    monkeypatch.setattr(impact, "count_actor_impact", counting)
    path, reload = f"/id/actor/{ACTOR_ID}", {**HTML, "Cache-Control": "no-cache"}

    def kinds(html: str) -> dict[str, int]:
        rows = re.findall(r'<tr data-kind="(\w+)"><th scope="row">[^<]+</th><td>(\d+)</td>', html)
        return {kind: int(n) for kind, n in rows}

    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        first = client.get(path, headers=HTML)
        assert first.headers["x-cache"] == "miss" and len(counted) == 1
        before = kinds(first.text)

        def publish(item: dict[str, object]) -> str:
            created = client.post("/api/submissions", json=item, headers=editor).json()
            assert client.post(f"/api/submissions/{created['id']}/approve", headers=editor).status_code == 200
            return str(created["iri"])

        publish({**EXAMPLE_ITEM, "title": {"da": "Et emne fra en anden aktør"}})
        assert client.get(path, headers=HTML).headers["x-cache"] == "hit"
        rebuilt = client.get(path, headers=reload)  # built again, from the kept figures
        assert rebuilt.headers["x-cache"] == "miss" and len(counted) == 1 and kinds(rebuilt.text) == before

        naming = publish({**EXAMPLE_ITEM, "title": {"da": "Et emne fra netop denne aktør"}, "publisher": ACTOR_ID})
        fresh = client.get(path, headers=HTML)
        assert fresh.headers["x-cache"] == "miss" and len(counted) == 2
        assert kinds(fresh.text) == {**before, "item": before.get("item", 0) + 1}

        services = client.app.state.services  # type: ignore[attr-defined]
        services.records.withdraw(NamedNode(naming), agent="test", reason="test")
        gone = client.get(path, headers=reload)
        assert len(counted) == 3 and kinds(gone.text) == before
