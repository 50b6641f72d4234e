"""Backups taken while the real server runs, restores that bring the service back, and dumps that
round-trip losslessly."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import Dataset
from rdflib.compare import isomorphic

from api.app import create_app
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Accounts, Role
from graph.backup import BackupError, load_dataset
from graph.services import open_services
from graph.store_server import free_port
from tests.conftest import make_settings
from tests.serve_util import start_serve
from tests.test_cli import amv


def dataset_of(nquads: bytes) -> Dataset:
    dataset = Dataset()
    dataset.parse(data=nquads, format="nquads")
    return dataset


def same_dataset(a: bytes, b: bytes) -> bool:
    """Isomorphic graph by graph (the change log holds blank nodes, so a plain set comparison won't do)."""
    left, right = dataset_of(a), dataset_of(b)
    names = {g.identifier for g in left.graphs()}
    if names != {g.identifier for g in right.graphs()}:
        return False
    return all(isomorphic(left.graph(name), right.graph(name)) for name in names)


def dump_of(data_dir: Path) -> bytes:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        buffer = io.BytesIO()
        services.store.dump_nquads(buffer)
        return buffer.getvalue()


def test_backup_while_serving_then_restore_runs_the_service(data_dir: Path, tmp_path: Path) -> None:
    token = Accounts(data_dir / "ledger.sqlite").create_token("backup-test", Role.editor)
    auth = {"Authorization": f"Bearer {token}"}
    port = free_port()
    serve = start_serve(data_dir, port)
    base = f"http://127.0.0.1:{port}"
    try:
        created = httpx.post(f"{base}/api/submissions", json=EXAMPLE_ITEM, headers=auth, timeout=30)
        assert created.status_code == 201, created.text
        submission = created.json()
        approved = httpx.post(f"{base}/api/submissions/{submission['id']}/approve", headers=auth, timeout=30)
        assert approved.status_code == 200, approved.text
        pending = httpx.post(
            f"{base}/api/submissions", json={**EXAMPLE_ITEM, "url": "https://example.org/b"}, headers=auth, timeout=30
        )
        assert pending.status_code == 201

        result = amv(data_dir, "backup", str(tmp_path / "backup"), check=True)  # online, through the server
        assert "published records" in result.stdout
        refused = amv(data_dir, "backup", str(tmp_path / "backup"))
        assert refused.returncode != 0 and "not empty" in refused.stderr
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    original = dump_of(data_dir)

    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert "smtp_password" not in manifest["settings"]
    restored_dir = tmp_path / "restored"
    amv(restored_dir, "restore", str(tmp_path / "backup"), check=True)
    assert same_dataset(dump_of(restored_dir), original)

    with TestClient(create_app(make_settings(restored_dir))) as client:
        assert client.get("/ready").status_code == 200
        path = submission["iri"].removeprefix("https://w3id.org/arbejdsmiljoviden")
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200
        # Accounts and pending work came back too: the token still works, the pending submission waits.
        mine = client.get(f"/api/submissions/{pending.json()['id']}", headers=auth)
        assert mine.status_code == 200 and mine.json()["status"] == "pending"
        assert "Ro på stuen" in client.get("/search", params={"q": "Ro på stuen"}).text

    # A restore never overwrites a deployment unless told to, and refuses a damaged backup.
    again = amv(restored_dir, "restore", str(tmp_path / "backup"))
    assert again.returncode != 0 and "--force" in again.stderr
    (tmp_path / "backup" / "dataset.nq").write_bytes(b"<http://x> <http://y> <http://z> .\n")
    damaged = amv(tmp_path / "other", "restore", str(tmp_path / "backup"))
    assert damaged.returncode != 0 and "damaged" in damaged.stderr


def test_dump_and_load_round_trip_losslessly(data_dir: Path, tmp_path: Path) -> None:
    dump = tmp_path / "dump.nq"
    amv(data_dir, "dump", str(dump), check=True)
    target = tmp_path / "fresh"
    loaded = amv(target, "load", "--dataset", str(dump), check=True)
    assert "records published" in loaded.stdout
    assert same_dataset(dump_of(target), dump.read_bytes())
    with open_services(make_settings(data_dir), embedded_only=True) as before:
        published = before.ledger.count_by_status()["published"]
    with TestClient(create_app(make_settings(target))) as client:
        ready = client.get("/ready").json()
        assert ready["index"]["documents"] == ready["index"]["published_records"] == published


def test_load_dataset_refuses_bad_input_and_changes_nothing(data_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.nq"
    broken.write_text("<http://a> <http://b> .\n", encoding="utf-8")
    target = tmp_path / "fresh"
    with open_services(make_settings(target), embedded_only=True) as services:
        with pytest.raises(BackupError, match="not an N-Quads file"):
            load_dataset(services, broken, agent="test")
        # A record graph that breaks its shape: the whole dump is refused.
        record = ox.NamedNode("https://w3id.org/arbejdsmiljoviden/id/problem/badbad00")
        bad = tmp_path / "bad.nq"
        bad.write_text(
            f"{record} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
            f"<https://w3id.org/arbejdsmiljoviden/ontology#Problem> {record} .\n",
            encoding="utf-8",
        )
        with pytest.raises(BackupError, match="do not conform"):
            load_dataset(services, bad, agent="test")
        assert services.store.named_graphs() == []
        assert services.ledger.count_by_status() == {}
    # Into a store that already holds a deployment: refused.
    with (
        open_services(make_settings(data_dir), embedded_only=True) as services,
        pytest.raises(BackupError, match="not empty"),
    ):
        load_dataset(services, broken, agent="test")
