"""Reading the thesaurus: schemes and concepts as plain objects for pages and APIs."""

from __future__ import annotations

from dataclasses import dataclass

from graph.sparql import Queries
from graph.store import Store


@dataclass(frozen=True)
class SchemeSummary:
    iri: str
    titles: dict[str, str]
    concepts: int

    def title(self, lang: str) -> str:
        return self.titles.get(lang) or self.titles.get("da") or self.iri

    @property
    def slug(self) -> str:
        return self.iri.rstrip("/").rsplit("/", 1)[-1]


def scheme_summaries(store: Store, queries: Queries) -> list[SchemeSummary]:
    summaries = []
    for row in store.select(queries("schemes")):
        titles = {lang: row[f"title_{lang}"].value for lang in ("da", "en") if f"title_{lang}" in row}
        summaries.append(SchemeSummary(row["scheme"].value, titles, int(row["concepts"].value)))
    return summaries
