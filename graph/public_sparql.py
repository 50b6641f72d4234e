"""Running researchers' SPARQL queries safely against the store server.

The query runs in the store server (never in this process), which cancels it at the time limit —
CPU included — but then answers 200 with a truncated body. So results are fetched in a format whose
truncation is detectable (SPARQL JSON, N-Triples), parsed lazily by pyoxigraph, capped at the row
limit, and only then converted to the format the client asked for. A query that ran out of time
becomes a clear error instead of a silently short answer.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from graph.iris import Iris
from graph.media import parse_accept
from graph.serialize import serialize as serialize_graph
from graph.sparql_guard import QueryInfo
from graph.store_server import PUBLIC_QUERY_SOURCE, StoreServerThreads

#: Result formats by short name (the `format` parameter) -> (media type, pyoxigraph format).
RESULT_FORMATS: dict[str, tuple[str, ox.QueryResultsFormat]] = {
    "json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    "xml": ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    "csv": ("text/csv", ox.QueryResultsFormat.CSV),
    "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
}
GRAPH_FORMATS: dict[str, str] = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
#: Answers smaller than this are converted on the event loop; larger ones in a thread.
INLINE_BYTES = 64 * 1024
RESULT_ALIASES = {"application/json": "json", "application/xml": "xml", "text/xml": "xml"}
GRAPH_ALIASES = {
    "application/x-turtle": "turtle",
    "text/plain": "ntriples",
    "application/xml": "rdfxml",
    "application/json": "jsonld",
}


class PublicQueryError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a Retry-After header


@dataclass
class QueryOutcome:
    body: bytes
    media_type: str
    count: int  # rows or triples returned
    truncated: bool  # True when the row limit cut the results


def choose_format(info: QueryInfo, accept: str | None, format_param: str | None) -> str:
    """The short name of the result format: `format=` wins, then Accept (q-values), then the default."""
    names = GRAPH_FORMATS if info.returns_graph else RESULT_FORMATS
    if format_param:
        if format_param in names:
            return format_param
        raise PublicQueryError(400, f"unknown format {format_param!r} for this query; use one of {', '.join(names)}")
    default = "turtle" if info.returns_graph else "json"
    by_media = {media_type_of(info, name): name for name in names}
    by_media.update(GRAPH_ALIASES if info.returns_graph else RESULT_ALIASES)
    wildcards = ("*/*", "application/*", "text/*")
    candidates = [
        (q, -position, by_media.get(media) or default)
        for media, q, position in parse_accept(accept or "*/*")
        if q > 0 and (media in by_media or media in wildcards)
    ]
    if not candidates:
        available = ", ".join(media_type_of(info, name) for name in names)
        raise PublicQueryError(406, f"cannot answer this query as {accept}; available: {available}")
    return max(candidates)[2]


def media_type_of(info: QueryInfo, name: str) -> str:
    return GRAPH_FORMATS[name] if info.returns_graph else RESULT_FORMATS[name][0]


def _term_json(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    data = {"type": "literal", "value": term.value}
    if term.language:
        data["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        data["datatype"] = term.datatype.value
    return data


def _solutions_json(variables: Sequence[str], rows: Sequence[ox.QuerySolution]) -> bytes:
    bindings = [{v: _term_json(row[v]) for v in variables if row[v] is not None} for row in rows]
    return json.dumps({"head": {"vars": list(variables)}, "results": {"bindings": bindings}}).encode()


class PublicSparql:
    """The gate between the public and the store server: guard, limits, formats."""

    def __init__(
        self,
        endpoint: str,
        iris: Iris,
        *,
        timeout: float,
        limit: int,
        concurrency: int,
        auth: tuple[str, str] | None = None,
        store_threads: StoreServerThreads | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.store_threads = store_threads
        self.iris = iris
        self.timeout = timeout
        self.limit = limit
        self._slots = asyncio.Semaphore(concurrency)
        # One client per process: its connections to the store are kept alive between queries.
        connections = max(concurrency, 1) * 2
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        # To a store server on this machine, connect from PUBLIC_QUERY_SOURCE: the managed server's threads
        # serving these connections then run at a lower priority than the pages' (graph.store_server).
        local = urllib.parse.urlsplit(endpoint).hostname == "127.0.0.1" and sys.platform == "linux"
        transport = httpx.AsyncHTTPTransport(limits=limits, local_address=PUBLIC_QUERY_SOURCE if local else None)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout + 5, connect=5), auth=auth, transport=transport)

    async def close(self) -> None:
        await self._http.aclose()

    async def run(
        self,
        query: str,
        info: QueryInfo,
        fmt: str,
        default_graphs: Sequence[str],
        named_graphs: Sequence[str],
        *,
        context_url: str,
    ) -> QueryOutcome:
        upstream_accept = "application/n-triples" if info.returns_graph else "application/sparql-results+json"
        data = [("query", query)] + [("default-graph-uri", g) for g in default_graphs]
        data += [("named-graph-uri", g) for g in named_graphs]
        if self.store_threads is not None and self.store_threads.over_budget():
            # Every query costs the store server a thread for the whole time limit: past the budget, the
            # public waits a moment rather than the server running out of threads under the pages' queries.
            raise PublicQueryError(
                503, "The query service has too many queries in flight right now; try again in a second.", 1
            )
        try:
            if self._slots.locked():  # wait_for costs a task per call: only when there is something to wait for
                await asyncio.wait_for(self._slots.acquire(), timeout=self.timeout)
            else:
                await self._slots.acquire()
        except TimeoutError:
            raise PublicQueryError(
                503, "The query service is busy with other long queries; try again shortly."
            ) from None
        try:
            started = time.monotonic()
            try:
                response = await self._http.post(
                    self.endpoint,
                    content=urllib.parse.urlencode(data).encode(),
                    headers={"Accept": upstream_accept, "Content-Type": "application/x-www-form-urlencoded"},
                )
            except httpx.TimeoutException:
                raise self._timed_out() from None
            except httpx.HTTPError as exc:
                raise PublicQueryError(503, f"The store is not reachable: {exc}") from exc
            elapsed = time.monotonic() - started
        finally:
            self._slots.release()
        if response.status_code == 400:
            raise PublicQueryError(400, response.text.strip() or "The query is not valid SPARQL.")
        if response.status_code >= 300:
            raise PublicQueryError(502, f"The store answered {response.status_code}: {response.text[:300]}")
        # The server stops a query at the limit and sends what it had: a body that arrives at (or
        # after) the limit is not to be trusted, even when it happens to parse.
        if elapsed >= self.timeout * 0.98:
            raise self._timed_out()
        if len(response.content) < INLINE_BYTES:  # a thread hop costs more than converting a small answer
            return self._convert(response.content, info, fmt, context_url)
        return await asyncio.to_thread(self._convert, response.content, info, fmt, context_url)

    def _timed_out(self) -> PublicQueryError:
        return PublicQueryError(
            503,
            f"The query was stopped after the time limit of {self.timeout:g} seconds. "
            "Make it more selective (add LIMIT, restrict patterns) or run it on a dump.",
        )

    def _convert(self, body: bytes, info: QueryInfo, fmt: str, context_url: str) -> QueryOutcome:
        if info.returns_graph:
            return self._convert_graph(body, fmt, context_url)
        if fmt == "json":
            return self._pass_json(body)
        result = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        media_type, target = RESULT_FORMATS[fmt]
        if isinstance(result, ox.QueryBoolean):
            out = io.BytesIO()
            result.serialize(out, target)
            return QueryOutcome(out.getvalue(), media_type, 1, False)
        variables = [v.value for v in result.variables]
        rows: list[ox.QuerySolution] = []
        try:
            for row in result:
                rows.append(row)
                if len(rows) > self.limit:
                    break
        except SyntaxError:
            raise self._timed_out() from None
        truncated = len(rows) > self.limit
        source = _solutions_json(variables, rows[: self.limit]) if truncated else body
        out = io.BytesIO()
        ox.parse_query_results(source, format=ox.QueryResultsFormat.JSON).serialize(out, target)  # type: ignore[union-attr]
        return QueryOutcome(out.getvalue(), media_type, min(len(rows), self.limit), truncated)

    def _pass_json(self, body: bytes) -> QueryOutcome:
        """SPARQL JSON asked for and received: the store's bytes go out as they are, unless the row limit
        cuts them. The C JSON parser checks that the body is whole (a query stopped at the time limit
        leaves it cut off) and counts the rows, several times faster than parsing the terms and writing
        them again."""
        media_type = RESULT_FORMATS["json"][0]
        try:
            data = json.loads(body)
            if "boolean" in data:
                return QueryOutcome(body, media_type, 1, False)
            bindings = data["results"]["bindings"]
        except (ValueError, KeyError, TypeError):
            raise self._timed_out() from None
        if len(bindings) <= self.limit:
            return QueryOutcome(body, media_type, len(bindings), False)
        data["results"]["bindings"] = bindings[: self.limit]
        return QueryOutcome(json.dumps(data, ensure_ascii=False).encode(), media_type, self.limit, True)

    def _convert_graph(self, body: bytes, fmt: str, context_url: str) -> QueryOutcome:
        triples: list[ox.Triple] = []
        try:
            for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
                triples.append(quad.triple)
                if len(triples) > self.limit:
                    break
        except SyntaxError:
            raise self._timed_out() from None
        truncated = len(triples) > self.limit
        triples = triples[: self.limit]
        return QueryOutcome(
            serialize_graph(triples, fmt, self.iris, context_url=context_url),
            GRAPH_FORMATS[fmt],
            len(triples),
            truncated,
        )
