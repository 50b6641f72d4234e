"""The coverage map and the item lists its cells lead to.

Expected numbers are computed here, independently of the app and its SPARQL, from the vocabulary
and sample data files with rdflib.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest
import rdflib
from fastapi.testclient import TestClient
from rdflib.namespace import RDF, SKOS

from api.app import create_app
from graph.config import DEFAULT_BASE_URI
from graph.coverage import coverage, filter_concepts, item_list
from graph.services import Services, open_services
from graph.views import Site
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, ancestors, files_graph, triples

AMV = rdflib.Namespace(DEFAULT_BASE_URI + "ontology#")
FACTORS = DEFAULT_BASE_URI + "vocab/factors/"
INDUSTRIES = DEFAULT_BASE_URI + "vocab/industries/"
NEW_ITEM = "zz9cvr00"
CSS = Path(__file__).resolve().parent.parent / "api" / "static" / "style.css"


@cache
def expected_tags() -> dict[str, tuple[set[str], set[str]]]:
    """Each sample knowledge item -> (its factors and their ancestors, its industries and their ancestors)."""
    graph = files_graph()
    tags = {}
    for item in graph.subjects(RDF.type, AMV.KnowledgeItem):
        factors = set().union(*(ancestors(graph, f) for f in graph.objects(item, AMV.factor)))
        industries = set().union(*(ancestors(graph, i) for i in graph.objects(item, AMV.industry)))
        tags[str(item)] = (factors, industries)
    return tags


def expected_items(factor: str | None = None, industry: str | None = None) -> set[str]:
    return {
        item
        for item, (factors, industries) in expected_tags().items()
        if (factor is None or factor in factors) and (industry is None or industry in industries)
    }


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as c:
        yield c


def test_every_cell_and_total_equals_an_independent_count_from_the_files(client: TestClient) -> None:
    data = client.get("/coverage.json").json()
    graph = files_graph()
    sections = sorted(
        str(c) for c in graph.objects(rdflib.URIRef(DEFAULT_BASE_URI + "vocab/industries"), SKOS.hasTopConcept)
    )
    assert [c["iri"] for c in data["columns"]] == [s for s in sections if s.rsplit("/", 1)[1].isalpha()]
    assert [c["code"] for c in data["columns"]] == list("ABCDEFGHIJKLMNOPQRSTU")
    factor_tops = set(graph.objects(rdflib.URIRef(DEFAULT_BASE_URI + "vocab/factors"), SKOS.hasTopConcept))
    second_level = {str(c) for top in factor_tops for c in graph.subjects(SKOS.broader, top)}
    assert {r["iri"] for r in data["rows"] if r["level"] == 2} == second_level
    assert {r["iri"] for r in data["rows"] if r["level"] == 1} == {str(t) for t in factor_tops}

    nonzero = 0
    for row, counts in zip(data["rows"], data["counts"], strict=True):
        assert row["total"] == len(expected_items(factor=row["iri"])), row["code"]
        for column, count in zip(data["columns"], counts, strict=True):
            assert count == len(expected_items(row["iri"], column["iri"])), (row["code"], column["code"])
            nonzero += count > 0
    for column in data["columns"]:
        assert column["total"] == len(expected_items(industry=column["iri"])), column["code"]
    assert nonzero >= 20, "the sample data should give a map with something in it"
    assert data["totalItems"] == len(expected_tags())


def _html_grid(html: str) -> dict[str, list[int]]:
    """Row code -> the numbers shown in its cells (the text of each cell, not its colour)."""
    grid = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        code = re.search(r'<span class="cov-code">([^<]+)</span>', row)
        if code:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
            grid[code.group(1)] = [int(re.sub(r"<[^>]+>|\.", "", c).strip()) for c in cells]
    return grid


def test_the_html_table_is_accessible_and_shows_the_same_numbers(client: TestClient) -> None:
    response = client.get("/coverage")
    assert response.status_code == 200
    html = response.text
    data = client.get("/coverage.json").json()
    assert "<caption" in html and html.count('<th scope="col"') == len(data["columns"]) + 2
    assert html.count('<th scope="row"') == len(data["rows"]) + 1  # + the totals row
    grid = _html_grid(html)
    for row, counts in zip(data["rows"], data["counts"], strict=True):
        assert grid[row["code"]] == [*counts, row["total"]]
    # Empty cells show "0" and have their own class; filled cells link to the list of their items.
    assert re.search(r'<td class="cov-c0"[^>]*>0</td>', html)
    for cell in re.findall(r'<td class="cov-c([1-9])[^"]*" data-count="(\d+)">(.*?)</td>', html, re.S):
        assert cell[2].startswith('<a href="/items?'), cell
    assert 'rel="alternate" type="application/json" href="/coverage.json"' in html
    assert '"@context": "https://schema.org"' in html


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_every_colour_class_has_readable_text() -> None:
    rules = dict(re.findall(r"^\.cov-c(\d) \{([^}]*)\}", CSS.read_text(encoding="utf-8"), re.M))
    assert set(rules) == {"0", "1", "2", "3", "4"}
    for level, body in rules.items():
        background = re.search(r"background: (#[0-9a-f]{6})", body).group(1)  # type: ignore[union-attr]
        text = re.search(r"(?<!-)color: (#[0-9a-f]{6})", body).group(1)  # type: ignore[union-attr]
        light, dark = sorted([_luminance(background), _luminance(text)], reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, f"cov-c{level}"


def _follow(client: TestClient, href: str) -> tuple[int, list[str]]:
    """The total a list announces, and the items of all its pages (following rel=next)."""
    items: list[str] = []
    total = -1
    while href:
        response = client.get(href)
        assert response.status_code == 200, href
        html = response.text
        total = int(re.search(r'data-total="(\d+)"', html).group(1))  # type: ignore[union-attr]
        items += re.findall(r'<a href="(/id/item/[^"]+)" class="item-title">', html)
        following = re.search(r'<a rel="next" href="([^"]+)"', html)
        href = following.group(1).replace("&amp;", "&") if following else ""
    return total, items


def test_a_cell_leads_to_a_list_of_exactly_its_items(client: TestClient) -> None:
    html = client.get("/coverage").text
    cells = re.findall(r'data-count="(\d+)"><a href="(/items\?factor=[^"&]+&amp;industry=[^"]+)">', html)
    assert cells
    count, href = max(cells, key=lambda c: int(c[0]))
    factor, industry = re.match(r"/items\?factor=([^&]+)&amp;industry=(.+)", href).groups()  # type: ignore[union-attr]
    total, listed = _follow(client, href.replace("&amp;", "&"))
    expected = expected_items(FACTORS + factor, INDUSTRIES + industry)
    assert total == int(count) == len(listed) == len(expected)
    assert {DEFAULT_BASE_URI + p.lstrip("/") for p in listed} == expected
    # Every cell's link announces its count.
    for count, href in cells[:10]:
        total, _ = _follow(client, href.replace("&amp;", "&"))
        assert total == int(count)


def test_narrower_tagging_is_counted(client: TestClient) -> None:
    """A cell counts items tagged only below it (e.g. "lifting" under "manual handling", 41.20 under F)."""
    graph = files_graph()
    data = client.get("/coverage.json").json()
    direct: dict[tuple[str, str], int] = defaultdict(int)
    for item in graph.subjects(RDF.type, AMV.KnowledgeItem):
        for f in graph.objects(item, AMV.factor):
            for i in graph.objects(item, AMV.industry):
                direct[(str(f), str(i))] += 1
    deeper = [
        (row, column, count)
        for row, counts in zip(data["rows"], data["counts"], strict=True)
        for column, count in zip(data["columns"], counts, strict=True)
        if count > direct[(row["iri"], column["iri"])]
    ]
    assert deeper, "the sample data tags items below the map's rows and columns"


def test_a_newly_published_item_tagged_deep_in_both_hierarchies_is_counted(data_dir: Path) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        before = {(r, c): n for r, c, n in _cells(services)}
        turtle = (
            PREFIXES
            + f"""
@prefix kt: <{BASE}vocab/knowledge-types/> .
<{BASE}id/item/{NEW_ITEM}> a amv:KnowledgeItem ;
    dct:title "Løfteteknik ved opmuring (testpost)"@da ;
    dct:description "Testpost til videnskortet."@da ;
    amv:knowledgeType kt:01 ;
    amv:factor factor:1.1.1 ;
    amv:industry industry:41.20.00 .
"""
        )
        outcomes = services.records.load(triples(turtle), agent="test")
        assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]
        after = {(r, c): n for r, c, n in _cells(services)}
    assert after[(FACTORS + "1.1", INDUSTRIES + "F")] == before.get((FACTORS + "1.1", INDUSTRIES + "F"), 0) + 1
    assert after[(FACTORS + "1", INDUSTRIES + "F")] == before.get((FACTORS + "1", INDUSTRIES + "F"), 0) + 1
    changed = {k for k in after if after[k] != before.get(k, 0)}
    assert changed == {(FACTORS + "1.1", INDUSTRIES + "F"), (FACTORS + "1", INDUSTRIES + "F")}
    with TestClient(create_app(make_settings(data_dir))) as client:
        total, listed = _follow(client, "/items?factor=1.1&industry=F")
        assert f"/id/item/{NEW_ITEM}" in listed and total == after[(FACTORS + "1.1", INDUSTRIES + "F")]


def _cells(services: Services) -> Iterator[tuple[str, str, int]]:
    cov = coverage(Site(services))
    for row in cov.rows:
        for column in cov.columns:
            yield row.ref.iri, column.ref.iri, cov.count(row, column)


def test_items_are_newest_first_20_per_page_with_prev_and_next(client: TestClient) -> None:
    first = client.get("/items")
    assert first.status_code == 200
    html = first.text
    total = len(expected_tags())
    assert f'data-total="{total}"' in html
    assert len(re.findall(r'class="item-title"', html)) == 20
    assert '<link rel="next" href="/items?page=2">' in html and 'rel="prev"' not in html
    second = client.get("/items?page=2").text
    assert '<link rel="prev" href="/items">' in second and '<link rel="next" href="/items?page=3">' in second
    _, listed = _follow(client, "/items")
    assert len(listed) == len(set(listed)) == total
    years: list[str] = []
    href = "/items"
    while href:
        page = client.get(href).text
        years += re.findall(r"<dt>År</dt><dd>(\d{4})</dd>", page)
        following = re.search(r'<a rel="next" href="([^"]+)"', page)
        href = following.group(1).replace("&amp;", "&") if following else ""
    assert years == sorted(years, reverse=True)
    # Each entry shows title, knowledge type, publisher and year.
    assert "<dt>Videnstype</dt>" in html and "<dt>Udgiver</dt>" in html


def test_items_json_twin_and_filters_by_type_and_evidence(client: TestClient) -> None:
    data = client.get("/items.json?factor=1").json()
    assert data["total"] == len(expected_items(FACTORS + "1"))
    assert data["items"] and {"iri", "title", "knowledgeType", "publisher", "year"} <= data["items"][0].keys()
    if data["total"] > 20:
        assert data["next"] == "/items.json?factor=1&page=2"
    graph = files_graph()
    kinds = {str(o) for o in graph.objects(None, AMV.knowledgeType)}
    kind = sorted(kinds)[0]
    by_type = client.get("/items.json", params={"knowledgeType": kind}).json()
    assert by_type["total"] == len(set(graph.subjects(AMV.knowledgeType, rdflib.URIRef(kind))))
    code = kind.rsplit("/", 1)[1]
    assert client.get("/items.json", params={"knowledgeType": code}).json()["total"] == by_type["total"]
    levels = {str(o) for o in graph.objects(None, AMV.evidenceLevel)}
    level = sorted(levels)[0]
    tagged = {
        s for s in graph.subjects(AMV.evidenceLevel, rdflib.URIRef(level)) if (s, RDF.type, AMV.KnowledgeItem) in graph
    }
    assert client.get("/items.json", params={"evidenceLevel": level}).json()["total"] == len(tagged)


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("factor=99.99", "factor"),
        ("factor=%22%7D", "factor"),
        ("industry=%3Cscript%3Ealert(1)%3C/script%3E", "industry"),
        ("factor=" + INDUSTRIES + "F", "factor"),  # a concept of another scheme
        ("industry=https://example.org/x", "industry"),
        ("knowledgeType=}%20UNION%20{", "knowledgeType"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
    ],
)
def test_bad_filters_get_a_clear_400_never_a_500(client: TestClient, query: str, param: str) -> None:
    response = client.get("/items?" + query)
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert f"<code>{param}</code>" in response.text
    data = client.get("/items.json?" + query)
    assert data.status_code == 400 and data.json()["error"]["parameter"] == param


def test_unknown_parameters_are_ignored_and_a_page_past_the_end_is_404(client: TestClient) -> None:
    assert client.get("/items?foo=bar&lang=en").status_code == 200
    beyond = client.get("/items?page=999&lang=da")
    assert beyond.status_code == 404 and "Den side findes ikke" in beyond.text
    last = -(-len(expected_tags()) // 20)
    assert f'<link rel="prev" href="/items?page={last}">' in beyond.text  # back to the last page


def test_english_coverage_page(client: TestClient) -> None:
    html = client.get("/coverage?lang=en").text
    assert '<html lang="en">' in html and "Coverage map" in html and "Manufacturing" in html


def test_map_and_lists_are_right_on_the_embedded_and_on_a_remote_store(services: Services) -> None:
    """The running service talks to a managed Oxigraph server: the same queries must give the same numbers."""
    site = Site(services)
    for row, column, count in _cells(services):
        assert count == len(expected_items(row, column)), (row, column)
    listed = item_list(site, filter_concepts(site, {"factor": ["1"], "industry": ["Q"]}))
    assert listed.total == len(expected_items(FACTORS + "1", INDUSTRIES + "Q")) > 0
    assert {e.ref.iri for e in listed.entries} <= expected_items(FACTORS + "1", INDUSTRIES + "Q")
