"""Issue 7: actor pages with their impact section (counts, charts, connections) answer in under 50 ms
(median, warm) on the sample data; `/statistics` is printed for information.

Measured over HTTP against a live `amv serve` (managed store server, one worker), after warm-up.
"""

from __future__ import annotations

import httpx

from bench.common import initialised_data_dir, latencies, live_server, summary

TARGET_MS = 50.0
RUNS = 100
#: The sample actor with the most records (NFA): the largest impact section of the sample data.
ACTOR = "/id/actor/m0y082gm"


def main() -> None:
    data_dir = initialised_data_dir()
    print(f"\nImpact pages over HTTP, sample data, {RUNS} warm requests each (target: actor page median < 50 ms)")
    with live_server(data_dir) as url, httpx.Client(base_url=url, timeout=30) as client:
        for name, path in (("actor page with impact", ACTOR), ("/statistics", "/statistics")):

            def call(path: str = path) -> None:
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)

            median, p99 = summary(latencies(call, RUNS))
            verdict = ("ok" if median < TARGET_MS else "SLOW") if path == ACTOR else ""
            print(f"  {name:24} median {median:6.1f} ms   p99 {p99:6.1f} ms  {verdict}")
