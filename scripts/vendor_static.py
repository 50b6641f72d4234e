"""Copy the browser libraries the pages use from node_modules into api/static/vendor/.

The copies are committed, so `make serve` works without Node.js; run this after changing a version
in package.json (`npm install`, then `python scripts/vendor_static.py`). `--check` only reports
whether the committed copies match node_modules (exit 1 if not), for CI or a pre-commit hook.

Vendored now: YASGUI (@zazuko/yasgui), the SPARQL editor of /sparql: one self-contained UMD bundle
with its dependencies (CodeMirror, DataTables, …) and one stylesheet with inline icons. No source
maps, no CDN, and nothing the bundle loads at run time (the page turns its network look-ups off).
Swagger UI (swagger-ui-dist): the OpenAPI explorer of /docs.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "api" / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str  # the npm package
    target: str  # the folder under api/static/vendor/
    files: tuple[str, ...]  # paths inside the package


PACKAGES = (
    Package("@zazuko/yasgui", "yasgui", ("build/yasgui.min.js", "build/yasgui.min.css")),
    # Swagger UI for /docs, served from here so that the page needs no CDN and no inline script.
    Package("swagger-ui-dist", "swagger-ui", ("swagger-ui-bundle.js", "swagger-ui.css")),
)


def _bundled_licences(package: Package) -> list[tuple[str, str, str]]:
    """(name, version, licence) of the package and every package it depends on, transitively, from
    the lock file: the bundle contains their code, so their licences travel with it."""
    installed = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8")).get("packages", {})

    def resolve(parent: str, name: str) -> str | None:
        # Node's lookup: the nearest node_modules folder from the depending package up to the root.
        base = parent
        while True:
            candidate = f"{base}/node_modules/{name}" if base else f"node_modules/{name}"
            if candidate in installed:
                return candidate
            if not base:
                return None
            base = base.rsplit("/node_modules/", 1)[0] if "/node_modules/" in base else ""

    seen: set[str] = set()
    todo = [f"node_modules/{package.name}"]
    while todo:
        path = todo.pop()
        if path in seen or path not in installed:
            continue
        seen.add(path)
        for dependency in installed[path].get("dependencies", {}):
            if found := resolve(path, dependency):
                todo.append(found)
    return sorted(
        (
            path.rsplit("node_modules/", 1)[1],
            installed[path].get("version", "?"),
            str(installed[path].get("license", "see the package")),
        )
        for path in seen
    )


def notice(package: Package) -> str:
    meta = json.loads((NODE_MODULES / package.name / "package.json").read_text(encoding="utf-8"))
    lines = [
        f"{package.name} {meta['version']} — {meta.get('description', '')}",
        f"Licence: {meta.get('license', '?')}. Home: {meta.get('homepage', '')}",
        "Copied from node_modules by scripts/vendor_static.py; do not edit by hand.",
        "",
        "The bundle includes these packages (name, version, licence):",
        *(f"  {name} {version} {licence}" for name, version, licence in _bundled_licences(package)),
        "",
    ]
    return "\n".join(lines)


def planned() -> dict[Path, bytes]:
    """Every file the vendor folder should hold, with its content."""
    files: dict[Path, bytes] = {}
    for package in PACKAGES:
        source = NODE_MODULES / package.name
        if not source.is_dir():
            raise SystemExit(f"{source} is missing: run `npm ci` (or `npm install`) first")
        for name in package.files:
            files[VENDOR / package.target / Path(name).name] = (source / name).read_bytes()
        files[VENDOR / package.target / "NOTICE.txt"] = notice(package).encode("utf-8")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the copies are up to date")
    args = parser.parse_args(argv)
    files = planned()
    if args.check:
        stale = [p for p, content in files.items() if not p.is_file() or p.read_bytes() != content]
        for path in stale:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for package in PACKAGES:
        target = VENDOR / package.target
        if target.is_dir():
            shutil.rmtree(target)
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        print(f"{path.relative_to(ROOT)} ({len(content):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
