"""Configuration from the environment, read once per process.

| variable        | default                                   | meaning                                         |
|-----------------|-------------------------------------------|-------------------------------------------------|
| AMV_DATA_DIR    | ./var                                     | store, ledger and derived data                  |
| AMV_BASE_URI    | https://w3id.org/arbejdsmiljoviden/       | base of every IRI we mint                       |
| AMV_STORE_URL   | (unset: embedded store under AMV_DATA_DIR)| a SPARQL 1.1 store to use instead               |
| AMV_STORE_UPDATE_URL | AMV_STORE_URL's /update (Oxigraph style)  | the update endpoint of other servers           |
| AMV_STORE_GSP_URL    | AMV_STORE_URL's /store (Oxigraph style)   | its Graph Store Protocol endpoint               |
| AMV_STORE_USER, AMV_STORE_PASSWORD | (none)                      | HTTP basic credentials for the store            |
| AMV_QUERY_TIMEOUT    | 10                                        | seconds a public SPARQL query may run           |
| AMV_RESULT_LIMIT     | 10000                                     | rows (or triples) a public query returns at most|
| AMV_SPARQL_CONCURRENCY | 2                                       | public SPARQL queries run at once per worker    |
| AMV_STORE_THREAD_BUDGET | vm.max_map_count / 3                   | store server threads beyond which /sparql waits |
| AMV_MAX_BODY_BYTES   | 20000000                                  | largest request body accepted (413 beyond)      |
| AMV_INDEX_DIR        | AMV_DATA_DIR/search                       | this instance's search index (derived data)     |
| AMV_OUTBOUND_ALLOW   | (none)                                    | hosts/CIDRs fetchable although private (a,b)  |
| AMV_OUTBOUND_TIMEOUT | 10                                        | seconds an outbound fetch may take              |
| AMV_OUTBOUND_MAX_BYTES | 5000000                                 | largest response body an outbound fetch reads   |
| AMV_SITE_URL         | AMV_BASE_URI without the final /          | the site address for absolute links in mails |
| AMV_SMTP_HOST        | (unset: no mail is sent)                  | SMTP server for alerts and answers to requests  |
| AMV_SMTP_PORT        | 25                                        | its port                                        |
| AMV_SMTP_USER, AMV_SMTP_PASSWORD | (none)                        | SMTP login, when the server wants one           |
| AMV_SMTP_STARTTLS    | false                                     | upgrade the SMTP connection with STARTTLS       |
| AMV_MAIL_FROM        | Arbejdsmiljøviden <noreply@localhost>     | the From: of every mail                         |
| AMV_ALERTS_INTERVAL  | 3600                                      | seconds between digest runs in amv serve (0: off) |
| AMV_LINK_CHECK_HOURS | 24                                        | hours between link checks in `amv serve` (0: off) |
| AMV_LINK_CHECK_CONCURRENCY | 8                                   | links checked at once                           |
| AMV_LINK_HOST_INTERVAL | 1                                       | seconds between two requests to one host        |
| AMV_WEBHOOK_POLL     | 2                                         | seconds between outbox polls (0: no worker)     |
| AMV_WEBHOOK_MAX_ATTEMPTS | 10                                    | attempts before a delivery is marked failed     |
| AMV_WEBHOOK_BACKOFF  | 30                                        | seconds to 1st retry (doubling, at most 6 h)    |
| AMV_HARVEST_POLL     | 300                                       | seconds between looks for due sources (0: off)  |
| AMV_HARVEST_MAX_ENTRIES | 200                                    | entries (and sitemap pages) per source per run  |
| AMV_HARVEST_HOST_INTERVAL | 1                                    | seconds between two harvest requests to a host  |
| AMV_HARVEST_MAILTO   | (none)                                    | contact address sent to OpenAlex and Crossref   |
| AMV_OPENALEX_API_KEY | (none)                                    | OpenAlex API key (api_key), for real use        |
| AMV_LLM_URL, _MODEL, _API_KEY | (unset: extractive answers)      | OpenAI-compatible endpoint for /ask answers     |
| AMV_LLM_TIMEOUT      | 20                                        | seconds before /ask answers extractively        |
| AMV_EMBEDDING_MODEL  | paraphrase-multilingual-MiniLM-L12-v2     | /ask embeddings (`ask` extra; "none": off)      |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root: ontology/, vocabularies/, shapes/, sparql/ and data/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The multilingual sentence-embedding model the ask box uses when the `ask` extra (fastembed) is installed.
DEFAULT_EMBEDDING_MODEL = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2"

#: The base IRI our data files are written with; IRIs are rebased when AMV_BASE_URI differs.
DEFAULT_BASE_URI = "https://w3id.org/arbejdsmiljoviden/"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    base_uri: str
    store_url: str | None = None
    store_update_url: str | None = None
    store_gsp_url: str | None = None
    store_user: str | None = None
    store_password: str | None = None
    query_timeout: float = 10.0
    result_limit: int = 10_000
    sparql_concurrency: int = 2
    #: The managed store server's threads beyond which public queries are answered 503 for a moment; None:
    #: graph.store_server.default_thread_budget().
    store_thread_budget: int | None = None
    max_body_bytes: int = 20_000_000
    #: Writes (POST/PUT/PATCH/DELETE that pass a role check) one token or login may make per minute; 0: no limit.
    write_limit: int = 600
    #: The search index's directory (derived data, local to an app instance); default AMV_DATA_DIR/search.
    index_dir: Path | None = None
    #: Outbound fetches (link checker, harvester, webhooks, mapping checks): see graph/outbound.py.
    outbound_allow: tuple[str, ...] = ()
    outbound_timeout: float = 10.0
    outbound_max_bytes: int = 5_000_000
    #: Mail (alerts, answers to guidance requests): see graph/mail.py. No SMTP host: nothing is sent.
    site_url: str = ""
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    mail_from: str = "Arbejdsmiljøviden <noreply@localhost>"
    #: Seconds between e-mail digest runs inside the web app; 0 (the default here, so in tests) is off.
    alerts_interval: float = 0.0

    #: Link checks (graph/links.py): hours between scheduled runs inside the web app; 0 (the default
    #: here, so in tests) is off — `from_env` turns it on.
    link_check_hours: float = 0.0
    link_check_concurrency: int = 8
    link_host_interval: float = 1.0
    #: Webhooks (graph/webhooks.py): seconds between outbox polls of the delivery worker inside the web
    #: app; 0 (the default here, so in tests) runs no worker. Retries back off from `webhook_backoff`
    #: seconds, doubling, up to `webhook_backoff_max`; after `webhook_max_attempts` a delivery is failed.
    webhook_poll: float = 0.0
    webhook_max_attempts: int = 10
    webhook_backoff: float = 30.0
    webhook_backoff_max: float = 6 * 3600.0
    #: Harvesting (graph/harvest): seconds between the web app's looks for due sources; 0 (the default
    #: here, so in tests) is off — `from_env` turns it on. Entries per source per run, per-host pacing,
    #: and what the scholarly APIs are told (a polite contact address; OpenAlex's API key).
    harvest_poll: float = 0.0
    harvest_max_entries: int = 200
    harvest_host_interval: float = 1.0
    harvest_mailto: str = ""
    openalex_api_key: str = ""
    #: The ask box (graph/ask.py): an OpenAI-compatible endpoint that writes grounded answers (unset:
    #: answers are extractive), and the sentence-embedding model used when the `ask` extra is installed
    #: ("" here, so in tests, is none — `from_env` names the default model).
    llm_url: str | None = None
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout: float = 20.0
    embedding_model: str = ""

    @property
    def store_auth(self) -> tuple[str, str] | None:
        """HTTP basic credentials for the remote store, when configured."""
        return (self.store_user, self.store_password or "") if self.store_user else None

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite"

    @property
    def public_url(self) -> str:
        """The site's address for links that leave it (mails): AMV_SITE_URL, else the base IRI."""
        return (self.site_url or self.base_uri).rstrip("/")

    @property
    def server_file(self) -> Path:
        """Written by `amv serve` while its managed store server runs (pid and port)."""
        return self.data_dir / "store-server.json"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        base = env.get("AMV_BASE_URI", DEFAULT_BASE_URI)
        if not base.endswith(("/", "#")):
            base += "/"
        return cls(
            data_dir=Path(env.get("AMV_DATA_DIR", "var")).resolve(),
            base_uri=base,
            store_url=env.get("AMV_STORE_URL") or None,
            store_update_url=env.get("AMV_STORE_UPDATE_URL") or None,
            store_gsp_url=env.get("AMV_STORE_GSP_URL") or None,
            store_user=env.get("AMV_STORE_USER") or None,
            store_password=env.get("AMV_STORE_PASSWORD") or None,
            query_timeout=float(env.get("AMV_QUERY_TIMEOUT", "10")),
            result_limit=int(env.get("AMV_RESULT_LIMIT", "10000")),
            sparql_concurrency=int(env.get("AMV_SPARQL_CONCURRENCY", "2")),
            store_thread_budget=int(env["AMV_STORE_THREAD_BUDGET"]) if env.get("AMV_STORE_THREAD_BUDGET") else None,
            max_body_bytes=int(env.get("AMV_MAX_BODY_BYTES", "20000000")),
            write_limit=int(env.get("AMV_WRITE_LIMIT", "600")),
            index_dir=Path(env["AMV_INDEX_DIR"]).resolve() if env.get("AMV_INDEX_DIR") else None,
            outbound_allow=tuple(h.strip() for h in env.get("AMV_OUTBOUND_ALLOW", "").split(",") if h.strip()),
            outbound_timeout=float(env.get("AMV_OUTBOUND_TIMEOUT", "10")),
            outbound_max_bytes=int(env.get("AMV_OUTBOUND_MAX_BYTES", "5000000")),
            site_url=(env.get("AMV_SITE_URL") or base).rstrip("/"),
            smtp_host=env.get("AMV_SMTP_HOST") or None,
            smtp_port=int(env.get("AMV_SMTP_PORT", "25")),
            smtp_user=env.get("AMV_SMTP_USER") or None,
            smtp_password=env.get("AMV_SMTP_PASSWORD") or None,
            smtp_starttls=env.get("AMV_SMTP_STARTTLS", "").strip().lower() in ("1", "true", "yes", "on"),
            mail_from=env.get("AMV_MAIL_FROM") or "Arbejdsmiljøviden <noreply@localhost>",
            alerts_interval=float(env.get("AMV_ALERTS_INTERVAL", "3600")),
            link_check_hours=float(env.get("AMV_LINK_CHECK_HOURS", "24")),
            link_check_concurrency=int(env.get("AMV_LINK_CHECK_CONCURRENCY", "8")),
            link_host_interval=float(env.get("AMV_LINK_HOST_INTERVAL", "1")),
            webhook_poll=float(env.get("AMV_WEBHOOK_POLL", "2")),
            webhook_max_attempts=int(env.get("AMV_WEBHOOK_MAX_ATTEMPTS", "10")),
            webhook_backoff=float(env.get("AMV_WEBHOOK_BACKOFF", "30")),
            harvest_poll=float(env.get("AMV_HARVEST_POLL", "300")),
            harvest_max_entries=int(env.get("AMV_HARVEST_MAX_ENTRIES", "200")),
            harvest_host_interval=float(env.get("AMV_HARVEST_HOST_INTERVAL", "1")),
            harvest_mailto=env.get("AMV_HARVEST_MAILTO", "").strip(),
            openalex_api_key=env.get("AMV_OPENALEX_API_KEY", "").strip(),
            llm_url=env.get("AMV_LLM_URL") or None,
            llm_model=env.get("AMV_LLM_MODEL", ""),
            llm_api_key=env.get("AMV_LLM_API_KEY", ""),
            llm_timeout=float(env.get("AMV_LLM_TIMEOUT", "20")),
            embedding_model=env.get("AMV_EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL).strip(),
        )
