"""Nothing acknowledged is lost: writes in a loop against the real server, `kill -9` at random moments,
restart, and every acknowledged write is there — and the store, the ledger, the search index and the
change log agree."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from pyoxigraph import NamedNode

from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Accounts, Role
from graph.services import open_services
from graph.store_server import free_port
from tests.conftest import make_settings
from tests.serve_util import start_serve
from tests.test_serve import gone, store_server_pid

KILLS = 6
FACTOR = "factors/5.1"


@dataclass
class Acknowledged:
    submitted: dict[str, str] = field(default_factory=dict)  # submission id -> record IRI
    approved: set[str] = field(default_factory=set)  # record IRIs
    labels: list[str] = field(default_factory=list)  # altLabels added to the concept, in order
    attempts: int = 0


def writer(base: str, auth: dict[str, str], done: Acknowledged, stop: threading.Event, n: int) -> None:
    """Submit, approve and edit in a loop; remember only what the server acknowledged."""
    with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
        while not stop.is_set():
            done.attempts += 1
            key = f"{n}-{done.attempts}"
            try:
                body = {**EXAMPLE_ITEM, "title": {"da": f"Varig viden {key}"}, "url": f"https://example.org/{key}"}
                created = client.post("/api/submissions", json=body)
                if created.status_code == 201:
                    done.submitted[created.json()["id"]] = created.json()["iri"]
                    approved = client.post(f"/api/submissions/{created.json()['id']}/approve")
                    if approved.status_code == 200:
                        done.approved.add(created.json()["iri"])
                concept = client.get(f"/api/concepts/{FACTOR}").json()
                label = f"varig betegnelse {key}"
                concept.setdefault("altLabel", {}).setdefault("da", []).append(label)
                edited = client.put(f"/api/concepts/{FACTOR}", json={"concept": concept, "reason": "durability"})
                if edited.status_code == 200:
                    done.labels.append(label)
            except (httpx.HTTPError, ValueError):
                return  # the server was killed mid-request: that write was not acknowledged


@pytest.mark.embedded_store("`amv serve` runs (and loses to kill -9) its own store server on the data directory")
def test_acknowledged_writes_survive_kill_9(data_dir: Path) -> None:
    token = Accounts(data_dir / "ledger.sqlite").create_token("durability", Role.editor)
    auth = {"Authorization": f"Bearer {token}"}
    done = Acknowledged()
    rng = random.Random(20261127)
    for round_number in range(KILLS):
        port = free_port()
        server = start_serve(data_dir, port)
        store_pid = store_server_pid(data_dir)
        stop = threading.Event()
        thread = threading.Thread(target=writer, args=(f"http://127.0.0.1:{port}", auth, done, stop, round_number))
        thread.start()
        time.sleep(rng.uniform(0.5, 2.5))
        os.kill(server.pid, signal.SIGKILL)  # the app and (through PR_SET_PDEATHSIG) its store server die
        server.wait(timeout=30)
        stop.set()
        thread.join(timeout=30)
        assert gone(store_pid), "the store server outlived its parent"

    assert done.approved and done.labels, "hardly any write was acknowledged: the test proves nothing"
    port = free_port()
    server = start_serve(data_dir, port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=auth, timeout=30) as client:
            assert client.get("/ready").status_code == 200, client.get("/ready").text  # index == ledger
            for submission_id in done.submitted:
                assert client.get(f"/api/submissions/{submission_id}").status_code == 200
            for iri in done.approved:
                path = iri.removeprefix("https://w3id.org/arbejdsmiljoviden")
                assert client.get(path, headers={"Accept": "text/turtle"}).status_code == 200, iri
            for iri in rng.sample(sorted(done.approved), min(5, len(done.approved))):
                title = next(
                    t
                    for t in client.get(iri.removeprefix("https://w3id.org/arbejdsmiljoviden") + ".jsonld").text.split(
                        '"'
                    )
                    if t.startswith("Varig viden")
                )
                found = client.get("/api/search", params={"q": f'"{title}"'}).json()
                assert iri in {r["iri"] for r in found["results"]}, (title, found["total"])
            concept = client.get(f"/api/concepts/{FACTOR}").json()
            assert set(done.labels) <= set(concept["altLabel"]["da"])
    finally:
        server.terminate()
        server.wait(timeout=30)

    # Store and ledger agree exactly: every published record has its graph and nothing else does,
    # and every record write is in the change log.
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        published = services.ledger.iris_with_status(services.ledger.get(next(iter(done.approved))).status)
        graphs = {g.value for g in services.store.named_graphs() if services.iris.parse_record(g) is not None}
        assert graphs == published
        for iri in done.approved:
            assert services.records.triples(NamedNode(iri))
            assert services.store.ask(
                f"ASK {{ GRAPH ?log {{ ?change <http://purl.org/vocab/changeset/schema#subjectOfChange> <{iri}> }} }}"
            )
    print(
        f"\n{done.attempts} write rounds, {len(done.approved)} approvals acknowledged and present after {KILLS} kills"
    )
