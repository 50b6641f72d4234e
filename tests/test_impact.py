"""Impact on actor pages and the dataset statistics (`/statistics`, `/statistics.json`).

The numbers the pages show (charts and tables) are checked against counts made independently here, with
plain SPARQL over the store (not the search index nor the app's named queries); every chart is
well-formed SVG with an accessible name.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import tantivy
from fastapi.testclient import TestClient

import graph.search.index as search_index
from api.app import create_app
from graph.iris import RecordKind
from graph.services import Services
from tests.conftest import make_settings

BASE = "https://w3id.org/arbejdsmiljoviden/"
NFA = BASE + "id/actor/m0y082gm"  # publishes and creates many sample items, organises events
SVG = "{http://www.w3.org/2000/svg}"
PREFIXES = f"""PREFIX amv: <{BASE}ontology#>
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
ACTOR_PATH = "dct:publisher|dct:creator|dct:contributor|schema:organizer|amv:offeredBy"


@pytest.fixture(scope="module")
def client(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app on one copy of the sample data: these tests only read."""
    copy = tmp_path_factory.mktemp("impact") / "data"
    shutil.copytree(initialised_dir, copy)
    with TestClient(create_app(make_settings(copy))) as c:
        yield c


def services_of(client: TestClient) -> Services:
    return client.app.state.services  # type: ignore[attr-defined, no-any-return]


def select(client: TestClient, query: str) -> list[dict[str, str]]:
    rows = services_of(client).store.select(PREFIXES + query)
    return [{k: v.value for k, v in row.items()} for row in rows]  # type: ignore[attr-defined]


def block(html: str, chart_id: str) -> str:
    start = html.index(f'data-chart="{chart_id}"')
    return html[start : html.index("</table>", start)]


def table(html: str, chart_id: str) -> dict[str, int]:
    """The chart's table: row label (a link's path when it has one) -> number."""
    rows = re.findall(
        r'<th scope="row">(?:<a href="([^"]+)">)?([^<]*)(?:</a>)?</th><td>([\d.,]+)</td>', block(html, chart_id)
    )
    return {path or label: int(number.replace(".", "").replace(",", "")) for path, label, number in rows}


def svg_of(html: str, chart_id: str) -> ET.Element:
    source = block(html, chart_id)
    svg = source[source.index("<svg") : source.index("</svg>") + len("</svg>")]
    return ET.fromstring(svg)  # raises if not well-formed XML


def svg_values(svg: ET.Element) -> list[int]:
    return [int(t.text or "0") for t in svg.iter(SVG + "text") if t.get("class") == "chart-value"]


def top_factors(client: TestClient) -> list[str]:
    rows = select(
        client,
        f"SELECT ?c WHERE {{ ?c skos:topConceptOf <{BASE}vocab/factors> }}",
    )
    return sorted(r["c"] for r in rows)


def test_actor_page_shows_what_it_contributed(client: TestClient) -> None:
    page = client.get("/id/actor/m0y082gm?lang=da")
    assert page.status_code == 200
    html = page.text

    # Records by kind, counted independently.
    rows = select(
        client,
        f"SELECT ?class (COUNT(DISTINCT ?r) AS ?n) WHERE {{ ?r {ACTOR_PATH} <{NFA}> ; a ?class }} GROUP BY ?class",
    )
    expected_kinds = {r["class"].rsplit("#", 1)[-1]: int(r["n"]) for r in rows}
    shown = dict(re.findall(r'<tr data-kind="(\w+)"><th scope="row">[^<]+</th><td>(\d+)</td>', html))
    classes = {"item": "KnowledgeItem", "event": "Event", "solution": "Solution", "problem": "Problem"}
    assert {classes[k]: int(v) for k, v in shown.items()} == expected_kinds
    assert expected_kinds["KnowledgeItem"] > 3

    # Factors: every top factor, items tagged with it or a narrower one.
    factor_rows = select(
        client,
        f"""SELECT ?top (COUNT(DISTINCT ?item) AS ?n) WHERE {{
              ?top skos:topConceptOf <{BASE}vocab/factors> .
              ?item a amv:KnowledgeItem ; dct:publisher|dct:creator|dct:contributor <{NFA}> ;
                    amv:factor/skos:broader* ?top }} GROUP BY ?top""",
    )
    expected = {"/" + r["top"].removeprefix(BASE): int(r["n"]) for r in factor_rows}
    factors = table(html, "impact-factors")
    assert {k: v for k, v in factors.items() if v} == expected
    assert len(factors) == len(top_factors(client))  # the empty ones are shown as well
    svg = svg_of(html, "impact-factors")
    assert svg.get("role") == "img"
    assert svg.findtext(SVG + "title") == "Viden efter arbejdsmiljøfaktor"
    assert svg.find(SVG + "desc") is not None
    assert svg_values(svg) == list(factors.values())
    assert len(svg.findall(f".//{SVG}rect")) == sum(1 for v in factors.values() if v)

    # Items per year of publication, gaps between years filled with 0.
    year_rows = select(
        client,
        f"""SELECT ?item ?issued WHERE {{ ?item a amv:KnowledgeItem ;
              dct:publisher|dct:creator|dct:contributor <{NFA}> ; dct:issued ?issued }}""",
    )
    per_year = Counter(int(str(y)[:4]) for y in {r["item"]: r["issued"] for r in year_rows}.values())
    years = table(html, "impact-years")
    assert {int(y): n for y, n in years.items() if n} == dict(per_year)
    assert list(years) == [str(y) for y in range(min(per_year), max(per_year) + 1)]
    svg_of(html, "impact-years")

    # The problems and solutions its records inform.
    linked = select(
        client,
        f"""SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?r dct:publisher|dct:creator|amv:offeredBy <{NFA}> ;
              amv:addresses|amv:solves ?p . ?p a amv:Problem }}""",
    )
    assert f"koblet til {linked[0]['n']} arbejdsmiljøproblemer" in html

    english = client.get("/id/actor/m0y082gm?lang=en").text
    assert svg_of(english, "impact-factors").findtext(SVG + "title") == "Knowledge by work-environment factor"


def test_actor_without_records(client: TestClient) -> None:
    rows = select(
        client,
        f"SELECT ?a WHERE {{ ?a a amv:Actor FILTER NOT EXISTS {{ ?r {ACTOR_PATH} ?a }} }} ORDER BY ?a LIMIT 1",
    )
    if not rows:
        pytest.skip("every sample actor has records")
    page = client.get("/" + rows[0]["a"].removeprefix(BASE) + "?lang=da")
    assert page.status_code == 200 and "Ingen poster i Arbejdsmiljøviden nævner endnu denne aktør" in page.text


def test_statistics_page_and_json(client: TestClient) -> None:
    page = client.get("/statistics?lang=da")
    assert page.status_code == 200
    html = page.text
    data = client.get("/statistics.json").json()

    # Public records per kind: as many as the store has of each class.
    rows = select(client, "SELECT ?class (COUNT(?r) AS ?n) WHERE { ?r a ?class } GROUP BY ?class")
    by_class = {r["class"].rsplit("#", 1)[-1]: int(r["n"]) for r in rows}
    classes = {
        "item": "KnowledgeItem",
        "problem": "Problem",
        "solution": "Solution",
        "actor": "Actor",
        "event": "Event",
    }
    assert data["records"] == {kind: by_class.get(cls, 0) for kind, cls in classes.items()}
    assert data["growth"]["byMonth"][-1]["cumulative"] == sum(data["records"].values())

    # Coverage by top factor, counted independently; the page's table says the same as the JSON.
    factor_rows = select(
        client,
        f"""SELECT ?top (COUNT(DISTINCT ?item) AS ?n) WHERE {{
              ?top skos:topConceptOf <{BASE}vocab/factors> .
              ?item a amv:KnowledgeItem ; amv:factor/skos:broader* ?top }} GROUP BY ?top""",
    )
    expected = {"/" + r["top"].removeprefix(BASE): int(r["n"]) for r in factor_rows}
    factors = table(html, "statistics-factors")
    assert {k: v for k, v in factors.items() if v} == expected
    assert [f["items"] for f in data["coverage"]["factors"]] == list(factors.values())
    industries = table(html, "statistics-industries")
    assert len(industries) == 21  # the DB07 sections A–U
    assert [i["items"] for i in data["coverage"]["industries"]] == list(industries.values())

    # Gaps: exactly the sections and top factors below the threshold, fewest first.
    below = data["gaps"]["fewerThan"]
    gaps = [g["items"] for g in data["gaps"]["industries"]]
    assert sorted(gaps) == gaps and len(gaps) == sum(1 for n in industries.values() if n < below)
    assert all(n < below for n in gaps)

    for chart in ("statistics-growth", "statistics-factors", "statistics-industries"):
        assert svg_of(html, chart).get("role") == "img"
    assert "Statistics of Arbejdsmiljøviden" in client.get("/statistics?lang=en").text


def test_an_actor_linked_to_more_records_than_one_count_holds_is_counted_per_kind(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The records an actor's records link to are counted in one aggregation; when there are more than it may
    hold (65,000 in tantivy; 3 here), each kind is counted on its own, with the same answer."""
    services = services_of(client)
    by_actor = tantivy.Query.term_query(services.search.schema, "actor", NFA)
    prefixes = [services.iris.record_prefix(kind) for kind in (RecordKind.problem, RecordKind.solution)]
    at_once = services.search.linked_by(by_actor, prefixes, 5)
    problems = select(
        client,
        f"""SELECT ?p (COUNT(DISTINCT ?r) AS ?n) WHERE {{ ?r {ACTOR_PATH} <{NFA}> ; ?link ?p . ?p a amv:Problem }}
            GROUP BY ?p""",
    )
    assert at_once[0][0] == len(problems) > 3
    assert sorted(n for _, n in at_once[0][1]) == sorted(int(r["n"]) for r in problems)[-5:]
    monkeypatch.setattr(search_index, "LINKED_AT_ONCE", 3)
    assert services.search.linked_by(by_actor, prefixes, 5) == at_once
