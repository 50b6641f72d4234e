"""Running harvest sources: fetch, map, de-duplicate, queue for review — and the scheduled job.

One run of one source:
1. the source is claimed (one run of it at a time, across processes);
2. its fetcher reads what is new — feeds, pages and sitemaps conditionally (ETag/Last-Modified; a 304
   ends the run as `not_modified`), OAI-PMH, OpenAlex and Crossref from a day: the last successful run
   less `OVERLAP` (7 days; the de-duplication makes the overlap harmless), or `FIRST_LOOKBACK` (a year)
   on the first run;
3. each entry is skipped if its key (DOI, OAI identifier or address) was harvested before, by any source;
   else mapped (`graph.harvest.mapping`) and skipped as a duplicate when a published record (through
   `Submissions.possible_duplicates`) or an open submission has the same web address;
4. the rest are queued as pending submissions by `harvest:<source>`, with the entry's key as idempotency
   key and an id derived from it — incomplete ones too (`allow_incomplete`): a harvested entry is a lead
   for the editors, who complete it (e.g. the knowledge type) before approving; approval validates;
5. every entry is remembered (queued, duplicate or refused) with its suggested concepts, and the run with
   its counts and notes; an error (refused address, robots.txt, HTTP error, unreadable answer) is kept
   on the source as its last error.
A dry run fetches and maps but writes nothing (not even the ETag).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from graph.harvest import feeds, jsonld, oai, scholarly
from graph.harvest.entry import HarvestedEntry
from graph.harvest.fetching import Fetcher, HarvestContext, HarvestError, Validators
from graph.harvest.mapping import Mapper, Proposal, http_iri
from graph.harvest.sources import NAME, EntryRecord, HarvestSource, SourceType, parse_time
from graph.iris import RecordKind
from graph.ledger import RecordStatus, now
from graph.outbound import HostPacer, OutboundError, OutboundPolicy
from graph.submissions import SubmissionRefused, SubmissionStatus, record_from_json

if TYPE_CHECKING:
    from graph.services import Services

log = logging.getLogger("amv.harvest")

OVERLAP = timedelta(days=7)
FIRST_LOOKBACK = timedelta(days=365)
#: The public services, when a source of their type gives no URL of its own.
DEFAULT_URLS = {SourceType.openalex: scholarly.OPENALEX_URL, SourceType.crossref: scholarly.CROSSREF_URL}


@dataclass
class EntryOutcome:
    key: str
    title: str
    outcome: str  # queued | known | duplicate | refused | (dry run) would-queue
    detail: str = ""
    submission_id: str | None = None
    suggestions: list[str] = field(default_factory=list)  # "factors 5.1 støj (støj)"
    problems: list[str] = field(default_factory=list)  # what an editor must complete before approving

    def as_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "title": self.title,
            "outcome": self.outcome,
            "detail": self.detail,
            "submission": self.submission_id,
            "suggestions": self.suggestions,
            "problems": self.problems,
        }


@dataclass
class RunResult:
    source: str
    status: str  # ok | not_modified | error | busy
    error: str | None = None
    entries: list[EntryOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: The main document's new ETag/Last-Modified (None: keep the old ones).
    validators: Validators | None = None

    def count(self, outcome: str) -> int:
        return sum(1 for e in self.entries if e.outcome == outcome)

    @property
    def queued(self) -> int:
        return self.count("queued")

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "status": self.status,
            "error": self.error,
            "found": len(self.entries),
            "queued": self.queued,
            "entries": [e.as_json() for e in self.entries],
            "notes": self.notes,
        }


def since_day(source: HarvestSource, today: date | None = None) -> date:
    today = today or datetime.now(UTC).date()
    if source.last_success_at:
        return parse_time(source.last_success_at).date() - OVERLAP
    return today - FIRST_LOOKBACK


class Harvester:
    def __init__(self, services: Services, *, policy: OutboundPolicy | None = None) -> None:
        self.services = services
        settings = services.settings
        self.policy = policy or OutboundPolicy.from_settings(settings)
        self.fetcher = Fetcher(self.policy, HostPacer(settings.harvest_host_interval))
        self.sources = services.harvest

    # -- fetching ------------------------------------------------------------------------------

    def _labels(self, source: HarvestSource) -> list[str]:
        thesaurus = self.services.search.thesaurus
        labels: list[str] = []
        for iri in source.concepts:
            concept = thesaurus.concepts.get(iri)
            if concept is None:
                continue
            labels += [concept.pref[lang] for lang in ("da", "en") if concept.pref.get(lang)]
            labels += [text for text, lang, kind in concept.labels if kind == "alt" and lang in ("da", "en")][:6]
        return list(dict.fromkeys(labels))

    def fetch(self, source: HarvestSource, *, conditional: bool = True) -> tuple[HarvestContext, list[HarvestedEntry]]:
        settings = self.services.settings
        context = HarvestContext(
            url=source.url,
            fetcher=self.fetcher,
            since=since_day(source),
            max_entries=settings.harvest_max_entries,
            labels=self._labels(source),
            mailto=settings.harvest_mailto,
            openalex_api_key=settings.openalex_api_key,
            known=lambda key: bool(self.sources.known([key])),
            validators=Validators(source.etag, source.last_modified) if conditional else Validators(),
        )
        readers: dict[SourceType, Callable[[HarvestContext], list[HarvestedEntry]]] = {
            SourceType.rss: feeds.harvest,
            SourceType.atom: feeds.harvest,
            SourceType.jsonld_page: jsonld.harvest_page,
            SourceType.sitemap: jsonld.harvest_sitemap,
            SourceType.oai_pmh: oai.harvest,
            SourceType.openalex: scholarly.harvest_openalex,
            SourceType.crossref: scholarly.harvest_crossref,
        }
        return context, readers[source.type](context)

    # -- one run -------------------------------------------------------------------------------

    def run(
        self,
        source: HarvestSource,
        *,
        dry_run: bool = False,
        trigger: str = "cli",
        only_if_due: bool = False,
        conditional: bool = True,
    ) -> RunResult | None:
        """Run one source now (None: `only_if_due` and another worker has just run it). `conditional=False`
        reads the source whole even when it says it has not changed."""
        if dry_run:
            return self._run(source, conditional=False, dry_run=True)
        if not self.sources.claim(source.name):
            return RunResult(source.name, "busy", "a run of this source is under way")
        fresh = self.sources.get(source.name)
        if fresh is None or (only_if_due and not fresh.due()):
            self.sources.release(source.name)  # removed, or run by another worker since it was listed
            return None
        source = fresh  # what the caller held may be stale (ETag, last success)
        run_id, started_at = self.sources.start_run(source.name, trigger)
        result = RunResult(source.name, "error")
        etag, last_modified = source.etag, source.last_modified
        try:
            result = self._run(source, conditional=conditional, dry_run=False)
            if result.status == "ok" and result.validators is not None:
                etag, last_modified = result.validators.etag, result.validators.last_modified
        except Exception as exc:  # noqa: BLE001 - whatever broke is reported on the source, not lost in a thread
            log.exception("harvest of %s failed", source.name)
            result = RunResult(source.name, "error", f"{type(exc).__name__}: {exc}")
        finally:
            self.sources.finish(
                source,
                status=result.status,
                error=result.error,
                etag=etag,
                last_modified=last_modified,
                queued=result.queued,
                started_at=started_at,
            )
            self.sources.finish_run(
                run_id,
                status=result.status,
                found=len(result.entries),
                queued=result.queued,
                skipped=len(result.entries) - result.queued,
                error=result.error,
                notes=result.notes,
            )
        return result

    def _run(self, source: HarvestSource, *, conditional: bool, dry_run: bool) -> RunResult:
        result = RunResult(source.name, "ok")
        try:
            context, entries = self.fetch(source, conditional=conditional)
        except (HarvestError, OutboundError) as exc:
            return RunResult(source.name, "error", exc.reason)
        result.notes = context.notes
        if context.not_modified:
            result.status = "not_modified"
            return result
        result.validators = context.new_validators
        mapper = Mapper(source, self.services.search.thesaurus)
        unique: dict[str, HarvestedEntry] = {}
        for entry in entries:
            unique.setdefault(entry.key, entry)
        known = self.sources.known(unique)
        remembered: list[EntryRecord] = []
        for entry in unique.values():
            if entry.key in known:
                result.entries.append(EntryOutcome(entry.key, entry.title, "known", "harvested before"))
                continue
            proposal = mapper.propose(entry)
            result.notes += [f"{entry.title}: {n}" for n in proposal.notes]
            outcome, record = self._queue(source, proposal, dry_run=dry_run)
            result.entries.append(outcome)
            if not dry_run:
                remembered.append(record)
        if not dry_run:
            at = now()
            remembered += [
                EntryRecord("page:" + p, source.name, "page", None, p, None, [], None, at) for p in context.seen_pages
            ]
            self.sources.remember(remembered)
        return result

    def _queue(self, source: HarvestSource, proposal: Proposal, *, dry_run: bool) -> tuple[EntryOutcome, EntryRecord]:
        entry = proposal.entry
        suggestions = [s.as_json() for s in proposal.suggestions]
        outcome = EntryOutcome(
            entry.key,
            entry.title,
            "queued",
            suggestions=[
                f"{s.field} {s.code} {s.label}" + (f" ({s.matched})" if s.matched else "") for s in proposal.suggestions
            ],
        )

        def remembered(status: str, *, submission: str | None = None, iri: str | None = None) -> EntryRecord:
            return EntryRecord(
                entry.key, source.name, status, submission, iri, entry.title, suggestions, outcome.detail or None, now()
            )

        submissions = self.services.submissions
        try:
            record = record_from_json(proposal.data, self.services.iris)
        except SubmissionRefused as exc:
            outcome.outcome, outcome.detail = "refused", _messages(exc)
            return outcome, remembered("refused")
        url = proposal.data.get("url")
        same = [d for d in submissions.possible_duplicates(record) if d["reason"] == "url"]
        if same:
            outcome.outcome, outcome.detail = "duplicate", f"published as {same[0]['iri']} (same web address)"
            return outcome, remembered("duplicate", iri=same[0]["iri"])
        waiting = self._open_submission_with_url(url) if url else None
        if waiting is not None:
            outcome.outcome, outcome.detail = "duplicate", f"waiting for review as submission {waiting} (same address)"
            return outcome, remembered("duplicate")
        violations = self.services.records.validate([record]).get(record.iri.value, [])
        outcome.problems = [v.messages.get("en", "") for v in violations if v.is_violation]
        if dry_run:
            outcome.outcome = "would-queue"
            return outcome, remembered("queued")
        try:
            submission, _created = submissions.submit(
                record, agent=source.agent, client_key=entry.key, allow_incomplete=True
            )
        except SubmissionRefused as exc:
            if exc.status == 409:
                # Queued before under this key (the run that did it stopped before remembering it).
                outcome.outcome, outcome.detail = "known", "queued before"
                return outcome, remembered("queued")
            outcome.outcome, outcome.detail = "refused", _messages(exc)
            return outcome, remembered("refused")
        outcome.submission_id = submission.id
        return outcome, remembered("queued", submission=submission.id, iri=submission.iri)

    def _open_submission_with_url(self, url: str) -> str | None:
        """A submission waiting for review that proposes this web address (its content is N-Triples)."""
        statement = f"<https://schema.org/url> <{url}> ."
        row = self.services.ledger.db.execute(
            "SELECT id FROM submissions WHERE status IN (?, ?) AND instr(content, ?) > 0 LIMIT 1",
            (SubmissionStatus.pending.value, SubmissionStatus.changes_requested.value, statement),
        ).fetchone()
        return row[0] if row else None

    def run_due(self, *, trigger: str = "schedule", stop: threading.Event | None = None) -> list[RunResult]:
        """Run every source that is due, one at a time."""
        results = []
        for source in self.sources.all():
            if stop is not None and stop.is_set():
                break
            if source.due():
                result = self.run(source, trigger=trigger, only_if_due=True)
                if result is not None:
                    results.append(result)
        return results


def _messages(exc: SubmissionRefused) -> str:
    details = "; ".join(e.get("messages", {}).get("en", "") for e in exc.errors)
    return f"{exc.message} {details}".strip()


class HarvestJob:
    """Runs the due sources every `harvest_poll` seconds in a background thread of the web app (one
    source at a time; claims keep several web workers from running the same source twice)."""

    def __init__(self, services: Services, poll: float) -> None:
        self.services = services
        self.poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amv-harvest-job", daemon=True)
        self.rounds = 0

    @classmethod
    def start(cls, services: Services) -> HarvestJob | None:
        if services.settings.harvest_poll <= 0:
            return None
        job = cls(services, services.settings.harvest_poll)
        job._thread.start()
        return job

    def _loop(self) -> None:
        # The first look after one interval, so a short-lived server does not start fetching at once.
        while not self._stop.wait(self.poll):
            try:
                for result in Harvester(self.services).run_due(stop=self._stop):
                    log.info("harvest %s: %s, %d queued", result.source, result.status, result.queued)
                self.rounds += 1
            except Exception:  # noqa: BLE001 - the job must outlive a bad round (store down, disk full)
                log.exception("the scheduled harvest failed; trying again later")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


# -- defining sources ------------------------------------------------------------------------


class SourceRefused(ValueError):
    """A source definition that cannot be used; the messages (en, da) say what to fix."""

    def __init__(self, en: str, da: str) -> None:
        super().__init__(en)
        self.messages = {"en": en, "da": da}


def define_source(
    services: Services,
    *,
    name: str,
    type_name: str,
    url: str | None,
    kind: str = "item",
    actor: str | None = None,
    concepts: list[str] | None = None,
    default_type: str | None = None,
    every_hours: float = 24.0,
    created_by: str,
) -> HarvestSource:
    """Check a source definition (as `amv harvest add` and the /harvest form take it) and store it."""
    if not NAME.match(name or ""):
        raise SourceRefused(
            "the name must be 1–63 lower-case letters, digits, '.', '_' or '-' (e.g. nfa-news)",
            "navnet skal være 1–63 små bogstaver, cifre, '.', '_' eller '-' (fx nfa-nyheder)",
        )
    types = ", ".join(t.value for t in SourceType)
    if type_name not in {t.value for t in SourceType}:
        raise SourceRefused(f"the type must be one of {types}", f"typen skal være en af {types}")
    source_type = SourceType(type_name)
    if not url and source_type in DEFAULT_URLS:
        url = DEFAULT_URLS[source_type]
    if not url or not http_iri(url):
        raise SourceRefused(
            "the URL must be an http(s) address without spaces", "adressen skal være en http(s)-adresse uden mellemrum"
        )
    if kind not in ("item", "event"):
        raise SourceRefused("the kind must be item or event", "slags skal være item eller event")
    if not 0 <= every_hours <= 24 * 365:
        raise SourceRefused(
            "the interval must be between 0 (only by hand) and 8760 hours",
            "intervallet skal være mellem 0 (kun manuelt) og 8760 timer",
        )
    actor_iri = None
    if actor:
        actor_iri = (
            actor if actor.startswith(("http://", "https://")) else services.iris.record(RecordKind.actor, actor).value
        )
        entry = services.ledger.get(actor_iri)
        if entry is None or entry.status != RecordStatus.published or entry.kind != RecordKind.actor.value:
            raise SourceRefused(
                f"{actor} is not a published actor (give its id or IRI)",
                f"{actor} er ikke en offentliggjort aktør (angiv dens id eller IRI)",
            )
    thesaurus = services.search.thesaurus
    concept_iris = []
    for code in concepts or []:
        concept = thesaurus.resolve(code) or thesaurus.resolve("factors/" + code)
        if concept is None:
            raise SourceRefused(
                f"{code!r} is no concept (give a factor code like 5.1, a key like industries/F, or an IRI)",
                f"{code!r} er ikke et begreb (angiv en faktorkode som 5.1, en nøgle som industries/F eller en IRI)",
            )
        concept_iris.append(concept.iri)
    if source_type in (SourceType.openalex, SourceType.crossref) and not concept_iris:
        raise SourceRefused(
            f"a {source_type.value} source searches by concepts: give at least one concept",
            f"en {source_type.value}-kilde søger på begreber: angiv mindst ét begreb",
        )
    scheme = "event-types" if kind == "event" else "knowledge-types"
    if default_type and not any(c.scheme == scheme and c.notation == default_type for c in thesaurus.concepts.values()):
        raise SourceRefused(
            f"{default_type!r} is no code of the {scheme} scheme", f"{default_type!r} er ikke en kode i {scheme}"
        )
    source = HarvestSource(
        name=name,
        type=source_type,
        url=url,
        kind=RecordKind(kind),
        actor=actor_iri,
        concepts=concept_iris,
        default_type=default_type or None,
        every_hours=every_hours,
        created_by=created_by,
    )
    try:
        return services.harvest.add(source)
    except ValueError as exc:
        raise SourceRefused(str(exc), f"der findes allerede en kilde med navnet {name!r}") from exc
