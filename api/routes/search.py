"""Search: `/search?q=` finds concepts and records by their names."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from api.templating import render
from graph.views import MAX_QUERY_LENGTH, Site, search_page

router = APIRouter()


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, q: str = Query("", max_length=MAX_QUERY_LENGTH)) -> HTMLResponse:
    page = search_page(Site(request.app.state.services), q)
    return render(request, "search.html", {"page": page, "query": page.query})
