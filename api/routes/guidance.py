"""Guidance requests (graph/guidance.py): the public form `/ask-us` ("Spørg centeret") and the editors'
inbox `/requests` (status, assignment, notes, answer by e-mail with record links, publish as FAQ).

`/ask-us` needs no login: it carries a double-submit CSRF token (api/public_forms.py) and is
rate-limited per client. The searches the person already tried are kept by api/static/ask-us.js
(sessionStorage, filled in on /search) and put in the form's `searches` field; the server takes them
from the form, so a person without JavaScript can type them. The inbox needs an editor's login; its
forms go through `_signed_form` (session CSRF token and role).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from api.i18n import MESSAGES, request_language
from api.public_forms import client_address, form_token, form_token_ok, set_form_token
from api.routes.contribute import _known_session, _role_session, _signed_form
from api.templating import render
from graph.accounts import Role, Session
from graph.guidance import (
    MAX_DESCRIPTION,
    Guidance,
    GuidanceRefused,
    RequestStatus,
    ask_options,
    concept_labels,
)
from graph.mail import MailError
from graph.ratelimit import RateLimited
from graph.search.page import SearchParameterError, search_page
from graph.views import Site

router = APIRouter()

ASK_FIELDS = ("description", "email", "organisation", "role", "industry", "searches")


def _guidance(request: Request) -> Guidance:
    return Guidance(request.app.state.services)


def _first(values: dict[str, list[str]], name: str) -> str:
    return (values.get(name) or [""])[0]


# -- the public form ---------------------------------------------------------------------------


def _ask_page(
    request: Request,
    values: dict[str, str] | None = None,
    *,
    error: dict[str, str] | None = None,
    error_field: str = "",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    roles, industries = ask_options(request.app.state.services)
    token = form_token(request)
    response = render(
        request,
        "ask_us.html",
        {
            "values": values or {},
            "roles": roles,
            "industries": industries,
            "error": error,
            "error_field": error_field,
            "max_description": MAX_DESCRIPTION,
            "csrf": token,
        },
        status_code=status,
    )
    response.headers.update(headers or {})
    return set_form_token(request, response, token)


@router.get("/ask-us")
def ask_form(request: Request) -> Response:
    return _ask_page(request)


@router.post("/ask-us")
async def ask(request: Request) -> Response:
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in ASK_FIELDS}
    searches = [str(v) for v in form.getlist("searches")]
    if not form_token_ok(request, form.get("csrf")):
        return _ask_page(request, values, error=MESSAGES["form.expired"], status=403)
    try:
        asked = _guidance(request).submit(
            description=values["description"],
            email=values["email"],
            organisation=values["organisation"],
            role=values["role"],
            industry=values["industry"],
            searches=searches,
            lang=request_language(request),
            client=client_address(request),
        )
    except GuidanceRefused as exc:
        return _ask_page(request, values, error=exc.messages, error_field=exc.field, status=exc.status)
    except RateLimited as exc:
        return _ask_page(
            request,
            values,
            error=MESSAGES["askus.too_many"],
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    return render(request, "ask_us_thanks.html", {"asked": asked})


# -- the editors' inbox ------------------------------------------------------------------------


def _editor(request: Request) -> Session | Response:
    return _role_session(request, Role.editor, "requests.editors_only")


@router.get("/requests")
def inbox(request: Request) -> Response:
    session = _editor(request)
    if isinstance(session, Response):
        return session
    guidance = _guidance(request)
    status = request.query_params.get("status", "")
    if status and status not in RequestStatus.__members__:
        status = ""
    mine = request.query_params.get("mine") == "1"
    return render(
        request,
        "requests.html",
        {
            "requests": guidance.inbox(status, session.principal.id if mine else ""),
            "counts": guidance.counts(),
            "statuses": [s.value for s in RequestStatus],
            "status": status,
            "mine": mine,
            "session": session,
        },
    )


def _request_page(
    request: Request,
    session: Session,
    request_id: str,
    *,
    error: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    services = request.app.state.services
    guidance = _guidance(request)
    found = guidance.get(request_id)
    if found is None:
        return render(request, "notfound.html", {}, status_code=404)
    lang = request_language(request)
    query = request.query_params.get("q", "").strip()
    hits = []
    if query:
        try:
            hits = search_page(services.search, {"q": [query]}, lang).result.hits
        except SearchParameterError:
            hits = []
    defaults = guidance.faq_defaults(found)
    latest = guidance.latest_answer(found.id)
    return render(
        request,
        "request.html",
        {
            "item": found,
            "events": guidance.events(found.id),
            "editors": guidance.editors(),
            "statuses": [s.value for s in RequestStatus],
            "role_labels": concept_labels(services, found.role),
            "industry_labels": concept_labels(services, found.industry),
            "query": query,
            "hits": hits,
            "site": Site(services),
            "faq": {**defaults, **(form or {})},
            "answer_records": "\n".join(latest.data.get("records", [])) if latest else "",
            "error": error,
            "published": request.query_params.get("published", ""),
            "csrf": session.csrf,
            "session": session,
        },
        status_code=status,
    )


@router.get("/requests/{request_id}")
def request_detail(request: Request, request_id: str) -> Response:
    session = _editor(request)
    if isinstance(session, Response):
        return session
    return _request_page(request, session, request_id)


def _back(request_id: str, **params: str) -> Response:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"/requests/{quote(request_id)}" + (f"?{query}" if query else ""), status_code=303)


@router.post("/requests/{request_id}")
async def update_request(request: Request, request_id: str) -> Response:
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    session = _known_session(request)
    try:
        _guidance(request).update(
            request_id,
            principal,
            status=_first(values, "status"),
            assignee=_first(values, "assignee") if "assignee" in values else None,
            note=_first(values, "note"),
        )
    except GuidanceRefused as exc:
        return _request_page(request, session, request_id, error=exc.messages, status=exc.status)
    return _back(request_id)


@router.post("/requests/{request_id}/answer")
async def answer_request(request: Request, request_id: str) -> Response:
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    session = _known_session(request)
    try:
        _guidance(request).answer(
            request_id,
            principal,
            subject=_first(values, "subject"),
            body=_first(values, "body"),
            records=values.get("record", []) + values.get("records", []),
        )
    except GuidanceRefused as exc:
        return _request_page(request, session, request_id, error=exc.messages, status=exc.status)
    except MailError:
        return _request_page(request, session, request_id, error=MESSAGES["mail.failed"], status=503)
    return _back(request_id)


@router.post("/requests/{request_id}/faq")
async def publish_faq(request: Request, request_id: str) -> Response:
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    session = _known_session(request)
    form = {name: _first(values, name) for name in ("question", "question_en", "answer", "answer_en")}
    form |= {name: _first(values, name) for name in ("factors", "industries", "records")}
    try:
        iri = _guidance(request).publish_faq(
            request_id,
            principal,
            question={"da": form["question"], "en": form["question_en"]},
            answer={"da": form["answer"], "en": form["answer_en"]},
            factors=[form["factors"]],
            industries=[form["industries"]],
            records=[form["records"]],
        )
    except GuidanceRefused as exc:
        return _request_page(request, session, request_id, error=exc.messages, form=form, status=exc.status)
    return _back(request_id, published=iri)
