"""RSS and Atom feeds (any version feedparser reads), fetched conditionally: each entry with its title,
summary or content, link, date, authors, categories and language (the entry's, else the feed's)."""

from __future__ import annotations

import time
from typing import Any

import feedparser

from graph.harvest.entry import HarvestedEntry, clean, entry_key, iso_date, normalise_doi, plain_text
from graph.harvest.fetching import HarvestContext, HarvestError

ACCEPT = "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1"


def harvest(context: HarvestContext) -> list[HarvestedEntry]:
    result = context.get_main(accept=ACCEPT)
    if result is None:
        return []
    # The content location makes relative links absolute; the body is parsed, never fetched again by feedparser.
    parsed = feedparser.parse(
        result.content,
        response_headers={
            "content-location": result.final_url,
            "content-type": result.headers.get("content-type", "application/xml"),
        },
    )
    if not parsed.entries and parsed.get("bozo"):
        raise HarvestError(f"{result.final_url} is not an RSS or Atom feed ({parsed.get('bozo_exception')})")
    feed_language = parsed.feed.get("language")
    publisher = clean(parsed.feed.get("title")) or None
    entries = []
    for item in parsed.entries[: context.max_entries]:
        entry = _entry(item, feed_language, publisher)
        if entry is None:
            context.note(f"an entry without a title or link in {result.final_url} was left out")
        else:
            entries.append(entry)
    return entries


def _entry(item: Any, feed_language: str | None, publisher: str | None) -> HarvestedEntry | None:
    title = plain_text(item.get("title"))
    link = item.get("link") or ""
    doi = normalise_doi(item.get("prism_doi") or item.get("dc_identifier") or "")
    if not link.startswith(("http://", "https://")):
        link = item.get("id", "") if str(item.get("id", "")).startswith(("http://", "https://")) else ""
    key = entry_key(doi=doi, url=link or None)
    if not title or key is None:
        return None
    content = item.get("content") or []
    body = item.get("summary") or (content[0].get("value") if content else "")
    language = (item.get("title_detail") or {}).get("language") or feed_language
    parsed_date = item.get("published_parsed") or item.get("updated_parsed")
    issued = time.strftime("%Y-%m-%d", parsed_date) if parsed_date else iso_date(item.get("published"))
    authors = [clean(a.get("name")) for a in item.get("authors") or [] if clean(a.get("name"))]
    return HarvestedEntry(
        key=key,
        title=title,
        description=plain_text(body),
        url=link or None,
        date=issued,
        language=language,
        authors=authors,
        publisher=publisher,
        doi=doi,
        keywords=[clean(t.get("term")) for t in item.get("tags") or [] if clean(t.get("term"))],
        license=item.get("license") if str(item.get("license", "")).startswith("http") else None,
    )
