"""Issue 9, performance at national scale: the synthetic data of the benchmarks, `amv serve --workers`,
the remote store's credentials and Graph Store endpoint, and the read paths on Virtuoso."""

from __future__ import annotations

import base64
import http.server
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from bench.synthetic import Generator
from graph.accounts import Accounts, Role
from graph.config import Settings
from graph.iris import RecordKind
from graph.services import Services, open_services
from graph.store import BULK_QUADS, EmbeddedStore, RemoteStore, StoreError, open_store
from graph.store_server import ManagedStoreServer, free_port
from tests.conftest import make_settings
from tests.records_util import BASE, problem_turtle
from tests.serve_util import start_serve

SAMPLE_ITEM = BASE + "id/item/0vd8vtpz"  # "Bekendtgørelse om … støj …" in data/sample/items.ttl
NOISE = BASE + "vocab/factors/5.1"
SKOS = "http://www.w3.org/2004/02/skos/core#"


def test_synthetic_records_pass_the_shapes_are_skewed_and_searchable(embedded: Services) -> None:
    generator = Generator(120, actors=20, problems=12, solutions=12)
    before = embedded.search.count()
    tagged: Counter[str] = Counter()
    years = set()
    for batch in generator.batches(100):
        outcomes = embedded.records.publish_many(batch, agent="test", source="bench.synthetic")
        assert [o.iri for o in outcomes if not o.accepted] == []
        for record in batch:
            for t in record.triples:
                if t.predicate.value.endswith("#factor"):
                    tagged[t.object.value] += 1
                if t.predicate.value.endswith("/issued"):
                    years.add(t.object.value[:4])
    assert embedded.search.count() == before + generator.total
    # Zipf: the busiest factor carries far more records than a typical one; dates spread over the years.
    counts = sorted(tagged.values(), reverse=True)
    assert tagged[generator.busiest("factors")] == counts[0] >= 4 * counts[len(counts) // 2]
    assert len(years) >= 8
    item = generator.iri(RecordKind.item, 3)
    assert embedded.store.ask(f"ASK {{ {item} a <{BASE}ontology#KnowledgeItem> }}")


CRASHING_IMPORT = """
import os, sys
from bench.synthetic import Generator
from graph.config import Settings
from graph.services import open_services

settings = Settings.from_env({"AMV_DATA_DIR": sys.argv[1]})
*earlier, batch = Generator(1_000).batches(1_000)
with open_services(settings, embedded_only=True) as services:
    for records in earlier:  # the actors, problems and solutions the knowledge items link to
        services.records.publish_many(records, agent="test")
    def crash(db, written):  # the store holds the whole batch; the ledger has not committed it
        print(len(written), services.store.ask(f"ASK {{ GRAPH {written[-1].iri} {{ ?s ?p ?o }} }}"), flush=True)
        os._exit(9)
    services.records.publish_many(batch, agent="test", source="crash test", within=crash)
"""


@pytest.mark.embedded_store("the process that crashes writes to the embedded store itself")
def test_an_import_batch_killed_before_its_acknowledgement_leaves_nothing_behind(data_dir: Path) -> None:
    """A batch that large goes through the bulk loader, which is not one transaction: the undo noted before
    the write takes the whole batch out again at the next start."""
    *earlier, batch = Generator(1_000).batches(1_000)
    assert sum(len(r.triples) for r in batch) >= BULK_QUADS
    crashed = subprocess.run(
        [sys.executable, "-c", CRASHING_IMPORT, str(data_dir)], capture_output=True, text=True, timeout=300
    )
    assert crashed.returncode == 9, crashed.stderr
    assert crashed.stdout.split() == ["1000", "True"]  # it did write all of them before dying
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        values = " ".join(str(r.iri) for r in batch)
        left = services.store.select(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        )
        assert int(left[0]["n"].value) == 0
        assert services.ledger.get(batch[0].iri.value) is None
        assert services.ledger.get(earlier[0][0].iri.value) is not None  # acknowledged: still there
        assert services.search.agreement()[0] == services.search.agreement()[1]


# -- amv serve --workers ----------------------------------------------------------------------------


def clients_on_two_workers(url: str) -> tuple[httpx.Client, httpx.Client]:
    """Two keep-alive clients whose connections are served by different worker processes."""
    seen: dict[str, httpx.Client] = {}
    for _ in range(200):
        client = httpx.Client(base_url=url, timeout=30)
        worker = client.get("/health").headers["x-worker"]
        if worker in seen:
            client.close()
            continue
        seen[worker] = client
        if len(seen) == 2:
            first, second = seen.values()
            return first, second
    raise AssertionError(f"only one worker answered 200 new connections: {list(seen)}")


@pytest.mark.embedded_store("`amv serve` runs its own store server on the data directory")
def test_two_workers_both_answer_and_see_each_others_writes_at_once(data_dir: Path) -> None:
    port = free_port()
    quiet = {"AMV_ALERTS_INTERVAL": "0", "AMV_LINK_CHECK_HOURS": "0"}
    serve = start_serve(data_dir, port, env=quiet, within=90, workers=2)
    try:
        writer, reader = clients_on_two_workers(f"http://127.0.0.1:{port}")
        assert writer.get("/health").headers["x-worker"] != reader.get("/health").headers["x-worker"]
        token = Accounts(data_dir / "ledger.sqlite").create_token("workers-test", Role.editor)
        problem = f"{BASE}id/problem/w0rker2a"
        turtle = problem_turtle("w0rker2a", title="Larm fra kaffemaskiner i tegnestuer")
        response = writer.put(
            "/rdf-graph-store",
            params={"graph": problem},
            content=turtle.encode(),
            headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {token}"},
        )
        assert response.status_code in (200, 201, 204), response.text
        # The other process shows the record and finds it in search at once.
        page = reader.get("/id/problem/w0rker2a")
        assert page.status_code == 200 and "Larm fra kaffemaskiner" in page.text
        found = reader.get("/api/search", params={"q": "kaffemaskiner"}).json()
        assert [r["iri"] for r in found["results"]] == [problem]
        writer.close()
        reader.close()
    finally:
        serve.terminate()
        serve.wait(timeout=60)


# -- remote store: settings, credentials -----------------------------------------------------------


def test_remote_store_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "AMV_STORE_URL": "http://fuseki:3030/amv/query",
            "AMV_STORE_UPDATE_URL": "http://fuseki:3030/amv/update",
            "AMV_STORE_GSP_URL": "http://fuseki:3030/amv/data",
            "AMV_STORE_USER": "amv",
            "AMV_STORE_PASSWORD": "s3cret",
        }
    )
    store = open_store(settings)
    assert isinstance(store, RemoteStore)
    assert (store.query_url, store.update_url, store.graph_store_url) == (
        "http://fuseki:3030/amv/query",
        "http://fuseki:3030/amv/update",
        "http://fuseki:3030/amv/data",
    )
    assert store.auth == ("amv", "s3cret")
    assert Settings.from_env({}).store_auth is None


class _BasicAuthProxy(http.server.BaseHTTPRequestHandler):
    """Forwards to the store server only requests that carry the expected basic credentials."""

    upstream = ""
    expected = "Basic " + base64.b64encode(b"amv:s3cret").decode()

    def _forward(self) -> None:
        if self.headers.get("Authorization") != self.expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="store"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "content-type")}
        answer = httpx.request(self.command, self.upstream + self.path, content=body, headers=headers, timeout=30)
        self.send_response(answer.status_code)
        self.send_header("Content-Type", answer.headers.get("content-type", "text/plain"))
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = _forward

    def log_message(self, *args: object) -> None:
        pass


class _DropsFirstRequest(http.server.BaseHTTPRequestHandler):
    """A SPARQL server that closes the connection of the first request without answering, as a server
    does with a kept-alive connection it times out just as the client reuses it; then answers."""

    protocol_version = "HTTP/1.1"
    requests: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.requests.append(body)
        if len(self.requests) == 1:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        answer = b'{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", "value": "1"}}]}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def test_a_query_the_store_dropped_unanswered_is_sent_again_but_an_update_is_not() -> None:
    for operation, sent_times in (("query", 2), ("update", 1)):
        handler = type("Drops", (_DropsFirstRequest,), {"requests": []})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        store = RemoteStore(f"http://127.0.0.1:{server.server_address[1]}")
        try:
            if operation == "query":
                assert [row["n"].value for row in store.select("SELECT ?n WHERE {}")] == ["1"]
            else:  # the server may have applied it: the caller must know, not a second copy be sent
                with pytest.raises(StoreError, match="dropped the connection"):
                    store.update('INSERT DATA { <https://example.org/s> <https://example.org/p> "x" }')
            assert len(handler.requests) == sent_times
        finally:
            server.shutdown()


@pytest.mark.embedded_store("runs its own store server on a copy of the data directory")
def test_remote_store_sends_basic_credentials_for_queries_updates_and_graph_store(data_dir: Path) -> None:
    with ManagedStoreServer(make_settings(data_dir)) as server:
        handler = type("Proxy", (_BasicAuthProxy,), {"upstream": server.url})
        proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{proxy.server_address[1]}"
        try:
            with pytest.raises(StoreError, match="401"):
                RemoteStore(url).select("SELECT * WHERE { ?s ?p ?o } LIMIT 1")
            settings = Settings.from_env(
                {
                    "AMV_DATA_DIR": str(data_dir),
                    "AMV_STORE_URL": url,
                    "AMV_STORE_USER": "amv",
                    "AMV_STORE_PASSWORD": "s3cret",
                }
            )
            store = open_store(settings)
            graph = ox.NamedNode("https://example.org/auth-test")
            store.replace_graph(graph, [ox.Triple(graph, ox.NamedNode("https://example.org/p"), ox.Literal("ja"))])
            assert store.ask('ASK { ?s <https://example.org/p> "ja" }')
            assert isinstance(store.default_graph_triples(), list)  # the Graph Store endpoint, with credentials
        finally:
            proxy.shutdown()
            proxy.server_close()


# -- Virtuoso ------------------------------------------------------------------------------------------

VIRTUOSO_INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 0
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 10
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""


@contextmanager
def virtuoso_with(dataset: Path, directory: Path) -> Iterator[str]:
    """Debian's Virtuoso on private ports, with the N-Quads file loaded; yields its SPARQL endpoint."""
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(dir=directory, sql_port=sql_port, http_port=http_port))
    log = (directory / "out.log").open("wb")
    process = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)], stdout=log, stderr=log)
    endpoint = f"http://127.0.0.1:{http_port}/sparql"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(endpoint, params={"query": "ASK {}"}, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (directory / "out.log").read_text()[-2000:]
            time.sleep(0.2)
        load = f"ld_dir('{dataset.parent}', '{dataset.name}', 'urn:amv:default'); rdf_loader_run(); checkpoint;"
        subprocess.run(
            ["isql-vt", f"127.0.0.1:{sql_port}", "dba", "dba", f"exec={load}"], check=True, capture_output=True
        )
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.embedded_store("dumps the embedded store into Virtuoso")
@pytest.mark.skipif(
    not (shutil.which("virtuoso-t") and shutil.which("isql-vt")),
    reason="Debian's virtuoso-opensource is not installed (apt-get install virtuoso-opensource)",
)
def test_read_paths_on_virtuoso(data_dir: Path, tmp_path: Path) -> None:
    dataset = tmp_path / "virtuoso" / "dataset.nq"
    dataset.parent.mkdir()
    store = EmbeddedStore(data_dir / "store")
    with dataset.open("wb") as out:
        store.dump_nquads(out)
    store.close()
    with virtuoso_with(dataset, dataset.parent) as endpoint:
        remote = RemoteStore(endpoint)
        assert remote.ask(f"ASK {{ <{SAMPLE_ITEM}> ?p ?o }}")
        assert not remote.ask("ASK { <https://example.org/nothing> ?p ?o }")
        graph = remote.graph_triples(ox.NamedNode(SAMPLE_ITEM))
        assert any(t.predicate.value.endswith("/title") for t in graph)
        with TestClient(create_app(make_settings(data_dir, store_url=endpoint))) as client:
            concept = client.get("/vocab/factors/5.1")
            assert concept.status_code == 200 and "Støj" in concept.text
            item = client.get("/id/item/0vd8vtpz")
            assert item.status_code == 200 and "støj" in item.text.lower()
            assert client.get("/id/item/0vd8vtpz.ttl").status_code == 200
            search = client.get("/api/search", params={"q": "støj"}).json()
            assert SAMPLE_ITEM in [r["iri"] for r in search["results"]]
            answer = client.get(
                "/sparql",
                params={"query": f"SELECT ?label WHERE {{ <{NOISE}> <{SKOS}prefLabel> ?label }}"},
                headers={"Accept": "application/sparql-results+json"},
            )
            assert answer.status_code == 200
            labels = {b["label"]["value"] for b in answer.json()["results"]["bindings"]}
            assert "støj" in {label.lower() for label in labels}
