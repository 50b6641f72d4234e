"""Outbound safety, proved two ways.

1. Statically: no module under graph/ opens network connections itself except the few that talk to
   configured services (the store, the store server, the language model, the SMTP server) and
   graph/outbound.py, through which every fetch of an address that data or users supply goes (link checker,
   harvester, webhooks, mapping checks — each of which must use it). A new module that imports httpx,
   urllib.request, requests, http.client, aiohttp, urllib3 or socket fails here until it is reviewed and listed.
2. At run time: SPARQL SERVICE and LOAD, remote JSON-LD contexts and graph names that are URLs never make
   the app (or its store server) fetch anything, on every public path — /sparql (GET, POST form, POST
   query), /sparql/update, the Graph Store Protocol and the submission API. A real HTTP server on 127.0.0.1
   counts what reaches it: nothing may.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings
from tests.http_util import LocalSite, local_site

GRAPH = Path(__file__).resolve().parent.parent / "graph"
NETWORK_MODULES = {"httpx", "urllib.request", "requests", "http.client", "aiohttp", "urllib3", "socket", "pycurl"}
# Who may open connections, and why it is safe: each reaches only an address from the configuration.
ALLOWED = {
    "outbound.py": {"httpx", "socket"},  # the outbound policy itself: every user- or data-supplied address
    "store.py": {"httpx"},  # the configured store (AMV_STORE_URL) or the managed store server
    "store_server.py": {"httpx", "socket"},  # starts the store server on a free loopback port and waits for it
    "public_sparql.py": {"httpx"},  # forwards guarded researcher queries to the store server
    "llm.py": {"httpx"},  # the configured language model (AMV_LLM_URL)
    "alerts.py": {"socket"},  # socket.gethostname() for the name of a lease holder; no connection
}
FETCHERS = ["links.py", "webhooks.py", "vocab_quality.py", "harvest/fetching.py"]


def network_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {n for n in names if n in NETWORK_MODULES or n.split(".")[0] in NETWORK_MODULES - {"urllib"}}
    return found


def test_only_the_listed_modules_open_connections() -> None:
    unexpected = {}
    for path in sorted(GRAPH.rglob("*.py")):
        name = path.relative_to(GRAPH).as_posix()
        extra = network_imports(path) - ALLOWED.get(name, set())
        if extra:
            unexpected[name] = sorted(extra)
        text = path.read_text(encoding="utf-8")
        if "urlopen(" in text or "create_connection(" in text and name not in ALLOWED:
            unexpected.setdefault(name, []).append("urlopen/create_connection")
    assert not unexpected, f"network access outside graph/outbound.py: {unexpected}"


def test_every_fetcher_goes_through_the_outbound_policy() -> None:
    for name in FETCHERS:
        tree = ast.parse((GRAPH / name).read_text(encoding="utf-8"))
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
        }
        assert "graph.outbound" in imported, f"{name} fetches without graph/outbound.py"
        assert not network_imports(GRAPH / name), name


def test_the_static_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text("import urllib.request as r\nfrom httpx import Client\nfrom http import client\n")
    assert network_imports(sneaky) >= {"urllib.request", "httpx", "http.client"}


# -- SERVICE, LOAD and friends on every public path: nothing reaches a local server ------------------------------


@pytest.fixture(scope="module")
def trap() -> Iterator[LocalSite]:
    """A server the app must never reach (it answers anything, so a fetch would succeed if attempted)."""
    nquads = (200, {"Content-Type": "application/n-triples"}, b"<urn:trap:s> <urn:trap:p> <urn:trap:o> .\n")
    with local_site({"/sparql": lambda r: nquads, "/data.nt": lambda r: nquads, "/ctx": lambda r: nquads}) as site:
        yield site


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, initialised_dir: Path) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("outbound-paths") / "data"
    shutil.copytree(initialised_dir, data_dir)
    # Even with loopback allowed for outbound fetches, SPARQL must not fetch.
    settings = make_settings(data_dir, outbound_allow=("127.0.0.1",), query_timeout=3.0)
    with ManagedStoreServer(settings) as server, TestClient(create_app(replace(settings, store_url=server.url))) as c:
        yield c


def queries(url: str) -> list[str]:
    return [
        f"SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }} }} }}",
        f"PREFIX t: <{url}/> SELECT * WHERE {{ SERVICE t:sparql {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{url}/data.nt> WHERE {{ ?s ?p ?o }} LIMIT 1",
        f"SELECT * FROM NAMED <{url}/data.nt> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} LIMIT 1",
        f"ASK {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    ]


def test_sparql_service_and_load_are_refused_on_every_public_path(client: TestClient, trap: LocalSite) -> None:
    url = trap.base
    editor = {"Authorization": "Bearer " + client.app.state.services.accounts.create_token("o", Role.editor)}  # type: ignore[attr-defined]
    answers = []
    for query in queries(url):
        answers.append(("GET", client.get("/sparql", params={"query": query})))
        answers.append(("POST form", client.post("/sparql", data={"query": query})))
        direct = {"Content-Type": "application/sparql-query"}
        answers.append(("POST direct", client.post("/sparql", content=query, headers=direct)))
        with_graphs = {"query": query, "default-graph-uri": f"{url}/data.nt", "named-graph-uri": f"{url}/data.nt"}
        answers.append(("dataset parameters", client.get("/sparql", params=with_graphs)))
    updates = [
        f"LOAD <{url}/data.nt>",
        f"load silent <{url}/data.nt> into graph <urn:x>",
        f"INSERT {{ GRAPH <urn:x> {{ ?s ?p ?o }} }} WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
        f"\\u004cOAD <{url}/data.nt>",
    ]
    for update in updates:
        answers.append(("update form", client.post("/sparql/update", data={"update": update}, headers=editor)))
        direct = {**editor, "Content-Type": "application/sparql-update"}
        answers.append(("update direct", client.post("/sparql/update", content=update, headers=direct)))
    # Graph names that are URLs, and JSON-LD with a remote context: read or stored, never fetched.
    remote_context = f'{{"@context": "{url}/ctx", "@id": "urn:x:a", "urn:x:p": "v"}}'
    jsonld = {**editor, "Content-Type": "application/ld+json"}
    answers += [
        ("graph store GET", client.get("/rdf-graph-store", params={"graph": f"{url}/data.nt"})),
        (
            "graph store PUT",
            client.put("/rdf-graph-store", params={"graph": "urn:x:g"}, content=remote_context, headers=jsonld),
        ),
        ("submission", client.post("/api/submissions", content=remote_context, headers=jsonld)),
        ("Skosmos data", client.get("/rest/v1/data", params={"uri": f"{url}/data.nt"})),
    ]
    server_errors = [
        (how, a.status_code, a.text[:200]) for how, a in answers if a.status_code >= 500 and a.status_code != 503
    ]
    assert not server_errors, server_errors
    refused = [how for how, a in answers[: len(queries(url)) * 4] if a.status_code == 403]
    assert len(refused) >= 4 * 7, "SERVICE is refused before evaluation (FROM is read from the store, not fetched)"
    assert all(a.status_code == 403 for how, a in answers if how.startswith("update")), "SERVICE/LOAD in updates"
    assert trap.seen == [], [f"{r.method} {r.path}" for r in trap.seen]
    assert not client.app.state.services.store.ask("ASK { <urn:trap:s> ?p ?o }")  # type: ignore[attr-defined]
