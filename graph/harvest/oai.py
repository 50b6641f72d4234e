"""OAI-PMH repositories (university research archives): `ListRecords` in Dublin Core (`oai_dc`), from the
day after which records changed (`from=YYYY-MM-DD`, the protocol's day granularity), page by page with
`resumptionToken` until the token is empty. Deleted records are skipped; `noRecordsMatch` is no error.
Responses are untrusted XML, parsed with defusedxml."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from graph.harvest.entry import HarvestedEntry, clean, entry_key, iso_date, normalise_doi, plain_text
from graph.harvest.fetching import HarvestContext, HarvestError

OAI = "{http://www.openarchives.org/OAI/2.0/}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
ACCEPT = "text/xml, application/xml;q=0.9"
#: Pages read in one run at most (each holds the repository's page size, often 100).
MAX_PAGES = 20


def list_records_url(base: str, *, since: str | None = None, token: str | None = None) -> str:
    """The ListRecords request. The base may carry arguments of its own (e.g. `set=…`); a follow-up with a
    resumptionToken carries nothing but the verb and the token (it is an exclusive argument)."""
    path, _, own = base.partition("?")
    if token:
        return path + "?" + urlencode({"verb": "ListRecords", "resumptionToken": token})
    query = [(k, v) for k, v in parse_qsl(own) if k not in ("verb", "metadataPrefix", "from", "resumptionToken")]
    query += [("verb", "ListRecords"), ("metadataPrefix", "oai_dc")]
    if since:
        query.append(("from", since))
    return path + "?" + urlencode(query)


def harvest(context: HarvestContext) -> list[HarvestedEntry]:
    entries: list[HarvestedEntry] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        url = list_records_url(context.url, since=context.since.isoformat(), token=token)
        result = context.fetcher.get(url, accept=ACCEPT, robots=False)
        try:
            root = SafeET.fromstring(result.content)
        except (SafeET.ParseError, DefusedXmlException) as exc:
            raise HarvestError(f"{result.final_url} did not answer OAI-PMH XML ({exc})") from exc
        error = root.find(OAI + "error")
        if error is not None:
            if error.get("code") == "noRecordsMatch":
                break
            raise HarvestError(f"OAI-PMH error {error.get('code')}: {clean(error.text)}")
        listing = root.find(OAI + "ListRecords")
        if listing is None:
            raise HarvestError(f"{result.final_url} answered without ListRecords")
        for record in listing.findall(OAI + "record"):
            entry = _entry(record)
            if entry is not None:
                entries.append(entry)
        if len(entries) >= context.max_entries:
            context.note(f"stopped after {len(entries)} records; the rest follow in the next runs")
            break
        token_element = listing.find(OAI + "resumptionToken")
        token = clean(token_element.text) if token_element is not None else ""
        if not token:
            break
    return entries[: context.max_entries]


def _entry(record: Any) -> HarvestedEntry | None:
    header = record.find(OAI + "header")
    if header is None or header.get("status") == "deleted":
        return None
    identifier = clean(header.findtext(OAI + "identifier"))
    dc = record.find(f"{OAI}metadata/{OAI_DC}dc")
    if dc is None or not identifier:
        return None

    def values(name: str) -> list[str]:
        return [clean(e.text) for e in dc.findall(DC + name) if clean(e.text)]

    titles = values("title")
    if not titles:
        return None
    identifiers = values("identifier") + values("relation")
    doi = next((d for d in (normalise_doi(i) for i in identifiers if "10." in i) if d), None)
    links = [i for i in identifiers if i.startswith(("http://", "https://")) and "doi.org/" not in i]
    url = links[0] if links else (f"https://doi.org/{doi}" if doi else None)
    rights = [r for r in values("rights") if r.startswith(("http://", "https://"))]
    return HarvestedEntry(
        key=entry_key(doi=doi, oai=identifier) or "",
        title=plain_text(titles[0]),
        description=plain_text(" ".join(values("description"))),
        url=url,
        date=next((d for d in (iso_date(v) for v in values("date")) if d), None),
        language=next(iter(values("language")), None),
        authors=values("creator"),
        publisher=next(iter(values("publisher")), None),
        doi=doi,
        types=values("type"),
        keywords=values("subject"),
        license=rights[0] if rights else None,
    )
