"""`/sparql`: the public SPARQL 1.1 Protocol endpoint (query only; updates are `/sparql/update`).

GET with `query=`, POST url-encoded, POST `application/sparql-query`; `default-graph-uri` and
`named-graph-uri`; results by Accept or `format=`. A GET without a query gives the service
description (RDF) or, for a browser, the query page. The default graph is the union of the public
graphs; the store holds only public data, so nothing pending can be reached by any dataset clause.
"""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.negotiation import HTML, NotAcceptable, negotiate
from api.routes.sparql_page import query_page, results_page
from graph.public_sparql import PublicQueryError, PublicSparql, choose_format
from graph.serialize import serialize
from graph.service_description import service_description
from graph.sparql_guard import ForbiddenQuery, check_public_query

router = APIRouter()

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        message.rstrip() + "\n",
        status_code=status,
        media_type="text/plain; charset=utf-8",
        headers={"Access-Control-Allow-Origin": "*", **(headers or {})},
    )


class ProtocolError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def charset_is_utf8(content_type: str) -> bool:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


async def read_request(request: Request) -> tuple[list[str], list[str], list[str], dict[str, list[str]]]:
    """(queries, default graphs, named graphs, all parameters) from any of the three request forms."""
    url_params = urllib.parse.parse_qs(request.url.query, keep_blank_values=True)
    if request.method == "GET":
        params = url_params
        queries = params.get("query", [])
    else:
        content_type = request.headers.get("content-type", "")
        media = content_type.split(";")[0].strip().lower()
        if media not in (FORM, DIRECT):
            raise ProtocolError(415, f"POST a query as {FORM} or {DIRECT}, not {media or 'no content type'}.")
        if not charset_is_utf8(content_type):
            raise ProtocolError(415, "Queries must be sent in UTF-8.")
        body = await request.body()
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(400, f"The request body is not valid UTF-8 (byte {exc.start}).") from None
        if media == FORM:
            try:
                form = urllib.parse.parse_qs(text, keep_blank_values=True, errors="strict")
            except UnicodeDecodeError:
                raise ProtocolError(400, "The form is not valid UTF-8.") from None
            params = {**url_params, **form}
            queries = form.get("query", [])
        else:
            params = url_params
            queries = [text]
    if "update" in params:
        raise ProtocolError(400, "This is the query endpoint: send SPARQL Update by POST to /sparql/update.")
    return queries, params.get("default-graph-uri", []), params.get("named-graph-uri", []), params


def public_sparql(request: Request) -> PublicSparql | None:
    return getattr(request.app.state, "public_sparql", None)


@router.api_route("/sparql", methods=["GET", "POST"], name="sparql")
async def sparql(request: Request) -> Response:
    try:
        queries, default_graphs, named_graphs, params = await read_request(request)
    except ProtocolError as exc:
        return error(exc.status, str(exc))
    fmt_param = (params.get("format") or [None])[0]
    if not queries:
        if request.method == "POST":
            return error(400, "No query: send the query in the `query` parameter or as the request body.")
        return service_description_or_page(request, fmt_param)
    if len(queries) > 1:
        return error(400, "Send exactly one `query` parameter.")
    query = queries[0]
    if not query.strip():
        return error(400, "The query is empty.")
    try:
        info = check_public_query(query)
    except ForbiddenQuery as exc:
        return error(403, str(exc))
    runner = public_sparql(request)
    if runner is None:
        return error(503, "The SPARQL endpoint runs only with the store server (`amv serve` or AMV_STORE_URL).")
    accept = request.headers.get("accept")
    wants_page = fmt_param == "html" or (fmt_param is None and _prefers_html(accept))
    try:
        fmt = (
            "json"
            if wants_page and not info.returns_graph
            else ("turtle" if wants_page else choose_format(info, accept, fmt_param))
        )
        # Only graph results refer to our JSON-LD context; url_for walks every route, so it is not done per query.
        context_url = str(request.url_for("jsonld_context")) if info.returns_graph else ""
        outcome = await runner.run(query, info, fmt, default_graphs, named_graphs, context_url=context_url)
    except PublicQueryError as exc:
        return error(exc.status, exc.message, {"Retry-After": str(exc.retry_after)} if exc.retry_after else None)
    headers = {"Access-Control-Allow-Origin": "*", "Vary": "Accept", "Cache-Control": "no-store"}
    if outcome.truncated:
        headers["X-Result-Truncated"] = str(runner.limit)
    if wants_page:
        return results_page(request, query, info, outcome, headers)
    return Response(
        outcome.body,
        media_type=outcome.media_type
        + ("; charset=utf-8" if "json" in outcome.media_type or outcome.media_type.startswith("text/") else ""),
        headers=headers,
    )


def _prefers_html(accept: str | None) -> bool:
    if not accept:
        return False
    try:
        return negotiate(accept) == HTML and "text/html" in accept
    except NotAcceptable:
        return False


def service_description_or_page(request: Request, fmt_param: str | None) -> Response:
    accept = request.headers.get("accept")
    services = request.app.state.services
    if fmt_param in (None, "html") and _prefers_html(accept):
        return query_page(request)
    try:
        rep = negotiate(accept or "text/turtle")
    except NotAcceptable:
        return error(406, "The service description is available as Turtle, JSON-LD, RDF/XML or N-Triples.")
    if rep == HTML:
        if "text/html" in (accept or "") or "application/xhtml+xml" in (accept or ""):
            return query_page(request)
        # A client that takes anything (`*/*`) but names no HTML is a program: the SPARQL 1.1
        # Service Description must be available in RDF at the endpoint, so it gets Turtle.
        rep = negotiate("text/turtle")
    endpoint = str(request.url_for("sparql"))
    triples = service_description(services.iris, endpoint, public_sparql(request) is not None)
    body = serialize(triples, rep.key, services.iris, context_url=str(request.url_for("jsonld_context")))
    return Response(body, media_type=rep.content_type, headers={"Access-Control-Allow-Origin": "*", "Vary": "Accept"})
