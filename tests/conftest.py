"""Shared fixtures: real stores on disk, a real Oxigraph server for the remote mode, the real app.

`AMV_TEST_STORE=remote` (what `.ci/run` sets for its second run) runs the suite in remote-store mode:
every test's data directory is served by a real `oxigraph serve` process (ManagedStoreServer), and
`make_settings`, `open_services` (even with `embedded_only=True`) and the apps of the tests use it
through `RemoteStore`, as a deployment with AMV_STORE_URL does. Tests that by nature need the embedded
store are marked `@pytest.mark.embedded_store("why")` and skipped in that mode with the reason.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import graph.services
from api.app import create_app
from graph.accounts import Role
from graph.config import DEFAULT_BASE_URI, Settings
from graph.dataset import load_fixed_graphs, load_sample
from graph.ledger import Ledger
from graph.services import Services, open_services
from graph.store import RemoteStore, Store, running_server_url
from graph.store_server import ManagedStoreServer

#: The remote-store run of the suite (see the module docstring).
REMOTE = os.environ.get("AMV_TEST_STORE", "").lower() == "remote"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test data directory; any Settings field may be overridden (e.g. outbound_allow=("127.0.0.1",)).

    In remote mode, a data directory served by a test store server gets its URL as store_url (found through
    the server file in the directory: tests import this module also as `tests.conftest`, a second copy)."""
    settings = replace(Settings(data_dir=data_dir, base_uri=DEFAULT_BASE_URI), **overrides)
    if REMOTE and "store_url" not in overrides and (url := running_server_url(settings)):
        settings = replace(settings, store_url=url)
    return settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "embedded_store(reason): needs the embedded store itself; skipped when AMV_TEST_STORE=remote"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REMOTE:
        return
    for item in items:
        marker = item.get_closest_marker("embedded_store")
        if marker is not None:
            reason = marker.args[0] if marker.args else "needs the embedded store"
            item.add_marker(pytest.mark.skip(reason=f"remote-store run: {reason}"))


if REMOTE:
    _open_store = graph.services.open_store

    def _store_of_test(settings: Settings, *, embedded_only: bool = False) -> Store:
        """Remote mode: a data directory whose store server runs is always reached through it."""
        if url := running_server_url(settings):
            return RemoteStore(url)
        return _open_store(settings, embedded_only=embedded_only)

    graph.services.open_store = _store_of_test  # type: ignore[assignment]


@pytest.fixture(scope="session")
def initialised_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory initialised once per test session with ontology, vocabularies and sample data.

    Tests never write to it: they use `services` (a private copy) instead.
    """
    data_dir = tmp_path_factory.mktemp("initialised")
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        load_fixed_graphs(services.store, services.iris, refresh=False)
        outcomes = load_sample(services.records, agent="test")
        rejected = [o for o in outcomes if not o.accepted]
        assert not rejected, [v.describe() for o in rejected for v in o.violations]
        services.search.rebuild()  # so that each test's app does not rebuild the index at start
    return data_dir


@pytest.fixture
def data_dir(initialised_dir: Path, tmp_path: Path) -> Iterator[Path]:
    """A private, writable copy of the initialised data directory (remote mode: served by its own
    Oxigraph server while the test runs)."""
    copy = tmp_path / "data"
    shutil.copytree(initialised_dir, copy)
    if not REMOTE:
        yield copy
        return
    with ManagedStoreServer(make_settings(copy)):
        yield copy


@pytest.fixture(params=["embedded", "remote"])
def services(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Services]:
    """The initialised deployment, once on the embedded store and once through a real Oxigraph server."""
    settings = make_settings(data_dir)
    if REMOTE:
        if request.param == "embedded":
            pytest.skip("remote-store run: every store is remote here; the `remote` variant runs")
        with open_services(settings) as s:
            yield s
    elif request.param == "embedded":
        with open_services(settings, embedded_only=True) as s:
            yield s
    else:
        with (
            ManagedStoreServer(settings) as server,
            Services(settings, RemoteStore(server.url), Ledger(settings.ledger_path)) as s,
        ):
            yield s


@pytest.fixture
def served_client(data_dir: Path) -> Iterator[TestClient]:
    """The real app on a private copy of the initialised store, served by a real Oxigraph server
    (as under `amv serve`), so the SPARQL endpoint and editor writes are available."""
    settings = make_settings(data_dir)
    if REMOTE:  # the data directory's server already runs
        with TestClient(create_app(settings)) as c:
            yield c
        return
    with ManagedStoreServer(settings) as server, TestClient(create_app(replace(settings, store_url=server.url))) as c:
        yield c


def bearer(client: TestClient, role: Role, name: str = "") -> dict[str, str]:
    """An Authorization header with a fresh token of the role."""
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    return {"Authorization": "Bearer " + accounts.create_token(name or f"test-{role.value}", role)}


@pytest.fixture
def embedded(data_dir: Path) -> Iterator[Services]:
    with open_services(make_settings(data_dir), embedded_only=True) as s:
        yield s
