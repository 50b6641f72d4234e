"""Editing the thesaurus: every change is a validated changeset, recorded in the store's change log.

An edit describes the concept as it should be (labels, notes, notation, broader, related, mappings,
deprecation). From it we compute the changeset — triples added and removed, including the inverse
links on other concepts (narrower, related) — check the SKOS integrity conditions and the SKOS
shapes on the concepts it touches, and only then apply it, together with its entry in the change
log, as ONE SPARQL Update (one transaction): the scheme graph and the log can never disagree.

The change log is the named graph `<base>changes`: one `cs:ChangeSet` (the Talis changeset
vocabulary) per change, numbered in order (`amv:sequence`), with who, when, why and the reified
statements added and removed. It is public, like the thesaurus it describes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.iris import DCT, OWL, RDF, RDF_TYPE, SKOS
from graph.ledger import now
from graph.locks import write_lock
from graph.services import Services
from graph.store import delete_data, insert_data
from graph.validation import Violation

CS = "http://purl.org/vocab/changeset/schema#"
LABELS = ("prefLabel", "altLabel", "hiddenLabel")
NOTES = ("definition", "scopeNote", "example", "editorialNote", "historyNote", "changeNote")
LINKS = ("broader", "related")
MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")
INVERSE = {"broader": "narrower", "related": "related"}
#: The predicates the editing JSON describes completely; others on the concept are left untouched.
MANAGED = {
    RDF + "type",
    SKOS + "inScheme",
    SKOS + "notation",
    SKOS + "topConceptOf",
    OWL + "deprecated",
    DCT + "isReplacedBy",
    *(SKOS + n for n in LABELS + NOTES + LINKS + MATCHES),
}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,39}$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class EditRefused(Exception):
    """A change that was not applied: the reasons, per field, in Danish and English."""

    def __init__(self, status: int, message: str, violations: Sequence[Violation] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.violations = list(violations)


@dataclass
class ChangeSet:
    subject: NamedNode
    scheme: NamedNode
    added: set[Triple] = field(default_factory=set)
    removed: set[Triple] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        return not self.added and not self.removed


@dataclass(frozen=True)
class Change:
    """One entry of the change log, as read back."""

    iri: str
    sequence: int
    subject: str
    created: str
    creator: str
    reason: str
    added: list[Triple]
    removed: list[Triple]


def _problem(field_name: str, en: str, da: str, rule: str = "edit", *, focus: NamedNode | None = None) -> Violation:
    return Violation(focus=focus.value if focus else "", path=field_name, messages={"en": en, "da": da}, rule=rule)


def skos(name: str) -> NamedNode:
    return NamedNode(SKOS + name)


class Thesaurus:
    """Reads and edits concepts of the schemes in the store."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.iris = services.iris
        self.store = services.store
        self.queries = services.queries

    # -- reading ---------------------------------------------------------------------------

    def scheme_exists(self, scheme: NamedNode) -> bool:
        return self.store.ask(self.queries("is-scheme", scheme=scheme))

    def concept_triples(self, concept: NamedNode, scheme: NamedNode) -> list[Triple]:
        """What the scheme's graph says about the concept."""
        return self.store.construct(self.queries("concept-in-graph", concept=concept, graph=scheme))

    def describe_json(self, concept: NamedNode, scheme: NamedNode) -> dict[str, Any]:
        """The concept in the editing JSON shape (what `edit` takes back)."""
        data: dict[str, Any] = {"iri": concept.value}
        for t in self.concept_triples(concept, scheme):
            name = t.predicate.value.removeprefix(SKOS)
            if t.predicate.value.startswith(SKOS) and name in LABELS + NOTES and isinstance(t.object, Literal):
                by_lang = data.setdefault(name, {})
                if name == "prefLabel":
                    by_lang[t.object.language or ""] = t.object.value
                else:
                    by_lang.setdefault(t.object.language or "", []).append(t.object.value)
            elif name == "notation" and isinstance(t.object, Literal):
                data["notation"] = t.object.value
            elif name == "topConceptOf" and t.object == scheme:
                data["topConceptOf"] = True  # so that GET → PUT keeps a top concept on top
            elif name in LINKS + MATCHES and isinstance(t.object, NamedNode):
                data.setdefault(name, []).append(t.object.value)
            elif t.predicate.value == OWL + "deprecated":
                data["deprecated"] = t.object.value in ("true", "1")
            elif t.predicate.value == DCT + "isReplacedBy" and isinstance(t.object, NamedNode):
                data.setdefault("isReplacedBy", []).append(t.object.value)
        for key in LINKS + MATCHES + ("isReplacedBy",):
            if key in data:
                data[key].sort()
        return data

    def history(self, subject: NamedNode) -> list[Change]:
        rows = self.store.select(self.queries("changes-of", subject=subject))
        changes: dict[str, dict[str, Any]] = {}
        for row in rows:
            entry = changes.setdefault(
                row["change"].value,
                {
                    "sequence": int(row["sequence"].value),
                    "created": row["created"].value,
                    "creator": row["creator"].value,
                    "reason": row["reason"].value if "reason" in row else "",
                    "added": [],
                    "removed": [],
                },
            )
            if "s" in row:
                triple = Triple(row["s"], row["p"], row["o"])  # type: ignore[arg-type]
                entry["added" if row["kind"].value.endswith("addition") else "removed"].append(triple)
        return sorted(
            (Change(iri, subject=subject.value, **data) for iri, data in changes.items()),
            key=lambda c: c.sequence,
            reverse=True,
        )

    # -- editing ---------------------------------------------------------------------------

    def edit(
        self,
        concept: NamedNode,
        scheme: NamedNode,
        data: Mapping[str, Any],
        *,
        agent: str,
        reason: str,
        create: bool = False,
        dry_run: bool = False,
    ) -> ChangeSet:
        """Make the concept look like `data` (the editing JSON); validated, applied, logged.

        With `dry_run` the change is computed and validated but not applied."""
        if not self.scheme_exists(scheme):
            raise EditRefused(404, f"No concept scheme {scheme.value}.")
        with write_lock(self.services.settings.data_dir):
            old = set(self.concept_triples(concept, scheme))
            if create and old:
                raise EditRefused(409, f"{concept.value} exists already.")
            if not create and not old:
                raise EditRefused(404, f"No concept {concept.value} in {scheme.value}.")
            new = self._triples_from_json(concept, scheme, data, top=create and not data.get("broader"))
            # What the editing JSON does not describe is kept as it is (narrower links, which follow
            # from the narrower concepts' broader links, and any other statement).
            new |= {t for t in old if t.predicate.value not in MANAGED}
            changes = ChangeSet(concept, scheme, added=new - old, removed=old - new)
            self._with_inverses(changes, old, new)
            if changes.empty:
                return changes
            self._validate(changes)
            if not dry_run:
                self._apply(changes, agent=agent, reason=reason)
            return changes

    def apply(self, changes: ChangeSet, *, agent: str, reason: str, dry_run: bool = False) -> ChangeSet:
        """Apply a changeset that may touch many concepts of one scheme (its `subject` may be the scheme).

        Every statement must be about the scheme, one of its concepts or collections, without blank
        nodes; the statements it removes must all be there (otherwise the scheme changed since the
        changeset was computed: 409, nothing applied). Statements it adds that are there already are
        left out. Then it is validated like `edit` — the SKOS integrity conditions on every touched
        concept, and the SKOS shapes — and applied with its change-log entry as ONE SPARQL Update.
        Returns the changeset as applied (with `dry_run`: as it would be, nothing written)."""
        scheme = changes.scheme
        if not self.scheme_exists(scheme):
            raise EditRefused(404, f"No concept scheme {scheme.value}.")
        blank = [
            t
            for t in changes.added | changes.removed
            if not isinstance(t.subject, NamedNode) or isinstance(t.object, BlankNode)
        ]
        if blank:
            raise EditRefused(
                422,
                "A change to a scheme cannot contain blank nodes; nothing was changed.",
                [
                    _problem("", f"statement with a blank node: {t}", f"udsagn med en blank knude: {t}")
                    for t in sorted(blank, key=str)[:20]
                ],
            )
        with write_lock(self.services.settings.data_dir):
            touched = {t.subject for t in changes.added | changes.removed}
            current = self._subjects_triples(touched, scheme)  # type: ignore[arg-type]
            missing = changes.removed - current
            if missing:
                raise EditRefused(
                    409,
                    "The scheme has changed since this change was prepared; nothing was changed.",
                    [
                        _problem(
                            t.predicate.value.removeprefix(SKOS),
                            f"no longer there: {t}",
                            f"findes ikke længere: {t}",
                            "conflict",
                            focus=t.subject,  # type: ignore[arg-type]
                        )
                        for t in sorted(missing, key=str)[:20]
                    ],
                )
            effective = ChangeSet(changes.subject, scheme, added=changes.added - current, removed=set(changes.removed))
            if effective.empty:
                return effective
            self._validate(effective, current)
            if not dry_run:
                self._apply(effective, agent=agent, reason=reason)
            return effective

    def _triples_from_json(
        self, concept: NamedNode, scheme: NamedNode, data: Mapping[str, Any], *, top: bool
    ) -> set[Triple]:
        problems: list[Violation] = []
        allowed = {"iri", "notation", "deprecated", "isReplacedBy", *LABELS, *NOTES, *LINKS, *MATCHES, "topConceptOf"}
        for key in sorted(set(data) - allowed):
            problems.append(_problem(key, f"unknown field {key!r}", f"ukendt felt {key!r}"))
        triples = {
            Triple(concept, RDF_TYPE, skos("Concept")),
            Triple(concept, skos("inScheme"), scheme),
        }
        notation = data.get("notation")
        if not isinstance(notation, str) or not _CODE.match(notation):
            problems.append(
                _problem(
                    "notation",
                    "the notation (code) is required: letters, digits, . and -",
                    "notationen (koden) skal udfyldes: bogstaver, cifre, . og -",
                )
            )
        else:
            triples.add(Triple(concept, skos("notation"), Literal(notation)))
        for name in LABELS + NOTES:
            value = data.get(name)
            if value is None:
                continue
            if not isinstance(value, dict):
                problems.append(
                    _problem(
                        name,
                        'must be an object by language, e.g. {"da": ...}',
                        'skal være et objekt pr. sprog, fx {"da": ...}',
                    )
                )
                continue
            for lang, texts in value.items():
                if not isinstance(lang, str) or not _LANG.match(lang):
                    problems.append(
                        _problem(name, f"{lang!r} is not a language tag", f"{lang!r} er ikke et sprogmærke")
                    )
                    continue
                for text in [texts] if isinstance(texts, str) else texts if isinstance(texts, list) else [None]:
                    if not isinstance(text, str):
                        problems.append(_problem(name, "labels and notes are text", "betegnelser og noter er tekst"))
                        continue
                    triples.add(Triple(concept, skos(name), Literal(text.strip(), language=lang)))
        for name in LINKS + MATCHES + ("isReplacedBy",):
            values = data.get(name) or []
            if not isinstance(values, list):
                problems.append(_problem(name, "must be a list", "skal være en liste"))
                continue
            for value in values:
                target = self._target(value, scheme, name, problems)
                if target is not None:
                    prop = NamedNode(DCT + "isReplacedBy") if name == "isReplacedBy" else skos(name)
                    triples.add(Triple(concept, prop, target))
        if data.get("deprecated") is True:
            triples.add(Triple(concept, NamedNode(OWL + "deprecated"), Literal(True)))
        if top or data.get("topConceptOf"):
            triples.add(Triple(concept, skos("topConceptOf"), scheme))
        if problems:
            raise EditRefused(422, "The change has errors; nothing was changed.", problems)
        return triples

    def _target(self, value: Any, scheme: NamedNode, name: str, problems: list[Violation]) -> NamedNode | None:
        """A linked concept: a code in the same scheme, or an IRI (mappings must be IRIs)."""
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            try:
                return NamedNode(value)
            except ValueError:
                pass
        elif isinstance(value, str) and _CODE.match(value) and name not in MATCHES:
            return NamedNode(f"{scheme.value}/{value}")
        problems.append(
            _problem(name, f"{value!r} is not a concept code or IRI", f"{value!r} er ikke en begrebskode eller IRI")
        )
        return None

    def _with_inverses(self, changes: ChangeSet, old: set[Triple], new: set[Triple]) -> None:
        """Keep narrower and related symmetric on the other concepts, and hasTopConcept on the scheme."""
        concept, scheme = changes.subject, changes.scheme
        for name, inverse in INVERSE.items():
            before = {t.object for t in old if t.predicate == skos(name)}
            after = {t.object for t in new if t.predicate == skos(name)}
            changes.added |= {Triple(o, skos(inverse), concept) for o in after - before}  # type: ignore[arg-type]
            changes.removed |= {Triple(o, skos(inverse), concept) for o in before - after}  # type: ignore[arg-type]
        top_before = any(t.predicate == skos("topConceptOf") for t in old)
        top_after = any(t.predicate == skos("topConceptOf") for t in new)
        if top_after and not top_before:
            changes.added.add(Triple(scheme, skos("hasTopConcept"), concept))
        if top_before and not top_after:
            changes.removed.add(Triple(scheme, skos("hasTopConcept"), concept))

    # -- validation ------------------------------------------------------------------------

    def _validate(self, changes: ChangeSet, current: set[Triple] | None = None) -> None:
        """The SKOS integrity conditions and the SKOS shapes, on every concept the change touches.

        The checks look at the scheme as it would be after the change: the touched concepts' triples
        are read once (`current`, if the caller has them already) and the change laid over them;
        everything else is asked of the store with a few targeted queries, so the cost follows the
        size of the change, not of the scheme."""
        scheme = changes.scheme
        touched = {t.subject for t in changes.added | changes.removed if isinstance(t.subject, NamedNode)}
        if current is None:
            current = self._subjects_triples(touched, scheme)
        after = (current - changes.removed) | changes.added
        by_subject: dict[NamedNode, set[Triple]] = {s: set() for s in touched}
        for t in after:
            if t.subject in by_subject:
                by_subject[t.subject].add(t)  # type: ignore[index]

        def objects(subject: NamedNode, name: str) -> set[NamedNode]:
            return {
                t.object
                for t in by_subject.get(subject, ())
                if t.predicate == skos(name) and isinstance(t.object, NamedNode)
            }

        problems: list[Violation] = []
        concepts: set[NamedNode] = set()
        removed_concepts: set[NamedNode] = set()
        for subject in sorted(touched - {scheme}, key=str):
            triples = by_subject[subject]
            if Triple(subject, skos("inScheme"), scheme) in triples:
                concepts.add(subject)
            elif not triples:
                if Triple(subject, skos("inScheme"), scheme) in current:
                    removed_concepts.add(subject)
            elif Triple(subject, RDF_TYPE, skos("Collection")) not in triples:
                problems.append(
                    _problem(
                        "inScheme",
                        f"{subject.value} is not a concept of this scheme (skos:inScheme is missing)",
                        f"{subject.value} er ikke et begreb i dette begrebssystem (skos:inScheme mangler)",
                        focus=subject,
                    )
                )

        # Links must stay within the scheme: to its concepts as they are after the change.
        links = {c: {name: objects(c, name) for name in ("broader", "narrower", "related")} for c in concepts}
        targets = {o for by_name in links.values() for objs in by_name.values() for o in objs}
        outside = targets - touched
        known = self._concepts_of_scheme(outside, scheme) if outside else set()

        def is_concept(node: NamedNode) -> bool:
            return node in concepts if node in touched else node in known

        for concept, by_name in sorted(links.items(), key=lambda kv: kv[0].value):
            for name, objs in by_name.items():
                for target in sorted(objs, key=str):
                    if not is_concept(target):
                        problems.append(
                            _problem(
                                name,
                                f"{target.value} is not a concept of this scheme",
                                f"{target.value} er ikke et begreb i dette begrebssystem",
                                focus=concept,
                            )
                        )
        if removed_concepts:
            problems += self._dangling_links(removed_concepts, scheme, by_subject, touched)

        # The hierarchy after the change: the touched concepts' own broader links, the store's above.
        starts = concepts | {o for c in concepts for o in links[c]["broader"] | links[c]["related"]}
        parents: dict[NamedNode, set[NamedNode]] = {}
        if starts:
            for row in self.store.select(
                self.queries("hierarchy-above", concepts=sorted(starts, key=str), scheme=scheme)
            ):
                child, parent = row["concept"], row["broader"]
                if child not in touched and isinstance(child, NamedNode) and isinstance(parent, NamedNode):
                    parents.setdefault(child, set()).add(parent)
        for concept in concepts:
            parents[concept] = links[concept]["broader"]

        def ancestors(node: NamedNode) -> set[NamedNode]:
            seen: set[NamedNode] = set()
            todo = list(parents.get(node, ()))
            while todo:
                n = todo.pop()
                if n not in seen:
                    seen.add(n)
                    todo.extend(parents.get(n, ()))
            return seen

        above = {c: ancestors(c) for c in concepts}
        for concept in sorted(concepts, key=str):
            if concept in links[concept]["broader"]:
                problems.append(
                    _problem(
                        "broader",
                        "a concept cannot be broader than itself",
                        "et begreb kan ikke være sit eget overbegreb",
                        "skos:cycle",
                        focus=concept,
                    )
                )
            elif concept in above[concept]:
                problems.append(
                    _problem(
                        "broader",
                        "this would make a cycle in the hierarchy",
                        "det ville give en cirkel i hierarkiet",
                        "skos:cycle",
                        focus=concept,
                    )
                )
            related = links[concept]["related"]
            if any(r == concept or r in above[concept] or concept in ancestors(r) for r in related):
                problems.append(
                    _problem(
                        "related",
                        "a concept cannot be related to its own broader or narrower concepts",
                        "et begreb kan ikke være relateret til sine egne over- eller underbegreber",
                        "skos:related-broader",
                        focus=concept,
                    )
                )
        problems += self._notation_clashes(concepts, by_subject, scheme)
        if problems:  # the specific reasons are clearer than what the shapes would add
            raise EditRefused(422, "The change breaks the thesaurus rules; nothing was changed.", problems)

        header = by_subject[scheme] if scheme in touched else set(self._context(scheme))
        checked = sorted((t for s in touched - {scheme} for t in by_subject[s]), key=str)
        report = self.services.validator.validate_concepts(checked + sorted(header, key=str))
        focus = {s.value for s in touched}
        problems += [v for v in report.errors if v.focus in focus or not v.focus]
        if problems:
            raise EditRefused(422, "The change breaks the thesaurus rules; nothing was changed.", problems)

    def _subjects_triples(self, subjects: set[NamedNode], scheme: NamedNode) -> set[Triple]:
        """What the scheme's graph says about these resources, in one query."""
        if not subjects:
            return set()
        return set(
            self.store.construct(self.queries("subjects-in-graph", subjects=sorted(subjects, key=str), graph=scheme))
        )

    def _concepts_of_scheme(self, candidates: set[NamedNode], scheme: NamedNode) -> set[NamedNode]:
        rows = self.store.select(
            self.queries("concepts-of-scheme", concepts=sorted(candidates, key=str), scheme=scheme)
        )
        return {r["concept"] for r in rows if isinstance(r["concept"], NamedNode)}

    def _dangling_links(
        self,
        removed: set[NamedNode],
        scheme: NamedNode,
        after: dict[NamedNode, set[Triple]],
        touched: set[NamedNode],
    ) -> list[Violation]:
        """A concept may only disappear when nothing in the scheme points at it any more."""
        problems = []
        rows = self.store.select(self.queries("links-to", targets=sorted(removed, key=str), scheme=scheme))
        pointing = {(r["source"], r["property"], r["target"]) for r in rows if r["source"] not in touched}
        pointing |= {(t.subject, t.predicate, t.object) for ts in after.values() for t in ts if t.object in removed}
        for source, prop, target in sorted(pointing, key=str):
            problems.append(
                _problem(
                    prop.value.removeprefix(SKOS),  # type: ignore[union-attr]
                    f"{target.value} cannot be removed: {source.value} still points at it",  # type: ignore[union-attr]
                    f"{target.value} kan ikke fjernes: {source.value} henviser stadig til det",  # type: ignore[union-attr]
                    focus=target,  # type: ignore[arg-type]
                )
            )
        return problems

    def _notation_clashes(
        self, concepts: set[NamedNode], after: dict[NamedNode, set[Triple]], scheme: NamedNode
    ) -> list[Violation]:
        """A notation identifies one concept in its scheme: among the touched concepts, and against the rest."""
        holders: dict[Literal, set[NamedNode]] = {}
        for concept in concepts:
            for t in after[concept]:
                if t.predicate == skos("notation") and isinstance(t.object, Literal):
                    holders.setdefault(t.object, set()).add(concept)
        if holders:
            rows = self.store.select(
                self.queries("notations-in-scheme", notations=sorted(holders, key=str), scheme=scheme)
            )
            for row in rows:
                other = row["concept"]
                if other not in after and isinstance(other, NamedNode):  # a touched concept's old notation is gone
                    holders[row["notation"]].add(other)  # type: ignore[index]
        problems = []
        for notation, owners in sorted(holders.items(), key=lambda kv: str(kv[0])):
            if len(owners) > 1:
                for concept in sorted(owners & concepts, key=str):
                    problems.append(
                        _problem(
                            "notation",
                            f"the notation {notation.value} is used by another concept",
                            f"notationen {notation.value} bruges af et andet begreb",
                            "skos:notation-unique",
                            focus=concept,
                        )
                    )
        return problems

    def _context(self, scheme: NamedNode) -> list[Triple]:
        """The scheme's own description, which the SKOS shapes expect beside the concepts."""
        return self.store.construct(self.queries("scheme-header", scheme=scheme))

    def deprecate(
        self, concept: NamedNode, scheme: NamedNode, replaced_by: NamedNode | None, *, agent: str, reason: str
    ) -> ChangeSet:
        """Deprecate a concept; its IRI keeps answering, pointing to its replacement."""
        data = self.describe_json(concept, scheme)
        if "iri" not in data or len(data) == 1:
            raise EditRefused(404, f"No concept {concept.value} in {scheme.value}.")
        data["deprecated"] = True
        data["isReplacedBy"] = [replaced_by.value] if replaced_by else []
        return self.edit(concept, scheme, data, agent=agent, reason=reason)

    def merge(self, old: NamedNode, into: NamedNode, scheme: NamedNode, *, agent: str, reason: str) -> None:
        """Merge `old` into `into`: its labels live on as alternative labels of `into`, and `old` is
        deprecated with `dct:isReplacedBy` — records tagged with it then show under `into`."""
        if old == into:
            raise EditRefused(422, "A concept cannot be merged into itself.")
        target = self.describe_json(into, scheme)
        source = self.describe_json(old, scheme)
        if len(target) == 1 or len(source) == 1:
            raise EditRefused(404, "Both concepts must exist in the scheme.")
        alt = target.setdefault("altLabel", {})
        for lang, label in source.get("prefLabel", {}).items():
            if label != target.get("prefLabel", {}).get(lang) and label not in alt.get(lang, []):
                alt.setdefault(lang, []).append(label)
        for lang, labels in source.get("altLabel", {}).items():
            for label in labels:
                if label != target.get("prefLabel", {}).get(lang) and label not in alt.get(lang, []):
                    alt.setdefault(lang, []).append(label)
        # Labels move first (so the old concept no longer holds them), then the old one is retired.
        source_retired = {
            **source,
            "altLabel": {},
            "hiddenLabel": {},
            "deprecated": True,
            "isReplacedBy": [into.value],
            "related": [],
        }
        self.edit(old, scheme, source_retired, agent=agent, reason=reason)
        self.edit(into, scheme, target, agent=agent, reason=reason)

    # -- applying --------------------------------------------------------------------------

    def _apply(self, changes: ChangeSet, *, agent: str, reason: str) -> None:
        changelog = self.services.records.changelog  # one numbered log for thesaurus and records
        head = changelog.head()
        change = changelog.changeset(head + 1)
        log = changelog.header(head + 1, changes.subject, created=now(), creator=agent, reason=reason)
        log.append(Triple(change, NamedNode(DCT + "isPartOf"), changes.scheme))
        for kind, triples in (("addition", changes.added), ("removal", changes.removed)):
            for t in sorted(triples, key=str):
                statement = BlankNode()
                log += [
                    Triple(change, NamedNode(CS + kind), statement),
                    Triple(statement, RDF_TYPE, NamedNode(RDF + "Statement")),
                    Triple(statement, NamedNode(RDF + "subject"), t.subject),
                    Triple(statement, NamedNode(RDF + "predicate"), t.predicate),
                    Triple(statement, NamedNode(RDF + "object"), t.object),
                ]
        parts = []
        if changes.removed:
            parts.append(delete_data({changes.scheme: sorted(changes.removed, key=str)}))
        if changes.added:
            parts.append(insert_data({changes.scheme: sorted(changes.added, key=str)}))
        self.store.update(" ;\n".join([*parts, *changelog.appending(head, log)]))
