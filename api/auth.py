"""Who may write: `Authorization: Bearer <token>` for machines, a login session for people.

Reads never need either. Forms posted with a session must carry the session's CSRF token
(`csrf` field); bearer-token requests are not open to CSRF (browsers never add that header).
"""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse

from api.errors import json_error
from graph.accounts import Principal, Role, Session
from graph.ratelimit import Limit, RateLimited, RateLimiter

SESSION_COOKIE = "amv_session"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthError(Exception):
    def __init__(self, status: int, message: str, retry_after: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        if self.status == 401:
            return {"WWW-Authenticate": 'Bearer realm="arbejdsmiljoviden"'}
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def current_session(request: Request) -> Session | None:
    secret = request.cookies.get(SESSION_COOKIE)
    return request.app.state.services.accounts.session(secret) if secret else None


def current_principal(request: Request, *, allow_session: bool = True) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError(401, "Use `Authorization: Bearer <token>` (see `amv token create`).")
        principal = request.app.state.services.accounts.authenticate(token.strip())
        if principal is None:
            raise AuthError(401, "The token is not valid (unknown, mistyped or revoked).")
        return principal
    session = current_session(request) if allow_session else None
    return session.principal if session else None


def require_role(request: Request, role: Role, *, allow_session: bool = False) -> Principal:
    """The caller, if they have at least `role`. Machine endpoints take tokens only; HTML forms pass
    `allow_session=True` and must also call `check_csrf`."""
    principal = current_principal(request, allow_session=allow_session)
    if principal is None:
        raise AuthError(401, "This needs a token (`Authorization: Bearer <token>`, see `amv token create`) or a login.")
    if not principal.role.at_least(role):
        raise AuthError(403, f"This needs the {role.value} role; you have the {principal.role.value} role.")
    if request.method not in READ_METHODS:
        _count_write(request, principal)
    return principal


def require_role_json(request: Request, role: Role) -> Principal | JSONResponse:
    """`require_role` for the machine APIs: the caller, or the JSON error to answer with (401 or 403)."""
    try:
        return require_role(request, role)
    except AuthError as exc:
        return json_error(exc.status, exc.message, headers=exc.headers)


def _count_write(request: Request, principal: Principal) -> None:
    """At most `write_limit` writes a minute per token or login, counted in the ledger (so across workers):
    a leaked token or a runaway script cannot flood the review queue or the store."""
    settings = request.app.state.services.settings
    if settings.write_limit <= 0:
        return
    try:
        RateLimiter(settings.ledger_path, "writes").hit({principal.agent: Limit(settings.write_limit, 60.0)})
    except RateLimited as exc:
        raise AuthError(
            429,
            f"Too many writes: at most {settings.write_limit} a minute for one token or login; "
            f"try again in {exc.retry_after} s.",
            retry_after=exc.retry_after,
        ) from None


def check_csrf(request: Request, submitted: str | None) -> None:
    """A form posted with a login session must carry that session's CSRF token."""
    if request.headers.get("authorization"):
        return
    session = current_session(request)
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a forged token may have them).
    if session is None or not submitted or not hmac.compare_digest(session.csrf.encode(), submitted.encode()):
        raise AuthError(403, "The form has expired or did not come from this site; reload the page and try again.")
