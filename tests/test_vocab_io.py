"""Vocabulary import and export: multi-concept changesets (Thesaurus.apply), the CSV/XLSX round trip
with exact diffs, row-numbered errors, RDF export in every format, a foreign SKOS file imported as new
browsable schemes, the CLI and the editors' import page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import openpyxl
import pyoxigraph as ox
import pytest
import rdflib.compare
from fastapi.testclient import TestClient
from pyoxigraph import BlankNode, Literal, NamedNode, Triple
from typer.testing import CliRunner

from api.app import create_app
from graph.cli import app as cli
from graph.rdf import SUFFIXES, to_rdflib
from graph.services import Services
from graph.vocab_edit import ChangeSet, EditRefused, Thesaurus
from graph.vocab_io import EXPORT_FORMATS, ImportFailed, apply_import, export_scheme, plan_import
from tests.conftest import make_settings
from tests.login_util import app_with_users, csrf_of, log_in

SKOS = "http://www.w3.org/2004/02/skos/core#"
PREF = NamedNode(SKOS + "prefLabel")
BROADER = NamedNode(SKOS + "broader")
FOREIGN = Path(__file__).parent / "fixtures" / "foreign-skos.ttl"


def scheme_state(services: Services, slug: str = "factors") -> set[Triple]:
    return set(services.store.graph_triples(services.iris.scheme(slug)))


def change_count(services: Services) -> int:
    rows = services.store.select(services.queries("last-change", graph=NamedNode(services.iris.base + "changes")))
    return int(rows[0]["sequence"].value) if rows and "sequence" in rows[0] else 0


def edit_csv(data: bytes, change: Callable[[list[list[str]]], None]) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    change(rows)
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def edit_xlsx(data: bytes, change: Callable[[list[list[str]]], None]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    change(rows)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            sheet.cell(r, c).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(rows: list[list[str]], code: str) -> list[str]:
    return next(r for r in rows[1:] if r[1] == code)


# -- Thesaurus.apply: one changeset for many concepts --------------------------------------------------


def test_apply_takes_many_concepts_as_one_validated_changeset(embedded: Services) -> None:
    thesaurus = Thesaurus(embedded)
    scheme = embedded.iris.scheme("factors")
    a, b = embedded.iris.concept("factors", "5.1"), embedded.iris.concept("factors", "5.2")
    old_a = next(t for t in thesaurus.concept_triples(a, scheme) if t.predicate == PREF and t.object.language == "da")  # type: ignore[union-attr]
    old_b = next(t for t in thesaurus.concept_triples(b, scheme) if t.predicate == PREF and t.object.language == "da")  # type: ignore[union-attr]
    before, sequence = scheme_state(embedded), change_count(embedded)

    # A cycle made by two concepts at once is found, though neither edit alone makes one.
    cycle = ChangeSet(scheme, scheme, added={Triple(a, BROADER, b), Triple(b, BROADER, a)})
    with pytest.raises(EditRefused) as refused:
        thesaurus.apply(cycle, agent="test", reason="cycle")
    assert refused.value.status == 422 and {v.focus for v in refused.value.violations} == {a.value, b.value}
    stale = ChangeSet(scheme, scheme, removed={Triple(a, PREF, Literal("findes ikke", language="da"))})
    with pytest.raises(EditRefused) as conflict:
        thesaurus.apply(stale, agent="test", reason="stale")
    assert conflict.value.status == 409
    with pytest.raises(EditRefused):
        thesaurus.apply(ChangeSet(scheme, scheme, added={Triple(a, BROADER, BlankNode())}), agent="t", reason="")
    assert scheme_state(embedded) == before and change_count(embedded) == sequence

    renamed = {
        Triple(a, PREF, Literal(old_a.object.value + " (ny)", language="da")),
        Triple(b, PREF, Literal(old_b.object.value + " (ny)", language="da")),
    }
    changes = ChangeSet(scheme, scheme, added=renamed, removed={old_a, old_b})
    assert thesaurus.apply(changes, agent="test", reason="dry", dry_run=True).added == renamed
    assert scheme_state(embedded) == before
    thesaurus.apply(changes, agent="test", reason="to på én gang")
    assert scheme_state(embedded) == (before - {old_a, old_b}) | renamed
    assert change_count(embedded) == sequence + 1
    for concept in (a, b):  # the one changeset shows in each concept's history, with its own statements only
        (entry,) = thesaurus.history(concept)
        assert entry.reason == "to på én gang" and {t.subject for t in entry.added + entry.removed} == {concept}


# -- the spreadsheet round trip ----------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "edit"), [("csv", edit_csv), ("xlsx", edit_xlsx)])
def test_spreadsheet_round_trip_gives_exactly_the_one_change(embedded: Services, fmt: str, edit) -> None:  # type: ignore[no-untyped-def]
    scheme = embedded.iris.scheme("factors")
    exported = export_scheme(embedded, scheme, fmt)
    unchanged = plan_import(embedded, exported, f"factors.{fmt}")
    assert unchanged.ok and unchanged.empty

    def rename(rows: list[list[str]]) -> None:
        row = row_of(rows, "5.1")
        row[rows[0].index("prefLabel@en")] = "Noise at work"

    before, sequence = scheme_state(embedded), change_count(embedded)
    plan = plan_import(embedded, edit(exported, rename), f"factors.{fmt}")
    assert plan.ok, [p.describe() for p in plan.problems]
    (target,) = plan.schemes
    concept = embedded.iris.concept("factors", "5.1")
    assert target.changes.added == {Triple(concept, PREF, Literal("Noise at work", language="en"))}
    (removed,) = target.changes.removed
    assert removed.subject == concept and removed.predicate == PREF and removed.object.language == "en"  # type: ignore[union-attr]
    assert scheme_state(embedded) == before  # the preview changed nothing

    apply_import(embedded, plan, agent="user:redaktion@example.org", reason="regneark")
    assert change_count(embedded) == sequence + 1
    history = Thesaurus(embedded).history(concept)
    assert history[0].reason == "regneark" and history[0].creator == "user:redaktion@example.org"
    ask = f'ASK {{ <{concept.value}> <{SKOS}prefLabel> "Noise at work"@en }}'
    assert embedded.store.ask(ask)
    assert plan_import(embedded, edit(exported, rename), f"factors.{fmt}").empty


def test_bad_spreadsheets_name_the_rows_and_change_nothing(embedded: Services) -> None:
    scheme = embedded.iris.scheme("factors")
    exported = export_scheme(embedded, scheme, "csv")
    header = exported.decode("utf-8-sig").splitlines()[0].split(",")
    before = scheme_state(embedded)

    def problems(change: Callable[[list[list[str]]], None]) -> dict[int | None, str]:
        plan = plan_import(embedded, edit_csv(exported, change), "factors.csv")
        assert not plan.ok
        with pytest.raises(ImportFailed):
            apply_import(embedded, plan, agent="t", reason="")
        return {p.row: p.describe("en") for p in plan.problems}

    assert "unknown column 'farve'" in problems(lambda rows: rows[0].append("farve"))[1]

    def rows_with_errors(rows: list[list[str]]) -> None:
        rows[2][1] = "5 1"  # not a code
        rows[4][1] = rows[5][1]  # a code twice
        rows[6][header.index("broader")] = "99.99"  # an unknown code
        rows[7][header.index("exactMatch")] = "5.1"  # a mapping must be an IRI

    found = problems(rows_with_errors)
    assert "'5 1' is not a code" in found[3]
    assert "is also on row 5" in found[6]
    assert "unknown code '99.99'" in found[7]
    assert "is not an IRI" in found[8]

    def cycle(rows: list[list[str]]) -> None:
        top = row_of(rows, "5")
        top[header.index("broader")] = "5.1.1"

    found = problems(cycle)
    top_row = next(
        i for i, r in enumerate(list(csv.reader(io.StringIO(exported.decode("utf-8-sig")))), 1) if r[1] == "5"
    )
    assert "cycle" in found[top_row]
    assert scheme_state(embedded) == before


def test_confirm_is_refused_when_the_scheme_changed_after_the_preview(embedded: Services) -> None:
    scheme = embedded.iris.scheme("factors")
    exported = export_scheme(embedded, scheme, "csv")
    plan = plan_import(
        embedded, edit_csv(exported, lambda rows: row_of(rows, "5.1").__setitem__(3, "Noise!")), "factors.csv"
    )
    thesaurus = Thesaurus(embedded)
    concept = embedded.iris.concept("factors", "5.2")
    data = thesaurus.describe_json(concept, scheme)
    data.setdefault("altLabel", {}).setdefault("da", []).append("imellem")
    thesaurus.edit(concept, scheme, data, agent="someone", reason="in between")
    before = scheme_state(embedded)
    with pytest.raises(ImportFailed) as refused:
        apply_import(embedded, plan, agent="t", reason="")
    assert refused.value.status == 409 and scheme_state(embedded) == before


# -- RDF -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["turtle", "nt", "jsonld", "xml"])
def test_rdf_export_parses_back_to_the_scheme_graph(embedded: Services, fmt: str) -> None:
    scheme = embedded.iris.scheme("factors")
    data = export_scheme(embedded, scheme, fmt)
    parsed = [q.triple for q in ox.parse(data, format=SUFFIXES[EXPORT_FORMATS[fmt].suffix])]
    assert rdflib.compare.isomorphic(to_rdflib(parsed), to_rdflib(embedded.store.graph_triples(scheme)))
    assert plan_import(embedded, data, "factors" + EXPORT_FORMATS[fmt].suffix).empty  # and imports as no change


def test_a_foreign_skos_file_imports_as_browsable_schemes(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        services: Services = client.app.state.services  # type: ignore[attr-defined]
        plan = plan_import(services, FOREIGN.read_bytes(), FOREIGN.name)
        assert plan.ok, [p.describe() for p in plan.problems]
        assert sorted((s.slug, s.new, s.concepts) for s in plan.schemes) == [
            ("belastninger", True, 3),
            ("tiltag", True, 2),
        ]
        assert any("SKOS-XL" in n for n in plan.notes) and any("inScheme" in n for n in plan.notes)
        apply_import(services, plan, agent="test", reason="nordisk import")

        assert client.get("/vocab/belastninger").status_code == 200
        page = client.get("/vocab/belastninger/B1")
        assert (
            page.status_code == 200 and "Gentagne bevægelser" in page.text and "Ensidigt gentaget arbejde" in page.text
        )
        child = client.get("/vocab/belastninger/B1.1")  # had no skos:inScheme in the file
        assert child.status_code == 200 and "Finmotoriske bevægelser" in child.text
        assert client.get("/vocab/tiltag/loftehjaelpemidler").status_code == 200
        ids = {
            v["uri"].rsplit("/", 1)[-1]
            for v in client.get("/rest/v1/vocabularies", params={"lang": "da"}).json()["vocabularies"]
        }
        assert {"belastninger", "tiltag"} <= ids
        tops = client.get("/rest/v1/belastninger/topConcepts", params={"lang": "da"}).json()["topconcepts"]
        assert {t["uri"].rsplit("/", 1)[-1] for t in tops} == {"B1", "B2"}


# -- the command line ---------------------------------------------------------------------------------------


def test_cli_export_and_import(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMV_DATA_DIR", str(data_dir))
    runner = CliRunner()
    target = tmp_path / "factors.csv"
    assert runner.invoke(cli, ["vocab", "export", "factors", "--format", "csv", "-o", str(target)]).exit_code == 0
    unchanged = runner.invoke(cli, ["vocab", "import", str(target)])
    assert unchanged.exit_code == 0 and "no changes" in unchanged.output
    target.write_bytes(edit_csv(target.read_bytes(), lambda rows: row_of(rows, "5.1").__setitem__(3, "Noise, loud")))
    dry = runner.invoke(cli, ["vocab", "import", str(target)])
    assert "1 statements to add, 1 to remove" in dry.output and "nothing was changed" in dry.output
    applied = runner.invoke(cli, ["vocab", "import", str(target), "--yes", "--reason", "cli"])
    assert applied.exit_code == 0 and "applied: 1 changesets" in applied.output
    broken = tmp_path / "broken.csv"
    broken.write_bytes(edit_csv(target.read_bytes(), lambda rows: row_of(rows, "5.1").__setitem__(1, "5 1")))
    refused = runner.invoke(cli, ["vocab", "import", str(broken), "--yes"])
    assert refused.exit_code == 1 and "row " in refused.output and "is not a code" in refused.output


# -- the editors' page -------------------------------------------------------------------------------------


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    with app_with_users(make_settings(data_dir)) as client:
        yield client


def test_import_page_previews_the_diff_and_applies_it_on_confirmation(app_client: TestClient) -> None:
    services: Services = app_client.app.state.services  # type: ignore[attr-defined]
    scheme_page = app_client.get("/vocab/factors")
    assert 'href="/exports/vocab/factors.xlsx"' in scheme_page.text
    download = app_client.get("/exports/vocab/factors.csv")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    upload = edit_csv(download.content, lambda rows: row_of(rows, "5.1").__setitem__(2, "larm på arbejdet"))
    assert app_client.get("/editor/vocab-import", follow_redirects=False).status_code == 303  # log in first

    log_in(app_client, "bidrag@example.org")
    assert app_client.get("/editor/vocab-import").status_code == 403

    log_in(app_client, "redaktion@example.org")
    form = app_client.get("/editor/vocab-import?scheme=factors")
    assert form.status_code == 200 and '<option value="factors" selected>' in form.text
    files = {"file": ("faktorer.csv", upload, "text/csv")}
    assert app_client.post("/editor/vocab-import", data={"csrf": "forged"}, files=files).status_code == 403
    before = scheme_state(services)
    preview = app_client.post(
        "/editor/vocab-import", data={"csrf": csrf_of(form.text), "scheme": "factors"}, files=files
    )
    assert preview.status_code == 200 and "larm på arbejdet" in preview.text
    assert preview.text.count('<tr class="added">') == 1 and preview.text.count('<tr class="removed">') == 1
    assert scheme_state(services) == before

    confirm = {
        name: re.search(rf'name="{name}" value="([^"]*)"', preview.text).group(1)  # type: ignore[union-attr]
        for name in ("csrf", "upload", "scheme", "fingerprint")
    }
    done = app_client.post("/editor/vocab-import/apply", data={**confirm, "reason": "fra regneark"})
    assert done.status_code == 200, done.text
    concept = app_client.get("/vocab/factors/5.1")
    assert "larm på arbejdet" in concept.text and "fra regneark" in concept.text  # the label and its history
    again = app_client.post("/editor/vocab-import/apply", data={**confirm, "reason": "igen"})
    assert again.status_code == 410  # the kept upload is used once


def test_import_page_shows_row_errors(app_client: TestClient) -> None:
    log_in(app_client, "redaktion@example.org")
    form = app_client.get("/editor/vocab-import?lang=en")
    upload = edit_csv(app_client.get("/exports/vocab/factors.csv").content, lambda rows: rows[3].__setitem__(1, "?"))
    preview = app_client.post(
        "/editor/vocab-import?lang=en",
        data={"csrf": csrf_of(form.text), "scheme": "factors"},
        files={"file": ("faktorer.csv", upload, "text/csv")},
    )
    assert preview.status_code == 422 and "row 4" in preview.text and "is not a code" in preview.text
    assert 'name="upload"' not in preview.text  # nothing to confirm
    odd = app_client.post(
        "/editor/vocab-import?lang=en",
        data={"csrf": csrf_of(form.text)},
        files={"file": ("notes.docx", b"PK", "application/octet-stream")},
    )
    assert odd.status_code == 415 and "Unknown file type" in odd.text
