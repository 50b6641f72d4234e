"""Link preservation against a real local web site: the checker, the record page, the report, the data.

The test site (http.server on 127.0.0.1) has a good page, a dead one (404), a redirect, a page whose
server refuses HEAD (405) and a page that dies between two checks. The store's own sample links are
removed first, so that the only links are the site's and nothing leaves this machine.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from graph.cli import app as cli
from graph.config import Settings
from graph.iris import mint_id
from graph.links import LinkChecker, LinkState
from graph.services import Services, open_services
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, triples

AMV = BASE + "ontology#"


class Site(ThreadingHTTPServer):
    """The local test site; `requests` logs (method, path) of every request it got."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), SiteHandler)
        self.requests: list[tuple[str, str]] = []
        self.dying_alive = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class SiteHandler(BaseHTTPRequestHandler):
    server: Site

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet test server
        pass

    def _answer(self, body: bool) -> None:
        self.server.requests.append((self.command, self.path))
        path = self.path
        if path == "/nohead" and self.command == "HEAD":
            status = 405
        elif path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/good")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        elif (
            path in ("/good", "/nohead")
            or path.startswith("/archive/")
            or (path == "/dying" and self.server.dying_alive)
        ):
            status = 200
        elif path == "/dying":
            status = 410
        else:
            status = 404
        payload = b"<html><body>page</body></html>"
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)


@pytest.fixture
def site() -> Iterator[Site]:
    server = Site()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def quiet_dir(data_dir: Path) -> Path:
    """The sample data without its external links (they point at the real web)."""
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        for prop in (
            "<https://schema.org/url>",
            "<http://purl.org/dc/terms/source>",
            "<http://purl.org/dc/terms/license>",
        ):
            services.store.update(f"DELETE WHERE {{ GRAPH ?g {{ ?s {prop} ?u }} }}")
    return data_dir


def allowed(data_dir: Path, **overrides: object) -> Settings:
    return make_settings(data_dir, outbound_allow=("127.0.0.1",), link_host_interval=0.0, **overrides)


def actor(url: str, *, archived: str | None = None, title: str = "Testaktør") -> tuple[str, str]:
    """Turtle of a published actor whose website is `url`; returns (IRI, Turtle)."""
    iri = f"{BASE}id/actor/{mint_id()}"
    extra = f" ; amv:archivedCopy <{archived}>" if archived else ""
    turtle = (
        PREFIXES
        + f"""
<{iri}> a amv:Actor ;
    dct:title "{title}"@da ;
    dct:description "En aktør til test af linktjek."@da ;
    amv:actorType <{BASE}vocab/actor-types/01> ;
    schema:url <{url}>{extra} .
"""
    )
    return iri, turtle


def publish(services: Services, turtle: str) -> None:
    outcomes = services.records.load(triples(turtle), agent="test")
    assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]


def record_path(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def test_checker_flags_exactly_the_dead_link_and_the_page_shows_it(quiet_dir: Path, site: Site) -> None:
    settings = allowed(quiet_dir)
    good, dead, moved, nohead, dying = (site.url(p) for p in ("/good", "/dead", "/moved", "/nohead", "/dying"))
    archive = site.url("/archive/dying")  # the record's own archived copy (checked too: it works)
    with TestClient(create_app(settings)) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        iris = {}
        for name, url, archived in (
            ("good", good, None),
            ("dead", dead, None),
            ("moved", moved, None),
            ("nohead", nohead, None),
            ("dying", dying, archive),
        ):
            iris[name], turtle = actor(url, archived=archived, title=f"Testaktør {name}")
            publish(services, turtle)

        first = LinkChecker(services).run()
        assert [c.url for c in first.broken] == [dead]
        checks = services.links.many([good, dead, moved, nohead, dying])
        assert checks[dead].state == LinkState.broken and checks[dead].status == 404
        assert checks[dead].last_ok_at is None
        assert checks[moved].state == LinkState.working and checks[moved].final_url == good
        # HEAD→GET fallback: the server refused HEAD with 405, GET worked.
        assert checks[nohead].state == LinkState.working and checks[nohead].method == "GET"
        assert ("HEAD", "/nohead") in site.requests and ("GET", "/nohead") in site.requests
        assert ("GET", "/good") not in site.requests  # HEAD sufficed

        # The dead link's record page: flagged, never seen working, pointer to the Wayback Machine.
        page = client.get(record_path(iris["dead"])).text
        flag = re.search(r'<section class="link-flags".*?</section>', page, re.S)
        assert flag is not None and dead in flag.group(0)
        assert f'href="https://web.archive.org/web/*/{dead}"' in flag.group(0)
        assert "Har ikke virket" in flag.group(0)
        assert 'class="link-flags"' not in client.get(record_path(iris["good"])).text

        # A page that dies between two checks: broken at once (410), with the date it last worked and
        # the record's own archived copy.
        seen_working = checks[dying].last_ok_at
        assert seen_working is not None
        site.dying_alive = False
        second = LinkChecker(services).run()
        assert sorted(c.url for c in second.broken) == sorted([dead, dying])
        page = client.get(record_path(iris["dying"]) + "?lang=en").text
        flag = re.search(r'<section class="link-flags".*?</section>', page, re.S)
        assert flag is not None and "HTTP 410" in flag.group(0)
        assert f'<time datetime="{seen_working}">{seen_working[:10]}</time>' in flag.group(0)
        assert f'href="{archive}"' in flag.group(0) and "See the archived copy" in flag.group(0)
        assert "archived copy</dt>" in page and f'<a href="{archive}" rel="external">' in page  # shown as a fact too

        # The editors' report, HTML and JSON, filterable and sortable.
        report = client.get("/links.json", params={"state": "broken", "sort": "host"}).json()
        assert [link["url"] for link in report["links"]] == sorted([dead, dying])
        assert report["counts"]["broken"] == 2 and report["counts"]["working"] == 4  # good, moved, nohead, archive
        assert report["links"][0]["records"] == [iris["dead"]]
        by_status = client.get("/links.json", params={"sort": "status", "order": "desc"}).json()["links"]
        assert [link["status"] for link in by_status][:2] == [410, 404]
        html = client.get("/links", params={"state": "broken"}).text
        assert f'data-url="{dead}"' in html and f'data-url="{good}"' not in html and "Testaktør dead" in html
        assert client.get("/links", params={"sort": "nonsense"}).status_code == 400
        assert client.get("/links.json", params={"state": "nonsense"}).status_code == 400

        # In the data: the public graph <base>linkstatus, also in SPARQL's union default graph.
        turtle = client.get("/linkstatus", headers={"Accept": "text/turtle"})
        assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
        graph = {q.triple for q in ox.parse(turtle.content, format=ox.RdfFormat.TURTLE)}
        assert ox.Triple(ox.NamedNode(dead), ox.NamedNode(AMV + "linkState"), ox.NamedNode(AMV + "linkBroken")) in graph
        assert (
            ox.Triple(ox.NamedNode(good), ox.NamedNode(AMV + "linkState"), ox.NamedNode(AMV + "linkWorking")) in graph
        )
        assert (
            ox.Triple(
                ox.NamedNode(dead), ox.NamedNode("http://purl.org/dc/terms/isReferencedBy"), ox.NamedNode(iris["dead"])
            )
            in graph
        )
        assert client.get("/linkstatus", follow_redirects=False).status_code == 303  # a browser goes to /links


def test_private_addresses_are_refused_and_reported_not_fetched(quiet_dir: Path, site: Site) -> None:
    # No AMV_OUTBOUND_ALLOW: the local site is as forbidden as any private network.
    settings = make_settings(quiet_dir, link_host_interval=0.0)
    with open_services(settings, embedded_only=True) as services:
        local, private = site.url("/good"), "http://10.0.0.1/intranet"
        for url in (local, private):
            publish(services, actor(url)[1])
        summary = LinkChecker(services).run()
        assert summary.by_state == {"refused": 2}
        checks = services.links.many([local, private])
        assert {c.state for c in checks.values()} == {LinkState.refused}
        assert "private" in (checks[private].error or "") and "127.0.0.1" in (checks[local].error or "")
        assert summary.broken == []
        report = [link.url for link in services.links.report(state=LinkState.refused)]
        assert sorted(report) == sorted([local, private])
    assert site.requests == []  # nothing was fetched


def test_cli_check_and_only_stale(quiet_dir: Path, site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_services(make_settings(quiet_dir), embedded_only=True) as services:
        publish(services, actor(site.url("/dead"))[1])
        publish(services, actor(site.url("/good"))[1])
    env = {"AMV_DATA_DIR": str(quiet_dir), "AMV_OUTBOUND_ALLOW": "127.0.0.1", "AMV_LINK_HOST_INTERVAL": "0"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    first = runner.invoke(cli, ["links", "check"])
    assert first.exit_code == 0, first.output
    assert "checked 2 addresses" in first.output and f"broken {site.url('/dead')}" in first.output
    again = runner.invoke(cli, ["links", "check", "--only-stale"])
    assert again.exit_code == 0 and "checked 0 addresses" in again.output


def test_scheduled_job_runs_inside_the_app(quiet_dir: Path, site: Site) -> None:
    settings = replace(allowed(quiet_dir), link_check_hours=0.0003)  # about a second: first run soon after start
    with open_services(settings, embedded_only=True) as services:
        publish(services, actor(site.url("/dead"))[1])
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        deadline = time.monotonic() + 15
        while services.links.get(site.url("/dead")) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        check = services.links.get(site.url("/dead"))
        assert check is not None and check.state == LinkState.broken
        assert services.links.last_run()["trigger"] == "schedule"


def test_an_archived_copy_must_be_a_web_address(embedded: Services) -> None:
    good = actor("https://example.org/", archived="https://web.archive.org/web/2020/https://example.org/")[1]
    assert embedded.records.load(triples(good), agent="test")[0].accepted
    bad = actor("https://example.org/", archived="ftp://example.org/copy")[1]
    outcome = embedded.records.load(triples(bad), agent="test")[0]
    assert not outcome.accepted and any(v.path == AMV + "archivedCopy" for v in outcome.violations)
