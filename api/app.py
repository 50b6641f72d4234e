"""The FastAPI application: `create_app()` is what `amv serve` and the tests run."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.middleware import ServiceHeaders
from api.routes import (
    about,
    account,
    actors,
    api_docs,
    concepts_api,
    contribute,
    coverage,
    events,
    feeds,
    graph_store,
    home,
    operations,
    resources,
    search,
    skosmos,
    sparql,
    sparql_update,
    submissions,
)
from api.templating import render
from graph.config import Settings
from graph.public_sparql import PublicSparql
from graph.services import open_services

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = app.state.services = open_services(settings)
        endpoint = services.store.query_endpoint
        # Researchers' queries run only in a store server that can stop them (never in-process).
        app.state.public_sparql = (
            None
            if endpoint is None
            else PublicSparql(
                endpoint,
                services.iris,
                timeout=settings.query_timeout,
                limit=settings.result_limit,
                concurrency=settings.sparql_concurrency,
            )
        )
        try:
            yield
        finally:
            if app.state.public_sparql is not None:
                await app.state.public_sparql.close()
            services.close()

    app = FastAPI(
        title="Arbejdsmiljøviden",
        description="The open knowledge graph and shared vocabulary of Denmark's work-environment community.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,  # served by api_docs from our static files, under our CSP
        redoc_url=None,
    )
    app.add_middleware(ServiceHeaders, max_body_bytes=settings.max_body_bytes)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown paths get the 404 page (with a search box) in a browser, plain text otherwise."""
        if exc.status_code == 404 and "text/html" in request.headers.get("accept", ""):
            return render(request, "notfound.html", {}, status_code=404)
        return PlainTextResponse(
            f"{exc.status_code} {exc.detail}\n", status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    app.include_router(home.router)
    app.include_router(operations.router)  # /health, /ready
    app.include_router(api_docs.router)  # /docs
    app.include_router(account.router)
    app.include_router(submissions.router)
    app.include_router(concepts_api.router)
    app.include_router(contribute.router)
    app.include_router(events.router)  # before resources: /id/event/{id}.ics precedes /id/{rest:path}
    app.include_router(feeds.router)  # /feeds/items.atom|json, /feeds/events.atom|json
    app.include_router(actors.router)
    app.include_router(search.router)
    app.include_router(coverage.router)  # /coverage, /items
    app.include_router(about.router)  # /about, /.well-known/void, /dumps, /sitemap.xml, /robots.txt
    app.include_router(sparql.router)
    app.include_router(sparql_update.router)
    app.include_router(graph_store.router)  # /rdf-graph-store (SPARQL 1.1 Graph Store HTTP Protocol)
    app.include_router(skosmos.router)  # /rest/v1/ (Skosmos-compatible REST API)
    app.include_router(resources.router)
    return app
