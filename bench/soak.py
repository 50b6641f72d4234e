"""`make soak`: the service under load (issue 10, item 6).

Starts the real server (`amv serve`, one worker per core, its managed store server) on a fresh initialised
data directory and, for `--seconds` (60), drives it with `wrk` (Debian package `wrk`):

- one wrk cycles through page URLs (home, record pages, concept pages, lists, search page): its latency
  distribution is "page reads";
- a second wrk cycles through the search API, suggest and small SPARQL queries;
- both are paced to a stated rate (PAGE_RATE, API_RATE): a p99 means something only below saturation,
  where it is not just the length of wrk's own queue. `--saturate` drops the pacing to measure capacity;
- a thread writes all the while: a contributor submits a record and an editor approves it, again and again;
- a thread plays a researcher running a slow SPARQL query (a cartesian product the store server stops at
  AMV_QUERY_TIMEOUT; its 503 "time limit" answers are expected and not counted as failures).

It prints requests, errors (non-2xx/3xx answers and socket errors, per wrk and for the writes) and the p50/p99
of page reads, and exits 1 unless no request failed and the page p99 is under 250 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx

from bench.common import initialised_data_dir
from graph.accounts import Accounts, Role
from graph.store_server import free_port

P99_TARGET_MS = 250.0
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

# wrk's Lua: cycle through the URLs given in the environment, and print the summary as one JSON line.
LUA = r"""
local paths = {}
for path in string.gmatch(os.getenv("SOAK_PATHS"), "[^\n]+") do paths[#paths + 1] = path end
local counter = 0
-- Paced: each connection waits SOAK_DELAY_MS after an answer before it asks again (0: as fast as it can).
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
delay = function() return pause end
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1], {["Accept"] = "text/html"})
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f}\n',
    summary.requests, summary.duration / 1e6, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


@dataclass
class Writes:
    acknowledged: int = 0
    failures: list[str] = field(default_factory=list)


@dataclass
class Researcher:
    queries: int = 0
    stopped_at_limit: int = 0
    failures: list[str] = field(default_factory=list)


def page_paths(url: str) -> list[str]:
    """Pages a visitor reads: fixed ones and the record pages of the data (found through SPARQL)."""
    paths = ["/", "/items", "/events", "/actors", "/vocab", "/vocab/factors", "/vocab/factors/5.1", "/coverage"]
    paths += ["/search?q=" + quote("støj"), "/search?q=" + quote("tunge løft"), "/about", "/statistics"]
    found = httpx.get(
        url + "/sparql",
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?g a ?type } } LIMIT 40"},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    ).json()
    records = [row["g"]["value"] for row in found["results"]["bindings"]]
    return paths + ["/" + iri.split("/arbejdsmiljoviden/", 1)[1] for iri in records if "/id/" in iri]


def api_paths() -> list[str]:
    sparql = [
        "SELECT ?s ?title WHERE { ?s <http://purl.org/dc/terms/title> ?title } LIMIT 20",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/arbejdsmiljoviden/ontology#KnowledgeItem> }",
    ]
    paths = ["/api/search?q=" + quote("støj"), "/api/search?q=noise&lang=en", "/api/suggest?q=" + quote("stø")]
    return paths + ["/items.json"] + ["/sparql?query=" + quote(q) for q in sparql]


def run_wrk(
    url: str, paths: list[str], seconds: int, connections: int, rate: float, script: Path
) -> subprocess.Popen[str]:
    """wrk cycling through `paths` on `connections`, paced to at most `rate` requests/s (0: unpaced)."""
    pause = round(connections * 1000 / rate) if rate else 0
    env = {**os.environ, "SOAK_PATHS": "\n".join(paths), "SOAK_DELAY_MS": str(pause)}
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(script)]
    return subprocess.Popen([*command, url], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(process: subprocess.Popen[str]) -> dict[str, float]:
    output, _ = process.communicate()
    line = next((x for x in output.splitlines() if x.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{output}")
    result = json.loads(line)
    non_2xx = next((x for x in output.splitlines() if "Non-2xx or 3xx responses" in x), "")
    result["non_2xx_3xx"] = int(non_2xx.rsplit(":", 1)[1]) if non_2xx else 0
    return result


def writer(url: str, contributor: str, editor: str, stop: threading.Event, writes: Writes) -> None:
    with httpx.Client(base_url=url, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            item = {
                "type": "item",
                "title": {"da": f"Belastningsprøve {n}: støj i køkkenet", "en": f"Soak test {n}"},
                "description": {"da": "Skrevet under belastning."},
                "knowledgeType": "04",
                "factors": ["5.1"],
                "industries": ["56"],
                "issued": "2026-11-01",
                "languages": ["da"],
                "url": f"https://example.org/soak/{n}",
            }
            try:
                made = client.post("/api/submissions", json=item, headers={"Authorization": f"Bearer {contributor}"})
                if made.status_code != 201:
                    writes.failures.append(f"submit {made.status_code}: {made.text[:200]}")
                    continue
                done = client.post(
                    f"/api/submissions/{made.json()['id']}/approve", headers={"Authorization": f"Bearer {editor}"}
                )
                if done.status_code != 200:
                    writes.failures.append(f"approve {done.status_code}: {done.text[:200]}")
                    continue
                writes.acknowledged += 1
            except httpx.HTTPError as exc:
                writes.failures.append(f"{type(exc).__name__}: {exc}")
            stop.wait(0.25)


def researcher(url: str, stop: threading.Event, result: Researcher) -> None:
    with httpx.Client(base_url=url, timeout=60) as client:
        while not stop.is_set():
            try:
                answer = client.post("/sparql", data={"query": SLOW_QUERY}, headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                result.failures.append(f"{type(exc).__name__}: {exc}")
                continue
            result.queries += 1
            if answer.status_code == 503 and "time limit" in answer.text:
                result.stopped_at_limit += 1
            elif answer.status_code != 200:
                result.failures.append(f"{answer.status_code}: {answer.text[:200]}")


def slowest_pages(log_lines: list[str], pages: list[str]) -> list[tuple[str, float, float, int]]:
    """Per page path, the server's own time (the JSON access log of `amv serve`), slowest p99 first."""
    wanted = {p.split("?", 1)[0] for p in pages}
    times: dict[str, list[float]] = {}
    for line in log_lines:
        start = line.find('{"request_id"')
        if start < 0:
            continue
        try:
            entry = json.loads(line[start:])
        except ValueError:
            continue
        if entry.get("path") in wanted:
            times.setdefault(entry["path"], []).append(float(entry["ms"]))
    rows = []
    for path, samples in times.items():
        ordered = sorted(samples)
        rows.append(
            (path, ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], len(ordered))
        )
    return sorted(rows, key=lambda row: -row[2])


def start_server(data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir), "AMV_QUERY_TIMEOUT": os.environ.get("AMV_QUERY_TIMEOUT", "5")}
    env.pop("AMV_STORE_URL", None)
    command = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port), "--workers", str(workers)]
    log = open(data_dir / "serve.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"amv serve did not come up; see {data_dir / 'serve.log'}")
        time.sleep(0.2)


#: The offered load (requests/s at most): a busy hour of a national portal is far below it. `--saturate`
#: drops the pacing and measures what the machine can do (latency is then mostly queueing).
PAGE_RATE = 40.0
API_RATE = 40.0
PAGE_CONNECTIONS = 8
API_CONNECTIONS = 4


def main(seconds: int = 60, workers: int = 0, saturate: bool = False) -> int:
    if shutil.which("wrk") is None:
        print("make soak needs wrk, the HTTP load generator: apt-get install wrk (Debian/Ubuntu)", file=sys.stderr)
        return 2
    data_dir = initialised_data_dir()
    accounts = Accounts(data_dir / "ledger.sqlite")
    contributor = accounts.create_token("soak-contributor", Role.contributor)
    editor = accounts.create_token("soak-editor", Role.editor)
    accounts.close()
    process, url = start_server(data_dir, workers or os.cpu_count() or 1)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            script = Path(scratch) / "soak.lua"
            script.write_text(LUA)
            pages, apis = page_paths(url), api_paths()
            for path in pages + apis:  # every URL answers before the clock starts (no 404 counted as load)
                answer = httpx.get(url + path, timeout=60)
                if answer.status_code != 200:
                    raise RuntimeError(f"{path} answers {answer.status_code} before the soak")
            stop = threading.Event()
            writes, slow = Writes(), Researcher()
            threads = [
                threading.Thread(target=writer, args=(url, contributor, editor, stop, writes), daemon=True),
                threading.Thread(target=researcher, args=(url, stop, slow), daemon=True),
            ]
            for thread in threads:
                thread.start()
            page_rate, api_rate = (0.0, 0.0) if saturate else (PAGE_RATE, API_RATE)
            page_wrk = run_wrk(url, pages, seconds, PAGE_CONNECTIONS, page_rate, script)
            api_wrk = run_wrk(url, apis, seconds, API_CONNECTIONS, api_rate, script)
            page, api = wrk_result(page_wrk), wrk_result(api_wrk)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log_lines = (data_dir / "serve.log").read_text(errors="replace").splitlines()
        shutil.rmtree(data_dir, ignore_errors=True)

    def errors(r: dict[str, float]) -> int:
        return int(r["connect"] + r["read"] + r["write"] + r["timeout"] + r["non_2xx_3xx"])

    requests = int(page["requests"] + api["requests"]) + writes.acknowledged * 2 + slow.queries
    failed = errors(page) + errors(api) + len(writes.failures) + len(slow.failures)
    offered = (
        "as fast as wrk can (saturated)" if saturate else f"paced at ≤ {PAGE_RATE:.0f} + {API_RATE:.0f} requests/s"
    )
    print(f"soak: {seconds} s, {workers or os.cpu_count()} workers, wrk {PAGE_CONNECTIONS}+{API_CONNECTIONS} "
          f"connections {offered}")  # fmt: skip
    print(f"  page reads   {int(page['requests']):7d} requests ({page['requests'] / page['seconds']:.0f}/s), "
          f"errors {errors(page)}, p50 {page['p50_ms']:.1f} ms, p90 {page['p90_ms']:.1f} ms, "
          f"p99 {page['p99_ms']:.1f} ms, max {page['max_ms']:.1f} ms")  # fmt: skip
    print(f"  search+SPARQL {int(api['requests']):6d} requests ({api['requests'] / api['seconds']:.0f}/s), "
          f"errors {errors(api)}, p50 {api['p50_ms']:.1f} ms, p99 {api['p99_ms']:.1f} ms")  # fmt: skip
    print(f"  writes       {writes.acknowledged:7d} submitted+approved, failures {len(writes.failures)}")
    print(f"  researcher   {slow.queries:7d} slow queries ({slow.stopped_at_limit} stopped at the time limit), "
          f"failures {len(slow.failures)}")  # fmt: skip
    print(f"  total        {requests:7d} requests, {failed} failed; page p99 {page['p99_ms']:.1f} ms "
          f"(target < {P99_TARGET_MS:.0f} ms)")  # fmt: skip
    for failure in (writes.failures + slow.failures)[:10]:
        print(f"  failure: {failure}")
    for path, p50, p99, count in slowest_pages(log_lines, pages)[:6]:
        print(f"  slowest page {path[:60]:60s} p50 {p50:7.1f} ms  p99 {p99:7.1f} ms  ({count} requests, server time)")
    ok = failed == 0 and page["p99_ms"] < P99_TARGET_MS
    print("soak: OK" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="make soak: wrk load with writes and a slow researcher query")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=0, help="web workers (default: one per core)")
    parser.add_argument("--saturate", action="store_true", help="no pacing: as many requests as wrk can make")
    arguments = parser.parse_args()
    sys.exit(main(arguments.seconds, arguments.workers, arguments.saturate))
