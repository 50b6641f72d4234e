"""Fetching for the harvester: every request goes through `graph.outbound` (the address rules, redirects
re-checked at every hop, time and size limits), paced per host, and — for pages, sitemaps and feeds —
only where robots.txt allows it. The source's main address is fetched conditionally (ETag /
Last-Modified): a 304 means nothing new, and nothing is parsed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from graph.outbound import FetchResult, HostPacer, OutboundPolicy, RobotsRules, fetch


class HarvestError(Exception):
    """A source could not be read; `reason` says why, readably (it is shown on the source)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Validators:
    """What the server said about the version of a document, for the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


class Fetcher:
    """Outbound GETs for one harvest run: policy, per-host pacing, robots.txt rules (cached per host)."""

    def __init__(self, policy: OutboundPolicy, pacer: HostPacer) -> None:
        self.policy = policy
        self.pacer = pacer
        self.robots = RobotsRules(policy)

    def get(
        self,
        url: str,
        *,
        robots: bool = True,
        accept: str | None = None,
        validators: Validators | None = None,
    ) -> FetchResult:
        """GET `url`; raises HarvestError for a robots.txt refusal or an answer other than 2xx/304, and
        lets OutboundRefused/OutboundError through (the caller reports them on the source)."""
        if robots and not self.robots.allowed(url):
            raise HarvestError(f"robots.txt of {url} does not allow us to fetch it")
        headers: dict[str, str] = {}
        if accept:
            headers["Accept"] = accept
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        with self.pacer.wait(url):
            result = fetch(url, policy=self.policy, headers=headers)
        if result.status == 304 and validators is not None:
            return result
        if not result.ok:
            raise HarvestError(f"HTTP {result.status} from {result.final_url}")
        return result


@dataclass
class HarvestContext:
    """What a fetcher needs for one run of one source, and what it reports back besides its entries."""

    url: str
    fetcher: Fetcher
    #: Fetch what is new since this day (incremental sources: OAI-PMH `from`, OpenAlex/Crossref dates).
    since: date
    #: At most this many entries (and, for sitemaps, new pages fetched) per run.
    max_entries: int
    #: The labels (da/en) of the source's concepts: the query of OpenAlex and Crossref sources.
    labels: list[str] = field(default_factory=list)
    #: A polite contact address sent to the scholarly APIs (`mailto`).
    mailto: str = ""
    openalex_api_key: str = ""
    #: True for an entry key harvested before (a sitemap need not fetch such a page again).
    known: Callable[[str], bool] = lambda _key: False
    #: In: the validators of the last run; out: the ones of this run (None: keep the old ones).
    validators: Validators = field(default_factory=Validators)
    new_validators: Validators | None = None
    #: Set when the main document answered 304 Not Modified.
    not_modified: bool = False
    #: Problems with single entries or pages that did not stop the run.
    notes: list[str] = field(default_factory=list)
    #: Out: the pages a sitemap source fetched (not to be fetched again).
    seen_pages: list[str] = field(default_factory=list)

    def get_main(self, *, accept: str | None = None, robots: bool = True) -> FetchResult | None:
        """The source's own address, conditionally; None when it has not changed since the last run."""
        result = self.fetcher.get(self.url, robots=robots, accept=accept, validators=self.validators)
        if result.status == 304:
            self.not_modified = True
            return None
        self.new_validators = Validators(result.headers.get("etag"), result.headers.get("last-modified"))
        return result

    def note(self, text: str) -> None:
        if len(self.notes) < 50:
            self.notes.append(text)
