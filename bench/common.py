"""Shared benchmark plumbing: an initialised data directory and a live `amv serve`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from graph.store_server import free_port


def initialised_data_dir() -> Path:
    data_dir = Path(tempfile.mkdtemp(prefix="amv-bench-"))
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir)}
    env.pop("AMV_STORE_URL", None)
    subprocess.run(
        [sys.executable, "-m", "graph.cli", "init", "--sample"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return data_dir


@contextmanager
def live_server(data_dir: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AMV_DATA_DIR": str(data_dir)}
    env.pop("AMV_STORE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("amv serve did not start")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def latencies(call: Callable[[], object], runs: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    """(median, p99) in milliseconds."""
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
