"""The thesaurus' history on the web: changesets, a scheme's history, comparing versions, reverting, feeds.

- `GET /changes/{n}`: one changeset, who, when, why and the diff; its RDF (Talis changeset vocabulary)
  by Accept or a suffix (.ttl .nt .rdf .jsonld); `/changes/{n}.json` plain JSON.
- `POST /changes/{n}/revert` (editors, login + CSRF) and `POST /api/changes/{n}/revert` (editor token,
  `{"reason": …}` optional): undo the changeset with a new one.
- `GET /vocab/{scheme}/changes?page=`: the scheme's changesets, newest first; `changes.atom` and
  `changes.json`: the newest 50 as Atom 1.0 and JSON Feed 1.1.
- `GET /vocab/{scheme}/{code}/compare?from=&to=` (+ `.json`): what changed in a concept between two
  versions (a changeset number, or `current`).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pyoxigraph import NamedNode

from api.auth import current_session, require_role_json
from api.errors import json_error
from api.i18n import request_language
from api.negotiation import DATA_REPRESENTATIONS, HTML, NotAcceptable, negotiate, not_acceptable, split_suffix
from api.routes.contribute import _signed_form
from api.routes.feeds import _respond, feed_language
from api.templating import render
from graph.accounts import Role
from graph.feeds import ATOM_TYPE, JSON_FEED_TYPE, FeedLink, etag, instant
from graph.serialize import serialize
from graph.views import Ref, Site
from graph.vocab_edit import EditRefused
from graph.vocab_history import (
    FEED_TITLES,
    DiffLine,
    change_json,
    change_rdf,
    change_view,
    changes_feed,
    changes_feed_path,
    compare_versions,
    concept_versions,
    newest_change_by,
    parse_version,
    read_change,
    revert,
    revert_reason,
    scheme_counts,
    scheme_history,
)

router = APIRouter()


# -- shared helpers for the vocabulary pages (also used by api/routes/vocab_admin.py) ---------------


def scheme_ref(request: Request, slug: str) -> Ref | None:
    """The scheme named by its id in the URL, with its titles; None when there is no such scheme."""
    services = request.app.state.services
    try:
        iri = services.iris.scheme(slug)
    except ValueError:
        return None
    if "/" in slug or not services.store.ask(services.queries("is-scheme", scheme=iri)):
        return None
    site = Site(services)
    return site.ref(iri.value, site.names([iri.value]).get(iri.value, {}))


def editor_session(request: Request) -> dict[str, Any]:
    """`editor` and `csrf` for a page's editor controls (shown only to a logged-in editor)."""
    session = current_session(request)
    if session is not None and session.principal.role.at_least(Role.editor):
        return {"editor": session.principal, "csrf": session.csrf}
    return {"editor": None, "csrf": ""}


def page_not_found(request: Request) -> Response:
    return render(request, "notfound.html", {}, status_code=404)


def json_or_html_404(request: Request, as_json: bool, message: str) -> Response:
    return json_error(404, message) if as_json else page_not_found(request)


def changes_feed_links(scheme: Ref, lang: str) -> list[FeedLink]:
    """The scheme page announces the feed of its changes (Atom and JSON Feed)."""
    slug = scheme.path.removeprefix("/vocab/")
    title = FEED_TITLES[lang].format(scheme.label(lang))
    return [
        FeedLink(ATOM_TYPE, title, changes_feed_path(slug, "atom", lang)),
        FeedLink(JSON_FEED_TYPE, title, changes_feed_path(slug, "json", lang)),
    ]


# -- one changeset ------------------------------------------------------------------------------------


def _sequence(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None


def _change_page(request: Request, sequence: int, error: str = "", status: int = 200) -> Response:
    services = request.app.state.services
    change = read_change(services, sequence)
    if change is None:
        return page_not_found(request)
    site = Site(services)
    path = f"/changes/{sequence}"
    context = {
        "view": change_view(site, change),
        "path": path,
        "alternates": [(r, path + r.suffix) for r in DATA_REPRESENTATIONS],
        "error": error,
        **editor_session(request),
    }
    return render(request, "vocab_change.html", context, status_code=status)


@router.get("/changes/{name}")
def change(request: Request, name: str) -> Response:
    """One changeset: HTML, or its RDF (Talis changeset vocabulary) by Accept or suffix, or `.json`."""
    services = request.app.state.services
    as_json = name.endswith(".json")
    base, suffix = (name[:-5], "") if as_json else split_suffix(name)
    sequence = _sequence(base)
    try:
        rep = HTML if as_json else negotiate(request.headers.get("accept"), suffix)
    except NotAcceptable:
        return not_acceptable("this change")
    found = read_change(services, sequence) if sequence is not None else None
    if found is None:
        return (
            json_or_html_404(request, as_json, f"There is no change {base}.")
            if rep == HTML
            else Response("404 Not Found: no such change\n", status_code=404, media_type="text/plain")
        )
    headers = {"Vary": "Accept", "Access-Control-Allow-Origin": "*"}
    if as_json:
        return JSONResponse(change_json(found), headers=headers)
    if rep != HTML:
        context_url = str(request.url_for("jsonld_context"))
        body = serialize(change_rdf(services, found), rep.key, services.iris, context_url=context_url)
        return Response(body, media_type=rep.content_type, headers=headers)
    response = _change_page(request, found.sequence)
    response.headers.update(headers)
    return response


@router.post("/changes/{sequence}/revert")
async def revert_form(request: Request, sequence: int) -> Response:
    """The revert button of a changeset page (editors, CSRF)."""
    form = await _signed_form(request, Role.editor)
    if isinstance(form, Response):
        return form
    values, principal = form
    reason = (values.get("reason") or [""])[0]
    services = request.app.state.services
    try:
        await asyncio.to_thread(revert, services, sequence, agent=principal.agent, reason=reason)
    except EditRefused as exc:
        return _change_page(request, sequence, error=_refusal_text(exc, request_language(request)), status=exc.status)
    new = _written(services, sequence, principal.agent, reason)
    return RedirectResponse(f"/changes/{new}" if new else f"/changes/{sequence}", status_code=303)


def _refusal_text(exc: EditRefused, lang: str) -> str:
    details = [v.messages.get(lang) or v.messages.get("en", "") for v in exc.violations]
    return " ".join([exc.message, *details])


def _written(services: Any, sequence: int, agent: str, reason: str) -> int | None:
    change = read_change(services, sequence)
    if change is None or change.scheme is None:
        return None
    return newest_change_by(services, NamedNode(change.scheme), agent, revert_reason(change, reason))


@router.post("/api/changes/{sequence}/revert", status_code=201, tags=["vocabulary editing"])
async def revert_api(request: Request, sequence: int) -> Response:
    """Undo changeset `sequence` with a new changeset (validated like any edit); 409 when later changes
    touched the same statements. Body (optional): `{"reason": "…"}`."""
    principal = require_role_json(request, Role.editor)
    if isinstance(principal, Response):
        return principal
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except (ValueError, RecursionError):
        return json_error(400, "Send a JSON object (or nothing).")
    if not isinstance(body, dict) or not isinstance(body.get("reason", ""), str):
        return json_error(400, 'Send a JSON object, e.g. {"reason": "…"}.')
    services = request.app.state.services
    reason = body.get("reason", "")
    try:
        applied = await asyncio.to_thread(revert, services, sequence, agent=principal.agent, reason=reason)
    except EditRefused as exc:
        return json_error(exc.status, exc.message, [v.as_json() for v in exc.violations] if exc.violations else None)
    new = _written(services, sequence, principal.agent, reason)
    return JSONResponse(
        {
            "reverted": sequence,
            "sequence": new,
            "iri": f"{services.iris.base}changes/{new}" if new else None,
            "added": len(applied.added),
            "removed": len(applied.removed),
        },
        status_code=201,
        headers={"Location": f"/changes/{new}"} if new else {},
    )


# -- a scheme's history and its feeds ------------------------------------------------------------------


@router.get("/vocab/{scheme}/changes")
def history(request: Request, scheme: str) -> Response:
    ref = scheme_ref(request, scheme)
    if ref is None:
        return page_not_found(request)
    try:
        page = int(request.query_params.get("page", "1"))
    except ValueError:
        page = 1
    view = scheme_history(Site(request.app.state.services), ref, page)
    lang = request_language(request)
    return render(request, "vocab_history.html", {"history": view, "feeds": changes_feed_links(ref, lang)})


def _changes_feed(request: Request, scheme: str, fmt: str) -> Response:
    ref = scheme_ref(request, scheme)
    if ref is None:
        return Response("404 Not Found: no such concept scheme\n", status_code=404, media_type="text/plain")
    lang = feed_language(request)
    services = request.app.state.services
    total, newest = scheme_counts(services, NamedNode(ref.iri))
    site_url = str(request.base_url).rstrip("/")
    tag = etag("changes", ref.iri, str(total), str(newest), fmt, lang, site_url)
    feed_box: list[Any] = []

    def build() -> Any:
        if not feed_box:
            feed_box.append(changes_feed(Site(services), ref))
        return feed_box[0]

    newest_change = read_change(services, newest) if newest else None
    modified = instant(newest_change.created) if newest_change else datetime(2026, 1, 1, tzinfo=UTC)
    return _respond(request, fmt, lang, tag, modified, build)


@router.get("/vocab/{scheme}/changes.atom")
def changes_atom(request: Request, scheme: str) -> Response:
    """The scheme's newest changesets as Atom 1.0."""
    return _changes_feed(request, scheme, "atom")


@router.get("/vocab/{scheme}/changes.json")
def changes_json_feed(request: Request, scheme: str) -> Response:
    """The scheme's newest changesets as JSON Feed 1.1."""
    return _changes_feed(request, scheme, "json")


# -- comparing two versions of a concept ------------------------------------------------------------------


@router.get("/vocab/{scheme}/{code}/compare")
@router.get("/vocab/{scheme}/{code}/compare.json")
def compare(request: Request, scheme: str, code: str) -> Response:
    """What changed in a concept between two versions (`from`, `to`: a changeset number, or `current`)."""
    as_json = request.url.path.endswith(".json")
    ref = scheme_ref(request, scheme)
    services = request.app.state.services
    site = Site(services)
    try:
        concept = services.iris.concept(scheme, code)
    except ValueError:
        return json_or_html_404(request, as_json, "No such concept.")
    known = ref is not None and services.store.ask(
        services.queries("is-concept-in", concept=concept, scheme=NamedNode(ref.iri))
    )
    if ref is None or not known:
        return json_or_html_404(request, as_json, f"No concept {code} in {scheme}.")
    versions = concept_versions(services, concept, NamedNode(ref.iri))
    try:
        newer = parse_version(request.query_params.get("to"))
        default_older = str(versions[1].sequence) if len(versions) > 1 else None
        older = parse_version(request.query_params.get("from", default_older))
    except ValueError:
        message = "from and to are changeset numbers (see the concept's history) or “current”."
        if as_json:
            return json_error(400, message)
        return render(request, "message.html", {"message": message}, status_code=400)
    if older is not None and newer is not None and older > newer:
        older, newer = newer, older
    concept_ref = site.ref(concept.value, site.names([concept.value]).get(concept.value, {}))
    comparison = compare_versions(site, concept_ref, ref, older, newer, versions)
    if as_json:
        return JSONResponse(
            {
                "concept": concept.value,
                "from": older if older is not None else "current",
                "to": newer if newer is not None else "current",
                "versions": [v.sequence for v in versions],
                "added": [
                    _line_json(g.subject, line) for g in comparison.groups for line in g.lines if line.kind == "added"
                ],
                "removed": [
                    _line_json(g.subject, line) for g in comparison.groups for line in g.lines if line.kind == "removed"
                ],
            },
            headers={"Access-Control-Allow-Origin": "*"},
        )
    return render(request, "vocab_compare.html", {"comparison": comparison})


def _line_json(subject: Ref, line: DiffLine) -> dict[str, str]:
    value = {"iri": line.value.ref.iri} if line.value.ref else {"value": line.value.text, "lang": line.value.lang}
    return {"subject": subject.iri, "predicate": line.predicate, **value}
