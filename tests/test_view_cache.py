"""Whole-dataset pages are computed once per data version and are current the moment anything changes."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Role
from tests.conftest import bearer, make_settings


def test_cached_pages_follow_every_kind_of_write(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        services = client.app.state.services  # type: ignore[attr-defined]
        calls = 0
        original = services.views.get

        def counting(key, compute):  # type: ignore[no-untyped-def]
            def counted():  # type: ignore[no-untyped-def]
                nonlocal calls
                calls += 1
                return compute()

            return original(key, counted)

        services.views.get = counting
        cells = client.get("/coverage.json").json()
        client.get("/coverage.json")
        assert calls == 1  # the second request was served from the cache

        created = client.post("/api/submissions", json=EXAMPLE_ITEM, headers=editor).json()
        assert client.get("/coverage.json").json() == cells  # pending: nothing public changed
        client.post(f"/api/submissions/{created['id']}/approve", headers=editor)
        assert client.get("/coverage.json").json() != cells  # a record write

        concept = client.get("/api/concepts/factors/5.1", headers=editor).json()
        concept["prefLabel"]["da"] = "støjgener"
        client.put("/api/concepts/factors/5.1", json={"concept": concept, "reason": "test"}, headers=editor)
        assert "støjgener" in client.get("/vocab/factors", headers={"Accept": "text/html"}).text  # a thesaurus edit

        update = (
            "INSERT DATA { GRAPH <https://w3id.org/arbejdsmiljoviden/vocab/factors> { "
            "<https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> "
            '<http://www.w3.org/2004/02/skos/core#scopeNote> "Via SPARQL"@da } }'
        )
        before = services.views.version()
        assert client.post("/sparql/update", data={"update": update}, headers=editor).status_code == 200
        assert services.views.version() != before  # a SPARQL write to a scheme graph is in the change log too
