"""Contributing through the browser: submission forms, "my submissions" and the editors' review queue.

People log in (contributor, editor or admin); every form carries the session's CSRF token. The
forms are generated from the shapes (graph/forms.py) and go through the same submission workflow
as the API, so validation messages appear next to the fields, in the user's language.

Curation (graph/curation.py): the queue filters by type, submitter, age and status, oldest first;
`/submissions/{id}` shows a submission as its record page will look (a preview), its versions and its
history to its submitter and to editors; `/submissions/{id}/edit` is the submission form filled in with
it; editors approve, reject or send back with comments. `/api/records/{kind}/{id}/history` is the
public history of a record as JSON.
"""

from __future__ import annotations

import re
import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from api.auth import AuthError, check_csrf, current_session, require_role
from api.errors import json_error
from api.i18n import MESSAGES, request_language
from api.templating import render
from graph.accounts import Principal, Role, Session
from graph.bulk_import import MAX_UPLOAD_BYTES, StagedUploads
from graph.curation import MAX_AGE_DAYS, OPEN, form_values, kept_statements, with_kept
from graph.forms import form_fields, json_from_form
from graph.harvest.review import harvest_notes
from graph.iris import RecordKind
from graph.resources import Resolution, ResourceKind, Status
from graph.submissions import Submission, SubmissionRefused, SubmissionStatus, record_from_json
from graph.views import Site, record_page

router = APIRouter()
RECORD_ID = re.compile(r"[0-9a-z]{8}")


def _login_redirect(request: Request) -> Response:
    return RedirectResponse("/login?" + urllib.parse.urlencode({"next": request.url.path}), status_code=303)


def _upload_too_big(request: Request) -> bool:
    """Whether a posted upload is over MAX_UPLOAD_BYTES by its declared length (allowing for the form's other
    fields), so that it is refused before it is read."""
    return int(request.headers.get("content-length") or 0) > MAX_UPLOAD_BYTES + 100_000


async def _uploaded_file(request: Request) -> tuple[str, bytes] | None:
    """(filename, content) of the file field `file` of a posted multipart form, None when no file was chosen.
    At most MAX_UPLOAD_BYTES + 1 bytes are read: a longer content means the file is too big."""
    upload = (await request.form()).get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return upload.filename, await upload.read(MAX_UPLOAD_BYTES + 1)


def _staged_uploads(request: Request) -> StagedUploads:
    """Uploads kept between a preview and its confirmation (bulk import, vocabulary import)."""
    return StagedUploads(request.app.state.services.settings.data_dir / "imports")


async def _signed_form(request: Request, role: Role) -> tuple[dict[str, list[str]], Principal] | Response:
    """The posted form and who sent it — if it carries the session's CSRF token and the role suffices."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        # A file upload (bulk import): the text fields here; the caller reads the files from `request.form()`.
        form = await request.form()
        values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    else:
        try:  # strictly UTF-8: text that is not would be stored as replacement characters
            raw = (await request.body()).decode("utf-8")
            values = urllib.parse.parse_qs(raw, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            message = MESSAGES["form.not_utf8"][request_language(request)]
            return render(request, "message.html", {"message": message}, status_code=400)
    try:
        if request.headers.get("authorization"):
            # The forms are for people who logged in (their pages need the session); machines use the JSON API.
            raise AuthError(403, MESSAGES["form.needs_login"][request_language(request)])
        check_csrf(request, (values.get("csrf") or [""])[0])
        principal = require_role(request, role, allow_session=True)
    except AuthError as exc:
        refused = render(request, "message.html", {"message": exc.message}, status_code=exc.status)
        refused.headers.update(exc.headers)
        return refused
    return values, principal


#: The form field that names the actor behind a record of each kind (filled in from the account).
ACTOR_FIELDS = {RecordKind.item: "publisher", RecordKind.solution: "offeredBy", RecordKind.event: "organizers"}


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
    *,
    editing: Submission | None = None,
    kept: int = 0,
) -> Response:
    session = _known_session(request)
    lang = request_language(request)
    fields = form_fields(Site(request.app.state.services), kind, lang)
    resubmit = (
        editing is not None
        and editing.status == SubmissionStatus.changes_requested
        and editing.submitted_by == session.principal.agent
    )
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
            "editing": editing,
            "comments": request.app.state.services.curation.comments(editing) if editing else None,
            "kept": kept,
            "action": f"/submissions/{editing.id}/edit" if editing else f"/submit/{kind.value}",
            "button": "submission.resubmit" if resubmit else "submission.save" if editing else "submit.send",
        },
        status_code=status,
    )


def _refusal_messages(exc: SubmissionRefused, lang: str) -> tuple[dict[str, list[str]], list[str]]:
    """Field-level messages (by form field) and general ones, in the user's language."""
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
    return errors, general


@router.get("/submit/{kind_name}")
def form(request: Request, kind_name: str) -> Response:
    kind = _kind(kind_name)
    if kind is None:
        return render(request, "notfound.html", {}, status_code=404)
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    # Someone acting for an actor reports on its behalf: name it where the record asks who is behind it.
    actor, field = session.principal.actor, ACTOR_FIELDS.get(kind)
    return _form_page(request, kind, {field: [actor]} if actor and field else {}, {}, [])


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
            record,
            agent=principal.agent,
            may_revise=principal.role.at_least(Role.editor),
            actor=principal.actor,
        )
    except SubmissionRefused as exc:
        errors, general = _refusal_messages(exc, lang)
        return _form_page(request, kind, values, errors, general, status=exc.status)
    return RedirectResponse(f"/my/submissions?submitted={submission.id}", status_code=303)


@router.get("/my/submissions")
def my_submissions(request: Request) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    curation = request.app.state.services.curation
    mine = request.app.state.services.submissions.by_submitter(session.principal.agent)
    return render(
        request,
        "my_submissions.html",
        {
            "submissions": mine,
            "comments": {s.id: curation.comments(s) for s in mine},
            "open": [s.id for s in mine if s.status in OPEN],
            "session": session,
            "just": request.query_params.get("submitted"),
            "saved": request.query_params.get("saved"),
        },
    )


def _known_session(request: Request) -> Session:
    """The session of a request already found to have one (by `_signed_form` or `_role_session`)."""
    session = current_session(request)
    assert session is not None
    return session


def _role_session(request: Request, role: Role, refused_key: str) -> Session | Response:
    """The logged-in session if its role suffices; else the login page, or a 403 page saying MESSAGES[refused_key]."""
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    if not session.principal.role.at_least(role):
        return _message(request, refused_key, 403)
    return session


def _editor_session(request: Request) -> Session | Response:
    return _role_session(request, Role.editor, "review.only_editors")


def _message(request: Request, key: str, status: int) -> Response:
    return render(request, "message.html", {"message": MESSAGES[key][request_language(request)]}, status_code=status)


@router.get("/review")
def review_queue(request: Request) -> Response:
    session = _editor_session(request)
    if isinstance(session, Response):
        return session
    curation = request.app.state.services.curation
    params = request.query_params
    kind = params.get("type") if _kind(params.get("type") or "") else None
    status_name = params.get("status") or SubmissionStatus.pending.value
    status = SubmissionStatus(status_name) if status_name in [s.value for s in OPEN] else SubmissionStatus.pending
    older = (params.get("older") or "").strip()
    if older and not (older.isdigit() and int(older) <= MAX_AGE_DAYS):
        return _message(request, "review.filter.bad_older", 400)
    submitters = curation.submitters(status)
    actor = params.get("actor") or None
    queue = curation.queue(kind=kind, submitter=actor, older_than_days=int(older) if older else None, status=status)
    return render(
        request,
        "review.html",
        {
            "queue": queue,
            "session": session,
            "kinds": list(RecordKind),
            "kind": kind,
            "statuses": OPEN,
            "status": status,
            "submitters": submitters,
            "actor": actor,
            "older": older,
            "csrf": session.csrf,
            "harvested": harvest_notes(request.app.state.services, queue),  # suggested concepts to confirm
        },
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
        elif decision == "send_back":
            services.curation.send_back(
                submission_id, editor=principal.agent, comments=(values.get("comments") or [""])[0]
            )
        else:
            return _message(request, "review.unknown_decision", 400)
    except SubmissionRefused as exc:
        details = "; ".join(e["messages"].get(request_language(request), "") for e in exc.errors)
        return render(request, "message.html", {"message": f"{exc.message} {details}"}, status_code=exc.status)
    back = (values.get("back") or [""])[0]
    return RedirectResponse(back if back == f"/submissions/{submission_id}" else "/review", status_code=303)


def _visible_submission(request: Request, session: Session, submission_id: str) -> Submission | None:
    submission = request.app.state.services.submissions.get(submission_id)
    principal = session.principal
    if submission is None or not request.app.state.services.curation.may_see(
        submission, principal.agent, principal.role.at_least(Role.editor)
    ):
        return None
    return submission


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: str) -> Response:
    """A submission as its record page will show it, with its versions and history (submitter, editors)."""
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    submission = _visible_submission(request, session, submission_id)
    if submission is None:
        return _message(request, "submission.not_found", 404)
    services = request.app.state.services
    curation = services.curation
    record = curation.record(submission)
    resolution = Resolution(record.iri, Status.live, ResourceKind.record, record_kind=record.kind)
    page = record_page(Site(services), resolution, record.triples)
    is_editor = session.principal.role.at_least(Role.editor)
    return render(
        request,
        "review_submission.html",
        {
            "page": page,
            "path": "/" + submission.iri[len(services.iris.base) :],
            "submission": submission,
            "comments": curation.comments(submission),
            "versions": curation.versions(submission),
            "events": curation.events(submission),
            "record_history": curation.history(submission.iri, public=False),
            "is_editor": is_editor,
            "may_edit": submission.status in OPEN,
            "may_decide": is_editor and submission.status == SubmissionStatus.pending,
            "csrf": session.csrf,
            "session": session,
            "saved": request.query_params.get("saved"),
            "harvested": harvest_notes(services, [submission]),  # suggested concepts to confirm
        },
    )


def _editable(request: Request, principal: Principal, submission_id: str) -> Submission | Response:
    """The submission if this person may edit it now: its submitter or an editor, while it is open."""
    services = request.app.state.services
    submission = services.submissions.get(submission_id)
    if submission is None:
        return _message(request, "submission.not_found", 404)
    if not services.curation.may_see(submission, principal.agent, principal.role.at_least(Role.editor)):
        return _message(request, "submission.not_yours", 403)
    if submission.status not in OPEN:
        return _message(request, "submission.closed", 409)
    return submission


@router.get("/submissions/{submission_id}/edit")
def edit_form(request: Request, submission_id: str) -> Response:
    session = current_session(request)
    if session is None:
        return _login_redirect(request)
    submission = _editable(request, session.principal, submission_id)
    if isinstance(submission, Response):
        return submission
    services = request.app.state.services
    record = services.curation.record(submission)
    kept = len(kept_statements(record, services.iris))
    return _form_page(
        request, RecordKind(submission.kind), form_values(record, services.iris), {}, [], editing=submission, kept=kept
    )


@router.post("/submissions/{submission_id}/edit")
async def save_edit(request: Request, submission_id: str) -> Response:
    if current_session(request) is None:
        return _login_redirect(request)
    form = await _signed_form(request, Role.contributor)
    if isinstance(form, Response):
        return form
    values, principal = form
    submission = _editable(request, principal, submission_id)
    if isinstance(submission, Response):
        return submission
    services = request.app.state.services
    curation = services.curation
    kind = RecordKind(submission.kind)
    is_editor = principal.role.at_least(Role.editor)
    original = curation.record(submission)
    try:
        # The record's id comes from the submission, never from the form.
        data = {**json_from_form(kind, values), "id": submission.iri.rsplit("/", 1)[-1]}
        edited = with_kept(record_from_json(data, services.iris), original, services.iris)
        curation.edit(submission_id, edited, agent=principal.agent, is_editor=is_editor)
    except SubmissionRefused as exc:
        errors, general = _refusal_messages(exc, request_language(request))
        kept = len(kept_statements(original, services.iris))
        return _form_page(request, kind, values, errors, general, status=exc.status, editing=submission, kept=kept)
    if submission.submitted_by == principal.agent and not is_editor:
        return RedirectResponse(f"/my/submissions?saved={submission_id}", status_code=303)
    return RedirectResponse(f"/submissions/{submission_id}?saved=1", status_code=303)


@router.get("/api/records/{kind_name}/{record_id}/history", tags=["records"], summary="A record's public history")
def record_history(request: Request, kind_name: str, record_id: str) -> Response:
    """When the record was published, replaced by a new version and withdrawn (with the reason). The
    steps of its submissions, their comments and the people involved are not public: the submitter and
    editors see them at `GET /api/submissions/{id}`."""
    services = request.app.state.services
    kind = _kind(kind_name)
    entry = None
    if kind is not None and RECORD_ID.fullmatch(record_id):
        iri = services.iris.record(kind, record_id).value
        entry = services.ledger.get(iri)
    if entry is None:
        return json_error(404, f"No published or withdrawn record /id/{kind_name}/{record_id}.")
    events = services.curation.history(entry.iri, public=True)
    return JSONResponse(
        {"iri": entry.iri, "status": entry.status.value, "history": [e.as_json(public=True) for e in events]},
        headers={"Access-Control-Allow-Origin": "*"},
    )
