"""The first web app: the home page shows what is in the graph; /health tells monitors the truth."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import make_settings


def test_home_page_shows_nonzero_counts_and_links_to_schemes(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="da">' in html
    counts = dict(re.findall(r'data-count="(\w+)"><strong>([\d.]+)</strong>', html))
    assert int(counts["item"]) >= 60 and int(counts["actor"]) >= 30 and int(counts["event"]) >= 20
    assert int(counts["concept"].replace(".", "")) > 2000
    assert 'href="/vocab/factors"' in html and "Arbejdsmiljøfaktorer" in html


def test_english_switch_persists_in_a_cookie(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        english = client.get("/?lang=en")
        assert '<html lang="en">' in english.text and "Work-environment factors" in english.text
        assert client.get("/").text.count('<html lang="en">') == 1


def test_health(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        assert client.get("/health").json() == {"status": "ok"}


def test_unknown_paths_get_the_404_page_in_a_browser_and_plain_text_otherwise(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        page = client.get("/no/such/page", headers={"Accept": "text/html"})
        assert page.status_code == 404 and 'role="search"' in page.text and '<html lang="da">' in page.text
        plain = client.get("/no/such/page", headers={"Accept": "application/json"})
        assert plain.status_code == 404 and plain.text.startswith("404")
