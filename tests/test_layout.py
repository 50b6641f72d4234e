"""The documented upgrade path of a data directory's layout: an older directory is brought up to date,
step by step, and a directory from a newer release is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Role
from graph.layout import CURRENT, FILE
from graph.ledger import RecordStatus
from graph.services import open_services
from graph.store import EmbeddedStore
from tests.conftest import bearer, make_settings
from tests.test_cli import amv

HEAD = "https://w3id.org/arbejdsmiljoviden/ontology#head"
CHANGES = "https://w3id.org/arbejdsmiljoviden/changes"


def make_layout_1(data_dir: Path) -> int:
    """Turn an initialised directory into one of the first release: a change log without its head
    statement, and no layout file. Returns the log's newest sequence number."""
    with TestClient(create_app(make_settings(data_dir))) as client:
        editor = bearer(client, Role.editor)
        for n in range(2):
            item = {**EXAMPLE_ITEM, "title": {"da": f"Lag {n}"}, "url": f"https://example.org/lag-{n}"}
            created = client.post("/api/submissions", json=item, headers=editor).json()
            client.post(f"/api/submissions/{created['id']}/approve", headers=editor)
    store = EmbeddedStore(data_dir / "store")
    try:
        rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{CHANGES}> {{ <{CHANGES}> <{HEAD}> ?n }} }}")
        head = int(rows[0]["n"].value)
        store.update(f"DELETE WHERE {{ GRAPH <{CHANGES}> {{ <{CHANGES}> <{HEAD}> ?n }} }}")
    finally:
        store.close()
    (data_dir / FILE).unlink()
    return head


@pytest.mark.embedded_store("writes an older layout into the embedded store files")
def test_amv_upgrade_brings_a_first_release_directory_up_to_date(data_dir: Path) -> None:
    head = make_layout_1(data_dir)
    assert head >= 2
    result = amv(data_dir, "upgrade", check=True)
    assert f"layout 1 → {CURRENT}" in result.stdout and "amv:head" in result.stdout
    assert json.loads((data_dir / FILE).read_text())["layout"] == CURRENT
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        assert services.records.changelog.head() == head
        assert services.store.ask(f"ASK {{ GRAPH <{CHANGES}> {{ <{CHANGES}> <{HEAD}> {head} }} }}")
        # Writing goes on from there: the next changeset is numbered head + 1.
        iri = sorted(services.ledger.iris_with_status(RecordStatus.published))[0]
        services.records.withdraw(NamedNode(iri), agent="test", reason="upgrade test")
        assert services.records.changelog.head() == head + 1
    assert "up to date" in amv(data_dir, "upgrade", check=True).stdout


@pytest.mark.embedded_store("writes an older layout into the embedded store files")
def test_opening_an_older_directory_upgrades_it_silently(data_dir: Path) -> None:
    head = make_layout_1(data_dir)
    with TestClient(create_app(make_settings(data_dir))) as client:
        assert client.get("/ready").status_code == 200
        assert client.app.state.services.records.changelog.head() == head  # type: ignore[attr-defined]
    assert json.loads((data_dir / FILE).read_text())["layout"] == CURRENT


@pytest.mark.embedded_store("writes an older layout into the embedded store files")
def test_a_directory_of_a_newer_release_is_refused_untouched(data_dir: Path) -> None:
    (data_dir / FILE).write_text(json.dumps({"layout": CURRENT + 1}))
    result = amv(data_dir, "upgrade")
    assert result.returncode != 0 and "newer than this version" in result.stderr
    served = amv(data_dir, "validate")
    assert served.returncode == 3 and "newer than this version" in served.stderr and "Traceback" not in served.stderr
    assert json.loads((data_dir / FILE).read_text())["layout"] == CURRENT + 1
