"""E-mail alerts (graph/alerts.py): `/alerts` (subscribe, no account), `/alerts/confirm/{token}` (double
opt-in), `/alerts/manage/{id}/{signature}` (change it) and `/alerts/unsubscribe/{id}/{signature}` (one
click: RFC 8058 POST from the mail client, or the button on the page).

The subscribe form is public, so it carries a double-submit CSRF token (api/public_forms.py) and is
rate-limited per address and client. Confirm, manage and unsubscribe are authorised by the secret or
signature in their URL (sent only to the address), so they need no cookie: a mail client's one-click
POST has none. Every GET of those pages only shows a button, so link scanners change nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import urllib.parse
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from api.i18n import MESSAGES, request_language
from api.public_forms import client_address, form_token, form_token_ok, set_form_token
from api.templating import render
from graph.alerts import LANGUAGES, AlertRefused, Alerts, Frequency, alert_form, scope_parameters
from graph.coverage import FilterError
from graph.feeds import ItemScope
from graph.mail import MailError
from graph.ratelimit import RateLimited

log = logging.getLogger(__name__)


async def _digest_loop(app: FastAPI, interval: float) -> None:
    """Every `interval` seconds, send the digests that are due (in a thread: it talks to the store and SMTP)."""
    services = app.state.services
    while True:
        await asyncio.sleep(interval)
        if not services.settings.smtp_host:
            log.warning("e-mail alerts: no SMTP server configured (AMV_SMTP_HOST); no digests sent")
            continue
        try:
            report = await asyncio.to_thread(Alerts(services).send_digests)
        except Exception:  # noqa: BLE001 - the loop must survive; the next run tries again
            log.exception("e-mail alerts: the digest run failed")
            continue
        if report.sent or report.failed:
            log.info("e-mail alerts: %d digests sent, %d failed", report.sent, report.failed)


@contextlib.asynccontextmanager
async def _scheduler(app: FastAPI) -> AsyncIterator[None]:
    """The digest job of `amv serve` (AMV_ALERTS_INTERVAL; off when 0, as in tests)."""
    interval = app.state.services.settings.alerts_interval
    task = asyncio.create_task(_digest_loop(app, interval)) if interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


router = APIRouter(lifespan=_scheduler)


def _alerts(request: Request) -> Alerts:
    return Alerts(request.app.state.services)


async def _form_values(request: Request) -> dict[str, list[str]]:
    raw = (await request.body()).decode("utf-8", errors="replace")
    return urllib.parse.parse_qs(raw, keep_blank_values=True)


def _first(values: dict[str, list[str]], name: str, default: str = "") -> str:
    return (values.get(name) or [default])[0]


def _subscribe_page(
    request: Request,
    *,
    parameters: list[tuple[str, str]],
    email: str = "",
    frequency: str = Frequency.weekly.value,
    mail_lang: str | None = None,
    error: dict[str, str] | None = None,
    error_field: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    alerts = _alerts(request)
    lang = request_language(request)
    scope: ItemScope | None = None
    try:
        scope = alerts.scope(parameters)
    except FilterError as exc:
        error, error_field, status = exc.messages, exc.param, 400
        parameters = []
    token = form_token(request)
    response = render(
        request,
        "alerts.html",
        {
            "form": alert_form(alerts.services, scope.parameters if scope else [], scope),
            "scope_title": scope.title(lang) if scope else "",
            "email": email,
            "frequency": frequency,
            "mail_lang": mail_lang or lang,
            "languages": LANGUAGES,
            "frequencies": [f.value for f in Frequency],
            "error": error,
            "error_field": error_field,
            "csrf": token,
        },
        status_code=status,
    )
    response.headers.update(headers or {})
    return set_form_token(request, response, token)


@router.get("/alerts")
def subscribe_form(request: Request) -> Response:
    """The subscription form, prefilled from the same parameters as a feed (`/alerts?factor=5.1`)."""
    asked = {name: request.query_params.getlist(name) for name in request.query_params}
    return _subscribe_page(request, parameters=scope_parameters(asked))


@router.post("/alerts")
async def subscribe(request: Request) -> Response:
    values = await _form_values(request)
    parameters = scope_parameters(values)
    email = _first(values, "email").strip()
    frequency = _first(values, "frequency", Frequency.weekly.value)
    mail_lang = _first(values, "mail_lang", request_language(request))
    again = {"parameters": parameters, "email": email, "frequency": frequency, "mail_lang": mail_lang}
    if not form_token_ok(request, _first(values, "csrf")):
        return _subscribe_page(request, **again, error=MESSAGES["form.expired"], status=403)
    alerts = _alerts(request)
    try:
        alerts.subscribe(email, parameters, frequency, mail_lang, client_address(request))
    except AlertRefused as exc:
        return _subscribe_page(request, **again, error=exc.messages, error_field=exc.field, status=422)
    except FilterError as exc:
        return _subscribe_page(request, **again, error=exc.messages, error_field=exc.param, status=400)
    except RateLimited as exc:
        return _subscribe_page(
            request,
            **again,
            error=MESSAGES["alerts.too_many"],
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except MailError:
        return _subscribe_page(request, **again, error=MESSAGES["mail.failed"], status=503)
    # The same answer whether or not the address already subscribes: the page tells no one who does.
    return render(request, "alerts_message.html", {"heading": "alerts.check_mail", "text": "alerts.check_mail_text"})


@router.get("/alerts/confirm/{token}")
def confirm_page(request: Request, token: str) -> Response:
    return render(request, "alerts_confirm.html", {"action": f"/alerts/confirm/{urllib.parse.quote(token)}"})


@router.post("/alerts/confirm/{token}")
def confirm(request: Request, token: str) -> Response:
    alerts = _alerts(request)
    subscription = alerts.confirm(token)
    if subscription is None:
        return render(
            request,
            "alerts_message.html",
            {"heading": "alerts.confirm_failed", "text": "alerts.confirm_failed_text", "link": "/alerts"},
            status_code=410,
        )
    return render(
        request,
        "alerts_message.html",
        {
            "heading": "alerts.confirmed",
            "text": "alerts.confirmed_text",
            "link": alerts.manage_path(subscription.id),
            "link_text": "alerts.manage",
        },
    )


def _verified(request: Request, subscription_id: str, signature: str) -> bool:
    return len(signature) < 100 and _alerts(request).verify(subscription_id, signature)


def _manage_page(
    request: Request,
    subscription_id: str,
    *,
    error: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    alerts = _alerts(request)
    subscription = alerts.get(subscription_id)
    if subscription is None:
        return render(
            request,
            "alerts_message.html",
            {"heading": "alerts.gone", "text": "alerts.gone_text", "link": "/alerts"},
            status_code=404,
        )
    lang = request_language(request)
    try:
        scope: ItemScope | None = alerts.scope(subscription.parameters)
    except FilterError as exc:
        scope, error = None, exc.messages
    return render(
        request,
        "alerts_manage.html",
        {
            "subscription": subscription,
            "form": alert_form(alerts.services, scope.parameters if scope else [], scope),
            "scope_title": scope.title(lang) if scope else "",
            "action": alerts.manage_path(subscription.id),
            "unsubscribe": alerts.unsubscribe_path(subscription.id),
            "languages": LANGUAGES,
            "frequencies": [f.value for f in Frequency],
            "error": error,
            "saved": saved,
        },
        status_code=status,
    )


@router.get("/alerts/manage/{subscription_id}/{signature}")
def manage_page(request: Request, subscription_id: str, signature: str) -> Response:
    if not _verified(request, subscription_id, signature):
        return _bad_link(request)
    return _manage_page(request, subscription_id, saved=request.query_params.get("saved") == "1")


@router.post("/alerts/manage/{subscription_id}/{signature}")
async def manage(request: Request, subscription_id: str, signature: str) -> Response:
    if not _verified(request, subscription_id, signature):
        return _bad_link(request)
    values = await _form_values(request)
    alerts = _alerts(request)
    try:
        alerts.update(
            subscription_id,
            scope_parameters(values),
            _first(values, "frequency"),
            _first(values, "mail_lang"),
        )
    except LookupError:
        return _manage_page(request, subscription_id)
    except AlertRefused as exc:
        return _manage_page(request, subscription_id, error=exc.messages, status=422)
    except FilterError as exc:
        return _manage_page(request, subscription_id, error=exc.messages, status=400)
    return _manage_page(request, subscription_id, saved=True)


@router.get("/alerts/unsubscribe/{subscription_id}/{signature}")
def unsubscribe_page(request: Request, subscription_id: str, signature: str) -> Response:
    if not _verified(request, subscription_id, signature):
        return _bad_link(request)
    return render(request, "alerts_unsubscribe.html", {"action": f"/alerts/unsubscribe/{subscription_id}/{signature}"})


@router.post("/alerts/unsubscribe/{subscription_id}/{signature}")
def unsubscribe(request: Request, subscription_id: str, signature: str) -> Response:
    """RFC 8058 one-click unsubscribe (body `List-Unsubscribe=One-Click`), and the page's button."""
    if not _verified(request, subscription_id, signature):
        return _bad_link(request)
    _alerts(request).unsubscribe(subscription_id)
    return render(
        request,
        "alerts_message.html",
        {"heading": "alerts.unsubscribed", "text": "alerts.unsubscribed_text", "link": "/alerts"},
    )


def _bad_link(request: Request) -> Response:
    return render(
        request,
        "alerts_message.html",
        {"heading": "alerts.bad_link", "text": "alerts.bad_link_text", "link": "/alerts"},
        status_code=404,
    )
