"""The actors directory: /actors, filterable by type, expertise (with narrower concepts), industry
and region, sorted as a Danish reader expects, with counts in the filters."""

from __future__ import annotations

import html as html_lib
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.actors import actors_page
from graph.iris import mint_id
from graph.services import Services, open_services
from graph.text import danish_sort_key
from graph.views import Site
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, triples

ARBEJDSTILSYNET = f"{BASE}id/actor/zhe5ymay"  # myndighed, hele landet; expertise incl. løft (1.1.1), støj (5.1)
AUTHORITY = "actor-types/01"
NATIONWIDE = "regions/06"


def actor_turtle(record_id: str, name: str, *, actor_type: str = "10", extra: str = "") -> str:
    return (
        PREFIXES
        + f"""
<{BASE}id/actor/{record_id}> a amv:Actor ;
    dct:title "{name}"@da ;
    dct:description "En rådgiver i arbejdsmiljø (testdata)."@da ;
    amv:actorType <{BASE}vocab/actor-types/{actor_type}> {extra} .
"""
    )


def add_actors(data_dir: Path, *turtles: str) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        outcomes = services.records.load([t for turtle in turtles for t in triples(turtle)], agent="test")
        assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]


def test_all_public_actors_are_listed_with_type_region_and_expertise(embedded: Services) -> None:
    page = actors_page(Site(embedded))
    assert len(page.actors) == page.total == embedded.records.counts()["actor"]
    at = next(a for a in page.actors if a.iri == ARBEJDSTILSYNET)
    assert at.label("da") == "Arbejdstilsynet" and at.label("en") == "Danish Working Environment Authority"
    assert [t.label("da") for t in at.types] == ["Myndighed"]
    assert [r.label("da") for r in at.regions] == ["Hele landet"]
    assert {"støj", "løft"} <= {e.label("da") for e in at.expertise}
    assert 0 < len(at.short_description("da")) <= 230 and at.short_description("da").endswith("…")


def test_filter_by_type_and_region(embedded: Services) -> None:
    site = Site(embedded)
    authorities = actors_page(site, {"type": AUTHORITY})
    assert authorities.actors and ARBEJDSTILSYNET in [a.iri for a in authorities.actors]
    assert all(f"{BASE}vocab/{AUTHORITY}" in {t.iri for t in a.types} for a in authorities.actors)
    assert len(authorities.actors) < authorities.total
    both = actors_page(site, {"type": AUTHORITY, "region": NATIONWIDE})
    assert both.actors and all(f"{BASE}vocab/{NATIONWIDE}" in {r.iri for r in a.regions} for a in both.actors)
    assert {a.iri for a in both.actors} <= {a.iri for a in authorities.actors}


def test_filter_by_factor_includes_narrower_expertise(services: Services) -> None:
    """Runs on the embedded store and through the Oxigraph server."""
    site = Site(services)
    for factor in ("factors/1.1.1", "factors/1.1", "factors/1"):  # løft < manuel håndtering < ergonomi
        assert ARBEJDSTILSYNET in [a.iri for a in actors_page(site, {"factor": factor}).actors], factor
    ergonomics = actors_page(site, {"factor": "factors/1"})
    assert all(f"{BASE}vocab/factors/1" in a.tags["factor"] for a in ergonomics.actors)
    organising = actors_page(site, {"factor": "factors/7"})  # organisering af arbejdsmiljøarbejdet
    assert organising.actors and ARBEJDSTILSYNET not in [a.iri for a in organising.actors]
    # A factor no actor has expertise in (biologisk arbejdsmiljø) is not offered, and is ignored.
    biological = actors_page(site, {"factor": "factors/4"})
    assert [f.name for f in biological.rejected] == ["factor"] and len(biological.actors) == biological.total


def test_filter_by_industry_includes_narrower_industries(data_dir: Path) -> None:
    add_actors(data_dir, actor_turtle("k0kkenrd", "Køkkenrådgivning ApS", extra="; amv:industry industry:56.10"))
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        site = Site(services)
        for industry in ("industries/56.10", "industries/56", "industries/I"):
            found = [a.iri for a in actors_page(site, {"industry": industry}).actors]
            assert f"{BASE}id/actor/k0kkenrd" in found, industry
        assert f"{BASE}id/actor/k0kkenrd" not in [a.iri for a in actors_page(site, {"industry": "industries/F"}).actors]


def test_names_sort_in_danish_order_with_aeoeaa_after_z(data_dir: Path) -> None:
    add_actors(
        data_dir,
        actor_turtle("aaben001", "Åben Arbejdsmiljø ApS"),
        actor_turtle("0erest01", "Ørestad Ergonomi"),
        actor_turtle("aeb1e001", "Æblehaven Rådgivning"),
        actor_turtle("zeta0001", "Zeta Sikkerhed"),
    )
    with TestClient(create_app(make_settings(data_dir))) as client:
        html = client.get("/actors").text
    names = [html_lib.unescape(n) for n in re.findall(r'<h3 class="actor-name"><a href="[^"]+"[^>]*>([^<]+)</a>', html)]
    assert names == sorted(names, key=danish_sort_key)
    assert names[-4:] == ["Zeta Sikkerhed", "Æblehaven Rådgivning", "Ørestad Ergonomi", "Åben Arbejdsmiljø ApS"]


def test_selects_show_counts_that_follow_the_other_filters(data_dir: Path) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        page = actors_page(Site(services))
        authorities = sum(1 for a in page.actors if f"{BASE}vocab/{AUTHORITY}" in {t.iri for t in a.types})
        nationwide = actors_page(Site(services), {"region": NATIONWIDE})
        nationwide_authorities = sum(
            1 for a in nationwide.actors if f"{BASE}vocab/{AUTHORITY}" in {t.iri for t in a.types}
        )
    assert authorities > nationwide_authorities > 0
    with TestClient(create_app(make_settings(data_dir))) as client:
        everything = client.get("/actors").text
        filtered = client.get(f"/actors?region={NATIONWIDE}").text
    assert f'<option value="{AUTHORITY}">Myndighed ({authorities})</option>' in everything
    assert f'<option value="{AUTHORITY}">Myndighed ({nationwide_authorities})</option>' in filtered
    assert f'<option value="{NATIONWIDE}" selected>' in filtered
    for control in re.findall(r'<select id="([^"]+)"', everything):
        assert f'<label for="{control}">' in everything


def test_directory_page_embeds_an_item_list_of_organizations(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get(f"/actors?type={AUTHORITY}&lang=en")
    assert response.status_code == 200 and '<html lang="en">' in response.text
    assert "Danish Working Environment Authority" in response.text
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', response.text, re.S)
    data = json.loads(match.group(1))
    assert data["@type"] == "ItemList"
    items = [i["item"] for i in data["itemListElement"]]
    assert data["numberOfItems"] == len(items) > 0
    assert all(i["@type"] == "Organization" and i["name"] for i in items)
    assert ARBEJDSTILSYNET in [i["@id"] for i in items]


@pytest.mark.parametrize(
    "query",
    [
        'type="}',
        "factor=<script>alert(1)</script>",
        "industry=industries/../../x",
        "region=' OR '1'='1",
        "factor=" + "9" * 5000,
        "type=https://example.org/> } INSERT DATA { <a> <b> <c> } #",
        "region=%00",
    ],
)
def test_injection_attempts_in_filters_give_no_server_error(data_dir: Path, query: str) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get("/actors?" + query)
        after = client.get("/actors")
    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert 'role="status"' in response.text  # the unknown value is reported, and ignored
    # Nothing was filtered away and nothing was written.
    assert response.text.count('class="actor"') == after.text.count('class="actor"')


def test_a_busy_actors_page_names_the_newest_records_and_links_to_all(data_dir: Path) -> None:
    actor = f"{BASE}id/actor/zhe5ymay"  # an actor of the sample data
    items = [
        f"""<{BASE}id/item/{mint_id()}> a amv:KnowledgeItem ;
    dct:title "Vejledning nummer {n:02d}"@da ;
    dct:description "En af mange vejledninger fra samme aktør."@da ;
    amv:knowledgeType <{BASE}vocab/knowledge-types/04> ;
    amv:factor factor:5.1 ;
    dct:issued "2020-01-{n % 28 + 1:02d}"^^xsd:date ;
    dct:publisher <{actor}> .
"""
        for n in range(60)
    ]
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        outcomes = services.records.load(triples(PREFIXES + "\n".join(items)), agent="test")
        assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]
    with TestClient(create_app(make_settings(data_dir))) as client:
        page = client.get("/id/actor/zhe5ymay", headers={"Accept": "text/html"}).text
        everything = client.get("/api/search?actor=zhe5ymay&type=item&limit=100").json()
    assert everything["total"] >= 60  # the search the page links to lists them all
    section = page.split('class="incoming" data-kind="item"', 1)[1].split("</section>", 1)[0]
    total = int(re.search(r'class="count">\(([\d.]+)\)', section).group(1).replace(".", ""))  # type: ignore[union-attr]
    assert total >= 60 and section.count("<li>") == 50
    assert f"Viser de 50 nyeste af {total}." in section
    assert 'href="/search?actor=zhe5ymay&amp;type=item"' in section
    assert "Vejledning nummer 27" in section  # issued 2020-01-28, among the newest
    assert "Vejledning nummer 28" not in section  # issued 2020-01-01, one of the oldest


def incoming_sections(page: str) -> dict[str, tuple[int, str]]:
    """kind -> (the count a record page shows, the section's HTML) for the records that link to it."""
    found = {}
    for kind, section in re.findall(r'class="incoming" data-kind="(\w+)">(.*?)</section>', page, re.S):
        count = int(re.search(r'class="count">\(([\d.]+)\)', section).group(1).replace(".", ""))  # type: ignore[union-attr]
        found[kind] = (count, section)
    return found


def test_a_problems_page_counts_what_links_to_it_and_drops_a_withdrawn_record(data_dir: Path) -> None:
    """The records that link to a page are counted and listed from the search index: the counts agree with
    the store, and a withdrawn solution leaves the page and its count at once."""
    query = PREFIXES.replace("@prefix", "PREFIX").replace(" .\n", "\n") + (
        "SELECT ?problem ?kind (COUNT(DISTINCT ?source) AS ?n) WHERE {"
        " ?source amv:solves|amv:addresses ?problem ; a ?class"
        ' BIND(IF(?class = amv:Solution, "solution", "item") AS ?kind) } GROUP BY ?problem ?kind'
    )
    with TestClient(create_app(make_settings(data_dir))) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        counts: dict[str, dict[str, int]] = {}
        for row in services.store.select(query):
            counts.setdefault(row["problem"].value, {})[row["kind"].value] = int(row["n"].value)
        problem = next(p for p, kinds in counts.items() if "solution" in kinds and "item" in kinds)
        path = "/id/problem/" + problem.rsplit("/", 1)[1]
        before = incoming_sections(client.get(path, headers={"Accept": "text/html"}).text)
        assert {kind: count for kind, (count, _) in before.items()} == counts[problem]

        solution = services.store.select(
            query.split("SELECT")[0] + f"SELECT ?s ?title WHERE {{ ?s amv:solves <{problem}> ; dct:title ?title }}"
        )[0]
        title = solution["title"].value
        assert html_lib.escape(title) in before["solution"][1]
        services.records.withdraw(solution["s"], agent="test", reason="test of the problem page")  # type: ignore[arg-type]
        after = incoming_sections(client.get(path, headers={"Accept": "text/html"}).text)
    remaining, shown = after.get("solution", (0, ""))
    assert remaining == counts[problem]["solution"] - 1
    assert html_lib.escape(title) not in shown
    assert after["item"][0] == counts[problem]["item"]
