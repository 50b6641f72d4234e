"""Public pages, kept per data version: what an anonymous visitor gets from a page that shows only public
data is the same for every anonymous visitor until the data changes, so it is built once per version.

The version (graph.view_cache, `Scope.pages`) is the change log's head, the ledger's newest history row,
the search index generation this process reads and the date: any write — by this process, another worker
or another app instance — makes the next request build the page again. Two kinds of page are kept longer,
because what they show is known: a scheme's tree and the ontology until the thesaurus changes, and the page
of a record until a change touches a record it shows (itself or one it links to; a new record that links
to it touches it too), the lists of actors and events until a record of
their kinds changes, each also until anything but records changes. Nothing is ever
served from an older version of what the page shows.

Answers say `X-Cache: hit` or `miss`. Only these requests are answered from the cache: GET or HEAD of
a page under CACHED_PATHS (but not UNCACHED_SUFFIXES), without an Authorization header, without cookies
other than the language choice (a logged-in editor sees edit buttons; a form carries a CSRF cookie) and
without conditional headers (the page may answer 304). Only complete 200 answers without Set-Cookie and
without `Cache-Control: no-store` (figures being recounted, graph.view_cache.Counted) are kept.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

import anyio

from api.i18n import LANG_COOKIE
from api.middleware import ASGIApp, Message, Receive, Scope, Send
from graph.clock import today_in_copenhagen
from graph.view_cache import Counted
from graph.view_cache import Scope as DataScope

if TYPE_CHECKING:
    from graph.services import Services

#: Path prefixes of pages that show public data only (their data twins negotiate by Accept, which is in the key).
CACHED_PATHS = ("/items", "/events", "/actors", "/vocab", "/id/", "/coverage", "/about", "/statistics", "/ontology")
#: Pages under those prefixes that show state kept outside the data's version (the mapping checks' results).
UNCACHED_SUFFIXES = ("/quality", "/quality.json")
#: Pages that show the thesaurus only (a scheme's tree, the list of schemes, the ontology, and their data
#: twins): kept until the thesaurus changes, however many records are written meanwhile.
THESAURUS_PAGES = re.compile(r"^/(vocab|ontology)(/[^/.]+)?(\.[a-z]+)?$")
#: Pages of records that are kept until a record they show changes. An actor's page sums up the records
#: naming it: each of those touches it when written, and when replaced or withdrawn (`amv:linkedBefore`).
RECORD_PAGES = re.compile(r"^/id/(item|problem|solution|actor|event)/")
RECORD_LINK_TEXT = re.compile(r"/id/(item|problem|solution|actor|event)/([0-9a-z]+)")
RECORD_LINK = re.compile(RECORD_LINK_TEXT.pattern.encode())
#: Lists that show records of some kinds only (and concepts' labels): kept until a record of those kinds
#: changes. The events list names each event's organisers, hence actors.
KIND_LISTS = (
    (re.compile(r"^/actors(\.json)?$"), ("actor",)),
    (re.compile(r"^/events(\.(json|ics))?$"), ("event", "actor")),
)
#: The bytes kept per process (least recently used pages go first).
MAX_BYTES = 64 * 1024 * 1024
#: Pages bigger than this are not kept.
MAX_PAGE_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class CachedPage:
    version: Hashable
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # A record's page or a list of one kind of record is kept until a change touches one of the records it
    # shows (`records`) or a record of one of `kinds` after `head` (graph.view_cache.ChangeTracker), not until
    # any change: its validity is not all in `version`.
    head: int | None = None
    records: frozenset[str] = frozenset()
    kinds: tuple[str, ...] = ()


class PageStore:
    """A least-recently-used map of pages, bounded in bytes."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Hashable) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is None or page.version != version:
                return None
            self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: CachedPage) -> None:
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._pages[key] = page
            self._bytes += len(page.body)
            while self._bytes > self.max_bytes and self._pages:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.body)


def recount_headers(counted: Counted[Any]) -> dict[str, str]:
    """Headers of an answer showing figures that are being recounted: no cache may keep it."""
    return {} if counted.current else {"Cache-Control": "no-store"}


Headers = dict[bytes, bytes]


def cacheable_request(scope: Scope, headers: Headers) -> bool:
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    path: str = scope["path"]
    if (path != "/" and not path.startswith(CACHED_PATHS)) or path.endswith(UNCACHED_SUFFIXES):
        return False
    if b"authorization" in headers or b"if-none-match" in headers or b"if-modified-since" in headers:
        return False  # a conditional request is the page's own business (it may answer 304)
    raw = headers.get(b"cookie", b"").decode("latin-1")
    if raw:
        cookies = SimpleCookie()
        try:
            cookies.load(raw)
        except Exception:  # noqa: BLE001 - an odd cookie header: just do not cache
            return False
        if set(cookies) - {LANG_COOKIE}:
            return False
    return True


def page_version(services: Services, path: str) -> tuple[Hashable, int | None, tuple[str, ...]]:
    """The version a page is kept for; for a page kept by what it shows, the change-log head it is built at
    and the kinds of record it lists."""
    if THESAURUS_PAGES.match(path):
        return (services.views.version(DataScope.thesaurus), today_in_copenhagen()), None, ()
    kinds = next((k for pattern, k in KIND_LISTS if pattern.match(path)), None)
    if kinds is not None or RECORD_PAGES.match(path):
        head = services.views.record_head()
        return ("shown", services.views.changes.epoch, today_in_copenhagen()), head, kinds or ()
    return services.views.version(DataScope.pages), None, ()


def records_shown(services: Services, path: str, body: bytes) -> frozenset[str]:
    """The records a page links to (and its own): a change to any of them may change the page."""
    base = services.iris.base
    found = {f"{base}id/{kind.decode()}/{rid.decode()}" for kind, rid in RECORD_LINK.findall(body)}
    found |= {f"{base}id/{kind}/{rid}" for kind, rid in RECORD_LINK_TEXT.findall(path)}
    return frozenset(found)


def wants_fresh(headers: Headers) -> bool:
    """`Cache-Control: no-cache` (or `Pragma: no-cache`, as a browser's reload sends): build the page anew
    (and keep that)."""
    return b"no-cache" in headers.get(b"cache-control", b"").lower() or b"no-cache" in headers.get(b"pragma", b"")


def request_key(scope: Scope, headers: Headers) -> Hashable:
    return (
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        headers.get(b"accept", b""),
        headers.get(b"cookie", b""),
    )


class PublicPageCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.pages = PageStore()

    @staticmethod
    def _outdated(services: Services, page: CachedPage) -> bool:
        assert page.head is not None
        return services.views.changes.changed_since(page.head, page.records, page.kinds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = getattr(getattr(scope.get("app"), "state", None), "services", None)
        headers = dict(scope.get("headers", ()))
        if services is None or not cacheable_request(scope, headers):
            await self.app(scope, receive, send)
            return
        try:
            version, head, kinds = await anyio.to_thread.run_sync(page_version, services, scope["path"])
        except Exception:  # noqa: BLE001 - no version, no cache: the page answers as it would anyway
            await self.app(scope, receive, send)
            return
        key = request_key(scope, headers)
        page = None if wants_fresh(headers) else self.pages.get(key, version)
        if page is not None and page.head is not None and self._outdated(services, page):
            page = None
        if page is not None:
            answer = [*page.headers, (b"x-cache", b"hit")]
            await send({"type": "http.response.start", "status": page.status, "headers": answer})
            await send({"type": "http.response.body", "body": page.body})
            return

        start: list[tuple[bytes, bytes]] = []
        status = 0
        body: list[bytes] = []
        keep = True

        async def capture(message: Message) -> None:
            nonlocal status, keep
            if message["type"] == "http.response.start":
                status = message["status"]
                start.extend(message.get("headers", []))
                names = {name.lower(): value for name, value in start}
                keep = (
                    status == 200 and b"set-cookie" not in names and b"no-store" not in names.get(b"cache-control", b"")
                )
                message["headers"] = [*start, (b"x-cache", b"miss")]
            elif message["type"] == "http.response.body" and keep:
                body.append(message.get("body", b""))
                keep = sum(map(len, body)) <= MAX_PAGE_BYTES
                if keep and not message.get("more_body", False):
                    whole = b"".join(body)
                    shown = (
                        records_shown(services, scope["path"], whole) if head is not None and not kinds else frozenset()
                    )
                    self.pages.put(key, CachedPage(version, status, start, whole, head, shown, kinds))
            await send(message)

        await self.app(scope, receive, capture)
