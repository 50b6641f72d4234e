"""Web pages carrying schema.org JSON-LD (`<script type="application/ld+json">`), and sitemaps of them.

A page's JSON-LD blocks are read with the standard library's HTML parser and `json`; nodes are found at
the top, in lists and in `@graph`, and mapped by their schema.org type (plain, `schema:` prefixed or as a
full IRI): the kinds of CreativeWork (Article, ScholarlyArticle, Report, Course, …) become knowledge
items, Event and its kinds become events; other nodes (WebPage, Organization, BreadcrumbList …) are
ignored. A sitemap (`urlset`, or a `sitemapindex` of them; `.xml.gz` too) gives the page addresses:
newest first by `lastmod`, pages harvested before are not fetched again, and at most `max_entries` new
pages are fetched per run. Sitemaps are untrusted XML, parsed with defusedxml."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from graph.harvest.entry import HarvestedEntry, clean, entry_key, iso_date, normalise_doi, plain_text
from graph.harvest.fetching import HarvestContext, HarvestError
from graph.iris import RecordKind
from graph.outbound import OutboundError

ITEM_TYPES = frozenset(
    {
        "CreativeWork",
        "Article",
        "ScholarlyArticle",
        "NewsArticle",
        "TechArticle",
        "Report",
        "Course",
        "Book",
        "Chapter",
        "Thesis",
        "Guide",
        "HowTo",
        "Dataset",
        "DigitalDocument",
        "LearningResource",
        "VideoObject",
        "PodcastEpisode",
        "BlogPosting",
        "FAQPage",
    }
)
EVENT_TYPES = frozenset(
    {
        "Event",
        "EducationEvent",
        "BusinessEvent",
        "ExhibitionEvent",
        "Hackathon",
        "SocialEvent",
        "CourseInstance",
        "EventSeries",
    }
)
ACCEPT_HTML = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
ACCEPT_XML = "application/xml, text/xml;q=0.9, */*;q=0.1"
#: Nested sitemaps followed from one sitemap index.
MAX_CHILD_SITEMAPS = 10
_SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# -- pages -----------------------------------------------------------------------------------


class _JsonLdScripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # script content is raw text: no entities to resolve
        self.blocks: list[str] = []
        self._inside = False
        self._parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        media = dict(attrs).get("type") or ""
        if tag == "script" and media.split(";")[0].strip().lower() == "application/ld+json":
            self._inside, self._parts = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._inside:
            self.blocks.append("".join(self._parts))
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._parts.append(data)


def jsonld_blocks(page: str) -> list[str]:
    parser = _JsonLdScripts()
    parser.feed(page)
    parser.close()
    return parser.blocks


def schema_type(value: str) -> str:
    """ "Article" from "Article", "schema:Article", "http://schema.org/Article" or "https://schema.org/Article"."""
    return re.split(r"[/:#]", value.strip())[-1]


def _types(node: dict[str, Any]) -> list[str]:
    raw = node.get("@type", [])
    return [schema_type(t) for t in (raw if isinstance(raw, list) else [raw]) if isinstance(t, str)]


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    """Every node of a JSON-LD document with a type: top-level objects, lists, @graph members."""
    if isinstance(data, list):
        for member in data:
            yield from _nodes(member)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def _text(value: Any) -> str:
    """A string from a JSON-LD value: text, {"@value": …}, {"name": …}, or the first of a list."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        return _text(value.get("@value") or value.get("name") or value.get("@id") or "")
    if isinstance(value, list):
        return next((t for t in (_text(v) for v in value) if t), "")
    return ""


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    return [t for t in (_text(v) for v in values) if t]


def _language(node: dict[str, Any]) -> str | None:
    value = node.get("inLanguage")
    if isinstance(value, dict):
        return _text(value.get("alternateName") or value.get("name"))
    return _text(value) or None


def _location(node: dict[str, Any]) -> str | None:
    places = node.get("location")
    for place in places if isinstance(places, list) else [places]:
        if isinstance(place, str) and place.strip():
            return clean(place)
        if isinstance(place, dict):
            if "VirtualLocation" in _types(place):
                return "Online"
            address = place.get("address")
            if isinstance(address, dict):
                parts = [
                    _text(address.get(k))
                    for k in ("streetAddress", "postalCode", "addressLocality")
                    if _text(address.get(k))
                ]
                address_text = ", ".join(parts)
            else:
                address_text = _text(address)
            text = ", ".join(p for p in (_text(place.get("name")), address_text) if p)
            if text:
                return text
    mode = _text(node.get("eventAttendanceMode"))
    return "Online" if mode.endswith("OnlineEventAttendanceMode") else None


def _keywords(node: dict[str, Any]) -> list[str]:
    words = node.get("keywords")
    found = [clean(w) for w in words.split(",")] if isinstance(words, str) else _texts(words)
    return [w for w in found + _texts(node.get("about")) if w]


def entries_from_page(page: str, page_url: str) -> tuple[list[HarvestedEntry], list[str]]:
    """The page's items and events, and notes on what could not be read."""
    entries: list[HarvestedEntry] = []
    notes: list[str] = []
    for block in jsonld_blocks(page):
        try:
            data = json.loads(block)
        except json.JSONDecodeError as exc:
            notes.append(f"{page_url}: a JSON-LD block is not valid JSON ({exc.msg}, line {exc.lineno})")
            continue
        for node in _nodes(data):
            types = _types(node)
            if not (set(types) & (ITEM_TYPES | EVENT_TYPES)):
                continue
            entry = _entry(node, types, page_url, len(entries))
            if entry is None:
                notes.append(f"{page_url}: a {'/'.join(types)} without a name was left out")
            else:
                entries.append(entry)
    return entries, notes


def _entry(node: dict[str, Any], types: list[str], page_url: str, position: int) -> HarvestedEntry | None:
    title = plain_text(_text(node.get("headline")) or _text(node.get("name")))
    if not title:
        return None
    node_id = _text(node.get("@id"))
    # A node's @id is often the page address with a fragment (#article): the page is its address.
    own_url = _text(node.get("url")) or (node_id.split("#", 1)[0] if node_id.startswith("http") else "")
    url = urljoin(page_url, own_url) if own_url else page_url
    identifiers = _texts(node.get("identifier")) + _texts(node.get("sameAs")) + [own_url]
    doi = next((d for d in (normalise_doi(i) for i in identifiers if "10." in i) if d), None)
    # Several nodes on one page without addresses of their own: tell them apart by position.
    key = entry_key(doi=doi, url=url) or ""
    if not doi and not _text(node.get("url")) and position:
        key += f"#{position}"
    event = bool(set(types) & EVENT_TYPES)
    return HarvestedEntry(
        key=key,
        title=title,
        description=plain_text(_text(node.get("description")) or _text(node.get("abstract"))),
        url=url,
        date=iso_date(_text(node.get("datePublished")) or _text(node.get("dateCreated"))),
        language=_language(node),
        authors=_texts(node.get("author")) + _texts(node.get("creator")),
        publisher=_text(node.get("publisher")) or None,
        container=_text(node.get("isPartOf")) or None,
        doi=doi,
        kind=RecordKind.event if event else RecordKind.item,
        types=types,
        keywords=_keywords(node),
        start=_text(node.get("startDate")) or None,
        end=_text(node.get("endDate")) or None,
        location=_location(node) if event else None,
        license=_text(node.get("license")) if _text(node.get("license")).startswith("http") else None,
    )


def harvest_page(context: HarvestContext) -> list[HarvestedEntry]:
    result = context.get_main(accept=ACCEPT_HTML)
    if result is None:
        return []
    entries, notes = entries_from_page(result.text, result.final_url)
    for note in notes:
        context.note(note)
    if not entries:
        context.note(f"{result.final_url} has no schema.org items or events in JSON-LD")
    return entries[: context.max_entries]


# -- sitemaps --------------------------------------------------------------------------------


def _xml_root(body: bytes, url: str) -> Any:
    if body[:2] == b"\x1f\x8b":
        try:
            body = gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise HarvestError(f"{url} is not a readable gzip file") from exc
    try:
        return SafeET.fromstring(body)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise HarvestError(f"{url} is not a readable sitemap ({exc})") from exc


def _locations(root: Any, element: str) -> list[tuple[str, str]]:
    """(loc, lastmod) of each <url> or <sitemap> element, with or without the sitemap namespace."""
    found = []
    for child in root:
        if child.tag not in (_SITEMAP_NS + element, element):
            continue
        loc = child.findtext(_SITEMAP_NS + "loc") or child.findtext("loc") or ""
        lastmod = child.findtext(_SITEMAP_NS + "lastmod") or child.findtext("lastmod") or ""
        if loc.strip().startswith(("http://", "https://")):
            found.append((loc.strip(), lastmod.strip()))
    return found


def _tag(root: Any) -> str:
    return str(root.tag).rsplit("}", 1)[-1]


def sitemap_pages(context: HarvestContext) -> list[tuple[str, str]] | None:
    """The page addresses of the source's sitemap (following one level of sitemap index); None if unchanged."""
    result = context.get_main(accept=ACCEPT_XML)
    if result is None:
        return None
    root = _xml_root(result.content, result.final_url)
    if _tag(root) == "sitemapindex":
        pages: list[tuple[str, str]] = []
        children = sorted(_locations(root, "sitemap"), key=lambda loc: loc[1], reverse=True)
        for child_url, _ in children[:MAX_CHILD_SITEMAPS]:
            try:
                child = context.fetcher.get(child_url, accept=ACCEPT_XML)
                pages += _locations(_xml_root(child.content, child.final_url), "url")
            except (HarvestError, OutboundError) as exc:
                context.note(f"sitemap {child_url}: {getattr(exc, 'reason', exc)}")
        return pages
    if _tag(root) != "urlset":
        raise HarvestError(f"{result.final_url} is not a sitemap (its root element is <{_tag(root)}>)")
    return _locations(root, "url")


def harvest_sitemap(context: HarvestContext) -> list[HarvestedEntry]:
    """Entries of the sitemap's new pages; `context.seen_pages` receives every page fetched."""
    pages = sitemap_pages(context)
    if pages is None:
        return []
    entries: list[HarvestedEntry] = []
    fetched = 0
    for page_url, _ in sorted(pages, key=lambda p: p[1], reverse=True):
        if fetched >= context.max_entries:
            context.note(f"stopped after {fetched} new pages; the rest follow in the next runs")
            break
        if context.known("page:" + page_url):
            continue
        fetched += 1
        try:
            page = context.fetcher.get(page_url, accept=ACCEPT_HTML)
        except (HarvestError, OutboundError) as exc:
            context.note(f"{page_url}: {getattr(exc, 'reason', exc)}")
            continue
        context.seen_pages.append(page_url)
        found, notes = entries_from_page(page.text, page.final_url)
        for note in notes:
            context.note(note)
        entries += found
    return entries
