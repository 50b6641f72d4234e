"""Linked-data resolution: every IRI we mint answers here, for browsers and for machines.

`/ontology`, `/vocab/{scheme}[/{code}]` and `/id/{kind}/{id}` — with content negotiation on Accept
(q-values honoured), format suffixes, `Vary: Accept`, `Link` alternates, ETag/Last-Modified with
304, open CORS, 406 for a type we cannot give, 410 with a tombstone for a withdrawn record and
404 for an IRI that was never minted (or is not public).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pyoxigraph import NamedNode

from api import schema_org
from api.auth import current_session
from api.i18n import request_language
from api.negotiation import (
    DATA_REPRESENTATIONS,
    HTML,
    NotAcceptable,
    Representation,
    negotiate,
    not_acceptable,
    split_suffix,
)
from api.routes.feeds import resource_feeds
from api.routes.vocab_admin import scheme_extras
from api.templating import render
from graph.coverage import items_link
from graph.impact import actor_impact
from graph.iris import RecordKind
from graph.resources import ResourceKind, Status, describe, resolve, tombstone
from graph.serialize import jsonld_context, serialize
from graph.view_cache import Scope
from graph.views import Site, concept_page, ontology_page, record_page, scheme_page
from graph.vocab_edit import Thesaurus
from graph.vocab_schemes import Vocabularies, collection_page

router = APIRouter()

HISTORY_SHOWN = 10  # the newest changes of a concept shown on its page


def _links(request: Request, path: str, rep: Representation, replaced_by: list[str], site: Site) -> str:
    links = [f'<{path}{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in DATA_REPRESENTATIONS if r != rep]
    if rep != HTML:
        links.append(f'<{path}>; rel="alternate"; type="text/html"')
    for replacement in replaced_by:
        links.append(f'<{site.path(replacement) or replacement}>; rel="successor-version"')
    return ", ".join(links)


def _last_modified(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _not_modified(request: Request, etag: str, modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and modified:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _finish(
    request: Request,
    response: Response,
    rep: Representation,
    path: str,
    replaced: list[str],
    modified_text: str | None,
    site: Site,
) -> Response:
    """Headers every resolved IRI gets, and the 304 short-cut for conditional requests."""
    body = bytes(response.body)
    etag = (
        '"' + hashlib.sha256(body + rep.key.encode() + request.cookies.get("lang", "").encode()).hexdigest()[:32] + '"'
    )
    modified = _last_modified(modified_text)
    headers = {
        "Vary": "Accept, Cookie",
        "Link": _links(request, path, rep, replaced, site),
        "ETag": etag,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Link, ETag, Last-Modified",
        "Content-Location": path + rep.suffix,
    }
    if modified:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    if response.status_code == 200 and _not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def resource_response(request: Request, raw_path: str) -> Response:
    services = request.app.state.services
    site = Site(services)
    path, suffix = split_suffix(raw_path)
    iri = (
        NamedNode(services.iris.base + path.lstrip("/")) if _valid_iri(services.iris.base + path.lstrip("/")) else None
    )
    resolution = resolve(services, iri) if iri is not None else None
    try:
        rep = negotiate(request.headers.get("accept"), suffix)
    except NotAcceptable:
        return not_acceptable("this resource")

    if resolution is None or resolution.status == Status.missing:
        return not_found(request, rep)

    context_url = str(request.url_for("jsonld_context"))
    if resolution.status == Status.gone:
        triples = tombstone(services, resolution)
        if rep == HTML:
            response = render(
                request,
                "tombstone.html",
                {"entry": resolution.tombstone, "replaced_by": site.refs(resolution.replaced_by), "iri": iri.value},
                status_code=410,
            )
        else:
            response = Response(
                serialize(triples, rep.key, services.iris, context_url=context_url),
                status_code=410,
                media_type=rep.content_type,
            )
        return _finish(request, response, rep, path, resolution.replaced_by, resolution.modified, site)

    triples = describe(services, resolution)
    if rep != HTML:
        response = Response(
            serialize(triples, rep.key, services.iris, context_url=context_url), media_type=rep.content_type
        )
        return _finish(request, response, rep, path, resolution.replaced_by, resolution.modified, site)

    # One page builder, template and schema.org mapping per kind of resource.
    builders = {
        ResourceKind.concept: (concept_page, "concept.html", schema_org.concept),
        ResourceKind.scheme: (scheme_page, "scheme.html", schema_org.scheme),
        ResourceKind.record: (record_page, "record.html", schema_org.record),
        ResourceKind.ontology: (ontology_page, "ontology.html", schema_org.ontology),
        ResourceKind.collection: (collection_page, "vocab_editor_collection.html", schema_org.collection),
    }
    assert resolution.kind is not None
    build, template, to_schema_org = builders[resolution.kind]
    if resolution.kind in (ResourceKind.scheme, ResourceKind.ontology):  # whole trees: kept until the data changes
        page = services.views.get(
            (resolution.kind, iri.value), lambda: build(site, resolution, triples), Scope.thesaurus
        )
    else:
        page = build(site, resolution, triples)
    context = {
        "iri": iri.value,
        "path": path,
        "page": page,
        "alternates": [(r, path + r.suffix) for r in DATA_REPRESENTATIONS],
        "schema_org": to_schema_org(page, request_language(request)),
    }
    if resolution.kind == ResourceKind.concept and page.scheme:
        context["items_link"] = items_link(iri.value, page.scheme.iri)
        context["history"] = Thesaurus(services).history(iri)[:HISTORY_SHOWN]
    if resolution.kind == ResourceKind.scheme:
        context["collections"] = Vocabularies(services).collections(iri)
    if resolution.kind in (ResourceKind.concept, ResourceKind.scheme):
        context["session"] = current_session(request)  # editing links for people with a role
    if resolution.kind == ResourceKind.record:  # public steps only: published, replaced, withdrawn
        context["history"] = services.curation.history(iri.value, public=True)
    context["feeds"] = resource_feeds(request, resolution, page)
    if resolution.record_kind == RecordKind.actor:  # what it contributed and covers (graph/impact.py)
        context["impact"] = actor_impact(services, iri.value)
    if resolution.kind == ResourceKind.scheme:  # its history, releases and quality report, and their feed
        context.update(scheme_extras(request, iri.value))
        context["feeds"] = context["feeds"] + context["changes_feeds"]
    response = render(request, template, context)
    return _finish(request, response, rep, path, resolution.replaced_by, resolution.modified, site)


def _valid_iri(value: str) -> bool:
    try:
        NamedNode(value)
    except ValueError:
        return False
    return True


def not_found(request: Request, rep: Representation) -> Response:
    if rep == HTML:
        return render(request, "notfound.html", {}, status_code=404)
    return Response("404 Not Found: no resource with this IRI\n", status_code=404, media_type="text/plain")


@router.get("/context.jsonld", name="jsonld_context")
def context(request: Request) -> JSONResponse:
    """The published JSON-LD @context our JSON-LD representations refer to."""
    return JSONResponse(
        {"@context": jsonld_context(request.app.state.services.iris.base)},
        media_type="application/ld+json",
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "public, max-age=86400"},
    )


@router.get("/ontology")
@router.get("/ontology{suffix}")
def ontology(request: Request, suffix: str = "") -> Response:
    return resource_response(request, "/ontology" + suffix)


@router.get("/vocab/{rest:path}")
def vocabulary(request: Request, rest: str) -> Response:
    return resource_response(request, "/vocab/" + rest)


@router.get("/id/{rest:path}")
def record(request: Request, rest: str) -> Response:
    return resource_response(request, "/id/" + rest)
