"""About the data: the page, the VoID + DCAT description, the dumps, the sitemap and robots.txt."""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import DCAT, RDF, VOID

from api.app import create_app
from graph import sitemap
from graph.config import DEFAULT_BASE_URI
from graph.dataset import sample_files
from graph.dataset_description import dataset_stats, freshness
from graph.dumps import dump_by_name, ensure_dump
from graph.iris import RecordKind
from graph.ledger import RecordStatus
from graph.services import Services
from graph.vocab_edit import ChangeSet, Thesaurus
from tests.conftest import make_settings

BASE = DEFAULT_BASE_URI
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


def sample_records() -> set[str]:
    """Every record IRI of the sample data files (typed with a record class)."""
    classes = {BASE + "ontology#" + kind.class_name for kind in RecordKind}
    found = set()
    for path in sample_files():
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            if quad.predicate.value == str(RDF.type) and quad.object.value in classes:
                found.add(quad.subject.value)
    return found


def home_counts(client: TestClient) -> dict[str, int]:
    html = client.get("/").text
    return {k: int(v.replace(".", "")) for k, v in re.findall(r'data-count="(\w+)"><strong>([\d.]+)</strong>', html)}


def void_graph(client: TestClient, accept: str = "text/turtle", fmt: str = "turtle") -> rdflib.Graph:
    response = client.get("/.well-known/void", headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(accept)
    assert "Accept" in response.headers["vary"]
    return rdflib.Graph().parse(data=response.content, format=fmt)


# -- VoID + DCAT -----------------------------------------------------------------------------


def test_void_parses_and_its_class_partitions_match_the_home_page(client: TestClient) -> None:
    graph = void_graph(client)
    dataset = rdflib.URIRef(BASE + ".well-known/void#dataset")
    assert (dataset, RDF.type, VOID.Dataset) in graph and (dataset, RDF.type, DCAT.Dataset) in graph
    partitions = {
        str(graph.value(p, VOID["class"])): int(graph.value(p, VOID.entities))
        for p in graph.objects(dataset, VOID.classPartition)
    }
    counts = home_counts(client)
    for kind in RecordKind:
        assert partitions[BASE + "ontology#" + kind.class_name] == counts[kind.value] > 0
    assert partitions["http://www.w3.org/2004/02/skos/core#Concept"] == counts["concept"]
    assert partitions["http://www.w3.org/2004/02/skos/core#ConceptScheme"] == counts["scheme"]
    assert int(graph.value(dataset, VOID.triples)) > 10_000
    assert int(graph.value(dataset, VOID.entities)) >= sum(counts.values())
    assert str(graph.value(dataset, VOID.uriSpace)) == BASE
    assert str(graph.value(dataset, rdflib.DCTERMS.license)) == "https://creativecommons.org/licenses/by/4.0/"
    assert graph.value(dataset, rdflib.DCTERMS.publisher) is not None
    titles = {t.language for t in graph.objects(dataset, rdflib.DCTERMS.title)}
    descriptions = {d.language for d in graph.objects(dataset, rdflib.DCTERMS.description)}
    assert titles == descriptions == {"da", "en"}
    vocabularies = {str(v) for v in graph.objects(dataset, VOID.vocabulary)}
    assert {"http://www.w3.org/2004/02/skos/core#", "http://purl.org/dc/terms/", BASE + "ontology"} <= vocabularies
    assert list(graph.objects(dataset, VOID.exampleResource))


def test_void_lists_each_dump_as_a_dcat_distribution(client: TestClient) -> None:
    graph = void_graph(client)
    dataset = rdflib.URIRef(BASE + ".well-known/void#dataset")
    dumps = {str(d) for d in graph.objects(dataset, VOID.dataDump)}
    assert dumps == {BASE + "dumps/arbejdsmiljoviden.nq.gz", BASE + "dumps/arbejdsmiljoviden.ttl.gz"}
    media = {}
    for distribution in graph.objects(dataset, DCAT.distribution):
        media[str(graph.value(distribution, DCAT.downloadURL))] = str(graph.value(distribution, DCAT.mediaType))
    assert media == {
        BASE + "dumps/arbejdsmiljoviden.nq.gz": "http://www.iana.org/assignments/media-types/application/n-quads",
        BASE + "dumps/arbejdsmiljoviden.ttl.gz": "http://www.iana.org/assignments/media-types/text/turtle",
    }
    # The dump IRIs are served here (the app serves path /P for IRI <base>P).
    for url in dumps:
        assert client.head("/" + url[len(BASE) :]).status_code == 200


def test_void_claims_a_sparql_endpoint_only_when_it_answers(client: TestClient) -> None:
    graph = void_graph(client)
    endpoints = list(graph.objects(None, VOID.sparqlEndpoint))
    answers = client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert bool(endpoints) == answers
    about = client.get("/about").text.split('<main id="main">', 1)[1].split("</main>", 1)[0]
    assert ('href="/sparql"' in about) == answers  # in the page's text (the menu always links the query page)
    if not answers:
        assert "kommer snart" in about


def test_void_is_content_negotiated(client: TestClient) -> None:
    response = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert response.headers["content-type"].startswith("application/ld+json")
    document = response.json()
    assert document["@context"] == "http://testserver/context.jsonld"
    document["@context"] = client.get("/context.jsonld").json()["@context"]  # inline it: no network in tests
    jsonld = rdflib.Graph().parse(data=json.dumps(document), format="json-ld")
    turtle = void_graph(client)
    assert len(jsonld) == len(turtle)
    assert len(void_graph(client, "application/n-triples", "nt")) == len(turtle)
    assert len(void_graph(client, "application/rdf+xml", "xml")) == len(turtle)
    assert client.get("/.well-known/void.ttl").headers["content-type"].startswith("text/turtle")
    browser = client.get("/.well-known/void", headers={"Accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 303 and browser.headers["location"] == "/about"
    assert client.get("/.well-known/void", headers={"Accept": "image/png"}).status_code == 406
    etag = client.get("/.well-known/void", headers={"Accept": "text/turtle"}).headers["etag"]
    again = client.get("/.well-known/void", headers={"Accept": "text/turtle", "If-None-Match": etag})
    assert again.status_code == 304


# -- dumps -----------------------------------------------------------------------------------


def test_each_dump_parses_and_holds_the_published_records_only(client: TestClient) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    expected = sample_records()
    for name, fmt in (("arbejdsmiljoviden.nq.gz", ox.RdfFormat.N_QUADS), ("arbejdsmiljoviden.ttl.gz", None)):
        response = client.get("/dumps/" + name)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/gzip"
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'
        assert response.headers["etag"] and response.headers["last-modified"]
        data = gzip.decompress(response.content)
        if fmt == ox.RdfFormat.N_QUADS:
            quads = list(ox.parse(data, format=fmt))
            graphs = {q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)}
            record_graphs = {g for g in graphs if services.iris.parse_record(g)}
            assert expected <= record_graphs
            for graph in record_graphs:
                entry = services.ledger.get(graph)
                assert entry is not None and entry.status == RecordStatus.published, graph
            assert BASE + "vocab/factors" in graphs and BASE + "ontology" in graphs
        else:
            triples = list(ox.parse(data, format=ox.RdfFormat.TURTLE))
            subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
            assert expected <= subjects
            records = {s for s in subjects if services.iris.parse_record(s)}
            for record in records:
                entry = services.ledger.get(record)
                assert entry is not None and entry.status == RecordStatus.published, record


def test_dumps_are_cached_until_the_data_changes(client: TestClient, data_dir: Path) -> None:
    first = client.get("/dumps/arbejdsmiljoviden.nq.gz")
    cached = sorted((data_dir / "dumps").glob("arbejdsmiljoviden-*.nq.gz"))
    assert len(cached) == 1
    mtime = cached[0].stat().st_mtime_ns
    second = client.get("/dumps/arbejdsmiljoviden.nq.gz")
    assert second.headers["etag"] == first.headers["etag"] and cached[0].stat().st_mtime_ns == mtime
    conditional = client.get("/dumps/arbejdsmiljoviden.nq.gz", headers={"If-None-Match": first.headers["etag"]})
    assert conditional.status_code == 304 and not conditional.content

    services = client.app.state.services  # type: ignore[attr-defined]
    gone = sorted(sample_records())[0]
    services.records.withdraw(ox.NamedNode(gone), agent="test", reason="test of dump freshness")
    third = client.get("/dumps/arbejdsmiljoviden.nq.gz")
    assert third.headers["etag"] != first.headers["etag"]
    quads = ox.parse(gzip.decompress(third.content), format=ox.RdfFormat.N_QUADS)
    assert gone not in {q.subject.value for q in quads}
    assert [p.name for p in (data_dir / "dumps").glob("arbejdsmiljoviden-*.nq.gz")] != [cached[0].name]
    assert client.get("/dumps/nothing.gz").status_code == 404


# -- the about page --------------------------------------------------------------------------


def test_about_page_says_what_licence_and_how_to_cite(client: TestClient) -> None:
    response = client.get("/about")
    assert response.status_code == 200
    html = response.text
    assert 'href="https://creativecommons.org/licenses/by/4.0/' in html and "CC BY 4.0" in html
    citation = re.search(r"<p data-citation>(.*?)</p>", html, re.S).group(1)  # type: ignore[union-attr]
    assert "Arbejdsmiljøviden" in citation and BASE in citation and date.today().isoformat() in citation
    counts = home_counts(client)
    shown = {
        k: int(v.replace(".", "")) for k, v in re.findall(r'data-count="(\w+)"><th[^>]*>[^<]*</th><td>([\d.]+)', html)
    }
    for key, value in counts.items():
        assert shown[key] == value
    assert shown["triples"] > 10_000
    for scheme in ("factors", "industries", "knowledge-types"):
        assert f'href="/vocab/{scheme}"' in html
    assert 'href="/dumps/arbejdsmiljoviden.nq.gz"' in html and 'href="/dumps/arbejdsmiljoviden.ttl.gz"' in html
    assert "/.well-known/void" in html
    assert '"@type": "Dataset"' in html
    english = client.get("/about?lang=en").text
    assert "How to cite" in english and "accessed" in english


def test_every_link_on_the_about_page_answers(client: TestClient) -> None:
    html = client.get("/about").text
    links = {h for h in re.findall(r'href="(/[^"]*)"', html) if not h.startswith("/static")}
    for href in sorted(links):
        assert client.get(href.replace("&amp;", "&"), follow_redirects=True).status_code < 400, href


# -- sitemap and robots ----------------------------------------------------------------------


def test_sitemap_is_well_formed_and_lists_pages_concepts_and_records(client: TestClient) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and "xml" in response.headers["content-type"]
    root = ET.fromstring(response.content)
    assert root.tag == SITEMAP + "urlset"
    urls = {u.findtext(SITEMAP + "loc"): u.findtext(SITEMAP + "lastmod") for u in root.iter(SITEMAP + "url")}
    origin = "http://testserver"
    for page in ("/", "/about", "/coverage", "/items", "/vocab/factors", "/vocab/factors/1.1"):
        assert origin + page in urls, page
    record = origin + "/" + sorted(sample_records())[0][len(BASE) :]
    assert record in urls and re.match(r"^\d{4}-\d{2}-\d{2}", urls[record] or "")
    counts = home_counts(client)
    assert len(urls) >= sum(counts.values())
    assert not any("?" in u for u in urls)


def test_a_big_sitemap_becomes_an_index(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = ET.fromstring(client.get("/sitemap.xml").content)
    all_urls = [u.findtext(SITEMAP + "loc") for u in everything.iter(SITEMAP + "url")]
    monkeypatch.setattr(sitemap, "MAX_URLS", 1000)
    index = ET.fromstring(client.get("/sitemap.xml").content)
    assert index.tag == SITEMAP + "sitemapindex"
    parts = [s.findtext(SITEMAP + "loc") for s in index.iter(SITEMAP + "sitemap")]
    assert len(parts) == -(-len(all_urls) // 1000)
    seen = []
    for part in parts:
        root = ET.fromstring(client.get(part.replace("http://testserver", "")).content)  # type: ignore[union-attr]
        urls = [u.findtext(SITEMAP + "loc") for u in root.iter(SITEMAP + "url")]
        assert len(urls) <= 1000
        seen += urls
    assert seen == all_urls
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404


def test_robots_txt_names_the_sitemap_and_keeps_crawlers_off_expensive_endpoints(client: TestClient) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert "User-agent: *" in lines and "Allow: /" in lines
    assert "Disallow: /api/" in lines and "Disallow: /sparql?" in lines
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_dumps_and_description_work_on_the_embedded_and_on_a_remote_store(services: Services) -> None:
    stats = dataset_stats(services)
    assert stats.counts == services.records.counts() and stats.triples > 10_000
    found = ensure_dump(services, dump_by_name("arbejdsmiljoviden.nq.gz"))  # type: ignore[arg-type]
    with gzip.open(found.path) as data:
        graphs = {q.graph_name.value for q in ox.parse(data.read(), format=ox.RdfFormat.N_QUADS)}
    assert sample_records() <= graphs
    assert ensure_dump(services, found.dump).path == found.path  # cached: same version, same file


def test_a_vocabulary_edit_that_keeps_the_size_still_changes_the_freshness_key(embedded: Services) -> None:
    """Scheme graphs are not in the ledger: an edited label (same number of statements) must still count."""
    before = freshness(embedded)
    assert freshness(embedded) == before
    scheme = embedded.iris.scheme("audiences")
    label = ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
    old = next(
        t
        for t in embedded.store.graph_triples(scheme)
        if t.predicate == label and isinstance(t.object, ox.Literal) and t.object.language == "da"
    )
    new = ox.Triple(old.subject, old.predicate, ox.Literal(old.object.value[::-1], language="da"))
    assert isinstance(old.subject, ox.NamedNode)
    changes = ChangeSet(old.subject, scheme, added={new}, removed={old})
    Thesaurus(embedded).apply(changes, agent="test", reason="same size")
    after = freshness(embedded)
    assert after.key != before.key and after.modified >= before.modified
