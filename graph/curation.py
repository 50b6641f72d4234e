"""Curation: the editors' review queue, editing a submission, sending it back, and the history of it all.

Builds on `graph.submissions` (submit → pending → approve/reject). An editor — or the submitter, while the
submission is open (pending or changes requested) — may edit it: the new content is validated like any
submission and stored as a new *version*; every earlier version is kept. An editor may send a submission
back with comments (status `changes_requested`); the submitter edits it, which resubmits it (pending again).

Every step is written to the ledger's history of the record (who, when, what) and, with its comments, to
`submission_events`. The public sees a record's published/replaced/withdrawn events; the submitter and
editors see everything, including comments, on the submission's page.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import RDF_TYPE, Iris, RecordKind
from graph.ledger import now
from graph.records import Record
from graph.submissions import (
    CONCEPT,
    CONCEPTS,
    DATE,
    FIELDS,
    IRI,
    LANG_LIST_MAP,
    LANG_MAP,
    RECORD,
    RECORDS,
    TEXT,
    TEXTS,
    Submission,
    SubmissionRefused,
    Submissions,
    SubmissionStatus,
    _error,
    _submission,
    _violation_json,
    property_iri,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS submission_versions (
    submission_id TEXT NOT NULL,
    version       INTEGER NOT NULL,  -- 1 is what was first submitted
    title         TEXT NOT NULL,
    content       TEXT NOT NULL,     -- N-Triples of that version
    saved_by      TEXT NOT NULL,
    saved_at      TEXT NOT NULL,
    PRIMARY KEY (submission_id, version)
);
CREATE TABLE IF NOT EXISTS submission_events (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    submission_id TEXT NOT NULL,
    at            TEXT NOT NULL,
    agent         TEXT NOT NULL,
    action        TEXT NOT NULL,     -- edited | sent_back | resubmitted
    version       INTEGER,
    comment       TEXT               -- the editor's comments when sending back (never public)
);
CREATE INDEX IF NOT EXISTS submission_events_by_submission ON submission_events (submission_id, id);
"""

OPEN = (SubmissionStatus.pending, SubmissionStatus.changes_requested)
#: History actions anyone may see on a record's page (the rest are about submissions, for their
#: submitter and editors only).
PUBLIC_ACTIONS = frozenset({"created", "replaced", "withdrawn"})
MAX_COMMENT = 5000


@dataclass(frozen=True)
class Version:
    number: int
    title: str
    content: str
    saved_by: str
    saved_at: str


@dataclass(frozen=True)
class Event:
    """One step in the life of a record or a submission."""

    at: str
    agent: str
    action: str  # submitted | edited | sent_back | resubmitted | approved | rejected | created | replaced | withdrawn
    comment: str | None = None  # a send-back's comments, a rejection's or withdrawal's reason
    submission_id: str | None = None
    version: int | None = None

    def as_json(self, *, public: bool = False) -> dict[str, Any]:
        if public:
            return {"at": self.at, "action": self.action, "comment": self.comment}
        return {
            "at": self.at,
            "agent": self.agent,
            "action": self.action,
            "comment": self.comment,
            "submission": self.submission_id,
            "version": self.version,
        }


#: The largest "waiting more than N days" filter (about 270 years: any older date is out of range).
MAX_AGE_DAYS = 100_000


def _days_ago(days: int) -> str:
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days)
    return moment.isoformat().replace("+00:00", "Z")


class Curation:
    """The editors' side of submissions, and the history view of records; shares the ledger's database."""

    def __init__(self, submissions: Submissions) -> None:
        self.submissions = submissions
        self.ledger = submissions.records.ledger
        self.ledger.db.executescript(SCHEMA)

    @property
    def iris(self) -> Iris:
        return self.submissions.iris

    # -- the queue ---------------------------------------------------------------------------------

    def queue(
        self,
        *,
        kind: str | None = None,
        submitter: str | None = None,
        older_than_days: int | None = None,
        status: SubmissionStatus = SubmissionStatus.pending,
        limit: int = 200,
    ) -> list[Submission]:
        """Submissions with a status (pending by default), oldest first, optionally of one record type,
        by one submitter, or waiting longer than some days."""
        query = "SELECT * FROM submissions WHERE status = ?"
        params: list[Any] = [status.value]
        if kind:
            query += " AND kind = ?"
            params.append(kind)
        if submitter:
            query += " AND submitted_by = ?"
            params.append(submitter)
        if older_than_days is not None:
            query += " AND submitted_at <= ?"
            params.append(_days_ago(older_than_days))
        rows = self.ledger.db.execute(query + " ORDER BY submitted_at, rowid LIMIT ?", (*params, limit))
        return [_submission(r) for r in rows]

    def submitters(self, status: SubmissionStatus = SubmissionStatus.pending) -> list[str]:
        """Who has submissions with this status (for the queue's filter)."""
        rows = self.ledger.db.execute(
            "SELECT DISTINCT submitted_by FROM submissions WHERE status = ? ORDER BY submitted_by", (status.value,)
        )
        return [r[0] for r in rows]

    # -- reading one submission --------------------------------------------------------------------

    def get(self, submission_id: str) -> Submission:
        submission = self.submissions.get(submission_id)
        if submission is None:
            raise SubmissionRefused(404, f"No submission {submission_id}.")
        return submission

    def may_see(self, submission: Submission, agent: str, is_editor: bool) -> bool:
        return is_editor or submission.submitted_by == agent

    def record(self, submission: Submission) -> Record:
        triples = [q.triple for q in ox.parse(submission.content, format=ox.RdfFormat.N_TRIPLES)]
        return Record(NamedNode(submission.iri), RecordKind(submission.kind), triples)

    def versions(self, submission: Submission) -> list[Version]:
        """Every version, oldest first; a submission never edited has one (what was submitted)."""
        rows = self.ledger.db.execute(
            "SELECT version, title, content, saved_by, saved_at FROM submission_versions "
            "WHERE submission_id = ? ORDER BY version",
            (submission.id,),
        ).fetchall()
        if not rows:
            return [Version(1, submission.title, submission.content, submission.submitted_by, submission.submitted_at)]
        return [Version(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def events(self, submission: Submission) -> list[Event]:
        """The life of one submission, oldest first, with every comment."""
        found = [Event(submission.submitted_at, submission.submitted_by, "submitted", None, submission.id, 1)]
        rows = self.ledger.db.execute(
            "SELECT at, agent, action, version, comment FROM submission_events WHERE submission_id = ? ORDER BY id",
            (submission.id,),
        )
        found += [Event(r[0], r[1], r[2], r[4], submission.id, r[3]) for r in rows]
        if submission.status in (SubmissionStatus.approved, SubmissionStatus.rejected):
            assert submission.decided_at is not None and submission.decided_by is not None
            action = "approved" if submission.status == SubmissionStatus.approved else "rejected"
            found.append(Event(submission.decided_at, submission.decided_by, action, submission.reason, submission.id))
        return found

    def comments(self, submission: Submission) -> str | None:
        """The comments of the latest send-back, while the submission waits for the submitter's changes."""
        if submission.status != SubmissionStatus.changes_requested:
            return None
        row = self.ledger.db.execute(
            "SELECT comment FROM submission_events WHERE submission_id = ? AND action = 'sent_back' "
            "ORDER BY id DESC LIMIT 1",
            (submission.id,),
        ).fetchone()
        return row[0] if row else None

    def as_json(self, submission: Submission, path: str) -> dict[str, Any]:
        """The API's view of a submission: its status, the comments to act on, and its versions."""
        data = submission.as_json(path)
        data["comments"] = self.comments(submission)
        data["version"] = len(self.versions(submission))
        data["history"] = [e.as_json() for e in self.events(submission)]
        return data

    # -- the history of a record -------------------------------------------------------------------

    def history(self, iri: str, *, public: bool) -> list[Event]:
        """Every step in a record's life, oldest first. `public`: only publication and withdrawal, and no
        names (contributors' and editors' e-mail addresses are not published)."""
        # Comments per (submission, action), in the order the ledger's history has those steps.
        comments: dict[tuple[str, str], deque[str | None]] = defaultdict(deque)
        for sid, action, comment in self.ledger.db.execute(
            "SELECT e.submission_id, e.action, e.comment FROM submission_events e "
            "JOIN submissions s ON s.id = e.submission_id WHERE s.iri = ? ORDER BY e.id",
            (iri,),
        ):
            comments[(sid, action)].append(comment)
        found: list[Event] = []
        for entry in self.ledger.history(iri):
            submission_id: str | None = None
            comment: str | None = None
            if entry.action in ("submitted", "approved", "edited", "sent_back", "resubmitted"):
                submission_id = entry.detail
                waiting = comments.get((entry.detail or "", entry.action))
                comment = waiting.popleft() if waiting else None
            elif entry.action in ("rejected", "withdrawn"):
                comment = entry.detail
            if public and entry.action not in PUBLIC_ACTIONS:
                continue
            found.append(Event(entry.at, "" if public else entry.agent, entry.action, comment, submission_id))
        return found

    # -- changing a submission ---------------------------------------------------------------------

    def edit(self, submission_id: str, record: Record, *, agent: str, is_editor: bool) -> Submission:
        """Store `record` as the submission's new version, validated like a submission; the earlier ones
        are kept. The submitter editing a submission that was sent back resubmits it (pending again)."""
        submission = self.get(submission_id)
        if not self.may_see(submission, agent, is_editor):
            raise SubmissionRefused(403, "Only the submitter or an editor may edit this submission.")
        if submission.status not in OPEN:
            raise SubmissionRefused(
                409, f"Submission {submission_id} is {submission.status.value}; it cannot be edited any more."
            )
        if record.iri.value != submission.iri or record.kind.value != submission.kind:
            raise SubmissionRefused(
                422,
                "An edit must describe the same record.",
                [
                    _error(
                        "id",
                        f"the record must stay {submission.iri}",
                        f"posten skal fortsat være {submission.iri}",
                    )
                ],
            )
        found = self.submissions.records.validate([record]).get(record.iri.value, [])
        errors = [_violation_json(v, self.iris) for v in found if v.is_violation]
        if errors:
            raise SubmissionRefused(422, "The record breaks the rules; nothing was stored.", errors)
        content = ox.serialize(sorted(record.triples, key=str), format=ox.RdfFormat.N_TRIPLES).decode()
        by_submitter = submission.submitted_by == agent
        resubmit = by_submitter and submission.status == SubmissionStatus.changes_requested
        action = "resubmitted" if resubmit else "edited"
        at = now()
        with self.ledger.transaction() as db:
            current = _submission(db.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone())
            if current.status != submission.status:  # decided meanwhile
                raise SubmissionRefused(409, f"Submission {submission_id} is {current.status.value} now.")
            number = self._save_version(db, current, record.title(), content, agent, at)
            status = SubmissionStatus.pending if resubmit else current.status
            db.execute(
                "UPDATE submissions SET content = ?, title = ?, status = ? WHERE id = ?",
                (content, record.title(), status.value, current.id),
            )
            self._event(db, current, agent, action, at, version=number)
        return self.get(submission_id)

    def send_back(self, submission_id: str, *, editor: str, comments: str) -> Submission:
        """Return a pending submission to its submitter with comments on what to change."""
        comments = comments.strip()
        if not comments:
            raise SubmissionRefused(
                422,
                "Say what should be changed.",
                [_error("comments", "comments are required", "skriv hvad der skal rettes")],
            )
        if len(comments) > MAX_COMMENT:
            raise SubmissionRefused(
                422,
                "The comments are too long.",
                [
                    _error(
                        "comments",
                        f"at most {MAX_COMMENT} characters",
                        f"højst {MAX_COMMENT} tegn",
                    )
                ],
            )
        submission = self.get(submission_id)
        at = now()
        with self.ledger.transaction() as db:
            current = _submission(db.execute("SELECT * FROM submissions WHERE id = ?", (submission.id,)).fetchone())
            if current.status != SubmissionStatus.pending:
                raise SubmissionRefused(409, f"Submission {submission_id} is {current.status.value}, not pending.")
            db.execute(
                "UPDATE submissions SET status = ? WHERE id = ?",
                (SubmissionStatus.changes_requested.value, current.id),
            )
            self._event(db, current, editor, "sent_back", at, comment=comments)
        return self.get(submission_id)

    def _save_version(
        self, db: sqlite3.Connection, submission: Submission, title: str, content: str, agent: str, at: str
    ) -> int:
        (count,) = db.execute(
            "SELECT COUNT(*) FROM submission_versions WHERE submission_id = ?", (submission.id,)
        ).fetchone()
        if count == 0:  # the first edit: keep what was submitted as version 1
            db.execute(
                "INSERT INTO submission_versions VALUES (?, 1, ?, ?, ?, ?)",
                (submission.id, submission.title, submission.content, submission.submitted_by, submission.submitted_at),
            )
            count = 1
        db.execute(
            "INSERT INTO submission_versions VALUES (?, ?, ?, ?, ?, ?)",
            (submission.id, count + 1, title, content, agent, at),
        )
        return int(count) + 1

    def _event(
        self,
        db: sqlite3.Connection,
        submission: Submission,
        agent: str,
        action: str,
        at: str,
        *,
        version: int | None = None,
        comment: str | None = None,
    ) -> None:
        db.execute(
            "INSERT INTO submission_events (submission_id, at, agent, action, version, comment) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (submission.id, at, agent, action, version, comment),
        )
        # The record's history names the submission; the comments stay in submission_events (not public).
        self.ledger.log(db, submission.iri, agent, action, submission.id)


# -- the submission form, filled in with a submission ---------------------------------------------


def form_values(record: Record, iris: Iris) -> dict[str, list[str]]:
    """The form values (as `graph.forms.json_from_form` reads them) that stand for a record."""
    values: dict[str, list[str]] = {}
    by_property = {property_iri(spec, iris): spec for spec in FIELDS}
    for t in record.triples:
        spec = by_property.get(t.predicate) if t.subject == record.iri else None
        if spec is None:
            continue
        value = t.object.value
        if spec.shape in (LANG_MAP, LANG_LIST_MAP):
            lang = t.object.language if isinstance(t.object, Literal) and t.object.language else "da"
            key = f"{spec.name}.{lang}"
            if spec.shape == LANG_LIST_MAP and key in values:
                values[key] = [values[key][0] + "\n" + value]
            else:
                values[key] = [value]
        elif spec.shape in (CONCEPTS, RECORDS):
            values.setdefault(spec.name, []).append(value)
        elif spec.shape == TEXTS:
            values[spec.name] = [", ".join([*values.get(spec.name, []), value])]
        elif spec.shape in (CONCEPT, RECORD, DATE, IRI, TEXT):
            values[spec.name] = [value]
    return values


def kept_statements(record: Record, iris: Iris) -> list[Triple]:
    """What the form cannot show (statements of other properties, e.g. from a Turtle submission), so that
    an edit through the form keeps them rather than dropping them silently."""
    shown = {property_iri(spec, iris) for spec in FIELDS} | {RDF_TYPE}
    return [t for t in record.triples if not (t.subject == record.iri and t.predicate in shown)]


def with_kept(edited: Record, original: Record, iris: Iris) -> Record:
    return Record(edited.iri, edited.kind, [*edited.triples, *kept_statements(original, iris)])
