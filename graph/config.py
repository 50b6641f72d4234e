"""Configuration from the environment, read once per process.

| variable        | default                                   | meaning                                         |
|-----------------|-------------------------------------------|-------------------------------------------------|
| AMV_DATA_DIR    | ./var                                     | store, ledger and derived data                  |
| AMV_BASE_URI    | https://w3id.org/arbejdsmiljoviden/       | base of every IRI we mint                       |
| AMV_STORE_URL   | (unset: embedded store under AMV_DATA_DIR)| a SPARQL 1.1 store to use instead               |
| AMV_STORE_UPDATE_URL | AMV_STORE_URL's /update (Oxigraph style)  | the update endpoint of other servers           |
| AMV_QUERY_TIMEOUT    | 10                                        | seconds a public SPARQL query may run           |
| AMV_RESULT_LIMIT     | 10000                                     | rows (or triples) a public query returns at most|
| AMV_SPARQL_CONCURRENCY | 2                                       | public SPARQL queries run at once per worker    |
| AMV_MAX_BODY_BYTES   | 20000000                                  | largest request body accepted (413 beyond)      |
| AMV_OUTBOUND_ALLOW   | (none)                                    | hosts/CIDRs fetchable although private (a,b)  |
| AMV_OUTBOUND_TIMEOUT | 10                                        | seconds an outbound fetch may take              |
| AMV_OUTBOUND_MAX_BYTES | 5000000                                 | largest response body an outbound fetch reads   |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root: ontology/, vocabularies/, shapes/, sparql/ and data/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: The base IRI our data files are written with; IRIs are rebased when AMV_BASE_URI differs.
DEFAULT_BASE_URI = "https://w3id.org/arbejdsmiljoviden/"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    base_uri: str
    store_url: str | None = None
    store_update_url: str | None = None
    query_timeout: float = 10.0
    result_limit: int = 10_000
    sparql_concurrency: int = 2
    max_body_bytes: int = 20_000_000
    #: Outbound fetches (link checker, harvester, webhooks, mapping checks): see graph/outbound.py.
    outbound_allow: tuple[str, ...] = ()
    outbound_timeout: float = 10.0
    outbound_max_bytes: int = 5_000_000

    @property
    def store_dir(self) -> Path:
        return self.data_dir / "store"

    @property
    def ledger_path(self) -> Path:
        return self.data_dir / "ledger.sqlite"

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
            query_timeout=float(env.get("AMV_QUERY_TIMEOUT", "10")),
            result_limit=int(env.get("AMV_RESULT_LIMIT", "10000")),
            sparql_concurrency=int(env.get("AMV_SPARQL_CONCURRENCY", "2")),
            max_body_bytes=int(env.get("AMV_MAX_BODY_BYTES", "20000000")),
            outbound_allow=tuple(h.strip() for h in env.get("AMV_OUTBOUND_ALLOW", "").split(",") if h.strip()),
            outbound_timeout=float(env.get("AMV_OUTBOUND_TIMEOUT", "10")),
            outbound_max_bytes=int(env.get("AMV_OUTBOUND_MAX_BYTES", "5000000")),
        )
