"""Search: `/search` (the page), `/api/search` (the same as JSON) and `/api/suggest` (autocomplete).

At start the search index is checked against the ledger and rebuilt if it is missing or out of step.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.i18n import LANGUAGES, request_language
from api.negotiation import Representation
from api.templating import render
from graph.search.page import SearchParameterError, search_page, suggestions
from graph.search.query import MAX_QUERY_LENGTH

log = logging.getLogger(__name__)


@asynccontextmanager
async def _check_index(app: FastAPI) -> AsyncIterator[None]:
    try:
        await run_in_threadpool(app.state.services.search.startup_check)
    except Exception:  # noqa: BLE001 - the site must start even so; the first search tries again
        log.exception("the search index could not be checked at start")
    yield


router = APIRouter(lifespan=_check_index)

JSON = Representation("json", "application/json", ".json")
CORS = {"Access-Control-Allow-Origin": "*"}


def _params(request: Request) -> dict[str, list[str]]:
    return {key: request.query_params.getlist(key) for key in request.query_params}


def _api_language(request: Request) -> str:
    asked = request.query_params.get("lang", "da")
    return asked if asked in LANGUAGES else "da"


@router.get("/search")
def search(request: Request) -> Response:
    lang = request_language(request)
    try:
        page = search_page(request.app.state.services.search, _params(request), lang)
    except SearchParameterError as error:
        return render(
            request,
            "bad_request.html",
            {"message": error.messages, "param": error.param, "value": error.value, "back": "/search"},
            status_code=400,
        )
    result = page.result
    url = str(request.url)
    return render(
        request,
        "search.html",
        {
            "page": page,
            "result": result,
            "query": page.query,
            "alternates": [(JSON, page.data_href)],
            "schema_org": {
                "@context": "https://schema.org",
                "@type": "SearchResultsPage",
                "url": url,
                "name": ("Søgeresultater" if lang == "da" else "Search results")
                + (f": {page.query}" if page.query else ""),
                "inLanguage": lang,
                "mainEntity": {
                    "@type": "ItemList",
                    "numberOfItems": result.total,
                    "itemListElement": [
                        {"@type": "ListItem", "position": result.first + i, "url": hit.iri, "name": hit.title(lang)}
                        for i, hit in enumerate(result.hits)
                    ],
                },
            },
        },
    )


@router.get("/api/search")
def search_api(request: Request) -> JSONResponse:
    lang = _api_language(request)
    try:
        page = search_page(request.app.state.services.search, _params(request), lang)
    except SearchParameterError as error:
        return JSONResponse(
            {"error": error.messages.get(lang, error.messages["en"]), "parameter": error.param, "value": error.value},
            status_code=400,
            headers=CORS,
        )
    return JSONResponse(page.as_json(lang), headers=CORS)


@router.get(
    "/api/suggest",
    summary="Autocomplete: concepts (with their hierarchy path) and record titles starting with q",
    openapi_extra={
        "parameters": [
            {"name": "q", "in": "query", "schema": {"type": "string"}, "example": "støj"},
            {"name": "lang", "in": "query", "schema": {"type": "string", "enum": ["da", "en"]}},
            {
                "name": "scheme",
                "in": "query",
                "description": "Only concepts of this scheme (slug; repeat for several): what a concept picker asks",
                "schema": {"type": "array", "items": {"type": "string"}},
                "example": ["factors"],
            },
        ],
        "responses": {
            "200": {
                "description": "Suggestions, best first",
                "content": {
                    "application/json": {
                        "example": {
                            "query": "impuls",
                            "suggestions": [
                                {
                                    "type": "concept",
                                    "label": "impulsstøj",
                                    "iri": "https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1.3",
                                    "url": "/vocab/factors/5.1.3",
                                    "scheme": "factors",
                                    "matched": "impulsstøj",
                                    "notation": "5.1.3",
                                    "path": ["fysisk arbejdsmiljø", "støj", "impulsstøj"],
                                }
                            ],
                        }
                    }
                },
            },
            "400": {"description": "Unknown scheme"},
        },
    },
)
def suggest_api(request: Request) -> JSONResponse:
    lang = _api_language(request)
    text = request.query_params.get("q", "")[:MAX_QUERY_LENGTH]
    schemes = request.query_params.getlist("scheme")[:10]
    try:
        found = suggestions(request.app.state.services.search, text, lang, schemes=schemes)
    except SearchParameterError as error:
        return JSONResponse(
            {"error": error.messages.get(lang, error.messages["en"]), "parameter": error.param, "value": error.value},
            status_code=400,
            headers=CORS,
        )
    return JSONResponse({"query": text, "suggestions": found}, headers={**CORS, "Cache-Control": "max-age=60"})
