"""CSRF protection for public forms that need no login (alert subscriptions, "Spørg centeret").

A double-submit token, as the login form has: the page sets a random token in a strict, HTTP-only
cookie and in a hidden field; a post is accepted only when both are there and equal. Another site can
make a browser post the form but cannot read or set the cookie, so it cannot make them match.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import Request
from fastapi.responses import Response

FORM_CSRF_COOKIE = "amv_form_csrf"
FORM_CSRF_FIELD = "csrf"


def form_token(request: Request) -> str:
    """The token for a form on this page: the browser's current one, else a new one."""
    current = request.cookies.get(FORM_CSRF_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)


def set_form_token(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        FORM_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        max_age=4 * 3600,
        secure=request.url.scheme == "https",
    )
    return response


def form_token_ok(request: Request, submitted: Any) -> bool:
    expected = request.cookies.get(FORM_CSRF_COOKIE, "")
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a forged token may have them).
    return (
        bool(expected) and isinstance(submitted, str) and secrets.compare_digest(expected.encode(), submitted.encode())
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
