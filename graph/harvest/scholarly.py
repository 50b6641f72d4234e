"""International research from the open scholarly metadata APIs, queried by thesaurus concepts.

**OpenAlex** (`GET {base}/works?search=…&filter=from_publication_date:YYYY-MM-DD&per_page=100&cursor=*`):
the search is the concepts' Danish and English labels joined with OR (phrases in quotes); pages follow
`meta.next_cursor` until it is null or a page is empty. The abstract comes as `abstract_inverted_index`
(word → positions) and is put back in order. `api_key` (AMV_OPENALEX_API_KEY; OpenAlex wants one for real
use) and `mailto` (AMV_HARVEST_MAILTO) are sent when set.

**Crossref** (`GET {base}/works?query=…&filter=from-pub-date:YYYY-MM-DD&rows=100&cursor=*`): the labels as
one query (Crossref scores words, it has no OR); pages follow `message.next-cursor` until a page has no
items. Abstracts are JATS XML, read as text. `mailto` puts us in Crossref's polite pool.

Both stop after `max_entries` works per run. Base URLs are the source's address (tests use a local server).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from graph.harvest.entry import HarvestedEntry, clean, doi_url, entry_key, iso_date, normalise_doi, plain_text
from graph.harvest.fetching import HarvestContext, HarvestError

OPENALEX_URL = "https://api.openalex.org"
CROSSREF_URL = "https://api.crossref.org"
PAGE_SIZE = 100
MAX_PAGES = 10


def _json(context: HarvestContext, url: str) -> Any:
    # APIs, not pages: robots.txt is for crawlers of web pages; these are documented for programs.
    result = context.fetcher.get(url, accept="application/json", robots=False)
    try:
        return json.loads(result.content)
    except ValueError as exc:
        raise HarvestError(f"{result.final_url} did not answer JSON") from exc


def _works_url(base: str) -> str:
    base = base.rstrip("/")
    return base if base.endswith("/works") else base + "/works"


# -- OpenAlex --------------------------------------------------------------------------------


def openalex_search(labels: list[str]) -> str:
    quoted = ['"' + label.replace('"', " ").strip() + '"' for label in labels if label.strip()]
    return " OR ".join(dict.fromkeys(quoted))


def abstract_text(inverted: dict[str, list[int]] | None) -> str:
    """The abstract from OpenAlex's inverted index (each word with the positions it stands at)."""
    if not isinstance(inverted, dict):
        return ""
    placed = sorted((position, word) for word, positions in inverted.items() for position in positions or [])
    return clean(" ".join(word for _, word in placed))


def harvest_openalex(context: HarvestContext) -> list[HarvestedEntry]:
    if not context.labels:
        raise HarvestError("an OpenAlex source needs concepts (--concept) to search for")
    params = {
        "search": openalex_search(context.labels),
        "filter": f"from_publication_date:{context.since.isoformat()}",
        "per_page": str(PAGE_SIZE),
    }
    if context.mailto:
        params["mailto"] = context.mailto
    if context.openalex_api_key:
        params["api_key"] = context.openalex_api_key
    entries: list[HarvestedEntry] = []
    cursor = "*"
    for _ in range(MAX_PAGES):
        page = _json(context, _works_url(context.url) + "?" + urlencode({**params, "cursor": cursor}))
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list):
            raise HarvestError("OpenAlex answered without a list of results")
        entries += [e for e in (_openalex_entry(w) for w in results if isinstance(w, dict)) if e is not None]
        cursor = (page.get("meta") or {}).get("next_cursor")
        if not results or not cursor:
            break
        if len(entries) >= context.max_entries:
            context.note(f"stopped after {len(entries)} works; the rest follow in the next runs")
            break
    return entries[: context.max_entries]


def _openalex_entry(work: dict[str, Any]) -> HarvestedEntry | None:
    title = plain_text(work.get("title") or work.get("display_name"))
    doi = normalise_doi(work.get("doi"))
    location = work.get("primary_location") or {}
    landing = location.get("landing_page_url") if isinstance(location, dict) else None
    url = doi_url(doi) if doi else landing or work.get("id")
    key = entry_key(doi=doi, url=url)
    if not title or key is None:
        return None
    source = location.get("source") if isinstance(location, dict) else None
    authors = [
        clean((a.get("author") or {}).get("display_name"))
        for a in work.get("authorships") or []
        if isinstance(a, dict) and clean((a.get("author") or {}).get("display_name"))
    ]
    license_name = location.get("license") if isinstance(location, dict) else None
    return HarvestedEntry(
        key=key,
        title=title,
        description=abstract_text(work.get("abstract_inverted_index")),
        url=url,
        date=iso_date(work.get("publication_date")) or iso_date(str(work.get("publication_year") or "")),
        language=work.get("language"),
        authors=authors,
        container=clean(source.get("display_name")) if isinstance(source, dict) else None,
        publisher=clean(source.get("host_organization_name")) or None if isinstance(source, dict) else None,
        doi=doi,
        types=[t for t in (work.get("type"), work.get("type_crossref")) if isinstance(t, str)],
        keywords=[
            clean(k.get("display_name"))
            for k in work.get("keywords") or []
            if isinstance(k, dict) and clean(k.get("display_name"))
        ],
        license=_license_url(license_name),
    )


_LICENSES = {
    "cc-by": "https://creativecommons.org/licenses/by/4.0/",
    "cc-by-sa": "https://creativecommons.org/licenses/by-sa/4.0/",
    "cc-by-nc": "https://creativecommons.org/licenses/by-nc/4.0/",
    "cc-by-nd": "https://creativecommons.org/licenses/by-nd/4.0/",
    "cc-by-nc-sa": "https://creativecommons.org/licenses/by-nc-sa/4.0/",
    "cc-by-nc-nd": "https://creativecommons.org/licenses/by-nc-nd/4.0/",
    "cc0": "https://creativecommons.org/publicdomain/zero/1.0/",
}


def _license_url(name: Any) -> str | None:
    if isinstance(name, str) and name.startswith(("http://", "https://")):
        return name
    return _LICENSES.get(name) if isinstance(name, str) else None


# -- Crossref --------------------------------------------------------------------------------


def harvest_crossref(context: HarvestContext) -> list[HarvestedEntry]:
    if not context.labels:
        raise HarvestError("a Crossref source needs concepts (--concept) to search for")
    params = {
        "query": " ".join(dict.fromkeys(context.labels)),
        "filter": f"from-pub-date:{context.since.isoformat()}",
        "rows": str(PAGE_SIZE),
    }
    if context.mailto:
        params["mailto"] = context.mailto
    entries: list[HarvestedEntry] = []
    cursor = "*"
    for _ in range(MAX_PAGES):
        page = _json(context, _works_url(context.url) + "?" + urlencode({**params, "cursor": cursor}))
        message = page.get("message") if isinstance(page, dict) else None
        items = message.get("items") if isinstance(message, dict) else None
        if not isinstance(items, list):
            raise HarvestError("Crossref answered without message.items")
        entries += [e for e in (_crossref_entry(w) for w in items if isinstance(w, dict)) if e is not None]
        cursor = message.get("next-cursor")
        if not items or not cursor:
            break
        if len(entries) >= context.max_entries:
            context.note(f"stopped after {len(entries)} works; the rest follow in the next runs")
            break
    return entries[: context.max_entries]


def _first(value: Any) -> str:
    if isinstance(value, list):
        return clean(next((v for v in value if isinstance(v, str) and v.strip()), ""))
    return clean(value) if isinstance(value, str) else ""


def _crossref_entry(work: dict[str, Any]) -> HarvestedEntry | None:
    title = plain_text(_first(work.get("title")))
    doi = normalise_doi(work.get("DOI"))
    url = doi_url(doi) if doi else work.get("URL")
    key = entry_key(doi=doi, url=url)
    if not title or key is None:
        return None
    issued = None
    for field_name in ("issued", "published", "published-print", "published-online"):
        parts = (work.get(field_name) or {}).get("date-parts") or [[]]
        issued = iso_date(parts[0] if parts and isinstance(parts[0], list) else [])
        if issued:
            break
    authors = []
    for author in work.get("author") or []:
        if isinstance(author, dict):
            name = clean(f"{author.get('given') or ''} {author.get('family') or ''}") or clean(author.get("name"))
            if name:
                authors.append(name)
    licenses = [lic.get("URL") for lic in work.get("license") or [] if isinstance(lic, dict) and lic.get("URL")]
    return HarvestedEntry(
        key=key,
        title=title,
        description=plain_text(work.get("abstract")),
        url=url,
        date=issued,
        language=work.get("language"),
        authors=authors,
        publisher=clean(work.get("publisher")) or None,
        container=_first(work.get("container-title")) or None,
        doi=doi,
        types=[work["type"]] if isinstance(work.get("type"), str) else [],
        keywords=[s for s in (clean(s) for s in work.get("subject") or [] if isinstance(s, str)) if s],
        license=licenses[0] if licenses else None,
    )
