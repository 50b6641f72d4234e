"""The vocabulary editor in the browser: forms for people with a login (contributor, editor, admin).

`/vocab` lists the concept schemes. Under `/editor/` editors create concept schemes, concepts and
collections, edit, deprecate and merge concepts, and decide on proposals; contributors propose new
concepts and labels (`/my/proposals` shows what became of them). Every form carries the session's
CSRF token and goes through the same code as the JSON API (graph.vocab_edit, graph.vocab_schemes,
graph.vocab_proposals), so the same rules apply; a refused change shows the reasons next to the
fields, in the editor's language, with what was typed kept — and nothing changed.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pyoxigraph import NamedNode

from api.auth import current_session
from api.i18n import MESSAGES, request_language, translator
from api.routes import vocab_editor_api
from api.routes.contribute import _known_session, _role_session, _signed_form
from api.templating import render
from graph.accounts import Principal, Role, Session
from graph.concepts import scheme_summaries
from graph.views import Ref, Site
from graph.vocab_edit import _CODE, MATCHES, EditRefused, Thesaurus
from graph.vocab_forms import display_value, first, form_errors, form_values, json_from_form, lines
from graph.vocab_proposals import Proposal, Proposals, ProposalStatus
from graph.vocab_schemes import Vocabularies, member_codes

router = APIRouter()
router.include_router(vocab_editor_api.router)  # the same editor for machines, under /api/

#: The field groups of the concept form, by who fills it in (contributors: graph.vocab_proposals' rules).
EDITOR_FIELDS = (
    "notation",
    "prefLabel",
    "altLabel",
    "hiddenLabel",
    "definition",
    "scopeNote",
    "example",
    "editorialNote",
    "broader",
    "related",
    *MATCHES,
)
CONTRIBUTOR_NEW_FIELDS = (
    "notation",
    "prefLabel",
    "altLabel",
    "hiddenLabel",
    "definition",
    "scopeNote",
    "example",
    "broader",
    "related",
)
CONTRIBUTOR_EDIT_FIELDS = ("prefLabel", "altLabel", "hiddenLabel")
DECIDED_SHOWN = 20


# -- shared helpers ------------------------------------------------------------------------------


def _session(request: Request, role: Role) -> Session | Response:
    """The logged-in person, if their role suffices: else the login page, or a 403 page."""
    return _role_session(request, role, "vocabedit.needs_editor")


def _not_found(request: Request) -> Response:
    return render(request, "notfound.html", {}, status_code=404)


def _scheme(request: Request, scheme_id: str) -> tuple[NamedNode, Ref] | None:
    """The scheme's IRI and a named link to it, if it exists."""
    services = request.app.state.services
    try:
        iri = services.iris.scheme(scheme_id)
    except ValueError:
        return None
    if not Thesaurus(services).scheme_exists(iri):
        return None
    site = Site(services)
    return iri, site.ref(iri.value, site.names([iri.value]).get(iri.value, {}))


def _concept_iri(scheme: NamedNode, code: str) -> NamedNode:
    """The IRI a code names; a malformed code gets a stand-in that no concept has (`-` is no code), so
    that Thesaurus.edit refuses the notation with its own message."""
    return NamedNode(f"{scheme.value}/{code if _CODE.match(code) else '-'}")


def _refusal(request: Request, exc: EditRefused, fields: Sequence[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Field messages and general ones, in the user's language."""
    lang = request_language(request)
    errors, general = form_errors(exc.violations, lang, fields)
    if not errors and not general:
        t = translator(lang)
        key = f"vocabedit.refused.{exc.status}"
        general = [t(key) if key in MESSAGES else t("vocabedit.refused.422")]
    return errors, general


async def _in_thread(work: Callable[[], Any]) -> Any:
    """Store writes block: run them off the event loop."""
    return await asyncio.to_thread(work)


# -- the list of schemes -----------------------------------------------------------------------


@router.get("/vocab")
def schemes(request: Request) -> Response:
    services = request.app.state.services
    return render(
        request,
        "vocab_editor_index.html",
        {"schemes": scheme_summaries(services.store, services.queries), "session": current_session(request)},
    )


# -- new concept scheme ------------------------------------------------------------------------

SCHEME_FIELDS = ("id", "title", "description", "reason")


def _scheme_form(
    request: Request,
    session: Session,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: Sequence[str] = (),
    status: int = 200,
) -> Response:
    return render(
        request,
        "vocab_editor_scheme_form.html",
        {"values": values, "errors": errors or {}, "general": list(general), "csrf": session.csrf, "session": session},
        status_code=status,
    )


@router.get("/editor/schemes")
def new_scheme_form(request: Request) -> Response:
    session = _session(request, Role.editor)
    if isinstance(session, Response):
        return session
    return _scheme_form(request, session, {})


@router.post("/editor/schemes")
async def create_scheme(request: Request) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    values = {k: first(posted, k) for k in posted}
    scheme_id = values.get("id", "").strip()
    try:
        await _in_thread(
            lambda: Vocabularies(request.app.state.services).create_scheme(
                scheme_id,
                {lang: values.get(f"title.{lang}", "") for lang in ("da", "en")},
                {lang: values.get(f"description.{lang}", "") for lang in ("da", "en")},
                agent=principal.agent,
                reason=values.get("reason", ""),
            )
        )
    except EditRefused as exc:
        errors, general = _refusal(request, exc, SCHEME_FIELDS)
        session = _known_session(request)
        return _scheme_form(request, session, values, errors, general, status=exc.status)
    return RedirectResponse(f"/vocab/{scheme_id}", status_code=303)


# -- concepts: create and edit -----------------------------------------------------------------


def _concept_form(
    request: Request,
    session: Session,
    scheme: tuple[NamedNode, Ref],
    *,
    code: str | None,
    label: str,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: Sequence[str] = (),
    status: int = 200,
) -> Response:
    scheme_iri, scheme_ref = scheme
    scheme_id = scheme_iri.value.rsplit("/", 1)[-1]
    editor = session.principal.role.at_least(Role.editor)
    if code is None:
        fields = EDITOR_FIELDS if editor else CONTRIBUTOR_NEW_FIELDS
        action = f"/editor/concepts/{scheme_id}"
        back = scheme_ref.path
    else:
        fields = tuple(f for f in EDITOR_FIELDS if f != "notation") if editor else CONTRIBUTOR_EDIT_FIELDS
        action = f"/editor/concepts/{scheme_id}/{code}"
        back = f"{scheme_ref.path}/{code}"
    return render(
        request,
        "vocab_editor_concept_form.html",
        {
            "scheme": scheme_ref,
            "code": code,
            "label": label,
            "fields": fields,
            "values": values,
            "errors": errors or {},
            "general": list(general),
            "csrf": session.csrf,
            "session": session,
            "may_apply": editor,
            "action": action,
            "back": back,
            "picker": f"/rest/v1/{scheme_id}/search",
        },
        status_code=status,
    )


def _submit(
    request: Request,
    principal: Principal,
    values: dict[str, str],
    concept: NamedNode,
    scheme: NamedNode,
    data: dict[str, Any],
    *,
    create: bool,
) -> str:
    """Apply the change or keep it as a proposal (the button pressed); returns where to go next."""
    services = request.app.state.services
    done = Proposals(services).submit(
        concept,
        scheme,
        data,
        create=create,
        principal=principal,
        reason=values.get("reason", ""),
        as_proposal=values.get("action") == "propose",
    )
    if isinstance(done, Proposal):
        return "/my/proposals?" + urllib.parse.urlencode({"proposed": done.id})
    return Site(services).path(concept.value)


@router.get("/editor/concepts/{scheme_id}")
def new_concept_form(request: Request, scheme_id: str) -> Response:
    session = _session(request, Role.contributor)
    if isinstance(session, Response):
        return session
    scheme = _scheme(request, scheme_id)
    if scheme is None:
        return _not_found(request)
    broader = request.query_params.get("broader", "")
    t = translator(request_language(request))
    return _concept_form(
        request,
        session,
        scheme,
        code=None,
        label=t("vocabedit.new_concept"),
        values={"broader": broader if _CODE.match(broader) else ""},
    )


@router.post("/editor/concepts/{scheme_id}")
async def create_concept(request: Request, scheme_id: str) -> Response:
    form = await _signed_form(request, Role.contributor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    scheme = _scheme(request, scheme_id)
    if scheme is None:
        return _not_found(request)
    values = {k: first(posted, k) for k in posted}
    code = values.get("notation", "").strip()
    try:
        data = json_from_form(posted, {})
        target = await _in_thread(
            lambda: _submit(request, principal, values, _concept_iri(scheme[0], code), scheme[0], data, create=True)
        )
    except EditRefused as exc:
        errors, general = _refusal(request, exc, (*EDITOR_FIELDS, "reason"))
        session = _known_session(request)
        t = translator(request_language(request))
        return _concept_form(
            request,
            session,
            scheme,
            code=None,
            label=t("vocabedit.new_concept"),
            values=values,
            errors=errors,
            general=general,
            status=exc.status,
        )
    return RedirectResponse(target, status_code=303)


def _existing(
    request: Request, scheme_id: str, code: str
) -> tuple[tuple[NamedNode, Ref], NamedNode, dict[str, Any]] | None:
    scheme = _scheme(request, scheme_id)
    if scheme is None or not _CODE.match(code):
        return None
    concept = NamedNode(f"{scheme[0].value}/{code}")
    data = Thesaurus(request.app.state.services).describe_json(concept, scheme[0])
    return (scheme, concept, data) if len(data) > 1 else None


def _label(data: dict[str, Any], lang: str, fallback: str) -> str:
    labels = data.get("prefLabel") or {}
    text = labels.get(lang) or labels.get("da") or fallback
    return text if isinstance(text, str) else fallback


@router.get("/editor/concepts/{scheme_id}/{code}")
def edit_concept_form(request: Request, scheme_id: str, code: str) -> Response:
    session = _session(request, Role.contributor)
    if isinstance(session, Response):
        return session
    found = _existing(request, scheme_id, code)
    if found is None:
        return _not_found(request)
    scheme, _, data = found
    return _concept_form(
        request,
        session,
        scheme,
        code=code,
        label=_label(data, request_language(request), code),
        values=form_values(data, scheme[0].value),
    )


@router.post("/editor/concepts/{scheme_id}/{code}")
async def edit_concept(request: Request, scheme_id: str, code: str) -> Response:
    form = await _signed_form(request, Role.contributor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    found = _existing(request, scheme_id, code)
    if found is None:
        return _not_found(request)
    scheme, concept, base = found
    values = {k: first(posted, k) for k in posted}
    try:
        data = json_from_form(posted, base)
        target = await _in_thread(lambda: _submit(request, principal, values, concept, scheme[0], data, create=False))
    except EditRefused as exc:
        errors, general = _refusal(request, exc, (*EDITOR_FIELDS, "reason"))
        session = _known_session(request)
        return _concept_form(
            request,
            session,
            scheme,
            code=code,
            label=_label(base, request_language(request), code),
            values=values,
            errors=errors,
            general=general,
            status=exc.status,
        )
    return RedirectResponse(target, status_code=303)


# -- concepts: deprecate and merge -------------------------------------------------------------

RETIRE_FIELDS = {"deprecate": ("replacement", "reason"), "merge": ("into", "reason")}


def _retire_form(
    request: Request,
    session: Session,
    mode: str,
    found: tuple[tuple[NamedNode, Ref], NamedNode, dict[str, Any]],
    code: str,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: Sequence[str] = (),
    status: int = 200,
) -> Response:
    (scheme_iri, scheme_ref), _, data = found
    scheme_id = scheme_iri.value.rsplit("/", 1)[-1]
    return render(
        request,
        "vocab_editor_retire.html",
        {
            "mode": mode,
            "scheme": scheme_ref,
            "code": code,
            "label": _label(data, request_language(request), code),
            "values": values,
            "errors": errors or {},
            "general": list(general),
            "csrf": session.csrf,
            "session": session,
            "action": f"/editor/concepts/{scheme_id}/{code}/{mode}",
            "back": f"{scheme_ref.path}/{code}",
            "picker": f"/rest/v1/{scheme_id}/search",
        },
        status_code=status,
    )


@router.get("/editor/concepts/{scheme_id}/{code}/{mode}")
def retire_form(request: Request, scheme_id: str, code: str, mode: str) -> Response:
    if mode not in RETIRE_FIELDS:
        return _not_found(request)
    session = _session(request, Role.editor)
    if isinstance(session, Response):
        return session
    found = _existing(request, scheme_id, code)
    if found is None:
        return _not_found(request)
    return _retire_form(request, session, mode, found, code, {})


@router.post("/editor/concepts/{scheme_id}/{code}/{mode}")
async def retire(request: Request, scheme_id: str, code: str, mode: str) -> Response:
    if mode not in RETIRE_FIELDS:
        return _not_found(request)
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    found = _existing(request, scheme_id, code)
    if found is None:
        return _not_found(request)
    (scheme_iri, _), concept, _ = found
    values = {k: first(posted, k) for k in posted}
    services = request.app.state.services
    vocabularies = Vocabularies(services)
    reason = values.get("reason", "")

    def work() -> None:
        if mode == "deprecate":
            vocabularies.deprecate(
                concept, scheme_iri, values.get("replacement", ""), agent=principal.agent, reason=reason
            )
        else:
            vocabularies.merge(concept, scheme_iri, values.get("into", ""), agent=principal.agent, reason=reason)

    try:
        await _in_thread(work)
    except EditRefused as exc:
        errors, general = _refusal(request, exc, RETIRE_FIELDS[mode])
        session = _known_session(request)
        return _retire_form(request, session, mode, found, code, values, errors, general, status=exc.status)
    return RedirectResponse(Site(services).path(concept.value), status_code=303)


# -- collections -------------------------------------------------------------------------------

COLLECTION_FIELDS = ("code", "prefLabel", "members", "reason")


def _collection_form(
    request: Request,
    session: Session,
    scheme: tuple[NamedNode, Ref],
    code: str | None,
    values: dict[str, str],
    errors: dict[str, list[str]] | None = None,
    general: Sequence[str] = (),
    status: int = 200,
) -> Response:
    scheme_iri, scheme_ref = scheme
    scheme_id = scheme_iri.value.rsplit("/", 1)[-1]
    return render(
        request,
        "vocab_editor_collection_form.html",
        {
            "scheme": scheme_ref,
            "code": code,
            "values": values,
            "errors": errors or {},
            "general": list(general),
            "csrf": session.csrf,
            "session": session,
            "action": f"/editor/collections/{scheme_id}" + (f"/{code}" if code else ""),
            "picker": f"/rest/v1/{scheme_id}/search",
        },
        status_code=status,
    )


@router.get("/editor/collections/{scheme_id}")
def new_collection_form(request: Request, scheme_id: str) -> Response:
    session = _session(request, Role.editor)
    if isinstance(session, Response):
        return session
    scheme = _scheme(request, scheme_id)
    if scheme is None:
        return _not_found(request)
    return _collection_form(request, session, scheme, None, {})


@router.get("/editor/collections/{scheme_id}/{code}")
def edit_collection_form(request: Request, scheme_id: str, code: str) -> Response:
    session = _session(request, Role.editor)
    if isinstance(session, Response):
        return session
    scheme = _scheme(request, scheme_id)
    collection = Vocabularies(request.app.state.services).collection(scheme[0], code) if scheme else None
    if scheme is None or collection is None:
        return _not_found(request)
    values = {f"prefLabel.{lang}": text for lang, text in collection.labels.items()}
    values["members"] = "\n".join(member_codes(scheme[0].value, collection.members))
    return _collection_form(request, session, scheme, code, values)


async def _save_collection(request: Request, scheme_id: str, code: str | None) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    scheme = _scheme(request, scheme_id)
    if scheme is None:
        return _not_found(request)
    values = {k: first(posted, k) for k in posted}
    vocabularies = Vocabularies(request.app.state.services)
    try:
        await _in_thread(
            lambda: vocabularies.save_collection(
                scheme[0],
                code if code is not None else values.get("code", "").strip(),
                {lang: values.get(f"prefLabel.{lang}", "") for lang in ("da", "en")},
                lines(values.get("members", "")),
                create=code is None,
                agent=principal.agent,
                reason=values.get("reason", ""),
            )
        )
    except EditRefused as exc:
        errors, general = _refusal(request, exc, COLLECTION_FIELDS)
        session = _known_session(request)
        return _collection_form(request, session, scheme, code, values, errors, general, status=exc.status)
    return RedirectResponse(f"{scheme[1].path}#collections", status_code=303)


@router.post("/editor/collections/{scheme_id}")
async def create_collection(request: Request, scheme_id: str) -> Response:
    return await _save_collection(request, scheme_id, None)


@router.post("/editor/collections/{scheme_id}/{code}")
async def edit_collection(request: Request, scheme_id: str, code: str) -> Response:
    return await _save_collection(request, scheme_id, code)


# -- proposals ---------------------------------------------------------------------------------


@router.get("/editor/proposals")
def proposals_page(request: Request) -> Response:
    session = _session(request, Role.editor)
    if isinstance(session, Response):
        return session
    proposals = Proposals(request.app.state.services)
    decided = [p for p in proposals.find(limit=DECIDED_SHOWN * 2) if not p.is_open][:DECIDED_SHOWN]
    return render(
        request,
        "vocab_editor_proposals.html",
        {
            "open": proposals.find(status=ProposalStatus.open),
            "decided": decided,
            "session": session,
            "csrf": session.csrf,
            "show": display_value,
        },
    )


@router.post("/editor/proposals/{proposal_id}")
async def decide(request: Request, proposal_id: str) -> Response:
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    posted, principal = form
    decision = first(posted, "decision")
    comment = first(posted, "comment")
    proposals = Proposals(request.app.state.services)
    try:
        if decision == "accept":
            await _in_thread(lambda: proposals.accept(proposal_id, editor=principal, comment=comment))
        elif decision == "reject":
            await _in_thread(lambda: proposals.reject(proposal_id, editor=principal, comment=comment))
        else:
            raise EditRefused(400, "Unknown decision.")
    except EditRefused as exc:
        errors, general = _refusal(request, exc, ())
        message = " ".join(general + [m for ms in errors.values() for m in ms])
        return render(request, "message.html", {"message": message}, status_code=exc.status)
    return RedirectResponse("/editor/proposals", status_code=303)


@router.get("/my/proposals")
def my_proposals(request: Request) -> Response:
    session = _session(request, Role.contributor)
    if isinstance(session, Response):
        return session
    proposals = Proposals(request.app.state.services)
    return render(
        request,
        "vocab_editor_my_proposals.html",
        {
            "proposals": proposals.find(proposer=session.principal.agent),
            "session": session,
            "just": request.query_params.get("proposed"),
            "show": display_value,
        },
    )
