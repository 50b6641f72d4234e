"""Link preservation on the web: the link report and the public link-status graph (graph/links.py).

`/links` (HTML) and `/links.json`: every external address of the published records with what the
link checker found, filterable by state and sortable by state, host, status, time checked or failures.
The report is public like the data it summarises (the same facts are in the graph `<base>linkstatus`);
it is meant for editors, who fix or archive what broke.
`/linkstatus` is that graph's IRI: Turtle, JSON-LD, RDF/XML or N-Triples by Accept or suffix; a
browser is sent to `/links`.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.errors import json_error
from api.negotiation import HTML, NotAcceptable, negotiate, not_acceptable
from api.templating import render
from graph.links import REPORT_LIMIT, SORTS, LinkReport, LinkState, link_report, linkstatus_graph
from graph.serialize import serialize

router = APIRouter(tags=["links"])


class BadQuery(ValueError):
    pass


def _report(request: Request) -> LinkReport:
    params = request.query_params
    state_name = params.get("state", "")
    if state_name and state_name not in LinkState.__members__:
        raise BadQuery(f"state must be one of {', '.join(LinkState.__members__)} (or left out for all).")
    sort = params.get("sort", "state")
    if sort not in SORTS:
        raise BadQuery(f"sort must be one of {', '.join(SORTS)}.")
    order = params.get("order", "asc")
    if order not in ("asc", "desc"):
        raise BadQuery("order must be asc or desc.")
    limit_text = params.get("limit", str(REPORT_LIMIT))
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 10_000:
        raise BadQuery("limit must be a number from 1 to 10000.")
    return link_report(
        request.app.state.services,
        state=LinkState(state_name) if state_name else None,
        sort=sort,
        descending=order == "desc",
        limit=int(limit_text),
    )


@router.get("/links", summary="The link report (HTML)", include_in_schema=False)
def links_page(request: Request) -> Response:
    try:
        report = _report(request)
    except BadQuery as exc:
        return render(request, "message.html", {"message": str(exc)}, status_code=400)
    return render(request, "links.html", {"report": report, "states": list(LinkState), "sorts": list(SORTS)})


@router.get(
    "/links.json",
    summary="The link report: external addresses of published records and their state",
    responses={400: {"description": "A bad state, sort, order or limit", "content": {"application/json": {}}}},
)
def links_json(request: Request) -> Response:
    """Query parameters: `state` (working, failing, broken, refused), `sort` (state, host, status, checked,
    failures), `order` (asc, desc), `limit` (1–10000, default 1000)."""
    try:
        report = _report(request)
    except BadQuery as exc:
        return json_error(400, str(exc))
    return JSONResponse(report.as_json(), headers={"Access-Control-Allow-Origin": "*"})


@router.get("/linkstatus", include_in_schema=False)
@router.get(
    "/linkstatus{suffix}",
    summary="The public link-status graph (RDF)",
    response_class=Response,
    responses={
        200: {
            "description": "The graph <base>linkstatus",
            "content": {
                m: {} for m in ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples")
            },
        },
        303: {"description": "A browser is sent to /links"},
        404: {"description": "Unknown suffix", "content": {"text/plain": {}}},
        406: {"description": "No RDF type the client accepts", "content": {"text/plain": {}}},
    },
)
def linkstatus(request: Request, suffix: str = "") -> Response:
    if suffix not in ("", ".ttl", ".jsonld", ".rdf", ".nt"):
        return Response("404 Not Found\n", status_code=404, media_type="text/plain")
    try:
        rep = negotiate(request.headers.get("accept"), suffix)
    except NotAcceptable:
        return not_acceptable("the link-status graph")
    if rep == HTML:
        return RedirectResponse("/links", status_code=303, headers={"Vary": "Accept"})
    services = request.app.state.services
    triples = services.store.graph_triples(linkstatus_graph(services.iris))
    body = serialize(triples, rep.key, services.iris, context_url=str(request.url_for("jsonld_context")))
    return Response(body, media_type=rep.content_type, headers={"Vary": "Accept", "Access-Control-Allow-Origin": "*"})
