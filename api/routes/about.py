"""About the data: `/about`, the VoID + DCAT description (`/.well-known/void`), the dumps
(`/dumps/…`), `/sitemap.xml` and `/robots.txt`."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from email.utils import format_datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Match

from api.i18n import request_language
from api.negotiation import DATA_REPRESENTATIONS, HTML, NotAcceptable, negotiate, not_acceptable, split_suffix
from api.page_cache import recount_headers
from api.templating import render
from graph import sitemap
from graph.dataset_description import LICENSE, about_page, current_stats, freshness, void_triples
from graph.dumps import dump_by_name, ensure_dump
from graph.serialize import serialize

router = APIRouter()

#: Pages that are not resources of the graph, listed in the sitemap when this app serves them.
FIXED_PAGES = ("/", "/about", "/coverage", "/items", "/actors", "/events", "/ontology")


def serves(request: Request, path: str) -> bool:
    """Whether this app has a route answering GET `path` (asked of the router, as a request would be)."""
    scope = {**request.scope, "path": path, "method": "GET", "query_string": b"", "path_params": {}}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def sparql_available(request: Request) -> bool:
    """Whether `/sparql` answers queries here: the route exists and, where the app keeps its query runner
    in `app.state.public_sparql`, that runner is set up (it is not without a store server, and the
    endpoint then answers 503)."""
    if not serves(request, "/sparql"):
        return False
    state = request.app.state
    return not hasattr(state, "public_sparql") or state.public_sparql is not None


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    return header is not None and (header.strip() == "*" or etag in [t.strip() for t in header.split(",")])


@router.get("/about")
def about(request: Request) -> Response:
    services = request.app.state.services
    lang = request_language(request)
    endpoint = sparql_available(request)
    stats = current_stats(services)
    page = services.views.get(
        ("about", date.today(), endpoint, stats.at, stats.current),
        lambda: about_page(services, date.today(), stats, sparql_endpoint=endpoint),
    )
    origin = str(request.base_url).rstrip("/")
    response = render(
        request,
        "about.html",
        {
            "page": page,
            "alternates": [(r, "/.well-known/void" + r.suffix) for r in DATA_REPRESENTATIONS],
            "schema_org": {
                "@context": "https://schema.org",
                "@type": "Dataset",
                "@id": services.iris.base + ".well-known/void#dataset",
                "name": page.title(lang),
                "description": page.description(lang),
                "url": origin + "/about",
                "license": LICENSE,
                "isAccessibleForFree": True,
                "inLanguage": ["da", "en"],
                "publisher": {"@type": "Organization", "@id": services.iris.base, "name": "Arbejdsmiljøviden"},
                "dateModified": page.stats.modified or None,
                "distribution": [
                    {
                        "@type": "DataDownload",
                        "contentUrl": origin + d.path,
                        "encodingFormat": d.media_type,
                        "name": d.title[lang],
                    }
                    for d in page.dumps
                ],
            },
        },
    )
    response.headers.update(recount_headers(stats))
    return response


@router.get("/.well-known/void")
@router.get("/.well-known/void{suffix}")
def void(request: Request, suffix: str = "") -> Response:
    services = request.app.state.services
    path, known = split_suffix("/.well-known/void" + suffix)
    if path != "/.well-known/void":
        return PlainTextResponse("404 Not Found\n", status_code=404)
    try:
        rep = negotiate(request.headers.get("accept"), known)
    except NotAcceptable:
        return not_acceptable("the dataset description")
    if rep == HTML:
        return RedirectResponse("/about", status_code=303, headers={"Vary": "Accept"})
    stats = current_stats(services).value
    triples = void_triples(services, stats, sparql_endpoint=sparql_available(request))
    body = serialize(triples, rep.key, services.iris, context_url=str(request.url_for("jsonld_context")))
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    links = [f'<{path}{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in DATA_REPRESENTATIONS if r != rep]
    links.append(f'<{"/about"}>; rel="alternate"; type="text/html"')
    headers = {
        "Vary": "Accept",
        "ETag": etag,
        "Link": ", ".join(links),
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "Link, ETag",
        "Content-Location": path + rep.suffix,
    }
    if _matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=rep.content_type, headers=headers)


@router.api_route("/dumps/{filename}", methods=["GET", "HEAD"])
def dump(request: Request, filename: str) -> Response:
    services = request.app.state.services
    wanted = dump_by_name(filename)
    if wanted is None:
        return PlainTextResponse("404 Not Found: no such dump\n", status_code=404)
    found = ensure_dump(services, wanted)
    modified = datetime.fromtimestamp(found.path.stat().st_mtime, UTC)
    headers = {
        "ETag": found.etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "public, max-age=300",
        "Access-Control-Allow-Origin": "*",
    }
    if _matches(request, found.etag):
        return Response(status_code=304, headers=headers)
    return FileResponse(found.path, media_type="application/gzip", filename=wanted.filename, headers=headers)


@router.get("/sitemap.xml")
def sitemap_xml(request: Request) -> Response:
    services = request.app.state.services
    origin = str(request.base_url).rstrip("/")
    entries = _sitemap_entries(request)
    if len(entries) <= sitemap.MAX_URLS:
        return Response(sitemap.urlset(entries, origin), media_type="application/xml")
    parts = [f"{origin}/sitemap-{n}.xml" for n in range(1, sitemap.parts(len(entries)) + 1)]
    lastmod = freshness(services).modified or None
    return Response(sitemap.index(parts, lastmod), media_type="application/xml")


@router.get("/sitemap-{number}.xml")
def sitemap_part(request: Request, number: str) -> Response:
    entries = _sitemap_entries(request)
    count = sitemap.parts(len(entries))
    if not number.isdigit() or not 1 <= int(number) <= count or len(entries) <= sitemap.MAX_URLS:
        return PlainTextResponse("404 Not Found: no such sitemap\n", status_code=404)
    start = (int(number) - 1) * sitemap.MAX_URLS
    origin = str(request.base_url).rstrip("/")
    return Response(sitemap.urlset(entries[start : start + sitemap.MAX_URLS], origin), media_type="application/xml")


def _sitemap_entries(request: Request) -> list[sitemap.Entry]:
    pages = [p for p in FIXED_PAGES if serves(request, p)]
    return sitemap.entries(request.app.state.services, pages)


@router.get("/robots.txt")
def robots(request: Request) -> PlainTextResponse:
    origin = str(request.base_url).rstrip("/")
    return PlainTextResponse(
        "# Arbejdsmiljøviden: crawlers are welcome; please keep off the API and SPARQL query URLs.\n"
        "User-agent: *\n"
        "Allow: /\n"
        "Disallow: /api/\n"
        "Disallow: /sparql?\n"
        f"\nSitemap: {origin}/sitemap.xml\n"
    )
