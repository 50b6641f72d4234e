"""The app's routes, enumerated, and a fingerprint of a data directory: shared by the bad-input, access-control
and schemathesis tests, so that a route added later is covered (or fails a test) without anyone listing it."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PARAMETER = re.compile(r"{([A-Za-z_]+)(?::[a-z]+)?}")

# A real, public record of the sample data of each kind (tests/fixtures are built from data/sample).
SAMPLE_ITEM = "h6wg09c6"
SAMPLE_EVENT = "hep787gx"
NO_SUCH_ID = "zzzzzzzz"

# One plausible value for every path parameter name the app uses, so that a hostile value can be tried in one
# parameter while the others point at something real. A route with a parameter that is not here fails the tests
# (test_bad_input.test_every_path_parameter_has_a_base_value): add its name with a plausible value.
BASE_VALUES: dict[str, str] = {
    "scheme": "factors",
    "scheme_id": "factors",
    "vocid": "factors",
    "code": "5.1",
    "kind_name": "item",
    "record_id": SAMPLE_ITEM,
    "event_id": SAMPLE_EVENT,
    "submission_id": NO_SUCH_ID,
    "proposal_id": NO_SUCH_ID,
    "hook_id": NO_SUCH_ID,
    "delivery_id": "999999",
    "request_id": NO_SUCH_ID,
    "subscription_id": NO_SUCH_ID,
    "signature": "0" * 64,
    "token": "not-a-token",
    "name": "1",
    "sequence": "1",
    "filename": "arbejdsmiljoviden.nq.gz",
    "number": "1",
    "suffix": ".ttl",
    "letter": "A",
    "mode": "deprecate",
    "path": "vocab/factors",
    "rest": f"item/{SAMPLE_ITEM}",
}
# Where one route needs another value than the general one for the same name.
ROUTE_BASE_VALUES: dict[str, dict[str, str]] = {
    "/exports/vocab/{filename}": {"filename": "factors.csv"},
    "/vocab/{rest:path}": {"rest": "factors/5.1"},
    "/rest/v1/{rest:path}": {"rest": "nothing/here"},
    "/vocab/{scheme}/release/{name}": {"name": "1.0"},
    "/harvest/{name}/remove": {"name": "no-such-source"},
}


@dataclass(frozen=True)
class RouteInfo:
    """One path and its methods, as the app routes them (HEAD is answered like GET)."""

    path: str
    methods: frozenset[str]
    endpoint: str
    query_params: tuple[str, ...]
    in_schema: bool

    @property
    def path_params(self) -> list[str]:
        return PARAMETER.findall(self.path)

    @property
    def writes(self) -> frozenset[str]:
        return self.methods & WRITE_METHODS

    def url(self, **values: str) -> str:
        """The path with each parameter set: `values` first, then the base value for this route and name."""

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            return ROUTE_BASE_VALUES.get(self.path, {}).get(name) or BASE_VALUES[name]

        return PARAMETER.sub(fill, self.path)


def app_routes(app: FastAPI) -> list[RouteInfo]:
    """Every HTTP route of the app (not mounts such as /static), in routing order."""
    try:  # FastAPI ≥ 0.16x keeps included routers as nodes; this walks them.
        from fastapi.routing import iter_route_contexts

        originals: list[Any] = [context.original_route for context in iter_route_contexts(app.routes)]
    except ImportError:  # pragma: no cover - older FastAPI: the routes are flat already
        originals = list(app.routes)
    routes: list[RouteInfo] = []
    for route in originals:
        methods = getattr(route, "methods", None)
        if not methods:
            continue
        is_api = isinstance(route, APIRoute)
        routes.append(
            RouteInfo(
                path=route.path,
                methods=frozenset(methods - {"HEAD"} or methods),
                endpoint=f"{route.endpoint.__module__}.{route.endpoint.__name__}",
                query_params=tuple(p.alias for p in route.dependant.query_params) if is_api else (),
                in_schema=bool(getattr(route, "include_in_schema", False)),
            )
        )
    return routes


# Tables that change on reads or refused input by design: counters of attempts (rate limits, login failures),
# sessions, users and tokens (the tests make their own), keys made on first use.
BOOKKEEPING_TABLES = frozenset({"form_attempts", "login_failures", "sessions", "tokens", "users", "alert_meta"})


def fingerprint(data_dir: Path, store: Any) -> dict[str, int]:
    """What a refused request must not change: the quads of the store (per graph count total) and the rows of
    every table of every SQLite database in the data directory, bookkeeping tables excepted."""
    counts: dict[str, int] = {}
    row = store.select("SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?g) AS ?g_n) WHERE { GRAPH ?g { ?s ?p ?o } }")[0]
    counts["store:quads"] = int(row["n"].value)
    counts["store:graphs"] = int(row["g_n"].value)
    for path in sorted(data_dir.glob("*.sqlite")):
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                if table in BOOKKEEPING_TABLES or table.startswith("sqlite_"):
                    continue
                count = db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
                if count:  # tables are made on first use: an empty one and a missing one are the same
                    counts[f"{path.name}:{table}"] = count
        finally:
            db.close()
    return counts
