"""The coverage map (`/coverage`) and the filtered list of knowledge items (`/items`), each with its
JSON data twin (`/coverage.json`, `/items.json`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.i18n import request_language
from api.negotiation import Representation
from api.page_cache import recount_headers
from api.routes.feeds import items_page_feeds
from api.templating import render
from graph.coverage import (
    FILTERS,
    FilterError,
    ItemList,
    coverage_data,
    current_coverage,
    filter_concepts,
    item_list,
    item_list_data,
    items_path,
)
from graph.views import Site

router = APIRouter()

JSON = Representation("json", "application/json", ".json")


@router.get("/coverage")
def coverage_page(request: Request) -> Response:
    lang = request_language(request)
    counted = current_coverage(request.app.state.services)
    url = str(request.url_for("coverage_page"))
    response = render(
        request,
        "coverage.html",
        {
            "page": counted.value,
            "counted": counted,
            "items_path": items_path,
            "alternates": [(JSON, "/coverage.json")],
            "schema_org": {
                "@context": "https://schema.org",
                "@type": "WebPage",
                "@id": url,
                "url": url,
                "name": "Videnskort" if lang == "da" else "Coverage map",
                "inLanguage": lang,
                "mainEntity": {"@type": "Table", "about": "knowledge items per work-environment factor and industry"},
            },
        },
    )
    response.headers.update(recount_headers(counted))
    return response


@router.get("/coverage.json")
def coverage_json(request: Request) -> JSONResponse:
    counted = current_coverage(request.app.state.services)
    return JSONResponse(
        coverage_data(counted), headers={"Access-Control-Allow-Origin": "*", **recount_headers(counted)}
    )


class BadRequest(Exception):
    def __init__(self, param: str, value: str, messages: dict[str, str]) -> None:
        super().__init__(messages["en"])
        self.param, self.value, self.messages = param, value, messages


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise BadRequest(
            "page",
            raw,
            {
                "da": "Sidetallet skal være et helt tal fra 1 og op.",
                "en": "The page number must be a whole number from 1.",
            },
        )
    return int(raw)


def _items(request: Request) -> ItemList:
    """The item list the query parameters ask for; raises BadRequest or FilterError on bad input."""
    site = Site(request.app.state.services)
    page = _page_number(request)
    params = {spec.param: request.query_params.getlist(spec.param) for spec in FILTERS}
    return item_list(site, filter_concepts(site, params), page)


@router.get("/items")
def items_page(request: Request) -> Response:
    lang = request_language(request)
    try:
        items = _items(request)
    except (BadRequest, FilterError) as error:
        return render(
            request,
            "bad_request.html",
            {"message": error.messages, "param": error.param, "value": error.value, "back": "/items"},
            status_code=400,
        )
    context = {
        "page": items,
        "items_path": items_path,
        "alternates": [(JSON, items_path(items.query(items.page), ".json"))],
        "feeds": items_page_feeds(request, items),
        "prev_href": items_path(items.query(min(items.page - 1, items.pages))) if items.page > 1 else None,
        "next_href": items_path(items.query(items.page + 1)) if items.page < items.pages else None,
        "schema_org": {
            "@context": "https://schema.org",
            "@type": "CollectionPage",
            "name": "Vidensressourcer" if lang == "da" else "Knowledge items",
            "inLanguage": lang,
            "mainEntity": {
                "@type": "ItemList",
                "numberOfItems": items.total,
                "itemListElement": [
                    {"@type": "ListItem", "position": items.first + i, "url": e.ref.iri, "name": e.ref.label(lang)}
                    for i, e in enumerate(items.entries)
                ],
            },
        },
    }
    status = 404 if items.page > items.pages else 200
    return render(request, "items.html", context, status_code=status)


@router.get("/items.json")
def items_json(request: Request) -> JSONResponse:
    lang = request_language(request)
    try:
        items = _items(request)
    except (BadRequest, FilterError) as error:
        return JSONResponse(
            {"error": {"parameter": error.param, "value": error.value, "message": error.messages}}, status_code=400
        )
    data = item_list_data(items, lang)
    if items.page > 1:
        data["prev"] = items_path(items.query(min(items.page - 1, items.pages)), ".json")
    if items.page < items.pages:
        data["next"] = items_path(items.query(items.page + 1), ".json")
    status = 404 if items.page > items.pages else 200
    return JSONResponse(data, status_code=status, headers={"Access-Control-Allow-Origin": "*"})
