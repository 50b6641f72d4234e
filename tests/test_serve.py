"""`amv serve` as a real process: the managed store server, restart after kill -9, persistence."""

from __future__ import annotations

import os
import re
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from graph.store_server import PRIORITY_CHECK_SECONDS, free_port
from tests.records_util import problem_turtle
from tests.serve_util import start_serve, stop_serve
from tests.test_cli import amv


def problems_on_home(port: int) -> int:
    html = httpx.get(f"http://127.0.0.1:{port}/").text
    match = re.search(r'data-count="problem"><strong>([\d.]+)</strong>', html)
    assert match, html[:500]
    return int(match.group(1).replace(".", ""))


def store_server_pid(data_dir: Path) -> int:
    import json

    return int(json.loads((data_dir / "store-server.json").read_text())["pid"])


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            # A zombie still answers kill(0); it holds no files, so count it as gone.
            with open(f"/proc/{pid}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.embedded_store("checks how `amv serve` manages its own store server on the data directory")
def test_serve_shows_counts_accepts_loads_and_survives_kill_9(data_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    serve = start_serve(data_dir, port)
    try:
        before = problems_on_home(port)
        assert before >= 20
        # `amv load` while serving goes through the managed server (the files are locked by it).
        record = tmp_path / "new.ttl"
        record.write_text(problem_turtle("s3rv3d00"), encoding="utf-8")
        amv(data_dir, "load", str(record), check=True)
        assert problems_on_home(port) == before + 1
        server_pid = store_server_pid(data_dir)
    finally:
        serve.send_signal(signal.SIGKILL)
        serve.wait()
    # The store server must not outlive its parent: it would hold the lock and block the restart.
    assert gone(server_pid), "store server outlived a killed amv serve"

    serve = start_serve(data_dir, port)
    try:
        assert problems_on_home(port) == before + 1
    finally:
        serve.terminate()
        serve.wait(timeout=30)
    assert gone(store_server_pid_or_none(data_dir) or server_pid)


def store_server_pid_or_none(data_dir: Path) -> int | None:
    try:
        return store_server_pid(data_dir)
    except FileNotFoundError:
        return None


def _threads(pid: int) -> dict[str, int]:
    """The store server's threads: name -> nice value (field 19 of /proc/PID/task/TID/stat)."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            nice = int((task / "stat").read_text().rsplit(")", 1)[1].split()[16])
        except (OSError, ValueError):
            continue
        found[f"{name}#{task.name}"] = nice
    return found


@pytest.mark.embedded_store("checks the priority of the threads of `amv serve`'s own store server")
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="thread priorities are read from Linux's /proc")
def test_a_researchers_long_query_runs_at_low_priority_and_pages_do_not(data_dir: Path) -> None:
    port = free_port()
    process = start_serve(data_dir, port, env={"AMV_QUERY_TIMEOUT": "4"})
    try:
        pid = store_server_pid(data_dir)
        slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        with ThreadPoolExecutor(1) as pool:
            running = pool.submit(httpx.post, f"http://127.0.0.1:{port}/sparql", data={"query": slow}, timeout=30)
            deadline = time.monotonic() + 3
            public: dict[str, int] = {}
            while not public and time.monotonic() < deadline:
                time.sleep(0.1)
                public = {n: v for n, v in _threads(pid).items() if n.startswith("127.0.0.2:")}
            time.sleep(2 * PRIORITY_CHECK_SECONDS)  # the watchdog lowers a new thread within one of its rounds
            public = {n: v for n, v in _threads(pid).items() if n.startswith("127.0.0.2:")}
            assert public and set(public.values()) == {19}, _threads(pid)
            page = httpx.get(f"http://127.0.0.1:{port}/id/problem/y8q6s2j0", timeout=30)  # built meanwhile
            assert page.status_code == 200
            pages = {n: v for n, v in _threads(pid).items() if n.startswith("127.0.0.1:")}
            assert pages and set(pages.values()) == {0}, pages  # the pages' own queries keep their priority
            assert running.result().status_code == 503  # stopped at the time limit, as before
    finally:
        stop_serve(process)


@pytest.mark.embedded_store("checks how `amv serve` manages its own store server on the data directory")
def test_a_store_server_that_dies_is_started_again_and_the_site_comes_back(data_dir: Path) -> None:
    port = free_port()
    process = start_serve(data_dir, port, workers=2)
    base = f"http://127.0.0.1:{port}"
    try:
        before = problems_on_home(port)
        first = store_server_pid(data_dir)
        os.kill(first, signal.SIGKILL)  # a crash, or the OOM killer
        assert gone(first)
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"{base}/ready", timeout=5).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready and store_server_pid(data_dir) != first:
                break
            assert time.monotonic() < deadline, "the site did not come back within 30 s"
            time.sleep(0.2)
        second = store_server_pid(data_dir)
        assert problems_on_home(port) == before  # the same data
        for _ in range(6):  # whichever worker answers: each reaches the new server
            assert httpx.get(f"{base}/id/problem/y8q6s2j0", timeout=30).status_code == 200
        assert process.poll() is None
    finally:
        stop_serve(process)
    assert gone(second)  # and it stops with amv serve, like the first
