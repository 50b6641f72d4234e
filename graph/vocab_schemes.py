"""Concept schemes and collections: creating a scheme, and grouping a scheme's concepts in collections.

A new scheme gets its own named graph (the graph of its IRI, `<base>vocab/{id}`), exactly like the
schemes loaded from vocabularies/, so it shows at once on /vocab, the home page and in the
Skosmos-compatible REST API. A collection (skos:Collection with skos:member) lives in its scheme's
graph at `<base>vocab/{scheme}/collection/{code}` — a path no concept code can take (codes have no
slash) — which is where the Skosmos `groups` and `groupMembers` answers look for it.

Both are validated before anything is written and committed with an entry in the change log, like
concept edits: collections through `Thesaurus.apply` (the one write path for changesets), a new
scheme through the same change-log write once its graph is known to be free.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from graph.iris import DCT, RDF_TYPE, SKOS, XSD
from graph.locks import write_lock
from graph.resources import Resolution
from graph.services import Services
from graph.text import danish_sort_key
from graph.validation import Violation
from graph.views import Ref, Site, labels_from, pick
from graph.vocab_edit import _CODE, ChangeSet, EditRefused, Thesaurus

#: Scheme ids are the last segment of the scheme's IRI and the Skosmos vocabulary id: lower case, stable.
SCHEME_ID = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
LANGUAGES = ("da", "en")
COLLECTION = NamedNode(SKOS + "Collection")
CONCEPT_SCHEME = NamedNode(SKOS + "ConceptScheme")
MEMBER = NamedNode(SKOS + "member")
PREF_LABEL = NamedNode(SKOS + "prefLabel")
NOTATION = NamedNode(SKOS + "notation")
#: What the collection JSON describes completely; any other statement about a collection is kept.
COLLECTION_MANAGED = {RDF_TYPE, PREF_LABEL, NOTATION, MEMBER}


def problem(field_name: str, en: str, da: str, rule: str = "edit") -> Violation:
    return Violation(focus="", path=field_name, messages={"en": en, "da": da}, rule=rule)


def _texts_by_language(value: Any, field_name: str, problems: list[Violation], *, required: bool) -> dict[str, str]:
    """{"da": "...", "en": "..."}: one text per language; Danish and English when `required`."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        problems.append(
            problem(field_name, 'must be an object by language, e.g. {"da": ...}', "skal være et objekt pr. sprog")
        )
        return {}
    texts: dict[str, str] = {}
    for lang, text in value.items():
        if isinstance(text, list):
            problems.append(problem(field_name, f"one text per language ({lang})", f"én tekst pr. sprog ({lang})"))
        elif not isinstance(text, str):
            problems.append(problem(field_name, "must be text", "skal være tekst"))
        elif text.strip():
            texts[lang] = text.strip()
    if required:
        for lang, en_name, da_name in (("da", "Danish", "dansk"), ("en", "English", "engelsk")):
            if lang not in texts:
                problems.append(problem(field_name, f"is required in {en_name}", f"skal udfyldes på {da_name}"))
    return texts


@dataclass
class Collection:
    """A skos:Collection of a scheme, for pages and the editing JSON."""

    iri: str
    code: str
    labels: dict[str, str]
    members: list[Ref]
    scheme: Ref

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.code)

    @property
    def path(self) -> str:
        return self.scheme.path + "/collection/" + self.code if self.scheme.path else ""

    @property
    def scheme_id(self) -> str:
        return self.scheme.iri.rsplit("/", 1)[-1]

    def as_json(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "code": self.code,
            "scheme": self.scheme.iri,
            "prefLabel": dict(sorted(self.labels.items())),
            "members": sorted(m.iri for m in self.members),
        }


@dataclass
class CollectionPage:
    """The page of one collection (`/vocab/{scheme}/collection/{code}`)."""

    iri: str
    labels: dict[str, str]
    scheme: Ref | None
    members: list[Ref]

    def label(self, lang: str) -> str:
        return pick(self.labels, lang, self.iri)


class Vocabularies:
    """Creates schemes and keeps their collections."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.iris = services.iris
        self.store = services.store
        self.queries = services.queries
        self.thesaurus = Thesaurus(services)

    # -- schemes ---------------------------------------------------------------------------

    def create_scheme(
        self,
        scheme_id: Any,
        titles: Any,
        descriptions: Any = None,
        *,
        agent: str,
        reason: str,
    ) -> NamedNode:
        """A new, empty concept scheme in its own graph; refused (EditRefused) when invalid or taken."""
        problems: list[Violation] = []
        if not isinstance(scheme_id, str) or not SCHEME_ID.match(scheme_id):
            problems.append(
                problem(
                    "id",
                    "the id is required: 2–40 lower-case letters, digits and -, starting with a letter",
                    "id'et skal udfyldes: 2–40 små bogstaver, cifre og -, begyndende med et bogstav",
                )
            )
        title = _texts_by_language(titles, "title", problems, required=True)
        description = _texts_by_language(descriptions, "description", problems, required=False)
        if problems:
            raise EditRefused(422, "The scheme has errors; nothing was changed.", problems)
        scheme = self.iris.scheme(scheme_id)
        header = {
            Triple(scheme, RDF_TYPE, CONCEPT_SCHEME),
            Triple(
                scheme, NamedNode(DCT + "created"), Literal(date.today().isoformat(), datatype=NamedNode(XSD + "date"))
            ),
            Triple(scheme, NamedNode(DCT + "publisher"), NamedNode(self.iris.base)),
            *(Triple(scheme, NamedNode(DCT + "title"), Literal(t, language=lang)) for lang, t in title.items()),
            *(
                Triple(scheme, NamedNode(DCT + "description"), Literal(t, language=lang))
                for lang, t in description.items()
            ),
        }
        # The SKOS scheme shape, except that a scheme starts without top concepts.
        report = self.services.validator.validate_concepts(sorted(header, key=str))
        shape_problems = [
            problem(
                (v.path or "").removeprefix(DCT).removeprefix(SKOS) or "id", v.messages["en"], v.messages["da"], v.rule
            )
            for v in report.errors
            if v.path != SKOS + "hasTopConcept"
        ]
        if shape_problems:
            raise EditRefused(422, "The scheme breaks the thesaurus rules; nothing was changed.", shape_problems)
        with write_lock(self.services.settings.data_dir):
            if self.store.ask(self.queries("graph-exists", graph=scheme)) or self.thesaurus.scheme_exists(scheme):
                raise EditRefused(
                    409,
                    f"There is a scheme {scheme_id} already.",
                    [problem("id", f"the id {scheme_id} is taken", f"id'et {scheme_id} er optaget")],
                )
            # Thesaurus.apply needs an existing scheme; a new one is written by the same change-log write.
            self.thesaurus._apply(ChangeSet(scheme, scheme, added=header), agent=agent, reason=reason)
        return scheme

    # -- concepts: retiring ----------------------------------------------------------------

    def concept_in_scheme(self, scheme: NamedNode, value: str, field_name: str) -> NamedNode:
        """The concept of the scheme that a code or IRI names; EditRefused (about `field_name`) if none."""
        problems: list[Violation] = []
        found = self._targets(scheme, [value.strip()], problems, field_name=field_name)
        if found and self.store.ask(self.queries("is-concept-in", concept=next(iter(found)), scheme=scheme)):
            return next(iter(found))
        raise EditRefused(
            422,
            f"{value!r} is not a concept of this scheme.",
            [
                problem(
                    field_name,
                    f"“{value}” is not a concept of this scheme",
                    f"“{value}” er ikke et begreb i dette begrebssystem",
                )
            ],
        )

    def deprecate(
        self, concept: NamedNode, scheme: NamedNode, replacement: str, *, agent: str, reason: str
    ) -> ChangeSet:
        """Deprecate a concept, pointing to its replacement (a code or IRI of this scheme; may be empty)."""
        replaced_by = self.concept_in_scheme(scheme, replacement, "replacement") if replacement.strip() else None
        if replaced_by == concept:
            raise EditRefused(
                422,
                "A concept cannot replace itself.",
                [problem("replacement", "a concept cannot replace itself", "et begreb kan ikke erstatte sig selv")],
            )
        return self.thesaurus.deprecate(concept, scheme, replaced_by, agent=agent, reason=reason)

    def merge(self, concept: NamedNode, scheme: NamedNode, into: str, *, agent: str, reason: str) -> NamedNode:
        """Merge a concept into another of the scheme (a code or IRI); returns the one it lives on in."""
        target = self.concept_in_scheme(scheme, into, "into")
        if target == concept:
            raise EditRefused(
                422,
                "A concept cannot be merged into itself.",
                [
                    problem(
                        "into", "a concept cannot be merged into itself", "et begreb kan ikke slås sammen med sig selv"
                    )
                ],
            )
        self.thesaurus.merge(concept, target, scheme, agent=agent, reason=reason)
        return target

    # -- collections -----------------------------------------------------------------------

    def collection_iri(self, scheme: NamedNode, code: str) -> NamedNode:
        return NamedNode(f"{scheme.value}/collection/{code}")

    def collections(self, scheme: NamedNode) -> list[Collection]:
        """The scheme's collections with their members, by Danish label."""
        site = Site(self.services)
        labels: dict[str, dict[str, str]] = {}
        codes: dict[str, str] = {}
        members: dict[str, set[str]] = {}
        for row in self.store.select(self.queries("skosmos-groups", scheme=scheme)):
            group = row["group"].value
            labels.setdefault(group, {})
            members.setdefault(group, set())
            label = row.get("label")
            if isinstance(label, Literal):
                labels[group].setdefault(label.language or "", label.value)
            notation = row.get("notation")
            codes[group] = notation.value if isinstance(notation, Literal) else group.rsplit("/", 1)[-1]
            member = row.get("member")
            if isinstance(member, NamedNode):
                members[group].add(member.value)
        names = site.names(sorted({m for ms in members.values() for m in ms}))
        scheme_ref = site.ref(scheme.value, site.names([scheme.value]).get(scheme.value, {}))
        found = [
            Collection(
                group,
                codes[group],
                labels[group],
                sorted(
                    (site.ref(m, names.get(m, {})) for m in members[group]),
                    key=lambda r: danish_sort_key(r.label("da")),
                ),
                scheme_ref,
            )
            for group in labels
        ]
        return sorted(found, key=lambda c: danish_sort_key(c.label("da")))

    def collection(self, scheme: NamedNode, code: str) -> Collection | None:
        try:
            iri = self.collection_iri(scheme, code).value
        except ValueError:  # a code that makes no IRI (spaces, NUL …) names no collection
            return None
        return next((c for c in self.collections(scheme) if c.iri == iri), None)

    def save_collection(
        self,
        scheme: NamedNode,
        code: Any,
        labels: Any,
        members: Any,
        *,
        create: bool,
        agent: str,
        reason: str,
        dry_run: bool = False,
    ) -> ChangeSet:
        """Create a collection, or make it look like `labels` and `members`; validated, applied, logged."""
        if not self.thesaurus.scheme_exists(scheme):
            raise EditRefused(404, f"No concept scheme {scheme.value}.")
        problems: list[Violation] = []
        if not isinstance(code, str) or not _CODE.match(code):
            problems.append(
                problem(
                    "code",
                    "the code is required: letters, digits, . and -",
                    "koden skal udfyldes: bogstaver, cifre, . og -",
                )
            )
            raise EditRefused(422, "The collection has errors; nothing was changed.", problems)
        names = _texts_by_language(labels, "prefLabel", problems, required=True)
        wanted = self._members(scheme, members, problems)
        if problems:
            raise EditRefused(422, "The collection has errors; nothing was changed.", problems)
        collection = self.collection_iri(scheme, code)
        old = set(self.thesaurus.concept_triples(collection, scheme))
        if create and old:
            raise EditRefused(
                409,
                f"{collection.value} exists already.",
                [problem("code", f"the code {code} is taken", f"koden {code} er optaget")],
            )
        if not create and not old:
            raise EditRefused(404, f"No collection {collection.value} in {scheme.value}.")
        new = {
            Triple(collection, RDF_TYPE, COLLECTION),
            Triple(collection, NOTATION, Literal(code)),
            *(Triple(collection, PREF_LABEL, Literal(text, language=lang)) for lang, text in names.items()),
            *(Triple(collection, MEMBER, member) for member in wanted),
        }
        new |= {t for t in old if t.predicate not in COLLECTION_MANAGED}
        changes = ChangeSet(collection, scheme, added=new - old, removed=old - new)
        if changes.empty:
            return changes
        return self.thesaurus.apply(changes, agent=agent, reason=reason, dry_run=dry_run)

    def change_members(
        self, scheme: NamedNode, code: str, add: Any, remove: Any, *, agent: str, reason: str
    ) -> ChangeSet:
        """Add and remove members of an existing collection (codes or IRIs)."""
        current = self.collection(scheme, code)
        if current is None:
            raise EditRefused(404, f"No collection {code} in {scheme.value}.")
        problems: list[Violation] = []
        adding = self._members(scheme, add, problems, field_name="add")
        removing = self._targets(scheme, remove, problems, field_name="remove")
        if problems:
            raise EditRefused(422, "The change has errors; nothing was changed.", problems)
        members = ({NamedNode(m.iri) for m in current.members} | adding) - removing
        return self.save_collection(
            scheme,
            code,
            current.labels,
            [m.value for m in members],
            create=False,
            agent=agent,
            reason=reason,
        )

    def _targets(self, scheme: NamedNode, values: Any, problems: list[Violation], *, field_name: str) -> set[NamedNode]:
        """Concepts named by code (in this scheme) or IRI."""
        if values is None:
            return set()
        if not isinstance(values, list):
            problems.append(problem(field_name, "must be a list", "skal være en liste"))
            return set()
        found: set[NamedNode] = set()
        for value in values:
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                try:
                    found.add(NamedNode(value))
                    continue
                except ValueError:
                    pass
            elif isinstance(value, str) and _CODE.match(value):
                found.add(NamedNode(f"{scheme.value}/{value}"))
                continue
            problems.append(
                problem(
                    field_name, f"{value!r} is not a concept code or IRI", f"{value!r} er ikke en begrebskode eller IRI"
                )
            )
        return found

    def _members(
        self, scheme: NamedNode, values: Any, problems: list[Violation], *, field_name: str = "members"
    ) -> set[NamedNode]:
        """The wanted members, each of which must be a concept of the scheme."""
        targets = self._targets(scheme, values, problems, field_name=field_name)
        if not targets:
            return targets
        rows = self.store.select(self.queries("concepts-of-scheme", concepts=sorted(targets, key=str), scheme=scheme))
        known = {r["concept"] for r in rows}
        for missing in sorted(targets - known, key=str):
            problems.append(
                problem(
                    field_name,
                    f"{missing.value} is not a concept of this scheme",
                    f"{missing.value} er ikke et begreb i dette begrebssystem",
                )
            )
        return targets & known  # type: ignore[operator]


def collection_page(site: Site, resolution: Resolution, triples: Sequence[Triple]) -> CollectionPage:
    iri = resolution.iri
    labels = labels_from(triples)
    members = [
        site.ref(t.object.value, labels.get(t.object.value, {}))
        for t in triples
        if t.subject == iri and t.predicate == MEMBER and isinstance(t.object, NamedNode)
    ]
    scheme_iri = iri.value.rsplit("/collection/", 1)[0]
    scheme_names = site.names([scheme_iri]).get(scheme_iri)
    return CollectionPage(
        iri.value,
        labels.get(iri.value, {}),
        site.ref(scheme_iri, scheme_names) if scheme_names else None,
        sorted(members, key=lambda r: danish_sort_key(r.label("da"))),
    )


def member_codes(scheme: str, members: Iterable[Ref]) -> list[str]:
    """Members as the editor types them: codes for the scheme's own concepts, IRIs otherwise."""
    prefix = scheme + "/"
    return [m.iri.removeprefix(prefix) if m.iri.startswith(prefix) else m.iri for m in members]
