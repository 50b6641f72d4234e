"""Who may write: `Authorization: Bearer <token>` with a role (reads never need this)."""

from __future__ import annotations

from fastapi import Request

from graph.accounts import Principal, Role


class AuthError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="arbejdsmiljoviden"'} if self.status == 401 else {}


def require_role(request: Request, role: Role) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "This needs a token: send `Authorization: Bearer <token>` (see `amv token create`).")
    principal = request.app.state.services.accounts.authenticate(token.strip())
    if principal is None:
        raise AuthError(401, "The token is not valid (unknown, mistyped or revoked).")
    if not principal.role.at_least(role):
        raise AuthError(403, f"This needs the {role.value} role; the token has the {principal.role.value} role.")
    return principal
