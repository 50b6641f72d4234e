"""Feeds: newly published knowledge items and upcoming events as Atom 1.0 and JSON Feed 1.1.

Every feed is read back with `feedparser`, as a feed reader would. Which items a feed should hold is
worked out here, independently of the app's SPARQL, from the vocabulary and sample data files
(rdflib) and the ledger's creation times.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

import feedparser
import pytest
import rdflib
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode
from rdflib.namespace import DCTERMS, RDF, SKOS

from api.app import create_app
from graph.config import DEFAULT_BASE_URI
from graph.feeds import ITEMS_FEED_SIZE
from graph.ledger import now
from graph.services import Services
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, ancestors, files_graph, triples

AMV = rdflib.Namespace(DEFAULT_BASE_URI + "ontology#")
FACTORS = DEFAULT_BASE_URI + "vocab/factors/"
INDUSTRIES = DEFAULT_BASE_URI + "vocab/industries/"
KNOWLEDGE_TYPES = DEFAULT_BASE_URI + "vocab/knowledge-types/"
NFA = f"{BASE}id/actor/m0y082gm"  # Det Nationale Forskningscenter for Arbejdsmiljø: publishes and creates items
ARBEJDSTILSYNET = f"{BASE}id/actor/zhe5ymay"
ATOM = "application/atom+xml"
JSON_FEED = "application/feed+json"
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


# -- expectations from the files -----------------------------------------------------------------


def sample_items(*, factor: str | None = None, industry: str | None = None, actor: str | None = None) -> set[str]:
    """Sample knowledge items tagged with `factor`/`industry` or a narrower concept, by `actor`."""
    graph = files_graph()
    found = set()
    for item in graph.subjects(RDF.type, AMV.KnowledgeItem):
        factors = set().union(*(ancestors(graph, f) for f in graph.objects(item, AMV.factor)))
        industries = set().union(*(ancestors(graph, i) for i in graph.objects(item, AMV.industry)))
        actors = {str(a) for p in (DCTERMS.publisher, DCTERMS.creator) for a in graph.objects(item, p)}
        if (
            (factor is None or factor in factors)
            and (industry is None or industry in industries)
            and (actor is None or actor in actors)
        ):
            found.add(str(item))
    return found


def newest_first(services: Services, items: set[str]) -> list[str]:
    """Items by when they entered Arbejdsmiljøviden (the ledger's creation time), newest first."""
    created = {i: services.ledger.get(i).created for i in items}  # type: ignore[union-attr]
    return sorted(items, key=lambda i: (created[i], i), reverse=True)[:ITEMS_FEED_SIZE]


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app on one copy of the sample data for the tests that only read."""
    copy = tmp_path_factory.mktemp("feeds") / "data"
    shutil.copytree(initialised_dir, copy)
    with TestClient(create_app(make_settings(copy))) as client:
        yield client


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    """An app on a private copy, for tests that publish and withdraw records."""
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined]


def atom_feed(client: TestClient, url: str) -> feedparser.FeedParserDict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, (url, parsed.get("bozo_exception"))
    assert parsed.version == "atom10"
    return parsed


def json_feed(client: TestClient, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, response.text)
    assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
    data = response.json()
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str) and data["title"]
    assert isinstance(data["items"], list)
    for item in data["items"]:  # JSON Feed 1.1: id, and content_html or content_text, are required
        assert isinstance(item["id"], str) and item["id"]
        assert isinstance(item.get("content_text") or item.get("content_html"), str)
    return data


def entry_ids(parsed: feedparser.FeedParserDict) -> list[str]:
    return [e.id for e in parsed.entries]


def publish(services: Services, turtle: str) -> None:
    outcomes = services.records.load(triples(turtle), agent="test")
    assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]


def item_turtle(record_id: str, *, title: str, factor: str, description: str = "Testpost til feeds.") -> str:
    return (
        PREFIXES
        + f"""
<{BASE}id/item/{record_id}> a amv:KnowledgeItem ;
    dct:title {rdflib.Literal(title, lang="da").n3()} ;
    dct:description {rdflib.Literal(description, lang="da").n3()} ;
    amv:knowledgeType <{KNOWLEDGE_TYPES}01> ;
    amv:factor {factor} ;
    dct:publisher <{ARBEJDSTILSYNET}> .
"""
    )


def wait_for_a_later_second(parsed: feedparser.FeedParserDict) -> None:
    """Creation times have whole seconds: make sure a record published now is strictly the newest."""
    newest = max((e.published for e in parsed.entries), default="")
    while now() <= newest:
        time.sleep(0.05)


# -- every feed is a valid feed with the expected entries ----------------------------------------


def test_the_feed_of_all_items_holds_the_newest_items_with_everything_an_entry_needs(shared: TestClient) -> None:
    services = services_of(shared)
    parsed = atom_feed(shared, "/feeds/items.atom")
    expected = newest_first(services, sample_items())
    assert len(expected) == ITEMS_FEED_SIZE and entry_ids(parsed) == expected

    feed = parsed.feed
    assert feed.title == "Ny viden i Arbejdsmiljøviden"
    assert feed.id == BASE + "feeds/items.atom"
    assert feed.language == "da"
    assert "CC BY 4.0" in feed.rights and "creativecommons.org/licenses/by/4.0" in feed.rights
    assert feed.generator == "Arbejdsmiljøviden"
    links = {(link.rel, link.type): link.href for link in feed.links}
    assert links[("self", ATOM)] == "http://testserver/feeds/items.atom"
    assert links[("alternate", "text/html")] == "http://testserver/items"
    assert links[("alternate", JSON_FEED)] == "http://testserver/feeds/items.json"
    assert feed.updated == max(e.updated for e in parsed.entries)

    graph = files_graph()
    for entry in parsed.entries:
        item = rdflib.URIRef(entry.id)
        ledger = services.ledger.get(entry.id)
        assert ledger is not None
        assert entry.published == ledger.created and entry.updated == ledger.modified
        assert entry.title == str(next(t for t in graph.objects(item, DCTERMS.title) if t.language == "da"))
        [alternate] = [link for link in entry.links if link.rel == "alternate"]
        assert (
            alternate.href == "http://testserver" + entry.id.removeprefix(BASE[:-1]) and alternate.type == "text/html"
        )
        descriptions = {str(d) for d in graph.objects(item, DCTERMS.description) if d.language == "da"}
        assert entry.summary in descriptions
        terms = {t.term for t in entry.tags}
        assert terms == {str(c) for p in (AMV.knowledgeType, AMV.factor) for c in graph.objects(item, p)}
        assert all(t.label for t in entry.tags)
        actors = {a for p in (DCTERMS.publisher, DCTERMS.creator) for a in graph.objects(item, p)}
        names = {str(n) for a in actors for n in graph.objects(a, DCTERMS.title) if n.language == "da"}
        names |= {str(n) for a in actors for n in graph.objects(a, SKOS.prefLabel) if n.language == "da"}
        assert {a.name for a in entry.get("authors", [])} <= names and len(entry.get("authors", [])) == len(actors)

    # The JSON Feed lists the same items in the same order.
    data = json_feed(shared, "/feeds/items.json")
    assert [i["id"] for i in data["items"]] == expected
    assert data["feed_url"] == "http://testserver/feeds/items.json"
    assert data["home_page_url"] == "http://testserver/items"
    first = data["items"][0]
    assert first["url"].startswith("http://testserver/id/item/")
    assert first["date_published"] == parsed.entries[0].published
    assert first["title"] == parsed.entries[0].title


@pytest.mark.parametrize(
    ("query", "expected", "title"),
    [
        ("factor=5", dict(factor=FACTORS + "5"), "Ny viden om fysisk arbejdsmiljø (og underbegreber)"),
        ("industry=F", dict(industry=INDUSTRIES + "F"), "Ny viden for branchen Bygge- og anlægsvirksomhed"),
        ("factor=5.1&industry=C", dict(factor=FACTORS + "5.1", industry=INDUSTRIES + "C"), "Ny viden om støj"),
        ("actor=m0y082gm", dict(actor=NFA), "Ny viden fra Det Nationale Forskningscenter for Arbejdsmiljø"),
        (f"actor={NFA}", dict(actor=NFA), "Ny viden fra Det Nationale Forskningscenter for Arbejdsmiljø"),
    ],
)
def test_filtered_feeds_hold_the_newest_matching_items(
    shared: TestClient, query: str, expected: dict[str, str], title: str
) -> None:
    want = newest_first(services_of(shared), sample_items(**expected))
    assert want, "the sample data should have items for this filter"
    parsed = atom_feed(shared, "/feeds/items.atom?" + query)
    assert entry_ids(parsed) == want
    assert parsed.feed.title.startswith(title)
    data = json_feed(shared, "/feeds/items.json?" + query)
    assert [i["id"] for i in data["items"]] == want and data["title"] == parsed.feed.title


def test_feeds_by_knowledge_type_and_evidence_level(shared: TestClient) -> None:
    graph = files_graph()
    for param, prop, code in [("knowledgeType", AMV.knowledgeType, "01"), ("evidenceLevel", AMV.evidenceLevel, "08")]:
        scheme = "knowledge-types" if param == "knowledgeType" else "evidence-levels"
        concept = rdflib.URIRef(f"{DEFAULT_BASE_URI}vocab/{scheme}/{code}")
        tagged = {str(i) for i in graph.subjects(prop, concept) if (i, RDF.type, AMV.KnowledgeItem) in graph}
        parsed = atom_feed(shared, f"/feeds/items.atom?{param}={code}")
        assert set(entry_ids(parsed)) == tagged and tagged
        assert all(str(concept) in {t.term for t in e.tags} for e in parsed.entries if param == "knowledgeType")


def test_the_alternate_page_of_an_actor_feed_is_the_actor_page(shared: TestClient) -> None:
    feed = atom_feed(shared, "/feeds/items.atom?actor=m0y082gm").feed
    links = {(link.rel, link.type): link.href for link in feed.links}
    assert links[("alternate", "text/html")] == "http://testserver/id/actor/m0y082gm"
    assert links[("self", ATOM)] == "http://testserver/feeds/items.atom?actor=m0y082gm"


def test_english_feeds_have_english_titles_and_link_to_english_pages(shared: TestClient) -> None:
    parsed = atom_feed(shared, "/feeds/items.atom?factor=5&lang=en")
    assert parsed.feed.title == "New knowledge about physical work environment (incl. narrower concepts)"
    assert parsed.feed.language == "en"
    assert all(e.link.endswith("?lang=en") for e in parsed.entries)
    english = [e for e in parsed.entries if e.title_detail.get("language") in (None, "en")]
    assert english, "sample items with English titles should show them"
    data = json_feed(shared, "/feeds/items.json?factor=5&lang=en")
    assert data["language"] == "en" and data["title"] == parsed.feed.title


# -- narrower concepts ---------------------------------------------------------------------------


def test_a_factor_feed_takes_in_narrower_factors_and_nothing_else(client: TestClient) -> None:
    services = services_of(client)
    wait_for_a_later_second(atom_feed(client, "/feeds/items.atom"))
    publish(services, item_turtle("zz9feed1", title="Høreværn i smedjen (testpost)", factor="factor:5.1.1"))
    publish(services, item_turtle("zz9feed2", title="Mobning i teams (testpost)", factor="factor:2.4"))
    physical = entry_ids(atom_feed(client, "/feeds/items.atom?factor=5"))
    psychosocial = entry_ids(atom_feed(client, "/feeds/items.atom?factor=2"))
    assert physical[0] == f"{BASE}id/item/zz9feed1" and f"{BASE}id/item/zz9feed2" not in physical
    assert psychosocial[0] == f"{BASE}id/item/zz9feed2" and f"{BASE}id/item/zz9feed1" not in psychosocial
    # Knowledge tagged only 5.1.1 is in the feed of 5.1 (noise) but not of 5.2 (vibration).
    assert f"{BASE}id/item/zz9feed1" in entry_ids(atom_feed(client, "/feeds/items.atom?factor=5.1"))
    assert f"{BASE}id/item/zz9feed1" not in entry_ids(atom_feed(client, "/feeds/items.atom?factor=5.2"))


# -- publishing and withdrawing ------------------------------------------------------------------


def test_a_published_record_tops_the_feed_and_a_withdrawn_one_leaves_it(client: TestClient) -> None:
    services = services_of(client)
    before = client.get("/feeds/items.atom")
    tag = before.headers["etag"]
    wait_for_a_later_second(feedparser.parse(before.content))
    new = f"{BASE}id/item/zz9feed3"
    publish(services, item_turtle("zz9feed3", title="Ny vejledning om støj (testpost)", factor="factor:5.1"))

    for url in ("/feeds/items.atom", "/feeds/items.atom?factor=5", f"/feeds/items.atom?actor={ARBEJDSTILSYNET}"):
        parsed = atom_feed(client, url)
        assert parsed.entries[0].id == new, url
        assert parsed.entries[0].title == "Ny vejledning om støj (testpost)"
        assert parsed.feed.updated == parsed.entries[0].updated
    assert json_feed(client, "/feeds/items.json")["items"][0]["id"] == new
    assert len(atom_feed(client, "/feeds/items.atom").entries) == ITEMS_FEED_SIZE
    # The old copy is stale now.
    assert client.get("/feeds/items.atom", headers={"If-None-Match": tag}).status_code == 200

    services.records.withdraw(NamedNode(new), agent="test", reason="test")
    for url in ("/feeds/items.atom", "/feeds/items.atom?factor=5", "/feeds/items.json"):
        body = client.get(url).text
        assert new not in body, url


# -- discoverability -----------------------------------------------------------------------------


class LinkTags(HTMLParser):
    """<link rel="alternate" …> tags with a title (feeds), and <a> links with their text."""

    def __init__(self) -> None:
        super().__init__()
        self.feeds: list[dict[str, str]] = []
        self.anchors: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "link" and a.get("rel") == "alternate" and a.get("type") in (ATOM, JSON_FEED):
            self.feeds.append(a)
        elif tag == "a":
            self._href, self._text = a.get("href", ""), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.anchors.append((self._href, "".join(self._text).strip()))
            self._href = None


def discovered(client: TestClient, page: str) -> LinkTags:
    response = client.get(page)
    assert response.status_code == 200, page
    parser = LinkTags()
    parser.feed(response.text)
    return parser


@pytest.mark.parametrize(
    ("page", "feeds"),
    [
        ("/", ["/feeds/items.atom", "/feeds/items.json", "/feeds/events.atom", "/feeds/events.json"]),
        ("/vocab/factors/5", ["/feeds/items.atom?factor=5", "/feeds/items.json?factor=5"]),
        ("/vocab/industries/F", ["/feeds/items.atom?industry=F", "/feeds/items.json?industry=F"]),
        ("/vocab/knowledge-types/01", ["/feeds/items.atom?knowledgeType=01", "/feeds/items.json?knowledgeType=01"]),
        ("/id/actor/m0y082gm", ["/feeds/items.atom?actor=m0y082gm", "/feeds/items.json?actor=m0y082gm"]),
        (
            "/items?factor=5&industry=F",
            ["/feeds/items.atom?factor=5&industry=F", "/feeds/items.json?factor=5&industry=F"],
        ),
        ("/events", ["/feeds/events.atom", "/feeds/events.json"]),
    ],
)
def test_pages_announce_their_feeds_and_the_links_work(shared: TestClient, page: str, feeds: list[str]) -> None:
    found = discovered(shared, page)
    assert [f["href"] for f in found.feeds] == feeds
    subscribe = [href for href, text in found.anchors if text == "Abonnér (RSS/Atom)"]
    assert subscribe == [f for f in feeds if ".atom" in f]
    for link in found.feeds:
        assert link["title"], "a feed link needs a title for feed readers to show"
        if link["type"] == ATOM:
            parsed = atom_feed(shared, link["href"])
            assert parsed.feed.title == link["title"]
            assert parsed.entries, f"{link['href']} should not be empty on the sample data"
        else:
            assert json_feed(shared, link["href"])["title"] == link["title"]


def test_english_pages_announce_english_feeds(shared: TestClient) -> None:
    found = discovered(shared, "/vocab/factors/5.1?lang=en")
    shared.cookies.clear()  # `?lang=en` is remembered in a cookie; the other tests read Danish pages
    hrefs = [f["href"] for f in found.feeds]
    assert hrefs == ["/feeds/items.atom?factor=5.1&lang=en", "/feeds/items.json?factor=5.1&lang=en"]
    assert found.feeds[0]["title"] == "New knowledge about noise (incl. narrower concepts)"
    assert atom_feed(shared, hrefs[0]).feed.title == found.feeds[0]["title"]
    assert any(text == "Subscribe (RSS/Atom)" for _, text in found.anchors)


def test_pages_without_a_list_of_their_own_announce_no_feed(shared: TestClient) -> None:
    for page in ("/id/item/h6wg09c6", "/about"):
        assert discovered(shared, page).feeds == [], page
    # A scheme page announces the feed of the scheme's changes (tests/test_vocab_history.py), no items feed.
    hrefs = [f["href"] for f in discovered(shared, "/vocab/factors").feeds]
    assert hrefs == ["/vocab/factors/changes.atom", "/vocab/factors/changes.json"]


def test_an_events_page_with_filters_announces_the_filtered_feed(shared: TestClient) -> None:
    found = discovered(shared, "/events?factor=factors/2")
    assert [f["href"] for f in found.feeds] == [
        "/feeds/events.atom?factor=factors%2F2",
        "/feeds/events.json?factor=factors%2F2",
    ]
    assert found.feeds[0]["title"] == "Kommende arrangementer om psykosocialt arbejdsmiljø (og underbegreber)"


# -- conditional requests ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/feeds/items.atom?factor=5", "/feeds/items.json", "/feeds/events.atom"])
def test_an_unchanged_feed_answers_304(shared: TestClient, url: str) -> None:
    first = shared.get(url)
    tag, modified = first.headers["etag"], first.headers["last-modified"]
    again = shared.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert shared.get(url, headers={"If-None-Match": f'W/{tag}, "other"'}).status_code == 304
    assert shared.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert shared.get(url, headers={"If-None-Match": '"something-else"'}).status_code == 200
    # Another language or another filter is another document, with another validator.
    other = shared.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert other.status_code == 200 and other.headers["etag"] != tag


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "factor=nope",
        "factor=F",  # an industry, not a factor
        "industry=5",
        "knowledgeType=99",
        "evidenceLevel=xx",
        "actor=zzzzzzzz",  # well-formed, but no such actor
        f"actor={BASE}id/item/h6wg09c6",  # a knowledge item, not an actor
        "actor=not an id",
        'factor="}',
        "factor=<script>alert(1)</script>",
        "actor=%22%7D%20UNION%20%7B",
    ],
)
def test_an_unknown_filter_value_is_a_400_that_says_what_is_wrong(shared: TestClient, query: str) -> None:
    atom = shared.get("/feeds/items.atom?" + query)
    assert atom.status_code == 400 and atom.text.startswith("400 Bad Request:")
    assert "<script>" not in atom.headers["content-type"] and atom.headers["content-type"].startswith("text/plain")
    data = shared.get("/feeds/items.json?" + query)
    assert data.status_code == 400
    error = data.json()["error"]
    assert error["parameter"] == query.split("=", 1)[0] and error["message"]["da"] and error["message"]["en"]


@pytest.mark.parametrize("query", ["factor=bogus", "industry=industries/ZZ", "type=<script>", 'region="}'])
def test_an_unknown_events_filter_is_a_400(shared: TestClient, query: str) -> None:
    assert shared.get("/feeds/events.atom?" + query).status_code == 400
    assert shared.get("/feeds/events.json?" + query).status_code == 400


# -- escaping --------------------------------------------------------------------------------------


def test_markup_in_titles_and_summaries_is_text(client: TestClient) -> None:
    services = services_of(client)
    wait_for_a_later_second(atom_feed(client, "/feeds/items.atom"))
    title = '<script>alert("feed")</script> Støj & "larm" (testpost)'
    description = "<b>fed</b> <img src=x onerror=alert(1)> ]]> &amp; slut"
    publish(services, item_turtle("zz9feed4", title=title, factor="factor:5.1", description=description))

    raw = client.get("/feeds/items.atom").content
    assert b"<script>" not in raw and b"<img" not in raw and b"<b>" not in raw
    assert b"&lt;script&gt;" in raw
    ET.fromstring(raw)  # well-formed XML
    entry = atom_feed(client, "/feeds/items.atom").entries[0]
    assert entry.title == title and entry.title_detail.type == "text/plain"
    assert entry.summary == description and entry.summary_detail.type == "text/plain"

    item = json_feed(client, "/feeds/items.json")["items"][0]
    assert item["title"] == title and item["summary"] == description and item["content_text"] == description


# -- upcoming events -------------------------------------------------------------------------------


def event_turtle(record_id: str, start: datetime, factor: str, title: str) -> str:
    return (
        PREFIXES
        + f"""
<{BASE}id/event/{record_id}> a amv:Event ;
    dct:title "{title}"@da ;
    dct:description "Et testarrangement."@da ;
    amv:eventType <{BASE}vocab/event-types/03> ;
    schema:startDate "{start.isoformat()}"^^xsd:dateTime ;
    schema:location "Vejle" ;
    schema:organizer <{ARBEJDSTILSYNET}> ;
    amv:factor {factor} .
"""
    )


def test_the_events_feed_holds_upcoming_events_soonest_first(client: TestClient) -> None:
    services = services_of(client)
    soon = (datetime.now(COPENHAGEN) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)
    gone = soon - timedelta(days=30)
    publish(services, event_turtle("zz9feed5", soon, "factor:5.1.1", "Temadag om høreskader (test)"))
    publish(services, event_turtle("zz9feed6", gone, "factor:5.1.1", "Overstået temadag (test)"))

    parsed = atom_feed(client, "/feeds/events.atom")
    ids = entry_ids(parsed)
    assert f"{BASE}id/event/zz9feed5" in ids and f"{BASE}id/event/zz9feed6" not in ids
    assert parsed.feed.title == "Kommende arrangementer i Arbejdsmiljøviden"
    starts = [re.search(r"^(\d+)\.(\d+)\.(\d+)", e.summary) for e in parsed.entries]
    days = [(int(m.group(3)), int(m.group(2)), int(m.group(1))) for m in starts if m]
    assert len(days) == len(parsed.entries) and days == sorted(days), "soonest first"

    physical = atom_feed(client, "/feeds/events.atom?factor=factors/5")
    assert entry_ids(physical)[0] == f"{BASE}id/event/zz9feed5"  # tagged 5.1.1: in the feed of 5
    ours = physical.entries[0]
    assert ours.summary.startswith(f"{soon.day}.{soon.month}.{soon.year} kl. 09.00, Vejle")
    assert [a.name for a in ours.authors] == ["Arbejdstilsynet"]
    assert {t.term for t in ours.tags} == {f"{BASE}vocab/event-types/03", f"{FACTORS}5.1.1"}
    links = {(link.rel, link.type): link.href for link in physical.feed.links}
    assert parse_qs(urlsplit(links[("alternate", "text/html")]).query) == {"factor": ["factors/5"]}

    data = json_feed(client, "/feeds/events.json?factor=factors/5")
    first = data["items"][0]
    assert first["id"] == f"{BASE}id/event/zz9feed5"
    assert first["_arbejdsmiljoviden"]["startDate"] == soon.isoformat()
    assert first["_arbejdsmiljoviden"]["location"] == "Vejle"
    psychosocial = entry_ids(atom_feed(client, "/feeds/events.atom?factor=factors/2"))
    assert f"{BASE}id/event/zz9feed5" not in psychosocial


# -- both kinds of store ---------------------------------------------------------------------------


def test_the_feed_queries_work_on_the_embedded_store_and_through_a_store_server(services: Services) -> None:
    from graph.feeds import item_scope, items_feed, parse_item_scope
    from graph.views import Site

    site = Site(services)
    fallback = datetime.now(COPENHAGEN)
    everything = items_feed(site, item_scope(site, {}), fallback)
    assert [e.iri for e in everything.entries] == newest_first(services, sample_items())
    scope = parse_item_scope(site, {"factor": ["5"], "actor": [NFA]})
    assert scope.title("da") == "Ny viden om fysisk arbejdsmiljø (og underbegreber), fra " + (
        "Det Nationale Forskningscenter for Arbejdsmiljø"
    )
    filtered = items_feed(site, scope, fallback)
    assert [e.iri for e in filtered.entries] == newest_first(
        services, sample_items(factor=FACTORS + "5") & sample_items(actor=NFA)
    )
