"""The example queries for researchers (sparql/examples/*.rq) and the SPARQL query page.

The page is rendered through a small route made here (the real /sparql route runs queries through
the store server); what a user sees is asserted on the HTML.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.testclient import TestClient

from api.i18n import request_language
from api.templating import render
from graph.config import DEFAULT_BASE_URI
from graph.examples import (
    EXAMPLE_DIR,
    RESULT_FORMATS,
    ExampleError,
    load_examples,
    parse_example,
    query_form,
    results_table,
    sparql_page,
    triples_table,
)
from graph.services import Services, open_services
from graph.views import Site
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "api" / "static"
AMV = DEFAULT_BASE_URI + "ontology#"
LIMITS = {"timeout": 10.0, "rows": 10_000, "available": True}

HEADER = """# title@da: Dansk titel
# title@en: English title
# description@da: En dansk beskrivelse.
# description@en: An English description.
"""


# -- the example files ------------------------------------------------------------------------


def test_there_are_enough_examples_and_each_has_both_languages() -> None:
    examples = load_examples()
    assert len(examples) >= 16
    assert [e.slug for e in examples] == sorted(p.stem for p in EXAMPLE_DIR.glob("*.rq"))
    for e in examples:
        assert set(e.titles) == set(e.descriptions) == {"da", "en"}, e.slug
        assert all(e.titles.values()) and all(e.descriptions.values()), e.slug
        assert e.titles["da"] != e.titles["en"], f"{e.slug}: the English title is not translated"
        assert not e.query.lstrip().startswith("# title"), f"{e.slug}: the header leaked into the query"
        # Researchers copy the queries: every prefix they use is declared in the query itself.
        declared = set(re.findall(r"(?im)^PREFIX\s+([A-Za-z][\w-]*):", e.query))
        used = set(re.findall(r"(?<![\w<#/])([A-Za-z][\w-]*):[A-Za-z_]", _without_iris_and_strings(e.query)))
        assert used <= declared, f"{e.slug}: prefixes used but not declared: {used - declared}"
        if "amv" in declared:
            assert re.search(rf"PREFIX amv:\s+<{re.escape(AMV)}>", e.query), f"{e.slug}: amv is not {AMV}"


def _without_iris_and_strings(query: str) -> str:
    query = re.sub(r"<[^<>\s]*>", " ", query)
    query = re.sub(r'"[^"\n]*"', " ", query)
    return re.sub(r"#[^\n]*", " ", query)


def test_the_examples_cover_the_forms_researchers_need() -> None:
    forms = {e.form for e in load_examples()}
    assert {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"} <= forms


def test_every_example_runs_on_the_sample_store(data_dir: Path) -> None:
    examples = load_examples()
    returned: dict[str, int] = {}
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        for e in examples:
            store = services.store
            if e.form == "SELECT":
                returned[e.slug] = len(store.select(e.query))
            elif e.form == "ASK":
                returned[e.slug] = int(store.ask(e.query))
            else:
                returned[e.slug] = len(store.construct(e.query))
    with_results = [slug for slug, n in returned.items() if n]
    assert len(with_results) >= 12, returned
    # The questions whose answer the sample data is made to show.
    for slug in (
        "knowledge-per-factor-and-industry",
        "problems-without-solutions",
        "high-evidence-solutions-for-industry",
        "actors-with-expertise-in-factor",
        "concepts-without-knowledge",
        "thesaurus-hierarchy",
        "synonyms-in-both-languages",
        "db07-nace-matches",
        "items-per-type-per-year",
        "most-published-actors",
        "solution-problem-factor-chains",
        "knowledge-in-english-only",
        "items-by-actor-type",
        "schemes-by-date",
        "skos-subset-construct",
        "ask-knowledge-about-noise-in-construction",
        "describe-actor",
    ):
        assert returned[slug] > 0, f"{slug} returned nothing on the sample data"


def test_deprecated_concepts_example_finds_replacements() -> None:
    """The sample vocabularies deprecate nothing yet, so check the query on a concept that is."""
    (example,) = [e for e in load_examples() if e.slug == "deprecated-concepts"]
    store = ox.Store()
    store.load(path=str(ROOT / "ontology" / "amv.ttl"), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(AMV[:-1]))
    base = DEFAULT_BASE_URI
    store.load(
        input=f"""
        @prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
        @prefix dct: <http://purl.org/dc/terms/> . @prefix amv: <{AMV}> .
        <{base}vocab/factors/9.9> skos:inScheme <{base}vocab/factors> ; skos:prefLabel "gammelt"@da ;
            owl:deprecated true ; dct:isReplacedBy <{base}vocab/factors/1.1> .
        <{base}vocab/factors/1.1> skos:prefLabel "manuel håndtering"@da .
        <{base}id/item/aaaaaaaa> a amv:KnowledgeItem ; amv:factor <{base}vocab/factors/9.9> .
        """,
        format=ox.RdfFormat.TURTLE,
        to_graph=ox.NamedNode(base + "vocab/factors"),
    )
    rows = list(store.query(example.query, use_default_graph_as_union=True))  # type: ignore[arg-type]
    assert len(rows) == 1
    assert rows[0]["replacementLabel"].value == "manuel håndtering"
    assert rows[0]["stillTagged"].value == "1"


def test_a_file_without_a_header_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "no-header.rq").write_text("SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    with pytest.raises(ExampleError) as caught:
        load_examples(tmp_path)
    message = str(caught.value)
    assert "no-header.rq" in message and "missing header" in message
    for field in ("title@da", "title@en", "description@da", "description@en"):
        assert field in message


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (HEADER.replace("# description@en: An English description.\n", ""), "description@en"),
        (HEADER.replace("title@en", "titel@en"), "unknown header field 'titel@en'"),
        (HEADER + "# title@da: Igen\nASK {}\n", "given twice"),
        (HEADER, "no query"),
        (HEADER + "# just a comment\n", "no query"),
        (HEADER + "PREFIX a: <http://a/>\n", "no SELECT"),
    ],
)
def test_malformed_headers_name_the_problem(text: str, complaint: str) -> None:
    with pytest.raises(ExampleError, match=re.escape(complaint)):
        parse_example("broken", text)


def test_header_fields_may_continue_on_indented_comment_lines() -> None:
    text = HEADER.replace(
        "# description@en: An English description.\n",
        "# description@en: An English description\n#   that goes on.\n# Another comment.\n",
    )
    example = parse_example("long", text + "ASK {}\n")
    assert example.descriptions["en"] == "An English description that goes on."
    assert example.query == "ASK {}\n"


def test_file_names_must_make_clean_slugs() -> None:
    with pytest.raises(ExampleError, match="file name"):
        parse_example("Bad Name", HEADER + "ASK {}\n")


def test_examples_follow_the_base_of_the_deployment() -> None:
    examples = load_examples(base="https://example.org/amv/")
    assert all(DEFAULT_BASE_URI not in e.query for e in examples)
    assert any("<https://example.org/amv/ontology#>" in e.query for e in examples)


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("PREFIX x: <http://x/select#> ASK { ?s ?p ?o }", "ASK"),
        (
            '# SELECT in a comment\nCONSTRUCT { ?s ?p "SELECT" } WHERE { { SELECT ?s ?p WHERE { ?s ?p ?o } } }',
            "CONSTRUCT",
        ),
        ("describe <http://x>", "DESCRIBE"),
        ("PREFIX x: <http://x/>", ""),
    ],
)
def test_query_form(query: str, form: str) -> None:
    assert query_form(query) == form


# -- the query page ---------------------------------------------------------------------------


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    with open_services(make_settings(data_dir), embedded_only=True) as s:
        yield s


SCRIPT = '"<script>alert(1)</script>"@da'


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    """The page template behind a route made for the test, with a second route that shows results."""
    app = FastAPI()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.state.services = services

    def page(request: Request) -> object:
        params = request.query_params
        return sparql_page(
            load_examples(),
            request_language(request),
            params.get("query"),
            params.get("example"),
            format=params.get("format"),
        )

    @app.get("/sparql", response_class=HTMLResponse)
    def query_page(request: Request) -> HTMLResponse:
        return render(request, "sparql.html", {"page": page(request), "limits": LIMITS})

    @app.get("/results", response_class=HTMLResponse)
    def results_page(request: Request) -> HTMLResponse:
        query = (
            f"PREFIX amv: <{AMV}> PREFIX dct: <http://purl.org/dc/terms/>\n"
            "SELECT ?actor ?name ?note ?n ?elsewhere ?unbound WHERE {\n"
            "  ?actor a amv:Actor ; dct:title ?name . FILTER(LANG(?name) = 'da')\n"
            f"  BIND({SCRIPT} AS ?note) BIND(42 AS ?n) BIND(<https://www.wikidata.org/wiki/Q35> AS ?elsewhere)\n"
            "} ORDER BY ?name LIMIT 3"
        )
        rows = services.store.select(query)
        table = results_table(["actor", "name", "note", "n", "elsewhere", "unbound"], rows, Site(services))
        return render(request, "sparql.html", {"page": page(request), "limits": LIMITS, "table": table})

    @app.get("/ask", response_class=HTMLResponse)
    def ask_page(request: Request) -> HTMLResponse:
        context = {"page": page(request), "limits": LIMITS, "boolean": services.store.ask("ASK { ?s ?p ?o }")}
        return render(request, "sparql.html", context)

    with TestClient(app) as c:
        yield c


def gallery_titles(text: str) -> list[str]:
    return [
        html.unescape(t)
        for t in re.findall(r'<h3><a href="/sparql\?example=[^"]+" data-example="[^"]+">([^<]+)</a>', text)
    ]


def test_the_page_has_a_labelled_form_that_works_without_javascript(client: TestClient) -> None:
    response = client.get("/sparql")
    assert response.status_code == 200
    text = response.text
    assert '<html lang="da">' in text
    assert re.search(r'<form id="sparql-form" class="sparql-form" method="get" action="/sparql"', text)
    assert '<label for="sparql-query">Forespørgsel (SPARQL 1.1)</label>' in text
    assert re.search(r'<textarea id="sparql-query" name="query"', text)
    assert '<label for="sparql-format">Resultatformat</label>' in text
    options = re.findall(r'<option value="([a-z]+)"', text)
    assert options == [f.key for f in RESULT_FORMATS]
    assert {"html", "json", "xml", "csv", "tsv", "turtle", "ntriples", "rdfxml", "jsonld"} == set(options)
    assert re.search(r'<option value="html" selected>HTML-tabel', text)
    assert '<button type="submit">Kør forespørgslen</button>' in text
    # The empty editor starts with the usual prefixes and a first query.
    textarea = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", text, re.S).group(1))  # type: ignore[union-attr]
    for prefix in ("amv", "skos", "dct", "schema", "rdf", "rdfs", "owl", "xsd"):
        assert f"PREFIX {prefix}: <" in textarea
    assert f"PREFIX amv: <{AMV}>" in textarea and "SELECT" in textarea


def test_the_gallery_lists_every_example_in_the_page_language(client: TestClient) -> None:
    examples = load_examples()
    danish = gallery_titles(client.get("/sparql").text)
    assert len(danish) >= 16
    assert danish == [e.titles["da"] for e in examples]
    english_page = client.get("/sparql?lang=en").text
    assert '<html lang="en">' in english_page
    assert gallery_titles(english_page) == [e.titles["en"] for e in examples]
    assert html.escape(examples[0].descriptions["en"], quote=False) in english_page
    assert "Run the query" in english_page and "Example queries" in english_page


def test_an_example_link_opens_the_example_in_the_form(client: TestClient) -> None:
    (example,) = [e for e in load_examples() if e.slug == "most-published-actors"]
    text = client.get("/sparql?example=most-published-actors").text
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", text, re.S).group(1)  # type: ignore[union-attr]
    assert html.unescape(textarea) == example.query
    assert example.titles["da"] in text
    assert re.search(r'<li aria-current="true">\s*<h3><a href="/sparql\?example=most-published-actors"', text)


def test_an_unknown_example_or_format_is_ignored_safely(client: TestClient) -> None:
    response = client.get("/sparql", params={"example": '"}<script>x</script>', "format": "<b>"})
    assert response.status_code == 200
    assert "<script>x</script>" not in response.text
    assert "Der findes intet eksempel med navnet" in response.text
    assert "&lt;script&gt;x&lt;/script&gt;" in response.text
    assert re.search(r'<option value="html" selected>', response.text)


def test_a_query_in_the_address_is_shown_escaped(client: TestClient) -> None:
    hostile = 'SELECT * WHERE { ?s ?p "</textarea><script>alert(1)</script>" }'
    response = client.get("/sparql", params={"query": hostile, "format": "csv"})
    text = response.text
    assert "<script>alert(1)</script>" not in text
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", text, re.S).group(1)  # type: ignore[union-attr]
    assert html.unescape(textarea) == hostile
    assert re.search(r'<option value="csv" selected>CSV', text)
    # The editor's configuration is JSON inside a script element: it must not be able to end it.
    config = re.search(r'<script type="application/json" id="sparql-config">(.*?)</script>', text, re.S).group(1)  # type: ignore[union-attr]
    assert json.loads(config)["prefilled"] is True


def test_the_editor_is_served_from_our_own_static_files(client: TestClient) -> None:
    text = client.get("/sparql").text
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text)
    assert "/static/vendor/yasgui/yasgui.min.js" in sources
    assert "/static/vendor/yasgui/yasgui.min.css" in sources
    assert "/static/sparql.js" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], "no CDN"
    for path in ("/static/vendor/yasgui/yasgui.min.js", "/static/vendor/yasgui/yasgui.min.css", "/static/sparql.js"):
        assert client.get(path).status_code == 200
    config = json.loads(
        re.search(r'<script type="application/json" id="sparql-config">(.*?)</script>', text, re.S).group(1)  # type: ignore[union-attr]
    )
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"]["amv"] == AMV and config["prefixes"]["schema"] == "https://schema.org/"
    assert {e["slug"] for e in config["examples"]} == {e.slug for e in load_examples()}


def test_the_page_states_its_limits_and_embeds_schema_org(client: TestClient) -> None:
    text = client.get("/sparql").text
    assert "10 sekunder" in text and "10.000 rækker" in text
    assert "SERVICE" in text and "LOAD" in text
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert data["@type"] == "WebPage"
    assert data["mainEntity"]["numberOfItems"] == len(load_examples())
    english = client.get("/sparql?lang=en").text
    assert "10 seconds" in english and "10,000 rows" in english


def test_results_table_links_our_iris_and_escapes_literals(client: TestClient) -> None:
    text = client.get("/results").text
    table = re.search(r'<table class="sparql-results">.*?</table>', text, re.S).group(0)  # type: ignore[union-attr]
    headers = re.findall(r'<th scope="col">([^<]+)</th>', table)
    assert headers == ["?actor", "?name", "?note", "?n", "?elsewhere", "?unbound"]
    rows = re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>")[1], re.S)
    assert len(rows) == 3
    # Our IRIs open our own pages; other IRIs link out.
    assert len(re.findall(r'<a href="/id/actor/[0-9a-z]{8}">https://w3id.org/arbejdsmiljoviden/id/actor/', table)) == 3
    assert '<a href="https://www.wikidata.org/wiki/Q35" rel="external nofollow">' in table
    # Literals keep their language; hostile text is shown, never run.
    assert '<span lang="da">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in table
    assert "<script>alert" not in text
    assert "@da" in table and "^^xsd:integer" in table
    assert "3 rækker" in text


def test_results_table_takes_pyoxigraph_solutions_and_graphs(services: Services) -> None:
    site = Site(services)
    store = ox.Store()
    store.add(
        ox.Quad(
            ox.NamedNode(DEFAULT_BASE_URI + "vocab/factors/1"),
            ox.NamedNode(AMV + "x"),
            ox.Literal("hej", language="da"),
        )
    )
    solutions = store.query("SELECT ?s ?o ?missing WHERE { ?s ?p ?o }")
    table = results_table(["s", "o", "missing"], solutions, site)  # type: ignore[arg-type]
    (row,) = table.rows
    assert row[0].href == "/vocab/factors/1" and row[0].local
    assert (row[1].text, row[1].lang) == ("hej", "da")
    assert row[2].kind == ""
    triples = triples_table(store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"), site)  # type: ignore[arg-type]
    assert triples.variables == ["subject", "predicate", "object"]
    assert triples.rows[0][1].text == "amv:x" and triples.rows[0][1].href == "/ontology#x"


def test_an_ask_answer_is_shown_in_words(client: TestClient) -> None:
    text = client.get("/ask").text
    assert "Svar: <strong>ja (true)</strong>" in text
    assert "Answer: <strong>yes (true)</strong>" in client.get("/ask?lang=en").text


def test_sparql_page_prefers_the_query_over_the_example() -> None:
    examples = load_examples()
    page = sparql_page(examples, "en", "ASK {}", examples[0].slug)
    assert page.query == "ASK {}" and page.example is None and page.prefilled
    page = sparql_page(examples, "en", examples[0].query, examples[0].slug)
    assert page.example is not None and page.gallery[0].current
    page = sparql_page(examples, "da", None, None)
    assert not page.prefilled and page.query.startswith("PREFIX amv:")


# -- the vendored editor ----------------------------------------------------------------------


def test_vendored_yasgui_matches_node_modules() -> None:
    vendor = STATIC / "vendor" / "yasgui"
    assert (vendor / "yasgui.min.js").stat().st_size > 100_000
    assert (vendor / "yasgui.min.css").is_file() and (vendor / "NOTICE.txt").is_file()
    if not (ROOT / "node_modules" / "@zazuko" / "yasgui").is_dir():
        pytest.skip("node_modules has no @zazuko/yasgui (npm ci): cannot compare the copies")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "vendor_static.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
