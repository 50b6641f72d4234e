"""The W3C SPARQL 1.1 Protocol, Graph Store HTTP Protocol and Service Description tests, run against
the app in front of a real Oxigraph store server.

The manifests (data/reference/w3c-sparql11/, a copy of ../shared/data) describe each test as a sequence of HTTP requests
(`ht:Request`: method, path, headers, body) with the expected response (status class or code, the
format of the result — checked by parsing the body —, an ASK answer, response headers, an RDF body
that must be isomorphic to the one we send, a Location to reuse). Paths start with `/sparql/` or
`/gsp`: query requests go to /sparql, update requests to /sparql/update, graph-store requests to
/rdf-graph-store. The tests assume an open endpoint, so requests that write carry an admin token.
Each test starts from an empty store holding only the data files it names (`ut:graphData`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from api.app import create_app
from graph.accounts import Role
from graph.config import PROJECT_ROOT
from graph.store import insert_data
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings

W3C = PROJECT_ROOT / "data" / "reference" / "w3c-sparql11"
MANIFESTS = {
    "protocol": [W3C / "protocol" / "manifest.ttl"],
    "graph-store-protocol": [W3C / "graph-store-protocol" / "manifest.ttl"],
    "service-description": [W3C / "service-description" / "manifest.ttl"],
}

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
TEST_TYPES = (MF.ProtocolTest, MF.GraphStoreProtocolTest, MF.ServiceDescriptionTest)

#: hts: status names used by the manifests.
STATUS_CODES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404, "BadRequest": 400}


@dataclass
class Exchange:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: str | None
    encoding: str
    statuses: list[str]  # hts local names: OK, Created, StatusCode2xx, ...
    expected_format: str | None = None
    expected_boolean: bool | None = None
    expected_location: str | None = None
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str | None = None


@dataclass
class W3CTest:
    iri: str
    suite: str
    name: str
    exchanges: list[Exchange]
    graph_data: list[tuple[Path, str]]  # (data file, graph IRI)

    @property
    def local_name(self) -> str:
        return self.iri.rsplit("#", 1)[-1]


def _list(graph: rdflib.Graph, node: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return list(Collection(graph, node)) if node is not None else []


def _headers(graph: rdflib.Graph, node: rdflib.term.Node) -> list[tuple[str, str]]:
    return [
        (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
        for h in _list(graph, graph.value(node, HT.headers))
    ]


def _exchange(graph: rdflib.Graph, request: rdflib.term.Node) -> Exchange:
    body = graph.value(request, HT.body)
    response = graph.value(request, HT.resp)
    statuses = sorted(str(s).removeprefix(HTS) for s in graph.objects(response, MF.expectedStatus))
    boolean = graph.value(response, MF.expectedBoolean)
    response_body = graph.value(response, HT.body)
    return Exchange(
        method=str(graph.value(request, HT.methodName)),
        path=str(graph.value(request, HT.absolutePath)),
        headers=_headers(graph, request),
        body=str(graph.value(body, CNT.chars)) if body is not None else None,
        encoding=str(graph.value(body, CNT.characterEncoding) or "UTF-8") if body is not None else "UTF-8",
        statuses=statuses,
        expected_format=str(f) if (f := graph.value(response, MF.expectedFormat)) is not None else None,
        expected_boolean=bool(boolean.toPython()) if boolean is not None else None,
        expected_location=str(loc) if (loc := graph.value(response, MF.expectedLocation)) is not None else None,
        response_headers=_headers(graph, response),
        response_body=str(graph.value(response_body, CNT.chars)) if response_body is not None else None,
    )


def _manifest_tests(path: Path, suite: str) -> list[W3CTest]:
    graph = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = rdflib.URIRef(path.as_uri())
    tests: list[W3CTest] = []
    for included in _list(graph, graph.value(manifest, MF.include)):
        tests += _manifest_tests(Path(urllib.parse.urlparse(str(included)).path), suite)
    listed = _list(graph, graph.value(manifest, MF.entries))
    # Every test the file defines: the listed ones in order, then any defined but left out of the list.
    defined = {s for t in TEST_TYPES for s in graph.subjects(rdflib.RDF.type, t)}
    for entry in listed + sorted(defined - set(listed), key=str):
        action = graph.value(entry, MF.action)
        requests = _list(graph, graph.value(action, HT.requests)) if action is not None else []
        data = [
            (Path(urllib.parse.urlparse(str(graph.value(d, UT.graph))).path), str(graph.value(d, rdflib.RDFS.label)))
            for d in graph.objects(entry, UT.graphData)
        ]
        tests.append(
            W3CTest(
                iri=str(entry),
                suite=suite,
                name=str(graph.value(entry, MF.name)),
                exchanges=[_exchange(graph, r) for r in requests],
                graph_data=data,
            )
        )
    return tests


def collect() -> list[W3CTest]:
    if not W3C.is_dir():
        return []
    return [t for suite, paths in MANIFESTS.items() for p in paths for t in _manifest_tests(p, suite)]


ALL_TESTS = collect()


def test_the_manifests_are_there() -> None:
    assert ALL_TESTS, f"the W3C test manifests are not at {W3C}"


# -- the endpoint under test --------------------------------------------------------------------

AUTHORITY = "www.example"  # every manifest's ht:connectionAuthority


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("w3c") / "data")
    with (
        ManagedStoreServer(settings) as server,
        TestClient(create_app(dc_replace(settings, store_url=server.url)), base_url=f"http://{AUTHORITY}") as c,
    ):
        yield c


@pytest.fixture(scope="module")
def admin(client: TestClient) -> dict[str, str]:
    secret = client.app.state.services.accounts.create_token("w3c-tests", Role.admin)  # type: ignore[attr-defined]
    return {"Authorization": f"Bearer {secret}"}


def reset_store(client: TestClient, data: list[tuple[Path, str]]) -> None:
    store = client.app.state.services.store  # type: ignore[attr-defined]
    store.update("DROP SILENT ALL")
    for path, graph in data:
        triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
        store.update(insert_data({ox.NamedNode(graph): triples}))


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for n, v in headers if n.lower() == name), None)


def is_update(test: W3CTest, index: int, exchange: Exchange) -> bool:
    """Whether a protocol request is an update (the manifests send both kinds to /sparql/)."""
    media = (_header(exchange.headers, "content-type") or "").split(";")[0].strip().lower()
    query_params = urllib.parse.parse_qs(urllib.parse.urlsplit(exchange.path).query)
    form = urllib.parse.parse_qs(exchange.body or "") if media == "application/x-www-form-urlencoded" else {}
    if media == "application/sparql-update" or "update" in form or "update" in query_params:
        return True
    # The first request of an update test is the update, even when its media type is wrong or missing.
    return index == 0 and test.local_name.startswith(("update_", "bad_update_"))


def target_path(test: W3CTest, index: int, exchange: Exchange) -> tuple[str, bool]:
    """(our path, whether the request writes) for a manifest request."""
    path = exchange.path
    if test.suite == "protocol":
        assert path.startswith("/sparql/"), path
        update = is_update(test, index, exchange)
        return ("/sparql/update" if update else "/sparql") + path[len("/sparql/") :], update
    assert path.startswith("/gsp"), path
    return "/rdf-graph-store" + path[len("/gsp") :], exchange.method in ("PUT", "POST", "DELETE")


# -- checking responses -------------------------------------------------------------------------


def check_status(status: int, expected: list[str], wrote: bool) -> None:
    allowed: list[str] = []
    for name in expected:
        if name.startswith("StatusCode") and name.endswith("xx"):
            allowed.append(name)
            if status // 100 == int(name[len("StatusCode")]):
                break
        else:
            assert name in STATUS_CODES, f"unknown hts:{name}"
            allowed.append(name)
            if status == STATUS_CODES[name]:
                break
    else:
        raise AssertionError(f"status {status}, expected one of {allowed}")
    if wrote and status // 100 == 4:
        assert status not in (401, 403), "a 4xx the test expects must come from the protocol, not from auth"


def media_type(response_headers: dict[str, str] | object) -> str:
    return str(response_headers.get("content-type", "")).split(";")[0].strip().lower()  # type: ignore[attr-defined]


def content_type_parts(value: str) -> tuple[str, dict[str, str]]:
    media, *params = (p.strip() for p in value.split(";"))
    pairs = (p.partition("=") for p in params if "=" in p)
    return media.lower(), {k.strip().lower(): v.strip().strip('"').lower() for k, _, v in pairs}


def parse_results(body: bytes, media: str) -> ox.QuerySolutions | ox.QueryBoolean:
    fmt = ox.QueryResultsFormat.from_media_type(media)
    assert fmt is not None, f"{media} is not a SPARQL results format"
    return ox.parse_query_results(body, format=fmt)


def parse_rdf(body: bytes, media: str, base_iri: str | None = None) -> rdflib.Graph:
    """The triples of an RDF body; relative IRIs resolve against the URL it came from, as a client does."""
    fmt = ox.RdfFormat.from_media_type(media)
    assert fmt is not None, f"{media} is not an RDF format"
    quads = list(ox.parse(body, format=fmt, base_iri=base_iri))
    data = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=data, format="nt")


#: The formats the protocol tests accept for each expected result format (their test names say so:
#: "expect one of: XML, JSON" for ASK, "XML, JSON, CSV, TSV" for SELECT, "RDF/XML, Turtle,
#: N-Triples, RDFa" for CONSTRUCT and DESCRIBE; we send no RDFa).
RESULT_MEDIA_TYPES = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    },
    "RDF": {"application/rdf+xml", "text/turtle", "application/n-triples"},
}


def check_response(response, exchange: Exchange) -> None:  # type: ignore[no-untyped-def]
    media = media_type(response.headers)
    expected_format = exchange.expected_format or ("boolean" if exchange.expected_boolean is not None else None)
    if expected_format is not None:
        assert expected_format in RESULT_MEDIA_TYPES, f"unknown expected format {expected_format!r}"
        assert media in RESULT_MEDIA_TYPES[expected_format], f"{media} is not a {expected_format} result format"
    if expected_format == "boolean":
        result = parse_results(response.content, media)
        assert isinstance(result, ox.QueryBoolean), f"{media} body is not a boolean result"
        if exchange.expected_boolean is not None:
            assert bool(result) is exchange.expected_boolean
    elif expected_format == "tabular":
        result = parse_results(response.content, media)
        assert isinstance(result, ox.QuerySolutions), f"{media} body is not a table of solutions"
        list(result)
    elif expected_format == "RDF":
        parse_rdf(response.content, media, str(response.url))
    for name, value in exchange.response_headers:
        actual = response.headers.get(name)
        assert actual is not None, f"no {name} header"
        if name.lower() == "content-type":
            # The media type must match; a charset, when both name one, too (Turtle is UTF-8 anyway).
            (got, got_params), (want, want_params) = content_type_parts(actual), content_type_parts(value)
            assert got == want, f"{name}: {actual!r}, expected {value!r}"
            if "charset" in got_params and "charset" in want_params:
                assert got_params["charset"] == want_params["charset"], f"{name}: {actual!r}, expected {value!r}"
        else:
            assert actual == value
    if exchange.response_body is not None:
        expected = rdflib.Graph().parse(data=exchange.response_body, format="turtle")
        actual_graph = parse_rdf(response.content, media, str(response.url))
        assert isomorphic(expected, actual_graph), (
            f"the graph we sent differs from the expected one:\n{response.text}\nexpected:\n{exchange.response_body}"
        )


# -- the tests ----------------------------------------------------------------------------------


def run_exchanges(client: TestClient, admin: dict[str, str], test: W3CTest) -> None:
    variables: dict[str, str] = {}
    for index, exchange in enumerate(test.exchanges):
        path, writes = target_path(test, index, exchange)
        body = exchange.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name, value) if body is not None else None
        headers = dict(exchange.headers)
        if writes:
            headers.update(admin)
        content = body.encode(exchange.encoding.lower()) if body is not None else None
        response = client.request(exchange.method, path, content=content, headers=headers)
        where = f"request {index + 1} ({exchange.method} {path})"
        try:
            check_status(response.status_code, exchange.statuses, writes)
            check_response(response, exchange)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}\nresponse body: {response.text[:1000]}") from exc
        if exchange.method == "HEAD":
            assert response.content == b"", f"{where}: HEAD must not send a body"
        if exchange.expected_location is not None:
            location = response.headers.get("location")
            assert location, f"{where}: no Location header"
            variables[exchange.expected_location] = location


ENDPOINT = f"http://{AUTHORITY}/sparql"
RDF_CLIENT_ACCEPT = "application/rdf+xml;q=1.0, text/turtle;q=0.9, application/n-triples;q=0.8, */*;q=0.1"


def service_description(client: TestClient, accept: str | None) -> rdflib.Graph:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200, response.text
    return parse_rdf(response.content, media_type(response.headers), str(response.url))


def run_service_description_test(client: TestClient, test: W3CTest) -> None:
    """The three required checks of the W3C service description validator, plus its best practices."""
    descriptions = [service_description(client, accept) for accept in (None, RDF_CLIENT_ACCEPT, "text/turtle")]
    if test.local_name == "returns-rdf":
        assert all(len(d) > 0 for d in descriptions)
        return
    for sd in descriptions:
        if test.local_name == "has-endpoint-triple":
            assert list(sd.subjects(SD.endpoint, rdflib.URIRef(ENDPOINT))), f"no ?service sd:endpoint <{ENDPOINT}>"
        elif test.local_name == "conforms-to-schema":
            for named in sd.subjects(rdflib.RDF.type, SD.NamedGraph):
                assert sd.value(named, SD.name) is not None, "an sd:NamedGraph without sd:name"
            typed = {
                SD.Service: [SD.endpoint, SD.feature, SD.supportedLanguage, SD.defaultDataset, SD.resultFormat],
                SD.Dataset: [SD.defaultGraph, SD.namedGraph],
            }
            for cls, properties in typed.items():
                for prop in properties:
                    for subject in sd.subjects(prop, None):
                        assert (subject, rdflib.RDF.type, cls) in sd, f"{subject} uses {prop} but is no {cls}"
            for graph_node in sd.objects(None, SD.defaultGraph):
                assert (graph_node, rdflib.RDF.type, SD.Graph) in sd
            languages = {str(o) for o in sd.objects(None, SD.supportedLanguage)}
            assert languages and languages <= {str(SD[n]) for n in ("SPARQL10Query", "SPARQL11Query", "SPARQL11Update")}
        else:
            raise AssertionError(f"unknown service description test {test.iri}")


@pytest.mark.parametrize("test", ALL_TESTS, ids=[f"{t.suite}:{t.local_name}" for t in ALL_TESTS])
def test_w3c(client: TestClient, admin: dict[str, str], test: W3CTest) -> None:
    reset_store(client, test.graph_data)
    if test.suite == "service-description":
        run_service_description_test(client, test)
    else:
        assert test.exchanges, f"{test.iri} has no requests"
        run_exchanges(client, admin, test)


def test_every_manifest_was_read() -> None:
    counts = {suite: sum(1 for t in ALL_TESTS if t.suite == suite) for suite in MANIFESTS}
    assert counts == {"protocol": 34, "graph-store-protocol": 14, "service-description": 3}
