"""Harvest sources for editors (graph/harvest): `/harvest` lists the sources with their last runs and
errors, with forms to add and remove sources; `/harvest.json` is its JSON twin (an editor's token or
login). Running happens in `amv harvest run` and in the scheduled job of `amv serve`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.auth import AuthError, require_role
from api.errors import json_error
from api.i18n import MESSAGES, request_language
from api.routes.contribute import _known_session, _message, _role_session, _signed_form
from api.templating import render
from graph.accounts import Role, Session
from graph.harvest.runner import SourceRefused, define_source
from graph.harvest.sources import SourceType

router = APIRouter(tags=["harvest"])
RUNS_SHOWN = 20


def _editor(request: Request) -> Session | Response:
    return _role_session(request, Role.editor, "harvest.only_editors")


def _page(
    request: Request,
    session: Session,
    *,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = request.app.state.services
    return render(
        request,
        "harvest.html",
        {
            "sources": services.harvest.all(),
            "runs": services.harvest.runs(limit=RUNS_SHOWN),
            "types": [t.value for t in SourceType],
            "csrf": session.csrf,
            "session": session,
            "error": error,
            "values": values or {},
            "added": request.query_params.get("added"),
            "removed": request.query_params.get("removed"),
        },
        status_code=status,
    )


@router.get("/harvest", include_in_schema=False)
def harvest_page(request: Request) -> Response:
    session = _editor(request)
    if isinstance(session, Response):
        return session
    return _page(request, session)


@router.get(
    "/harvest.json",
    summary="Harvest sources and their latest runs (editors)",
    responses={401: {"description": "No token or login"}, 403: {"description": "Not an editor"}},
)
def harvest_json(request: Request) -> Response:
    """Every configured source (type, address, kind, actor, concepts, schedule, last run, last error,
    entries queued) and the latest runs (counts, error, notes). Needs an editor's token or login."""
    try:
        require_role(request, Role.editor, allow_session=True)
    except AuthError as exc:
        return json_error(exc.status, exc.message)
    services = request.app.state.services
    return JSONResponse(
        {
            "sources": [s.as_json() for s in services.harvest.all()],
            "runs": [r.as_json() for r in services.harvest.runs(limit=RUNS_SHOWN)],
        }
    )


@router.post("/harvest", include_in_schema=False)
async def add_source(request: Request) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    values, principal = form
    first = {name: (values.get(name) or [""])[0].strip() for name in ("name", "type", "url", "kind", "actor", "every")}
    first["default_type"] = (values.get("default_type") or [""])[0].strip()
    first["concepts"] = (values.get("concepts") or [""])[0].strip()
    session = _known_session(request)
    try:
        every = float(first["every"] or "24")
    except ValueError:
        return _page(
            request, session, error=MESSAGES["harvest.bad_every"][request_language(request)], values=first, status=422
        )
    try:
        define_source(
            request.app.state.services,
            name=first["name"],
            type_name=first["type"],
            url=first["url"] or None,
            kind=first["kind"] or "item",
            actor=first["actor"] or None,
            concepts=[c for c in first["concepts"].replace(",", " ").split() if c],
            default_type=first["default_type"] or None,
            every_hours=every,
            created_by=principal.agent,
        )
    except SourceRefused as exc:
        return _page(request, session, error=exc.messages[request_language(request)], values=first, status=422)
    return RedirectResponse(f"/harvest?added={first['name']}", status_code=303)


@router.post("/harvest/{name}/remove", include_in_schema=False)
async def remove_source(request: Request, name: str) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    if not request.app.state.services.harvest.remove(name):
        return _message(request, "harvest.no_source", 404)
    return RedirectResponse(f"/harvest?removed={name}", status_code=303)
