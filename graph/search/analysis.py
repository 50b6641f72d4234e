"""Text analysis for search: folding, words, stemming, edit distance and highlighting.

Everything the index stores as searchable text is folded here first, and every query is folded the
same way, so that spellings without æ, ø and å match: æ → ae, ø → oe, å → aa (the way Danes write
them on a keyboard without those letters), other accents are dropped (é → e). The folded text is
then analysed by tantivy: Danish or English stop words and a Snowball stemmer per language.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import tantivy
from markupsafe import Markup, escape

#: Letters folded to more than one letter (the rest lose their accents through NFD).
_FOLD = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "ae", "ö": "oe", "ß": "ss", "đ": "d", "ł": "l"})
_WORD = re.compile(r"[^\W_]+")
_FOLD_LETTERS = [(chr(code), value) for code, value in _FOLD.items()]

#: The Snowball Danish stop words, folded like the text they are removed from.
DANISH_STOP_WORDS = frozenset(
    """og i jeg det at en den til er som paa de med han af for ikke der var mig sig men et har om
vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv her alle vil blev kunne
ind naar vaere dog noget ville jo deres efter ned skulle denne end dette mit ogsaa under have dig anden hende mine
alt meget sit sine vor mod disse hvis din nogle hos blive mange ad bliver hendes vaeret thi jer saadan""".split()  # noqa: SIM905
)

#: Tokenizer names registered on every index; a field names the one that analyses it.
DA = "amv_da"
EN = "amv_en"
#: Query words of this many letters or more also match within one edit and inside longer words (compounds).
LONG_WORD = 5
MAX_WORD = 40
#: How much of a description a snippet is chosen from.
SNIPPET_SOURCE = 3000


class _WithoutMarks(dict[int, str]):
    """A `str.translate` table: each character as NFD without its combining marks, worked out the first
    time the character is met. Per character equals per text (decomposition is per character, and the
    reordering NFD does only moves marks that are dropped), and translating is done in C: indexing long
    Danish texts spent most of its time in a per-character Python loop."""

    def __missing__(self, code: int) -> str:
        stripped = "".join(c for c in unicodedata.normalize("NFD", chr(code)) if not unicodedata.combining(c))
        self[code] = stripped
        return stripped


_WITHOUT_MARKS = _WithoutMarks()


def fold(text: str) -> str:
    """Lower-case, æ → ae, ø → oe, å → aa, accents dropped: the form every index and query term has."""
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    # str.replace per letter is several times faster than str.translate with multi-letter values.
    for letter, replacement in _FOLD_LETTERS:
        if letter in lowered:
            lowered = lowered.replace(letter, replacement)
    if lowered.isascii():
        return lowered
    return lowered.translate(_WITHOUT_MARKS)


def words(text: str) -> list[str]:
    """The words of a text (letters and digits), as written."""
    return _WORD.findall(text)


def word_spans(text: str) -> Iterator[tuple[int, int]]:
    for match in _WORD.finditer(text):
        yield match.start(), match.end()


def analyzer(language: str) -> tantivy.TextAnalyzer:
    """The analyser of one language for already folded text: words, stop words, Snowball stems."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.lowercase())
    builder = builder.filter(tantivy.Filter.remove_long(MAX_WORD)).filter(tantivy.Filter.ascii_fold())
    if language == "da":
        builder = builder.filter(tantivy.Filter.custom_stopword(sorted(DANISH_STOP_WORDS)))
        return builder.filter(tantivy.Filter.stemmer("danish")).build()
    return builder.filter(tantivy.Filter.stopword("english")).filter(tantivy.Filter.stemmer("english")).build()


def _stemmer(language: str) -> tantivy.TextAnalyzer:
    """Stems without removing stop words (for matching concept labels word by word)."""
    builder = tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple()).filter(tantivy.Filter.lowercase())
    return builder.filter(tantivy.Filter.stemmer("danish" if language == "da" else "english")).build()


def register_analyzers(index: tantivy.Index) -> None:
    """Tokenizers are not stored in the index: every process registers them when it opens one."""
    index.register_tokenizer(DA, analyzer("da"))
    index.register_tokenizer(EN, analyzer("en"))


_ANALYZERS = {"da": analyzer("da"), "en": analyzer("en")}
_STEMMERS = {"da": _stemmer("da"), "en": _stemmer("en")}


@lru_cache(maxsize=200_000)
def terms(folded_word: str, language: str) -> tuple[str, ...]:
    """The index terms one folded word gives in a language (none for a stop word)."""
    return tuple(_ANALYZERS[language].analyze(folded_word))


def is_stop_word(folded_word: str) -> bool:
    """A word either language's analyser leaves out ("og", "til", "the")."""
    return not terms(folded_word, "da") or not terms(folded_word, "en")


@lru_cache(maxsize=200_000)
def _fold_word(word: str) -> str:
    return fold(word)


@lru_cache(maxsize=200_000)
def _forms(folded: str) -> frozenset[str]:
    return frozenset({folded, stem(folded, "da"), stem(folded, "en")})


@lru_cache(maxsize=200_000)
def stem(folded_word: str, language: str) -> str:
    """The stem of one folded word (stop words too)."""
    found = _STEMMERS[language].analyze(folded_word)
    return found[0] if found else folded_word


def word_suffixes(folded_texts: Iterable[str]) -> str:
    """The distinct suffixes of LONG_WORD+ letters of folded texts' longer words, space-separated (the
    `suffixes` field): a query word occurs inside a word exactly when it begins one of the word's suffixes
    ("stoejbelastning" has "belastning")."""
    long_words = {w for text in folded_texts for w in _WORD.findall(text) if LONG_WORD < len(w) <= MAX_WORD}
    return " ".join({word[start:] for word in long_words for start in range(len(word) - LONG_WORD + 1)})


def inside_pattern(folded_word: str) -> str | None:
    """The regular expression (tantivy's, anchored to the whole term) of the `suffixes` terms that begin with
    a query word, or None for a word too short to be looked for inside others."""
    if len(folded_word) < LONG_WORD or not folded_word.isalnum():
        return None
    # Letters and digits only (`words` gives nothing else), so nothing needs escaping. A prefix: the term
    # dictionary is walked below the word only, however many words the index has.
    return f"{folded_word}.*"


def within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion, substitution or transposition."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    return a[i:] == b[i + 1 :]


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, or limit + 1 when it is larger than `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


# -- highlighting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Highlighter:
    """Decides which words of a text the query matched, the way the index matched them."""

    exact: frozenset[str]  # folded query words (and one-word labels) and their stems in both languages
    fuzzy: frozenset[str]  # folded query words of 5+ letters, matched within one edit
    parts: frozenset[str]  # folded query words of 5+ letters, matched inside compounds
    phrases: dict[str, tuple[tuple[frozenset[str], ...], ...]] = field(default_factory=dict)  # by a first-word form

    @classmethod
    def for_words(cls, query_words: Iterable[str], labels: Iterable[str] = ()) -> Highlighter:
        exact: set[str] = set()
        fuzzy: set[str] = set()
        parts: set[str] = set()
        for word in query_words:
            folded = fold(word)
            exact |= _forms(folded)
            if len(folded) >= LONG_WORD:
                fuzzy.add(folded)
                parts.add(folded)
        phrases: dict[str, set[tuple[frozenset[str], ...]]] = {}
        for label in labels:
            phrase = tuple(_forms(w) for w in words(fold(label)))
            if len(phrase) == 1:
                exact |= phrase[0]
            elif phrase:
                for form in phrase[0]:
                    phrases.setdefault(form, set()).add(phrase)
        frozen = {form: tuple(found) for form, found in phrases.items()}
        return cls(frozenset(exact), frozenset(fuzzy), frozenset(parts), frozen)

    def _matches(self, folded: str, forms: frozenset[str]) -> bool:
        if forms & self.exact:
            return True
        if len(folded) >= LONG_WORD - 1 and any(within_one_edit(folded, f) for f in self.fuzzy):
            return True
        return len(folded) > LONG_WORD and any(p in folded for p in self.parts)

    def matches(self, word: str) -> bool:
        folded = fold(word)
        return self._matches(folded, _forms(folded))

    def marked(self, text: str) -> list[tuple[int, int]]:
        """The spans of the matched words of a text."""
        spans = list(word_spans(text))
        folded = [_fold_word(text[s:e]) for s, e in spans]
        forms = [_forms(f) for f in folded]
        chosen = {i for i in range(len(spans)) if self._matches(folded[i], forms[i])}
        if self.phrases:
            for i, first in enumerate(forms):
                candidates = {p for form in first for p in self.phrases.get(form, ())}
                for phrase in candidates:
                    n = len(phrase)
                    if i + n <= len(forms) and all(forms[i + k] & phrase[k] for k in range(1, n)):
                        chosen.update(range(i, i + n))
        return [spans[i] for i in sorted(chosen)]

    def snippet(self, text: str, size: int = 240) -> Markup:
        """A window of `text` around the best cluster of matched words, HTML-escaped, matches in <mark>."""
        text = text[:SNIPPET_SOURCE]
        spans = list(word_spans(text))
        hits = self.marked(text)
        start, end = 0, min(len(text), size)
        if hits and len(text) > size:
            # The window (starting at a matched word) holding the most matches.
            best = max(range(len(hits)), key=lambda i: sum(1 for s, _ in hits[i:] if s < hits[i][0] + size))
            start = max(0, hits[best][0] - size // 6)
            if start > 0:
                start = next((s for s, _ in spans if s >= start), start)
            end = min(len(text), start + size)
        if end < len(text):
            end = max((e for s, e in spans if start < e <= end), default=end)
        parts: list[str] = ["…" if start > 0 else ""]
        cursor = start
        for s, e in hits:
            if s < start or e > end:
                continue
            parts.append(str(escape(text[cursor:s])))
            parts.append(f"<mark>{escape(text[s:e])}</mark>")
            cursor = e
        parts.append(str(escape(text[cursor:end])))
        if end < len(text):
            parts.append("…")
        return Markup("".join(parts))
