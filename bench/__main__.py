"""`python -m bench [--size 10k]`: run every benchmark and print its figures."""

from __future__ import annotations

import argparse

from bench import pages, search, sparql, validation, vocab_edit


def main() -> None:
    parser = argparse.ArgumentParser(description="Arbejdsmiljøviden benchmarks")
    parser.add_argument("--size", default="10k", help="synthetic data size for scale benchmarks (10k, 100k, 1m)")
    parser.parse_args()
    pages.main()
    sparql.main()
    validation.main()
    search.main()
    vocab_edit.main()


if __name__ == "__main__":
    main()
