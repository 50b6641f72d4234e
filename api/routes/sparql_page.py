"""The SPARQL query page for people: the editor, the example gallery and results as a table."""

from __future__ import annotations

import urllib.parse

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from api.i18n import request_language
from api.templating import render
from graph.examples import load_examples, results_table, sparql_page
from graph.public_sparql import GRAPH_FORMATS, RESULT_FORMATS, QueryOutcome
from graph.sparql_guard import QueryInfo
from graph.views import Site


def _limits(request: Request) -> dict[str, object]:
    runner = getattr(request.app.state, "public_sparql", None)
    return {
        "timeout": runner.timeout if runner else None,
        "rows": runner.limit if runner else None,
        "available": runner is not None,
    }


def query_page(request: Request) -> Response:
    lang = request_language(request)
    slug = request.query_params.get("example")
    page = sparql_page(load_examples(), lang, request.query_params.get("query", ""), slug)
    return render(request, "sparql.html", {"page": page, "limits": _limits(request)})


def results_page(
    request: Request, query: str, info: QueryInfo, outcome: QueryOutcome, headers: dict[str, str]
) -> Response:
    lang = request_language(request)
    page = sparql_page(load_examples(), lang, query, None)
    site = Site(request.app.state.services)
    table = None
    boolean = None
    triples = None
    if info.returns_graph:
        triples = outcome.body.decode("utf-8")
    else:
        result = ox.parse_query_results(outcome.body, format=ox.QueryResultsFormat.JSON)
        if isinstance(result, ox.QueryBoolean):
            boolean = bool(result)
        else:
            variables = [v.value for v in result.variables]
            table = results_table(variables, list(result), site)
    formats = GRAPH_FORMATS if info.returns_graph else RESULT_FORMATS
    downloads = [(name, "/sparql?" + urllib.parse.urlencode({"query": query, "format": name})) for name in formats]
    response = render(
        request,
        "sparql.html",
        {
            "page": page,
            "limits": _limits(request),
            "table": table,
            "boolean": boolean,
            "graph_text": triples,
            "count": outcome.count,
            "truncated": outcome.truncated,
            "downloads": downloads,
        },
    )
    response.headers.update(headers)
    return response
