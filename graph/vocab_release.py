"""Releases of a concept scheme: frozen, dated versions, and the changelog between any two of them.

`create_release` freezes the scheme's graph as it is at that moment into its own named graph,
`<base>vocab/{scheme}/release/{version}`, together with what the release is: its version
(`owl:versionInfo`), when it was issued (`dct:issued`), the change-log sequence it corresponds to
(`amv:sequence`: every changeset up to that number is in it), who made it and a note.

The frozen concepts are kept as ONE N-Triples literal (`amv:snapshot`) and not as triples of that
graph: queries see the union of all named graphs as their default graph, so a second copy of every
concept would give each concept the labels of every release (two Danish prefLabels after a rename)
on every page, in search and in SPARQL. As a literal the release stays exact and durable, is in the
store and in the dumps, and costs one query to read back.

A release is served in every RDF format at `/vocab/{scheme}/release/{version}` as the scheme at that
moment, with the scheme's `owl:versionInfo` set to the release's version, `owl:versionIRI` the
release's IRI and `dct:issued` its date, plus the release's own description.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import DCT, OWL, RDF_TYPE, RDFS, SKOS, XSD
from graph.ledger import now
from graph.locks import write_lock
from graph.serialize import VOID
from graph.services import Services
from graph.store import insert_data
from graph.text import danish_sort_key
from graph.views import Ref, Site, Value, labels_from
from graph.vocab_history import CS, changes_graph, local_name

#: Versions: letters and digits, with . - + _ inside (1.0, 2026.1, 2.0.0-rc.1); at most 40 characters.
VERSION = re.compile(r"^[0-9A-Za-z](?:[0-9A-Za-z.+_-]{0,38}[0-9A-Za-z])?$")
#: Endings that would read as a format suffix in the release's URL (`/release/1.0.ttl`).
FORMAT_SUFFIXES = (".ttl", ".nt", ".rdf", ".jsonld", ".json", ".html")
CURRENT = "current"  # the scheme as it is now, in a changelog

#: Statements derived from others (kept in step by the editor): not changes of their own in a changelog.
DERIVED = {SKOS + "narrower", SKOS + "hasTopConcept"}
#: Statements about the scheme that a release adds to the frozen graph.
VERSION_PREDICATES = {OWL + "versionInfo", OWL + "versionIRI", DCT + "issued"}


class ReleaseRefused(Exception):
    """A release that was not made, with the reason in Danish and English."""

    def __init__(self, status: int, en: str, da: str) -> None:
        super().__init__(en)
        self.status = status
        self.messages = {"en": en, "da": da}

    @property
    def message(self) -> str:
        return self.messages["en"]


@dataclass(frozen=True)
class Release:
    iri: str
    scheme: str
    version: str
    issued: str  # xsd:dateTime
    sequence: int  # the change log's newest changeset when the release was made
    note: str
    creator: str
    triples: int

    @property
    def day(self) -> str:
        return self.issued[:10]

    def as_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "scheme": self.scheme,
            "version": self.version,
            "issued": self.issued,
            "sequence": self.sequence,
            "note": self.note,
            "creator": self.creator,
            "triples": self.triples,
        }


def release_iri(scheme: NamedNode, version: str) -> NamedNode:
    return NamedNode(f"{scheme.value}/release/{version}")


def check_version(version: str) -> None:
    if not VERSION.match(version) or version.lower().endswith(FORMAT_SUFFIXES) or version == CURRENT:
        raise ReleaseRefused(
            422,
            f"“{version}” is not a valid version: use letters and digits with . - + _ inside "
            "(e.g. 1.0, 2026.1 or 2.0.0-rc.1), at most 40 characters, not ending in a file suffix.",
            f"«{version}» er ikke et gyldigt versionsnummer: brug bogstaver og cifre med . - + _ indeni "
            "(fx 1.0, 2026.1 eller 2.0.0-rc.1), højst 40 tegn, og ikke med en filendelse til sidst.",
        )


def _release_from_row(row: dict[str, Any]) -> Release:
    return Release(
        iri=row["release"].value,
        scheme=row["scheme"].value,
        version=row["version"].value,
        issued=row["issued"].value,
        sequence=int(row["sequence"].value),
        note=row["note"].value if "note" in row else "",
        creator=row["creator"].value if "creator" in row else "",
        triples=int(row["triples"].value) if "triples" in row else 0,
    )


def list_releases(services: Services, scheme: NamedNode) -> list[Release]:
    """The scheme's releases, newest first."""
    rows = services.store.select(services.queries("scheme-releases", scheme=scheme))
    return sorted((_release_from_row(r) for r in rows), key=lambda r: (r.issued, r.sequence), reverse=True)


def get_release(services: Services, scheme: NamedNode, version: str) -> Release | None:
    if not VERSION.match(version):
        return None
    iri = release_iri(scheme, version)
    return next((r for r in list_releases(services, scheme) if r.iri == iri.value), None)


def snapshot(services: Services, release: Release) -> list[Triple]:
    """The scheme's graph as it was frozen in the release."""
    rows = services.store.select(services.queries("release-snapshot", release=NamedNode(release.iri)))
    if not rows:
        return []
    text = rows[0]["snapshot"].value
    return [q.triple for q in ox.parse(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)]


def release_description(release: Release) -> list[Triple]:
    """What the release is (without its frozen content)."""
    iri = NamedNode(release.iri)
    triples = [
        Triple(iri, RDF_TYPE, NamedNode(_amv(release) + "SchemeRelease")),
        Triple(iri, NamedNode(DCT + "isVersionOf"), NamedNode(release.scheme)),
        Triple(iri, NamedNode(OWL + "versionInfo"), Literal(release.version)),
        Triple(iri, NamedNode(DCT + "issued"), Literal(release.issued, datatype=NamedNode(XSD + "dateTime"))),
        Triple(
            iri,
            NamedNode(_amv(release) + "sequence"),
            Literal(str(release.sequence), datatype=NamedNode(XSD + "integer")),
        ),
        Triple(iri, NamedNode(CS + "creatorName"), Literal(release.creator)),
        Triple(iri, NamedNode(VOID + "triples"), Literal(str(release.triples), datatype=NamedNode(XSD + "integer"))),
    ]
    if release.note:
        triples.append(Triple(iri, NamedNode(RDFS + "comment"), Literal(release.note)))
    return triples


def _amv(release: Release) -> str:
    """The ontology namespace of the deployment the release belongs to (its base is the scheme's)."""
    return release.scheme.split("vocab/", 1)[0] + "ontology#"


def versioned(release: Release, frozen: Iterable[Triple]) -> list[Triple]:
    """The frozen scheme as published: its version statements set to the release's."""
    scheme = NamedNode(release.scheme)
    triples = [t for t in frozen if not (t.subject == scheme and t.predicate.value in VERSION_PREDICATES)]
    triples += [
        Triple(scheme, NamedNode(OWL + "versionInfo"), Literal(release.version)),
        Triple(scheme, NamedNode(OWL + "versionIRI"), NamedNode(release.iri)),
        Triple(scheme, NamedNode(DCT + "issued"), Literal(release.issued[:10], datatype=NamedNode(XSD + "date"))),
    ]
    return triples


def release_triples(services: Services, release: Release) -> list[Triple]:
    """Everything a download of the release holds."""
    return versioned(release, snapshot(services, release)) + release_description(release)


def create_release(services: Services, scheme: NamedNode, version: str, *, note: str = "", agent: str) -> Release:
    """Freeze the scheme's graph as release `version`. Refused for an unknown scheme (404), a bad
    version string (422) and a version that exists already (409)."""
    version = version.strip()
    check_version(version)
    if not services.store.ask(services.queries("is-scheme", scheme=scheme)):
        raise ReleaseRefused(
            404, f"There is no concept scheme {scheme.value}.", f"Begrebssystemet {scheme.value} findes ikke."
        )
    iri = release_iri(scheme, version)
    with write_lock(services.settings.data_dir):  # no edit can land between the snapshot and its sequence
        if services.store.ask(services.queries("graph-exists", graph=iri)):
            raise ReleaseRefused(
                409,
                f"Version {version} of this scheme has been released already; choose another version.",
                f"Version {version} af dette begrebssystem er allerede udgivet; vælg et andet versionsnummer.",
            )
        frozen = sorted(services.store.graph_triples(scheme), key=str)
        rows = services.store.select(services.queries("last-change", graph=changes_graph(services)))
        sequence = int(rows[0]["sequence"].value) if rows and "sequence" in rows[0] else 0
        release = Release(
            iri=iri.value,
            scheme=scheme.value,
            version=version,
            issued=now(),
            sequence=sequence,
            note=note.strip(),
            creator=agent,
            triples=len(frozen),
        )
        text = ox.serialize(frozen, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        content = [*release_description(release), Triple(iri, NamedNode(services.iris.amv + "snapshot"), Literal(text))]
        services.store.update(insert_data({iri: content}))
        # Logged as a change of the thesaurus: the scheme's page lists its releases; dumps and other
        # instances learn that the public graph changed.
        services.records.log_change([iri], "release", agent=agent, reason=f"release {version}")
    return release


# -- the changelog between two versions ----------------------------------------------------------------


@dataclass
class PropertyChange:
    predicate: str
    removed: list[Value]
    added: list[Value]

    @property
    def name(self) -> str:
        return local_name(self.predicate)


@dataclass
class ConceptChange:
    concept: Ref
    notation: str
    changes: list[PropertyChange] = field(default_factory=list)
    replaced_by: list[Ref] = field(default_factory=list)


@dataclass
class Changelog:
    scheme: Ref
    older: Release | None  # None: the current state
    newer: Release | None
    added: list[ConceptChange]
    changed: list[ConceptChange]
    deprecated: list[ConceptChange]
    removed: list[ConceptChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.deprecated or self.removed)

    def as_json(self) -> dict[str, Any]:
        def value(v: Value) -> dict[str, str]:
            if v.ref is not None:
                return {"iri": v.ref.iri}
            return {"value": v.text, **({"lang": v.lang} if v.lang else {})}

        def concept(c: ConceptChange) -> dict[str, Any]:
            data: dict[str, Any] = {"iri": c.concept.iri, "notation": c.notation, "prefLabel": c.concept.labels}
            if c.changes:
                data["changes"] = [
                    {
                        "property": p.predicate,
                        "removed": [value(v) for v in p.removed],
                        "added": [value(v) for v in p.added],
                    }
                    for p in c.changes
                ]
            if c.replaced_by:
                data["isReplacedBy"] = [r.iri for r in c.replaced_by]
            return data

        def version(r: Release | None) -> dict[str, Any]:
            return r.as_json() if r else {"version": CURRENT}

        return {
            "scheme": self.scheme.iri,
            "from": version(self.older),
            "to": version(self.newer),
            "added": [concept(c) for c in self.added],
            "changed": [concept(c) for c in self.changed],
            "deprecated": [concept(c) for c in self.deprecated],
            "removed": [concept(c) for c in self.removed],
        }


def _by_subject(triples: Iterable[Triple]) -> dict[str, set[Triple]]:
    found: dict[str, set[Triple]] = defaultdict(set)
    for t in triples:
        if isinstance(t.subject, NamedNode):
            found[t.subject.value].add(t)
    return found


def _is_deprecated(triples: set[Triple]) -> bool:
    return any(t.predicate.value == OWL + "deprecated" and t.object.value in ("true", "1") for t in triples)


def compare_states(
    site: Site, scheme: Ref, old: Iterable[Triple], new: Iterable[Triple]
) -> tuple[list[ConceptChange], ...]:
    """(added, changed, deprecated, removed) concepts between two states of a scheme's graph."""
    old_list, new_list = list(old), list(new)
    before, after = _by_subject(old_list), _by_subject(new_list)
    names = labels_from(old_list)
    names.update(labels_from(new_list))
    concept_type = NamedNode(SKOS + "Concept")

    def concepts(by: dict[str, set[Triple]]) -> set[str]:
        return {s for s, ts in by.items() if any(t.predicate == RDF_TYPE and t.object == concept_type for t in ts)}

    def entry(iri: str, triples: set[Triple]) -> ConceptChange:
        notation = next((t.object.value for t in triples if t.predicate.value == SKOS + "notation"), "")
        replaced = [
            site.ref(t.object.value, names.get(t.object.value, {}))
            for t in triples
            if t.predicate.value == DCT + "isReplacedBy" and isinstance(t.object, NamedNode)
        ]
        return ConceptChange(
            site.ref(iri, names.get(iri, {})), notation, replaced_by=sorted(replaced, key=lambda r: r.iri)
        )

    def value(term: object) -> Value:
        if isinstance(term, NamedNode):
            return Value(ref=site.ref(term.value, names.get(term.value, {})))
        if isinstance(term, Literal):
            return Value(text=term.value, lang=term.language or "", datatype=term.datatype.value)
        return Value(text=str(term))

    def differences(old_ts: set[Triple], new_ts: set[Triple]) -> list[PropertyChange]:
        removed = {t for t in old_ts - new_ts if t.predicate.value not in DERIVED}
        added = {t for t in new_ts - old_ts if t.predicate.value not in DERIVED}
        predicates = sorted({t.predicate.value for t in removed | added})
        return [
            PropertyChange(
                p,
                sorted(
                    (value(t.object) for t in removed if t.predicate.value == p), key=lambda v: (v.lang, v.label("da"))
                ),
                sorted(
                    (value(t.object) for t in added if t.predicate.value == p), key=lambda v: (v.lang, v.label("da"))
                ),
            )
            for p in predicates
        ]

    old_concepts, new_concepts = concepts(before), concepts(after)
    added, changed, deprecated, removed = [], [], [], []
    for iri in sorted(new_concepts - old_concepts):
        added.append(entry(iri, after[iri]))
    for iri in sorted(old_concepts - new_concepts):
        removed.append(entry(iri, before[iri]))
    for iri in sorted(old_concepts & new_concepts):
        diffs = differences(before[iri], after[iri])
        if not diffs:
            continue
        item = entry(iri, after[iri])
        item.changes = diffs
        if _is_deprecated(after[iri]) and not _is_deprecated(before[iri]):
            deprecated.append(item)
        else:
            changed.append(item)

    def order(items: list[ConceptChange]) -> list[ConceptChange]:
        return sorted(items, key=lambda c: danish_sort_key(c.concept.label("da")))

    return order(added), order(changed), order(deprecated), order(removed)


def changelog(site: Site, scheme: Ref, older: Release | None, newer: Release | None) -> Changelog:
    """What changed in the scheme from release `older` to release `newer` (None: the current state)."""
    services = site.services
    scheme_node = NamedNode(scheme.iri)

    def state(release: Release | None) -> list[Triple]:
        return snapshot(services, release) if release else services.store.graph_triples(scheme_node)

    added, changed, deprecated, removed = compare_states(site, scheme, state(older), state(newer))
    return Changelog(scheme, older, newer, added, changed, deprecated, removed)
