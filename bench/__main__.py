"""`python -m bench`: run every benchmark and print its figures; `python -m bench --size 10k|100k|1m`: only
the scale suite (bench/scale.py) at that size — `make bench SIZE=100k`."""

from __future__ import annotations

import argparse

from bench import bulk_import, impact, pages, relevance, scale, search, sparql, validation, vocab_edit


def main() -> None:
    parser = argparse.ArgumentParser(description="Arbejdsmiljøviden benchmarks")
    parser.add_argument(
        "--size", choices=sorted(scale.SIZES), default=None, help="run only the scale suite, at this size"
    )
    args = parser.parse_args()
    if args.size:
        scale.main(args.size)  # issue 9: import, pages, search, /sparql vs oxigraph serve, memory, disk
        return
    pages.main()
    sparql.main()
    validation.main()
    bulk_import.main()  # amv import --publish of 10,000 items, items/s (target >= 1,000)
    search.main()
    relevance.main()  # nDCG@10 and recall@20: plain BM25 vs thesaurus-aware
    vocab_edit.main()
    impact.main()  # actor pages with their impact section < 50 ms
    scale.main("10k")  # the scale suite at its smallest size


if __name__ == "__main__":
    main()
