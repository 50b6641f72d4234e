"""The home page and the health check."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.routes.feeds import home_feeds
from api.templating import render
from graph.concepts import scheme_summaries
from graph.views import Site, home_page

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    services = request.app.state.services
    site = Site(services)
    return render(
        request,
        "home.html",
        {
            "page": home_page(site, date.today()),
            "schemes": scheme_summaries(services.store, services.queries),
            "feeds": home_feeds(request),
            "schema_org": {
                "@context": "https://schema.org",
                "@type": "WebSite",
                "name": "Arbejdsmiljøviden",
                "url": str(request.base_url),
                "potentialAction": {
                    "@type": "SearchAction",
                    "target": str(request.base_url) + "search?q={query}",
                    "query-input": "required name=query",
                },
            },
        },
    )
