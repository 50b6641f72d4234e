"""Access control: who may write what is exactly the matrix in README ("Who may write what"), tried for every
write route and every role; contributors cannot touch what others submitted; pending records are invisible
through every public channel; cookies are secure; security headers are on every route; writes are
rate-limited per token or login.

The write routes are enumerated from the app (tests/routes_util.py): a write route that is not in MATRIX
below fails `test_the_matrix_names_every_write_route` until it is added here and in README.
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import SESSION_COOKIE
from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Role
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings
from tests.routes_util import app_routes

PASSWORD = "en lang og god adgangskode"

# Who may call each write route, as README documents it:
#   ("public", None)        anyone (the form's own double-submit CSRF token, a secret link, or a read);
#   ("token", role)         `Authorization: Bearer` with at least the role; a login session is not enough;
#   ("session", role)       a login session with at least the role, and the session's CSRF token; a token is refused;
#   ("own session", None)   the session's own CSRF token (log out).
PUBLIC, TOKEN, SESSION, OWN_SESSION = "public", "token", "session", "own session"
C, E, A = Role.contributor, Role.editor, Role.admin
MATRIX: dict[tuple[str, str], tuple[str, Role | None]] = {
    ("POST", "/login"): (PUBLIC, None),
    ("POST", "/logout"): (OWN_SESSION, None),
    ("POST", "/alerts"): (PUBLIC, None),
    ("POST", "/alerts/confirm/{token}"): (PUBLIC, None),
    ("POST", "/alerts/manage/{subscription_id}/{signature}"): (PUBLIC, None),
    ("POST", "/alerts/unsubscribe/{subscription_id}/{signature}"): (PUBLIC, None),
    ("POST", "/ask-us"): (PUBLIC, None),
    ("POST", "/sparql"): (PUBLIC, None),
    # The submission API
    ("POST", "/api/submissions"): (TOKEN, C),
    ("PUT", "/api/submissions/{submission_id}"): (TOKEN, C),
    ("POST", "/api/submissions/{submission_id}/approve"): (TOKEN, E),
    ("POST", "/api/submissions/{submission_id}/reject"): (TOKEN, E),
    ("POST", "/api/submissions/{submission_id}/send-back"): (TOKEN, E),
    # Webhooks: any token for its own hooks (editors: all hooks); the admin page
    ("POST", "/api/webhooks"): (TOKEN, C),
    ("DELETE", "/api/webhooks/{hook_id}"): (TOKEN, C),
    ("POST", "/api/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver"): (TOKEN, C),
    ("POST", "/admin/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver"): (SESSION, A),
    # Vocabulary editing API
    ("PUT", "/api/concepts/{scheme}/{code}"): (TOKEN, E),
    ("POST", "/api/concepts/{scheme}"): (TOKEN, E),
    ("POST", "/api/concepts/{scheme}/{code}/deprecate"): (TOKEN, E),
    ("POST", "/api/concepts/{scheme}/{code}/merge"): (TOKEN, E),
    ("POST", "/api/schemes"): (TOKEN, E),
    ("POST", "/api/schemes/{scheme}/collections"): (TOKEN, E),
    ("PUT", "/api/schemes/{scheme}/collections/{code}"): (TOKEN, E),
    ("POST", "/api/schemes/{scheme}/collections/{code}/members"): (TOKEN, E),
    ("POST", "/api/proposals"): (TOKEN, C),
    ("POST", "/api/proposals/{proposal_id}/accept"): (TOKEN, E),
    ("POST", "/api/proposals/{proposal_id}/reject"): (TOKEN, E),
    ("POST", "/api/changes/{sequence}/revert"): (TOKEN, E),
    ("POST", "/api/vocab/{scheme}/releases"): (TOKEN, E),
    ("POST", "/api/vocab/{scheme}/quality/check-mappings"): (TOKEN, E),
    # SPARQL Update and the Graph Store Protocol
    ("POST", "/sparql/update"): (TOKEN, E),
    ("PUT", "/rdf-graph-store"): (TOKEN, E),
    ("POST", "/rdf-graph-store"): (TOKEN, E),
    ("DELETE", "/rdf-graph-store"): (TOKEN, E),
    ("PUT", "/rdf-graph-store/{path:path}"): (TOKEN, E),
    ("POST", "/rdf-graph-store/{path:path}"): (TOKEN, E),
    ("DELETE", "/rdf-graph-store/{path:path}"): (TOKEN, E),
    # HTML forms of people who logged in
    ("POST", "/submit/{kind_name}"): (SESSION, C),
    ("POST", "/submissions/{submission_id}/edit"): (SESSION, C),
    ("POST", "/editor/concepts/{scheme_id}"): (SESSION, C),
    ("POST", "/editor/concepts/{scheme_id}/{code}"): (SESSION, C),
    ("POST", "/review/{submission_id}"): (SESSION, E),
    ("POST", "/import"): (SESSION, E),
    ("POST", "/import/apply"): (SESSION, E),
    ("POST", "/editor/concepts/{scheme_id}/{code}/{mode}"): (SESSION, E),
    ("POST", "/editor/schemes"): (SESSION, E),
    ("POST", "/editor/collections/{scheme_id}"): (SESSION, E),
    ("POST", "/editor/collections/{scheme_id}/{code}"): (SESSION, E),
    ("POST", "/editor/proposals/{proposal_id}"): (SESSION, E),
    ("POST", "/editor/vocab-import"): (SESSION, E),
    ("POST", "/editor/vocab-import/apply"): (SESSION, E),
    ("POST", "/changes/{sequence}/revert"): (SESSION, E),
    ("POST", "/vocab/{scheme}/releases"): (SESSION, E),
    ("POST", "/vocab/{scheme}/quality/check-mappings"): (SESSION, E),
    ("POST", "/requests/{request_id}"): (SESSION, E),
    ("POST", "/requests/{request_id}/answer"): (SESSION, E),
    ("POST", "/requests/{request_id}/faq"): (SESSION, E),
    ("POST", "/harvest"): (SESSION, E),
    ("POST", "/harvest/{name}/remove"): (SESSION, E),
}
# Values that make an allowed request change nothing (an unknown concept or scheme), so that the matrix can be
# tried with every role; the route still checks who is asking first.
HARMLESS = {"code": "999.999"}
HARMLESS_ROUTE = {
    "/api/vocab/{scheme}/quality/check-mappings": {"scheme": "no-such-scheme"},
    "/vocab/{scheme}/quality/check-mappings": {"scheme": "no-such-scheme"},
    "/api/schemes/{scheme}/collections/{code}": {"code": "no-such-collection"},
    "/api/schemes/{scheme}/collections/{code}/members": {"code": "no-such-collection"},
    "/editor/collections/{scheme_id}/{code}": {"code": "no-such-collection"},
}


# Form fields an allowed caller needs to get past the role check (contributors may only propose concepts).
EXTRA_FORM = {"/editor/concepts/{scheme_id}": {"action": "propose"}}


@dataclass
class Caller:
    """One way of calling: headers (a token or a session cookie) and the CSRF token to post, if any."""

    name: str
    headers: dict[str, str]
    csrf: str | None = None
    role: Role | None = None
    kind: str = "anonymous"  # anonymous | token | session | revoked | no-csrf


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, initialised_dir: Path) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("access") / "data"
    shutil.copytree(initialised_dir, data_dir)
    settings = make_settings(data_dir)
    with (
        ManagedStoreServer(settings) as server,
        TestClient(create_app(replace(settings, store_url=server.url)), raise_server_exceptions=False) as c,
    ):
        yield c


def accounts(client: TestClient) -> Any:
    return client.app.state.services.accounts  # type: ignore[attr-defined]


def token(client: TestClient, role: Role, name: str = "") -> dict[str, str]:
    return {"Authorization": "Bearer " + accounts(client).create_token(name or f"ac-{role.value}", role)}


def session(client: TestClient, role: Role, email: str = "") -> tuple[dict[str, str], str]:
    """A login session of a person with the role: its Cookie header and its CSRF token."""
    email = email or f"ac-{role.value}@example.org"
    if email not in {p.id for p in accounts(client).people(Role.contributor)}:
        accounts(client).add_user(email, f"Person {role.value}", role, PASSWORD)
    secret, opened = accounts(client).login(email, PASSWORD, "test")
    return {"Cookie": f"{SESSION_COOKIE}={secret}"}, opened.csrf


def callers(client: TestClient) -> list[Caller]:
    revoked = accounts(client).create_token("ac-revoked", Role.admin)
    accounts(client).revoke(revoked.split("_")[1])
    found = [Caller("anonymous", {})]
    found += [Caller(f"{role.value} token", token(client, role), role=role, kind="token") for role in Role]
    for role in Role:
        cookie, csrf = session(client, role)
        found.append(Caller(f"{role.value} session", cookie, csrf, role, "session"))
    found.append(Caller("revoked admin token", {"Authorization": f"Bearer {revoked}"}, kind="revoked"))
    cookie, _ = session(client, Role.admin)
    found.append(Caller("admin session without CSRF token", cookie, "", Role.admin, "no-csrf"))
    return found


def allowed(rule: tuple[str, Role | None], caller: Caller) -> bool:
    """What README's matrix says for this caller."""
    mode, role = rule
    if mode == TOKEN:
        return caller.kind == "token" and caller.role is not None and role is not None and caller.role.at_least(role)
    return caller.kind == "session" and caller.role is not None and role is not None and caller.role.at_least(role)


def refused(response: httpx.Response) -> bool:
    """401, 403, or a browser sent to the login page."""
    if response.status_code in (401, 403):
        return True
    return response.status_code == 303 and response.headers.get("location", "").startswith("/login")


def test_the_matrix_names_every_write_route(client: TestClient) -> None:
    writes = {(m, r.path) for r in app_routes(client.app) for m in r.writes}  # type: ignore[arg-type]
    assert writes - MATRIX.keys() == set(), "write routes missing from MATRIX (and README)"
    assert MATRIX.keys() - writes == set(), "MATRIX names routes that are gone"


def test_every_write_route_with_every_role(client: TestClient) -> None:
    """Refused exactly when the matrix says so; an allowed caller gets past the check (its request may then be
    wrong — empty — which is the route's own 4xx)."""
    routes = {r.path: r for r in app_routes(client.app)}  # type: ignore[arg-type]
    who = callers(client)
    wrong: list[str] = []
    tried = 0
    for (method, path), rule in MATRIX.items():
        if rule[0] == OWN_SESSION:
            continue  # logging out ends the session the other rows use: test_logging_out_needs_the_sessions_token
        url = routes[path].url(**(HARMLESS | HARMLESS_ROUTE.get(path, {})))
        for caller in who:
            data = {"csrf": caller.csrf, **EXTRA_FORM.get(path, {})} if caller.csrf is not None else None
            response = client.request(method, url, headers=caller.headers, data=data, follow_redirects=False)
            tried += 1
            if rule[0] == PUBLIC:
                # Anyone: no credentials asked for (these forms check their own CSRF token or a secret link).
                if response.status_code == 401 or response.status_code >= 500:
                    wrong.append(f"{method} {path} as {caller.name}: {response.status_code}")
                continue
            expected = allowed(rule, caller)
            if expected == refused(response) or response.status_code >= 500:
                wrong.append(f"{method} {path} as {caller.name}: {response.status_code} (allowed: {expected})")
            if caller.kind == "revoked" and rule[0] == TOKEN and response.status_code != 401:
                wrong.append(f"{method} {path} with a revoked token: {response.status_code}, not 401")
    print(f"\naccess matrix: {len(MATRIX)} write routes x {len(who)} callers = {tried} requests")
    assert not wrong, "\n".join(wrong)


def test_logging_out_needs_the_sessions_token(client: TestClient) -> None:
    cookie, csrf = session(client, Role.editor, "logout@example.org")
    assert client.post("/logout", headers=cookie, data={"csrf": "forged"}, follow_redirects=False).status_code == 403
    assert client.get("/account", headers=cookie, follow_redirects=False).status_code == 200, "still logged in"
    assert client.post("/logout", headers=cookie, data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/account", headers=cookie, follow_redirects=False).status_code == 303, "logged out"


def submit(client: TestClient, headers: dict[str, str], title: str) -> dict[str, Any]:
    item = {**EXAMPLE_ITEM, "title": {"da": title, "en": title}, "url": f"https://example.org/{title.split()[0]}"}
    response = client.post("/api/submissions", json=item, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_contributor_cannot_touch_another_actors_submissions(client: TestClient) -> None:
    alice, bob = token(client, Role.contributor, "alice"), token(client, Role.contributor, "bob")
    mine = submit(client, alice, "aliceord vejledning om støj")
    path = f"/api/submissions/{mine['id']}"
    assert client.get(path, headers=alice).status_code == 200
    assert client.get(path, headers=bob).status_code in (403, 404)
    assert mine["id"] not in client.get("/api/submissions", headers=bob).text
    edited = {**EXAMPLE_ITEM, "title": {"da": "Bobs version"}}
    assert client.put(path, json=edited, headers=bob).status_code in (403, 404)
    for action in ("approve", "reject", "send-back"):
        assert client.post(f"{path}/{action}", json={"reason": "x", "comments": "x"}, headers=bob).status_code == 403
    # Nor through the web pages, logged in as another contributor.
    cookie, csrf = session(client, Role.contributor, "bo@example.org")
    assert client.get(f"/submissions/{mine['id']}", headers=cookie).status_code in (403, 404)
    form = {"csrf": csrf, "title.da": "Bobs version"}
    posted = client.post(f"/submissions/{mine['id']}/edit", headers=cookie, data=form, follow_redirects=False)
    assert posted.status_code in (403, 404)
    assert client.get(path, headers=alice).json()["version"] == 1, "nothing changed"
    # Webhooks and proposals belong to their token too.
    hook = client.post("/api/webhooks", json={"url": "https://example.org/hook"}, headers=alice)
    if hook.status_code == 201:
        hook_id = hook.json()["id"]
        assert client.get(f"/api/webhooks/{hook_id}", headers=bob).status_code in (403, 404)
        assert client.delete(f"/api/webhooks/{hook_id}", headers=bob).status_code in (403, 404)
        assert client.get(f"/api/webhooks/{hook_id}", headers=alice).status_code == 200


def public_text(response: httpx.Response) -> str:
    if response.headers.get("content-type", "").startswith(("application/gzip", "application/x-gzip")) or (
        response.content[:2] == b"\x1f\x8b"
    ):
        return gzip.decompress(response.content).decode("utf-8", errors="replace")
    return response.text


def channels(client: TestClient, word: str, iri: str) -> dict[str, httpx.Response]:
    """Every public way to read the dataset, asked about the word (in the record's title) or the record's IRI."""
    path = "/" + iri.split("/arbejdsmiljoviden/", 1)[1]
    sparql = {"Accept": "application/sparql-results+json"}
    contains = f'FILTER(CONTAINS(STR(?o), "{word}"))'
    return {
        "record page": client.get(path, headers={"Accept": "text/html"}),
        "record as Turtle": client.get(path + ".ttl"),
        "record as JSON-LD": client.get(path, headers={"Accept": "application/ld+json"}),
        "record history": client.get(f"/api/records/item/{iri.rsplit('/', 1)[1]}/history"),
        "search page": client.get("/search", params={"q": word}),
        "search API": client.get("/api/search", params={"q": word}),
        "suggest": client.get("/api/suggest", params={"q": word}),
        "ask API": client.get("/api/ask", params={"q": word}),
        "ask page": client.get("/ask", params={"q": word}),
        "SPARQL default graph": client.get("/sparql", params={"query": f"SELECT * WHERE {{ ?s ?p ?o {contains} }}"}),
        "SPARQL GRAPH ?g": client.get(
            "/sparql", params={"query": f"SELECT * WHERE {{ GRAPH ?g {{ ?s ?p ?o {contains} }} }}"}, headers=sparql
        ),
        "SPARQL named-graph-uri": client.get(
            "/sparql",
            params={"query": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", "named-graph-uri": iri},
            headers=sparql,
        ),
        "SPARQL default-graph-uri": client.get(
            "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": iri}, headers=sparql
        ),
        "SPARQL ASK GRAPH <iri>": client.get(
            "/sparql", params={"query": f"SELECT ?s WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"}, headers=sparql
        ),
        "SPARQL DESCRIBE": client.get("/sparql", params={"query": f"DESCRIBE <{iri}>"}),
        "graph store": client.get("/rdf-graph-store", params={"graph": iri}),
        "Atom feed": client.get("/feeds/items.atom"),
        "JSON feed": client.get("/feeds/items.json"),
        "N-Quads dump": client.get("/dumps/arbejdsmiljoviden.nq.gz"),
        "Turtle dump": client.get("/dumps/arbejdsmiljoviden.ttl.gz"),
        "Skosmos search": client.get("/rest/v1/search", params={"query": f"*{word}*"}),
        "Skosmos data": client.get("/rest/v1/data", params={"uri": iri}),
        "sitemap": client.get("/sitemap.xml"),
        "sitemap part": client.get("/sitemap-1.xml"),
        "items page": client.get("/items"),
        "items JSON": client.get("/items.json"),
        "home page": client.get("/"),
        "statistics": client.get("/statistics.json"),
        "coverage": client.get("/coverage.json"),
    }


def public_counts(client: TestClient) -> tuple[object, object]:
    """The coverage map's and the statistics' figures, once counted for the data as it is now."""
    client.app.state.services.views.settle()  # type: ignore[attr-defined]
    coverage = client.get("/coverage.json").json()
    if not coverage["current"]:  # a recount started by this request
        client.app.state.services.views.settle()  # type: ignore[attr-defined]
        coverage = client.get("/coverage.json").json()
    assert coverage["current"]
    return {k: v for k, v in coverage.items() if k != "countedAt"}, client.get("/statistics.json").json()


def test_a_pending_record_is_invisible_through_every_channel(client: TestClient) -> None:
    word = "usynligord"
    title = f"{word} om løft"  # pages echo a query (the word), never the whole title
    counts_before = public_counts(client)
    created = submit(client, token(client, Role.contributor, "pending-tester"), title)
    iri = created["iri"]
    record_id = iri.rsplit("/", 1)[1]
    seen = {
        name: response.status_code
        for name, response in channels(client, word, iri).items()
        if response.status_code == 200 and (title in public_text(response) or record_id in public_text(response))
    }
    assert not seen, f"the pending record shows through {seen}"
    assert public_counts(client) == counts_before

    # Approved, it shows: the channels above would have seen it.
    approved = client.post(f"/api/submissions/{created['id']}/approve", headers=token(client, Role.editor))
    assert approved.status_code == 200
    after = channels(client, word, iri)
    for name in ("record page", "search API", "SPARQL GRAPH ?g", "graph store", "JSON feed", "N-Quads dump"):
        assert after[name].status_code == 200 and record_id in public_text(after[name]), name


def test_session_cookies_are_http_only_same_site_and_secure_over_https(client: TestClient) -> None:
    cookie, _ = session(client, Role.contributor, "cookie@example.org")  # makes the person
    for base, secure in (("https://testserver", True), ("http://testserver", False)):
        browser = TestClient(client.app, base_url=base)
        form_page = browser.get("/login")
        csrf_cookie = form_page.headers["set-cookie"]
        csrf = form_page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        login = browser.post(
            "/login",
            data={"email": "cookie@example.org", "password": PASSWORD, "csrf": csrf},
            follow_redirects=False,
        )
        assert login.status_code == 303
        session_cookie = next(v for v in login.headers.get_list("set-cookie") if v.startswith(SESSION_COOKIE))
        for set_cookie in (csrf_cookie, session_cookie):
            attributes = {part.strip().lower() for part in set_cookie.split(";")}
            assert "httponly" in attributes, set_cookie
            assert any(a.startswith("samesite=") and a != "samesite=none" for a in attributes), set_cookie
            assert ("secure" in attributes) == secure, set_cookie


SECURITY_HEADERS = {
    "content-security-policy": "frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
}


def test_security_headers_on_every_route(client: TestClient) -> None:
    missing: list[str] = []
    for route in app_routes(client.app):  # type: ignore[arg-type]
        method = "GET" if "GET" in route.methods else sorted(route.methods)[0]
        response = client.request(method, route.url(), follow_redirects=False)
        for name, needed in SECURITY_HEADERS.items():
            if needed not in response.headers.get(name, ""):
                missing.append(f"{method} {route.path} ({response.status_code}): {name}")
        csp = response.headers.get("content-security-policy", "")
        if "'unsafe-inline'" in csp or "script-src 'self'" not in csp:
            missing.append(f"{method} {route.path}: script-src allows inline script: {csp}")
    for extra in ("/no/such/page", "/static/no-such-file.js"):
        response = client.get(extra)
        missing += [f"GET {extra}: {name}" for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, "\n".join(missing)


def test_writes_are_rate_limited_per_token(initialised_dir: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(initialised_dir, data_dir)
    with TestClient(create_app(make_settings(data_dir, write_limit=3))) as limited:
        busy, other = token(limited, Role.contributor, "busy"), token(limited, Role.contributor, "other")
        answers = [limited.post("/api/submissions", json={"type": "item"}, headers=busy) for _ in range(4)]
        assert [a.status_code for a in answers] == [422, 422, 422, 429]
        assert int(answers[-1].headers["retry-after"]) >= 1 and "a minute" in answers[-1].json()["error"]
        assert limited.post("/api/submissions", json={"type": "item"}, headers=other).status_code == 422
        # Reads are not counted.
        assert limited.get("/api/submissions", headers=busy).status_code == 200
        json.dumps(answers[-1].json())
