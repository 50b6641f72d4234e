"""What every response carries (security headers, request ids), the body limit, /health and /ready."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import make_settings

PAGES = ["/", "/search?q=st%C3%B8j", "/sparql", "/docs", "/vocab/factors", "/api/search?q=st%C3%B8j", "/nowhere"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(data_dir: Path, path: str) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get(path, headers={"Accept": "text/html"})
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_no_page_has_inline_script(data_dir: Path) -> None:
    """The CSP forbids inline script, so a page with one would silently lose it; data blocks are fine."""
    executable = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
    handlers = re.compile(r"\son[a-z]+\s*=", re.I)
    with TestClient(create_app(make_settings(data_dir))) as client:
        for path in ["/", "/search?q=st%C3%B8j", "/sparql", "/docs", "/vocab/factors", "/login", "/about"]:
            html = client.get(path).text
            assert not executable.search(html), path
            assert not handlers.search(html), path


def test_request_ids_are_returned_and_logged(data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client, caplog.at_level(logging.INFO, "amv.access"):
        mine = client.get("/health", headers={"X-Request-ID": "trace-1234abcd"})
        fresh = client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert mine.headers["x-request-id"] == "trace-1234abcd"
    assert re.fullmatch(r"[0-9a-f]{16}", fresh.headers["x-request-id"])
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "amv.access"]
    expected = {"request_id": "trace-1234abcd", "method": "GET", "path": "/health", "status": 200}
    assert expected.items() <= lines[0].items()


def test_oversized_bodies_get_413_and_change_nothing(data_dir: Path) -> None:
    settings = make_settings(data_dir, max_body_bytes=1_000)
    with TestClient(create_app(settings)) as client:
        before = client.get("/api/search?q=*").json()["total"]
        body = json.dumps({"title": {"da": "x" * 5_000}})
        declared = client.post("/api/submissions", content=body, headers={"Content-Type": "application/json"})

        def chunks():  # no Content-Length: the limit must hold for a streamed body too
            for _ in range(10):
                yield b"x" * 500

        streamed = client.post("/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"})
        assert client.get("/api/search?q=*").json()["total"] == before
    assert declared.status_code == 413 and "limit of 1000 bytes" in declared.text
    assert streamed.status_code == 413


def test_health_and_ready(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200, ready.text
        index = ready.json()["index"]
        assert index["documents"] == index["published_records"] > 100


def test_ready_reports_a_broken_index_and_start_repairs_it(data_dir: Path) -> None:
    """An index that lost its files is out of step with the store: the next start rebuilds it."""
    shutil.rmtree(data_dir / "search")
    with TestClient(create_app(make_settings(data_dir))) as client:
        ready = client.get("/ready")
    assert ready.status_code == 200, ready.text
