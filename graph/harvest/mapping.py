"""From a harvested entry to a record in the simple JSON schema of `graph.submissions`, with the concepts
suggested for it.

- **Kind**: an event when the entry is one (schema:Event and its kinds), else the source's kind.
- **Language**: the entry's own (`da`, `en-GB` → `en`); the title and description are tagged with it when
  it is Danish or English, else Danish when the text looks Danish (æ/ø/å or Danish function words) and
  English otherwise (the shapes allow titles in da and en only; `languages` keeps the entry's real code).
- **Item**: title, description (abstract), url (the DOI's address for scholarly works), issued (date or
  year), languages, publisher = the source's actor, citation (authors, year, title, journal — individual
  authors go in the citation, as the shapes say), license (an address), knowledge type, topics.
- **Event**: title, description, event type, start and end (a time without zone is read as Danish time),
  location (place and address, or "Online"), organisers = the source's actor, url, topics.
- **Knowledge type / event type**: from the entry's own type where it is plain (ScholarlyArticle,
  journal-article, OpenAlex `article` → Videnskabelig artikel; Report → Forskningsrapport; review →
  Systematisk review; Course → Undervisningsmateriale / Kursus …), else a type named in the title
  (e.g. "Webinar om …"), else the source's default. A guess: listed as a suggestion (reason `type`).
- **Topics** (factors, industries, audiences): labels found in title, description and keywords
  (`graph.harvest.tagging`), plus the concepts the source itself names (reason `source`).

The record id is derived from the entry's key, so the same entry always proposes the same record.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pyoxigraph import NamedNode

from graph.harvest.entry import HarvestedEntry, language_code
from graph.harvest.sources import HarvestSource, SourceType
from graph.harvest.tagging import TOPIC_FIELDS, Suggestion, Tagger
from graph.iris import ID_ALPHABET, ID_LENGTH, RecordKind
from graph.search.analysis import DANISH_STOP_WORDS, fold, words
from graph.search.thesaurus import Thesaurus

DANISH_TIME = ZoneInfo("Europe/Copenhagen")
MAX_TITLE = 500
MAX_DESCRIPTION = 10_000
_HTTP_IRI = re.compile(r"^https?://[^\s/?#<>\"{}|\\^`]+([/?#][^\s<>\"{}|\\^`]*)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

#: The entry's own type (lower case) → knowledge-type code, by what kind of source says it.
_SCHOLARLY_TYPES = {
    "article": "01",
    "journal-article": "01",
    "proceedings-article": "01",
    "preprint": "01",
    "posted-content": "01",
    "letter": "01",
    "review": "03",
    "report": "02",
    "report-component": "02",
    "dataset": "11",
}
_SCHEMA_TYPES = {
    "scholarlyarticle": "01",
    "report": "02",
    "course": "12",
    "learningresource": "12",
    "dataset": "11",
    "videoobject": "14",
    "podcastepisode": "14",
    "faqpage": "15",
}
#: Words in an OAI-PMH dc:type (often a vocabulary IRI or free text) → knowledge-type code.
_DC_TYPE_WORDS = (("review", "03"), ("article", "01"), ("artikel", "01"), ("report", "02"), ("rapport", "02"))
_EVENT_SCHEMA_TYPES = {"course": "08", "courseinstance": "08"}


@dataclass
class Proposal:
    """What the harvester will queue for one entry."""

    entry: HarvestedEntry
    kind: RecordKind
    data: dict[str, Any]
    suggestions: list[Suggestion] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.entry.title


def record_id(key: str) -> str:
    """A stable record id for an entry key (8 characters of our id alphabet)."""
    digest = hashlib.sha256(key.encode()).digest()
    return "".join(ID_ALPHABET[b % len(ID_ALPHABET)] for b in digest[:ID_LENGTH])


def looks_danish(text: str) -> bool:
    if re.search(r"[æøåÆØÅ]", text):
        return True
    tokens = [fold(w) for w in words(text)]
    return bool(tokens) and sum(t in DANISH_STOP_WORDS for t in tokens) / len(tokens) > 0.12


def http_iri(value: str | None) -> str | None:
    if not value or not _HTTP_IRI.match(value):
        return None
    try:
        NamedNode(value)
    except ValueError:
        return None
    return value


def event_time(value: str | None) -> str | None:
    """A date, or a date-time with a time zone (a time without one is read as Danish time)."""
    if not value:
        return None
    text = value.strip()
    if _DATE.match(text):
        return text
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=DANISH_TIME)
    return moment.replace(microsecond=0).isoformat()


def citation(entry: HarvestedEntry) -> str | None:
    if not entry.authors and not entry.container:
        return None
    authors = entry.authors[:10]
    names = "; ".join(authors) + ("; et al." if len(entry.authors) > 10 else "")
    year = f" ({entry.date[:4]})" if entry.date else ""
    parts = [f"{names}{year}." if names else (f"{year.strip()}." if year else ""), f"{entry.title.rstrip('.')}."]
    if entry.container:
        parts.append(f"{entry.container}.")
    if entry.doi:
        parts.append(f"https://doi.org/{entry.doi}")
    return " ".join(p for p in parts if p).strip()


class Mapper:
    """Maps the entries of one source (build once per run: it holds the taggers)."""

    def __init__(self, source: HarvestSource, thesaurus: Thesaurus) -> None:
        self.source = source
        self.thesaurus = thesaurus
        self.topics = Tagger(thesaurus)
        self.knowledge_types = Tagger(thesaurus, ["knowledge-types"])
        self.event_types = Tagger(thesaurus, ["event-types"])
        self.source_concepts = [thesaurus.concepts[c] for c in source.concepts if c in thesaurus.concepts]
        self._types = {
            (c.scheme, c.notation): c
            for c in thesaurus.concepts.values()
            if c.scheme in ("knowledge-types", "event-types") and not c.deprecated
        }

    def _type_guess(self, entry: HarvestedEntry, kind: RecordKind) -> tuple[str | None, str]:
        """(code, what it was read from) of the knowledge type or event type."""
        lowered = [t.lower() for t in entry.types]
        if kind == RecordKind.event:
            code = next((_EVENT_SCHEMA_TYPES[t] for t in lowered if t in _EVENT_SCHEMA_TYPES), None)
            scheme, tagger = "event-types", self.event_types
        else:
            scheme, tagger = "knowledge-types", self.knowledge_types
            if self.source.type in (SourceType.openalex, SourceType.crossref):
                code = next((_SCHOLARLY_TYPES[t] for t in lowered if t in _SCHOLARLY_TYPES), None)
            elif self.source.type == SourceType.oai_pmh:
                code = next((c for t in lowered for w, c in _DC_TYPE_WORDS if w in t), None)
            else:
                code = next((_SCHEMA_TYPES[t] for t in lowered if t in _SCHEMA_TYPES), None)
        if code:
            return code, "/".join(entry.types)
        named = tagger.find(entry.title)
        if named:
            iri, matched = named[0]
            return self.thesaurus.concepts[iri].notation, matched
        if self.source.default_type and (scheme, self.source.default_type) in self._types:
            return self.source.default_type, ""
        return None, ""

    def propose(self, entry: HarvestedEntry) -> Proposal:
        kind = entry.kind or self.source.kind
        given = language_code(entry.language)
        text_language = given if given in ("da", "en") else ("da" if looks_danish(entry.title) else "en")
        data: dict[str, Any] = {
            "type": kind.value,
            "id": record_id(entry.key),
            "title": {text_language: entry.title[:MAX_TITLE]},
        }
        proposal = Proposal(entry, kind, data)
        if entry.description:
            data["description"] = {text_language: entry.description[:MAX_DESCRIPTION]}
        url = http_iri(entry.url)
        if entry.url and not url:
            proposal.notes.append(f"the address {entry.url!r} is not a web address we can store")
        if url:
            data["url"] = url
        code, read_from = self._type_guess(entry, kind)
        scheme, type_field = (
            ("event-types", "eventType") if kind == RecordKind.event else ("knowledge-types", "knowledgeType")
        )
        concept = self._types.get((scheme, code or ""))
        if concept is not None:
            data[type_field] = concept.notation
            proposal.suggestions.append(
                Suggestion(type_field, concept.iri, concept.notation, concept.label("da"), read_from, "type")
            )
        if kind == RecordKind.event:
            self._event_fields(entry, data)
        else:
            self._item_fields(entry, data, given or text_language)
        self._topics(entry, data, proposal)
        return proposal

    def _item_fields(self, entry: HarvestedEntry, data: dict[str, Any], language: str) -> None:
        if entry.date:
            data["issued"] = entry.date
        data["languages"] = [language]
        if self.source.actor:
            data["publisher"] = self.source.actor
        text = citation(entry)
        if text:
            data["citation"] = text
        license_iri = http_iri(entry.license)
        if license_iri:
            data["license"] = license_iri

    def _event_fields(self, entry: HarvestedEntry, data: dict[str, Any]) -> None:
        start, end = event_time(entry.start), event_time(entry.end)
        if start:
            data["startDate"] = start
        if end:
            data["endDate"] = end
        if entry.location:
            data["location"] = entry.location[:500]
        if self.source.actor:
            data["organizers"] = [self.source.actor]

    def _topics(self, entry: HarvestedEntry, data: dict[str, Any], proposal: Proposal) -> None:
        found = self.topics.suggest(entry.title, entry.description, *entry.keywords)
        seen = {s.concept for s in found}
        for concept in self.source_concepts:
            field_name = TOPIC_FIELDS.get(concept.scheme)
            if field_name and concept.iri not in seen:
                found.append(Suggestion(field_name, concept.iri, concept.notation, concept.label("da"), "", "source"))
                seen.add(concept.iri)
        for suggestion in found:
            data.setdefault(suggestion.field, []).append(suggestion.concept)
        proposal.suggestions += found
