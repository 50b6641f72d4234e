"""Webhooks for partner systems (graph/webhooks.py): the JSON API and the admin page.

API (any token, contributor and up — partners get a contributor token; a hook belongs to the token's
agent; editors and admins see and manage every hook):
- `POST /api/webhooks` `{"url", "filter": {"kinds", "concepts", "actors"}, "secret"?, "description"?}`
  → 201 with the hook and its `secret` (shown this once; generated when not given);
- `GET /api/webhooks`, `GET /api/webhooks/{id}`, `DELETE /api/webhooks/{id}`;
- `GET /api/webhooks/{id}/deliveries[?status=pending|delivered|failed&limit=]` — the delivery log;
- `POST /api/webhooks/{id}/deliveries/{delivery}/redeliver` — send again.
Admin page (login with the admin role): `/admin/webhooks`, one hook's deliveries at
`/admin/webhooks/{id}`, redelivery by a form (CSRF-checked).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.auth import current_session, require_role_json
from api.errors import json_error
from api.routes.contribute import _known_session, _login_redirect, _signed_form
from api.templating import render
from graph.accounts import Principal, Role
from graph.webhooks import DeliveryStatus, Webhook, WebhookRefused

router = APIRouter(tags=["webhooks"])

MAX_BODY = 100_000

REGISTER_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string", "format": "uri"},
                        "secret": {"type": "string", "minLength": 16, "maxLength": 200},
                        "description": {"type": "string", "maxLength": 500},
                        "filter": {
                            "type": "object",
                            "properties": {
                                "kinds": {"type": "array", "items": {"type": "string"}},
                                "concepts": {"type": "array", "items": {"type": "string"}},
                                "actors": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                    },
                },
                "example": {
                    "url": "https://partner.example/hooks/arbejdsmiljoviden",
                    "description": "Nyt om støj i bygge og anlæg",
                    "filter": {"kinds": ["item"], "concepts": ["factors/5.1"], "actors": []},
                },
            }
        },
    },
}


ERROR = {"application/json": {"example": {"error": "…"}}}
#: The errors every webhook route may answer (documented in the OpenAPI).
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or an unknown or revoked one", "content": ERROR},
    403: {"description": "The token's role is too low", "content": ERROR},
}
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {"description": "No such webhook that this token can see", "content": ERROR},
}


def _own(hook: Webhook | None, principal: Principal) -> bool:
    return hook is not None and (principal.role.at_least(Role.editor) or hook.owner == principal.agent)


def _path(hook: Webhook) -> str:
    return f"/api/webhooks/{hook.id}"


@router.post(
    "/api/webhooks",
    status_code=201,
    openapi_extra=REGISTER_DOC,
    summary="Register a webhook",
    responses={
        **ERRORS,
        400: {"description": "The body is not JSON", "content": ERROR},
        413: {"description": "Body too large", "content": ERROR},
        415: {"description": "Not application/json", "content": ERROR},
        422: {"description": "Field errors (url, secret, filter…); nothing was registered", "content": ERROR},
    },
)
async def register(request: Request) -> Response:
    services = request.app.state.services
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    body = await request.body()
    if len(body) > MAX_BODY:
        return json_error(413, f"The body is larger than {MAX_BODY:,} bytes.")
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return json_error(415, "Send the webhook as application/json.")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        return json_error(400, f"The body is not valid JSON: {exc}")
    if not isinstance(data, dict):
        return json_error(422, "The body must be one JSON object.")
    unknown = sorted(set(data) - {"url", "secret", "description", "filter"})
    if unknown:
        return json_error(422, f"Unknown fields: {', '.join(unknown)} (use url, secret, description, filter).")
    try:
        hooks = services.webhooks
        hook_filter = await asyncio.to_thread(hooks.parse_filter, data.get("filter"))
        hook, secret = await asyncio.to_thread(
            hooks.create,
            data.get("url"),
            hook_filter,
            owner=principal.agent,
            secret=data.get("secret"),
            description=data.get("description") or "",
        )
    except WebhookRefused as exc:
        return json_error(exc.status, exc.message, exc.errors or None)
    return JSONResponse(
        {**hook.as_json(), "secret": secret, "location": _path(hook)},
        status_code=201,
        headers={"Location": _path(hook)},
    )


@router.get("/api/webhooks", summary="Webhooks: your own (editors and admins: all)", responses=ERRORS)
def list_hooks(request: Request) -> Response:
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    owner = None if principal.role.at_least(Role.editor) else principal.agent
    hooks = request.app.state.services.webhooks.hooks(owner=owner)
    return JSONResponse({"total": len(hooks), "webhooks": [h.as_json() for h in hooks]})


def _visible_hook(request: Request, hook_id: str) -> Webhook | Response:
    principal = require_role_json(request, Role.contributor)
    if isinstance(principal, Response):
        return principal
    hook = request.app.state.services.webhooks.get(hook_id)
    if hook is None or not _own(hook, principal):
        return json_error(404, f"No webhook {hook_id} that you can see.")
    return hook


@router.get("/api/webhooks/{hook_id}", summary="One webhook", responses=NOT_YOURS)
def get_hook(request: Request, hook_id: str) -> Response:
    hook = _visible_hook(request, hook_id)
    return hook if isinstance(hook, Response) else JSONResponse(hook.as_json())


@router.delete(
    "/api/webhooks/{hook_id}", status_code=204, summary="Remove a webhook (nothing more is sent)", responses=NOT_YOURS
)
def delete_hook(request: Request, hook_id: str) -> Response:
    hook = _visible_hook(request, hook_id)
    if isinstance(hook, Response):
        return hook
    request.app.state.services.webhooks.delete(hook.id)
    return Response(status_code=204)


@router.get(
    "/api/webhooks/{hook_id}/deliveries",
    summary="A webhook's delivery log, newest first",
    responses={**NOT_YOURS, 400: {"description": "Bad status or limit", "content": ERROR}},
)
def deliveries(request: Request, hook_id: str, status: str | None = None, limit: int = 100) -> Response:
    hook = _visible_hook(request, hook_id)
    if isinstance(hook, Response):
        return hook
    if status is not None and status not in DeliveryStatus.__members__:
        return json_error(400, f"status must be one of {', '.join(DeliveryStatus.__members__)}.")
    if not 1 <= limit <= 1000:
        return json_error(400, "limit must be from 1 to 1000.")
    found = request.app.state.services.webhooks.deliveries(
        hook.id, status=DeliveryStatus(status) if status else None, limit=limit
    )
    return JSONResponse({"webhook": hook.id, "deliveries": [d.as_json() for d in found]})


@router.post(
    "/api/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    summary="Send a notification again (it goes next, before newer ones)",
    responses={
        **NOT_YOURS,
        409: {"description": "The notification is still waiting to be delivered", "content": ERROR},
    },
)
def redeliver(request: Request, hook_id: str, delivery_id: int) -> Response:
    hook = _visible_hook(request, hook_id)
    if isinstance(hook, Response):
        return hook
    try:
        delivery = request.app.state.services.webhooks.redeliver(hook.id, delivery_id)
    except WebhookRefused as exc:
        return json_error(exc.status, exc.message)
    return JSONResponse(delivery.as_json(), status_code=202)


# -- the admin page ------------------------------------------------------------------------------


def _admin_page(request: Request) -> Response | None:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    if not session.principal.role.at_least(Role.admin):
        return render(request, "message.html", {"message": "Kun administratorer / Admins only."}, status_code=403)
    return None


@router.get("/admin/webhooks", include_in_schema=False)
def admin_hooks(request: Request) -> Response:
    refused = _admin_page(request)
    if refused is not None:
        return refused
    hooks = request.app.state.services.webhooks.hooks()
    return render(request, "webhooks.html", {"hooks": hooks})


@router.get("/admin/webhooks/{hook_id}", include_in_schema=False)
def admin_hook(request: Request, hook_id: str) -> Response:
    refused = _admin_page(request)
    if refused is not None:
        return refused
    services = request.app.state.services
    hook = services.webhooks.get(hook_id)
    if hook is None:
        return render(request, "notfound.html", {}, status_code=404)
    session = _known_session(request)
    return render(
        request,
        "webhooks_hook.html",
        {"hook": hook, "deliveries": services.webhooks.deliveries(hook.id, limit=200), "csrf": session.csrf},
    )


@router.post("/admin/webhooks/{hook_id}/deliveries/{delivery_id}/redeliver", include_in_schema=False)
async def admin_redeliver(request: Request, hook_id: str, delivery_id: int) -> Response:
    form = await _signed_form(request, Role.admin)
    if isinstance(form, Response):
        return form
    try:
        request.app.state.services.webhooks.redeliver(hook_id, delivery_id)
    except WebhookRefused as exc:
        return render(request, "message.html", {"message": exc.message}, status_code=exc.status)
    return RedirectResponse(f"/admin/webhooks/{hook_id}?redelivered={delivery_id}", status_code=303)
