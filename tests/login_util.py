"""Logged-in users for tests of the HTML forms: the app with a contributor and an editor, the CSRF token of a
page, and logging in through /login as a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient

from api.app import create_app
from graph.accounts import Role
from graph.config import Settings

PASSWORD = "en lang og god adgangskode"
CONTRIBUTOR = "bidrag@example.org"
EDITOR = "redaktion@example.org"
#: (email, name, role) of the users most form tests need.
USERS: tuple[tuple[str, str, Role], ...] = (
    (CONTRIBUTOR, "Bo Bidrag", Role.contributor),
    (EDITOR, "Rut Redaktør", Role.editor),
)


def add_users(client: TestClient, users: Iterable[tuple[str, str, Role]] = USERS, password: str = PASSWORD) -> None:
    """Create user accounts (email, name, role) in the app of `client`, all with `password`."""
    accounts = client.app.state.services.accounts  # type: ignore[attr-defined]
    for email, name, role in users:
        accounts.add_user(email, name, role, password)


@contextmanager
def app_with_users(
    settings: Settings, users: Iterable[tuple[str, str, Role]] = USERS, password: str = PASSWORD
) -> Iterator[TestClient]:
    """A TestClient of the app on `settings` with `users` (by default a contributor and an editor)."""
    with TestClient(create_app(settings)) as client:
        add_users(client, users, password)
        yield client


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    """Log in through the login form, as someone new (the client's cookies are cleared first)."""
    client.cookies.clear()
    csrf = csrf_of(client.get("/login").text)
    response = client.post("/login", data={"email": email, "password": password, "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
