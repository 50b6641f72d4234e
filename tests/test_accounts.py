"""People log in with a password (Argon2id), sessions carry CSRF tokens, failed logins are limited."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from tests.conftest import make_settings

PASSWORD = "korrekt hest batteri hæfteklamme"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(data_dir))) as c:
        c.app.state.services.accounts.add_user("Redaktor@Example.org", "Rikke Redaktør", Role.editor, PASSWORD)  # type: ignore[attr-defined]
        yield c


def login(client: TestClient, email: str, password: str) -> object:
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    return client.post(
        "/login", data={"email": email, "password": password, "csrf": csrf, "next": "/account"}, follow_redirects=False
    )


def test_login_opens_a_session_and_the_account_page_shows_who(client: TestClient) -> None:
    response = login(client, "redaktor@example.org", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/account"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "amv_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/account")
    assert "Rikke Redaktør" in page.text and "Redaktør" in page.text


def test_passwords_are_stored_with_argon2(client: TestClient) -> None:
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    stored = accounts._db.execute("SELECT password FROM users").fetchone()[0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_wrong_password_is_refused_and_repeated_failures_are_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "redaktor@example.org", "forkert kodeord!").status_code == 401  # type: ignore[attr-defined]
    blocked = login(client, "redaktor@example.org", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "amv_session" not in blocked.headers.get("set-cookie", "")  # type: ignore[attr-defined]


def test_login_form_needs_its_csrf_token_and_next_stays_on_this_site(client: TestClient) -> None:
    client.get("/login")
    forged = client.post(
        "/login", data={"email": "redaktor@example.org", "password": PASSWORD, "csrf": "x"}, follow_redirects=False
    )
    assert forged.status_code == 403
    form = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    evil = client.post(
        "/login",
        data={"email": "redaktor@example.org", "password": PASSWORD, "csrf": csrf, "next": "//evil.example/"},
        follow_redirects=False,
    )
    assert evil.headers["location"] == "/account"


def test_logout_needs_the_session_csrf_token(client: TestClient) -> None:
    login(client, "redaktor@example.org", PASSWORD)
    assert client.post("/logout", data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    assert client.get("/account", follow_redirects=False).status_code == 200
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/account").text).group(1)  # type: ignore[union-attr]
    assert client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/account", follow_redirects=False).status_code == 303


def test_machine_endpoints_do_not_accept_a_browser_session(client: TestClient) -> None:
    login(client, "redaktor@example.org", PASSWORD)
    response = client.post("/sparql/update", data={"update": "INSERT DATA { <a:b> <a:c> <a:d> }"})
    assert response.status_code == 401


def test_cli_user_add(data_dir: Path) -> None:
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir)}
    add = [
        sys.executable,
        "-m",
        "graph.cli",
        "user",
        "add",
        "ny@example.org",
        "--name",
        "Ny",
        "--role",
        "admin",
        "--password-stdin",
    ]
    ok = subprocess.run(add, input=PASSWORD + "\n", capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    again = subprocess.run(add, input=PASSWORD + "\n", capture_output=True, text=True, env=env)
    assert again.returncode == 1 and "exists" in again.stderr
    short = subprocess.run(
        [*add[:5], "kort@example.org", *add[6:]], input="kort\n", capture_output=True, text=True, env=env
    )
    assert short.returncode == 1 and "at least 12" in short.stderr
