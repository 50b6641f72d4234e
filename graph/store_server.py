"""The managed store server: the embedded data directory served by an Oxigraph server process.

Why: pyoxigraph's in-process `Store.query` cannot be cancelled or timed out, and only one process
may open the files read-write. So `amv serve` starts `oxigraph serve` on a private loopback port,
and every app worker talks to it through `RemoteStore` (the same code as the remote-store mode).

The child must never outlive its parent — a stale server would keep the RocksDB lock and block
the next `amv serve`. On Linux the child asks the kernel for SIGTERM when its parent dies
(PR_SET_PDEATHSIG), which also covers `kill -9` of `amv serve`.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from graph.config import Settings
from graph.store import StoreError

PR_SET_PDEATHSIG = 1

log = logging.getLogger(__name__)


def oxigraph_binary() -> str:
    """The `oxigraph` executable installed beside our Python (the `oxigraph` PyPI package)."""
    beside = Path(sys.executable).parent / "oxigraph"
    if beside.is_file():
        return str(beside)
    found = shutil.which("oxigraph")
    if not found:
        raise StoreError("the `oxigraph` server binary is not installed (pip install oxigraph)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> None:
    """Ask the kernel for SIGTERM when this process's parent dies (Linux): `amv serve --workers N` calls it
    in each worker, so that no worker outlives a killed `amv serve` and keeps holding its port."""
    _die_with_parent()


def time_limit_seconds(settings: Settings) -> int:
    """The managed store server's per-query time limit (`--timeout-s`, whole seconds)."""
    return max(1, round(settings.query_timeout))


def default_thread_budget() -> int:
    """The managed store server's threads beyond which public queries are turned away for a moment.

    `oxigraph serve --timeout-s` keeps one thread per query alive for the whole limit, and every thread takes
    two memory mappings (its stack and a guard page): at the kernel's limit on mappings (vm.max_map_count,
    65,530 by default) the server cannot start another thread and aborts, which fails every page's query
    in flight. A third of that limit leaves room for everything else."""
    try:
        return int(Path("/proc/sys/vm/max_map_count").read_text()) // 3
    except (OSError, ValueError):
        return 20_000


#: How often (at most) a process reads the store server's thread count (s).
THREADS_CHECK_SECONDS = 0.05


class StoreServerThreads:
    """The managed store server's thread count against a budget (Linux), read from /proc.

    The server's pid comes from the file `amv serve` writes beside the data (it changes when the server is
    started again). Nothing is known — never over budget — when that file names another server than the
    one at `endpoint`, or there is no /proc."""

    def __init__(self, server_file: Path, endpoint: str, budget: int) -> None:
        self.server_file = server_file
        self.endpoint = endpoint
        self.budget = budget
        self._pid: int | None = None
        self._checked = float("-inf")
        self._over = False

    def over_budget(self) -> bool:
        now = time.monotonic()
        if now - self._checked >= THREADS_CHECK_SECONDS:
            self._checked = now
            count = self.count()
            self._over = count is not None and count > self.budget
        return self._over

    def count(self) -> int | None:
        pid = self._pid or self._read_pid()
        if pid is None:
            return None
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("Threads:"):
                        return int(line.split()[1])
        except (OSError, ValueError):
            self._pid = None  # the server was started again (or stopped): read its file next time
        return None

    def _read_pid(self) -> int | None:
        try:
            server = json.loads(self.server_file.read_text())
        except (OSError, ValueError):
            return None
        if not self.endpoint.startswith(str(server.get("url", "")) + "/"):
            return None
        self._pid = int(server["pid"])
        return self._pid


#: The source address the public SPARQL endpoint connects to the managed store server from. The server
#: serves each connection on a thread named after its peer ("127.0.0.2:41234"), so the threads running
#: researchers' queries can be told from those building pages.
PUBLIC_QUERY_SOURCE = "127.0.0.2"
#: The nice value of those threads: a researcher's long query gets the CPU the pages leave over.
PUBLIC_QUERY_NICE = 19
#: How often the store server's threads are looked at (s). Under load it has thousands (with a time limit, oxigraph
#: keeps a thread per query for the whole limit), so not too often; a long query is lowered within this time.
PRIORITY_CHECK_SECONDS = 0.1


class PublicQueryPriority:
    """Lowers the CPU priority of the store server's threads that run public SPARQL queries (Linux).

    A researcher's query may run until the time limit on one core; at equal priority it takes that core
    from the pages, whose own queries run in the same server. At nice 19 it still runs, on what is left.
    Threads are found by their name (/proc/PID/task/TID/comm); nothing happens where there is no /proc or
    the server names its threads otherwise."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.lowered: set[int] = set()
        # Threads whose name has been read: a thread keeps its name (its connection) for its whole life.
        self._looked_at: set[int] = set()
        self._process_name = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="public-query-priority", daemon=True)

    def start(self) -> PublicQueryPriority:
        if Path(f"/proc/{self.pid}/task").is_dir():
            self._process_name = Path(f"/proc/{self.pid}/comm").read_text().strip()
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> None:
        tasks = f"/proc/{self.pid}/task"
        # os.listdir, not pathlib: under load the server has hundreds of threads and this runs 10 times a second.
        present = {int(tid) for tid in os.listdir(tasks)} if os.path.isdir(tasks) else set()
        for tid in present - self._looked_at:
            try:
                with open(f"{tasks}/{tid}/comm", encoding="utf-8") as comm:
                    name = comm.read().strip()
                if name == self._process_name:
                    continue  # a new thread names itself once it runs: look again next time
                self._looked_at.add(tid)
                if name.startswith(PUBLIC_QUERY_SOURCE + ":"):
                    os.setpriority(os.PRIO_PROCESS, tid, PUBLIC_QUERY_NICE)
                    self.lowered.add(tid)
            except (OSError, ValueError):  # the thread ended meanwhile
                continue
        self.lowered &= present
        self._looked_at &= present

    def _run(self) -> None:
        while not self._stop.wait(PRIORITY_CHECK_SECONDS):
            try:
                self.check()
            except OSError:  # the server is gone
                return


#: How often `ManagedStoreServer.watch` looks whether the store server is still running (s).
WATCH_SECONDS = 1.0


class ManagedStoreServer:
    """Start, watch and stop `oxigraph serve` on the embedded data directory."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.priority: PublicQueryPriority | None = None
        self.url = ""
        self._stopping = threading.Event()

    def start(self, ready_timeout: float = 60.0, port: int | None = None) -> str:
        store_dir = self.settings.store_dir
        store_dir.mkdir(parents=True, exist_ok=True)
        port = port or free_port()
        command = [
            oxigraph_binary(),
            "serve",
            "--location",
            str(store_dir),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
        ]
        # The server cancels a query at this limit (and stops its CPU work); the public endpoint
        # turns the truncated answer it then sends into a proper error.
        command += ["--timeout-s", str(time_limit_seconds(self.settings))]
        output = open(self.settings.data_dir / "store-server.log", "ab")  # noqa: SIM115 - owned by the child
        self.process = subprocess.Popen(command, stdout=output, stderr=output, preexec_fn=_die_with_parent)
        output.close()
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.settings.data_dir / "store-server.log").read_text(errors="replace")[-2000:]
                raise StoreError(f"the store server exited at start (code {self.process.returncode}):\n{tail}")
            try:
                httpx.get(self.url + "/query", params={"query": "ASK {}"}, timeout=1.0).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            self.stop()
            raise StoreError(f"the store server did not answer within {ready_timeout} s")
        self.settings.server_file.write_text(json.dumps({"pid": self.process.pid, "url": self.url}))
        self.priority = PublicQueryPriority(self.process.pid).start()
        return self.url

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def watch(self) -> None:
        """Start the server again, on the same address, whenever it dies (a crash, the OOM killer): the
        workers' next store requests reach the new one. Its data is safe: the store's own log replays at
        start, and a write cut off by the crash was never acknowledged (graph.undo_log)."""

        def run() -> None:
            while not self._stopping.wait(WATCH_SECONDS):
                if self.process is None or self.process.poll() is None:
                    continue
                code, port = self.process.returncode, int(self.url.rsplit(":", 1)[1])
                log.error("the store server exited (code %s); starting it again on port %d", code, port)
                if self.priority is not None:
                    self.priority.stop()
                try:
                    self.start(port=port)
                except Exception:  # noqa: BLE001 - this thread must live on: it is the restarted server's parent
                    log.exception("the store server did not start again; trying once more in a moment")

        threading.Thread(target=run, name="store-server-watch", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(FileNotFoundError):
            self.settings.server_file.unlink()
        if self.priority is not None:
            self.priority.stop()
            self.priority = None
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> ManagedStoreServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
