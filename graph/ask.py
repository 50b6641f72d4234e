"""The ask box: a question in Danish or English answered only from our own knowledge, with numbered
citations [1], [2] to the records the answer uses.

1. **Candidates** come from the search (graph/search/query.py, not a second search): the question's
   words without question words ("hvad", "how", …), read through the thesaurus, any unit may match
   (`match_all=False`), so records tagged with a concept the question names, or a narrower one, are
   found whatever their language.
2. **Passages**: each candidate's descriptions are split into sentences (pysbd, Danish or English
   rules) and scored: BM25 within the candidates' passages (a question word, or a label of a concept
   the question named, matched the way the index matches: stems, compounds, one typo) + the record
   being tagged with the question's concepts + the search's own score for the record + cosine
   similarity to the question when a sentence-embedding model is installed (the `ask` extra).
3. A record is used only when it covers more than half of what the question asks (weighted by how rare
   each part is in the index); when none does, the answer says we have nothing on it.
4. **The answer**: with no language model configured it is *extractive*: the best sentences, grouped by
   record, each cited. With an OpenAI-compatible endpoint (graph/llm.py) the model writes the answer from
   the numbered sources only; citations that point to no source are removed and reported, an answer with
   no valid citation is not shown, the model's refusal is shown as a refusal, and any failure falls back
   to the extractive answer.

The question never reaches SPARQL: it goes only into the search index, as terms.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Protocol

import pysbd

from graph.config import Settings
from graph.llm import LlmConfig, LlmError, complete
from graph.search.analysis import Highlighter, fold, terms, words
from graph.search.index import TEXT_FIELDS, SearchIndex
from graph.search.query import MAX_WORDS, Hit, SearchRequest, search
from graph.search.thesaurus import Concept

log = logging.getLogger(__name__)

MAX_QUESTION_LENGTH = 300
#: Candidate records taken from the search, sources cited at most, sentences quoted per source.
CANDIDATES = 30
MAX_SOURCES = 5
PASSAGES_PER_SOURCE = 2
#: Share of the question (by weight) a record must cover more than, to be used.
MIN_COVERAGE = 0.5
#: A concept the question names counts more than a word: it is what the thesaurus knows the question is about.
CONCEPT_UNIT_WEIGHT = 2.0
#: Score parts besides BM25 (which is about 0–10 for a matching sentence).
TAGGED_WEIGHT = 0.6  # times the unit's weight, for each of the question's concepts the record is tagged with
PRIOR_WEIGHT = 1.0  # times the record's search score relative to the best
SEMANTIC_WEIGHT = 3.0  # times the cosine similarity of sentence and question
SEMANTIC_MIN = 0.55  # a sentence this similar to the question counts as matching it even without shared words
SOLUTION_BONUS = 0.8  # for solutions when the question asks what to do
#: Answers come from knowledge, problems and solutions first; actors and events when nothing else says it.
KIND_FACTOR = {"actor": 0.5, "event": 0.8}
BM25_K1 = 1.2
BM25_B = 0.75
MIN_PASSAGE_WORDS = 3

#: Words that only make a question a question, folded (æ → ae, ø → oe, å → aa).
QUESTION_WORDS = frozenset(
    """hvad hvordan hvorfor hvilke hvilken hvilket hvem hvor hvornaar kan kunne man jeg vi du i der er findes
    finder noget nogen om skal skulle boer maa mon vide viden gerne faa giver gaelder ift vedr ved til
    what how why which who whom where when can could should would do does did is are was were be been
    there any anything about i we you me my our know tell find help with for of on at in the a an to""".split()  # noqa: SIM905
)
#: Words that ask what to do: left out of the search, and solutions are preferred.
ACTION_WORDS = frozenset(
    """goere goer gjort forebygge forebygger forebyggelse undgaa undgaar reducere reducerer mindske mindsker
    nedbringe nedbringer daempe begraense begraenser loese loesning loesninger tiltag hjaelpe hjaelper haandtere
    done prevent prevention avoid reduce reducing lower limit tackle solve solution solutions measures deal
    handle manage reduced reduces prevented prevents avoided lowered limited solved tackled handled managed""".split()  # noqa: SIM905
)


class AskError(ValueError):
    """A question we cannot take (empty, too long): messages in Danish and English."""

    def __init__(self, da: str, en: str) -> None:
        super().__init__(en)
        self.messages = {"da": da, "en": en}


class Embedder(Protocol):
    """Sentence embeddings (the `ask` extra); any object with this method will do."""

    def embed(self, texts: Sequence[str]) -> list[Sequence[float]]: ...


# -- the answer ---------------------------------------------------------------------------------


@dataclass
class Source:
    n: int
    iri: str
    kind: str
    titles: dict[str, str]
    passages: list[str]
    score: float
    cited: bool = True

    def title(self, lang: str) -> str:
        t = self.titles
        return t.get(lang) or t.get("da") or t.get("en") or t.get("") or next(iter(t.values()), self.iri)

    def title_lang(self, lang: str) -> str:
        return next((k for k in (lang, "da", "en", "") if self.titles.get(k)), "")


@dataclass
class Part:
    """One paragraph of the answer and the sources it cites."""

    text: str
    citations: list[int]

    def segments(self) -> list[tuple[str, int | None]]:
        """The text split at its citation marks: (text, None) and ("", n) for each [n], for rendering links."""
        out: list[tuple[str, int | None]] = []
        cursor = 0
        for match in _CITATION.finditer(self.text):
            if match.start() > cursor:
                out.append((self.text[cursor : match.start()], None))
            out += [("", int(n)) for n in re.findall(r"\d+", match.group(1))]
            cursor = match.end()
        if cursor < len(self.text):
            out.append((self.text[cursor:], None))
        return out


@dataclass
class Related:
    iri: str
    kind: str  # "concept", "problem" or "solution"
    labels: dict[str, str]

    def label(self, lang: str) -> str:
        t = self.labels
        return t.get(lang) or t.get("da") or t.get("en") or t.get("") or next(iter(t.values()), self.iri)


@dataclass
class Answer:
    question: str
    lang: str
    #: "extractive" (our sentences), "generated" (the language model's, grounded), "refused" (the model
    #: found no answer in the sources) or "nothing" (we have nothing relevant).
    mode: str
    parts: list[Part] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    concepts: list[Related] = field(default_factory=list)
    problems: list[Related] = field(default_factory=list)
    solutions: list[Related] = field(default_factory=list)
    #: Why a language model's answer is not shown: "llm_unavailable" or "llm_ungrounded" ("" otherwise).
    notice: str = ""
    invalid_citations: list[int] = field(default_factory=list)
    semantic: bool = False
    search_query: str = ""  # what was searched for (the question without question words)

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.parts)


_CITATION = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")


# -- splitting texts into passages ----------------------------------------------------------------

_SEGMENTERS: dict[str, pysbd.Segmenter] = {}
_SEGMENTER_LOCK = threading.Lock()


@lru_cache(maxsize=20_000)
def sentences(text: str, lang: str) -> tuple[str, ...]:
    """The sentences of a text (Danish or English rules); fragments of fewer than three words, such as
    "(demoeksempel)", stay with the sentence before them."""
    language = "en" if lang == "en" else "da"
    with _SEGMENTER_LOCK:  # a pysbd Segmenter keeps state while it segments
        segmenter = _SEGMENTERS.get(language)
        if segmenter is None:
            segmenter = _SEGMENTERS[language] = pysbd.Segmenter(language=language, clean=False)
        found = [s.strip() for s in segmenter.segment(text) if s.strip()]
    merged: list[str] = []
    for sentence in found:
        if merged and len(words(sentence)) < MIN_PASSAGE_WORDS:
            merged[-1] = merged[-1] + " " + sentence
        else:
            merged.append(sentence)
    return tuple(merged)


# -- the parts of a question ------------------------------------------------------------------------


@dataclass
class _Unit:
    """One thing the question asks about: a concept it names (with its words) or a word."""

    highlighter: Highlighter
    concepts: frozenset[str]  # empty for a word
    weight: float


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


def _units(index: SearchIndex, result_understood: Sequence, loose: Sequence[str]) -> list[_Unit]:
    searcher = index.searcher()
    n = max(1, searcher.num_docs)
    by_words: dict[str, list[Concept]] = {}
    for u in result_understood:
        by_words.setdefault(u.words, []).append(u.concept)
    units: list[_Unit] = []
    for phrase, concepts in by_words.items():
        labels = [text for c in concepts for text, _lang, _kind in c.labels]
        df = min(n, sum(searcher.doc_freq("concepts", c.iri) for c in concepts))
        units.append(
            _Unit(
                _exact(Highlighter.for_words(words(phrase), labels)),
                frozenset(c.iri for c in concepts),
                _idf(df, n) * CONCEPT_UNIT_WEIGHT,
            )
        )
    unknown: list[str] = []
    for word in loose:
        folded = fold(word)
        df = max(
            (searcher.doc_freq(name, t) for name in TEXT_FIELDS for t in terms(folded, name[-2:])),
            default=0,
        )
        if df == 0:
            unknown.append(word)
        else:
            units.append(_Unit(_exact(Highlighter.for_words([word])), frozenset(), _idf(df, n)))
    # A word no record has would weigh most of all and leave every record below the coverage needed
    # ("centres" in an English question about Danish records): it weighs as much as the most specific
    # known part. Only such a word may be a typo, matched within one edit.
    heaviest = max((u.weight for u in units), default=_idf(0, n))
    units += [_Unit(Highlighter.for_words([word]), frozenset(), heaviest) for word in unknown]
    return units


def _exact(highlighter: Highlighter) -> Highlighter:
    """Without matches within one edit: a word the index knows is meant as written ("støj" is not "støv")."""
    return replace(highlighter, fuzzy=frozenset())


def search_words(question: str) -> tuple[list[str], bool]:
    """The words of a question worth searching for, and whether it asks what to do."""
    found = words(question[:MAX_QUESTION_LENGTH])
    kept = [w for w in found if fold(w) not in QUESTION_WORDS and fold(w) not in ACTION_WORDS]
    asks_action = any(fold(w) in ACTION_WORDS for w in found)
    return kept[:MAX_WORDS], asks_action


# -- scoring --------------------------------------------------------------------------------------


@dataclass
class _Passage:
    hit: Hit
    text: str
    position: int
    counts: list[int]  # matches per unit
    length: int
    score: float = 0.0
    similarity: float = 0.0


class Asker:
    """Answers questions over one search index; `embedder` and `llm` are optional."""

    def __init__(self, index: SearchIndex, embedder: Embedder | None = None, llm: LlmConfig | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.llm = llm
        self._vectors: OrderedDict[str, Sequence[float]] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, index: SearchIndex, settings: Settings) -> Asker:
        llm = (
            LlmConfig(settings.llm_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout)
            if settings.llm_url and settings.llm_model
            else None
        )
        return cls(index, load_embedder(settings.embedding_model), llm)

    # -- the whole way ------------------------------------------------------------------------

    def ask(self, question: str, lang: str = "da") -> Answer:
        question = question.strip()
        if not question:
            raise AskError("Skriv et spørgsmål.", "Write a question.")
        if len(question) > MAX_QUESTION_LENGTH:
            raise AskError(
                f"Spørgsmålet må højst være {MAX_QUESTION_LENGTH} tegn.",
                f"The question may be at most {MAX_QUESTION_LENGTH} characters long.",
            )
        kept, asks_action = search_words(question)
        answer = Answer(question, lang, "nothing", semantic=self.embedder is not None, search_query=" ".join(kept))
        if not kept:
            return answer
        result = search(
            self.index, SearchRequest(q=answer.search_query, lang=lang, page_size=CANDIDATES, match_all=False)
        )
        thesaurus = self.index.thesaurus
        answer.concepts = [
            Related(c.iri, "concept", c.pref) for c in {u.concept.iri: u.concept for u in result.understood}.values()
        ]
        if not result.hits:
            return answer
        units = _units(self.index, result.understood, result.loose)
        total_weight = sum(u.weight for u in units) or 1.0
        best_search = max(h.score for h in result.hits) or 1.0

        passages: list[_Passage] = []
        covered: dict[str, float] = {}
        tagged_score: dict[str, float] = {}
        for hit in result.hits:
            expanded: set[str] = set()
            for concept in hit.concepts:
                expanded |= thesaurus.ancestors(concept)
            title_text = " ".join(hit.titles.values())
            record_units = set()
            tagged = 0.0
            for i, unit in enumerate(units):
                if unit.concepts & expanded:
                    record_units.add(i)
                    tagged += unit.weight * TAGGED_WEIGHT
                elif unit.highlighter.marked(title_text):
                    record_units.add(i)
            own = self._passages(hit, units, lang)
            for p in own:
                record_units |= {i for i, c in enumerate(p.counts) if c}
            covered[hit.iri] = sum(units[i].weight for i in record_units) / total_weight
            tagged_score[hit.iri] = tagged
            passages += own

        if self.embedder is not None and passages:
            self._similarities(question, passages)

        # BM25 of each passage within the candidates' passages.
        count = len(passages)
        average = sum(p.length for p in passages) / max(1, count)
        idf = [_idf(sum(1 for p in passages if p.counts[i]), count) for i in range(len(units))]
        for p in passages:
            norm = BM25_K1 * (1 - BM25_B + BM25_B * p.length / max(1.0, average))
            bm25 = sum(idf[i] * c * (BM25_K1 + 1) / (c + norm) for i, c in enumerate(p.counts) if c)
            p.score = (
                bm25
                + tagged_score[p.hit.iri]
                + PRIOR_WEIGHT * p.hit.score / best_search
                + SEMANTIC_WEIGHT * p.similarity
                + (SOLUTION_BONUS if asks_action and p.hit.kind == "solution" else 0.0)
            )

        chosen = self._choose(result.hits, passages, covered)
        if not chosen:
            return answer
        answer.sources = chosen
        answer.problems = [Related(s.iri, s.kind, s.titles) for s in chosen if s.kind == "problem"]
        answer.solutions = [Related(s.iri, s.kind, s.titles) for s in chosen if s.kind == "solution"]
        for hit in result.hits:  # other problems and solutions the question touched, best first
            if covered.get(hit.iri, 0.0) > MIN_COVERAGE and all(s.iri != hit.iri for s in chosen):
                if hit.kind == "problem":
                    answer.problems.append(Related(hit.iri, hit.kind, hit.titles))
                elif hit.kind == "solution":
                    answer.solutions.append(Related(hit.iri, hit.kind, hit.titles))
        answer.problems, answer.solutions = answer.problems[:MAX_SOURCES], answer.solutions[:MAX_SOURCES]
        answer.mode = "extractive"
        answer.parts = [Part(" ".join(s.passages) + f" [{s.n}]", [s.n]) for s in chosen]
        if self.llm is not None:
            self._generate(answer)
        return answer

    # -- passages ------------------------------------------------------------------------------

    def _passages(self, hit: Hit, units: Sequence[_Unit], lang: str) -> list[_Passage]:
        """The sentences of a record's descriptions, the question's language first."""
        out: list[_Passage] = []
        for text_lang, text in _descriptions(hit, lang):
            for position, sentence in enumerate(sentences(text, text_lang)):
                counts = [len(u.highlighter.marked(sentence)) for u in units]
                out.append(_Passage(hit, sentence, len(out) + position, counts, max(1, len(words(sentence)))))
        return out

    def _similarities(self, question: str, passages: list[_Passage]) -> None:
        assert self.embedder is not None
        try:
            wanted = [p.text for p in passages if p.text not in self._vectors]
            vectors = self.embedder.embed([question, *wanted]) if wanted else self.embedder.embed([question])
        except Exception:  # noqa: BLE001 - an optional model must never break an answer
            log.exception("the sentence-embedding model failed; answering without it")
            return
        with self._lock:
            for text, vector in zip(wanted, vectors[1:], strict=False):
                self._vectors[text] = vector
                if len(self._vectors) > 20_000:
                    self._vectors.popitem(last=False)
            for p in passages:
                vector = self._vectors.get(p.text)
                if vector is not None:
                    p.similarity = max(0.0, _cosine(vectors[0], vector))

    def _choose(self, hits: Sequence[Hit], passages: list[_Passage], covered: dict[str, float]) -> list[Source]:
        by_record: dict[str, list[_Passage]] = {}
        for p in passages:
            by_record.setdefault(p.hit.iri, []).append(p)
        ranked: list[tuple[float, Hit, list[_Passage]]] = []
        for hit in hits:
            own = by_record.get(hit.iri, [])
            semantic = any(p.similarity >= SEMANTIC_MIN for p in own)
            if covered.get(hit.iri, 0.0) <= MIN_COVERAGE and not semantic:
                continue
            matching = [p for p in own if any(p.counts) or p.similarity >= SEMANTIC_MIN]
            if not matching and own:
                matching = own[:1]  # tagged with the question's concept: its description opens with what it is about
            if not matching:
                continue
            best = sorted(matching, key=lambda p: -p.score)[:PASSAGES_PER_SOURCE]
            # What covers more of the question comes first; then what says it best.
            score = max(p.score for p in best) * covered.get(hit.iri, 0.0) * KIND_FACTOR.get(hit.kind, 1.0)
            ranked.append((score, hit, sorted(best, key=lambda p: p.position)))
        ranked.sort(key=lambda r: -r[0])
        return [
            Source(n, hit.iri, hit.kind, hit.titles, [p.text for p in chosen], round(score, 4))
            for n, (score, hit, chosen) in enumerate(ranked[:MAX_SOURCES], 1)
        ]

    # -- the language model -------------------------------------------------------------------

    def _generate(self, answer: Answer) -> None:
        """Let the model write the answer from the sources; keep the extractive one when it cannot."""
        assert self.llm is not None
        try:
            reply = complete(self.llm, grounded_prompt(answer))
        except LlmError as error:
            log.warning("language model unavailable, answering extractively: %s", error)
            answer.notice = "llm_unavailable"
            return
        if REFUSAL_MARK in reply.upper():
            answer.mode = "refused"
            answer.parts = []
            for s in answer.sources:
                s.cited = False
            return
        numbers = {s.n for s in answer.sources}
        invalid: list[int] = []

        def keep_valid(match: re.Match[str]) -> str:
            found = [int(n) for n in re.findall(r"\d+", match.group(1))]
            valid = [n for n in found if n in numbers]
            invalid.extend(n for n in found if n not in numbers)
            return "".join(f"[{n}]" for n in dict.fromkeys(valid))

        parts: list[Part] = []
        for paragraph in re.split(r"\n\s*\n", reply):
            text = re.sub(r"[ \t]+([.,;:])", r"\1", _CITATION.sub(keep_valid, paragraph)).strip()
            if text:
                parts.append(Part(text, sorted({int(n) for n in re.findall(r"\[(\d+)\]", text)})))
        answer.invalid_citations = sorted(set(invalid))
        cited = {n for p in parts for n in p.citations}
        if not cited:  # not grounded in any source: do not show it
            log.warning("the language model's answer cites no source; answering extractively")
            answer.notice = "llm_ungrounded"
            return
        answer.mode = "generated"
        answer.parts = parts
        for s in answer.sources:
            s.cited = s.n in cited


#: What the model answers when the sources do not support an answer.
REFUSAL_MARK = "NOT_IN_SOURCES"

_SYSTEM = {
    "da": (
        "Du svarer på spørgsmål om arbejdsmiljø for Arbejdsmiljøviden. Svar kort (højst fem sætninger) på "
        "dansk og KUN ud fra de nummererede kilder nedenfor, aldrig ud fra anden viden. Sæt kildens nummer "
        "i firkantede parenteser, fx [1] eller [2][3], efter hver oplysning. Hvis kilderne ikke besvarer "
        f"spørgsmålet, så svar kun med ordet {REFUSAL_MARK}."
    ),
    "en": (
        "You answer questions about the working environment for Arbejdsmiljøviden. Answer briefly (at most "
        "five sentences) in English and ONLY from the numbered sources below, never from other knowledge. "
        "Put the source's number in square brackets, e.g. [1] or [2][3], after each statement. The sources "
        f"may be in Danish. If the sources do not answer the question, reply only with the word {REFUSAL_MARK}."
    ),
}


def grounded_prompt(answer: Answer) -> list[dict[str, str]]:
    """The chat messages: instructions, then the question and the numbered sources."""
    lang = answer.lang if answer.lang in _SYSTEM else "da"
    sources = "\n\n".join(f"[{s.n}] {s.title(lang)}\n" + " ".join(s.passages) for s in answer.sources)
    label = ("Spørgsmål", "Kilder") if lang == "da" else ("Question", "Sources")
    return [
        {"role": "system", "content": _SYSTEM[lang]},
        {"role": "user", "content": f"{label[0]}: {answer.question}\n\n{label[1]}:\n{sources}"},
    ]


def _descriptions(hit: Hit, lang: str) -> list[tuple[str, str]]:
    """A record's description texts with their language, the question's language first."""
    found = [(text_lang, text) for text_lang, text in hit.descriptions.items() if text]
    return sorted(found, key=lambda item: item[0] != lang)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return float(dot / norm) if norm else 0.0


# -- the optional embedding model -------------------------------------------------------------------


class FastEmbedEmbedder:
    """Sentence embeddings with fastembed (ONNX, CPU), installed by the `ask` extra."""

    def __init__(self, model_name: str) -> None:
        from fastembed import TextEmbedding  # the optional extra: imported only when asked for

        self.model = TextEmbedding(model_name=model_name)

    def embed(self, texts: Sequence[str]) -> list[Sequence[float]]:
        return [vector.tolist() for vector in self.model.embed(list(texts))]


def load_embedder(model_name: str) -> Embedder | None:
    """The sentence-embedding model, or None when none is named ("" or "none"), the `ask` extra is not
    installed, or the model cannot be loaded (it is downloaded on first use)."""
    if not model_name or model_name.lower() in ("none", "off"):
        return None
    try:
        import fastembed  # noqa: F401
    except ImportError:
        log.info("the ask box uses no sentence embeddings: install the `ask` extra for them")
        return None
    try:
        return FastEmbedEmbedder(model_name)
    except Exception:  # noqa: BLE001 - a model that cannot load leaves the ask box lexical, not broken
        log.exception("the sentence-embedding model %s could not be loaded; the ask box works without it", model_name)
        return None
