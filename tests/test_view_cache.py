"""Whole-dataset pages are computed once per data version, follow every kind of write, and under load
neither stampede nor make a request wait for a recount."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Role
from graph.services import open_services
from graph.view_cache import Scope
from tests.conftest import bearer, make_settings
from tests.records_util import BASE, PREFIXES, triples


def _current(client: TestClient, path: str, timeout: float = 30) -> dict[str, Any]:
    """The JSON at `path` once its figures are current (they are recounted in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get(path).json()
        if body["current"] or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_cached_pages_follow_every_kind_of_write(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        services = client.app.state.services  # type: ignore[attr-defined]
        first = _current(client, "/coverage.json")
        again = client.get("/coverage.json").json()
        assert again["current"] and again["countedAt"] == first["countedAt"]  # served from the cache
        tree_version = services.views.version(Scope.thesaurus)

        created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=editor).json()
        pending = _current(client, "/coverage.json")
        assert pending["current"] and pending["counts"] == first["counts"]  # pending: nothing public changed
        client.post(f"/api/submissions/{created['id']}/approve", headers=editor)
        recounted = _current(client, "/coverage.json")
        assert recounted["current"] and recounted["counts"] != first["counts"]  # a record write
        assert services.views.version(Scope.thesaurus) == tree_version  # scheme trees stay cached

        concept = client.get("/api/concepts/factors/5.1", headers=editor).json()
        concept["prefLabel"]["da"] = "støjgener"
        client.put("/api/concepts/factors/5.1", json={"concept": concept, "reason": "test"}, headers=editor)
        assert "støjgener" in client.get("/vocab/factors", headers={"Accept": "text/html"}).text  # a thesaurus edit
        edited_version = services.views.version(Scope.thesaurus)
        assert edited_version != tree_version

        update = (
            "INSERT DATA { GRAPH <https://w3id.org/arbejdsmiljoviden/vocab/factors> { "
            "<https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> "
            '<http://www.w3.org/2004/02/skos/core#scopeNote> "Via SPARQL"@da } }'
        )
        before = services.views.version()
        assert client.post("/sparql/update", data={"update": update}, headers=editor).status_code == 200
        assert services.views.version() != before  # a SPARQL write to a scheme graph is in the change log too
        assert services.views.version(Scope.thesaurus) != edited_version
        assert "Via SPARQL" in client.get("/vocab/factors/5.1", headers={"Accept": "text/html"}).text


def test_many_requests_for_an_outdated_view_compute_it_once(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        views = client.app.state.services.views  # type: ignore[attr-defined]
        calls = 0
        lock = threading.Lock()

        def slow() -> int:
            nonlocal calls
            with lock:
                calls += 1
            time.sleep(0.3)
            return 42

        def slow_view_of_records() -> tuple[int, list[str]]:
            return slow(), ["https://w3id.org/arbejdsmiljoviden/id/actor/zhe5ymay"]

        for read in (lambda: views.get("slow", slow), lambda: views.of_records("slow records", slow_view_of_records)):
            calls = 0
            results: list[int] = []
            threads = [threading.Thread(target=lambda r=read, into=results: into.append(r())) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert results == [42] * 8 and calls == 1


def test_a_recount_never_makes_a_request_wait(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        views = client.app.state.services.views  # type: ignore[attr-defined]
        release = threading.Event()
        counts = iter(range(100))

        def blocked_count() -> int:
            value = next(counts)
            if value:  # the first count is waited for; later ones block until released
                release.wait(30)
            return value

        assert views.latest("figures", blocked_count).value == 0
        created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=editor).json()
        client.post(f"/api/submissions/{created['id']}/approve", headers=editor)
        started = time.monotonic()
        stale = views.latest("figures", blocked_count)
        assert time.monotonic() - started < 1.0
        assert stale.value == 0 and not stale.current  # the previous figures, marked as being recounted
        release.set()
        views.settle()
        fresh = views.latest("figures", blocked_count)
        assert fresh.value == 1 and fresh.current and fresh.at >= stale.at


def test_pages_say_when_their_figures_were_counted(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        for path in ("/coverage", "/about"):
            html = client.get(path, headers={"Accept": "text/html"}).text
            assert 'data-counted="current"' in html and "<time datetime=" in html


def test_a_view_of_records_is_kept_until_a_change_touches_one_of_them(data_dir: Path) -> None:
    problem = f"{BASE}id/problem/y8q6s2j0"  # a problem of the sample data
    computed: list[int] = []

    def linking() -> tuple[int, list[str]]:
        total = sum(n for n, _ in services.search.incoming(problem, 5).values())  # records linking to it
        computed.append(total)
        return total, [problem]

    def item(n: int, extra: str = "") -> str:
        return f"""<{BASE}id/item/v{n:07d}> a amv:KnowledgeItem ; dct:title "Viden {n}"@da ;
    dct:description "Et eksempel."@da ; amv:knowledgeType <{BASE}vocab/knowledge-types/04> ;
    amv:factor factor:5.1 ; dct:issued "2020-01-01"^^xsd:date {extra} ."""

    with open_services(make_settings(data_dir), embedded_only=True) as services:
        first = services.views.of_records("problem", linking)
        services.records.load(triples(PREFIXES + item(1)), agent="test")  # does not link to the problem
        assert services.views.of_records("problem", linking) == first and len(computed) == 1

        services.records.load(triples(PREFIXES + item(2, f"; amv:addresses <{problem}>")), agent="test")
        assert services.views.of_records("problem", linking) == first + 1 and len(computed) == 2
        services.records.load(triples(PREFIXES + item(2)), agent="test")  # the new version drops the link
        assert services.views.of_records("problem", linking) == first and len(computed) == 3

        services.records.log_change(
            [NamedNode(f"{BASE}links")], "checked", agent="test", reason="test", thesaurus=False
        )
        assert services.views.of_records("problem", linking) == first and len(computed) == 4
