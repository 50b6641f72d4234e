"""The write lock of a data directory: one writer at a time, across threads and worker processes.

Re-entrant within a thread: a write that holds the lock (e.g. a SPARQL update by an editor) may call
another that takes it too (publishing the records the update changed).
"""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_held = threading.local()
_thread_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def write_lock(data_dir: Path) -> Iterator[None]:
    key = str(data_dir.resolve())
    depths: dict[str, int] = _held.__dict__.setdefault("depths", {})
    if depths.get(key):
        depths[key] += 1
        try:
            yield
        finally:
            depths[key] -= 1
        return
    with _guard:
        in_process = _thread_locks.setdefault(key, threading.Lock())
    data_dir.mkdir(parents=True, exist_ok=True)
    with in_process, (data_dir / "write.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # other processes
        depths[key] = 1
        try:
            yield
        finally:
            depths[key] = 0
            fcntl.flock(handle, fcntl.LOCK_UN)
