"""Shared fixtures: real stores on disk, a real Oxigraph server for the remote mode, the real app."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from graph.config import DEFAULT_BASE_URI, Settings
from graph.dataset import load_fixed_graphs, load_sample
from graph.ledger import Ledger
from graph.services import Services, open_services
from graph.store import RemoteStore
from graph.store_server import ManagedStoreServer


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test data directory; any Settings field may be overridden (e.g. outbound_allow=("127.0.0.1",))."""
    return replace(Settings(data_dir=data_dir, base_uri=DEFAULT_BASE_URI), **overrides)


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
def data_dir(initialised_dir: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the initialised data directory."""
    copy = tmp_path / "data"
    shutil.copytree(initialised_dir, copy)
    return copy


@pytest.fixture(params=["embedded", "remote"])
def services(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Services]:
    """The initialised deployment, once on the embedded store and once through a real Oxigraph server."""
    settings = make_settings(data_dir)
    if request.param == "embedded":
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
