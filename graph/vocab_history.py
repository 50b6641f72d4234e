"""The thesaurus' history: changesets read back from the change log, diffs, versions, reverts and feeds.

Every accepted edit is a changeset in the change-log graph `<base>changes` (see graph/vocab_edit.py):
numbered (`amv:sequence`), with who, when, why, the scheme it is part of (`dct:isPartOf`) and the
statements it added and removed. Records' changesets will share that log without a scheme, so every
query here is filtered by the scheme.

- `read_change` / `change_view`: one changeset, with its diff in words (labels, not IRIs).
- `scheme_history`: a scheme's changesets, newest first, one page at a time.
- `concept_versions` / `concept_state` / `compare_versions`: any earlier version of a concept is the
  current one with the later changesets undone, so two versions can be compared.
- `revert`: the inverse of a changeset, applied as a NEW changeset through `Thesaurus.apply` (validated
  like any edit); refused with 409 when later changes touched the same statements.
- `changes_feed`: the newest changesets of a scheme as a `graph.feeds.Feed` (Atom / JSON Feed).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from pyoxigraph import Literal, NamedNode, Triple

from graph.feeds import Category, Feed, FeedEntry, instant
from graph.iris import DCT, OWL, RDF, SKOS
from graph.services import Services
from graph.text import danish_sort_key
from graph.views import Ref, Site, Value
from graph.vocab_edit import ChangeSet, EditRefused, Thesaurus

CS = "http://purl.org/vocab/changeset/schema#"
HISTORY_PAGE_SIZE = 25
CHANGES_FEED_SIZE = 50
CHANGES = "changes"  # the feed kind

#: The order in which a concept's statements are listed in a diff (others follow by name).
PREDICATE_ORDER = [
    RDF + "type",
    SKOS + "notation",
    SKOS + "prefLabel",
    SKOS + "altLabel",
    SKOS + "hiddenLabel",
    SKOS + "definition",
    SKOS + "scopeNote",
    SKOS + "example",
    SKOS + "editorialNote",
    SKOS + "historyNote",
    SKOS + "changeNote",
    SKOS + "broader",
    SKOS + "narrower",
    SKOS + "related",
    SKOS + "exactMatch",
    SKOS + "closeMatch",
    SKOS + "broadMatch",
    SKOS + "narrowMatch",
    SKOS + "relatedMatch",
    OWL + "deprecated",
    DCT + "isReplacedBy",
    SKOS + "inScheme",
    SKOS + "topConceptOf",
    SKOS + "hasTopConcept",
]


def changes_graph(services: Services) -> NamedNode:
    return services.records.changelog.graph


def change_iri(services: Services, sequence: int) -> str:
    return f"{services.iris.base}changes/{sequence}"


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


# -- reading changesets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LoggedChange:
    """One changeset of the log, as stored."""

    iri: str
    sequence: int
    subjects: tuple[str, ...]
    scheme: str | None  # None for a changeset that is not part of a scheme (a record's)
    created: str
    creator: str
    reason: str
    added: frozenset[Triple]
    removed: frozenset[Triple]


def read_change(services: Services, sequence: int) -> LoggedChange | None:
    rows = services.store.select(services.queries("change-entry", log=changes_graph(services), sequence=sequence))
    if not rows:
        return None
    first = rows[0]
    subjects: set[str] = set()
    added: set[Triple] = set()
    removed: set[Triple] = set()
    for row in rows:
        if "subject" in row:
            subjects.add(row["subject"].value)
        if "s" in row:
            triple = Triple(row["s"], row["p"], row["o"])  # type: ignore[arg-type]
            (added if row["kind"].value == CS + "addition" else removed).add(triple)
    return LoggedChange(
        iri=first["change"].value,
        sequence=sequence,
        subjects=tuple(sorted(subjects)),
        scheme=first["scheme"].value if "scheme" in first else None,
        created=first["created"].value,
        creator=first["creator"].value,
        reason=first["reason"].value if "reason" in first else "",
        added=frozenset(added),
        removed=frozenset(removed),
    )


def change_rdf(services: Services, change: LoggedChange) -> list[Triple]:
    """The changeset in the Talis changeset vocabulary, as stored in the log."""
    query = services.queries("change-description", log=changes_graph(services), change=NamedNode(change.iri))
    return services.store.construct(query)


def change_json(change: LoggedChange) -> dict[str, object]:
    """The changeset as plain JSON; terms in N-Triples syntax, so every statement is exact."""

    def statements(triples: Iterable[Triple]) -> list[dict[str, str]]:
        return [
            {"subject": str(t.subject), "predicate": str(t.predicate), "object": str(t.object)}
            for t in sorted(triples, key=str)
        ]

    return {
        "iri": change.iri,
        "sequence": change.sequence,
        "subjects": list(change.subjects),
        "scheme": change.scheme,
        "created": change.created,
        "creator": change.creator,
        "reason": change.reason,
        "added": statements(change.added),
        "removed": statements(change.removed),
    }


# -- diffs in words --------------------------------------------------------------------------------


@dataclass
class DiffLine:
    kind: str  # "added" | "removed"
    predicate: str
    value: Value

    @property
    def name(self) -> str:
        """The property's local name (`prefLabel`), the key of its UI name in api/i18n.py."""
        return local_name(self.predicate)


@dataclass
class DiffGroup:
    """The statements about one resource that a change added or removed."""

    subject: Ref
    lines: list[DiffLine]


def _value(site: Site, term: object, names: dict[str, dict[str, str]]) -> Value:
    if isinstance(term, NamedNode):
        return Value(ref=site.ref(term.value, names.get(term.value, {})))
    if isinstance(term, Literal):
        return Value(text=term.value, lang=term.language or "", datatype=term.datatype.value)
    return Value(text=str(term))


def _predicate_key(predicate: str) -> tuple[int, str]:
    return (PREDICATE_ORDER.index(predicate) if predicate in PREDICATE_ORDER else len(PREDICATE_ORDER), predicate)


def diff_groups(
    site: Site,
    added: Iterable[Triple],
    removed: Iterable[Triple],
    names: dict[str, dict[str, str]] | None = None,
) -> list[DiffGroup]:
    """The statements added and removed, grouped by subject, with every resource named (current labels)."""
    lines = [("added", t) for t in added] + [("removed", t) for t in removed]
    if names is None:
        iris = {t.subject.value for _, t in lines if isinstance(t.subject, NamedNode)}
        iris |= {t.object.value for _, t in lines if isinstance(t.object, NamedNode)}
        names = site.names(sorted(iris))
    grouped: dict[str, list[DiffLine]] = defaultdict(list)
    for kind, t in lines:
        grouped[t.subject.value].append(DiffLine(kind, t.predicate.value, _value(site, t.object, names)))
    groups = []
    for subject, subject_lines in grouped.items():
        subject_lines.sort(
            key=lambda d: (_predicate_key(d.predicate), d.kind != "removed", d.value.lang, d.value.label("da"))
        )
        groups.append(DiffGroup(site.ref(subject, names.get(subject, {})), subject_lines))
    return sorted(groups, key=lambda g: danish_sort_key(g.subject.label("da")))


@dataclass
class ChangeView:
    """The page of one changeset."""

    change: LoggedChange
    scheme: Ref | None
    subjects: list[Ref]
    groups: list[DiffGroup]
    revertible: bool  # a thesaurus changeset (records' changesets are reverted elsewhere, if at all)

    @property
    def sequence(self) -> int:
        return self.change.sequence


def change_view(site: Site, change: LoggedChange) -> ChangeView:
    iris = {change.scheme or "", *change.subjects}
    iris |= {t.subject.value for t in change.added | change.removed if isinstance(t.subject, NamedNode)}
    iris |= {t.object.value for t in change.added | change.removed if isinstance(t.object, NamedNode)}
    names = site.names(sorted(i for i in iris if i))
    return ChangeView(
        change=change,
        scheme=site.ref(change.scheme, names.get(change.scheme, {})) if change.scheme else None,
        subjects=[site.ref(s, names.get(s, {})) for s in change.subjects],
        groups=diff_groups(site, change.added, change.removed, names),
        revertible=change.scheme is not None,
    )


# -- a scheme's history ------------------------------------------------------------------------------


@dataclass
class ChangeSummary:
    sequence: int
    created: str
    creator: str
    reason: str
    subjects: list[Ref]
    added: int
    removed: int


@dataclass
class HistoryPage:
    scheme: Ref
    entries: list[ChangeSummary]
    page: int
    pages: int
    total: int
    newest: int  # the newest changeset's number (0 when there is none)

    def page_link(self, page: int, lang: str) -> str:
        params = [("page", str(page))] if page > 1 else []
        params += [("lang", lang)] if lang != "da" else []
        return "?" + urlencode(params) if params else "?"


def scheme_counts(services: Services, scheme: NamedNode) -> tuple[int, int]:
    """(how many changesets the scheme has, the newest one's number)."""
    rows = services.store.select(services.queries("scheme-changes-count", log=changes_graph(services), scheme=scheme))
    row = rows[0] if rows else {}
    return int(row["total"].value) if "total" in row else 0, int(row["newest"].value) if "newest" in row else 0


def recent_changes(site: Site, scheme: NamedNode, *, limit: int, offset: int = 0) -> list[ChangeSummary]:
    services = site.services
    log = changes_graph(services)
    rows = services.store.select(services.queries("scheme-changes", log=log, scheme=scheme, limit=limit, offset=offset))
    if not rows:
        return []
    changes = [NamedNode(r["change"].value) for r in rows]
    subjects: dict[str, list[str]] = defaultdict(list)
    counts: dict[tuple[str, str], int] = {}
    for row in services.store.select(services.queries("changes-summary", log=log, changes=changes)):
        if "subject" in row:
            subjects[row["change"].value].append(row["subject"].value)
        elif "kind" in row:
            counts[(row["change"].value, local_name(row["kind"].value))] = int(row["count"].value)
    names = site.names(sorted({s for ss in subjects.values() for s in ss}))
    return [
        ChangeSummary(
            sequence=int(r["sequence"].value),
            created=r["created"].value,
            creator=r["creator"].value,
            reason=r["reason"].value if "reason" in r else "",
            subjects=[site.ref(s, names.get(s, {})) for s in sorted(subjects.get(r["change"].value, []))],
            added=counts.get((r["change"].value, "addition"), 0),
            removed=counts.get((r["change"].value, "removal"), 0),
        )
        for r in rows
    ]


def scheme_history(site: Site, scheme: Ref, page: int = 1, size: int = HISTORY_PAGE_SIZE) -> HistoryPage:
    total, newest = scheme_counts(site.services, NamedNode(scheme.iri))
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    entries = recent_changes(site, NamedNode(scheme.iri), limit=size, offset=(page - 1) * size)
    return HistoryPage(scheme, entries, page, pages, total, newest)


# -- versions of a concept ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementChange:
    sequence: int
    created: str
    creator: str
    reason: str
    added: bool
    triple: Triple


def statement_changes(services: Services, scheme: NamedNode, subjects: Sequence[NamedNode]) -> list[StatementChange]:
    """Every logged change of a statement about `subjects` in the scheme, oldest first."""
    if not subjects:
        return []
    query = services.queries("statement-changes", log=changes_graph(services), scheme=scheme, subjects=list(subjects))
    return [
        StatementChange(
            sequence=int(r["sequence"].value),
            created=r["created"].value,
            creator=r["creator"].value,
            reason=r["reason"].value if "reason" in r else "",
            added=r["kind"].value == CS + "addition",
            triple=Triple(r["s"], r["p"], r["o"]),  # type: ignore[arg-type]
        )
        for r in services.store.select(query)
    ]


@dataclass(frozen=True)
class Version:
    """A version of a concept: as it was right after changeset `sequence` (0: before any logged change)."""

    sequence: int
    created: str
    creator: str
    reason: str


def concept_versions(services: Services, concept: NamedNode, scheme: NamedNode) -> list[Version]:
    """The concept's versions, newest first; the last one (sequence 0) is how it was before the log began."""
    seen: dict[int, Version] = {}
    for change in statement_changes(services, scheme, [concept]):
        seen.setdefault(change.sequence, Version(change.sequence, change.created, change.creator, change.reason))
    versions = sorted(seen.values(), key=lambda v: v.sequence, reverse=True)
    return [*versions, Version(0, "", "", "")] if versions else []


def concept_state(
    services: Services, concept: NamedNode, scheme: NamedNode, sequence: int | None, changes: list[StatementChange]
) -> set[Triple]:
    """The concept's statements after changeset `sequence` (None: now): today's, with later changes undone."""
    state = set(Thesaurus(services).concept_triples(concept, scheme))
    if sequence is None:
        return state
    for change in sorted(changes, key=lambda c: c.sequence, reverse=True):
        if change.sequence <= sequence:
            break
        if change.added:
            state.discard(change.triple)
        else:
            state.add(change.triple)
    return state


@dataclass
class Comparison:
    concept: Ref
    scheme: Ref
    versions: list[Version]
    older: int | None  # None: the current version
    newer: int | None
    groups: list[DiffGroup]


def parse_version(value: str | None) -> int | None:
    """A version parameter: a changeset number, or "current"/empty for now. ValueError when neither."""
    if value is None or value.strip() in ("", "current"):
        return None
    number = int(value.strip())
    if number < 0:
        raise ValueError(value)
    return number


def compare_versions(
    site: Site, concept: Ref, scheme: Ref, older: int | None, newer: int | None, versions: list[Version] | None = None
) -> Comparison:
    """What changed in the concept between two of its versions (None = current)."""
    services = site.services
    concept_node, scheme_node = NamedNode(concept.iri), NamedNode(scheme.iri)
    changes = statement_changes(services, scheme_node, [concept_node])
    if versions is None:
        versions = concept_versions(services, concept_node, scheme_node)
    before = concept_state(services, concept_node, scheme_node, older, changes)
    after = concept_state(services, concept_node, scheme_node, newer, changes)
    return Comparison(concept, scheme, versions, older, newer, diff_groups(site, after - before, before - after))


# -- revert ----------------------------------------------------------------------------------------


def revert_reason(change: LoggedChange, reason: str = "") -> str:
    return f"Revert of #{change.sequence}: {reason.strip() or change.reason or '—'}"


def _conflict_message(later: list[StatementChange]) -> str:
    seen = sorted({(c.sequence, c.created[:10], c.creator) for c in later})
    listed = ", ".join(f"#{n} ({day}, {who})" for n, day, who in seen)
    return (
        f"Later changes touched the same statements, so this change cannot be reverted as it is: {listed}. "
        "Revert those first, or edit the concept."
    )


def revert(services: Services, sequence: int, *, agent: str, reason: str = "", dry_run: bool = False) -> ChangeSet:
    """Undo changeset `sequence` with a new, validated changeset. Refused (EditRefused) with 404 for an
    unknown changeset, 409 when later changes touched its statements (or the scheme no longer holds
    them as it left them), 422 when the result would break the thesaurus rules."""
    change = read_change(services, sequence)
    if change is None:
        raise EditRefused(404, f"There is no change #{sequence}.")
    if change.scheme is None:
        raise EditRefused(409, f"Change #{sequence} is not a change of the thesaurus; it cannot be reverted here.")
    scheme = NamedNode(change.scheme)
    concept_type = NamedNode(SKOS + "Concept")
    created = sorted(
        t.subject.value for t in change.added if t.predicate.value == RDF + "type" and t.object == concept_type
    )
    if created:
        raise EditRefused(
            422,
            f"Change #{sequence} created {', '.join(created)}. A published concept IRI never disappears: "
            "deprecate the concept instead (with its replacement, if there is one).",
        )
    subjects = sorted({t.subject for t in change.added | change.removed if isinstance(t.subject, NamedNode)}, key=str)
    statements = change.added | change.removed
    later = [
        c for c in statement_changes(services, scheme, subjects) if c.sequence > sequence and c.triple in statements
    ]
    if later:
        raise EditRefused(409, _conflict_message(later))
    # The scheme must still say what the change left it saying (writes outside the log would show here).
    current = set(services.store.construct(services.queries("subjects-in-graph", subjects=subjects, graph=scheme)))
    if not change.added <= current or change.removed & current:
        raise EditRefused(
            409,
            f"The scheme no longer holds the statements as change #{sequence} left them; "
            "it cannot be reverted as it is.",
        )
    subject = NamedNode(change.subjects[0]) if len(change.subjects) == 1 else scheme
    inverse = ChangeSet(subject, scheme, added=set(change.removed), removed=set(change.added))
    return Thesaurus(services).apply(inverse, agent=agent, reason=revert_reason(change, reason), dry_run=dry_run)


def newest_change_by(services: Services, scheme: NamedNode, creator: str, reason: str) -> int | None:
    """The number of the newest changeset of `scheme` by `creator` with `reason` (the one just written)."""
    query = services.queries(
        "newest-change-by", log=changes_graph(services), scheme=scheme, creator=creator, reason=reason
    )
    rows = services.store.select(query)
    return int(rows[0]["sequence"].value) if rows and "sequence" in rows[0] else None


# -- the feed of a scheme's changes -----------------------------------------------------------------


FEED_TITLES = {"da": "Ændringer i {}", "en": "Changes to {}"}
FEED_SUBTITLES = {
    "da": f"De seneste ændringer i begrebssystemet, nyeste først (højst {CHANGES_FEED_SIZE}).",
    "en": f"The latest changes to the concept scheme, newest first (at most {CHANGES_FEED_SIZE}).",
}
ENTRY_TITLES = {"da": "#{n} {subjects}", "en": "#{n} {subjects}"}
SUMMARY_COUNTS = {
    "da": "{added} udsagn tilføjet, {removed} fjernet",
    "en": "{added} statements added, {removed} removed",
}
SUMMARY_SHOWN = 12  # statements written out in an entry's summary


def scheme_slug(site: Site, scheme: str) -> str:
    return scheme.removeprefix(site.iris.base + "vocab/")


def changes_feed_path(slug: str, suffix: str, lang: str = "da") -> str:
    return f"/vocab/{slug}/changes.{suffix}" + ("?lang=" + lang if lang != "da" else "")


@dataclass
class ChangesFeed(Feed):
    """The feed of one scheme's changes; written by graph.feeds' Atom and JSON Feed writers."""

    scheme: Ref = field(default_factory=lambda: Ref(""))

    def title(self, lang: str) -> str:
        return FEED_TITLES[lang].format(self.scheme.label(lang))

    def subtitle(self, lang: str) -> str:
        return FEED_SUBTITLES[lang]

    def path(self, suffix: str, lang: str = "da") -> str:
        return changes_feed_path(self.scheme.path.removeprefix("/vocab/"), suffix, lang)

    def identifier(self, site: Site) -> str:
        return site.iris.base + self.path("atom").lstrip("/")


def _summary_text(groups: list[DiffGroup], counts: str, lang: str) -> str:
    lines = []
    for group in groups:
        for line in group.lines:
            sign = "+" if line.kind == "added" else "−"
            lang_tag = f" ({line.value.lang})" if line.value.lang else ""
            lines.append(f"{sign} {group.subject.label(lang)} · {line.name}{lang_tag}: {line.value.label(lang)}")
    shown = lines[:SUMMARY_SHOWN] + (["…"] if len(lines) > SUMMARY_SHOWN else [])
    return counts + "\n" + "\n".join(shown)


def changes_feed(site: Site, scheme: Ref, limit: int = CHANGES_FEED_SIZE) -> ChangesFeed:
    """The newest changesets of the scheme, with who, why and what (in words) in each entry."""
    entries = []
    for summary in recent_changes(site, NamedNode(scheme.iri), limit=limit):
        change = read_change(site.services, summary.sequence)
        if change is None:
            continue
        view = change_view(site, change)
        when = instant(change.created) or datetime.now(UTC)
        titles, summaries = {}, {}
        for lang in ("da", "en"):
            subjects = ", ".join(s.label(lang) for s in view.subjects) or view.scheme.label(lang) if view.scheme else ""
            title = ENTRY_TITLES[lang].format(n=change.sequence, subjects=subjects)
            titles[lang] = f"{title}: {change.reason}" if change.reason else title
            counts = SUMMARY_COUNTS[lang].format(added=len(change.added), removed=len(change.removed))
            summaries[lang] = _summary_text(view.groups, counts, lang)
        entries.append(
            FeedEntry(
                iri=change.iri,
                path=f"/changes/{change.sequence}",
                titles=titles,
                summaries=summaries,
                published=when,
                updated=when,
                authors=[Ref(change.creator, {"": change.creator})],
                categories=[Category(s, scheme.iri) for s in view.subjects],
            )
        )
    updated = max((e.updated for e in entries), default=datetime.now(UTC))
    return ChangesFeed(
        CHANGES, [], entries, [], f"/vocab/{scheme_slug(site, scheme.iri)}/changes", updated, scheme=scheme
    )
