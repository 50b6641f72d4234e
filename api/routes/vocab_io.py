"""Vocabulary import and export in the browser (graph/vocab_io.py does the work).

- `GET /exports/vocab/{scheme}.{ttl|nt|jsonld|rdf|csv|xlsx}`: a scheme as a download; public, like
  the scheme itself. The scheme page links to each format.
- `GET /editor/vocab-import`: the upload form (editors). `POST` there uploads a file (CSRF): the page
  shows the exact diff (or the problems, by row) and a confirm button; the file is kept server-side
  (graph.bulk_import.StagedUploads, for the editor who uploaded it) and `POST /editor/vocab-import/apply`
  applies exactly the previewed diff — refused when a scheme changed in between.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.i18n import MESSAGES, request_language
from api.routes.contribute import (
    _known_session,
    _role_session,
    _signed_form,
    _staged_uploads,
    _upload_too_big,
    _uploaded_file,
)
from api.templating import render
from graph.accounts import Role
from graph.bulk_import import MAX_UPLOAD_BYTES
from graph.text import danish_sort_key
from graph.views import Site
from graph.vocab_edit import EditRefused
from graph.vocab_io import EXPORT_FORMATS, ImportFailed, ImportPlan, apply_import, export_scheme, plan_import
from graph.vocab_schemes import SCHEME_ID

router = APIRouter()
SUFFIX_FORMATS = {f.suffix: name for name, f in EXPORT_FORMATS.items()}
DIFF_SHOWN = 2000  # lines of a diff shown on the page; the counts above it are always complete


@router.get("/exports/vocab/{filename}")
def export(request: Request, filename: str) -> Response:
    slug, dot, suffix = filename.rpartition(".")
    fmt = SUFFIX_FORMATS.get(dot + suffix)
    if fmt is None or not SCHEME_ID.match(slug):
        return Response("404 Not Found: no such export\n", status_code=404, media_type="text/plain")
    services = request.app.state.services
    try:
        data = export_scheme(services, services.iris.scheme(slug), fmt)
    except ImportFailed as exc:
        return Response(f"{exc.status} {exc.message('en')}\n", status_code=exc.status, media_type="text/plain")
    return Response(
        data,
        media_type=EXPORT_FORMATS[fmt].media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Access-Control-Allow-Origin": "*"},
    )


def _schemes(request: Request) -> list[tuple[str, str]]:
    """(id, title) of every scheme, for the "import into" choice."""
    site = Site(request.app.state.services)
    services = request.app.state.services
    iris = [r["scheme"].value for r in services.store.select(services.queries("scheme-graphs"))]
    names = site.names(iris)
    lang = request_language(request)
    found = [(iri.rsplit("/", 1)[-1], site.ref(iri, names.get(iri, {})).label(lang)) for iri in iris]
    return sorted(found, key=lambda s: danish_sort_key(s[1]))


def _editor(request: Request) -> Response | None:
    session = _role_session(request, Role.editor, "vocabio.editors_only")
    return session if isinstance(session, Response) else None


def _form(request: Request, *, chosen: str = "", error: str = "", status: int = 200) -> Response:
    session = _known_session(request)
    context = {
        "csrf": session.csrf,
        "schemes": _schemes(request),
        "chosen": chosen or request.query_params.get("scheme", ""),
        "error": error,
        "max_mb": MAX_UPLOAD_BYTES // 1_000_000,
    }
    return render(request, "vocab_import.html", context, status_code=status)


@router.get("/editor/vocab-import")
def import_form(request: Request) -> Response:
    return _editor(request) or _form(request)


@router.post("/editor/vocab-import")
async def preview(request: Request) -> Response:
    refused = _editor(request)
    if refused is not None:
        return refused
    lang = request_language(request)
    if _upload_too_big(request):
        return _form(request, error=MESSAGES["vocabio.too_big"][lang], status=413)
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    slug = (values.get("scheme") or [""])[0].strip() or None
    upload = await _uploaded_file(request)
    if upload is None:
        return _form(request, chosen=slug or "", error=MESSAGES["vocabio.no_file"][lang], status=400)
    filename, data = upload
    try:
        plan = await run_in_threadpool(plan_import, request.app.state.services, data, filename, slug=slug)
    except ImportFailed as exc:
        return _form(request, chosen=slug or "", error=exc.message(lang), status=exc.status)
    token = _staged_uploads(request).stage(data, filename, principal.agent, False) if plan.ok and not plan.empty else ""
    return _preview(request, plan, token, slug, (values.get("reason") or [""])[0])


def _preview(request: Request, plan: ImportPlan, token: str, slug: str | None, reason: str) -> Response:
    session = _known_session(request)
    context = {
        "plan": plan,
        "token": token,
        "slug": slug or "",
        "reason": reason,
        "csrf": session.csrf,
        "shown": DIFF_SHOWN,
    }
    return render(request, "vocab_import_preview.html", context, status_code=200 if plan.ok else 422)


@router.post("/editor/vocab-import/apply")
async def confirm(request: Request) -> Response:
    refused = _editor(request)
    if refused is not None:
        return refused
    signed = await _signed_form(request, Role.editor)
    if isinstance(signed, Response):
        return signed
    values, principal = signed
    lang = request_language(request)

    def value(name: str) -> str:
        return (values.get(name) or [""])[0].strip()

    staging = _staged_uploads(request)
    staged = staging.load(value("upload"), principal.agent)
    if staged is None:
        return _form(request, error=MESSAGES["vocabio.expired"][lang], status=410)
    data, filename, _ = staged
    services = request.app.state.services
    try:
        plan = await run_in_threadpool(plan_import, services, data, filename, slug=value("scheme") or None)
        if plan.fingerprint != value("fingerprint"):
            raise ImportFailed(409, MESSAGES["vocabio.changed"]["en"], MESSAGES["vocabio.changed"]["da"])
        reason = value("reason") or f"import of {filename}"
        await run_in_threadpool(apply_import, services, plan, agent=principal.agent, reason=reason)
    except ImportFailed as exc:
        return _form(request, error=exc.message(lang), status=exc.status)
    except EditRefused as exc:
        message = "; ".join(v.message(lang) for v in exc.violations[:5]) or exc.message
        return _form(request, error=message, status=exc.status)
    staging.discard(value("upload"))
    site = Site(services)
    done = [site.ref(s.scheme.value, site.names([s.scheme.value]).get(s.scheme.value, {})) for s in plan.schemes]
    return render(request, "vocab_import_done.html", {"plan": plan, "schemes": done})
