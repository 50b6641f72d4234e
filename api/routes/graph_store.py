"""`/rdf-graph-store`: the SPARQL 1.1 Graph Store HTTP Protocol.

Graphs are named indirectly (`/rdf-graph-store?graph=<IRI>`, `/rdf-graph-store?default`) or
directly (`/rdf-graph-store/<path>` names the graph whose IRI is that request URL). GET and HEAD are
public (the store holds only public graphs); PUT (replace), POST (merge; to the graph store itself:
create a new graph, answered 201 with its Location) and DELETE need an editor's or admin's token,
and go through the same checks as SPARQL Update: a record graph that would break the record rules
is refused whole (422 with the violations). Payloads: Turtle, N-Triples, RDF/XML, JSON-LD, TriG and
N-Quads (default-graph statements), and multipart/form-data for POST (each part an RDF document).
"""

from __future__ import annotations

import asyncio
import urllib.parse
from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pyoxigraph import NamedNode

from api.auth import AuthError, require_role
from api.routes.sparql import ProtocolError, error
from api.routes.sparql_update import refusal
from graph import graph_store as gs
from graph.accounts import Principal, Role
from graph.graph_writes import WriteRefused
from graph.iris import mint_id
from graph.media import match_quality, parse_accept
from graph.serialize import jsonld_context
from graph.store import StoreError

router = APIRouter()

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
READ_HEADERS = {"Access-Control-Allow-Origin": "*", "Vary": "Accept", "Cache-Control": "no-cache"}


@dataclass(frozen=True)
class Target:
    graph: gs.Graph  # None: the default graph
    store_itself: bool = False  # the request names no graph (only POST may do that: it creates one)


def _graph_iri(value: str, where: str) -> NamedNode:
    try:
        return NamedNode(value)
    except ValueError as exc:
        raise ProtocolError(400, f"{where} is not an absolute IRI: {exc}.") from None


def identify(request: Request, direct: bool) -> Target:
    """The graph a request is about, by the protocol's direct or indirect identification."""
    params = urllib.parse.parse_qs(request.url.query, keep_blank_values=True)
    graphs = params.get("graph", [])
    default = "default" in params
    if direct:
        if graphs or default:
            raise ProtocolError(
                400, "This URL names a graph itself (direct identification): leave out `graph` and `default`."
            )
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        url = f"{request.url.scheme}://{request.url.netloc}{raw_path.decode('latin-1')}"
        return Target(_graph_iri(url, "The request URL"))
    if graphs and default:
        raise ProtocolError(400, "Send either `graph=<IRI>` or `default`, not both.")
    if len(graphs) > 1:
        raise ProtocolError(400, "Send exactly one `graph` parameter.")
    if graphs:
        return Target(_graph_iri(graphs[0], "The `graph` parameter"))
    if default:
        return Target(None)
    return Target(None, store_itself=True)


def choose_format(accept: str | None) -> str:
    """The response format (a key of RESPONSE_FORMATS) for an Accept header; Turtle when any will do."""
    if not accept or not accept.strip():
        return "turtle"
    entries = parse_accept(accept)
    if not entries:
        return "turtle"
    ranked: list[tuple[float, int, int, int, str]] = []
    for preference, (key, media_type) in enumerate(gs.RESPONSE_FORMATS.items()):
        aliases = {alias for alias, k in gs.RESPONSE_ALIASES.items() if k == key}
        q, specificity, position = match_quality(entries, media_type, aliases)
        if q > 0:
            ranked.append((q, specificity, position, -preference, key))
    if not ranked:
        raise ProtocolError(
            406, f"Cannot send a graph as {accept}; available: {', '.join(gs.RESPONSE_FORMATS.values())}."
        )
    return max(ranked)[4]


def _gone_or_missing(request: Request, graph: NamedNode) -> ProtocolError:
    if gs.withdrawn(request.app.state.services, graph):
        return ProtocolError(410, f"The graph {graph.value} was a record that has been withdrawn.")
    return ProtocolError(404, f"There is no graph {graph.value} in the store.")


def _contexts(request: Request) -> dict[str, object]:
    """JSON-LD contexts we publish, by the URLs documents may refer to them with (never fetched)."""
    services = request.app.state.services
    context = jsonld_context(services.iris.base)
    return {str(request.url_for("jsonld_context")): context, services.iris.base + "context.jsonld": context}


async def read(request: Request, target: Target) -> Response:
    if target.store_itself:
        raise ProtocolError(400, "Name a graph: `?graph=<IRI>`, `?default`, or a URL below /rdf-graph-store/.")
    services = request.app.state.services
    key = choose_format(request.headers.get("accept"))
    graph = target.graph
    if graph is not None and not await asyncio.to_thread(gs.exists, services, graph):
        raise await asyncio.to_thread(_gone_or_missing, request, graph)
    triples = await asyncio.to_thread(gs.read, services, graph)
    context_url = str(request.url_for("jsonld_context"))
    body = await asyncio.to_thread(gs.serialize_graph, triples, graph, key, services, context_url=context_url)
    content_type = gs.RESPONSE_FORMATS[key] + "; charset=utf-8"
    if request.method == "HEAD":
        headers = {**READ_HEADERS, "Content-Length": str(len(body))}
        return Response(b"", media_type=content_type, headers=headers)
    return Response(body, media_type=content_type, headers=READ_HEADERS)


async def write(request: Request, target: Target, principal: Principal) -> Response:
    services = request.app.state.services
    method = request.method
    if target.store_itself and method != "POST":
        raise ProtocolError(
            400, f"{method} needs a graph: `?graph=<IRI>`, `?default`, or a URL below /rdf-graph-store/."
        )
    graph = target.graph
    created_iri = None
    if target.store_itself:  # POST to the graph store itself: a new graph, named by us
        created_iri = str(request.url_for("graph_store_direct", path=mint_id()))
        graph = NamedNode(created_iri)
    # Whether the graph existed decides 201 or 204 (and 404 for DELETE). A concurrent writer may
    # change that between this check and the write lock; the status may then be off, the data never.
    existed = await asyncio.to_thread(gs.exists, services, graph) if created_iri is None else False
    if method == "DELETE":
        if not existed:
            raise await asyncio.to_thread(_gone_or_missing, request, graph)  # type: ignore[arg-type]
        await asyncio.to_thread(gs.delete, services, graph, agent=principal.agent)
        return Response(status_code=204)
    body = await request.body()
    base_iri = graph.value if graph is not None else str(request.url.replace(query=""))
    try:
        triples = await asyncio.to_thread(
            gs.parse_request,
            body,
            request.headers.get("content-type", ""),
            base_iri=base_iri,
            contexts=_contexts(request),
            multipart=method == "POST",
        )
    except gs.PayloadError as exc:
        raise ProtocolError(exc.status, exc.message) from None
    if method == "PUT":
        await asyncio.to_thread(gs.replace, services, graph, triples, agent=principal.agent)
    else:
        await asyncio.to_thread(gs.merge, services, graph, triples, agent=principal.agent)
    if created_iri is not None:
        return Response(status_code=201, headers={"Location": created_iri})
    if not existed and await asyncio.to_thread(gs.exists, services, graph):
        return Response(status_code=201)
    return Response(status_code=204)


async def handle(request: Request, direct: bool) -> Response:
    try:
        if request.method in ("GET", "HEAD"):
            return await read(request, identify(request, direct))
        principal = require_role(request, Role.editor)  # PUT, POST, DELETE: before anything is revealed
        return await write(request, identify(request, direct), principal)
    except AuthError as exc:
        return error(exc.status, exc.message, exc.headers)
    except ProtocolError as exc:
        return error(exc.status, str(exc))
    except WriteRefused as exc:
        return refusal(exc)
    except StoreError as exc:
        return error(503, f"The store did not answer as expected: {exc}")


@router.api_route("/rdf-graph-store", methods=METHODS, name="graph_store")
async def graph_store(request: Request) -> Response:
    return await handle(request, direct=False)


@router.api_route("/rdf-graph-store/{path:path}", methods=METHODS, name="graph_store_direct")
async def graph_store_direct(request: Request, path: str) -> Response:
    return await handle(request, direct=bool(path))
