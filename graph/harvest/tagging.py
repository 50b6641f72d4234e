"""Suggested concepts for a harvested entry: thesaurus labels found in its title, description and keywords.

The matching is the search's own (`Thesaurus.understand`): preferred, alternative and hidden labels in
Danish and English, word by word (so "støj" is not found inside "støjbeskyttelse" by accident, but the
label "støjbelastning" is), case-insensitive, æ/ø/å folded (ae/oe/aa match too), stemmed in each label's
language, and at each place in the text the longest label wins ("impulsstøj" over "støj"). There is no
fuzzy matching here: a suggestion must be in the text. Matches made only of stop words or of words under
three letters are ignored ("it", "EU" would match too much). Only the schemes whose concepts describe
what an item or event is about are read: factors, industries (DB07 and branchegrupper) and audiences —
plus, separately, the knowledge and event types, read in the title only, to guess the type.

These are *suggestions*: the harvester puts them in the pending submission and records them as such, and
the review page lists them for the editor to confirm (by approving) or remove (by editing).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass

from graph.search.analysis import fold, is_stop_word, words
from graph.search.thesaurus import Thesaurus

#: Scheme (slug) → the field of the simple JSON schema its concepts go in.
TOPIC_FIELDS = {
    "factors": "factors",
    "industries": "industries",
    "branchegrupper": "industries",
    "audiences": "audiences",
}
MAX_PER_FIELD = 8


@dataclass(frozen=True)
class Suggestion:
    """A concept proposed for a field, and why: the words it matched (or `source` / `type`)."""

    field: str
    concept: str  # IRI
    code: str  # notation
    label: str  # Danish preferred label, for reports
    matched: str  # the words of the text that named it; "" for a concept the source itself names
    reason: str = "text"  # text | source | type

    def as_json(self) -> dict[str, str]:
        return {
            "field": self.field,
            "concept": self.concept,
            "code": self.code,
            "label": self.label,
            "matched": self.matched,
            "reason": self.reason,
        }


_SUBSETS: dict[tuple[str, frozenset[str]], Thesaurus] = {}
_SUBSETS_LOCK = threading.Lock()


def _subset(thesaurus: Thesaurus, schemes: frozenset[str]) -> Thesaurus:
    """A thesaurus of just these schemes, so that a longer label of another scheme cannot hide a match;
    built once per thesaurus version (its fingerprint) and set of schemes."""
    key = (thesaurus.fingerprint, schemes)
    with _SUBSETS_LOCK:
        found = _SUBSETS.get(key)
        if found is None:
            if len(_SUBSETS) > 16:
                _SUBSETS.clear()
            found = _SUBSETS[key] = Thesaurus(
                {iri: c for iri, c in thesaurus.concepts.items() if c.scheme in schemes}, thesaurus.fingerprint
            )
        return found


class Tagger:
    """Finds concepts of some schemes in text."""

    def __init__(self, thesaurus: Thesaurus, schemes: Iterable[str] = TOPIC_FIELDS) -> None:
        self.thesaurus = thesaurus
        self._subset = _subset(thesaurus, frozenset(schemes))

    def find(self, *texts: str) -> list[tuple[str, str]]:
        """(concept IRI, matched words) in order of first appearance; each concept once."""
        found: dict[str, str] = {}
        for text in texts:
            tokens = words(text or "")
            for match in self._subset.understand(tokens, known=lambda _word: True):
                span = tokens[match.start : match.end]
                if all(is_stop_word(fold(w)) or len(w) < 3 for w in span):
                    continue
                concepts = [self._subset.concepts[i] for i in match.concepts]
                # The same label at two levels of a hierarchy (DB07 does this): the most specific one.
                ancestors = {a for c in concepts for a in self.thesaurus.ancestors(c.iri) if a != c.iri}
                for concept in concepts:
                    if concept.iri not in ancestors:
                        found.setdefault(concept.iri, " ".join(span))
        return list(found.items())

    def suggest(self, *texts: str) -> list[Suggestion]:
        by_field: dict[str, list[Suggestion]] = {}
        for iri, matched in self.find(*texts):
            concept = self.thesaurus.concepts[iri]
            field_name = TOPIC_FIELDS.get(concept.scheme, concept.scheme)
            chosen = by_field.setdefault(field_name, [])
            if len(chosen) < MAX_PER_FIELD:
                chosen.append(Suggestion(field_name, iri, concept.notation, concept.label("da"), matched))
        return [s for chosen in by_field.values() for s in chosen]
