"""schemathesis against our OpenAPI description (/openapi.json), through the ASGI app: no 5xx, and every
documented response matches its schema.

Every operation gets a bounded number of generated cases (`AMV_SCHEMATHESIS_EXAMPLES`, default 4 in
`make test`; `make soak` runs more), sent with an editor's token so that write operations get past the role
check to their validation. The number of cases run is written to test-artifacts/schemathesis-summary.json.
"""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import BaseModel
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from graph.accounts import Role
from graph.store_server import ManagedStoreServer
from tests.conftest import make_settings

EXAMPLES = int(os.environ.get("AMV_SCHEMATHESIS_EXAMPLES", "4"))
SUMMARY = Path(__file__).resolve().parent.parent / "test-artifacts" / "schemathesis-summary.json"
CASES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory, initialised_dir: Path) -> Iterator[Any]:
    data_dir = tmp_path_factory.mktemp("schemathesis") / "data"
    shutil.copytree(initialised_dir, data_dir)
    config = replace(make_settings(data_dir), query_timeout=2.0, result_limit=100)
    with ManagedStoreServer(config) as server:
        app = create_app(replace(config, store_url=server.url))
        # schemathesis starts the app's lifespan (services, store connection) and keeps it until shut down.
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        token = app.state.services.accounts.create_token("schemathesis", Role.editor)
        schema.config.headers = {"Authorization": f"Bearer {token}"}
        try:
            yield schema
        finally:
            asgi.shutdown_lifespans()
            if CASES:
                SUMMARY.parent.mkdir(exist_ok=True)
                summary = {"examples per operation": EXAMPLES, "cases": sum(CASES.values()), "per operation": CASES}
                SUMMARY.write_text(json.dumps(summary, indent=1, sort_keys=True))
                print(f"\nschemathesis: {sum(CASES.values())} cases over {len(CASES)} operations")


def run_operation(operation: Any) -> tuple[Counter[str], str | None]:
    """The generated cases of one operation, with hypothesis driving them: the statuses answered, and the failure.
    (The schemathesis pytest plugin's parametrisation is not used: it does not run on this pytest.)"""
    sent: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,  # the same cases every run: a failure is reproducible
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as it is
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        response = case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])
        sent[str(response.status_code)] += 1

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # reported with the operation by the caller
        sent["failed"] += 1
        return sent, str(exc)[:2000]
    return sent, None


def run_operations(schema: Any, cases: Counter[str], statuses: Counter[str]) -> list[str]:
    """Every operation of the schema; the failures, one per operation."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        sent, failure = run_operation(operation)
        if failure:
            failures.append(f"{label}: {failure}")
        cases[label] += sum(sent.values())
        statuses.update({f"{label} {status}": n for status, n in sent.items()})
    return failures


def test_openapi_operations(api_schema: Any) -> None:
    statuses: Counter[str] = Counter()
    failures = run_operations(api_schema, CASES, statuses)
    assert not failures, "\n\n".join(failures)
    assert CASES, "no case ran"
    # The editor's token was sent: write operations got past the role check to their own answers.
    writes = [k for k in statuses if k.split()[0] in ("POST", "PUT", "DELETE") and k.startswith("POST /api/")]
    assert any(not k.endswith((" 401", " 403")) for k in writes), statuses


def test_the_checks_find_a_server_error_and_a_schema_violation() -> None:
    """The same runner on a small app with one of each fault: the checks are not blind."""
    app = FastAPI()

    class Answer(BaseModel):
        count: int

    @app.get("/broken")
    def broken() -> dict[str, int]:
        raise RuntimeError("boom")

    @app.get("/lying", response_model=Answer)
    def lying() -> JSONResponse:
        return JSONResponse({"count": "many"})

    faulty = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures = run_operations(faulty, Counter(), Counter())
    assert any(f.startswith("GET /broken") for f in failures), failures
    assert any(f.startswith("GET /lying") for f in failures), failures
