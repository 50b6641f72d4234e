"""Wiring: one object holding the store, the ledger and the managers built on them.

The CLI and the web app both start here, so there is one way to open a deployment.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

from graph.accounts import Accounts
from graph.config import Settings
from graph.curation import Curation
from graph.harvest.sources import HarvestSources
from graph.iris import Iris
from graph.layout import upgrade as upgrade_layout
from graph.ledger import Ledger
from graph.links import LinkStatuses
from graph.locks import write_lock
from graph.records import Records
from graph.search.index import SearchIndex
from graph.sparql import Queries
from graph.store import Store, open_store
from graph.submissions import Submissions
from graph.validation import Validator
from graph.view_cache import ViewCache
from graph.webhooks import Webhooks


@dataclass
class Services:
    settings: Settings
    store: Store
    ledger: Ledger
    accounts: Accounts = field(init=False)
    iris: Iris = field(init=False)
    queries: Queries = field(init=False)
    validator: Validator = field(init=False)
    records: Records = field(init=False)
    search: SearchIndex = field(init=False)
    views: ViewCache = field(init=False)
    submissions: Submissions = field(init=False)
    links: LinkStatuses = field(init=False)
    webhooks: Webhooks = field(init=False)
    curation: Curation = field(init=False)
    harvest: HarvestSources = field(init=False)

    def __post_init__(self) -> None:
        self.accounts = Accounts(self.settings.ledger_path)
        self.iris = Iris(self.settings.base_uri)
        self.queries = Queries(self.iris)
        self.validator = Validator(self.iris)
        with write_lock(self.settings.data_dir):  # an older data directory is brought up to date first
            upgrade_layout(self.settings.data_dir, self.store, self.iris)
        self.records = Records(self.store, self.ledger, self.iris, self.validator, lock_dir=self.settings.data_dir)
        self.records.recover()  # a write cut short by a crash is taken back before anything reads
        self.views = ViewCache(self)  # whole-dataset view models, until the data changes (graph/view_cache.py)
        self.search = SearchIndex.attach(self)  # listens to record changes to keep the search index current
        self.submissions = Submissions(self.records)
        self.links = LinkStatuses(self.settings.ledger_path)  # what the link checker found (graph/links.py)
        self.webhooks = Webhooks.attach(self)  # fills the partners' outbox from record changes (graph/webhooks.py)
        self.curation = Curation(self.submissions)  # review queue, edits, send-back, history
        self.harvest = HarvestSources(self.settings.ledger_path)  # harvest sources, runs, entries (graph/harvest)

    def close(self) -> None:
        self.views.settle()  # a background recount still reads the store
        self.search.close()
        self.store.close()
        self.ledger.close()
        self.accounts.close()
        self.links.close()
        self.webhooks.close()
        self.harvest.close()

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: Allocations between two young-generation garbage collections (Python's default is 700). Writing records
#: and building pages allocate containers by the hundred thousand and free nearly all of them by reference
#: counting; at 700, the collector's passes took a tenth of a bulk import's time, for nothing.
GC_YOUNG_THRESHOLD = 50_000


def open_services(settings: Settings | None = None, *, embedded_only: bool = False) -> Services:
    settings = settings or Settings.from_env()
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(GC_YOUNG_THRESHOLD, young), older, oldest)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Services(settings, open_store(settings, embedded_only=embedded_only), Ledger(settings.ledger_path))
