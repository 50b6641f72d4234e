"""The home page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from api.templating import render
from graph.concepts import scheme_summaries

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request) -> HTMLResponse:
    services = request.app.state.services
    return render(
        request,
        "home.html",
        {
            "counts": services.records.counts(),
            "schemes": scheme_summaries(services.store, services.queries),
        },
    )


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """200 when the store answers a query, 503 when it does not (for load balancers and monitors)."""
    services = request.app.state.services
    try:
        services.store.ask("ASK {}")
    except Exception as exc:  # noqa: BLE001 - any store failure means unhealthy
        return JSONResponse({"status": "unavailable", "store": str(exc)}, status_code=503)
    return JSONResponse({"status": "ok"})
