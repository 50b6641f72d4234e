"""Bulk import (`amv import`, /import): a 1,000-row CSV with 20 bad rows of different kinds is reported
row by row and changes nothing in a dry run; applying imports exactly the 980 valid rows in one go
(pending, or published and visible everywhere at once); running it again adds nothing. XLSX,
JSON-LD and Turtle, the CLI and the upload page (editors only, CSRF) are covered too."""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.bulk_import import Importer, RowStatus
from graph.iris import RecordKind
from graph.ledger import RecordStatus
from graph.services import Services
from tests.conftest import make_settings
from tests.login_util import app_with_users, csrf_of, log_in

BASE = "https://w3id.org/arbejdsmiljoviden/"
PUBLISHER = "20tyy8nm"  # an actor of the sample data
COLUMNS = [
    "type",
    "title.da",
    "title.en",
    "description.da",
    "knowledgeType",
    "factors",
    "industries",
    "audiences",
    "issued",
    "url",
    "publisher",
]
#: Concept references in every form the layout allows: label (da/en, any case, ae/oe/aa), code, IRI.
KNOWLEDGE_TYPES = ["Vejledning", "04", "checklist", "TJEKLISTE", BASE + "vocab/knowledge-types/02"]
FACTORS = ["støj", "Noise | løft", "Stoej", "5.1", "STRESS", BASE + "vocab/factors/1.1.1"]
INDUSTRIES = ["", "F", "bygge- og anlægsvirksomhed", "86 | construction"]


def valid_row(i: int) -> dict[str, str]:
    return {
        "type": "item",
        "title.da": f"Importeret vejledning nummer {i} om arbejdsmiljø",
        "title.en": f"Imported guidance number {i}" if i % 3 == 0 else "",
        "description.da": f"Beskrivelse af vejledning {i}: gode råd om forebyggelse på arbejdspladsen.",
        "knowledgeType": KNOWLEDGE_TYPES[i % len(KNOWLEDGE_TYPES)],
        "factors": FACTORS[i % len(FACTORS)],
        "industries": INDUSTRIES[i % len(INDUSTRIES)],
        "audiences": "Ledere | 02" if i % 2 else "",
        "issued": f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}" if i % 4 else str(2000 + i % 25),
        "url": f"https://example.dk/viden/{i}" if i % 5 else "",
        "publisher": PUBLISHER if i % 7 == 0 else "",
    }


#: 20 bad rows (by data row index): what is wrong, and the field the report must name (None: the row).
BAD: dict[int, tuple[dict[str, str], str | None]] = {
    3: ({"title.da": "", "title.en": ""}, "title"),
    41: ({"factors": "Fantasifaktor"}, "factors"),
    97: ({"industries": "Dyrkning af ris"}, "industries"),  # the label of 01.12 and of 01.12.00
    150: ({"issued": "1. maj 2024"}, "issued"),
    222: ({"url": "ikke en webadresse"}, "url"),
    260: ({"knowledgeType": "Podcastserie"}, "knowledgeType"),
    301: ({"type": "artikel"}, "type"),
    355: ({"audiences": "99"}, "audiences"),
    402: ({"knowledgeType": "04 | 05"}, "knowledgeType"),
    433: ({"factors": ""}, "factors"),
    480: ({"publisher": "ikke-et-id"}, "publisher"),
    517: ({"title.da": "", "title.en": ""}, "title"),
    560: ({"factors": "støj | Fantasifaktor"}, "factors"),
    611: ({"industries": "dyrkning af ris"}, "industries"),
    655: ({"issued": "2024-13-45x"}, "issued"),
    702: ({"url": "www.uden-skema.dk"}, "url"),
    768: ({"knowledgeType": "Ukendt videnstype"}, "knowledgeType"),
    812: ({"description.da": ""}, "description"),
    899: ({"evidenceLevel": "Meget høj"}, "evidenceLevel"),
    950: ({"url": "https://example.dk/viden/1"}, None),  # the same web address as data row 1: a duplicate
}


def build_rows(count: int = 1000) -> list[dict[str, str]]:
    rows = []
    for i in range(count):
        row = valid_row(i)
        if i in BAD:
            row.update(BAD[i][0])
        rows.append(row)
    return rows


def to_csv(rows: list[dict[str, str]], delimiter: str = ",") -> bytes:
    columns = COLUMNS + sorted({k for r in rows for k in r} - set(COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=delimiter, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def sheet_row(index: int) -> int:
    """The spreadsheet row number of a data row: the header is row 1."""
    return index + 2


def state(services: Services) -> tuple[int, int, dict[str, int]]:
    """(store graphs, submissions, ledger counts): what an import may change."""
    submissions = services.ledger.db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    return len(services.store.named_graphs()), submissions, services.ledger.count_by_status()


@pytest.fixture(scope="module")
def big_csv() -> bytes:
    return to_csv(build_rows())


# -- the 1,000-row file ---------------------------------------------------------------------------------


def test_dry_run_names_exactly_the_20_bad_rows_and_changes_nothing(embedded: Services, big_csv: bytes) -> None:
    before = state(embedded)
    report = Importer(embedded).run(big_csv, "viden.csv", agent="test", apply=False)
    assert state(embedded) == before
    assert not report.applied
    errors = {row.number: row for row in report.errors}
    assert set(errors) == {sheet_row(i) for i in BAD}
    assert report.count(RowStatus.new) == 980
    for index, (_, field) in BAD.items():
        row = errors[sheet_row(index)]
        assert row.problems, row
        if field is not None:
            assert field in {p.field for p in row.problems}, (index, row.problems)
        for problem in row.problems:  # every problem is said in Danish and in English
            assert problem.message("da") and problem.message("en")
    ambiguous = errors[sheet_row(97)].problems[0]
    assert "01.12" in ambiguous.message("da") and "01.12.00" in ambiguous.message("da")
    assert "Fantasifaktor" in errors[sheet_row(560)].problems[0].message("en")
    duplicate = errors[sheet_row(950)].problems[0]
    assert f"row {sheet_row(1)}" in duplicate.message("en") and f"række {sheet_row(1)}" in duplicate.message("da")


def test_apply_queues_980_pending_in_one_go_and_a_rerun_adds_nothing(embedded: Services, big_csv: bytes) -> None:
    graphs, submissions, ledger = state(embedded)
    report = Importer(embedded).run(big_csv, "viden.csv", agent="importer", apply=True)
    assert report.count(RowStatus.new) == 980 and len(report.errors) == 20
    # Pending: queued for review, nothing public yet.
    assert state(embedded) == (graphs, submissions + 980, ledger)
    queued = embedded.submissions.queue(limit=2000)
    assert sum(1 for s in queued if s.submitted_by == "importer") == 980
    again = Importer(embedded).run(big_csv, "viden.csv", agent="importer", apply=True)
    assert again.count(RowStatus.unchanged) == 980 and again.count(RowStatus.new) == 0
    assert state(embedded) == (graphs, submissions + 980, ledger)


@pytest.mark.embedded_store("runs its own store server on the data directory")
def test_publish_makes_the_rows_public_at_once_pages_search_and_sparql(data_dir: Path) -> None:
    from dataclasses import replace

    from graph.store_server import ManagedStoreServer

    settings = make_settings(data_dir)
    rows = build_rows(1000)
    with (
        ManagedStoreServer(settings) as server,
        TestClient(create_app(replace(settings, store_url=server.url))) as client,
    ):
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        published = services.ledger.count_by_status().get("published", 0)
        report = Importer(services).run(to_csv(rows), "viden.csv", agent="editor", apply=True, publish=True)
        assert report.count(RowStatus.new) == 980
        assert services.ledger.count_by_status()["published"] == published + 980
        row = next(r for r in report.rows if r.number == sheet_row(12))
        page = client.get("/" + row.iri[len(BASE) :], headers={"Accept": "text/html"})
        assert page.status_code == 200 and "Importeret vejledning nummer 12 om" in page.text
        found = client.get("/api/search", params={"q": "importeret vejledning nummer 12"}).json()
        assert row.iri in [r["iri"] for r in found["results"]]
        assert found["total"] >= 1
        query = f"SELECT (COUNT(?f) AS ?n) WHERE {{ <{row.iri}> <{BASE}ontology#factor> ?f }}"
        answer = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) >= 1
        # The bad rows are nowhere: the row with the duplicate web address did not make a second record.
        assert services.ledger.count_by_status()["published"] == published + 980
        again = Importer(services).run(to_csv(rows), "viden.csv", agent="editor", apply=True, publish=True)
        assert again.count(RowStatus.unchanged) == 980
        assert services.ledger.count_by_status()["published"] == published + 980
        # A changed row of a file imported before becomes a new version of the same record.
        rows[12]["description.da"] = "En rettet beskrivelse."
        changed = Importer(services).run(to_csv(rows), "viden.csv", agent="editor", apply=True, publish=True)
        assert changed.count(RowStatus.update) == 1 and changed.count(RowStatus.unchanged) == 979
        assert next(r for r in changed.rows if r.number == sheet_row(12)).iri == row.iri
        assert "En rettet beskrivelse." in client.get("/" + row.iri[len(BASE) :]).text


# -- other formats ----------------------------------------------------------------------------------------


def test_xlsx_semicolon_csv_and_cell_types(embedded: Services) -> None:
    rows = [valid_row(i) for i in range(6)]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append([row[c] for c in COLUMNS])
    sheet["I3"] = datetime.date(2021, 4, 5)  # a real date cell (column I: issued)
    buffer = io.BytesIO()
    book.save(buffer)
    report = Importer(embedded).run(buffer.getvalue(), "viden.xlsx", agent="t", apply=True, publish=True)
    assert report.count(RowStatus.new) == 6, [(r.number, r.problems) for r in report.rows]
    triples = embedded.records.triples(ox.NamedNode(report.rows[1].iri))
    assert any(t.object.value == "2021-04-05" for t in triples)
    danish_excel = to_csv(rows, delimiter=";")  # what Danish Excel writes; row 3 still has its first date
    again = Importer(embedded).run(danish_excel, "viden.csv", agent="t", apply=False)
    assert [r.status for r in again.rows].count(RowStatus.unchanged) == 5
    assert again.rows[1].status == RowStatus.update and again.rows[1].iri == report.rows[1].iri


def test_unknown_column_or_file_type_refuses_the_whole_file(embedded: Services) -> None:
    from graph.bulk_import import ImportRefused

    with pytest.raises(ImportRefused, match="unknown column 'titel'"):
        Importer(embedded).run(b"type,titel\nitem,x\n", "a.csv", agent="t")
    with pytest.raises(ImportRefused, match="unknown file type"):
        Importer(embedded).run(b"x", "a.docx", agent="t")


TURTLE = """
@prefix amv: <https://w3id.org/arbejdsmiljoviden/ontology#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix schema: <https://schema.org/> .
[] a amv:KnowledgeItem ; dct:title "Turtle-vejledning om støj"@da ;
   dct:description "Om støj."@da ;
   amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/04> ;
   amv:factor <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> ;
   schema:url <https://example.dk/turtle> .
<https://w3id.org/arbejdsmiljoviden/id/item/t0rt1e22> a amv:KnowledgeItem ;
   dct:title "Turtle-vejledning om løft"@da ; dct:description "Om løft."@da ;
   amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/04> ;
   amv:factor <https://w3id.org/arbejdsmiljoviden/vocab/factors/1.1.1> .
<https://w3id.org/arbejdsmiljoviden/id/item/t0rt1e33> a amv:KnowledgeItem ;
   dct:title "Uden faktor"@da ; dct:description "Mangler faktor."@da ;
   amv:knowledgeType <https://w3id.org/arbejdsmiljoviden/vocab/knowledge-types/04> .
"""


def test_turtle_and_jsonld_many_records_idempotent(embedded: Services) -> None:
    report = Importer(embedded).run(TURTLE.encode(), "poster.ttl", agent="t", apply=True, publish=True)
    by_title = {r.title: r for r in report.rows}
    assert by_title["Turtle-vejledning om støj"].status == RowStatus.new
    assert by_title["Turtle-vejledning om løft"].iri == BASE + "id/item/t0rt1e22"
    assert by_title["Uden faktor"].status == RowStatus.error
    assert "factors" in {p.field for p in by_title["Uden faktor"].problems}
    # Again: the blank-node record is found by its web address, not made twice.
    again = Importer(embedded).run(TURTLE.encode(), "poster.ttl", agent="t", apply=True, publish=True)
    assert [r.status for r in again.rows].count(RowStatus.unchanged) == 2
    assert {r.iri for r in again.rows if r.status == RowStatus.unchanged} == {
        by_title["Turtle-vejledning om støj"].iri,
        BASE + "id/item/t0rt1e22",
    }
    # The same records as JSON-LD (as our own export writes them) are unchanged too.
    quads = [q for r in report.rows if r.status == RowStatus.new for q in embedded.store.quads(ox.NamedNode(r.iri))]
    jsonld = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.JSON_LD)
    as_jsonld = Importer(embedded).run(jsonld, "poster.jsonld", agent="t", apply=False)
    assert [r.status for r in as_jsonld.rows] == [RowStatus.unchanged, RowStatus.unchanged]


# -- the command line ---------------------------------------------------------------------------------------


def test_cli_dry_run_then_import_then_rerun(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "viden.csv"
    rows = [valid_row(i) for i in range(5)]
    rows[3].update(BAD[41][0])
    path.write_bytes(to_csv(rows))
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("AMV_STORE_URL", None)

    def amv(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "graph.cli", "import", *args], capture_output=True, text=True, env=env, timeout=120
        )

    dry = amv(str(path), "--dry-run", "--lang", "en")
    assert dry.returncode == 1, dry.stderr
    assert re.search(r"\b5\s+error\s+item\s+Importeret vejledning nummer 3\b", dry.stdout)
    assert "factors: no concept in factors has the code or label 'Fantasifaktor'" in dry.stdout
    assert "4 new, 0 update, 0 unchanged, 1 error (dry run: nothing was changed)" in dry.stdout
    applied = amv(str(path), "--publish", "--as", "nfa-import", "--format", "json")
    assert applied.returncode == 1
    result = json.loads(applied.stdout)
    assert result["counts"] == {"new": 4, "update": 0, "unchanged": 0, "error": 1}
    rerun = amv(str(path), "--publish")
    assert "0 ny, 0 opdateres, 4 uændret, 1 fejl" in rerun.stdout
    from graph.services import open_services

    with open_services(make_settings(data_dir), embedded_only=True) as services:
        iri = result["rows"][0]["iri"]
        entry = services.ledger.get(iri)
        assert entry is not None and entry.status == RecordStatus.published and entry.approved_by == "nfa-import"
        assert services.iris.parse_record(ox.NamedNode(iri))[0] == RecordKind.item  # type: ignore[index]


# -- the upload page ----------------------------------------------------------------------------------------


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    with app_with_users(make_settings(data_dir)) as client:
        yield client


def test_upload_page_dry_run_then_apply_for_editors_only(app_client: TestClient) -> None:
    rows = [valid_row(i) for i in range(8)]
    rows[5].update(BAD[97][0])
    upload = to_csv(rows)
    assert app_client.get("/import", follow_redirects=False).status_code == 303  # log in first

    log_in(app_client, "bidrag@example.org")
    assert app_client.get("/import").status_code == 403
    page = app_client.get("/submit/item")  # a form that carries the contributor's CSRF token
    refused = app_client.post(
        "/import", data={"csrf": csrf_of(page.text)}, files={"file": ("viden.csv", upload, "text/csv")}
    )
    assert refused.status_code == 403

    log_in(app_client, "redaktion@example.org")
    form = app_client.get("/import?lang=en")
    assert (
        form.status_code == 200 and "<code>knowledgeType</code>" in form.text and "<code>title.en</code>" in form.text
    )
    forged = app_client.post("/import", data={"csrf": "forged"}, files={"file": ("viden.csv", upload, "text/csv")})
    assert forged.status_code == 403
    services: Services = app_client.app.state.services  # type: ignore[attr-defined]
    before = state(services)
    checked = app_client.post(
        "/import", data={"csrf": csrf_of(form.text)}, files={"file": ("viden.csv", upload, "text/csv")}
    )
    assert checked.status_code == 200
    assert state(services) == before  # the dry run changed nothing
    assert 'data-row="7" data-status="error"' in checked.text
    assert "is a label of several concepts" in checked.text
    assert checked.text.count('data-status="new"') == 7
    token = re.search(r'name="upload" value="([^"]+)"', checked.text).group(1)  # type: ignore[union-attr]
    applied = app_client.post("/import/apply", data={"csrf": csrf_of(checked.text), "upload": token})
    assert applied.status_code == 200 and "wait in the review queue" in applied.text
    assert state(services)[1] == before[1] + 7
    # The staged file is gone: applying twice is refused, and nothing is added.
    twice = app_client.post("/import/apply", data={"csrf": csrf_of(checked.text), "upload": token})
    assert twice.status_code == 410 and state(services)[1] == before[1] + 7
    # A Danish page for a bad file says what is wrong.
    bad = app_client.post(
        "/import?lang=da", data={"csrf": csrf_of(form.text)}, files={"file": ("viden.csv", b"type,titel\n", "text/csv")}
    )
    assert bad.status_code == 422 and "ukendt kolonne" in bad.text
