"""Login, logout and the account page (people; machines use tokens)."""

from __future__ import annotations

import secrets
import urllib.parse

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import SESSION_COOKIE, AuthError, check_csrf, current_session
from api.templating import render
from graph.accounts import SESSION_SECONDS, LoginRefused

router = APIRouter()

LOGIN_CSRF_COOKIE = "amv_login_csrf"


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/account"
    return target


def _login_page(
    request: Request, status: int = 200, error: str = "", email: str = "", headers: dict[str, str] | None = None
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        {
            "error": error,
            "email": email,
            "csrf": token,
            "next": _safe_next(request.query_params.get("next")),
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", max_age=3600, secure=request.url.scheme == "https"
    )
    response.headers.update(headers or {})
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    email: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/account"),
) -> Response:  # noqa: A002 - the form field is called next
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):  # bytes: any text compares
        return _login_page(request, 403, "login.expired", email)
    client = request.client.host if request.client else "unknown"
    try:
        secret, _ = request.app.state.services.accounts.login(email, password, client)
    except LoginRefused as exc:
        if exc.retry_after:
            return _login_page(request, 429, "login.too_many", email, {"Retry-After": str(exc.retry_after)})
        return _login_page(request, 401, "login.wrong", email)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        max_age=SESSION_SECONDS,
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    try:
        check_csrf(request, csrf)
    except AuthError as exc:
        return render(request, "message.html", {"message": exc.message}, status_code=exc.status)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        request.app.state.services.accounts.end_session(secret)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account")
def account(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return RedirectResponse("/login?" + urllib.parse.urlencode({"next": "/account"}), status_code=303)
    return render(request, "account.html", {"session": session})
