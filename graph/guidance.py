"""Guidance requests ("Spørg centeret"): anyone describes the knowledge they are looking for; editors
handle the requests in an inbox, answer by e-mail with links to records, and can publish a good answer
as an FAQ entry.

- A request keeps what the person wrote, optional contact details (e-mail, organisation, role as an
  audience concept, industry as a DB07 concept) and the searches they had already tried on the site.
  It has a status (new → assigned → answered → closed), an assigned editor and a log of notes, status
  changes, assignments, answers and FAQ entries (tables `guidance_requests` and `guidance_events` in the
  ledger database: requests are not public, so they never go to the store).
- An answer is sent through graph.mail and stored with the records it links to.
- **FAQ entries in the data model**: an FAQ entry is an ordinary knowledge item (`amv:KnowledgeItem`)
  with the knowledge type "Spørgsmål og svar" (vocabularies/knowledge-types.ttl, code 15): its title is
  the question, its description the answer; it is tagged with the factors (and industries) it is about
  and linked to the problems (`amv:addresses`) and solutions (`amv:describesSolution`) the answer
  points to; other records it points to are named with their address in the answer text, as an item
  cannot link to an item. It is validated and published through `Records.publish`, so it is on pages,
  in search, feeds and alerts like any other item, and its ledger source names the request.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from graph.accounts import EMAIL, Principal, Role
from graph.coverage import FilterError, filter_concepts
from graph.facets import iris as fact_iris
from graph.facets import record_facts
from graph.iris import DCT, RDF_TYPE, RecordKind, mint_id
from graph.ledger import RecordStatus, now
from graph.mail import Mail, Mailer, render, translator
from graph.ratelimit import Limit, RateLimiter
from graph.records import Record
from graph.services import Services
from graph.sqlite import connect, ensure_schema, transaction
from graph.views import Ref, Site

FAQ_TYPE_CODE = "15"  # "Spørgsmål og svar" in vocabularies/knowledge-types.ttl
MAX_DESCRIPTION = 5000
MIN_DESCRIPTION = 10
MAX_FIELD = 200
MAX_SEARCHES = 10
MAX_ANSWER = 20_000
MAX_RECORDS = 30
SUBMIT_LIMITS = {"ip": Limit(5, 3600)}

SCHEMA = """
CREATE TABLE IF NOT EXISTS guidance_requests (
    id           TEXT PRIMARY KEY,   -- short reference, shown to the person who asked
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL,
    description  TEXT NOT NULL,
    email        TEXT,
    organisation TEXT,
    role         TEXT,               -- an audience concept IRI
    industry     TEXT,               -- an industry concept IRI
    searches     TEXT NOT NULL,      -- JSON list of the searches tried before asking
    lang         TEXT NOT NULL,
    status       TEXT NOT NULL,      -- new | assigned | answered | closed
    assignee     TEXT                -- the e-mail of the editor it is assigned to
);
CREATE INDEX IF NOT EXISTS guidance_requests_status ON guidance_requests (status, created);
CREATE TABLE IF NOT EXISTS guidance_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    request  TEXT NOT NULL,
    at       TEXT NOT NULL,
    author   TEXT NOT NULL,          -- the editor's agent (user:<email>)
    kind     TEXT NOT NULL,          -- note | status | assigned | answer | faq
    text     TEXT NOT NULL,
    data     TEXT                    -- JSON: an answer's subject, records and Message-ID; an FAQ entry's IRI
);
CREATE INDEX IF NOT EXISTS guidance_events_request ON guidance_events (request, id);
"""

_SEPARATORS = re.compile(r"[\s,;]+")


class RequestStatus(StrEnum):
    new = "new"
    assigned = "assigned"
    answered = "answered"
    closed = "closed"


class GuidanceRefused(ValueError):
    """Bad input: which field and why, in Danish and English (HTTP 422, or `status`)."""

    def __init__(self, field_name: str, messages: dict[str, str], status: int = 422) -> None:
        super().__init__(messages["en"])
        self.field = field_name
        self.messages = messages
        self.status = status


@dataclass(frozen=True)
class GuidanceRequest:
    id: str
    created: str
    updated: str
    description: str
    email: str
    organisation: str
    role: str
    industry: str
    searches: list[str]
    lang: str
    status: RequestStatus
    assignee: str

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> GuidanceRequest:
        return cls(
            id=row["id"],
            created=row["created"],
            updated=row["updated"],
            description=row["description"],
            email=row["email"] or "",
            organisation=row["organisation"] or "",
            role=row["role"] or "",
            industry=row["industry"] or "",
            searches=list(json.loads(row["searches"])),
            lang=row["lang"],
            status=RequestStatus(row["status"]),
            assignee=row["assignee"] or "",
        )

    @property
    def summary(self) -> str:
        text = " ".join(self.description.split())
        return text if len(text) <= 120 else text[:120].rsplit(" ", 1)[0] + " …"


@dataclass(frozen=True)
class RequestEvent:
    at: str
    author: str
    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


def _clean(text: str, limit: int = MAX_FIELD) -> str:
    return " ".join(text.split())[:limit]


def _refused(field_name: str, da: str, en: str, status: int = 422) -> GuidanceRefused:
    return GuidanceRefused(field_name, {"da": da, "en": en}, status)


def search_list(values: Sequence[str]) -> list[str]:
    """The searches a form sent (one per line or one per field), trimmed, without repeats, the newest last."""
    found: list[str] = []
    for value in values:
        for line in value.splitlines():
            text = _clean(line)
            if text and text not in found:
                found.append(text)
    return found[-MAX_SEARCHES:]


MAIL_TEXT: dict[str, dict[str, str]] = {
    "answer.subject": {"da": "Svar fra Arbejdsmiljøviden", "en": "An answer from Arbejdsmiljøviden"},
    "answer.records": {"da": "Viden, der kan hjælpe dig", "en": "Knowledge that can help you"},
    "answer.question": {"da": "Dit spørgsmål", "en": "Your question"},
    "answer.reference": {"da": "Reference", "en": "Reference"},
    "answer.footer": {
        "da": "Du får denne e-mail, fordi du har stillet et spørgsmål via «Spørg centeret» på Arbejdsmiljøviden.",
        "en": "You receive this e-mail because you asked a question through “Ask us” on Arbejdsmiljøviden.",
    },
}


class Guidance:
    """The data-manager layer of guidance requests (`Guidance(services)`; cheap to create)."""

    def __init__(self, services: Services, mailer: Mailer | None = None) -> None:
        self.services = services
        self.site = Site(services)
        self.path = services.settings.ledger_path
        self.mailer = mailer or Mailer(services.settings)
        ensure_schema(self.path, SCHEMA)
        self.limiter = RateLimiter(self.path, "guidance")

    # -- asking ----------------------------------------------------------------------------

    def _concept(self, slug: str, value: str, field_name: str) -> str:
        """The IRI of a concept of scheme `slug` named by its code, path or IRI ("" for no value)."""
        value = value.strip()
        if not value:
            return ""
        concept = self.services.search.thesaurus.resolve(value if "/" in value else f"{slug}/{value}")
        if concept is None or concept.scheme != slug:
            raise _refused(field_name, "Vælg en værdi fra listen.", "Choose a value from the list.")
        return concept.iri

    def submit(
        self,
        *,
        description: str,
        email: str = "",
        organisation: str = "",
        role: str = "",
        industry: str = "",
        searches: Sequence[str] = (),
        lang: str = "da",
        client: str = "",
    ) -> GuidanceRequest:
        text = description.strip()[: MAX_DESCRIPTION + 1]
        if len(text) < MIN_DESCRIPTION:
            raise _refused(
                "description",
                f"Beskriv med mindst {MIN_DESCRIPTION} tegn, hvilken viden du leder efter.",
                f"Describe in at least {MIN_DESCRIPTION} characters what knowledge you are looking for.",
            )
        if len(text) > MAX_DESCRIPTION:
            raise _refused(
                "description",
                f"Beskrivelsen må højst være {MAX_DESCRIPTION} tegn.",
                f"The description can be at most {MAX_DESCRIPTION} characters.",
            )
        address = email.strip().lower()
        if address and (len(address) > 254 or not EMAIL.match(address)):
            raise _refused(
                "email",
                "E-mailadressen ser ikke rigtig ud (fx navn@eksempel.dk).",
                "The e-mail address does not look right (e.g. name@example.org).",
            )
        role_iri = self._concept("audiences", role, "role")
        industry_iri = self._concept("industries", industry, "industry")
        self.limiter.hit({f"ip:{client}": SUBMIT_LIMITS["ip"]})
        request_id = secrets.token_hex(4)
        moment = now()
        with connect(self.path) as db:
            db.execute(
                "INSERT INTO guidance_requests (id, created, updated, description, email, organisation, role, "
                "industry, searches, lang, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new')",
                (
                    request_id,
                    moment,
                    moment,
                    text,
                    address or None,
                    _clean(organisation) or None,
                    role_iri or None,
                    industry_iri or None,
                    json.dumps(search_list(searches), ensure_ascii=False),
                    lang if lang in ("da", "en") else "da",
                ),
            )
        found = self.get(request_id)
        assert found is not None
        return found

    # -- the inbox -------------------------------------------------------------------------

    def get(self, request_id: str) -> GuidanceRequest | None:
        with connect(self.path) as db:
            row = db.execute("SELECT * FROM guidance_requests WHERE id = ?", (request_id,)).fetchone()
        return GuidanceRequest.from_row(row) if row else None

    def inbox(self, status: str = "", assignee: str = "") -> list[GuidanceRequest]:
        """Requests, open ones first (new, assigned, answered, closed), the newest first within each status."""
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if assignee:
            clauses.append("assignee = ?")
            params.append(assignee)
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        order = "CASE status WHEN 'new' THEN 0 WHEN 'assigned' THEN 1 WHEN 'answered' THEN 2 ELSE 3 END"
        with connect(self.path) as db:
            rows = db.execute(
                f"SELECT * FROM guidance_requests {where} ORDER BY {order}, created DESC, id", params
            ).fetchall()
        return [GuidanceRequest.from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        with connect(self.path) as db:
            rows = db.execute("SELECT status, COUNT(*) AS n FROM guidance_requests GROUP BY status").fetchall()
        found = {s.value: 0 for s in RequestStatus}
        found.update({r["status"]: r["n"] for r in rows})
        return found

    def events(self, request_id: str) -> list[RequestEvent]:
        with connect(self.path) as db:
            rows = db.execute(
                "SELECT at, author, kind, text, data FROM guidance_events WHERE request = ? ORDER BY id", (request_id,)
            ).fetchall()
        return [RequestEvent(r["at"], r["author"], r["kind"], r["text"], json.loads(r["data"] or "{}")) for r in rows]

    def latest_answer(self, request_id: str) -> RequestEvent | None:
        answers = [e for e in self.events(request_id) if e.kind == "answer"]
        return answers[-1] if answers else None

    def _log(
        self, db: sqlite3.Connection, request_id: str, editor: Principal, kind: str, text: str, data: Any = None
    ) -> None:
        db.execute(
            "INSERT INTO guidance_events (request, at, author, kind, text, data) VALUES (?, ?, ?, ?, ?, ?)",
            (request_id, now(), editor.agent, kind, text, json.dumps(data, ensure_ascii=False) if data else None),
        )

    def _require(self, request_id: str) -> GuidanceRequest:
        found = self.get(request_id)
        if found is None:
            raise _refused("request", "Forespørgslen findes ikke.", "There is no such request.", status=404)
        return found

    def update(
        self, request_id: str, editor: Principal, *, status: str = "", assignee: str | None = None, note: str = ""
    ) -> GuidanceRequest:
        """Change the status, assign (an editor's e-mail; "" to unassign) and/or add a note, as one change."""
        current = self._require(request_id)
        if status and status not in RequestStatus.__members__:
            raise _refused("status", "Ukendt status.", "Unknown status.")
        editors = {p.id for p in self.services.accounts.people()}
        if assignee and assignee not in editors:
            raise _refused("assignee", "Vælg en redaktør fra listen.", "Choose an editor from the list.")
        note = note.strip()[:MAX_ANSWER]
        new_status = status or current.status.value
        if assignee and not status and current.status == RequestStatus.new:
            new_status = RequestStatus.assigned.value  # assigning a new request starts work on it
        with connect(self.path) as db, transaction(db):
            if assignee is not None and assignee != current.assignee:
                db.execute("UPDATE guidance_requests SET assignee = ? WHERE id = ?", (assignee or None, request_id))
                self._log(db, request_id, editor, "assigned", assignee)
            if new_status != current.status.value:
                db.execute("UPDATE guidance_requests SET status = ? WHERE id = ?", (new_status, request_id))
                self._log(db, request_id, editor, "status", new_status)
            if note:
                self._log(db, request_id, editor, "note", note)
            db.execute("UPDATE guidance_requests SET updated = ? WHERE id = ?", (now(), request_id))
        return self._require(request_id)

    # -- linking records -------------------------------------------------------------------

    def records(self, values: Sequence[str]) -> list[Ref]:
        """The published records named by IRIs, site paths (`/id/item/…`) or `kind/id` (one per line or field),
        in the order given; GuidanceRefused for one that is not a published record."""
        iris = self.site.iris
        wanted: list[str] = []
        for value in values:
            for token in _SEPARATORS.split(value.strip()):
                if not token:
                    continue
                candidate = token
                if token.startswith("/id/"):
                    candidate = iris.base + token[1:]
                elif token.startswith("id/") or re.match(r"^(item|problem|solution|actor|event)/", token):
                    candidate = iris.base + ("" if token.startswith("id/") else "id/") + token
                elif not token.startswith(("http://", "https://")) and "/" in token:
                    candidate = ""
                entry = self.services.ledger.get(candidate) if candidate else None
                if entry is None or entry.status != RecordStatus.published:
                    shown = token if len(token) <= 80 else token[:77] + "…"
                    raise _refused(
                        "records",
                        f"«{shown}» er ikke en offentliggjort post i Arbejdsmiljøviden.",
                        f"“{shown}” is not a published record in Arbejdsmiljøviden.",
                    )
                if candidate not in wanted:
                    wanted.append(candidate)
        if len(wanted) > MAX_RECORDS:
            raise _refused("records", f"Højst {MAX_RECORDS} poster.", f"At most {MAX_RECORDS} records.")
        names = self.site.names(wanted)
        return [self.site.ref(i, names.get(i, {})) for i in wanted]

    # -- answering -------------------------------------------------------------------------

    def answer(
        self, request_id: str, editor: Principal, *, body: str, records: Sequence[str] = (), subject: str = ""
    ) -> str:
        """E-mail the answer with links to records; store it and mark the request answered. Returns the
        Message-ID. Raises GuidanceRefused for bad input (or a request without an e-mail address) and
        MailError when the mail could not be sent (then nothing changes)."""
        request = self._require(request_id)
        if not request.email:
            raise _refused(
                "email",
                "Spørgeren har ikke givet en e-mailadresse; svaret kan ikke sendes.",
                "The person gave no e-mail address; the answer cannot be sent.",
            )
        text = body.strip()
        if not text:
            raise _refused("body", "Skriv et svar.", "Write an answer.")
        if len(text) > MAX_ANSWER:
            raise _refused("body", f"Svaret må højst være {MAX_ANSWER} tegn.", f"At most {MAX_ANSWER} characters.")
        refs = self.records(records)
        lang = request.lang
        t = translator(MAIL_TEXT, lang)
        settings = self.services.settings
        links = [
            (ref.label(lang), settings.public_url + ref.path + ("" if lang == "da" else "?lang=en")) for ref in refs
        ]
        subject = _clean(subject) or f"{t('answer.subject')} ({request.id})"
        text_body, html_body = render(
            "guidance_answer",
            {
                "t": t,
                "lang": lang,
                "paragraphs": [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()],
                "body": text,
                "links": links,
                "question": request.description,
                "reference": request.id,
            },
        )
        message_id = self.mailer.send(Mail(request.email, subject, text_body, html_body, lang))
        with connect(self.path) as db, transaction(db):
            self._log(
                db,
                request_id,
                editor,
                "answer",
                text,
                {"subject": subject, "records": [r.iri for r in refs], "message_id": message_id},
            )
            if request.status != RequestStatus.answered:
                db.execute("UPDATE guidance_requests SET status = 'answered' WHERE id = ?", (request_id,))
                self._log(db, request_id, editor, "status", RequestStatus.answered.value)
            db.execute("UPDATE guidance_requests SET updated = ? WHERE id = ?", (now(), request_id))
        return message_id

    # -- FAQ entries -----------------------------------------------------------------------

    def faq_record(
        self,
        *,
        question: Mapping[str, str],
        answer: Mapping[str, str],
        factors: Sequence[str],
        industries: Sequence[str] = (),
        records: Sequence[str] = (),
    ) -> Record:
        """The knowledge item of an FAQ entry (not yet validated)."""
        iris = self.site.iris
        questions = {lang: " ".join(text.split()) for lang, text in question.items() if text.strip()}
        answers = {lang: text.strip() for lang, text in answer.items() if text.strip()}
        if not questions.get("da") and not questions.get("en"):
            raise _refused("question", "Skriv spørgsmålet.", "Write the question.")
        if not answers:
            raise _refused("answer", "Skriv svaret.", "Write the answer.")
        codes = {
            "factor": [c for v in factors for c in _SEPARATORS.split(v.strip()) if c],
            "industry": [c for v in industries for c in _SEPARATORS.split(v.strip()) if c],
        }
        if not codes["factor"]:
            raise _refused(
                "factors",
                "Angiv mindst én arbejdsmiljøfaktor, som svaret handler om (fx 5.1).",
                "Give at least one work-environment factor the answer is about (e.g. 5.1).",
            )
        try:
            concepts = filter_concepts(self.site, codes)
        except FilterError as error:
            raise GuidanceRefused("factors" if error.param == "factor" else "industries", error.messages) from None
        refs = self.records(records)
        subject = iris.record(RecordKind.item, mint_id())
        amv = iris.amv
        # Problems and solutions are linked by property; anything else is named in the answer text.
        others = [r for r in refs if not r.iri.startswith((iris.base + "id/problem/", iris.base + "id/solution/"))]
        triples = [
            Triple(subject, RDF_TYPE, iris.record_class(RecordKind.item)),
            Triple(subject, NamedNode(amv + "knowledgeType"), iris.concept("knowledge-types", FAQ_TYPE_CODE)),
        ]
        triples += [
            Triple(subject, NamedNode(DCT + "title"), Literal(q, language=lang)) for lang, q in questions.items()
        ]
        for lang, text in answers.items():
            if others:
                heading = "Se også" if lang == "da" else "See also"
                text += "\n\n" + heading + ":\n" + "\n".join(f"- {r.label(lang)}: {r.iri}" for r in others)
            triples.append(Triple(subject, NamedNode(DCT + "description"), Literal(text, language=lang)))
        triples += [Triple(subject, NamedNode(amv + "factor"), c) for c in concepts.get("factor", [])]
        triples += [Triple(subject, NamedNode(amv + "industry"), c) for c in concepts.get("industry", [])]
        for ref in refs:
            if ref.iri.startswith(iris.base + "id/problem/"):
                triples.append(Triple(subject, NamedNode(amv + "addresses"), NamedNode(ref.iri)))
            elif ref.iri.startswith(iris.base + "id/solution/"):
                triples.append(Triple(subject, NamedNode(amv + "describesSolution"), NamedNode(ref.iri)))
        triples += [Triple(subject, NamedNode(DCT + "language"), Literal(lang)) for lang in sorted(answers)]
        return Record(subject, RecordKind.item, triples)

    def publish_faq(
        self,
        request_id: str,
        editor: Principal,
        *,
        question: Mapping[str, str],
        answer: Mapping[str, str],
        factors: Sequence[str],
        industries: Sequence[str] = (),
        records: Sequence[str] = (),
    ) -> str:
        """Validate and publish an FAQ entry made from a request's answer; returns its IRI."""
        self._require(request_id)
        record = self.faq_record(
            question=question, answer=answer, factors=factors, industries=industries, records=records
        )
        records_ = self.services.records
        violations = [v for v in records_.validate([record]).get(record.iri.value, []) if v.is_violation]
        if violations:
            raise GuidanceRefused(
                "faq",
                {
                    "da": " ".join(v.messages.get("da", "") for v in violations),
                    "en": " ".join(v.messages.get("en", "") for v in violations),
                },
            )
        records_.publish(record, agent=editor.agent, source=f"guidance-request:{request_id}")
        with connect(self.path) as db:
            self._log(db, request_id, editor, "faq", record.title("da"), {"iri": record.iri.value})
            db.execute("UPDATE guidance_requests SET updated = ? WHERE id = ?", (now(), request_id))
        return record.iri.value

    def faq_defaults(self, request: GuidanceRequest) -> dict[str, str]:
        """What the FAQ form starts with: the question, the latest answer, the factors and industries of the
        records that answer linked to (as codes) and the request's industry."""
        latest = self.latest_answer(request.id)
        records = list(latest.data.get("records", [])) if latest else []
        factors: list[str] = []
        industries: list[str] = [request.industry] if request.industry else []
        if records:
            amv = self.site.iris.amv
            facts = record_facts(self.site, records, [amv + "factor", amv + "industry"])
            for f in facts.values():
                factors += fact_iris(f, amv + "factor")
                industries += fact_iris(f, amv + "industry")

        def codes(values: list[str], slug: str) -> str:
            prefix = self.site.iris.concept(slug, "").value
            unique = list(dict.fromkeys(values))
            return " ".join(v[len(prefix) :] if v.startswith(prefix) else v for v in unique)

        return {
            "question": request.description if len(request.description) <= 300 else "",
            "answer": latest.text if latest else "",
            "factors": codes(factors, "factors"),
            "industries": codes(industries, "industries"),
            "records": "\n".join(records),
        }

    def editors(self) -> list[Principal]:
        return self.services.accounts.people(Role.editor)


@dataclass(frozen=True)
class Option:
    value: str  # the code sent by the form
    labels: dict[str, str]

    def label(self, lang: str) -> str:
        return self.labels.get(lang) or self.labels.get("da") or self.value


def ask_options(services: Services) -> tuple[list[Option], list[Option]]:
    """The choices of the "Spørg centeret" form: roles (the audiences scheme) and industries (DB07 sections)."""
    thesaurus = services.search.thesaurus
    roles = thesaurus.ordered(c for c in thesaurus.concepts.values() if c.scheme == "audiences")
    industries = [c for c in thesaurus.roots(("industries",)) if c.notation.isalpha()]
    return (
        [Option(c.key.split("/", 1)[1], dict(c.pref)) for c in roles],
        [Option(c.key.split("/", 1)[1], dict(c.pref)) for c in industries],
    )


def concept_labels(services: Services, iri: str) -> dict[str, str]:
    concept = services.search.thesaurus.concepts.get(iri) if iri else None
    return dict(concept.pref) if concept else {}
