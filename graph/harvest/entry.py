"""What every fetcher hands on: one `HarvestedEntry` per publication or event found, plus the small text
helpers they share (HTML to plain text, dates, DOIs, the entry's idempotency key)."""

from __future__ import annotations

import email.utils
import html
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from html.parser import HTMLParser

from graph.bulk_import import normalised_url
from graph.iris import RecordKind

_DOI = re.compile(r"\b(10\.\d{4,9}/\S+)", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
#: Elements whose text is not prose.
_SKIPPED = frozenset({"script", "style", "noscript", "template", "head"})
#: Elements that separate words (HTML, and JATS's `jats:p`, `jats:title`, `jats:sec` by their local name).
_BLOCKS = frozenset(
    {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "title", "sec"}
)


@dataclass
class HarvestedEntry:
    """One publication or event as a source describes it, before it is mapped to a record."""

    #: The idempotency key: `doi:10.…`, `oai:<identifier>` or `url:<normalised address>` (see `entry_key`).
    key: str
    title: str
    description: str = ""
    url: str | None = None
    #: YYYY-MM-DD or YYYY.
    date: str | None = None
    #: As the source gives it (e.g. "da", "en-GB"); None when it does not say.
    language: str | None = None
    authors: list[str] = field(default_factory=list)
    publisher: str | None = None
    #: The journal, series or repository it appeared in.
    container: str | None = None
    doi: str | None = None
    #: An event (schema:Event and its kinds); None: the source's kind.
    kind: RecordKind | None = None
    #: The source's own types ("ScholarlyArticle", "journal-article", "review", …), for the knowledge type.
    types: list[str] = field(default_factory=list)
    #: Subjects and categories the source gives (read for concepts like title and description).
    keywords: list[str] = field(default_factory=list)
    start: str | None = None
    end: str | None = None
    location: str | None = None
    license: str | None = None


def entry_key(*, doi: str | None = None, oai: str | None = None, url: str | None = None) -> str | None:
    """The identity of an entry across runs and sources: its DOI, else its OAI identifier, else its address."""
    if doi:
        return "doi:" + doi.lower()
    if oai:
        return "oai:" + oai.strip()
    if url:
        return "url:" + normalised_url(url)
    return None


def normalise_doi(value: str | None) -> str | None:
    """ "10.1234/abc" from "https://doi.org/10.1234/ABC", "doi:10.1234/abc" or the bare DOI (lower case)."""
    if not value:
        return None
    found = _DOI.search(value.strip())
    return found.group(1).rstrip(".,;)").lower() if found else None


def doi_url(doi: str) -> str:
    return "https://doi.org/" + doi


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag.rsplit(":", 1)[-1] in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1
        elif tag.rsplit(":", 1)[-1] in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def plain_text(markup: str | None) -> str:
    """Text without tags (HTML, or JATS in Crossref abstracts), entities resolved, white space collapsed."""
    if not markup:
        return ""
    if "<" not in markup:
        return clean(html.unescape(markup))
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    return clean("".join(parser.parts))


def clean(text: str | None) -> str:
    return _SPACE.sub(" ", text or "").strip()


def iso_date(value: object) -> str | None:
    """YYYY-MM-DD (or YYYY for a bare year) from the forms sources use: ISO 8601 dates and date-times,
    RFC 822 dates (RSS), [year, month, day] lists (Crossref)."""
    if isinstance(value, list | tuple):
        parts = [int(p) for p in value if isinstance(p, int | str) and str(p).isdigit()]
        if not parts:
            return None
        if len(parts) >= 3:
            try:
                return date(parts[0], parts[1], parts[2]).isoformat()
            except ValueError:
                return f"{parts[0]:04d}"
        return f"{parts[0]:04d}"
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d{4}", text):
        return text
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return text[:4]
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    found = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if found:
        return iso_date(found.group(0))
    found = re.search(r"\b(1[89]\d{2}|2\d{3})\b", text)
    return found.group(1) if found else None


def language_code(value: str | None) -> str | None:
    """ "da" from "da", "da-DK", "DA", "dan"; None when it is no language code."""
    if not value:
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    primary = {"dan": "da", "eng": "en", "swe": "sv", "nor": "no", "nob": "nb", "ger": "de", "deu": "de"}.get(
        primary, primary
    )
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None
