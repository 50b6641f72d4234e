"""Issue 4: requests/s of one simple query through `/sparql` vs `oxigraph serve` on a copy of the
same store, in the same run (the goal, pursued in the performance issue, is ≥ 0.5×)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import initialised_data_dir, live_server
from graph.store_server import free_port, oxigraph_binary

QUERY = (
    "SELECT ?label WHERE { <https://w3id.org/arbejdsmiljoviden/vocab/factors/5.1> "
    "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label }"
)
SECONDS = 5.0
CLIENTS = 4


def throughput(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[float, float]:
    """(requests/s, p99 ms) with CLIENTS concurrent keep-alive clients for SECONDS."""
    latencies: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def client() -> None:
        with httpx.Client(timeout=30) as http:
            while time.monotonic() < stop:
                start = time.perf_counter()
                response = http.get(url, params=params, headers=headers)
                assert response.status_code == 200, response.text
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return len(latencies) / SECONDS, latencies[int(len(latencies) * 0.99) - 1]


def run() -> tuple[float, float, float, float]:
    data_dir = initialised_data_dir()
    copy = Path(tempfile.mkdtemp(prefix="amv-bench-oxigraph-")) / "store"
    shutil.copytree(data_dir / "store", copy)
    port = free_port()
    reference = subprocess.Popen(
        [oxigraph_binary(), "serve", "--location", str(copy), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        oxigraph_url = f"http://127.0.0.1:{port}/query"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(oxigraph_url, params={"query": "ASK {}"}, timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        accept = {"Accept": "application/sparql-results+json"}
        with live_server(data_dir) as url:
            ours = throughput(url + "/sparql", {"query": QUERY}, accept)
            theirs = throughput(oxigraph_url, {"query": QUERY}, accept)
    finally:
        reference.terminate()
        reference.wait(timeout=30)
    return ours[0], ours[1], theirs[0], theirs[1]


def main() -> None:
    ours, ours_p99, theirs, theirs_p99 = run()
    print(f"\nSPARQL throughput, one simple SELECT, {CLIENTS} concurrent clients for {SECONDS:.0f} s each")
    print(f"{'endpoint':28} {'requests/s':>11} {'p99 ms':>8}")
    print(f"{'/sparql (Arbejdsmiljøviden)':28} {ours:11.0f} {ours_p99:8.1f}")
    print(f"{'oxigraph serve (same data)':28} {theirs:11.0f} {theirs_p99:8.1f}")
    print(f"ratio /sparql : oxigraph = {ours / theirs:.2f}x (goal in the performance issue: >= 0.5x)")


if __name__ == "__main__":
    main()
