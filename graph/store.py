"""The one `Store` interface and its two implementations.

- `EmbeddedStore`: pyoxigraph on disk under AMV_DATA_DIR. Used for offline work (`amv init`,
  `amv load` on a stopped store, tests) and for fast bulk loading.
- `RemoteStore`: any SPARQL 1.1 Query + Update server (Oxigraph server,
  Fuseki, Virtuoso, GraphDB, Neptune). `amv serve` runs the embedded data directory as a managed
  Oxigraph server on loopback and talks to it through this class, so the remote code path is the
  one the running service always uses (see `graph.store_server`).

Everything above this module sees only `Store`. Queries see the union of all named graphs as their
default graph (embedded: `use_default_graph_as_union`; remote: the server must be configured so —
the managed server is started with `--union-default-graph`, Fuseki with `unionDefaultGraph`).
"""

from __future__ import annotations

import json
import os
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx
import pyoxigraph as ox
from pyoxigraph import DefaultGraph, Literal, NamedNode, Quad, QueryBoolean, QuerySolutions, Triple

from graph.config import Settings

Term = NamedNode | ox.BlankNode | Literal
Row = dict[str, Term]

SPARQL_RESULTS_JSON = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
N_QUADS = "application/n-quads"
#: From this many quads of new graphs on, `EmbeddedStore.replace_graphs` uses the bulk loader.
BULK_QUADS = 10_000


class StoreError(Exception):
    """The store could not do what was asked (unreachable, locked, failed)."""


class QueryError(StoreError):
    """A query or update was refused by the engine (syntax or evaluation error)."""


class Store(ABC):
    """An RDF dataset of named graphs that answers SPARQL."""

    @abstractmethod
    def select(self, query: str) -> list[Row]:
        """Run a SELECT query; each row maps variable names to the terms bound (unbound left out)."""

    @abstractmethod
    def ask(self, query: str) -> bool: ...

    @abstractmethod
    def construct(self, query: str) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE query."""

    @abstractmethod
    def update(self, update: str, *, using_graphs: Sequence[str] = (), using_named_graphs: Sequence[str] = ()) -> None:
        """Run a SPARQL Update as one transaction: all of it is applied or none.

        `using_graphs` / `using_named_graphs` are the protocol's `using-graph-uri` and
        `using-named-graph-uri`: the dataset the WHERE clauses see (like USING / USING NAMED)."""

    @abstractmethod
    def named_graphs(self) -> list[NamedNode]: ...

    @abstractmethod
    def default_graph_triples(self) -> list[Triple]:
        """The triples of the store's own default graph (not the union that queries see)."""

    def replace_graph(self, graph: NamedNode, triples: Iterable[Triple]) -> None:
        """Make `graph` hold exactly `triples`, in one transaction (readers see old or new, never half)."""
        self.update(f"DROP SILENT GRAPH {graph} ;\n" + insert_data({graph: triples}))

    def replace_graphs(
        self, graphs: Mapping[NamedNode, Iterable[Triple]], *, replaced: Collection[NamedNode] | None = None
    ) -> None:
        """Make each graph hold exactly its triples, all in ONE transaction (bulk import): all of it or none.

        `replaced` names the graphs that may hold triples now (None: any may), so that a batch of new
        records does not pay for dropping thousands of graphs that do not exist."""
        drops = graphs if replaced is None else [g for g in graphs if g in replaced]
        self.update("".join(f"DROP SILENT GRAPH {g} ;\n" for g in drops) + insert_data(graphs))

    @abstractmethod
    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        """Every quad of the dataset, or of one named graph."""

    def dump_nquads(self, output: IO[bytes]) -> None:
        """Write the whole dataset (default graph and every named graph) as N-Quads, one graph at a time
        so that memory stays bounded whatever the size."""
        ox.serialize(
            (Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in self.default_graph_triples()),
            output,
            format=ox.RdfFormat.N_QUADS,
        )
        for graph in self.named_graphs():
            ox.serialize(self.quads(graph), output, format=ox.RdfFormat.N_QUADS)

    @property
    def query_endpoint(self) -> str | None:
        """The SPARQL protocol endpoint researchers' queries are sent to, or None when there is none:
        the embedded store cannot stop a query, so it never runs one from the public."""
        return None

    def graph_triples(self, graph: NamedNode) -> list[Triple]:
        return [q.triple for q in self.quads(graph)]

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rows(solutions: QuerySolutions) -> list[Row]:
    names = [v.value for v in solutions.variables]
    rows: list[Row] = []
    for solution in solutions:
        row: Row = {}
        for name in names:
            term = solution[name]
            if term is not None:
                row[name] = term
        rows.append(row)
    return rows


def insert_data(graphs: Mapping[NamedNode, Iterable[Triple]], *, operation: str = "INSERT DATA") -> str:
    """An `INSERT DATA` (or `DELETE DATA`) operation for the given graphs, terms escaped by pyoxigraph."""
    parts = []
    for graph, triples in graphs.items():
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        parts.append(f"GRAPH {graph} {{\n{body}}}")
    return operation + " {\n" + "\n".join(parts) + "\n}"


def delete_data(graphs: Mapping[NamedNode, Iterable[Triple]]) -> str:
    """A `DELETE DATA` operation for the given graphs (no blank nodes allowed, as SPARQL says)."""
    return insert_data(graphs, operation="DELETE DATA")


class EmbeddedStore(Store):
    """pyoxigraph's RocksDB store in a directory. One process at a time may open it read-write."""

    def __init__(self, path: Path | None) -> None:
        """A store on disk at `path`, or in memory with None (scratch datasets, e.g. validation context)."""
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        try:
            self._store = ox.Store(str(path) if path is not None else None)
        except OSError as exc:
            raise StoreError(
                f"cannot open the store at {path}: {exc}. Is `amv serve` running on this data directory? "
                "Stop it, or let the command use the running server."
            ) from exc
        self.path = path

    def _query(self, query: str) -> object:
        try:
            return self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(str(exc)) from exc
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    def select(self, query: str) -> list[Row]:
        result = self._query(query)
        if not isinstance(result, QuerySolutions):
            raise QueryError("not a SELECT query")
        return _rows(result)

    def ask(self, query: str) -> bool:
        result = self._query(query)
        if not isinstance(result, QueryBoolean):
            raise QueryError("not an ASK query")
        return bool(result)

    def construct(self, query: str) -> list[Triple]:
        result = self._query(query)
        if isinstance(result, QuerySolutions | QueryBoolean):
            raise QueryError("not a CONSTRUCT or DESCRIBE query")
        return list(result)  # type: ignore[call-overload]

    def update(self, update: str, *, using_graphs: Sequence[str] = (), using_named_graphs: Sequence[str] = ()) -> None:
        if using_graphs or using_named_graphs:
            raise QueryError(
                "using-graph-uri / using-named-graph-uri need the store server (`amv serve` or AMV_STORE_URL); "
                "write USING / USING NAMED in the update instead"
            )
        try:
            self._store.update(update)
        except SyntaxError as exc:
            raise QueryError(str(exc)) from exc
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    def named_graphs(self) -> list[NamedNode]:
        return [g for g in self._store.named_graphs() if isinstance(g, NamedNode)]

    def default_graph_triples(self) -> list[Triple]:
        return [q.triple for q in self._store.quads_for_pattern(None, None, None, DefaultGraph())]

    def replace_graphs(
        self, graphs: Mapping[NamedNode, Iterable[Triple]], *, replaced: Collection[NamedNode] | None = None
    ) -> None:
        """As `Store.replace_graphs`; new graphs only go through pyoxigraph's transactional `extend`,
        which skips serialising and parsing them as one INSERT DATA."""
        existing = {g for g in graphs if self._store.contains_named_graph(g)}  # exact, and cheap: one look-up each
        if existing:
            super().replace_graphs(graphs, replaced=existing)
            return
        quads = [Quad(t.subject, t.predicate, t.object, g) for g, triples in graphs.items() for t in triples]
        try:
            # A large batch of new graphs (an import) goes in through the bulk loader, about 3x faster. It is not
            # one transaction, but nothing partial survives: Records._commit notes the undo (drop the new
            # graphs) before writing and runs it on failure or at the next start after a crash.
            if len(quads) >= BULK_QUADS:
                self._store.bulk_extend(quads)
            else:
                self._store.extend(quads)
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    def bulk_load_file(self, path: Path, format: ox.RdfFormat) -> None:
        """Raw bulk load of a quad file (used by benchmarks and `amv restore`)."""
        self._store.bulk_load(path=str(path), format=format)

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is None:
            return (q for q in self._store if not isinstance(q.graph_name, DefaultGraph))
        return iter(self._store.quads_for_pattern(None, None, None, graph))

    def backup(self, target: Path) -> None:
        self._store.backup(str(target))

    def add_quads(self, quads: Iterable[Quad]) -> None:
        """Add quads in one transaction (loading into an empty store)."""
        try:
            self._store.extend(quads)
        except OSError as exc:
            raise StoreError(str(exc)) from exc

    def dump_nquads(self, output: IO[bytes]) -> None:
        self._store.dump(output, format=ox.RdfFormat.N_QUADS)  # one read snapshot, serialised in Rust

    def __len__(self) -> int:
        return len(self._store)

    def close(self) -> None:
        # pyoxigraph releases the RocksDB lock when the object is dropped.
        self._store.flush()
        del self._store


class RemoteStore(Store):
    """A SPARQL 1.1 server reached over HTTP (Query and Update protocols)."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        *,
        graph_store_url: str | None = None,
        timeout: float = 60.0,
        auth: tuple[str, str] | None = None,
    ) -> None:
        """`auth`: (user, password) sent as HTTP basic authentication with every request (Fuseki, GraphDB
        and Virtuoso protect their update endpoints so)."""
        base = query_url.rstrip("/")
        # Given an Oxigraph-style server root, derive its endpoints; a full query URL is used as is.
        if base.endswith(("/query", "/sparql")):
            self.query_url = base
            root = base.rsplit("/", 1)[0]
        else:
            self.query_url = base + "/query"
            root = base
        self.update_url = update_url or root + "/update"
        # SPARQL 1.1 Graph Store Protocol endpoint (Oxigraph's layout); used only to read the
        # store's own default graph, which queries over the union default graph cannot isolate.
        self.graph_store_url = graph_store_url or root + "/store"
        self.auth = auth
        self._http = httpx.Client(timeout=timeout, auth=auth)

    @property
    def query_endpoint(self) -> str | None:
        return self.query_url

    def _post(self, url: str, data: Mapping[str, str | list[str]], accept: str) -> httpx.Response:
        try:
            response = self._http.post(url, data=data, headers={"Accept": accept})
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # A kept-alive connection the server closed as it was reused ("disconnected without sending a
            # response"). A query only reads, so it is sent once more on a new connection, as urllib3 does
            # for idempotent requests; an update is not, since the server may have applied it.
            if url != self.query_url:
                raise StoreError(f"store at {url} dropped the connection: {exc}") from exc
            try:
                response = self._http.post(url, data=data, headers={"Accept": accept})
            except httpx.HTTPError as again:
                raise StoreError(f"store at {url} unreachable: {again}") from again
        except httpx.HTTPError as exc:
            raise StoreError(f"store at {url} unreachable: {exc}") from exc
        if response.status_code == 400:
            raise QueryError(response.text.strip())
        if response.status_code >= 300:
            raise StoreError(f"store at {url} answered {response.status_code}: {response.text[:500]}")
        return response

    def select(self, query: str) -> list[Row]:
        response = self._post(self.query_url, {"query": query}, SPARQL_RESULTS_JSON)
        result = ox.parse_query_results(response.content, format=ox.QueryResultsFormat.JSON)
        if not isinstance(result, QuerySolutions):
            raise QueryError("not a SELECT query")
        return _rows(result)

    def ask(self, query: str) -> bool:
        response = self._post(self.query_url, {"query": query}, SPARQL_RESULTS_JSON)
        try:
            data = json.loads(response.content)
            if "boolean" in data:
                return bool(data["boolean"])
            # Virtuoso 7 answers ASK in JSON as a SELECT of one variable, __ASK_RETVAL: a row when true.
            if data["head"]["vars"] == ["__ASK_RETVAL"]:
                rows = data["results"]["bindings"]
                return bool(rows) and rows[0]["__ASK_RETVAL"]["value"] not in ("0", "false")
            raise KeyError("boolean")
        except (KeyError, ValueError, TypeError, IndexError) as exc:
            raise QueryError("not an ASK query") from exc

    def construct(self, query: str) -> list[Triple]:
        response = self._post(self.query_url, {"query": query}, N_TRIPLES)
        return [q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]

    def update(self, update: str, *, using_graphs: Sequence[str] = (), using_named_graphs: Sequence[str] = ()) -> None:
        data: dict[str, str | list[str]] = {"update": update}
        if using_graphs:
            data["using-graph-uri"] = list(using_graphs)
        if using_named_graphs:
            data["using-named-graph-uri"] = list(using_named_graphs)
        self._post(self.update_url, data, "*/*")

    def default_graph_triples(self) -> list[Triple]:
        try:
            response = self._http.get(self.graph_store_url + "?default", headers={"Accept": N_TRIPLES})
        except httpx.HTTPError as exc:
            raise StoreError(f"store at {self.graph_store_url} unreachable: {exc}") from exc
        if response.status_code >= 300:
            raise StoreError(f"store at {self.graph_store_url} answered {response.status_code}: {response.text[:500]}")
        return [q.triple for q in ox.parse(response.content, format=ox.RdfFormat.N_TRIPLES)]

    def dump_nquads(self, output: IO[bytes]) -> None:
        """The Oxigraph server hands out the whole dataset from one read snapshot (GET /store); other
        servers are read graph by graph."""
        try:
            with self._http.stream("GET", self.graph_store_url, headers={"Accept": N_QUADS}, timeout=None) as response:
                if response.status_code == 200 and response.headers.get("content-type", "").startswith(N_QUADS):
                    for chunk in response.iter_bytes():
                        output.write(chunk)
                    return
        except httpx.HTTPError as exc:
            raise StoreError(f"store at {self.graph_store_url} unreachable: {exc}") from exc
        super().dump_nquads(output)

    def named_graphs(self) -> list[NamedNode]:
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g {} }")
        return [r["g"] for r in rows if isinstance(r.get("g"), NamedNode)]  # type: ignore[misc]

    def quads(self, graph: NamedNode | None = None) -> Iterator[Quad]:
        if graph is not None:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}"
            return (Quad(t.subject, t.predicate, t.object, graph) for t in self.construct(query))
        # Graph by graph: one SELECT over a million records would hit the server's time limit.
        return (quad for name in self.named_graphs() for quad in self.quads(name))

    def close(self) -> None:
        self._http.close()


def running_server_url(settings: Settings) -> str | None:
    """The URL of the managed store server of `amv serve` on this data directory, if it runs."""
    try:
        info = json.loads(settings.server_file.read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError):
        return None
    url = str(info["url"])
    try:
        httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=2.0).raise_for_status()
    except httpx.HTTPError:
        return None
    return url


def open_store(settings: Settings, *, embedded_only: bool = False) -> Store:
    """The store this deployment is configured for.

    AMV_STORE_URL wins; otherwise, if `amv serve` is running on the data directory, its managed
    server (the embedded files are locked by it); otherwise the embedded store itself.
    """
    if not embedded_only:
        if settings.store_url:
            return RemoteStore(
                settings.store_url,
                settings.store_update_url,
                graph_store_url=settings.store_gsp_url,
                auth=settings.store_auth,
            )
        if url := running_server_url(settings):
            return RemoteStore(url)
    return EmbeddedStore(settings.store_dir)


def write_quads(quads: Iterable[Quad], output: IO[bytes], format: ox.RdfFormat) -> None:
    """Serialise quads; for a triple format the graph names are dropped (the union is written)."""
    if format in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        ox.serialize(quads, output, format=format)
    else:
        ox.serialize((q.triple for q in quads), output, format=format)
