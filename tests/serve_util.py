"""Running a real `amv serve` in tests: start it on a data directory and wait until /ready answers, stop it,
or serve a private copy of the initialised store with some users for a whole module (browser tests)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from graph.accounts import Accounts, Role
from graph.store_server import free_port
from tests.conftest import make_settings


def start_serve(
    data_dir: Path,
    port: int,
    env: Mapping[str, str] | None = None,
    within: float = 60.0,
    workers: int | None = None,
) -> subprocess.Popen[bytes]:
    """`amv serve --port PORT [--workers N]` on `data_dir`, returned once its /ready answers 200 (AssertionError
    if it exits or is not ready `within` seconds). In a remote-store run it serves from the test's store server;
    `env` adds or overrides variables (e.g. AMV_STORE_URL and AMV_INDEX_DIR for several instances on one store)."""
    full_env = {**os.environ, "AMV_DATA_DIR": str(data_dir)}
    full_env.pop("AMV_STORE_URL", None)
    if url := make_settings(data_dir).store_url:
        full_env["AMV_STORE_URL"] = url
    full_env.update(env or {})
    command = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers)] if workers else []
    process = subprocess.Popen(
        command,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "amv serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise AssertionError("amv serve did not come up")


def stop_serve(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if it has not ended within 30 s: never leave a server behind."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except Exception:
        process.kill()
        process.wait()


@contextmanager
def serve_copy(source: Path, data_dir: Path, users: Iterable[tuple[str, str, Role, str]] = ()) -> Iterator[str]:
    """`amv serve` on a copy of `source` at `data_dir`, with `users` (email, name, role, password) added;
    yields its base URL and stops it on leaving."""
    shutil.copytree(source, data_dir)
    accounts = Accounts(data_dir / "ledger.sqlite")
    for email, name, role, password in users:
        accounts.add_user(email, name, role, password)
    accounts.close()
    port = free_port()
    process = start_serve(data_dir, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_serve(process)
