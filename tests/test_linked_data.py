"""Every IRI we mint answers well, for browsers and machines (content negotiation, caching, status codes)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.compare import isomorphic

from api.app import create_app
from graph.services import Services
from tests.conftest import make_settings
from tests.records_util import pending_submission

BASE = "https://w3id.org/arbejdsmiljoviden/"
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


@pytest.fixture
def services(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined, no-any-return]


def one_of(services: Services, class_name: str) -> str:
    rows = services.store.select(f"SELECT ?s WHERE {{ ?s a <{BASE}ontology#{class_name}> }} ORDER BY ?s LIMIT 1")
    return rows[0]["s"].value


def path_of(iri: str) -> str:
    return "/" + iri[len(BASE) :]


def resources(services: Services) -> dict[str, str]:
    return {
        "concept": BASE + "vocab/factors/5.1",
        "scheme": BASE + "vocab/certainty",
        "item": one_of(services, "KnowledgeItem"),
        "problem": one_of(services, "Problem"),
        "solution": one_of(services, "Solution"),
        "actor": one_of(services, "Actor"),
        "event": one_of(services, "Event"),
    }


def own_triples(services: Services, iri: str) -> set[ox.Triple]:
    return {t for t in services.store.construct(f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ <{iri}> ?p ?o }}")}


def jsonld_graph(client: TestClient, body: bytes) -> rdflib.Graph:
    """Expand our JSON-LD with the published context (fetched from the app, as a client would)."""
    document = json.loads(body)
    assert document["@context"].endswith("/context.jsonld")
    document["@context"] = client.get("/context.jsonld").json()["@context"]
    return rdflib.Graph().parse(data=json.dumps(document), format="json-ld")


KINDS = ["concept", "scheme", "item", "problem", "solution", "actor", "event"]


@pytest.mark.parametrize("kind", KINDS)
def test_turtle_and_jsonld_describe_the_resource_and_html_is_the_page(
    client: TestClient, services: Services, kind: str
) -> None:
    iri = resources(services)[kind]
    expected = own_triples(services, iri)
    assert expected

    turtle = client.get(path_of(iri), headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and turtle.headers["content-type"].startswith("text/turtle")
    parsed = {q.triple for q in ox.parse(turtle.content, format=ox.RdfFormat.TURTLE)}
    assert expected <= parsed
    # Labels of linked resources come along, so a machine can name every link.
    linked = {t.object for t in expected if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(BASE)}
    labelled = {t.subject for t in parsed if t.subject != ox.NamedNode(iri)}
    assert linked & labelled or not linked

    jsonld = client.get(path_of(iri), headers={"Accept": "application/ld+json"})
    assert jsonld.status_code == 200 and jsonld.headers["content-type"].startswith("application/ld+json")
    assert isomorphic(jsonld_graph(client, jsonld.content), rdflib.Graph().parse(data=turtle.text, format="turtle"))

    html = client.get(path_of(iri), headers={"Accept": BROWSER_ACCEPT})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert 'type="application/ld+json"' in html.text
    assert f'href="{path_of(iri)}.ttl"' in html.text


@pytest.mark.parametrize(
    ("suffix", "media_type", "rdf_format"),
    [
        (".ttl", "text/turtle", ox.RdfFormat.TURTLE),
        (".nt", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        (".rdf", "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ],
)
def test_format_suffixes(client: TestClient, suffix: str, media_type: str, rdf_format: ox.RdfFormat) -> None:
    response = client.get("/vocab/factors/5.1" + suffix)
    assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
    triples = list(ox.parse(response.content, format=rdf_format))
    assert any(q.subject == ox.NamedNode(BASE + "vocab/factors/5.1") for q in triples)


def test_q_values_are_honoured(client: TestClient) -> None:
    answer = client.get("/vocab/factors/5.1", headers={"Accept": "text/turtle;q=0.5, application/ld+json;q=0.9"})
    assert answer.headers["content-type"].startswith("application/ld+json")
    answer = client.get("/vocab/factors/5.1", headers={"Accept": "text/html;q=0.1, application/rdf+xml"})
    assert answer.headers["content-type"].startswith("application/rdf+xml")
    assert client.get("/vocab/factors/5.1", headers={"Accept": "*/*"}).headers["content-type"].startswith("text/html")


def test_headers_vary_link_cors(client: TestClient) -> None:
    response = client.get("/vocab/factors/5.1", headers={"Accept": "text/turtle"})
    assert "Accept" in response.headers["vary"]
    assert response.headers["access-control-allow-origin"] == "*"
    links = response.headers["link"]
    assert '</vocab/factors/5.1.jsonld>; rel="alternate"; type="application/ld+json"' in links
    assert '</vocab/factors/5.1>; rel="alternate"; type="text/html"' in links


def test_unsupported_type_is_406(client: TestClient) -> None:
    response = client.get("/vocab/factors/5.1", headers={"Accept": "image/png"})
    assert response.status_code == 406 and "text/turtle" in response.text


def test_etag_and_last_modified_give_304(client: TestClient, services: Services) -> None:
    first = client.get("/vocab/factors/5.1", headers={"Accept": "text/turtle"})
    etag = first.headers["etag"]
    again = client.get("/vocab/factors/5.1", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    other = client.get("/vocab/factors/5.1", headers={"Accept": "application/ld+json", "If-None-Match": etag})
    assert other.status_code == 200

    record = path_of(resources(services)["problem"])
    page = client.get(record, headers={"Accept": "text/turtle"})
    modified = page.headers["last-modified"]
    assert client.get(record, headers={"Accept": "text/turtle", "If-Modified-Since": modified}).status_code == 304
    stale = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get(record, headers={"Accept": "text/turtle", "If-Modified-Since": stale}).status_code == 200


def test_deprecated_concept_is_still_served_and_points_to_its_replacement(
    client: TestClient, services: Services
) -> None:
    old, new = BASE + "vocab/factors/5.1.1", BASE + "vocab/factors/5.1.2"
    services.store.update(
        f"INSERT DATA {{ GRAPH <{BASE}vocab/factors> {{ <{old}> <http://www.w3.org/2002/07/owl#deprecated> true ;"
        f" <http://purl.org/dc/terms/isReplacedBy> <{new}> }} }}"
    )
    page = client.get(path_of(old))
    assert page.status_code == 200
    assert "udgået" in page.text and f'href="{path_of(new)}"' in page.text
    assert f'<{path_of(new)}>; rel="successor-version"' in page.headers["link"]
    data = client.get(path_of(old), headers={"Accept": "text/turtle"})
    triples = {q.triple for q in ox.parse(data.content, format=ox.RdfFormat.TURTLE)}
    assert (
        ox.Triple(ox.NamedNode(old), ox.NamedNode("http://purl.org/dc/terms/isReplacedBy"), ox.NamedNode(new))
        in triples
    )


def test_withdrawn_record_answers_410_with_a_tombstone(client: TestClient, services: Services) -> None:
    iri = resources(services)["solution"]
    title = services.ledger.get(iri).title  # type: ignore[union-attr]
    services.records.withdraw(ox.NamedNode(iri), agent="editor", reason="Erstattet af nyere viden")
    page = client.get(path_of(iri))
    assert page.status_code == 410 and title in page.text and "Erstattet af nyere viden" in page.text
    data = client.get(path_of(iri), headers={"Accept": "text/turtle"})
    assert data.status_code == 410
    assert any(q.object == ox.Literal(title) for q in ox.parse(data.content, format=ox.RdfFormat.TURTLE))


def test_unknown_iri_is_404_with_a_search_box(client: TestClient) -> None:
    for path in ["/id/item/zzzzzzzz", "/vocab/factors/999", "/vocab/nope", "/id/nonsense/x", "/id/item/%20x"]:
        page = client.get(path)
        assert page.status_code == 404, path
        assert 'role="search"' in page.text
    assert client.get("/vocab/nope", headers={"Accept": "text/turtle"}).status_code == 404


def test_a_pending_record_is_not_public(client: TestClient, services: Services) -> None:
    iri = BASE + "id/problem/p3nd1ngx"
    pending_submission(services, iri)
    assert client.get(path_of(iri)).status_code == 404


def test_walk_from_home_to_a_solutions_actors_by_links_only(client: TestClient) -> None:
    """home → factor → problem → solution → actor, following links found on each page."""

    def links(html: str, prefix: str) -> list[str]:
        return list(dict.fromkeys(re.findall(rf'href="({re.escape(prefix)}[^"#?.]+)"', html)))

    home = client.get("/").text
    for factor in links(home, "/vocab/factors/"):
        for problem in links(client.get(factor).text, "/id/problem/"):
            for solution in links(client.get(problem).text, "/id/solution/"):
                actors = links(client.get(solution).text, "/id/actor/")
                if actors:
                    actor_page = client.get(actors[0])
                    assert actor_page.status_code == 200 and "Aktør" in actor_page.text
                    return
    raise AssertionError("no path from the home page to an actor offering a solution")


def test_rdflib_can_parse_an_iri_from_the_running_server(data_dir: Path) -> None:
    from graph.store_server import free_port
    from tests.serve_util import start_serve

    port = free_port()
    serve = start_serve(data_dir, port)
    try:
        graph = rdflib.Graph().parse(f"http://127.0.0.1:{port}/vocab/factors/5.1")
        labels = {str(o) for o in graph.objects(rdflib.URIRef(BASE + "vocab/factors/5.1"), rdflib.SKOS.prefLabel)}
        assert "støj" in labels
    finally:
        serve.terminate()
        serve.wait(timeout=30)
