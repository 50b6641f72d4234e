"""A synthetic Arbejdsmiljøviden of any size, shaped like the real thing (for `bench.scale`).

Knowledge items, problems, solutions and actors as `Record`s, deterministic for a seed:

- tags follow Zipf distributions over the real thesaurus (factors, DB07 industries and branchegrupper,
  audiences, knowledge types, evidence levels): a few concepts carry most records, as in real collections;
- 500–5,000 actors (one per 20 items, within those bounds), each item published by one (Zipf) and
  sometimes created by another; problems and solutions (one of each per 20 items) are linked to each
  other and to the items that address or describe them;
- issue dates spread over the last 20 years, more of them recent;
- Danish and English titles and descriptions of realistic length, composed from a word list built from
  the thesaurus labels and definitions and the sample data's texts (no external downloads).

Only valid records are generated: every one passes the shapes, so the import measures the full path.
"""

from __future__ import annotations

import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from pyoxigraph import Literal, NamedNode, Triple

from graph.config import DEFAULT_BASE_URI, PROJECT_ROOT
from graph.iris import DCT, ID_ALPHABET, ID_LENGTH, OWL, RDF_TYPE, SCHEMA, SKOS, XSD, RecordKind
from graph.rdf import parse_file
from graph.records import Record

AMV = DEFAULT_BASE_URI + "ontology#"
YEARS = 20
_WORD = re.compile(r"[A-Za-zÆØÅæøåÉéÜü][A-Za-zÆØÅæøåÉéÜü-]{2,}")


def amv(name: str) -> NamedNode:
    return NamedNode(AMV + name)


def dct(name: str) -> NamedNode:
    return NamedNode(DCT + name)


def synthetic_id(kind: RecordKind, n: int) -> str:
    """A valid, deterministic record id: n in Crockford base32, under a kind-specific first letter."""
    digits = []
    for _ in range(ID_LENGTH - 1):
        n, r = divmod(n, len(ID_ALPHABET))
        digits.append(ID_ALPHABET[r])
    return "zyxwv"[list(RecordKind).index(kind)] + "".join(reversed(digits))


@dataclass
class Vocabulary:
    """Concept IRIs by scheme slug, and the words the texts are composed of (by language)."""

    concepts: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # iri -> lang -> prefLabel
    words: dict[str, list[str]] = field(default_factory=lambda: {"da": [], "en": []})

    @classmethod
    def load(cls) -> Vocabulary:
        vocab = cls()
        deprecated: set[str] = set()
        schemes: dict[str, str] = {}
        texts: dict[str, list[str]] = {"da": [], "en": []}
        for path in sorted((PROJECT_ROOT / "vocabularies").glob("*.ttl")):
            for quad in parse_file(path):
                s, p, o = quad.subject.value, quad.predicate.value, quad.object
                if p == SKOS + "inScheme":
                    schemes[s] = o.value.rsplit("/", 1)[1]
                elif p == OWL + "deprecated" and o.value == "true":
                    deprecated.add(s)
                elif isinstance(o, Literal) and o.language in texts:
                    if p == SKOS + "prefLabel":
                        vocab.labels.setdefault(s, {})[o.language] = o.value
                    if p in (SKOS + "prefLabel", SKOS + "altLabel", SKOS + "definition", SKOS + "scopeNote"):
                        texts[o.language].append(o.value)
        for path in sorted((PROJECT_ROOT / "data" / "sample").glob("*.ttl")):
            for quad in parse_file(path):
                o = quad.object
                if isinstance(o, Literal) and o.language in texts and quad.predicate.value in (DCT + "description",):
                    texts[o.language].append(o.value)
        for iri, scheme in sorted(schemes.items()):
            if iri not in deprecated and iri in vocab.labels:
                vocab.concepts.setdefault(scheme, []).append(iri)
        for lang, chunks in texts.items():
            # Every occurrence counts, so that frequent words stay frequent in the composed text.
            vocab.words[lang] = [w.lower() for chunk in chunks for w in _WORD.findall(chunk)]
        return vocab


def zipf_weights(count: int, s: float = 1.1) -> list[float]:
    """Cumulative Zipf weights of `count` ranks (as `random.choices(cum_weights=…)` takes them: a pick is then a
    binary search, not a sum over every rank — 50,000 problems at 1M items)."""
    return list(itertools.accumulate(1 / (rank**s) for rank in range(1, count + 1)))


class Generator:
    """Records for `items` knowledge items and the problems, solutions and actors around them."""

    def __init__(
        self,
        items: int,
        *,
        actors: int | None = None,
        problems: int | None = None,
        solutions: int | None = None,
        seed: int = 11,
        today: date | None = None,
    ) -> None:
        """Defaults: one actor per 20 items (500–5,000), one problem and one solution per 20 items (≥ 50)."""
        self.items = items
        self.actors = actors or min(5_000, max(500, items // 20))
        self.problems = problems or max(50, items // 20)
        self.solutions = solutions or max(50, items // 20)
        self.rng = random.Random(seed)
        self.vocab = Vocabulary.load()
        self.today = today or date(2026, 6, 1)
        # Zipf over a shuffled order: which concepts are "busy" is arbitrary but fixed by the seed.
        self._ranked: dict[str, list[str]] = {}
        for scheme, concepts in self.vocab.concepts.items():
            ranked = list(concepts)
            self.rng.shuffle(ranked)
            self._ranked[scheme] = ranked
        self._ranked["industry"] = self._ranked["industries"] + self._ranked.get("branchegrupper", [])
        self.rng.shuffle(self._ranked["industry"])
        self._weights = {scheme: zipf_weights(len(c)) for scheme, c in self._ranked.items()}
        self._actor_weights = zipf_weights(self.actors, 1.0)
        self._problem_weights = zipf_weights(self.problems, 0.9)
        self._solution_weights = zipf_weights(self.solutions, 0.9)

    @property
    def total(self) -> int:
        return self.items + self.problems + self.solutions + self.actors

    def busiest(self, scheme: str) -> str:
        """The concept of the scheme that carries the most records."""
        return self._ranked[scheme][0]

    def iri(self, kind: RecordKind, n: int) -> NamedNode:
        return NamedNode(f"{DEFAULT_BASE_URI}id/{kind.value}/{synthetic_id(kind, n)}")

    # --- text -------------------------------------------------------------------------------------

    def _sentence(self, lang: str, low: int, high: int, mention: str = "") -> str:
        words = self.rng.choices(self.vocab.words[lang], k=self.rng.randint(low, high))
        if mention:
            words.insert(self.rng.randrange(len(words) + 1), mention)
        text = " ".join(words)
        return text[0].upper() + text[1:] + "."

    def _texts(self, lang: str, topics: Sequence[str]) -> tuple[str, str]:
        """(title, description): a 5–12 word title and 2–6 sentences mentioning the record's topics."""
        title = self._sentence(lang, 4, 11, topics[0] if topics else "")[:-1]
        sentences = self.rng.randint(2, 6) if lang == "da" else self.rng.randint(1, 3)
        description = " ".join(
            self._sentence(lang, 8, 22, topics[i % len(topics)] if topics and i < 2 else "") for i in range(sentences)
        )
        return title, description

    def _describe(self, iri: NamedNode, kind: str, topics: Sequence[str], english: float) -> list[Triple]:
        triples = [Triple(iri, RDF_TYPE, amv(kind))]
        for lang in ("da", "en") if self.rng.random() < english else ("da",):
            names = [self.vocab.labels[t].get(lang, "") for t in topics]
            title, description = self._texts(lang, [n.lower() for n in names if n])
            triples += [
                Triple(iri, dct("title"), Literal(title, language=lang)),
                Triple(iri, dct("description"), Literal(description, language=lang)),
            ]
        return triples

    def _tags(self, scheme: str, low: int, high: int) -> list[str]:
        count = self.rng.randint(low, high)
        return list(dict.fromkeys(self.rng.choices(self._ranked[scheme], cum_weights=self._weights[scheme], k=count)))

    def _pick(self, kind: RecordKind, count: int, weights: list[float], k: int) -> list[NamedNode]:
        numbers = dict.fromkeys(self.rng.choices(range(count), cum_weights=weights, k=k))
        return [self.iri(kind, n) for n in numbers]

    def _issued(self) -> Literal:
        # More recent years hold more records (the field grows); days spread within the year.
        back = int(self.rng.triangular(0, YEARS * 365, 0))
        day = self.today - timedelta(days=back)
        return Literal(day.isoformat(), datatype=NamedNode(XSD + "date"))

    # --- records ----------------------------------------------------------------------------------

    def actor(self, n: int) -> Record:
        iri = self.iri(RecordKind.actor, n)
        factors = self._tags("factors", 0, 5)
        triples = self._describe(iri, "Actor", factors[:1], english=0.7)
        triples += [Triple(iri, amv("actorType"), NamedNode(c)) for c in self._tags("actor-types", 1, 1)]
        triples += [Triple(iri, amv("factor"), NamedNode(c)) for c in factors]
        triples += [Triple(iri, amv("industry"), NamedNode(c)) for c in self._tags("industry", 0, 3)]
        triples += [Triple(iri, amv("region"), NamedNode(c)) for c in self._tags("regions", 0, 2)]
        triples.append(Triple(iri, NamedNode(SCHEMA + "url"), NamedNode(f"https://aktoer{n}.example.dk/")))
        return Record(iri, RecordKind.actor, triples)

    def problem(self, n: int) -> Record:
        iri = self.iri(RecordKind.problem, n)
        factors = self._tags("factors", 1, 3)
        triples = self._describe(iri, "Problem", factors, english=0.8)
        triples += [Triple(iri, amv("factor"), NamedNode(c)) for c in factors]
        triples += [Triple(iri, amv("industry"), NamedNode(c)) for c in self._tags("industry", 0, 3)]
        triples += [Triple(iri, amv("audience"), NamedNode(c)) for c in self._tags("audiences", 1, 3)]
        return Record(iri, RecordKind.problem, triples)

    def solution(self, n: int) -> Record:
        iri = self.iri(RecordKind.solution, n)
        factors = self._tags("factors", 1, 3)
        triples = self._describe(iri, "Solution", factors, english=0.7)
        triples += [
            Triple(iri, amv("solves"), p)
            for p in self._pick(RecordKind.problem, self.problems, self._problem_weights, self.rng.randint(1, 2))
        ]
        triples += [Triple(iri, amv("factor"), NamedNode(c)) for c in factors]
        triples += [Triple(iri, amv("industry"), NamedNode(c)) for c in self._tags("industry", 0, 2)]
        triples += [Triple(iri, amv("audience"), NamedNode(c)) for c in self._tags("audiences", 1, 3)]
        triples += [Triple(iri, amv("evidenceLevel"), NamedNode(c)) for c in self._tags("evidence-levels", 1, 1)]
        triples += [
            Triple(iri, amv("offeredBy"), a)
            for a in self._pick(RecordKind.actor, self.actors, self._actor_weights, self.rng.randint(0, 2))
        ]
        return Record(iri, RecordKind.solution, triples)

    def item(self, n: int) -> Record:
        iri = self.iri(RecordKind.item, n)
        factors = self._tags("factors", 1, 4)
        triples = self._describe(iri, "KnowledgeItem", factors, english=0.4)
        triples += [Triple(iri, amv("knowledgeType"), NamedNode(c)) for c in self._tags("knowledge-types", 1, 1)]
        triples += [Triple(iri, amv("factor"), NamedNode(c)) for c in factors]
        triples += [Triple(iri, amv("industry"), NamedNode(c)) for c in self._tags("industry", 0, 3)]
        triples += [Triple(iri, amv("audience"), NamedNode(c)) for c in self._tags("audiences", 1, 3)]
        if self.rng.random() < 0.3:
            triples += [Triple(iri, amv("evidenceLevel"), NamedNode(c)) for c in self._tags("evidence-levels", 1, 1)]
        if self.rng.random() < 0.5:
            triples += [
                Triple(iri, amv("addresses"), p)
                for p in self._pick(RecordKind.problem, self.problems, self._problem_weights, self.rng.randint(1, 3))
            ]
        if self.rng.random() < 0.25:
            triples += [
                Triple(iri, amv("describesSolution"), s)
                for s in self._pick(RecordKind.solution, self.solutions, self._solution_weights, 1)
            ]
        triples += [
            Triple(iri, dct("publisher"), a) for a in self._pick(RecordKind.actor, self.actors, self._actor_weights, 1)
        ]
        if self.rng.random() < 0.3:
            triples += [
                Triple(iri, dct("creator"), a)
                for a in self._pick(RecordKind.actor, self.actors, self._actor_weights, 1)
            ]
        triples.append(Triple(iri, dct("issued"), self._issued()))
        triples.append(Triple(iri, dct("language"), Literal("da" if self.rng.random() < 0.8 else "en")))
        triples.append(Triple(iri, NamedNode(SCHEMA + "url"), NamedNode(f"https://viden.example.dk/{n}")))
        return Record(iri, RecordKind.item, triples)

    def batches(self, size: int) -> Iterator[list[Record]]:
        """Every record in batches, in an order whose references always point back: actors, problems,
        solutions, items (the shapes check that a referenced actor or problem exists)."""
        plan = [
            (self.actor, self.actors),
            (self.problem, self.problems),
            (self.solution, self.solutions),
            (self.item, self.items),
        ]
        for make, count in plan:
            for start in range(0, count, size):
                yield [make(n) for n in range(start, min(count, start + size))]
