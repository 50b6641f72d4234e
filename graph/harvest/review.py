"""What the review queue shows about a harvested submission: where it came from, the concepts the harvester
suggested (to confirm by approving, or to remove by editing), and what must be completed before it can be
approved (the shapes' current complaints about it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from graph.submissions import Submission

if TYPE_CHECKING:
    from graph.services import Services


@dataclass(frozen=True)
class SuggestedConcept:
    field: str
    concept: str
    code: str
    label: str
    matched: str
    reason: str  # text | source | type
    #: Still in the submission (an editor's edit may have taken it out).
    present: bool


@dataclass
class HarvestNote:
    source: str
    key: str
    suggestions: list[SuggestedConcept] = field(default_factory=list)
    #: Messages (by language) of what blocks approval now.
    problems: list[dict[str, str]] = field(default_factory=list)


def harvest_notes(services: Services, submissions: Sequence[Submission]) -> dict[str, HarvestNote]:
    """Submission id → its note, for the submissions that came from harvesting."""
    entries = services.harvest.for_submissions(s.id for s in submissions)
    if not entries:
        return {}
    wanted = [s for s in submissions if s.id in entries]
    records = {s.id: services.curation.record(s) for s in wanted}
    found = services.records.validate(list(records.values())) if records else {}
    notes = {}
    for submission in wanted:
        entry = entries[submission.id]
        record = records[submission.id]
        objects = {t.object.value for t in record.triples}
        note = HarvestNote(entry.source, entry.key)
        note.suggestions = [
            SuggestedConcept(
                s["field"], s["concept"], s["code"], s["label"], s["matched"], s["reason"], s["concept"] in objects
            )
            for s in entry.suggestions
        ]
        note.problems = [v.messages for v in found.get(record.iri.value, []) if v.is_violation]
        notes[submission.id] = note
    return notes
