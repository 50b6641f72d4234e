"""Harvesting against fixtures served by a real local HTTP server: every source type, the mapping to
records with suggested concepts, de-duplication, robots.txt, conditional GET, refused redirects, the
review queue, the editors' page, the CLI and the scheduled job."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from graph.accounts import Role
from graph.cli import app as cli
from graph.config import Settings
from graph.harvest.runner import Harvester, RunResult, SourceRefused, define_source
from graph.harvest.sources import HarvestSource
from graph.harvest.tagging import Tagger
from graph.services import Services, open_services
from graph.submissions import Submission, record_from_json
from tests.conftest import bearer, make_settings
from tests.http_util import LocalSite, Reply, SeenRequest, local_site
from tests.login_util import app_with_users, csrf_of, log_in

FIXTURES = Path(__file__).parent / "fixtures" / "harvest"
BASE = "https://w3id.org/arbejdsmiljoviden/"
NFA = "m0y082gm"
NOISE = BASE + "vocab/factors/5.1"
ETAG = '"atom-v1"'


def _fixture(name: str, site: LocalSite) -> bytes:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("{{BASE}}", site.base).encode()


def _query(request: SeenRequest) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request.path).query)


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    holder: dict[str, LocalSite] = {}

    def file(name: str, media: str, extra: dict[str, str] | None = None) -> object:
        return lambda r: (200, {"Content-Type": media, **(extra or {})}, _fixture(name, holder["site"]))

    def atom(request: SeenRequest) -> Reply:
        if request.headers.get("If-None-Match") == ETAG:
            return 304, {"ETag": ETAG}, b""
        return 200, {"Content-Type": "application/atom+xml", "ETag": ETAG}, _fixture("atom.xml", holder["site"])

    def oai(request: SeenRequest) -> Reply:
        page = "oai-page2.xml" if "resumptionToken" in _query(request) else "oai-page1.xml"
        return 200, {"Content-Type": "text/xml; charset=utf-8"}, _fixture(page, holder["site"])

    def openalex(request: SeenRequest) -> Reply:
        if _query(request).get("cursor") == ["*"]:
            return 200, {"Content-Type": "application/json"}, _fixture("openalex-works.json", holder["site"])
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"meta": {"next_cursor": None}, "results": []}).encode(),
        )

    def crossref(request: SeenRequest) -> Reply:
        if _query(request).get("cursor") == ["*"]:
            return 200, {"Content-Type": "application/json"}, _fixture("crossref-works.json", holder["site"])
        empty = {"status": "ok", "message": {"next-cursor": "x", "items": []}}
        return 200, {"Content-Type": "application/json"}, json.dumps(empty).encode()

    routes = {
        "/robots.txt": lambda r: (200, {}, b"User-agent: *\nDisallow: /private/\n"),
        "/nyheder.atom": atom,
        "/rss": file("rss.xml", "application/rss+xml"),
        "/viden/storrumskontorer": file("page-jsonld.html", "text/html; charset=utf-8"),
        "/sitemap.xml": file("sitemap.xml", "application/xml"),
        "/viden/stoej-paa-byggepladsen": file("sitemap-page-stoej.html", "text/html; charset=utf-8"),
        "/viden/kemi-i-frisoerfaget": file("sitemap-page-kemi.html", "text/html; charset=utf-8"),
        "/oai": oai,
        "/openalex/works": openalex,
        "/crossref/works": crossref,
        "/private/feed.xml": file("atom.xml", "application/atom+xml"),
        "/to-private": lambda r: (302, {"Location": "http://10.1.2.3/feed.xml"}, b""),
    }
    with local_site(routes) as running:  # type: ignore[arg-type]
        holder["site"] = running
        yield running


def _settings(data_dir: Path, **overrides: object) -> Settings:
    return make_settings(data_dir, outbound_allow=("127.0.0.1",), harvest_host_interval=0.0, **overrides)


@pytest.fixture
def services(data_dir: Path) -> Iterator[Services]:
    with open_services(_settings(data_dir), embedded_only=True) as opened:
        yield opened


@pytest.fixture(scope="module")
def shared(initialised_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """One deployment for the tests whose sources and entries do not overlap (each opening costs seconds)."""
    copy = tmp_path_factory.mktemp("harvest") / "data"
    shutil.copytree(initialised_dir, copy)
    settings = _settings(copy, harvest_mailto="redaktion@example.org", openalex_api_key="test-key")
    with open_services(settings, embedded_only=True) as opened:
        yield opened


def _add(services: Services, name: str, type_name: str, url: str, **options: object) -> HarvestSource:
    return define_source(services, name=name, type_name=type_name, url=url, created_by="test", **options)  # type: ignore[arg-type]


def _harvest(services: Services, source: HarvestSource, **options: bool) -> RunResult:
    result = Harvester(services).run(source, **options)
    assert result is not None
    return result


def _by(services: Services, source: str) -> list[Submission]:
    return services.submissions.by_submitter(f"harvest:{source}")


def _content(submission: Submission) -> dict[str, list[str]]:
    """Predicate → values of the submission's record."""
    found: dict[str, list[str]] = {}
    for quad in ox.parse(submission.content, format=ox.RdfFormat.N_TRIPLES):
        found.setdefault(quad.predicate.value, []).append(quad.object.value)
    return found


def _titled(submissions: list[Submission], start: str) -> Submission:
    return next(s for s in submissions if s.title.startswith(start))


# -- the done-means test -----------------------------------------------------------------------


def test_a_feed_and_a_jsonld_page_are_queued_once_with_suggested_concepts(services: Services, site: LocalSite) -> None:
    atom = _add(services, "nfa", "atom", site.url("/nyheder.atom"), actor=NFA, default_type="04")
    page = _add(services, "bfa-kontor", "jsonld-page", site.url("/viden/storrumskontorer"))
    first = [_harvest(services, atom), _harvest(services, page)]
    assert [(r.status, r.queued) for r in first] == [("ok", 3), ("ok", 2)]

    news = _by(services, "nfa")
    assert {s.status.value for s in news} == {"pending"} and len(news) == 3
    noise = _titled(news, "Støj i daginstitutioner")
    record = _content(noise)
    assert NOISE in record[BASE + "ontology#factor"]
    assert record["https://schema.org/url"] == ["https://nfa.dk/nyheder/2026/stoej-i-daginstitutioner"]
    assert record["http://purl.org/dc/terms/publisher"] == [BASE + "id/actor/" + NFA]
    assert record["http://purl.org/dc/terms/issued"] == ["2026-10-02"]
    assert "80 dB(A). Høreværn bruges sjældent." in record["http://purl.org/dc/terms/description"][0]  # no HTML left
    entry = services.harvest.for_submissions([noise.id])[noise.id]
    suggested = {s["concept"]: s for s in entry.suggestions}
    assert suggested[NOISE]["matched"].lower() == "støj" and suggested[NOISE]["reason"] == "text"
    english = _titled(news, "Night work")
    assert '"Night work and sleep: results from a Danish cohort"@en' in english.content

    kontor = _by(services, "bfa-kontor")
    article = _titled(kontor, "Indeklima og støj")
    assert NOISE in _content(article)[BASE + "ontology#factor"]
    event = _titled(kontor, "Webinar")
    assert event.kind == "event"
    facts = _content(event)
    assert facts["https://schema.org/startDate"] == ["2027-03-04T10:00:00+01:00"]  # Danish time, with its zone
    assert facts["https://schema.org/location"] == ["Online"]
    assert facts[BASE + "ontology#eventType"] == [BASE + "vocab/event-types/06"]  # "Webinar" in the title

    before = len(site.seen)
    again = [_harvest(services, atom), _harvest(services, page)]
    assert [(r.status, r.queued) for r in again] == [("not_modified", 0), ("ok", 0)]
    feed_requests = [r for r in site.seen[before:] if r.path == "/nyheder.atom"]
    assert [r.headers.get("If-None-Match") for r in feed_requests] == [ETAG]  # conditional GET, answered 304
    stored = services.harvest.get("nfa")
    assert stored is not None and stored.last_status == "not_modified" and stored.runs == 2
    assert {e.outcome for e in again[1].entries} == {"known"}
    # Read whole again (not conditionally): still nothing new.
    third = _harvest(services, atom, conditional=False)
    assert third.status == "ok" and third.queued == 0 and len(third.entries) == 3
    assert len(_by(services, "nfa")) == 3 and len(_by(services, "bfa-kontor")) == 2


def test_robots_txt_is_honoured(shared: Services, site: LocalSite) -> None:
    source = _add(shared, "hidden", "atom", site.url("/private/feed.xml"))
    before = len(site.seen)
    result = _harvest(shared, source)
    assert result.status == "error" and "robots.txt" in (result.error or "")
    assert not [r for r in site.seen[before:] if r.path.startswith("/private/")]
    stored = shared.harvest.get("hidden")
    assert stored is not None and stored.last_status == "error" and "robots.txt" in (stored.last_error or "")
    assert _by(shared, "hidden") == []


def test_a_redirect_into_a_private_address_is_refused_and_reported(shared: Services, site: LocalSite) -> None:
    source = _add(shared, "moved", "rss", site.url("/to-private"))
    result = _harvest(shared, source)
    assert result.status == "error" and "private or reserved" in (result.error or "")
    stored = shared.harvest.get("moved")
    assert stored is not None and "10.1.2.3" in (stored.last_error or "")


def test_rss_items_with_language_date_and_a_type_named_in_the_title(shared: Services, site: LocalSite) -> None:
    result = _harvest(shared, _add(shared, "bfa-velfaerd", "rss", site.url("/rss")))
    assert result.queued == 2
    submissions = _by(shared, "bfa-velfaerd")
    checklist = _content(_titled(submissions, "Tjekliste"))
    assert checklist[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/08"]
    assert checklist["http://purl.org/dc/terms/issued"] == ["2026-10-01"]
    assert checklist["http://purl.org/dc/terms/language"] == ["da"]
    violence = _titled(submissions, "Ny vejledning")
    assert '"Ny vejledning: Forebyg vold og trusler på bosteder"@da' in violence.content


def test_a_sitemap_of_jsonld_pages_is_read_and_pages_are_not_fetched_twice(shared: Services, site: LocalSite) -> None:
    source = _add(shared, "bfa-bygge", "sitemap", site.url("/sitemap.xml"))
    result = _harvest(shared, source)
    assert result.status == "ok" and result.queued == 2
    report = _content(_titled(_by(shared, "bfa-bygge"), "Støj på byggepladsen"))
    assert report[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/02"]  # schema:Report
    assert NOISE in report[BASE + "ontology#factor"]
    assert "Jens Madsen; Sara Olsen (2026)." in report["http://purl.org/dc/terms/bibliographicCitation"][0]
    teaching = _content(_titled(_by(shared, "bfa-bygge"), "Kemi i frisørfaget"))
    assert teaching[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/12"]  # LearningResource
    before = len(site.seen)
    again = _harvest(shared, source)
    assert again.status == "ok" and again.queued == 0
    assert [r.path for r in site.seen[before:] if r.path != "/robots.txt"] == ["/sitemap.xml"]


def test_oai_pmh_pages_through_the_resumption_token(shared: Services, site: LocalSite) -> None:
    source = _add(shared, "au", "oai-pmh", site.url("/oai"))
    before = len(site.seen)
    result = _harvest(shared, source)
    asked = [_query(r) for r in site.seen[before:] if r.path.startswith("/oai")]
    assert asked[0]["verb"] == ["ListRecords"] and asked[0]["metadataPrefix"] == ["oai_dc"] and "from" in asked[0]
    assert asked[1] == {"verb": ["ListRecords"], "resumptionToken": ["c2V0PXB1YmxpY2F0aW9ucyZwYWdlPTI="]}
    assert result.queued == 2  # the deleted record is left out
    article = _titled(_by(shared, "au"), "Occupational noise")
    facts = _content(article)
    assert facts[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/01"]
    assert facts["http://purl.org/dc/terms/language"] == ["en"]
    assert facts["http://purl.org/dc/terms/license"] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert NOISE in facts[BASE + "ontology#factor"]
    assert shared.harvest.for_submissions([article.id])[article.id].key == "doi:10.1093/annweh/wxz081"
    report = _content(_titled(_by(shared, "au"), "Psykisk arbejdsmiljø"))
    assert report[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/02"]
    assert report["http://purl.org/dc/terms/issued"] == ["2026"]
    again = _harvest(shared, source)
    assert again.queued == 0 and {e.outcome for e in again.entries} == {"known"}


def test_openalex_and_crossref_are_asked_by_concept_labels_without_duplicates(
    shared: Services, site: LocalSite
) -> None:
    services = shared
    openalex = _add(services, "openalex-noise", "openalex", site.url("/openalex"), concepts=["5.1"])
    crossref = _add(services, "crossref-noise", "crossref", site.url("/crossref"), concepts=["5.1"])
    before = len(site.seen)
    found = _harvest(services, openalex)
    asked = [_query(r) for r in site.seen[before:]]
    assert [q["cursor"][0] for q in asked] == [
        "*",
        "IlsxNjA5MzcyODAwMDAwLCAnaHR0cHM6Ly9vcGVuYWxleC5vcmcvVzI3NDE4MDk4MDcnXSI=",
    ]
    search = asked[0]["search"][0]
    assert '"støj"' in search and '"noise"' in search and " OR " in search
    assert asked[0]["filter"][0].startswith("from_publication_date:") and asked[0]["per_page"] == ["100"]
    assert asked[0]["mailto"] == ["redaktion@example.org"] and asked[0]["api_key"] == ["test-key"]
    assert found.queued == 2
    office = _content(_titled(_by(services, "openalex-noise"), "Noise exposure in open-plan"))
    description = office["http://purl.org/dc/terms/description"][0]
    assert description == "Noise from conversations reduced performance in open-plan offices."
    assert office["https://schema.org/url"] == ["https://doi.org/10.1016/j.apergo.2026.104211"]
    assert office[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/01"]
    review = _content(_titled(_by(services, "openalex-noise"), "Hearing protection"))
    assert review[BASE + "ontology#knowledgeType"] == [BASE + "vocab/knowledge-types/03"]
    assert NOISE in review[BASE + "ontology#factor"]  # the source's own concept, suggested

    before = len(site.seen)
    result = _harvest(services, crossref)
    asked = [_query(r) for r in site.seen[before:]]
    assert "støj" in asked[0]["query"][0] and asked[0]["filter"][0].startswith("from-pub-date:")
    assert asked[0]["rows"] == ["100"] and asked[0]["mailto"] == ["redaktion@example.org"] and len(asked) == 2
    outcomes = {e.title[:20]: e.outcome for e in result.entries}
    assert outcomes == {"Noise exposure in op": "known", "Vibration from hand-": "queued"}  # same DOI as OpenAlex
    vibration = _content(_by(services, "crossref-noise")[0])
    assert vibration["http://purl.org/dc/terms/description"] == [
        "Abstract Hand-arm vibration from grinders was measured in three shipyards."
    ]
    assert vibration["https://schema.org/url"] == ["https://doi.org/10.1093/annweh/wxaf017"]


def test_an_entry_published_by_hand_with_the_same_address_is_skipped(services: Services, site: LocalSite) -> None:
    record = record_from_json(
        {
            "type": "item",
            "title": {"da": "Pædagoger og støj"},
            "description": {"da": "Målinger af støj i børnehaver."},
            "knowledgeType": "04",
            "factors": ["5.1"],
            "url": "https://nfa.dk/nyheder/2026/stoej-i-daginstitutioner",
        },
        services.iris,
    )
    submission, _ = services.submissions.submit(record, agent="cli:test")
    services.submissions.approve(submission.id, editor="cli:test")
    result = _harvest(services, _add(services, "nfa", "atom", site.url("/nyheder.atom")))
    assert result.queued == 2
    skipped = next(e for e in result.entries if e.outcome == "duplicate")
    assert skipped.title.startswith("Støj i daginstitutioner") and record.iri.value in skipped.detail


def test_sources_are_checked_before_they_are_stored(shared: Services) -> None:
    with pytest.raises(SourceRefused, match="no concept"):
        _add(shared, "x", "openalex", "", concepts=["99.99"])
    with pytest.raises(SourceRefused, match="at least one concept"):
        _add(shared, "x", "crossref", "")
    with pytest.raises(SourceRefused, match="not a published actor"):
        _add(shared, "x", "rss", "https://example.org/rss", actor="aaaaaaaa")
    with pytest.raises(SourceRefused, match="http"):
        _add(shared, "x", "rss", "javascript:alert(1)")
    source = _add(shared, "openalex", "openalex", "", concepts=["5.1"])
    assert source.url == "https://api.openalex.org"
    with pytest.raises(SourceRefused, match="exists already"):
        _add(shared, "openalex", "openalex", "", concepts=["5.1"])


def test_tagging_matches_whole_labels_longest_first_and_folds_danish_letters(shared: Services) -> None:
    tagger = Tagger(shared.search.thesaurus)
    concepts = shared.search.thesaurus.concepts

    def codes(text: str) -> list[str]:
        return [concepts[iri].key for iri, _ in tagger.find(text)]

    assert codes("Impulsstøj fra slagværktøj") == ["factors/5.1.3"]  # the longer label, not "støj" inside it
    assert codes("STOEJ paa arbejdspladsen") == ["factors/5.1"]  # case and æ/ø/å folded
    assert codes("Occupational distress among nurses") == []  # "stress" is no word of this text
    assert "factors/2.5" in codes("Stress and workload")


# -- the editors' side -------------------------------------------------------------------------


@pytest.fixture
def app_client(data_dir: Path) -> Iterator[TestClient]:
    with app_with_users(_settings(data_dir)) as client:
        yield client


def test_the_review_queue_marks_suggestions_and_approval_confirms_them(app_client: TestClient, site: LocalSite) -> None:
    services: Services = app_client.app.state.services  # type: ignore[attr-defined]
    _harvest(services, _add(services, "nfa", "atom", site.url("/nyheder.atom"), actor=NFA, default_type="04"))
    _harvest(services, _add(services, "bfa-kontor", "jsonld-page", site.url("/viden/storrumskontorer")))
    noise = _titled(_by(services, "nfa"), "Støj i daginstitutioner")
    article = _titled(_by(services, "bfa-kontor"), "Indeklima og støj")
    path = "/" + noise.iri[len(BASE) :]
    assert app_client.get(path).status_code == 404  # pending: not public

    log_in(app_client, "redaktion@example.org")
    queue = app_client.get("/review").text
    assert f'data-suggested="{NOISE}"' in queue and "Foreslåede begreber" in queue and "harvest:nfa" in queue
    page = app_client.get(f"/submissions/{article.id}?lang=en").text
    assert "Suggested concepts" in page and "To complete before the submission can be approved" in page
    assert "Choose exactly one knowledge type" in page  # the article's type could not be guessed

    refused = app_client.post(f"/review/{article.id}", data={"csrf": csrf_of(queue), "decision": "approve"})
    assert refused.status_code == 422
    approved = app_client.post(
        f"/review/{noise.id}", data={"csrf": csrf_of(queue), "decision": "approve"}, follow_redirects=False
    )
    assert approved.status_code == 303
    public = app_client.get(path)
    assert public.status_code == 200 and "/vocab/factors/5.1" in public.text  # the confirmed suggestion


def test_the_harvest_page_lists_sources_for_editors_only(app_client: TestClient, site: LocalSite) -> None:
    services: Services = app_client.app.state.services  # type: ignore[attr-defined]
    _harvest(services, _add(services, "moved", "rss", site.url("/to-private")))
    assert app_client.get("/harvest", follow_redirects=False).status_code == 303  # to the login
    assert app_client.get("/harvest.json").status_code == 401
    assert app_client.get("/harvest.json", headers=bearer(app_client, Role.contributor)).status_code == 403
    data = app_client.get("/harvest.json", headers=bearer(app_client, Role.editor)).json()
    assert data["sources"][0]["name"] == "moved" and "private or reserved" in data["sources"][0]["lastError"]
    assert data["runs"][0]["status"] == "error"

    log_in(app_client, "bidrag@example.org")
    assert app_client.get("/harvest").status_code == 403
    log_in(app_client, "redaktion@example.org")
    page = app_client.get("/harvest").text
    assert 'data-source="moved"' in page and "private or reserved" in page
    form = {"csrf": csrf_of(page), "name": "nfa", "type": "atom", "url": site.url("/nyheder.atom"), "kind": "item"}
    wrong = app_client.post("/harvest", data={**form, "type": "gopher"})
    assert wrong.status_code == 422 and "typen skal være en af" in wrong.text
    added = app_client.post("/harvest", data={**form, "concepts": "5.1", "every": "12"}, follow_redirects=False)
    assert added.status_code == 303
    stored = services.harvest.get("nfa")
    assert stored is not None and stored.every_hours == 12 and stored.concepts == [NOISE] and stored.created_by
    removed = app_client.post("/harvest/nfa/remove", data={"csrf": form["csrf"]}, follow_redirects=False)
    assert removed.status_code == 303 and services.harvest.get("nfa") is None
    assert app_client.post("/harvest/nfa/remove", data={"csrf": "wrong"}).status_code == 403


def test_cli_add_list_run_and_remove(data_dir: Path, site: LocalSite, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AMV_DATA_DIR": str(data_dir),
        "AMV_OUTBOUND_ALLOW": "127.0.0.1",
        "AMV_HARVEST_HOST_INTERVAL": "0",
    }.items():
        monkeypatch.setenv(name, value)
    runner = CliRunner()
    url = site.url("/nyheder.atom")
    added = runner.invoke(cli, ["harvest", "add", "nfa", "--type", "atom", "--url", url, "--concept", "5.1"])
    assert added.exit_code == 0, added.output
    refused = runner.invoke(cli, ["harvest", "add", "bad", "--type", "atom", "--url", url, "--concept", "nope"])
    assert refused.exit_code == 1 and "no concept" in refused.output
    dry = runner.invoke(cli, ["harvest", "run", "nfa", "--dry-run"])
    assert dry.exit_code == 0 and "would queue 3" in dry.output and "suggested: factors 5.1 støj" in dry.output
    done = runner.invoke(cli, ["harvest", "run", "--format", "json"])
    assert done.exit_code == 0 and json.loads(done.output)[0]["queued"] == 3
    listed = runner.invoke(cli, ["harvest", "list"])
    assert "nfa  atom" in listed.output and "queued 3" in listed.output
    assert runner.invoke(cli, ["harvest", "run", "nope"]).exit_code == 1
    assert runner.invoke(cli, ["harvest", "remove", "nfa"]).exit_code == 0
    assert "no sources" in runner.invoke(cli, ["harvest", "list"]).output


def test_the_scheduled_job_runs_due_sources_inside_the_app(data_dir: Path, site: LocalSite) -> None:
    settings = _settings(data_dir, harvest_poll=0.2)
    with open_services(settings, embedded_only=True) as services:
        _add(services, "nfa", "atom", site.url("/nyheder.atom"), every_hours=1)
        _add(services, "manual", "rss", site.url("/rss"), every_hours=0)  # by hand only
    with TestClient(create_app(settings)) as client:
        services = client.app.state.services  # type: ignore[attr-defined]
        deadline = time.monotonic() + 15
        while not services.harvest.runs() and time.monotonic() < deadline:
            time.sleep(0.1)
        runs = services.harvest.runs()
        assert [(r.source, r.trigger) for r in runs] == [("nfa", "schedule")]
        while services.harvest.runs()[0].finished_at is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_by(services, "nfa")) == 3
        source = services.harvest.get("nfa")
        assert source is not None and not source.due()  # next run in an hour
