"""The layout of a data directory, versioned, with the steps that bring an older one up to date.

`AMV_DATA_DIR/layout.json` says which layout the directory has. Opening a directory of an older
layout upgrades it in place, step by step, each step idempotent (a crash mid-way is repaired by
running it again); opening one of a NEWER layout than this code knows is refused, so an old release
never writes into data it does not understand. `amv upgrade` runs the steps explicitly and reports
them (operators run it after installing a new release, before starting `amv serve`).

Layouts:
1. store + ledger.sqlite + search/ (the first release);
2. the change log names its newest changeset (`<base>changes amv:head n`), so that appending to it
   and following it cost one look-up (graph/changelog.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from graph.changelog import ChangeLog
from graph.iris import Iris
from graph.sparql import Queries
from graph.store import Store, StoreError, insert_data

CURRENT = 2
FILE = "layout.json"


class LayoutError(StoreError):
    """The data directory cannot be used by this version (so: the store cannot be opened)."""


@dataclass(frozen=True)
class Step:
    to: int
    what: str
    run: Callable[[Store, Iris], None]


def _head_statement(store: Store, iris: Iris) -> None:
    """Layout 2: state the change log's newest sequence number once (counted the old way)."""
    changelog = ChangeLog(store, iris, Queries(iris))
    rows = store.select(changelog.queries("change-log-head", graph=changelog.graph))
    if rows and "head" in rows[0]:
        return
    head = changelog.head()  # falls back to counting the log
    if head:
        _, added = changelog.advance(0, head)
        store.update(insert_data({changelog.graph: added}))


STEPS = [Step(2, "the change log names its newest changeset (amv:head)", _head_statement)]


def read_version(data_dir: Path) -> int:
    """The layout of a data directory; 1 for one made before layouts were recorded, CURRENT for a new one."""
    path = data_dir / FILE
    if path.exists():
        try:
            return int(json.loads(path.read_text(encoding="utf-8"))["layout"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LayoutError(f"{path} is damaged: {exc}") from exc
    has_data = (data_dir / "ledger.sqlite").exists() or any((data_dir / "store").glob("*"))
    return 1 if has_data else CURRENT


def write_version(data_dir: Path, version: int) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    temporary = data_dir / (FILE + ".tmp")
    temporary.write_text(json.dumps({"layout": version}), encoding="utf-8")
    temporary.replace(data_dir / FILE)


def upgrade(data_dir: Path, store: Store, iris: Iris, report: Callable[[str], None] = lambda _: None) -> list[str]:
    """Bring the data directory to the CURRENT layout; returns what was done (empty when up to date)."""
    version = read_version(data_dir)
    if version > CURRENT:
        raise LayoutError(
            f"{data_dir} has layout {version}, newer than this version of Arbejdsmiljøviden understands "
            f"({CURRENT}); install the newer release, or restore a backup made with this one"
        )
    done = []
    for step in STEPS:
        if step.to > version:
            report(f"layout {step.to}: {step.what}")
            step.run(store, iris)
            write_version(data_dir, step.to)
            done.append(step.what)
    if not (data_dir / FILE).exists():
        write_version(data_dir, CURRENT)
    return done
