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
from api.page_cache import PublicPageCache
from api.routes import (
    about,
    account,
    actors,
    alerts,
    api_docs,
    ask,
    bulk_import,
    concepts_api,
    contribute,
    coverage,
    events,
    feeds,
    graph_store,
    guidance,
    harvest,
    home,
    links,
    operations,
    resources,
    search,
    skosmos,
    sparql,
    sparql_update,
    statistics,
    submissions,
    vocab_admin,
    vocab_editor,
    vocab_history,
    vocab_io,
    webhooks,
)
from api.templating import render
from graph.config import Settings
from graph.harvest.runner import HarvestJob
from graph.links import LinkCheckJob
from graph.public_sparql import PublicSparql
from graph.search.index import IndexFollower
from graph.services import open_services
from graph.store_server import StoreServerThreads, default_thread_budget, die_with_parent
from graph.webhooks import DeliveryWorker

STATIC_DIR = Path(__file__).parent / "static"


def create_worker_app() -> FastAPI:
    """The app of one worker process of `amv serve --workers N` (N > 1): it dies with the supervisor,
    even one killed with SIGKILL, instead of living on orphaned and holding the port."""
    die_with_parent()
    return create_app()


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
                auth=settings.store_auth,
                store_threads=StoreServerThreads(
                    settings.server_file, endpoint, settings.store_thread_budget or default_thread_budget()
                ),
            )
        )
        # Background jobs: the index follows other processes' writes; link checks, webhook deliveries and
        # harvesting are each off unless their setting turns them on.
        jobs = [
            job
            for job in (
                IndexFollower.start(services),
                LinkCheckJob.start(services),
                DeliveryWorker.start(services),
                HarvestJob.start(services),
            )
            if job is not None
        ]
        try:
            yield
        finally:
            for job in jobs:
                job.stop()
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
    app.add_middleware(PublicPageCache)  # inside ServiceHeaders: every answer still gets its own request id
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

    app.include_router(home.router, tags=["pages"])
    app.include_router(operations.router)  # /health, /ready
    app.include_router(api_docs.router)  # /docs
    app.include_router(account.router, tags=["accounts"])
    app.include_router(submissions.router)
    app.include_router(concepts_api.router)
    app.include_router(contribute.router, tags=["contributions"])
    app.include_router(bulk_import.router, tags=["contributions"])  # /import, /import/apply (editors)
    app.include_router(events.router, tags=["events"])  # before resources: /id/event/{id}.ics precedes /id/{rest:path}
    app.include_router(feeds.router, tags=["feeds"])  # /feeds/items.atom|json, /feeds/events.atom|json
    app.include_router(actors.router, tags=["actors"])
    app.include_router(search.router, tags=["search"])
    app.include_router(coverage.router, tags=["browse"])  # /coverage, /items
    app.include_router(about.router, tags=["dataset"])  # /about, /.well-known/void, /dumps, /sitemap.xml, /robots.txt
    app.include_router(sparql.router, tags=["SPARQL"])
    app.include_router(sparql_update.router, tags=["SPARQL"])
    app.include_router(graph_store.router, tags=["SPARQL"])  # /rdf-graph-store (SPARQL 1.1 Graph Store HTTP Protocol)
    app.include_router(skosmos.router, tags=["Skosmos REST API"])  # /rest/v1/ (Skosmos-compatible REST API)
    app.include_router(
        alerts.router, tags=["alerts"]
    )  # /alerts: e-mail alerts (subscribe, confirm, manage, unsubscribe)
    app.include_router(
        ask.router, tags=["ask"]
    )  # /ask, /api/ask: questions answered from our knowledge, with citations
    app.include_router(links.router)  # /links (link report), /linkstatus (its public graph)
    app.include_router(webhooks.router)  # /api/webhooks, /admin/webhooks
    app.include_router(
        vocab_history.router, tags=["vocabulary history and releases"]
    )  # /changes/{n}, /vocab/{scheme}/changes(.atom), …/compare
    app.include_router(
        vocab_admin.router, tags=["vocabulary history and releases"]
    )  # /vocab/{scheme}/releases, /release/{v}, /changelog, /quality
    app.include_router(
        vocab_editor.router, tags=["vocabulary editor"]
    )  # /vocab, /editor/…, /my/proposals, /api/schemes, /api/proposals
    app.include_router(
        guidance.router, tags=["guidance requests"]
    )  # /ask-us (Spørg centeret), /requests (the editors' inbox)
    app.include_router(
        vocab_io.router, tags=["vocabulary import and export"]
    )  # /exports/vocab/{scheme}.{format}, /editor/vocab-import
    app.include_router(statistics.router, tags=["statistics"])  # /statistics, /statistics.json
    app.include_router(harvest.router)  # /harvest, /harvest.json (editors: harvest sources and runs)
    app.include_router(resources.router, tags=["linked data"])
    return app
