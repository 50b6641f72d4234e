"""Issue "submissions/bulk import": `amv import --publish` of 10,000 valid synthetic knowledge items (a CSV
with concepts given by label, code and IRI) into a fresh initialised data directory — read, validated,
stored, written to the ledger and indexed for search — in items/s, against raw pyoxigraph `bulk_load` of
the same quads (no validation, no transaction, no ledger, no index). Target: >= 1,000 items/s.

`python -m bench.bulk_import --profile` also writes a pyinstrument profile (pip install pyinstrument).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from bench.common import initialised_data_dir
from graph.bulk_import import Importer, RowStatus
from graph.config import Settings
from graph.ledger import RecordStatus
from graph.services import open_services

ITEMS = 10_000
BASE = "https://w3id.org/arbejdsmiljoviden/"
KNOWLEDGE_TYPES = ["Vejledning", "04", "checklist", "Forskningsrapport", BASE + "vocab/knowledge-types/02"]
FACTORS = ["støj", "Noise | løft", "Stoej", "5.1", "stress | 1.1.1", BASE + "vocab/factors/1.1.1", "2.1 | 2.2"]
INDUSTRIES = ["", "F", "bygge- og anlægsvirksomhed", "86 | construction", "41.20"]
WORDS = [
    "forebyggelse",
    "ergonomi",
    "støjdæmpning",
    "trivsel",
    "ledelse",
    "sikkerhed",
    "kemikalier",
    "indeklima",
    "arbejdstid",
]


def synthetic_csv(count: int = ITEMS) -> bytes:
    columns = ["type", "title.da", "title.en", "description.da", "knowledgeType", "factors", "industries"]
    columns += ["audiences", "issued", "url"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for i in range(count):
        topic = f"{WORDS[i % len(WORDS)]} og {WORDS[(i * 7 + 3) % len(WORDS)]}"
        writer.writerow(
            [
                "item",
                f"Vejledning {i} om {topic}",
                f"Guidance {i}" if i % 3 == 0 else "",
                f"Syntetisk vejledning nummer {i} om {topic} på arbejdspladsen, med gode råd og eksempler.",
                KNOWLEDGE_TYPES[i % len(KNOWLEDGE_TYPES)],
                FACTORS[i % len(FACTORS)],
                INDUSTRIES[i % len(INDUSTRIES)],
                "Ledere | 02" if i % 2 else "",
                f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}",
                f"https://example.dk/bench/{i}",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def run(profile: bool = False) -> dict[str, float]:
    data_dir = initialised_data_dir()
    data = synthetic_csv()
    try:
        with open_services(Settings.from_env({"AMV_DATA_DIR": str(data_dir)}), embedded_only=True) as services:
            services.search.ensure_current()  # the index as a running service has it, outside the timing
            published = services.ledger.count_by_status().get(RecordStatus.published.value, 0)
            profiler = None
            if profile:
                from pyinstrument import Profiler

                profiler = Profiler()
                profiler.start()
            start, cpu = time.perf_counter(), time.process_time()
            report = Importer(services).run(data, "bench.csv", agent="bench", apply=True, publish=True)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
            if profiler is not None:
                profiler.stop()
                target = Path(tempfile.gettempdir()) / "bulk_import_profile.html"
                target.write_text(profiler.output_html())
                print(f"profile: {target}")
                print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
            assert report.count(RowStatus.new) == ITEMS, [r.problems for r in report.errors[:3]]
            assert services.ledger.count_by_status()[RecordStatus.published.value] == published + ITEMS
            assert services.search.count() == published + ITEMS  # indexed, not only journaled
            quads = [q for row in report.rows for q in services.store.quads(ox.NamedNode(row.iri))]
        # Raw pyoxigraph bulk_load of the very same quads into an empty store.
        raw_dir = Path(tempfile.mkdtemp(prefix="amv-bench-raw-"))
        nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
        store = ox.Store(str(raw_dir / "store"))
        start = time.perf_counter()
        store.bulk_load(nquads, format=ox.RdfFormat.N_QUADS)
        store.flush()
        raw = time.perf_counter() - start
        del store
        shutil.rmtree(raw_dir, ignore_errors=True)
        return {"seconds": elapsed, "cpu_seconds": cpu, "raw_seconds": raw, "quads": len(quads)}
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> None:
    result = run(profile="--profile" in sys.argv)
    rate = ITEMS / result["seconds"]
    raw_rate = ITEMS / result["raw_seconds"]
    print(f"\nBulk import: {ITEMS:,} knowledge items ({result['quads']:,.0f} quads) from CSV, `--publish`")
    print(f"amv import (read, validate, store, ledger, index): {result['seconds']:6.2f} s = {rate:8,.0f} items/s")
    print(
        f"raw pyoxigraph bulk_load of the same quads:        {result['raw_seconds']:6.2f} s = {raw_rate:8,.0f} items/s"
    )
    print(f"(CPU time of the import: {result['cpu_seconds']:.2f} s; load average: {os.getloadavg()[0]:.1f})")
    print(f"ratio to raw bulk_load: {rate / raw_rate:.2f}x (target: >= 1,000 items/s)")


if __name__ == "__main__":
    main()
