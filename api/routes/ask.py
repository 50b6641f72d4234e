"""The ask box: `/ask` (the page, a plain GET form that works without JavaScript) and `/api/ask` (JSON).

A question in Danish or English is answered only from our own knowledge, with numbered citations to the
records used (graph/ask.py); the language model, when one is configured, runs in a worker thread so a
slow one holds up no other request.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from api.errors import json_error
from api.i18n import LANGUAGES, request_language
from api.negotiation import Representation
from api.templating import render
from graph.ask import MAX_QUESTION_LENGTH, Answer, Asker, AskError

router = APIRouter()

JSON = Representation("json", "application/json", ".json")
CORS = {"Access-Control-Allow-Origin": "*"}


def _asker(request: Request) -> Asker:
    """One per app: it keeps the embedding model (if any) loaded and its sentence vectors cached."""
    state = request.app.state
    asker: Asker | None = getattr(state, "asker", None)
    if asker is None:
        services = state.services
        asker = state.asker = Asker.from_settings(services.search, services.settings)
    return asker


def _path(request: Request, iri: str) -> str:
    base = request.app.state.services.iris.base
    return "/" + iri[len(base) :] if iri.startswith(base) else iri


def answer_json(request: Request, answer: Answer) -> dict[str, Any]:
    lang = answer.lang

    def related(r: Any) -> dict[str, Any]:
        out = {"iri": r.iri, "type": r.kind, "label": r.label(lang), "url": _path(request, r.iri)}
        if r.kind == "concept":
            out["search"] = "/search?" + urlencode({"q": r.label(lang)})
        return out

    return {
        "question": answer.question,
        "lang": lang,
        "mode": answer.mode,
        "answer": answer.text,
        "parts": [{"text": p.text, "citations": p.citations} for p in answer.parts],
        "sources": [
            {
                "n": s.n,
                "iri": s.iri,
                "type": s.kind,
                "title": s.title(lang),
                "url": _path(request, s.iri),
                "passages": s.passages,
                "cited": s.cited,
            }
            for s in answer.sources
        ],
        "concepts": [related(c) for c in answer.concepts],
        "problems": [related(p) for p in answer.problems],
        "solutions": [related(s) for s in answer.solutions],
        "notice": answer.notice or None,
        "invalidCitations": answer.invalid_citations,
        "semantic": answer.semantic,
        "links": {
            "html": "/ask?" + urlencode({"q": answer.question, "lang": lang}),
            "search": "/search?" + urlencode({"q": answer.search_query or answer.question}),
        },
    }


@router.get("/ask")
async def ask_page(request: Request) -> Response:
    lang = request_language(request)
    question = request.query_params.get("q", "")
    if not question.strip():
        return render(request, "ask.html", {"question": "", "answer": None, "error": None})
    try:
        answer = await run_in_threadpool(_asker(request).ask, question, lang)
    except AskError as error:
        return render(
            request, "ask.html", {"question": question[:MAX_QUESTION_LENGTH], "answer": None, "error": error}, 400
        )
    return render(
        request,
        "ask.html",
        {
            "question": question,
            "answer": answer,
            "error": None,
            "path": lambda iri: _path(request, iri),
            "search_href": "/search?" + urlencode({"q": answer.search_query or question}),
            "alternates": [(JSON, "/api/ask?" + urlencode({"q": question, "lang": lang}))],
        },
    )


@router.get(
    "/api/ask",
    summary="Ask a question; get a short answer from our knowledge, with numbered citations",
    response_description=(
        "`mode` is `extractive` (our own sentences), `generated` (a language model's answer from the cited "
        "sources only), `refused` (the model found no answer in the sources) or `nothing` (we have nothing "
        "relevant). `answer` is plain text with citation marks `[n]`; each `n` is a `sources[].n`. `parts` are "
        "its paragraphs with the numbers they cite. `concepts`, `problems` and `solutions` are what the "
        "question touched. `notice` says why a language model's answer is not shown (`llm_unavailable`, "
        "`llm_ungrounded`); `invalidCitations` are numbers the model cited that are no source (removed)."
    ),
    responses={
        400: {
            "description": "No question, a question over 300 characters, or an unknown language",
            "content": {"application/json": {"example": {"error": "Write a question."}}},
        }
    },
)
async def ask_api(
    request: Request,
    q: str = Query("", description="The question, in Danish or English (at most 300 characters)"),
    lang: str = Query("da", description="The language of the answer and labels: `da` or `en`"),
) -> JSONResponse:
    if lang not in LANGUAGES:
        return json_error(400, "lang must be da or en.", headers=CORS)
    try:
        answer = await run_in_threadpool(_asker(request).ask, q, lang)
    except AskError as error:
        return json_error(400, error.messages[lang], headers=CORS)
    return JSONResponse(answer_json(request, answer), headers=CORS)
