"""Contributing through the browser: submission forms, "my submissions" and the editors' review queue.

People log in (contributor, editor or admin); every form carries the session's CSRF token. The
forms are generated from the shapes (graph/forms.py) and go through the same submission workflow
as the API, so validation messages appear next to the fields, in the user's language.
"""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.auth import AuthError, check_csrf, current_session, require_role
from api.i18n import request_language
from api.templating import render
from graph.accounts import Principal, Role
from graph.forms import form_fields, json_from_form
from graph.iris import RecordKind
from graph.submissions import SubmissionRefused, record_from_json
from graph.views import Site

router = APIRouter()


def _login_redirect(request: Request) -> Response:
    return RedirectResponse("/login?" + urllib.parse.urlencode({"next": request.url.path}), status_code=303)


async def _signed_form(request: Request, role: Role) -> tuple[dict[str, list[str]], Principal] | Response:
    """The posted form and who sent it — if it carries the session's CSRF token and the role suffices."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    values = urllib.parse.parse_qs(raw, keep_blank_values=True)
    try:
        check_csrf(request, (values.get("csrf") or [""])[0])
        principal = require_role(request, role, allow_session=True)
    except AuthError as exc:
        return render(request, "message.html", {"message": exc.message}, status_code=exc.status)
    return values, principal


def _kind(value: str) -> RecordKind | None:
    return RecordKind(value) if value in RecordKind.__members__ else None


@router.get("/submit")
def choose(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    return render(request, "submit_choose.html", {"kinds": list(RecordKind), "session": session})


def _form_page(
    request: Request,
    kind: RecordKind,
    values: dict[str, list[str]],
    errors: dict[str, list[str]],
    general: list[str],
    status: int = 200,
) -> Response:
    session = current_session(request)
    assert session is not None
    lang = request_language(request)
    fields = form_fields(Site(request.app.state.services), kind, lang)
    return render(
        request,
        "submit_form.html",
        {
            "kind": kind,
            "fields": fields,
            "values": values,
            "errors": errors,
            "general": general,
            "csrf": session.csrf,
            "session": session,
        },
        status_code=status,
    )


@router.get("/submit/{kind_name}")
def form(request: Request, kind_name: str) -> Response:
    kind = _kind(kind_name)
    if kind is None:
        return render(request, "notfound.html", {}, status_code=404)
    if current_session(request) is None:
        return _login_redirect(request)
    return _form_page(request, kind, {}, {}, [])


@router.post("/submit/{kind_name}")
async def submit(request: Request, kind_name: str) -> Response:
    kind = _kind(kind_name)
    if kind is None:
        return render(request, "notfound.html", {}, status_code=404)
    if current_session(request) is None:
        return _login_redirect(request)
    form = await _signed_form(request, Role.contributor)
    if isinstance(form, Response):
        return form
    values, principal = form
    services = request.app.state.services
    lang = request_language(request)
    try:
        record = record_from_json(json_from_form(kind, values), services.iris)
        submission, _ = services.submissions.submit(
            record, agent=principal.agent, may_revise=principal.role.at_least(Role.editor)
        )
    except SubmissionRefused as exc:
        errors: dict[str, list[str]] = {}
        general: list[str] = []
        for error in exc.errors:
            message = error["messages"].get(lang) or error["messages"].get("en", "")
            if error.get("field"):
                errors.setdefault(error["field"], []).append(message)
            else:
                general.append(message)
        if not exc.errors:
            general.append(exc.message)
        return _form_page(request, kind, values, errors, general, status=422 if exc.status == 422 else exc.status)
    return RedirectResponse(f"/my/submissions?submitted={submission.id}", status_code=303)


@router.get("/my/submissions")
def my_submissions(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    services = request.app.state.services
    mine = services.submissions.by_submitter(session.principal.agent)
    return render(
        request,
        "my_submissions.html",
        {
            "submissions": mine,
            "session": session,
            "just": request.query_params.get("submitted"),
        },
    )


@router.get("/review")
def review_queue(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    if not session.principal.role.at_least(Role.editor):
        return render(request, "message.html", {"message": "Kun redaktører kan se køen."}, status_code=403)
    services = request.app.state.services
    kind = request.query_params.get("type")
    queue = services.submissions.queue(kind=kind if _kind(kind or "") else None)
    return render(
        request,
        "review.html",
        {"queue": queue, "session": session, "kinds": list(RecordKind), "kind": kind, "csrf": session.csrf},
    )


@router.post("/review/{submission_id}")
async def decide(request: Request, submission_id: str) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    values, principal = form
    services = request.app.state.services
    decision = (values.get("decision") or [""])[0]
    try:
        if decision == "approve":
            services.submissions.approve(submission_id, editor=principal.agent)
        elif decision == "reject":
            services.submissions.reject(submission_id, editor=principal.agent, reason=(values.get("reason") or [""])[0])
        else:
            return render(request, "message.html", {"message": "Unknown decision."}, status_code=400)
    except SubmissionRefused as exc:
        details = "; ".join(e["messages"].get(request_language(request), "") for e in exc.errors)
        return render(request, "message.html", {"message": f"{exc.message} {details}"}, status_code=exc.status)
    return RedirectResponse("/review", status_code=303)
