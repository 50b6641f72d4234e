"""Submissions: every actor reports knowledge in one place; editors keep quality high.

A submission proposes one record — new, or a new version of a published one — as JSON (the simple
schema below), JSON-LD or Turtle. It is validated with the same shapes as every write and kept in
the ledger as *pending*: it is not in the store, so it is invisible to pages, search, feeds, dumps
and SPARQL until an editor approves it (then it is published at once) or rejects it with a reason.
A client-supplied idempotency key makes resubmission safe.

The simple JSON schema (one object; every field but `type` and `title` optional):

    {"type": "item|problem|solution|actor|event", "id": "k7m2p9qx",
     "title": {"da": "...", "en": "..."}, "description": {"da": "..."},
     "factors": ["5.1", ...], "industries": ["F", "41.20"], "audiences": ["03"],
     "knowledgeType": "05", "evidenceLevel": "02", "certainty": "01",
     "addresses": ["<problem id or IRI>"], "describesSolution": [...], "solves": [...],
     "publisher": "<actor id or IRI>", "creators": [...], "offeredBy": [...], "organizers": [...],
     "issued": "2024-05-01", "languages": ["da"], "url": "https://...", "citation": "...",
     "license": "https://...", "source": "https://...", "archivedCopy": "https://...",
     "actorTypes": ["02"], "regions": ["01"], "services": {"da": ["..."]}, "altLabels": ["NFA"],
     "email": "...", "telephone": "...", "address": "...",
     "eventType": "01", "startDate": "2027-03-04T09:00:00+01:00", "endDate": "...", "location": "..."}

Concepts are given by notation (code) in the field's scheme or by IRI; records by id or IRI.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import DCT, RDF_TYPE, SCHEMA, SKOS, XSD, Iris, RecordKind, mint_id
from graph.ledger import RecordStatus, now
from graph.rdf import RdfSyntaxError, parse_quads
from graph.records import Record, Records, split_records
from graph.validation import Violation


class SubmissionStatus(StrEnum):
    pending = "pending"
    changes_requested = "changes_requested"  # sent back to the submitter with comments (graph/curation.py)
    approved = "approved"
    rejected = "rejected"


@dataclass(frozen=True)
class Submission:
    id: str
    iri: str
    kind: str
    status: SubmissionStatus
    title: str
    content: str
    submitted_by: str
    submitted_at: str
    client_key: str | None = None
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None

    def as_json(self, path: str, warnings: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        return {
            "warnings": list(warnings),
            "id": self.id,
            "iri": self.iri,
            "type": self.kind,
            "status": self.status.value,
            "title": self.title,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "reason": self.reason,
            "location": path,
        }


class SubmissionRefused(Exception):
    """Not accepted: `status` is the HTTP status that fits; `errors` are field-level problems."""

    def __init__(self, status: int, message: str, errors: Sequence[dict[str, Any]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors)


# -- the simple JSON schema --------------------------------------------------------------------

LANG_MAP = "lang-map"  # {"da": "...", "en": "..."}
LANG_LIST_MAP = "lang-list-map"  # {"da": ["...", ...]}
CONCEPTS = "concepts"
CONCEPT = "concept"
RECORDS = "records"
RECORD = "record"
TEXT = "text"
TEXTS = "texts"
IRI = "iri"
DATE = "date"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    property: str  # full IRI, or "amv:local" for the ontology namespace
    shape: str  # one of the value shapes above
    scheme: str = ""  # scheme slug for concept fields
    record_kind: RecordKind | None = None


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("title", DCT + "title", LANG_MAP),
    FieldSpec("description", DCT + "description", LANG_MAP),
    FieldSpec("factors", "amv:factor", CONCEPTS, "factors"),
    FieldSpec("industries", "amv:industry", CONCEPTS, "industries"),
    FieldSpec("audiences", "amv:audience", CONCEPTS, "audiences"),
    FieldSpec("knowledgeType", "amv:knowledgeType", CONCEPT, "knowledge-types"),
    FieldSpec("evidenceLevel", "amv:evidenceLevel", CONCEPT, "evidence-levels"),
    FieldSpec("certainty", "amv:certainty", CONCEPT, "certainty"),
    FieldSpec("actorTypes", "amv:actorType", CONCEPTS, "actor-types"),
    FieldSpec("eventType", "amv:eventType", CONCEPT, "event-types"),
    FieldSpec("regions", "amv:region", CONCEPTS, "regions"),
    FieldSpec("addresses", "amv:addresses", RECORDS, record_kind=RecordKind.problem),
    FieldSpec("solves", "amv:solves", RECORDS, record_kind=RecordKind.problem),
    FieldSpec("describesSolution", "amv:describesSolution", RECORDS, record_kind=RecordKind.solution),
    FieldSpec("publisher", DCT + "publisher", RECORD, record_kind=RecordKind.actor),
    FieldSpec("creators", DCT + "creator", RECORDS, record_kind=RecordKind.actor),
    FieldSpec("offeredBy", "amv:offeredBy", RECORDS, record_kind=RecordKind.actor),
    FieldSpec("organizers", SCHEMA + "organizer", RECORDS, record_kind=RecordKind.actor),
    FieldSpec("issued", DCT + "issued", DATE),
    FieldSpec("languages", DCT + "language", TEXTS),
    FieldSpec("url", SCHEMA + "url", IRI),
    FieldSpec("archivedCopy", "amv:archivedCopy", IRI),
    FieldSpec("license", DCT + "license", IRI),
    FieldSpec("source", DCT + "source", IRI),
    FieldSpec("citation", DCT + "bibliographicCitation", TEXT),
    FieldSpec("services", "amv:service", LANG_LIST_MAP),
    FieldSpec("altLabels", SKOS + "altLabel", TEXTS),
    FieldSpec("email", SCHEMA + "email", TEXT),
    FieldSpec("telephone", SCHEMA + "telephone", TEXT),
    FieldSpec("address", SCHEMA + "address", TEXT),
    FieldSpec("startDate", SCHEMA + "startDate", DATE),
    FieldSpec("endDate", SCHEMA + "endDate", DATE),
    FieldSpec("location", SCHEMA + "location", TEXT),
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _error(field_name: str, en: str, da: str) -> dict[str, Any]:
    return {"field": field_name, "messages": {"en": en, "da": da}, "rule": "json-schema"}


def property_iri(spec: FieldSpec, iris: Iris) -> NamedNode:
    return NamedNode(iris.amv + spec.property[4:] if spec.property.startswith("amv:") else spec.property)


def field_for_path(path: str | None, iris: Iris) -> str | None:
    """The JSON field name of a property IRI (to report shape violations against the user's fields)."""
    for spec in FIELDS:
        if path and property_iri(spec, iris).value == path:
            return spec.name
    return None


def record_from_json(data: Any, iris: Iris) -> Record:
    """Map the simple JSON schema to a record; every problem is reported, not only the first."""
    if not isinstance(data, dict):
        raise SubmissionRefused(422, "The body must be one JSON object describing one record.")
    errors: list[dict[str, Any]] = []
    kind_name = data.get("type")
    if not isinstance(kind_name, str) or kind_name not in RecordKind.__members__:
        raise SubmissionRefused(
            422,
            "Unknown record type.",
            [
                _error(
                    "type",
                    f"type must be one of {', '.join(RecordKind.__members__)}",
                    f"type skal være en af {', '.join(RecordKind.__members__)}",
                )
            ],
        )
    kind = RecordKind(kind_name)
    record_id = data.get("id") or mint_id()
    try:
        valid_id = isinstance(record_id, str) and iris.parse_record(iris.record(kind, record_id)) is not None
    except ValueError:  # not even part of an IRI (spaces, markup)
        valid_id = False
    if not valid_id:
        raise SubmissionRefused(
            422,
            "Invalid id.",
            [
                _error(
                    "id",
                    "id must be 8 characters of 0-9 and a-z without i, l, o, u",
                    "id skal være 8 tegn af 0-9 og a-z uden i, l, o, u",
                )
            ],
        )
    subject = iris.record(kind, record_id)
    triples = [Triple(subject, RDF_TYPE, iris.record_class(kind))]
    unknown = sorted(set(data) - set(FIELD_BY_NAME) - {"type", "id"})
    for name in unknown:
        errors.append(_error(name, f"unknown field {name!r}", f"ukendt felt {name!r}"))

    def concept(spec: FieldSpec, value: Any) -> NamedNode | None:
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return _iri(spec, value)
        if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,20}", value):
            # A bare code is read in the field's main scheme (DB07 for industries; branchegrupper by IRI).
            return iris.concept(spec.scheme, value)
        errors.append(
            _error(
                spec.name,
                f"{value!r} is not a code or IRI of a concept",
                f"{value!r} er ikke en kode eller IRI for et begreb",
            )
        )
        return None

    def record_ref(spec: FieldSpec, value: Any) -> NamedNode | None:
        assert spec.record_kind is not None
        if isinstance(value, str) and re.fullmatch(r"[0-9a-z]{8}", value):
            return iris.record(spec.record_kind, value)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return _iri(spec, value)
        errors.append(
            _error(spec.name, f"{value!r} is not a record id or IRI", f"{value!r} er ikke et post-id eller en IRI")
        )
        return None

    def _iri(spec: FieldSpec, value: str) -> NamedNode | None:
        try:
            return NamedNode(value)
        except ValueError:
            errors.append(_error(spec.name, f"{value!r} is not a valid IRI", f"{value!r} er ikke en gyldig IRI"))
            return None

    def text(spec: FieldSpec, value: Any, lang: str | None = None) -> Literal | None:
        if not isinstance(value, str):
            errors.append(_error(spec.name, "must be text", "skal være tekst"))
            return None
        return Literal(value, language=lang) if lang else Literal(value)

    def listed(spec: FieldSpec, value: Any) -> list[Any]:
        if isinstance(value, list):
            return value
        errors.append(_error(spec.name, "must be a list", "skal være en liste"))
        return []

    for name, value in data.items():
        spec = FIELD_BY_NAME.get(name)
        if spec is None:
            continue
        prop = property_iri(spec, iris)
        objects: list[NamedNode | Literal | None] = []
        if spec.shape in (LANG_MAP, LANG_LIST_MAP):
            if not isinstance(value, dict):
                errors.append(
                    _error(
                        name,
                        'must be an object by language, e.g. {"da": "..."}',
                        'skal være et objekt pr. sprog, fx {"da": "..."}',
                    )
                )
                continue
            for lang, texts in value.items():
                for item in texts if spec.shape == LANG_LIST_MAP and isinstance(texts, list) else [texts]:
                    objects.append(text(spec, item, lang if isinstance(lang, str) and lang else None))
        elif spec.shape == CONCEPTS:
            objects = [concept(spec, v) for v in listed(spec, value)]
        elif spec.shape == CONCEPT:
            objects = [concept(spec, value)]
        elif spec.shape == RECORDS:
            objects = [record_ref(spec, v) for v in listed(spec, value)]
        elif spec.shape == RECORD:
            objects = [record_ref(spec, value)]
        elif spec.shape == IRI:
            objects = [_iri(spec, value)] if isinstance(value, str) else [text(spec, value)]
        elif spec.shape == TEXT:
            objects = [text(spec, value)]
        elif spec.shape == TEXTS:
            objects = [text(spec, v) for v in listed(spec, value)]
        elif spec.shape == DATE:
            objects = [_date(spec, value, errors)]
        triples += [Triple(subject, prop, o) for o in objects if o is not None]
    if errors:
        raise SubmissionRefused(422, "The submission has errors; nothing was stored.", errors)
    return Record(subject, kind, triples)


def _date(spec: FieldSpec, value: Any, errors: list[dict[str, Any]]) -> Literal | None:
    if isinstance(value, str):
        if _DATETIME.match(value):
            return Literal(value, datatype=NamedNode(XSD + "dateTime"))
        if _DATE.match(value):
            return Literal(value, datatype=NamedNode(XSD + "date"))
        if _YEAR.match(value) and spec.name == "issued":
            return Literal(value, datatype=NamedNode(XSD + "gYear"))
    errors.append(
        _error(
            spec.name,
            "must be a date (YYYY-MM-DD) or date-time with time zone",
            "skal være en dato (ÅÅÅÅ-MM-DD) eller et tidspunkt med tidszone",
        )
    )
    return None


RDF_MEDIA_TYPES = {
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
}


def record_from_rdf(body: bytes, media_type: str, iris: Iris) -> Record:
    try:
        quads = parse_quads(body, RDF_MEDIA_TYPES[media_type], base_iri=iris.base, source="the request body")
    except RdfSyntaxError as exc:
        raise SubmissionRefused(400, str(exc)) from None
    records, problems = split_records((q.triple for q in quads), iris)
    if problems:
        raise SubmissionRefused(
            422, "The data does not describe one record.", [_violation_json(p, iris) for p in problems]
        )
    if len(records) != 1:
        raise SubmissionRefused(422, f"Send exactly one record per submission (found {len(records)}).")
    return records[0]


def _violation_json(violation: Violation, iris: Iris) -> dict[str, Any]:
    data = violation.as_json()
    data["field"] = field_for_path(violation.path, iris) or data.get("field")
    return data


def record_content(record: Record) -> str:
    """A record's triples as sorted N-Triples: how a submission keeps what it proposes."""
    return ox.serialize(sorted(record.triples, key=str), format=ox.RdfFormat.N_TRIPLES).decode()


@dataclass
class BatchSubmission:
    """What became of one record of `Submissions.submit_many`: its submission, or the errors (as in a 422)."""

    record: Record
    submission: Submission | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Submissions:
    """The workflow: submit → pending → approve (publish) or reject. Uses the ledger's database."""

    records: Records
    _db: sqlite3.Connection = field(init=False)

    def __post_init__(self) -> None:
        self._db = self.records.ledger.db  # one database: the decision and the publication commit together

    @property
    def iris(self) -> Iris:
        return self.records.iris

    def submit(
        self,
        record: Record,
        *,
        agent: str,
        client_key: str | None = None,
        may_revise: bool = False,
        allow_incomplete: bool = False,
        actor: str | None = None,
    ) -> tuple[Submission, bool]:
        """Validate and queue a record; returns (submission, created). A repeated client key returns
        the first submission (created False) when the content is the same, and 409 when it differs.

        A submission for a published record proposes a new version (the published one stays until
        approved); only the record's contributor may do so, someone acting for an `actor` the record belongs
        to (its profile, publisher, creator, provider or organiser), or anyone with `may_revise` (editors).
        `allow_incomplete` queues a record that breaks the shapes (harvested leads an editor completes,
        graph/harvest): it cannot be approved until an edit makes it valid, since approval validates again."""
        content = record_content(record)
        if client_key:
            known = self._by_client_key(agent, client_key)
            if known is not None:
                if known.content != content:
                    raise SubmissionRefused(409, "This idempotency key was used for a different submission.")
                return known, False
        entry = self.records.ledger.get(record.iri.value)
        if entry is not None and entry.status != RecordStatus.published:
            raise SubmissionRefused(
                409, f"{record.iri.value} exists and is {entry.status.value}; it cannot be resubmitted."
            )
        if (
            entry is not None
            and not may_revise
            and entry.submitted_by != agent
            and not self.belongs_to(record.iri, actor)
        ):
            raise SubmissionRefused(
                403,
                f"{record.iri.value} belongs to another actor; only its contributor, someone acting for its "
                "actor, or an editor may propose a new version.",
            )
        found = self.records.validate([record]).get(record.iri.value, [])
        errors = [_violation_json(v, self.iris) for v in found if v.is_violation]
        if errors and not allow_incomplete:
            raise SubmissionRefused(422, "The record breaks the rules; nothing was stored.", errors)
        submission = Submission(
            id=mint_id(),
            iri=record.iri.value,
            kind=record.kind.value,
            status=SubmissionStatus.pending,
            title=record.title(),
            content=content,
            submitted_by=agent,
            submitted_at=now(),
            client_key=client_key,
        )
        with self.records.ledger.transaction() as db:
            db.execute(
                """INSERT INTO submissions (id, iri, kind, status, title, content, submitted_by, submitted_at,
                                            client_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    submission.id,
                    submission.iri,
                    submission.kind,
                    submission.status.value,
                    submission.title,
                    submission.content,
                    agent,
                    submission.submitted_at,
                    client_key,
                ),
            )
            self.records.ledger.log(db, submission.iri, agent, "submitted", submission.id)
        return submission, True

    def submit_many(
        self,
        records: Sequence[Record],
        *,
        agent: str,
        may_revise: bool = False,
        within: Callable[[sqlite3.Connection, Sequence[Submission]], None] | None = None,
    ) -> list[BatchSubmission]:
        """Queue a batch (bulk import) under the rules of `submit`: validated in one call, every accepted
        submission written in ONE ledger transaction (with `within(db, accepted)`); the refused ones say why."""
        entries = self.records.ledger.get_many(r.iri.value for r in records)
        results = [BatchSubmission(record) for record in records]
        checked: list[BatchSubmission] = []
        for result in results:
            entry = entries.get(result.record.iri.value)
            if entry is not None and entry.status != RecordStatus.published:
                result.errors.append(
                    _error(
                        "id",
                        f"the record exists and is {entry.status.value}; it cannot be resubmitted",
                        f"posten findes og har status {entry.status.value}; den kan ikke indsendes igen",
                    )
                )
            elif entry is not None and not may_revise and entry.submitted_by != agent:
                result.errors.append(
                    _error(
                        "id",
                        "the record was contributed by someone else; only its contributor or an editor may "
                        "propose a new version",
                        "posten er indberettet af en anden; kun den, der indberettede den, eller en redaktør kan "
                        "foreslå en ny version",
                    )
                )
            else:
                checked.append(result)
        found = self.records.validate([r.record for r in checked])
        submitted_at = now()
        for result in checked:
            violations = found.get(result.record.iri.value, [])
            result.warnings = [_violation_json(v, self.iris) for v in violations if not v.is_violation]
            result.errors = [_violation_json(v, self.iris) for v in violations if v.is_violation]
            if not result.errors:
                record = result.record
                result.submission = Submission(
                    id=mint_id(),
                    iri=record.iri.value,
                    kind=record.kind.value,
                    status=SubmissionStatus.pending,
                    title=record.title(),
                    content=record_content(record),
                    submitted_by=agent,
                    submitted_at=submitted_at,
                )
        accepted = [r.submission for r in results if r.submission is not None]
        if accepted:
            with self.records.ledger.transaction() as db:
                db.executemany(
                    """INSERT INTO submissions (id, iri, kind, status, title, content, submitted_by, submitted_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                    [
                        (s.id, s.iri, s.kind, s.status.value, s.title, s.content, agent, s.submitted_at)
                        for s in accepted
                    ],
                )
                self.records.ledger.log_many(db, [(s.iri, agent, "submitted", s.id) for s in accepted])
                if within is not None:
                    within(db, accepted)
        return results

    def open_for(self, iri: str) -> bool:
        """Whether a submission for this record waits for review (pending or sent back)."""
        row = self.records.ledger.db.execute(
            "SELECT 1 FROM submissions WHERE iri = ? AND status IN (?, ?) LIMIT 1",
            (iri, SubmissionStatus.pending.value, SubmissionStatus.changes_requested.value),
        ).fetchone()
        return row is not None

    def belongs_to(self, record: NamedNode, actor: str | None) -> bool:
        """Whether the published record is the actor's profile or names the actor as one of its makers."""
        if not actor:
            return False
        return self.records.store.ask(self.records.queries("record-of-actor", record=record, actor=NamedNode(actor)))

    def possible_duplicates(self, record: Record) -> list[dict[str, Any]]:
        """Published records with the same web address or title: a warning, not a refusal."""
        url = next((t.object for t in record.triples if t.predicate.value == SCHEMA + "url"), None)
        titles = sorted(
            {
                t.object.value.strip().lower()
                for t in record.triples
                if t.predicate.value == DCT + "title" and isinstance(t.object, Literal)
            }
        )
        rows = self.records.store.select(
            self.records.queries(
                "possible-duplicates",
                recordClass=self.iris.record_class(record.kind),
                url=url if isinstance(url, NamedNode) else NamedNode("urn:amv:none"),
                titles=[Literal(t) for t in titles] or [Literal("")],
            )
        )
        return [
            {"iri": r["record"].value, "reason": r["reason"].value}
            for r in rows
            if r["record"].value != record.iri.value
        ]

    def get(self, submission_id: str) -> Submission | None:
        row = self._db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return None if row is None else _submission(row)

    def _by_client_key(self, agent: str, key: str) -> Submission | None:
        row = self._db.execute(
            "SELECT * FROM submissions WHERE submitted_by = ? AND client_key = ?", (agent, key)
        ).fetchone()
        return None if row is None else _submission(row)

    def by_submitter(self, agent: str, limit: int = 200) -> list[Submission]:
        """Everything one person or partner submitted, newest first, with its status."""
        rows = self._db.execute(
            "SELECT * FROM submissions WHERE submitted_by = ? ORDER BY submitted_at DESC, rowid DESC LIMIT ?",
            (agent, limit),
        )
        return [_submission(r) for r in rows]

    def queue(self, *, kind: str | None = None, limit: int = 100) -> list[Submission]:
        query = "SELECT * FROM submissions WHERE status = 'pending'"
        params: list[Any] = []
        if kind:
            query += " AND kind = ?"
            params.append(kind)
        rows = self._db.execute(query + " ORDER BY submitted_at LIMIT ?", (*params, limit))
        return [_submission(r) for r in rows]

    def approve(self, submission_id: str, *, editor: str) -> Submission:
        submission = self._pending(submission_id)
        triples = [q.triple for q in ox.parse(submission.content, format=ox.RdfFormat.N_TRIPLES)]
        kind = RecordKind(submission.kind)
        record = Record(NamedNode(submission.iri), kind, triples)
        # Re-validate: what it links to may have changed since it was submitted.
        problems = [v for v in self.records.validate([record]).get(record.iri.value, []) if v.is_violation]
        if problems:
            raise SubmissionRefused(
                422, "The submission no longer passes validation.", [_violation_json(v, self.iris) for v in problems]
            )
        decided = now()

        def mark(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE submissions SET status = 'approved', decided_by = ?, decided_at = ? WHERE id = ?",
                (editor, decided, submission_id),
            )
            self.records.ledger.log(db, submission.iri, editor, "approved", submission_id)

        self.records.publish(
            record,
            agent=editor,
            approved_by=editor,
            submitted_by=submission.submitted_by,
            source=f"submission {submission_id}",
            within=mark,
        )
        return self.get(submission_id)  # type: ignore[return-value]

    def reject(self, submission_id: str, *, editor: str, reason: str) -> Submission:
        if not reason.strip():
            raise SubmissionRefused(
                422,
                "Give a reason for the rejection.",
                [_error("reason", "a reason is required", "en begrundelse er påkrævet")],
            )
        self._pending(submission_id)
        with self.records.ledger.transaction() as db:
            db.execute(
                "UPDATE submissions SET status = 'rejected', decided_by = ?, decided_at = ?, reason = ? WHERE id = ?",
                (editor, now(), reason.strip(), submission_id),
            )
            submission = self.get(submission_id)
            assert submission is not None
            self.records.ledger.log(db, submission.iri, editor, "rejected", reason.strip())
        return self.get(submission_id)  # type: ignore[return-value]

    def _pending(self, submission_id: str) -> Submission:
        submission = self.get(submission_id)
        if submission is None:
            raise SubmissionRefused(404, f"No submission {submission_id}.")
        if submission.status != SubmissionStatus.pending:
            raise SubmissionRefused(409, f"Submission {submission_id} is {submission.status.value} already.")
        return submission


def _submission(row: sqlite3.Row) -> Submission:
    data = dict(row)
    data["status"] = SubmissionStatus(data["status"])
    return Submission(**data)
