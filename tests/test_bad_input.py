"""Bad input, tried systematically over every route of the app: never a 500, never a change.

The routes are enumerated from the app itself (tests/routes_util.py), so a route added later is swept too.
Every path parameter gets traversal, encoded slashes, invalid UTF-8, markup, SPARQL-injection and huge
values; every query parameter (declared, and the names the app reads by hand) gets the same; every write
method gets malformed Turtle, JSON-LD, RDF/XML and JSON, deeply nested JSON, huge literals, invalid UTF-8,
wrong and missing content types and an oversized body (413). Each answer must be a 4xx, a success that
changed nothing, or a 503 with a message; the dataset fingerprint (quads, graphs, every ledger table) is
the same after the sweep as before. The number of inputs tried per route is written to
test-artifacts/bad-input-summary.json and printed (`pytest -rP` shows it).

Labels with HTML and `<script>` are submitted, approved and then checked escaped on every channel.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SESSION_COOKIE
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Role
from graph.store_server import ManagedStoreServer
from graph.submissions import FIELDS
from graph.vocab_forms import CONCEPT_FIELDS, TEXT_FIELDS
from tests.conftest import make_settings
from tests.routes_util import BASE_VALUES, ROUTE_BASE_VALUES, WRITE_METHODS, RouteInfo, app_routes, fingerprint

MAX_BODY = 300_000  # a small body limit for this app, so that the 413 case is cheap to send
PASSWORD = "en lang og god adgangskode"
SUMMARY = Path(__file__).resolve().parent.parent / "test-artifacts" / "bad-input-summary.json"

# Path parameter values: traversal (plain, percent-encoded, encoded slashes and backslashes), invalid UTF-8,
# NUL, markup, `javascript:`, spaces, SPARQL injection, a huge value. They are sent percent-encoded as written
# here; the server decodes them as a real one does.
HOSTILE_SEGMENTS = [
    "..%2f..%2f..%2fetc%2fpasswd",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e",
    "..%5c..%5cwindows%5cwin.ini",
    "a%2Fb%2F..%2F..%2Fc",
    "%FF%FE%FA",
    "%00",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "javascript:alert(1)",
    "a%20b",
    "%22%7D%20%3E%20%7D%20%3B%20DROP%20ALL%20%23",
    "x" * 5000,
]
# Query parameter values (sent url-encoded by the client), plus invalid UTF-8 sent raw (see below).
HOSTILE_VALUES = [
    '"}',
    "> } ; DROP ALL #",
    "\\u0022 } ; DROP ALL #",
    "') } UNION { ?s ?p ?o } #",
    "<script>alert(1)</script>",
    "javascript:alert(1)",
    "http://exa mple.org/a b",
    "../../../etc/passwd",
    "-1",
    "99999999999999999999999",
    "",
    "\x00",
    "x" * 3000,
]
# Names the app reads from `request.query_params` by hand (not declared parameters), tried on every route.
GENERIC_QUERY_NAMES = [
    "q", "query", "update", "uri", "lang", "format", "graph", "default", "page", "limit", "offset", "sort", "order",
    "factor", "industry", "knowledgeType", "evidenceLevel", "actor", "type", "region", "status", "from", "to",
    "callback", "default-graph-uri", "named-graph-uri", "next", "scheme", "labellang", "vocab", "parent", "group",
    "maxhits", "fields", "unique", "label", "mine", "state", "older", "older_than", "year", "audience",
]  # fmt: skip

DEEP_JSON = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
HUGE_LITERAL = "x" * 250_000
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="urn:x">'
    b'<rdf:value xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">&lol4;</rdf:value></rdf:Description></rdf:RDF>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="urn:x">'
    b"<rdf:value>&x;</rdf:value></rdf:Description></rdf:RDF>"
)
# (content type or None, body): what every write method of every route gets. Two of them are valid RDF (a huge
# literal; nested arrays that hold no triple), which only the routes that store any RDF an editor sends accept.
HOSTILE_BODIES: list[tuple[str | None, bytes]] = [
    (None, b""),
    (None, b'{"type": "item"}'),
    ("image/png", b'{"type": "item"}'),
    ("application/json", b'{"type": "item", "title": '),
    ("application/json", b"[]"),
    ("application/json", b'"just a string"'),
    ("application/json", b'{"type": 5, "title": {"da": ["<script>"]}, "factors": {"a": null}, "reason": 7}'),
    ("application/json", DEEP_JSON),
    ("application/json", DEEP_OBJECT),
    ("application/json", json.dumps({"type": "item", "title": {"da": HUGE_LITERAL}, "url": HUGE_LITERAL}).encode()),
    ("application/json", b'{"title": "\xff\xfe\xfa"}'),
    ("application/json; charset=latin-1", '{"title": "æøå"}'.encode("latin-1")),
    ("text/turtle", b'<urn:a> <urn:b> "unterminated .'),
    ("text/turtle", b"<http://exa mple.org/a b> a <javascript:alert(1)> ."),
    ("text/turtle", b'@prefix : <urn:> . :a :b "\xff\xfe" .'),
    ("text/turtle", b'<urn:a> <urn:b> "' + HUGE_LITERAL.encode() + b'" .'),
    ("application/n-triples", b"<urn:a> <urn:b> <urn:c>"),
    ("application/ld+json", b'{"@context": 5, "@id": "javascript:alert(1)"}'),
    ("application/ld+json", b'{"@context": {"@vocab": "urn:x:"}, "@graph": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
    ("application/ld+json", b'[{"@context": "http://127.0.0.1:9/context.jsonld", "@id": "urn:a", "urn:b": 1}]'),
    ("application/rdf+xml", b"<rdf:RDF><unclosed>"),
    ("application/rdf+xml", BILLION_LAUGHS),
    ("application/rdf+xml", XXE),
    ("application/sparql-query", b"SELECT * WHERE { ?s ?p ?o "),
    ("application/sparql-update", b"DROP ALL ; LOAD <http://127.0.0.1:9/x>"),
    ("application/x-www-form-urlencoded", b"csrf=forged&%FF=%FE&title.da=%3Cscript%3E&query=%22%7D"),
    ("application/x-www-form-urlencoded", b"\xff\xfe=\xfa"),
    ("multipart/form-data; boundary=xyz", b'--xyz\r\nContent-Disposition: form-data; name="file"\r\n\r\nno end'),
    ("multipart/form-data", b"no boundary at all"),
    ("text/csv", b"type,title.da\nitem,<script>alert(1)</script>\n\xff\xfe"),
]


FULL = os.environ.get("AMV_FULL_SWEEP") == "1"  # `make soak` sets it: every input on every route and method

# Form field names: every `name=` of the templates, the record fields (per language) and the concept fields.
TEMPLATES = Path(__file__).resolve().parent.parent / "api" / "templates"
FORM_FIELDS = sorted(
    {m for t in TEMPLATES.glob("*.html") for m in re.findall(r'name="([A-Za-z_.@-]+)"', t.read_text())}
    | {f"{spec.name}.{lang}" for spec in FIELDS for lang in ("da", "en")}
    | {spec.name for spec in FIELDS}
    | {f"{name}.{lang}" for name in TEXT_FIELDS for lang in ("da", "en")}
    | set(CONCEPT_FIELDS)
    | {"id", "code", "members", "title", "url", "secret"}
)
SESSION_ENDING = {"/logout"}  # posting these with the session's CSRF token would end the sweep's session
# Deprecating a concept needs nothing but a reason, and any text is a reason: a form full of text is a valid
# request there, so the forms go to a concept that does not exist.
FORM_TARGETS = {"/editor/concepts/{scheme_id}/{code}/{mode}": {"code": "999.999"}}
# The Graph Store Protocol stores whatever valid RDF an editor sends (in graphs that are not records): the two
# valid RDF bodies are not sent there.
STORES_ANY_RDF = {"/rdf-graph-store", "/rdf-graph-store/{path:path}"}
VALID_RDF = {
    b'<urn:a> <urn:b> "' + HUGE_LITERAL.encode() + b'" .',
    b'{"@context": {"@vocab": "urn:x:"}, "@graph": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
}  # posting these with the session's CSRF token would end the sweep's session


@dataclass
class Site:
    client: TestClient
    data_dir: Path
    admin: dict[str, str]  # a bearer header
    session: dict[str, str]  # the Cookie header of an admin's login session
    csrf: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, initialised_dir: Path) -> Iterator[Site]:
    data_dir = tmp_path_factory.mktemp("bad-input") / "data"
    shutil.copytree(initialised_dir, data_dir)
    settings = replace(
        make_settings(data_dir), query_timeout=1.0, result_limit=200, max_body_bytes=MAX_BODY, write_limit=0
    )
    with (
        ManagedStoreServer(settings) as server,
        TestClient(create_app(replace(settings, store_url=server.url)), raise_server_exceptions=False) as client,
    ):
        accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
        admin = {"Authorization": "Bearer " + accounts.create_token("sweeper", Role.admin)}
        accounts.add_user("admin@example.org", "Ada Admin", Role.admin, PASSWORD)
        secret, session = accounts.login("admin@example.org", PASSWORD, "sweep")
        # The session goes in a header per request (the client's cookie jar stays anonymous).
        yield Site(client, data_dir, admin, {"Cookie": f"{SESSION_COOKIE}={secret}"}, session.csrf)


def store_fingerprint(site: Site) -> dict[str, int]:
    return fingerprint(site.data_dir, site.client.app.state.services.store)  # type: ignore[attr-defined]


def graphs(site: Site) -> set[str]:
    """The named graphs of the store, to say what a change was when the fingerprint differs."""
    return {g.value for g in site.client.app.state.services.store.named_graphs()}  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Probe:
    route: RouteInfo
    method: str
    url: str
    what: str
    params: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    data: dict[str, str] | None = None


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    status: int
    body: bytes
    headers: dict[str, str]


def run(site: Site, probes: list[Probe]) -> list[Outcome]:
    """Send the probes, a few at a time (most of a request's time is spent in the store server or waiting)."""

    def send(probe: Probe) -> Outcome:
        response = site.client.request(
            probe.method,
            probe.url,
            params=probe.params,
            headers=probe.headers,
            content=probe.content,
            data=probe.data,
            files=probe.files,
            follow_redirects=False,
        )
        return Outcome(probe, response.status_code, response.content, dict(response.headers))

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(send, probes))


def bad(outcome: Outcome) -> bool:
    """A server error; a 503 is allowed when it says what is wrong (the SPARQL time limit, no mail server)."""
    return outcome.status >= 500 and not (outcome.status == 503 and outcome.body.strip())


def report(name: str, outcomes: list[Outcome]) -> list[str]:
    """The failures, readable; and the number of inputs per route for the closing note."""
    tried = Counter(f"{o.probe.method} {o.probe.route.path}" for o in outcomes)
    SUMMARY.parent.mkdir(exist_ok=True)
    data = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    data[name] = {"mode": "full" if FULL else "quick", "total": len(outcomes), "per route": dict(sorted(tried.items()))}
    SUMMARY.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    print(f"\n{name} ({'full' if FULL else 'quick'}): {len(outcomes)} inputs over {len(tried)} route methods")
    for key, count in sorted(tried.items()):
        print(f"  {count:4d}  {key}")
    return [
        f"{o.status} {o.probe.method} {o.probe.url[:150]} ({o.probe.what}): {o.body[:300]!r}"
        for o in outcomes
        if bad(o)
    ]


def routes_of(site: Site) -> list[RouteInfo]:
    return app_routes(site.client.app)  # type: ignore[arg-type]


def credentials(site: Site, method: str) -> dict[str, str]:
    """Writes are tried as an admin (to get past the role checks to the parsing); reads anonymously."""
    return dict(site.admin) if method in WRITE_METHODS else {}


def test_every_path_parameter_has_a_base_value(site: Site) -> None:
    """A new route with a new parameter name needs a plausible value in tests/routes_util.py to be swept."""
    missing = [
        (route.path, name)
        for route in routes_of(site)
        for name in route.path_params
        if name not in BASE_VALUES and name not in ROUTE_BASE_VALUES.get(route.path, {})
    ]
    assert not missing, missing


def test_hostile_path_parameters_on_every_route(site: Site) -> None:
    before = store_fingerprint(site)
    probes: list[Probe] = []
    for route in routes_of(site):
        methods = sorted(route.methods, key=lambda m: m != "GET")  # GET first: it gets every value
        for name in route.path_params:
            for n, method in enumerate(methods):
                values = HOSTILE_SEGMENTS if FULL or n == 0 else HOSTILE_SEGMENTS[::4]
                for value in values:
                    url = route.url(**{name: value})
                    what = f"path parameter {name}"
                    probes.append(Probe(route, method, url, what, headers=credentials(site, method)))
        if not route.path_params:  # still tried with an encoded traversal appended
            url = route.path.rstrip("/") + "/..%2f..%2fetc%2fpasswd"
            probes.append(Probe(route, methods[0], url, "traversal appended", headers=credentials(site, methods[0])))
    outcomes = run(site, probes)
    failures = report("path parameters", outcomes)
    assert not failures, "\n".join(failures)
    leaked = [o.probe.url for o in outcomes if o.status == 200 and b"root:x:0:0" in o.body]
    assert not leaked, leaked
    assert store_fingerprint(site) == before


# Routes that act on a request without reading a body or parameters: the sweep sends them anonymously only
# (an admin's request there is a valid request, and starts the work).
ACTS_WITHOUT_INPUT = {
    ("POST", "/api/vocab/{scheme}/quality/check-mappings"),
    ("POST", "/vocab/{scheme}/quality/check-mappings"),
}


def test_hostile_query_parameters_on_every_route(site: Site) -> None:
    """Every declared query parameter and every name the app reads by hand gets every hostile value — in
    quick mode spread over two requests per route (each parameter a different value in each, so that every
    value meets many parameters), one anonymous and one as an admin; plus a huge value and raw invalid UTF-8."""
    before = store_fingerprint(site)
    probes: list[Probe] = []
    rounds = len(HOSTILE_VALUES) if FULL else 2
    small = [v for v in HOSTILE_VALUES if len(v) < 100]
    for route in routes_of(site):
        names = list(dict.fromkeys([*route.query_params, *GENERIC_QUERY_NAMES]))
        url = route.url()
        for method in sorted(route.methods - {"DELETE", "PUT"}):
            admin = {} if (method, route.path) in ACTS_WITHOUT_INPUT else credentials(site, "POST")
            for k in range(rounds):
                params = {name: small[(i + k) % len(small)] for i, name in enumerate(names)}
                for headers in ({}, admin) if FULL else ({} if k % 2 == 0 else admin,):
                    probes.append(Probe(route, method, url, f"query round {k}", params=params, headers=headers))
            huge = {name: "x" * 3000 for name in (route.query_params or ("q", "query"))}
            probes.append(Probe(route, method, url, "huge values", params=huge, headers=admin))
            raw = "&".join(f"{name}=%FF%FE%25{i}" for i, name in enumerate(names)) + "&%ZZ=%"
            probes.append(Probe(route, method, f"{url}?{raw}", "invalid UTF-8 in the query", headers=admin))
    outcomes = run(site, probes)
    failures = report("query parameters", outcomes)
    assert not failures, "\n".join(failures)
    assert store_fingerprint(site) == before


def form_probes(site: Site, route: RouteInfo, method: str, index: int) -> list[Probe]:
    """Forms as a logged-in admin would post them (session + its CSRF token), every field hostile."""
    csrf = "forged" if route.path in SESSION_ENDING else site.csrf
    url = route.url(**FORM_TARGETS.get(route.path, {}))
    markup = {name: '<script>alert(1)</script>"} > } ; DROP ALL #' for name in FORM_FIELDS} | {"csrf": csrf}
    invalid = (f"csrf={csrf}&" + "&".join(f"{name}=%FF%FE%00" for name in FORM_FIELDS)).encode()
    upload = {"file": ("x.ttl", b"\xff\xfe<urn:a> <urn:b> . \x00" * 100, "text/turtle")}
    forms = [
        Probe(route, method, url, "form: markup and injection", headers=dict(site.session), data=markup),
        Probe(
            route,
            method,
            url,
            "form: invalid UTF-8",
            headers={**site.session, "Content-Type": "application/x-www-form-urlencoded"},
            content=invalid,
        ),
        Probe(route, method, url, "multipart: junk file", headers=dict(site.session), data=markup, files=upload),
    ]
    return forms if FULL else [forms[index % len(forms)]]


def test_hostile_bodies_on_every_write_route(site: Site) -> None:
    """Malformed bodies in every format: with an admin token (the APIs), and as forms of an admin's login
    session with its CSRF token (the HTML forms), so that they get past the role checks to the parsing.
    Quick mode: each route gets a rotating share of the bodies (all of them are sent, to some route),
    always the deeply nested and the invalid UTF-8 JSON, one form and an oversized body."""
    before, graphs_before = store_fingerprint(site), graphs(site)
    probes: list[Probe] = []
    always = [b for b in HOSTILE_BODIES if b[1] in (DEEP_JSON, b'{"title": "\xff\xfe\xfa"}')]
    others = [b for b in HOSTILE_BODIES if b not in always]
    share = len(others) if FULL else 8
    index = 0
    for route in routes_of(site):
        for method in sorted(route.writes):
            if (method, route.path) in ACTS_WITHOUT_INPUT:
                continue
            url = route.url()
            picked = [others[(index * share + i) % len(others)] for i in range(share)]
            for content_type, body in [*always, *picked]:
                if route.path in STORES_ANY_RDF and body in VALID_RDF:
                    continue
                headers = dict(site.admin) | ({"Content-Type": content_type} if content_type else {})
                probes.append(Probe(route, method, url, f"{content_type} {body[:40]!r}", headers=headers, content=body))
            probes.extend(form_probes(site, route, method, index))
            index += 1
    outcomes = run(site, probes)
    failures = report("bodies", outcomes)
    # Over the limit: 413 from every write route, before it reads anything.
    for route in routes_of(site):
        for method in sorted(route.writes):
            headers = {**site.admin, "Content-Type": "text/turtle"}
            oversized = site.client.request(method, route.url(), content=b"x" * (MAX_BODY + 1), headers=headers)
            if oversized.status_code != 413:
                failures.append(f"{oversized.status_code}, not 413, for an oversized body to {method} {route.path}")
    assert not failures, "\n".join(failures)
    assert store_fingerprint(site) == before, graphs(site) ^ graphs_before


# -- markup in labels: submitted, approved, then shown escaped on every channel ---------------------------------

XSS = '</script><script>alert("xss")</script><img src=x onerror=alert(1)> xsskontrol & "citat"'
RAW_MARKUP = ('<script>alert("xss")', "<img src=x onerror")


def strings(data: object) -> Iterator[str]:
    """Every text value in a JSON document."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from strings(value)
    elif isinstance(data, list):
        for value in data:
            yield from strings(value)


def json_ld_blocks(html: str) -> list[str]:
    """The text of every `<script type="application/ld+json">` element, ended where a browser ends it."""
    return re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, flags=re.DOTALL | re.IGNORECASE)


def test_markup_in_a_label_is_escaped_everywhere(site: Site) -> None:
    client = site.client
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    contributor = {"Authorization": "Bearer " + accounts.create_token("markup-contributor", Role.contributor)}
    editor = {"Authorization": "Bearer " + accounts.create_token("markup-editor", Role.editor)}
    item = {**EXAMPLE_ITEM, "title": {"da": XSS, "en": XSS}, "description": {"da": XSS + " beskrivelse"}}
    item["url"] = "https://example.org/xsskontrol"
    created = client.post("/api/submissions", json=item, headers=contributor)
    assert created.status_code == 201, created.text
    body = created.json()
    assert client.post(f"/api/submissions/{body['id']}/approve", headers=editor).status_code == 200
    path = "/" + body["iri"].split("/arbejdsmiljoviden/", 1)[1]

    pages = {
        "record page": client.get(path),
        "record page (en)": client.get(path, params={"lang": "en"}),
        "search page": client.get("/search", params={"q": "xsskontrol"}),
        "items page": client.get("/items"),
        "home page": client.get("/"),
    }
    for name, page in pages.items():
        assert page.status_code == 200, name
        for raw in RAW_MARKUP:
            assert raw not in page.text, f"unescaped markup on the {name}"
        # The JSON-LD embedded in the page is one whole JSON document: `</script>` in a label did not end it.
        for block in json_ld_blocks(page.text):
            json.loads(block)
    assert "&lt;script&gt;" in pages["record page"].text
    assert "xsskontrol" in pages["search page"].text
    record_data = [json.loads(b) for b in json_ld_blocks(pages["record page"].text)]
    assert XSS in strings(record_data), "the title is in the embedded JSON-LD, intact"

    # Machine channels carry the text exactly (escaping is the consumer's job), with types that no browser
    # renders as HTML.
    results = client.get("/api/search", params={"q": "xsskontrol"})
    assert results.headers["content-type"].startswith("application/json")
    assert any(r["title"] == XSS for r in results.json()["results"])
    suggest = client.get("/api/suggest", params={"q": "xsskontrol"})
    assert suggest.headers["content-type"].startswith("application/json")
    assert XSS in strings(suggest.json())
    for response in (results, suggest):
        assert response.headers["x-content-type-options"] == "nosniff"

    atom = client.get("/feeds/items.atom")
    titles = [e.findtext("{http://www.w3.org/2005/Atom}title") for e in ElementTree.fromstring(atom.content).iter()]
    assert XSS in titles, "the Atom feed holds the title as text (escaped XML), not as elements"
    assert not any(raw in atom.text for raw in RAW_MARKUP)
    feed = client.get("/feeds/items.json").json()
    assert any(entry.get("title") == XSS for entry in feed["items"])

    # A query that is markup is not reflected as markup either.
    echoed = client.get("/search", params={"q": XSS})
    assert echoed.status_code == 200 and not any(raw in echoed.text for raw in RAW_MARKUP)


# -- query bombs on the public SPARQL endpoint -------------------------------------------------------------------

BOMBS = {
    "cartesian product": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "deep property path": "PREFIX : <urn:x:> SELECT * WHERE { ?s (:p|!:p)* ?o . ?o (:p|!:p)* ?z }",
    "huge VALUES": "SELECT ?x WHERE { VALUES ?x { " + " ".join(str(n) for n in range(30_000)) + " } }",
    "catastrophic regex": 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o . ?a ?b ?c FILTER regex(str(?o), "(a+)+$") }',
}


def test_query_bombs_get_a_bounded_answer(site: Site) -> None:
    """Each bomb is stopped at the time limit (503 with a message) or cut at the row limit — never a 500, never
    longer than the limit allows, and the endpoint answers normally afterwards."""
    settings_timeout = 1.0
    for name, query in BOMBS.items():
        started = time.perf_counter()
        response = site.client.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
        elapsed = time.perf_counter() - started
        assert elapsed < settings_timeout + 6, f"{name} took {elapsed:.1f} s"
        if response.status_code == 503:
            assert "time limit" in response.text, name
        else:
            assert response.status_code == 200, (name, response.status_code, response.text[:300])
            rows = response.json()["results"]["bindings"]
            assert len(rows) <= 200, name
    ok = site.client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": "application/json"})
    assert ok.status_code == 200 and ok.json()["boolean"] is True
