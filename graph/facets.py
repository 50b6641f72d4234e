"""Directories with filters: the facts of small record classes and faceted filtering over them.

Used by the events calendar and the actors directory. A filter on a concept includes everything
tagged with its narrower concepts: each record keeps, per facet, the closure of its tags under
`skos:broader*`, and a record matches a chosen concept when the concept is in that closure.
The options of a filter are the concepts records are actually tagged with, and their broader
concepts, each with how many records it would give together with the other chosen filters.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from pyoxigraph import Literal, NamedNode

from graph.text import danish_sort_key
from graph.views import Ref, Site, pick

CHUNK = 500

#: What a filter value in a URL may look like: a concept's path under `<base>vocab/` (e.g.
#: `factors/5.1`, `industries/56.10`) or a full http(s) IRI. Anything else is not a concept.
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,200}$")


@dataclass
class Fact:
    """One value of one property: an IRI, or a literal with its language and datatype."""

    value: str
    is_iri: bool
    lang: str = ""
    datatype: str = ""


Facts = dict[str, dict[str, list[Fact]]]  # record IRI -> property IRI -> values


def _collect(rows: Iterable[Mapping[str, object]], into: Facts) -> None:
    for row in rows:
        value = row["value"]
        if isinstance(value, NamedNode):
            fact = Fact(value.value, True)
        elif isinstance(value, Literal):
            fact = Fact(value.value, False, value.language or "", value.datatype.value)
        else:
            continue
        into[row["record"].value][row["property"].value].append(fact)  # type: ignore[attr-defined]


def class_facts(site: Site, record_class: NamedNode, properties: Sequence[str]) -> Facts:
    """The chosen facts of every public record of one class."""
    services = site.services
    facts: Facts = defaultdict(lambda: defaultdict(list))
    query = services.queries("class-facts", recordClass=record_class, properties=[NamedNode(p) for p in properties])
    _collect(services.store.select(query), facts)
    return facts


def record_facts(site: Site, records: Sequence[str], properties: Sequence[str]) -> Facts:
    """The chosen facts of some records."""
    services = site.services
    facts: Facts = defaultdict(lambda: defaultdict(list))
    unique = sorted(set(records))
    for start in range(0, len(unique), CHUNK):
        chunk = [NamedNode(r) for r in unique[start : start + CHUNK]]
        query = services.queries("record-facts", records=chunk, properties=[NamedNode(p) for p in properties])
        _collect(services.store.select(query), facts)
    return facts


def picked_lang(texts: Mapping[str, str], lang: str) -> str:
    """The language `views.pick` chooses from `texts` for `lang` ("" when untagged or none)."""
    for key in (lang, "da", "en", ""):
        if texts.get(key):
            return key
    return next(iter(texts), "")


def texts(facts: Mapping[str, list[Fact]], prop: str) -> dict[str, str]:
    """Language -> text of a literal property (the first value in each language)."""
    found: dict[str, str] = {}
    for fact in facts.get(prop, []):
        if not fact.is_iri:
            found.setdefault(fact.lang, fact.value)
    return found


def first_text(facts: Mapping[str, list[Fact]], prop: str) -> str:
    values = [f.value for f in facts.get(prop, []) if not f.is_iri]
    return min(values) if values else ""


def iris(facts: Mapping[str, list[Fact]], prop: str) -> list[str]:
    return sorted({f.value for f in facts.get(prop, []) if f.is_iri})


@dataclass
class Hierarchy:
    """The concepts records are tagged with, with their broader concepts, parents and schemes."""

    closure: dict[str, set[str]] = field(default_factory=dict)  # concept -> itself and all broader
    parents: dict[str, set[str]] = field(default_factory=dict)  # concept -> direct broader concepts
    schemes: dict[str, str] = field(default_factory=dict)  # concept -> its scheme

    def up(self, concepts: Iterable[str]) -> set[str]:
        """The concepts and all their broader concepts."""
        return {a for c in concepts for a in self.closure.get(c, {c})}

    @property
    def concepts(self) -> set[str]:
        return {a for c in self.closure.values() for a in c}


def hierarchy(site: Site, concepts: Iterable[str]) -> Hierarchy:
    services = site.services
    found = Hierarchy(defaultdict(set), defaultdict(set), {})
    unique = sorted(set(concepts))
    for start in range(0, len(unique), CHUNK):
        chunk = [NamedNode(c) for c in unique[start : start + CHUNK]]
        for row in services.store.select(services.queries("concept-closure", concepts=chunk)):
            ancestor = row["ancestor"].value
            found.closure[row["concept"].value].add(ancestor)
            if "parent" in row:
                found.parents[ancestor].add(row["parent"].value)
            if "scheme" in row:
                found.schemes.setdefault(ancestor, row["scheme"].value)
    for concept in unique:
        found.closure[concept].add(concept)
    return found


# -- filters -----------------------------------------------------------------------------------


@dataclass
class Option:
    key: str  # the value in the URL
    ref: Ref
    count: int
    depth: int = 0  # how deep in its scheme's tree (for indentation)
    selected: bool = False


@dataclass
class OptionGroup:
    scheme: Ref | None
    options: list[Option]


@dataclass
class Filter:
    """One filter of a directory: its URL parameter, the options (as a tree per scheme), what is chosen."""

    name: str  # the query parameter: factor, industry, type, region
    groups: list[OptionGroup] = field(default_factory=list)
    selected: Option | None = None
    rejected: str = ""  # a value asked for that is not one of the options (ignored)

    @property
    def options(self) -> list[Option]:
        return [o for g in self.groups for o in g.options]


def concept_key(site: Site, iri: str) -> str:
    """The short form of a concept IRI used in URLs: its path under `<base>vocab/`."""
    prefix = site.iris.base + "vocab/"
    return iri[len(prefix) :] if iri.startswith(prefix) else iri


def concept_iri(site: Site, key: str) -> str | None:
    """The concept IRI a URL value names, or None when it cannot be one."""
    key = key.strip()
    if key.startswith(("http://", "https://")):
        try:
            return NamedNode(key).value
        except ValueError:
            return None
    if not _KEY.match(key) or ".." in key:
        return None
    return site.iris.base + "vocab/" + key


class Faceted(Protocol):
    @property
    def tags(self) -> dict[str, set[str]]: ...  # filter name -> closure of the record's tags


E = TypeVar("E", bound=Faceted)


def apply_filters(
    site: Site,
    entries: Sequence[E],
    names: Sequence[str],
    asked: Mapping[str, str],
    tree: Hierarchy,
    labels: Mapping[str, dict[str, str]],
    lang: str,
) -> tuple[list[E], list[Filter]]:
    """The entries that match every chosen filter, and each filter with its options and counts.

    `asked` maps a filter name to the raw URL value (may be anything); a value that is not one of
    the options is ignored and reported in `Filter.rejected`. An option's count is the number of
    entries it would give together with the other chosen filters. Options are the tags of the
    entries and their broader concepts, grouped by scheme, as a tree sorted by label.
    """
    available: dict[str, set[str]] = {n: set() for n in names}
    for entry in entries:
        for n in names:
            available[n] |= entry.tags.get(n, set())

    chosen: dict[str, str] = {}
    filters: dict[str, Filter] = {n: Filter(n) for n in names}
    for n in names:
        raw = (asked.get(n) or "").strip()
        if not raw:
            continue
        iri = concept_iri(site, raw)
        if iri is not None and iri in available[n]:
            chosen[n] = iri
        else:
            filters[n].rejected = raw[:200]

    def matches(entry: E, skip: str | None = None) -> bool:
        return all(iri in entry.tags.get(n, set()) for n, iri in chosen.items() if n != skip)

    for n in names:
        counts: dict[str, int] = defaultdict(int)
        for entry in entries:
            if matches(entry, skip=n):
                for concept in entry.tags.get(n, set()):
                    counts[concept] += 1
        filters[n].groups = _option_tree(site, available[n], tree, labels, counts, chosen.get(n), lang)
        filters[n].selected = next((o for o in filters[n].options if o.selected), None)

    return [e for e in entries if matches(e)], [filters[n] for n in names]


def _option_tree(
    site: Site,
    concepts: set[str],
    tree: Hierarchy,
    labels: Mapping[str, dict[str, str]],
    counts: Mapping[str, int],
    chosen: str | None,
    lang: str,
) -> list[OptionGroup]:
    def key(concept: str) -> tuple[str, str]:
        return danish_sort_key(pick(labels.get(concept, {}), lang, concept))

    children: dict[str, list[str]] = defaultdict(list)
    roots: dict[str, list[str]] = defaultdict(list)  # scheme -> top concepts among `concepts`
    for concept in concepts:
        parents = sorted(p for p in tree.parents.get(concept, ()) if p in concepts)
        if parents:
            children[parents[0]].append(concept)  # a concept with several parents is shown once
        else:
            roots[tree.schemes.get(concept, "")].append(concept)

    groups = []
    for scheme in sorted(roots, key=lambda s: danish_sort_key(pick(labels.get(s, {}), lang, s))):
        options: list[Option] = []

        def visit(concept: str, depth: int, options: list[Option] = options) -> None:
            ref = site.ref(concept, labels.get(concept, {}))
            options.append(Option(concept_key(site, concept), ref, counts.get(concept, 0), depth, concept == chosen))
            for child in sorted(children.get(concept, []), key=key):
                visit(child, depth + 1)

        for root in sorted(roots[scheme], key=key):
            visit(root, 0)
        groups.append(OptionGroup(site.ref(scheme, labels.get(scheme, {})) if scheme else None, options))
    return groups


def refs_sorted(site: Site, concepts: Iterable[str], labels: Mapping[str, dict[str, str]]) -> list[Ref]:
    refs = [site.ref(c, labels.get(c, {})) for c in set(concepts)]
    return sorted(refs, key=lambda r: danish_sort_key(r.label("da")))


def sort_by_label(items: Sequence[E], label: Callable[[E], str]) -> list[E]:
    return sorted(items, key=lambda e: danish_sort_key(label(e)))
