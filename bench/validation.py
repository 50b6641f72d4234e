"""Issues "submissions/bulk import" and "performance": records/s of record validation, pyshacl vs the
compiled shapes (graph/shacl_compiled.py), on batches of 1,000 records copied from the sample data
under fresh ids (links to other records are kept, so each batch carries the context facts about
them, as in `Records.validate`). Target: >= 3,000 records/s compiled."""

from __future__ import annotations

import random
import time

import pyoxigraph as ox

from bench.common import initialised_data_dir
from graph.config import Settings
from graph.dataset import sample_files
from graph.iris import ID_ALPHABET
from graph.rdf import parse_file
from graph.records import SYSTEM_PROPERTIES, Record, split_records
from graph.services import Services, open_services

BATCH = 1_000
COMPILED_BATCHES = 5
PYSHACL_BATCHES = 1  # about 15 s per batch


def batches(services: Services, count: int, seed: int = 7) -> list[list[ox.Triple]]:
    """`count` batches of BATCH records: sample records under fresh ids, plus their context facts."""
    rng = random.Random(seed)
    triples = list(services.iris.rebase_triples(q.triple for path in sample_files() for q in parse_file(path)))
    sample, _ = split_records(triples, services.iris)
    made = []
    for _ in range(count):
        records = [copy(rng, services, rng.choice(sample)) for _ in range(BATCH)]
        own = [t for r in records for t in r.triples if t.predicate not in SYSTEM_PROPERTIES]
        made.append(own + services.records.reference_facts(records))
    return made


def copy(rng: random.Random, services: Services, record: Record) -> Record:
    """The record under a fresh id (its links to other records are kept)."""
    new = services.iris.record(record.kind, "".join(rng.choice(ID_ALPHABET) for _ in range(8)))
    triples = [
        ox.Triple(
            new if t.subject == record.iri else t.subject, t.predicate, new if t.object == record.iri else t.object
        )
        for t in record.triples
    ]
    return Record(new, record.kind, triples)


def rate(validate: object, data: list[list[ox.Triple]]) -> tuple[float, int]:
    """(records/s, violations in the first batch) over all batches."""
    start = time.perf_counter()
    found = [validate(batch) for batch in data]  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    return BATCH * len(data) / elapsed, len(found[0].violations)


def run() -> dict[str, tuple[float, int]]:
    data_dir = initialised_data_dir()
    with open_services(Settings.from_env({"AMV_DATA_DIR": str(data_dir)}), embedded_only=True) as services:
        validator = services.validator
        data = batches(services, max(COMPILED_BATCHES, PYSHACL_BATCHES))
        validator.validate_records(data[0][:100])  # compile the shapes outside the timing
        return {
            "pyshacl": rate(validator.validate_records_pyshacl, data[:PYSHACL_BATCHES]),
            "compiled": rate(validator.validate_records, data[:COMPILED_BATCHES]),
        }


def main() -> None:
    results = run()
    base = results["pyshacl"][0]
    print(f"\nRecord validation, batches of {BATCH:,} records copied from the sample data (with context facts)")
    print(f"{'validator':10} {'records/s':>10} {'speed-up':>9} {'results':>8}")
    for name, (per_second, violations) in results.items():
        print(f"{name:10} {per_second:10,.0f} {per_second / base:8.1f}x {violations:8}")
    print("target (performance issue): >= 3,000 records/s compiled")


if __name__ == "__main__":
    main()
