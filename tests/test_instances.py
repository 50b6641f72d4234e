"""Several app instances on one store: each keeps its own search index current by following the
store's change log, so what is approved through one is found through the other within seconds."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.routes.submissions import EXAMPLE_ITEM
from graph.accounts import Accounts, Role
from graph.store_server import ManagedStoreServer, free_port
from tests.conftest import make_settings
from tests.serve_util import start_serve

FOLLOW_WITHIN = 2.0  # seconds: the figure


def start_instance(data_dir: Path, store_url: str, index_dir: Path, port: int) -> subprocess.Popen[bytes]:
    """An instance of its own search index on the shared store."""
    return start_serve(data_dir, port, {"AMV_STORE_URL": store_url, "AMV_INDEX_DIR": str(index_dir)}, within=120)


@pytest.fixture
def two_instances(data_dir: Path) -> Iterator[tuple[str, str]]:
    store = ManagedStoreServer(make_settings(data_dir))
    url = store.start()
    a_port, b_port = free_port(), free_port()
    a = start_instance(data_dir, url, data_dir / "search-a", a_port)
    b = start_instance(data_dir, url, data_dir / "search-b", b_port)
    try:
        yield f"http://127.0.0.1:{a_port}", f"http://127.0.0.1:{b_port}"
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=30)
        store.stop()


def found_within(url: str, params: dict[str, str], iri: str, seconds: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        hits = httpx.get(url, params=params, timeout=10).json()
        items = hits.get("results") or hits.get("suggestions") or []
        if any(iri in (item.get("iri"), item.get("label")) for item in items):
            return time.monotonic() - started
        time.sleep(0.05)
    return None


@pytest.mark.embedded_store("runs its own store server on the data directory for both instances")
def test_a_record_approved_through_one_instance_is_searchable_through_the_other(
    two_instances: tuple[str, str], data_dir: Path
) -> None:
    a, b = two_instances
    token = Accounts(data_dir / "ledger.sqlite").create_token("instances", Role.editor)
    auth = {"Authorization": f"Bearer {token}"}
    title = "Fælles viden om støj i to instanser"
    item = {**EXAMPLE_ITEM, "title": {"da": title}, "url": "https://example.org/to-instanser"}
    created = httpx.post(f"{a}/api/submissions", json=item, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    iri = created.json()["iri"]
    assert found_within(f"{b}/api/search", {"q": f'"{title}"'}, iri, 1.0) is None  # pending: invisible

    approved = httpx.post(f"{a}/api/submissions/{created.json()['id']}/approve", headers=auth, timeout=30)
    assert approved.status_code == 200, approved.text
    took = found_within(f"{b}/api/search", {"q": f'"{title}"'}, iri, FOLLOW_WITHIN)
    assert took is not None, f"not searchable through the other instance within {FOLLOW_WITHIN} s"
    print(f"\nsearchable through instance B {took * 1000:.0f} ms after the approval through A")

    # A thesaurus edit through B is understood by A's search (its thesaurus follows the log too).
    concept = httpx.get(f"{b}/api/concepts/factors/5.1", headers=auth, timeout=10).json()
    concept["altLabel"]["da"].append("tovejslarm")
    edited = httpx.put(
        f"{b}/api/concepts/factors/5.1", json={"concept": concept, "reason": "test"}, headers=auth, timeout=30
    )
    assert edited.status_code == 200, edited.text
    deadline = time.monotonic() + FOLLOW_WITHIN + 1
    while time.monotonic() < deadline:
        understood = httpx.get(f"{a}/api/search", params={"q": "tovejslarm"}, timeout=10).json()["concepts"]
        if understood:
            break
        time.sleep(0.1)
    assert understood and understood[0]["key"] == "factors/5.1"


@pytest.mark.embedded_store("runs its own store server on the data directory for both instances")
def test_a_kept_page_on_the_other_instance_shows_a_new_link_within_seconds(
    two_instances: tuple[str, str], data_dir: Path
) -> None:
    """A problem's page is kept (for anonymous visitors) until a record it shows changes. When a new item
    addressing it is approved through A, B learns of the change from the change log before its search
    index has taken it in: the page B builds then must not be kept as if it were current."""
    a, b = two_instances
    token = Accounts(data_dir / "ledger.sqlite").create_token("instances", Role.editor)
    auth = {"Authorization": f"Bearer {token}"}
    problems = httpx.get(f"{b}/api/search", params={"type": "problem"}, timeout=10).json()["results"]
    page = "/id/problem/" + problems[0]["iri"].rsplit("/", 1)[-1]
    html = {"Accept": "text/html"}
    for expected in ("miss", "hit"):
        assert httpx.get(b + page, headers=html, timeout=10).headers["x-cache"] == expected

    item = {**EXAMPLE_ITEM, "title": {"da": "Ny viden om problemet"}, "addresses": [problems[0]["iri"]]}
    created = httpx.post(f"{a}/api/submissions", json=item, headers=auth, timeout=30)
    assert created.status_code == 201, created.text
    approved = httpx.post(f"{a}/api/submissions/{created.json()['id']}/approve", headers=auth, timeout=30)
    assert approved.status_code == 200, approved.text
    item_path = "/id/item/" + created.json()["iri"].rsplit("/", 1)[-1]

    started = time.monotonic()
    while item_path not in (shown := httpx.get(b + page, headers=html, timeout=10)).text:
        assert time.monotonic() - started < FOLLOW_WITHIN, "the kept page on B never showed the new item"
        time.sleep(0.05)
    assert item_path in httpx.get(b + page, headers=html, timeout=10).text  # and what is kept now shows it
    print(f"\nB's page of the problem showed the item {(time.monotonic() - started) * 1000:.0f} ms after approval")
    assert shown.headers["x-cache"] == "miss"
