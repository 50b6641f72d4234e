"""Releases, changelogs and the quality report of a concept scheme, on the web.

- `GET /vocab/{scheme}/releases` (+ `.json`): the scheme's releases; editors get a form to make one
  (`POST /vocab/{scheme}/releases`, login + CSRF; machines: `POST /api/vocab/{scheme}/releases` with an
  editor token and `{"version": …, "note": …}`).
- `GET /vocab/{scheme}/release/{version}`: a release, by content negotiation: its page, or the frozen
  scheme as Turtle, JSON-LD, RDF/XML or N-Triples (Accept, or a suffix .ttl .jsonld .rdf .nt).
- `GET /vocab/{scheme}/changelog?from=&to=` (+ `.json`): added, changed and deprecated concepts between
  two releases, or a release and the current state (`current`).
- `GET /vocab/{scheme}/quality` (+ `.json`): the quality report; editors start a check of the mappings
  in the background (`POST /vocab/{scheme}/quality/check-mappings`, or the API twin under /api/vocab/).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pyoxigraph import NamedNode

from api.auth import require_role_json
from api.errors import json_error
from api.i18n import request_language
from api.negotiation import DATA_REPRESENTATIONS, HTML, NotAcceptable, negotiate, not_acceptable, split_suffix
from api.routes.contribute import _signed_form
from api.routes.vocab_history import changes_feed_links, editor_session, json_or_html_404, page_not_found, scheme_ref
from api.templating import render
from graph.accounts import Role
from graph.serialize import serialize
from graph.views import Ref, Site
from graph.vocab_quality import quality_report, start_mapping_check
from graph.vocab_release import (
    CURRENT,
    Release,
    ReleaseRefused,
    changelog,
    create_release,
    get_release,
    list_releases,
    release_triples,
)

router = APIRouter()

RELEASES_ON_SCHEME_PAGE = 5
FINDINGS_SHOWN = 200  # per rule on the HTML report; the JSON has them all


def scheme_extras(request: Request, scheme_iri: str) -> dict[str, Any]:
    """What the scheme page shows of its history, releases and quality (and the editors' controls)."""
    services = request.app.state.services
    site = Site(services)
    scheme = site.ref(scheme_iri)
    lang = request_language(request)
    return {
        "scheme_slug": scheme.path.removeprefix("/vocab/"),
        "releases": list_releases(services, NamedNode(scheme_iri))[:RELEASES_ON_SCHEME_PAGE],
        "changes_feeds": changes_feed_links(site.ref(scheme_iri, site.names([scheme_iri]).get(scheme_iri, {})), lang),
        **editor_session(request),
    }


# -- releases ---------------------------------------------------------------------------------------


def _releases_page(
    request: Request, scheme: Ref, error: str = "", version: str = "", note: str = "", status: int = 200
) -> Response:
    services = request.app.state.services
    context = {
        "scheme": scheme,
        "scheme_slug": scheme.path.removeprefix("/vocab/"),
        "releases": list_releases(services, NamedNode(scheme.iri)),
        "error": error,
        "version": version,
        "note": note,
        **editor_session(request),
    }
    return render(request, "vocab_releases.html", context, status_code=status)


@router.get("/vocab/{scheme}/releases")
@router.get("/vocab/{scheme}/releases.json")
def releases(request: Request, scheme: str) -> Response:
    as_json = request.url.path.endswith(".json")
    ref = scheme_ref(request, scheme)
    if ref is None:
        return json_or_html_404(request, as_json, f"There is no concept scheme {scheme}.")
    if as_json:
        found = list_releases(request.app.state.services, NamedNode(ref.iri))
        return JSONResponse(
            {"scheme": ref.iri, "releases": [r.as_json() for r in found]}, headers={"Access-Control-Allow-Origin": "*"}
        )
    return _releases_page(request, ref)


@router.post("/vocab/{scheme}/releases")
async def release_form(request: Request, scheme: str) -> Response:
    """The release button of the scheme and releases pages (editors, CSRF)."""
    ref = scheme_ref(request, scheme)
    if ref is None:
        return page_not_found(request)
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    values, principal = form
    version = (values.get("version") or [""])[0].strip()
    note = (values.get("note") or [""])[0]
    try:
        made = await asyncio.to_thread(
            create_release, request.app.state.services, NamedNode(ref.iri), version, note=note, agent=principal.agent
        )
    except ReleaseRefused as exc:
        lang = request_language(request)
        return _releases_page(request, ref, exc.messages[lang], version, note, status=exc.status)
    return RedirectResponse(f"/vocab/{scheme}/release/{made.version}", status_code=303)


@router.post("/api/vocab/{scheme}/releases", status_code=201, tags=["vocabulary editing"])
async def release_api(request: Request, scheme: str) -> Response:
    """Freeze the scheme as release `version`: `{"version": "1.1", "note": "…"}` (editor token)."""
    principal = require_role_json(request, Role.editor)
    if isinstance(principal, Response):
        return principal
    ref = scheme_ref(request, scheme)
    if ref is None:
        return json_error(404, f"There is no concept scheme {scheme}.")
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        body = None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("version"), str)
        or not isinstance(body.get("note", ""), str)
    ):
        return json_error(400, 'Send a JSON object: {"version": "1.1", "note": "…"} (note optional).')
    try:
        made = await asyncio.to_thread(
            create_release,
            request.app.state.services,
            NamedNode(ref.iri),
            body["version"],
            note=body.get("note", ""),
            agent=principal.agent,
        )
    except ReleaseRefused as exc:
        return json_error(exc.status, exc.message, [{"messages": exc.messages}])
    return JSONResponse(
        made.as_json(), status_code=201, headers={"Location": f"/vocab/{scheme}/release/{made.version}"}
    )


@router.get("/vocab/{scheme}/release/{name}")
def release(request: Request, scheme: str, name: str) -> Response:
    """A release: its page, or the frozen scheme in an RDF format (Accept or suffix)."""
    services = request.app.state.services
    ref = scheme_ref(request, scheme)
    version, suffix = split_suffix(name)
    try:
        rep = negotiate(request.headers.get("accept"), suffix)
    except NotAcceptable:
        return not_acceptable("this release")
    found = get_release(services, NamedNode(ref.iri), version) if ref else None
    if ref is None or found is None:
        if rep == HTML:
            return page_not_found(request)
        return Response("404 Not Found: no such release\n", status_code=404, media_type="text/plain")
    path = f"/vocab/{scheme}/release/{found.version}"
    headers = {
        "Vary": "Accept",
        "Access-Control-Allow-Origin": "*",
        "Content-Location": path + rep.suffix,
        "Link": ", ".join(f'<{path}{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in DATA_REPRESENTATIONS),
    }
    if rep != HTML:
        context_url = str(request.url_for("jsonld_context"))
        body = serialize(release_triples(services, found), rep.key, services.iris, context_url=context_url)
        filename = f"{scheme}-{found.version}{rep.suffix}"
        headers["Content-Disposition"] = f'inline; filename="{filename}"'
        return Response(body, media_type=rep.content_type, headers=headers)
    all_releases = list_releases(services, NamedNode(ref.iri))
    older = [r for r in all_releases if (r.issued, r.sequence) < (found.issued, found.sequence)]
    context = {
        "scheme": ref,
        "scheme_slug": scheme,
        "release": found,
        "previous": older[0] if older else None,
        "path": path,
        "alternates": [(r, path + r.suffix) for r in DATA_REPRESENTATIONS],
    }
    response = render(request, "vocab_release.html", context)
    response.headers.update(headers)
    return response


# -- changelog between two versions --------------------------------------------------------------------


def _version(services: Any, scheme: Ref, value: str) -> Release | None | str:
    """A release by its version, None for `current`, or the text back when there is no such release."""
    if value in ("", CURRENT):
        return None
    return get_release(services, NamedNode(scheme.iri), value) or value


@router.get("/vocab/{scheme}/changelog")
@router.get("/vocab/{scheme}/changelog.json")
def changelog_page(request: Request, scheme: str) -> Response:
    as_json = request.url.path.endswith(".json")
    ref = scheme_ref(request, scheme)
    if ref is None:
        return json_or_html_404(request, as_json, f"There is no concept scheme {scheme}.")
    services = request.app.state.services
    all_releases = list_releases(services, NamedNode(ref.iri))
    default_from = (
        all_releases[1].version if len(all_releases) > 1 else (all_releases[0].version if all_releases else "")
    )
    default_to = all_releases[0].version if len(all_releases) > 1 else CURRENT
    older = _version(services, ref, request.query_params.get("from", default_from).strip())
    newer = _version(services, ref, request.query_params.get("to", default_to).strip())
    unknown = [v for v in (older, newer) if isinstance(v, str)]
    if unknown:
        lang = request_language(request)
        message = {
            "da": f"Begrebssystemet har ingen udgivelse «{unknown[0]}». "
            "Brug et versionsnummer fra listen eller «current».",
            "en": f"The scheme has no release “{unknown[0]}”. Use a version from the list, or “current”.",
        }
        if as_json:
            return json_error(404, message["en"], [{"messages": message}])
        return render(request, "message.html", {"message": message[lang]}, status_code=404)
    assert not isinstance(older, str) and not isinstance(newer, str)
    log = changelog(Site(services), ref, older, newer)
    if as_json:
        return JSONResponse(log.as_json(), headers={"Access-Control-Allow-Origin": "*"})
    return render(
        request,
        "vocab_release_diff.html",
        {"log": log, "releases": all_releases, "scheme_slug": scheme, "current": CURRENT},
    )


# -- quality report ---------------------------------------------------------------------------------------


@router.get("/vocab/{scheme}/quality")
@router.get("/vocab/{scheme}/quality.json")
def quality(request: Request, scheme: str) -> Response:
    as_json = request.url.path.endswith(".json")
    ref = scheme_ref(request, scheme)
    if ref is None:
        return json_or_html_404(request, as_json, f"There is no concept scheme {scheme}.")
    report = quality_report(Site(request.app.state.services), ref)
    if as_json:
        return JSONResponse(report.as_json(), headers={"Access-Control-Allow-Origin": "*"})
    context = {
        "report": report,
        "scheme_slug": scheme,
        "shown": FINDINGS_SHOWN,
        "started": request.query_params.get("started"),
        **editor_session(request),
    }
    return render(request, "vocab_quality.html", context)


@router.post("/vocab/{scheme}/quality/check-mappings")
async def check_mappings_form(request: Request, scheme: str) -> Response:
    """The editors' button: check the mappings in the background, then come back to the report."""
    form = await _signed_form(request, Role.editor)  # who is asking first, as everywhere
    if isinstance(form, Response):
        return form
    ref = scheme_ref(request, scheme)
    if ref is None:
        return page_not_found(request)
    started = start_mapping_check(request.app.state.services, NamedNode(ref.iri))
    return RedirectResponse(f"/vocab/{scheme}/quality?started={'1' if started else '0'}#mappings", status_code=303)


@router.post("/api/vocab/{scheme}/quality/check-mappings", status_code=202, tags=["vocabulary editing"])
def check_mappings_api(request: Request, scheme: str) -> Response:
    """Start checking the scheme's mappings in the background (editor token); the quality report shows
    the answers with their date. 202 with `started: false` when a check is running already."""
    refused = require_role_json(request, Role.editor)
    if isinstance(refused, Response):
        return refused
    ref = scheme_ref(request, scheme)
    if ref is None:
        return json_error(404, f"There is no concept scheme {scheme}.")
    started = start_mapping_check(request.app.state.services, NamedNode(ref.iri))
    return JSONResponse(
        {"started": started, "report": f"/vocab/{scheme}/quality.json"},
        status_code=202,
        headers={"Location": f"/vocab/{scheme}/quality.json"},
    )
