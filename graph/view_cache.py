"""View models that depend only on the public data, kept until the data changes.

Some pages sum up the whole dataset (about, coverage, scheme trees) and cost tens to hundreds of
milliseconds to compute; under load that is what pushes page p99 up. They are computed once per data
version: the change log's newest sequence number (every record write, thesaurus edit and SPARQL write
appends to it) and the ledger's newest history row. Both are one look-up, so a cached page is current
the moment anything changes — also when another process or app instance made the change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from graph.services import Services

T = TypeVar("T")
#: At most this many views are kept (e.g. scheme pages in two languages).
MAX_ENTRIES = 64


class ViewCache:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._entries: dict[Hashable, tuple[tuple[int, int], Any]] = {}
        self._lock = threading.Lock()

    def version(self) -> tuple[int, int]:
        return self.services.records.changelog.head(), self.services.ledger.latest_change()[0]

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        version = self.version()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (version, value)
        return value
