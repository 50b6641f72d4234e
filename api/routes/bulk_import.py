"""The bulk-import page for editors: upload a file, read the row-by-row report of a dry run, then apply.

`/import` (GET: the form and the column layout; POST: the dry run) and `/import/apply` (the second step)
need a login session with the editor or admin role and the session's CSRF token. The uploaded file is
kept server-side between the two steps (graph.bulk_import.StagedUploads), so what is applied is
exactly what was checked.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.i18n import MESSAGES, request_language
from api.routes.contribute import _role_session, _signed_form, _staged_uploads, _upload_too_big, _uploaded_file
from api.templating import render
from graph.accounts import Role
from graph.bulk_import import (
    MAX_UPLOAD_BYTES,
    SEPARATOR,
    SUFFIXES,
    Importer,
    ImportRefused,
    ImportReport,
    RowStatus,
    column_layout,
)

router = APIRouter()


def _form_page(request: Request, error: str = "", status: int = 200) -> Response:
    session = request.state.import_session
    return render(
        request,
        "import.html",
        {
            "session": session,
            "csrf": session.csrf,
            "columns": column_layout(),
            "suffixes": sorted(SUFFIXES),
            "separator": SEPARATOR,
            "max_mb": MAX_UPLOAD_BYTES // 1_000_000,
            "error": error,
        },
        status_code=status,
    )


def _editor_session(request: Request) -> Response | None:
    """None when the caller is logged in as an editor (kept on request.state); else the page to answer with."""
    session = _role_session(request, Role.editor, "import.editors_only")
    if isinstance(session, Response):
        return session
    request.state.import_session = session
    return None


@router.get("/import")
def upload_form(request: Request) -> Response:
    refused = _editor_session(request)
    return refused or _form_page(request)


@router.post("/import")
async def dry_run(request: Request) -> Response:
    refused = _editor_session(request)
    if refused is not None:
        return refused
    lang = request_language(request)
    if _upload_too_big(request):
        return _form_page(request, MESSAGES["import.too_big"][lang], status=413)
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    upload = await _uploaded_file(request)
    if upload is None:
        return _form_page(request, MESSAGES["import.no_file"][lang], status=400)
    filename, data = upload
    if len(data) > MAX_UPLOAD_BYTES:
        return _form_page(request, MESSAGES["import.too_big"][lang], status=413)
    publish = (values.get("publish") or [""])[0] == "1"
    importer = Importer(request.app.state.services)
    try:
        report = await run_in_threadpool(
            importer.run, data, filename, agent=principal.agent, apply=False, publish=publish
        )
    except ImportRefused as exc:
        return _form_page(request, exc.message(lang), status=422)
    valid = report.count(RowStatus.new) + report.count(RowStatus.update)
    token = _staged_uploads(request).stage(data, filename, principal.agent, publish) if valid else ""
    return _report_page(request, report, token)


@router.post("/import/apply")
async def apply(request: Request) -> Response:
    refused = _editor_session(request)
    if refused is not None:
        return refused
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    token = (values.get("upload") or [""])[0]
    staging = _staged_uploads(request)
    staged = staging.load(token, principal.agent)
    if staged is None:
        return _form_page(request, MESSAGES["import.expired"][request_language(request)], status=410)
    data, filename, publish = staged
    importer = Importer(request.app.state.services)
    try:
        report = await run_in_threadpool(
            importer.run, data, filename, agent=principal.agent, apply=True, publish=publish
        )
    except ImportRefused as exc:
        return _form_page(request, exc.message(request_language(request)), status=422)
    staging.discard(token)
    return _report_page(request, report, "")


def _report_page(request: Request, report: ImportReport, token: str) -> Response:
    session = request.state.import_session
    return render(
        request,
        "import_report.html",
        {"report": report, "token": token, "csrf": session.csrf, "session": session, "statuses": list(RowStatus)},
    )
