"""Dataset-wide statistics: `/statistics` (growth, coverage by factor and industry, gaps; SVG charts with
tables) and its data twin `/statistics.json` (graph/impact.py)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.negotiation import Representation
from api.templating import render
from graph.impact import statistics, statistics_data

router = APIRouter()

JSON = Representation("json", "application/json", ".json")


@router.get("/statistics")
def statistics_page(request: Request) -> Response:
    stats = statistics(request.app.state.services)
    return render(
        request,
        "statistics.html",
        {"stats": stats, "alternates": [(JSON, "/statistics.json")]},
    )


@router.get("/statistics.json")
def statistics_json(request: Request) -> JSONResponse:
    stats = statistics(request.app.state.services)
    site_url = str(request.base_url).rstrip("/")
    return JSONResponse(statistics_data(stats, site_url), headers={"Access-Control-Allow-Origin": "*"})
