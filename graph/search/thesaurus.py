"""The thesaurus as search needs it: every concept's labels, hierarchy and facet, in memory.

It understands a query by matching runs of its words against concept labels (preferred,
alternative and hidden, Danish and English, folded, and stemmed in the label's language), so that
"støj", "støjbelastning", "larm", "noise" and "stoej" all mean the concept støj; a word of five
letters or more that the index does not know is matched within one edit ("stresss" → stress).
It also answers prefix look-ups for autocomplete and the closest labels for spelling suggestions.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from pyoxigraph import Literal

from graph.iris import DCT, OWL, SKOS, Iris
from graph.search.analysis import DANISH_STOP_WORDS, LONG_WORD, edit_distance, fold, stem, within_one_edit, words
from graph.store import Store
from graph.text import danish_sort_key

#: Facets of the search whose values are concepts, with the schemes (by slug) their values come from.
CONCEPT_FACETS: dict[str, tuple[str, ...]] = {
    "factor": ("factors",),
    "industry": ("industries", "branchegrupper"),
    "knowledgeType": ("knowledge-types",),
    "evidenceLevel": ("evidence-levels",),
    "audience": ("audiences",),
}
#: Facets shown as a hierarchy.
HIERARCHICAL = ("factor", "industry")
#: Schemes whose labels are too generic to read a query by ("Høj", "Lav").
NOT_UNDERSTOOD = frozenset({"certainty"})
MAX_SPAN = 6

_PREF, _ALT, _HIDDEN = SKOS + "prefLabel", SKOS + "altLabel", SKOS + "hiddenLabel"
_KIND = {_PREF: "pref", _ALT: "alt", _HIDDEN: "hidden"}


@dataclass
class Concept:
    iri: str
    scheme: str  # the scheme's slug, e.g. "factors"
    key: str  # "factors/5.1": what URLs use
    notation: str = ""
    pref: dict[str, str] = field(default_factory=dict)
    labels: list[tuple[str, str, str]] = field(default_factory=list)  # (text, lang, pref|alt|hidden)
    broader: set[str] = field(default_factory=set)
    narrower: set[str] = field(default_factory=set)
    deprecated: bool = False
    replaced_by: set[str] = field(default_factory=set)  # dct:isReplacedBy (a merge or a deprecation)

    def label(self, lang: str) -> str:
        return self.pref.get(lang) or self.pref.get("da") or self.pref.get("en") or next(iter(self.pref.values()), "")

    @cached_property  # asked for every concept of every indexed record; the scheme never changes
    def facet(self) -> str | None:
        return next((f for f, schemes in CONCEPT_FACETS.items() if self.scheme in schemes), None)


@dataclass
class Match:
    """A run of query words understood as one or more concepts."""

    start: int
    end: int  # exclusive, in query words
    concepts: list[str]
    fuzzy: bool = False


@dataclass
class Suggestion:
    concept: Concept
    matched: str  # the label that matched the prefix (may be an alternative label)


class Thesaurus:
    def __init__(self, concepts: dict[str, Concept], fingerprint: str) -> None:
        self.concepts = concepts
        self.fingerprint = fingerprint
        self.by_key = {c.key: c for c in concepts.values()}
        for c in concepts.values():
            for b in c.broader:
                if b in concepts:
                    concepts[b].narrower.add(c.iri)
        self._ancestors: dict[str, frozenset[str]] = {}
        self._children: dict[str, list[Concept]] = {}
        self._roots: dict[tuple[str, ...], list[Concept]] = {}
        # Label keys: runs of folded words, as written (raw) and stemmed in the label's language.
        self._keys: dict[str, dict[tuple[str, ...], set[str]]] = {"raw": defaultdict(set), "da": defaultdict(set)}
        self._keys["en"] = defaultdict(set)
        for c in concepts.values():
            if c.deprecated or c.scheme in NOT_UNDERSTOOD:
                continue
            for text, lang, _ in c.labels:
                tokens = tuple(words(fold(text)))
                if not tokens:
                    continue
                self._keys["raw"][tokens].add(c.iri)
                for language in ("da", "en"):
                    if lang in (language, ""):
                        self._keys[language][tuple(stem(t, language) for t in tokens)].add(c.iri)
        # Single words within one edit: every single-word key under itself and each one-letter deletion.
        self._near: dict[str, set[str]] = defaultdict(set)
        for table in self._keys.values():
            for tokens in table:
                if len(tokens) == 1 and len(tokens[0]) >= LONG_WORD:
                    word = tokens[0]
                    self._near[word].add(word)
                    for i in range(len(word)):
                        self._near[word[:i] + word[i + 1 :]].add(word)

    # -- loading -------------------------------------------------------------------------------

    @classmethod
    def load(cls, store: Store, queries: Callable[..., str], iris: Iris) -> Thesaurus:
        rows = store.select(queries("search-thesaurus"))
        concepts: dict[str, Concept] = {}
        vocab = iris.base + "vocab/"
        digest = hashlib.sha256()
        facts = []
        for row in rows:
            value = row["value"]
            lang = value.language or "" if isinstance(value, Literal) else ""
            facts.append((row["concept"].value, row["scheme"].value, row["property"].value, value.value, lang))
        for concept, scheme, prop, value, lang in sorted(facts):
            digest.update("\x1f".join((concept, scheme, prop, value, lang)).encode() + b"\x1e")
            c = concepts.get(concept)
            if c is None:
                slug = scheme[len(vocab) :] if scheme.startswith(vocab) else scheme
                key = concept[len(vocab) :] if concept.startswith(vocab) else concept
                c = concepts[concept] = Concept(concept, slug, key)
            if prop in _KIND:
                c.labels.append((value, lang, _KIND[prop]))
                if prop == _PREF:
                    c.pref[lang] = value
            elif prop == SKOS + "broader":
                c.broader.add(value)
            elif prop == SKOS + "notation":
                c.notation = value
            elif prop == OWL + "deprecated":
                c.deprecated = value in ("true", "1")
            elif prop == DCT + "isReplacedBy":
                c.replaced_by.add(value)
        return cls(concepts, digest.hexdigest())

    # -- the hierarchy -------------------------------------------------------------------------

    def ancestors(self, iri: str) -> frozenset[str]:
        """The concept and all its broader concepts (skos:broader*), and the concepts that replace it (a
        record tagged with a merged concept counts under the concept it was merged into) with theirs."""
        found = self._ancestors.get(iri)
        if found is None:
            seen = {iri}
            frontier = [iri]
            while frontier:
                concept = self.concepts.get(frontier.pop())
                for b in (concept.broader | concept.replaced_by) if concept else ():
                    if b not in seen:
                        seen.add(b)
                        frontier.append(b)
            found = self._ancestors[iri] = frozenset(seen)
        return found

    def roots(self, schemes: Sequence[str]) -> list[Concept]:
        cached = self._roots.get(tuple(schemes))
        if cached is not None:
            return cached
        wanted = set(schemes)

        def has_parent(c: Concept) -> bool:
            return any(b in self.concepts and self.concepts[b].scheme == c.scheme for b in c.broader)

        found = [c for c in self.concepts.values() if c.scheme in wanted and not has_parent(c)]
        roots = self._roots[tuple(schemes)] = self.ordered(found)
        return roots

    @cached_property
    def _rank(self) -> dict[str, int]:
        """Each concept's place in scheme order, then notation order (numbers as numbers), then by label."""

        def key(c: Concept) -> tuple[object, ...]:
            parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in c.notation.split(".") if p)
            return (c.scheme, parts or ((2, 0, ""),), danish_sort_key(c.label("da")))

        return {c.iri: i for i, c in enumerate(sorted(self.concepts.values(), key=key))}

    def ordered(self, concepts: Iterable[Concept]) -> list[Concept]:
        """In scheme order, then by notation (numbers as numbers), then by Danish label."""
        rank = self._rank
        return sorted(concepts, key=lambda c: rank.get(c.iri, len(rank)))

    def children(self, iri: str) -> list[Concept]:
        found = self._children.get(iri)
        if found is None:
            concept = self.concepts.get(iri)
            found = self._children[iri] = self.ordered(self.concepts[n] for n in concept.narrower) if concept else []
        return found

    def resolve(self, value: str) -> Concept | None:
        """A concept named in a URL: its key (`factors/5.1`), its path (`/vocab/factors/5.1`) or its IRI."""
        value = value.strip()
        if value.startswith("/vocab/"):
            value = value[len("/vocab/") :]
        concept = self.by_key.get(value) or self.concepts.get(value)
        return concept

    # -- understanding a query -----------------------------------------------------------------

    def understand(
        self, query_words: Sequence[str], known: Callable[[str], bool] = lambda _: True, removed: Iterable[str] = ()
    ) -> list[Match]:
        """Runs of words that name concepts, longest first, left to right.

        A single unknown word (for which `known` answers False) of 5+ letters is matched within one edit.
        """
        dropped = set(removed)
        folded = [fold(w) for w in query_words]
        matches: list[Match] = []
        i = 0
        while i < len(folded):
            for length in range(min(MAX_SPAN, len(folded) - i), 0, -1):
                found = self._lookup(folded[i : i + length]) - dropped
                if found:
                    matches.append(Match(i, i + length, self._sorted(found)))
                    i += length
                    break
            else:
                word = folded[i]
                if len(word) >= LONG_WORD and word not in DANISH_STOP_WORDS and not known(word):
                    found = self._near_concepts(word) - dropped
                    if found:
                        matches.append(Match(i, i + 1, self._sorted(found), fuzzy=True))
                i += 1
        return matches

    def _lookup(self, tokens: Sequence[str]) -> set[str]:
        found = set(self._keys["raw"].get(tuple(tokens), ()))
        for language in ("da", "en"):
            found |= self._keys[language].get(tuple(stem(t, language) for t in tokens), set())
        return found

    def _near_concepts(self, word: str) -> set[str]:
        candidates = set(self._near.get(word, ()))
        for i in range(len(word)):
            candidates |= self._near.get(word[:i] + word[i + 1 :], set())
        found: set[str] = set()
        for candidate in candidates:
            if within_one_edit(word, candidate):
                for table in self._keys.values():
                    found |= table.get((candidate,), set())
        return found

    def _sorted(self, iris: Iterable[str]) -> list[str]:
        return [c.iri for c in self.ordered(self.concepts[i] for i in iris)]

    # -- autocomplete and spelling -------------------------------------------------------------

    @cached_property
    def _prefixes(self) -> tuple[list[str], list[tuple[int, int, str, str]]]:
        """Folded label texts from each word start, sorted; with (rank, length, label, concept) each."""
        return self._prefix_table(None)

    def _prefix_table(self, schemes: frozenset[str] | None) -> tuple[list[str], list[tuple[int, int, str, str]]]:
        """The prefix table of all concepts, or of the concepts of some schemes (built once per set)."""
        if schemes is not None:
            cached = self._scheme_prefixes.get(schemes)
            if cached is not None:
                return cached
        entries: list[tuple[str, tuple[int, int, str, str]]] = []
        for c in self.concepts.values():
            if c.deprecated or (schemes is not None and c.scheme not in schemes):
                continue
            for text, _lang, kind in c.labels:
                folded = " ".join(words(fold(text)))
                rank = 0 if kind == "pref" else 1 if kind == "alt" else 3
                starts = [0] + [i + 1 for i, ch in enumerate(folded) if ch == " "]
                for n, start in enumerate(starts):
                    entries.append((folded[start:], (rank + (2 if n else 0), len(folded), text, c.iri)))
        entries.sort(key=lambda e: e[0])
        table = [e[0] for e in entries], [e[1] for e in entries]
        if schemes is not None:
            self._scheme_prefixes[schemes] = table
        return table

    @cached_property
    def _scheme_prefixes(self) -> dict[frozenset[str], tuple[list[str], list[tuple[int, int, str, str]]]]:
        return {}

    @cached_property
    def schemes(self) -> frozenset[str]:
        """The slugs of the schemes the thesaurus holds concepts of."""
        return frozenset(c.scheme for c in self.concepts.values())

    def path(self, iri: str) -> list[Concept]:
        """The concept and its broader concepts in its own scheme, from the top down: one line of the
        hierarchy (with several broader concepts, the first in scheme order), e.g. Fysisk › Støj › Impulsstøj."""
        found = self._paths.get(iri)
        if found is None:
            line: list[Concept] = []
            concept = self.concepts.get(iri)
            while concept is not None and concept not in line:
                line.append(concept)
                same_scheme = [self.concepts[b] for b in concept.broader if b in self.concepts]
                same_scheme = [b for b in same_scheme if b.scheme == concept.scheme]
                concept = self.ordered(same_scheme)[0] if same_scheme else None
            found = self._paths[iri] = line[::-1]
        return found

    @cached_property
    def _paths(self) -> dict[str, list[Concept]]:
        return {}

    def suggest(
        self, prefix: str, limit: int = 8, scan: int = 2000, schemes: Collection[str] | None = None
    ) -> list[Suggestion]:
        """Concepts with a label (or a word of one) that starts with `prefix`, best first; with
        `schemes`, only concepts of those schemes (by slug)."""
        wanted = " ".join(words(fold(prefix)))
        if not wanted:
            return []
        keys, infos = self._prefix_table(frozenset(schemes)) if schemes else self._prefixes
        start = bisect.bisect_left(keys, wanted)
        hits: list[tuple[int, int, str, str]] = []
        for i in range(start, min(len(keys), start + scan)):
            if not keys[i].startswith(wanted):
                break
            hits.append(infos[i])
        best: dict[str, tuple[int, int, str]] = {}
        for rank, length, text, iri in hits:
            if iri not in best or (rank, length) < best[iri][:2]:
                best[iri] = (rank, length, text)
        ranked = sorted(
            best.items(),
            key=lambda kv: (kv[1][0], kv[1][1], danish_sort_key(kv[1][2]), len(self.ancestors(kv[0]))),
        )
        chosen: list[Suggestion] = []
        shown: set[tuple[str, str]] = set()
        for iri, (_, _, text) in ranked:
            concept = self.concepts[iri]
            name = (concept.scheme, fold(concept.label("da")))
            if name not in shown:  # the same name at two levels of a hierarchy (DB07 does this)
                shown.add(name)
                chosen.append(Suggestion(concept, text))
            if len(chosen) == limit:
                break
        return chosen

    def closest(self, word: str, limit: int = 3) -> list[Concept]:
        """Concepts whose (one-word) labels are closest to a word: for "did you mean"."""
        folded = fold(word)
        if len(folded) < 3:
            return []
        allowed = 1 if len(folded) < 6 else 2
        scored: dict[str, int] = {}
        for tokens, found in self._keys["raw"].items():
            if len(tokens) != 1:
                continue
            distance = edit_distance(folded, tokens[0], allowed)
            if distance <= allowed:
                for iri in found:
                    scored[iri] = min(distance, scored.get(iri, distance))
        ranked = sorted(scored, key=lambda i: (scored[i], danish_sort_key(self.concepts[i].label("da"))))
        return [self.concepts[i] for i in ranked[:limit]]
