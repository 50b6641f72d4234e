"""Vocabulary import and export: RDF in any format, and a spreadsheet round trip (CSV, XLSX).

Export: a scheme's graph as Turtle, N-Triples, JSON-LD or RDF/XML, or as a table with one row per
concept and one column per property and language (`SPREADSHEET` below, documented in the README).

Import works in two steps, the same for the CLI (`amv vocab import`) and the editors' page:
`plan_import` reads the file and computes what it would change — for an existing scheme the exact
diff against the store, validated by `Thesaurus.apply` as a dry run; for a new scheme its graph,
repaired as skosify does and validated with the SKOS shapes — and `apply_import` applies exactly
that. A plan carries a fingerprint of the schemes it reads; applying refuses (409) when the
fingerprint no longer matches, i.e. when a scheme changed between preview and confirmation.

- A spreadsheet imports into an existing scheme. Only the columns present are compared (a file with
  just `notation` and `prefLabel@en` changes English preferred labels and nothing else); concepts the
  file does not list are left as they are; a row without `uri` is a new concept `<scheme>/<notation>`.
  Narrower links, `skos:related` on the other concept and `skos:hasTopConcept` follow as inverses.
- An RDF file describes its concepts completely: for an existing scheme each concept in the file
  becomes exactly what the file says. A file whose schemes are not ours imports as new schemes
  (several schemes → several schemes): SKOS-XL labels are flattened to SKOS labels, missing
  `skos:inScheme` is repaired (from the hierarchy, else the first scheme, as skosify does), top
  concepts are inferred, and each concept gets our IRI `<base>vocab/{id}/{code}` (the code is its
  notation, else the last part of its IRI) with `skos:exactMatch` to the IRI it had.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import rdflib
import skosify
from pyoxigraph import BlankNode, Literal, NamedNode, Triple

from graph.bulk_import import MAX_UPLOAD_BYTES, ImportRefused, read_table
from graph.bulk_import import ImportFormat as TableFormat
from graph.iris import DCT, OWL, RDF_TYPE, RDFS, SKOS
from graph.rdf import SUFFIXES, RdfSyntaxError, from_rdflib, parse_quads, to_rdflib
from graph.serialize import serialize
from graph.services import Services
from graph.spreadsheets import unquote, write_csv, write_xlsx
from graph.text import danish_sort_key
from graph.validation import _Collect, compact
from graph.vocab_edit import _CODE, _LANG, LABELS, MATCHES, NOTES, ChangeSet, EditRefused, Thesaurus
from graph.vocab_schemes import SCHEME_ID, Vocabularies

SEPARATOR = " | "
CONCEPT = NamedNode(SKOS + "Concept")
CONCEPT_SCHEME = NamedNode(SKOS + "ConceptScheme")
COLLECTION = NamedNode(SKOS + "Collection")
IN_SCHEME = NamedNode(SKOS + "inScheme")
TOP_CONCEPT_OF = NamedNode(SKOS + "topConceptOf")
HAS_TOP_CONCEPT = NamedNode(SKOS + "hasTopConcept")
NOTATION = NamedNode(SKOS + "notation")
BROADER = NamedNode(SKOS + "broader")
NARROWER = NamedNode(SKOS + "narrower")
RELATED = NamedNode(SKOS + "related")
EXACT_MATCH = NamedNode(SKOS + "exactMatch")
DEPRECATED = NamedNode(OWL + "deprecated")
REPLACED_BY = NamedNode(DCT + "isReplacedBy")
TITLE = NamedNode(DCT + "title")
DESCRIPTION = NamedNode(DCT + "description")
TRUE = Literal(True)


@dataclass(frozen=True)
class ExportFormat:
    suffix: str
    media_type: str


#: `amv vocab export --format` and the export menu on the scheme page.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    "turtle": ExportFormat(".ttl", "text/turtle; charset=utf-8"),
    "nt": ExportFormat(".nt", "application/n-triples"),
    "jsonld": ExportFormat(".jsonld", "application/ld+json"),
    "xml": ExportFormat(".rdf", "application/rdf+xml"),
    "csv": ExportFormat(".csv", "text/csv; charset=utf-8"),
    "xlsx": ExportFormat(".xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
_SERIALIZE_KEYS = {"turtle": "turtle", "nt": "ntriples", "jsonld": "jsonld", "xml": "rdfxml"}
#: Columns that are not labels or notes: how each maps to a predicate, and what it holds.
LINK_COLUMNS = ("broader", "related", *MATCHES, "topConcept", "deprecated", "isReplacedBy")
_LINK_PREDICATES = {
    "broader": BROADER,
    "related": RELATED,
    **{m: NamedNode(SKOS + m) for m in MATCHES},
    "topConcept": TOP_CONCEPT_OF,
    "deprecated": DEPRECATED,
    "isReplacedBy": REPLACED_BY,
}
_YES = {"true", "yes", "ja", "x", "1"}
_NO = {"", "false", "no", "nej", "0"}


class ImportFailed(Exception):
    """An import that cannot go ahead as a whole; `status` is the HTTP status that fits."""

    def __init__(self, status: int, en: str, da: str) -> None:
        super().__init__(en)
        self.status = status
        self.messages = {"en": en, "da": da}

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages["en"]


@dataclass(frozen=True)
class Problem:
    """Why a file cannot be imported: where (spreadsheet row and column, or the concept), in da and en."""

    messages: dict[str, str]
    row: int | None = None
    column: str | None = None
    subject: str | None = None

    def message(self, lang: str = "da") -> str:
        return self.messages.get(lang) or self.messages["en"]

    def describe(self, lang: str = "en") -> str:
        where = []
        if self.row is not None:
            where.append(("række " if lang == "da" else "row ") + str(self.row))
        if self.column:
            where.append(self.column)
        if self.subject and self.row is None:
            where.append(self.subject)
        return (", ".join(where) + ": " if where else "") + self.message(lang)

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "subject": self.subject, "messages": self.messages}


@dataclass(frozen=True)
class DiffLine:
    """One statement the import adds or removes, for showing."""

    subject: str  # the concept's code, or its IRI
    property: str  # compacted, e.g. skos:prefLabel
    value: str
    added: bool


@dataclass
class SchemeImport:
    """What an import does to one scheme."""

    scheme: NamedNode
    slug: str
    new: bool
    changes: ChangeSet
    kept: int = 0  # concepts of an existing scheme the file does not describe (left as they are)
    concepts: int = 0  # concepts the file describes
    titles: dict[str, str] = field(default_factory=dict)  # a new scheme's titles
    descriptions: dict[str, str] = field(default_factory=dict)

    def lines(self, limit: int | None = None) -> list[DiffLine]:
        codes = _codes(self.changes.added | self.changes.removed, self.scheme)

        def show(term: object) -> str:
            if isinstance(term, NamedNode):
                return codes.get(term.value) or compact(term.value)
            if isinstance(term, Literal):
                return f"{term.value} @{term.language}" if term.language else term.value
            return str(term)

        lines = [
            DiffLine(show(t.subject), compact(t.predicate.value), show(t.object), added)
            for added, triples in ((False, self.changes.removed), (True, self.changes.added))
            for t in triples
        ]
        lines.sort(key=lambda d: (_natural(d.subject), d.property, d.added, d.value))
        return lines[:limit] if limit is not None else lines


@dataclass
class ImportPlan:
    filename: str
    schemes: list[SchemeImport] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # repairs made (English; shown as they are)
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def empty(self) -> bool:
        return all(s.changes.empty for s in self.schemes)

    @property
    def added(self) -> int:
        return sum(len(s.changes.added) for s in self.schemes)

    @property
    def removed(self) -> int:
        return sum(len(s.changes.removed) for s in self.schemes)


# -- export ------------------------------------------------------------------------------------------


def scheme_iri(services: Services, scheme: str) -> NamedNode:
    """A scheme named by its id (`factors`) or its IRI."""
    return NamedNode(scheme) if scheme.startswith(("http://", "https://")) else services.iris.scheme(scheme)


def export_scheme(services: Services, scheme: NamedNode, fmt: str) -> bytes:
    """The scheme's graph in one of EXPORT_FORMATS (ImportFailed 404 when there is no such scheme)."""
    if fmt not in EXPORT_FORMATS:
        raise ImportFailed(400, f"Unknown format {fmt!r}.", f"Ukendt format {fmt!r}.")
    if not Thesaurus(services).scheme_exists(scheme):
        raise ImportFailed(404, f"No concept scheme {scheme.value}.", f"Intet begrebssystem {scheme.value}.")
    triples = services.store.graph_triples(scheme)
    if fmt in _SERIALIZE_KEYS:
        # JSON-LD with its context inline: an exported file is read offline, where a context URL is not.
        return serialize(triples, _SERIALIZE_KEYS[fmt], services.iris, context_url=None)
    header, rows = scheme_table(triples, scheme)
    if fmt == "csv":
        return write_csv(header, rows)
    return write_xlsx(header, rows, title=slug_of(services, scheme), text_columns=("notation",))


def slug_of(services: Services, scheme: NamedNode) -> str:
    return scheme.value.removeprefix(services.iris.base + "vocab/")


def scheme_table(triples: Iterable[Triple], scheme: NamedNode) -> tuple[list[str], list[list[str]]]:
    """The scheme as a table: one row per concept (in code order), one column per property and language."""
    by_subject = _by_subject(triples)
    concepts = [s for s, ts in by_subject.items() if Triple(s, IN_SCHEME, scheme) in ts]
    codes = {c.value: _notation(by_subject[c]) for c in concepts}
    languages: dict[str, set[str]] = {name: {"da", "en"} for name in LABELS + NOTES}
    for c in concepts:
        for t in by_subject[c]:
            name = t.predicate.value.removeprefix(SKOS)
            if name in languages and isinstance(t.object, Literal):
                languages[name].add(t.object.language or "")
    literal_columns = [
        (name, lang)
        for name in LABELS + NOTES
        for lang in sorted(languages[name], key=lambda g: (g not in ("da", "en"), g))
    ]
    header = ["uri", "notation"] + [f"{n}@{g}" if g else n for n, g in literal_columns] + list(LINK_COLUMNS)
    rows = []
    for c in sorted(concepts, key=lambda c: _natural(codes[c.value] or c.value)):
        ts = by_subject[c]
        row = [c.value, codes[c.value] or ""]
        for name, lang in literal_columns:
            values = sorted(
                t.object.value
                for t in ts
                if t.predicate.value == SKOS + name
                and isinstance(t.object, Literal)
                and (t.object.language or "") == lang
            )
            row.append(SEPARATOR.join(values))
        for column in LINK_COLUMNS:
            predicate = _LINK_PREDICATES[column]
            objects = [t.object for t in ts if t.predicate == predicate]
            if column == "topConcept":
                row.append("true" if scheme in objects else "")
            elif column == "deprecated":
                row.append("true" if any(o.value in ("true", "1") for o in objects) else "")  # type: ignore[union-attr]
            else:
                row.append(SEPARATOR.join(sorted(codes.get(o.value) or o.value for o in objects)))  # type: ignore[union-attr]
        rows.append(row)
    return header, rows


# -- planning an import ------------------------------------------------------------------------------


def plan_import(services: Services, data: bytes, filename: str, *, slug: str | None = None) -> ImportPlan:
    """What importing the file would change (nothing is written). Problems name rows or concepts."""
    suffix = Path(filename).suffix.lower()
    plan = ImportPlan(filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImportFailed(
            413,
            f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB.",
            f"Filen er større end {MAX_UPLOAD_BYTES // 1_000_000} MB.",
        )
    if slug is not None and not SCHEME_ID.match(slug):
        raise ImportFailed(
            400,
            f"{slug!r} is not a scheme id (2–40 lower-case letters, digits and -).",
            f"{slug!r} er ikke et id for et begrebssystem (2–40 små bogstaver, cifre og -).",
        )
    if suffix in (".csv", ".xlsx"):
        _plan_table(services, plan, data, TableFormat(suffix[1:]), slug)
    elif suffix in SUFFIXES:
        _plan_rdf(services, plan, data, suffix, slug)
    else:
        known = ", ".join(sorted({".csv", ".xlsx", *SUFFIXES}))
        raise ImportFailed(
            415,
            f"Unknown file type {suffix or filename!r}; use one of {known}.",
            f"Ukendt filtype {suffix or filename!r}; brug en af {known}.",
        )
    plan.fingerprint = fingerprint(services, [s.scheme for s in plan.schemes])
    return plan


def fingerprint(services: Services, schemes: Sequence[NamedNode]) -> str:
    """A digest of the schemes' graphs as they are now (or of their absence)."""
    digest = hashlib.sha256()
    for scheme in sorted(schemes, key=str):
        digest.update(scheme.value.encode() + b"\n")
        lines = sorted(str(t) for t in services.store.graph_triples(scheme))
        digest.update(("\n".join(lines) if lines else "absent").encode("utf-8"))
    return digest.hexdigest()


def apply_import(services: Services, plan: ImportPlan, *, agent: str, reason: str) -> list[ChangeSet]:
    """Apply a plan made by `plan_import`: one changeset per existing scheme; a new scheme is created
    (its header, like the "new scheme" form) and then filled as one changeset."""
    if not plan.ok:
        raise ImportFailed(422, "The file has errors; nothing was changed.", "Filen har fejl; intet blev ændret.")
    if fingerprint(services, [s.scheme for s in plan.schemes]) != plan.fingerprint:
        raise ImportFailed(
            409,
            "The scheme has changed since the preview; nothing was changed. Preview the file again.",
            "Begrebssystemet er ændret siden forhåndsvisningen; intet blev ændret. Forhåndsvis filen igen.",
        )
    thesaurus = Thesaurus(services)
    applied = []
    for target in plan.schemes:
        if target.new:
            Vocabularies(services).create_scheme(
                target.slug, target.titles, target.descriptions or None, agent=agent, reason=reason
            )
        if not target.changes.empty:
            applied.append(thesaurus.apply(target.changes, agent=agent, reason=reason))
    return applied


def _problems_from(exc: EditRefused, rows: dict[str, int], codes: dict[str, str]) -> list[Problem]:
    """The refusal of a dry run, by spreadsheet row (or concept code) instead of IRI."""
    if not exc.violations:
        return [Problem({"en": exc.message, "da": exc.message})]
    found = []
    for v in exc.violations:
        column = compact(v.path).removeprefix("skos:") if v.path else None
        found.append(Problem(v.messages, rows.get(v.focus), column or None, codes.get(v.focus, v.focus) or None))
    return found


# -- spreadsheets --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Column:
    name: str
    kind: str  # uri | notation | literal | link
    predicate: NamedNode | None = None
    lang: str = ""


def _table_columns(header: Sequence[str], plan: ImportPlan) -> list[_Column | None]:
    columns: list[_Column | None] = []
    seen: set[str] = set()
    for name in header:
        if not name:
            columns.append(None)
            continue
        prop, at, lang = name.partition("@")
        column: _Column | None = None
        if name in ("uri", "notation"):
            column = _Column(name, name)
        elif name in LINK_COLUMNS:
            column = _Column(name, "link", _LINK_PREDICATES[name])
        elif prop in LABELS + NOTES and (not at or _LANG.match(lang)):
            column = _Column(name, "literal", NamedNode(SKOS + prop), lang)
        if column is None:
            plan.problems.append(
                Problem(
                    {
                        "en": f"unknown column {name!r} (see the README for the columns)",
                        "da": f"ukendt kolonne {name!r} (se README for kolonnerne)",
                    },
                    row=1,
                    column=name,
                )
            )
        elif name in seen:
            plan.problems.append(
                Problem({"en": f"the column {name!r} appears twice", "da": f"kolonnen {name!r} står to gange"}, 1, name)
            )
            column = None
        seen.add(name)
        columns.append(column)
    if "notation" not in seen:
        plan.problems.append(
            Problem(
                {"en": "the column 'notation' (the codes) is required", "da": "kolonnen 'notation' (koderne) mangler"},
                1,
            )
        )
    return columns


def _plan_table(services: Services, plan: ImportPlan, data: bytes, fmt: TableFormat, slug: str | None) -> None:
    try:
        header, lines = read_table(data, fmt)
        table = [(number, [unquote(c) for c in cells]) for number, cells in lines]
    except ImportRefused as exc:
        raise ImportFailed(400, exc.messages["en"], exc.messages["da"]) from None
    header = [h.strip() for h in header]
    while header and not header[-1]:
        header.pop()
    columns = _table_columns(header, plan)
    if slug is None:
        slug = _slug_from_uris(services, [cells[header.index("uri")] for _, cells in table if "uri" in header])
    if slug is None:
        raise ImportFailed(
            400,
            "Name the scheme to import into (--id, or choose it on the page); the file's uri column does not say.",
            "Angiv begrebssystemet, der skal importeres til (--id, eller vælg det på siden); "
            "filens uri-kolonne siger det ikke.",
        )
    scheme = services.iris.scheme(slug)
    thesaurus = Thesaurus(services)
    if not thesaurus.scheme_exists(scheme):
        raise ImportFailed(
            404,
            f"There is no scheme {slug!r}: a spreadsheet imports into an existing scheme (create it first).",
            f"Der er intet begrebssystem {slug!r}: et regneark importeres til et eksisterende (opret det først).",
        )
    if plan.problems:
        return
    store = _by_subject(services.store.graph_triples(scheme))
    stored = {s for s, ts in store.items() if Triple(s, IN_SCHEME, scheme) in ts}
    by_code = {code: c for c in stored if (code := _notation(store[c]))}

    # First pass: which concept each row describes.
    rows: list[tuple[int, NamedNode, dict[_Column, str]]] = []
    row_of: dict[str, int] = {}
    code_rows: dict[str, int] = {}
    file_codes: dict[str, NamedNode] = {}
    for number, cells in table:
        values = {c: (cells[i].strip() if i < len(cells) else "") for i, c in enumerate(columns) if c is not None}
        if not any(values.values()):
            continue
        code = next((v for c, v in values.items() if c.kind == "notation"), "")
        uri = next((v for c, v in values.items() if c.kind == "uri"), "")

        def problem(column: str, en: str, da: str, number: int = number) -> None:
            plan.problems.append(Problem({"en": en, "da": da}, number, column))

        if not _CODE.match(code):
            problem(
                "notation",
                f"{code!r} is not a code: letters, digits, . and - (at most 40)",
                f"{code!r} er ikke en kode: bogstaver, cifre, . og - (højst 40)",
            )
            continue
        if code in code_rows:
            problem(
                "notation",
                f"the code {code} is also on row {code_rows[code]}",
                f"koden {code} står også i række {code_rows[code]}",
            )
            continue
        code_rows[code] = number
        concept = _row_concept(uri, code, scheme, stored)
        if concept is None:
            problem(
                "uri",
                f"{uri!r}: a new concept's uri must be {scheme.value}/{code} (or leave it empty)",
                f"{uri!r}: et nyt begrebs uri skal være {scheme.value}/{code} (eller stå tomt)",
            )
            continue
        if concept.value in row_of:
            problem(
                "uri",
                f"the concept is also on row {row_of[concept.value]}",
                f"begrebet står også i række {row_of[concept.value]}",
            )
            continue
        row_of[concept.value] = number
        file_codes[code] = concept
        rows.append((number, concept, values))

    in_file = {c for _, c, _ in rows}

    def resolve(token: str, column: str, number: int, codes_allowed: bool) -> NamedNode | None:
        if token.startswith(("http://", "https://")):
            try:
                return NamedNode(token)
            except ValueError:
                pass
        elif codes_allowed and _CODE.match(token):
            if token in file_codes:
                return file_codes[token]
            known = by_code.get(token)
            if known is not None and known not in in_file:  # a concept the file re-codes lost its old code
                return known
            plan.problems.append(
                Problem(
                    {"en": f"unknown code {token!r}", "da": f"ukendt kode {token!r}"},
                    number,
                    column,
                )
            )
            return None
        plan.problems.append(
            Problem(
                {
                    "en": f"{token!r} is not {'a code or ' if codes_allowed else ''}an IRI (http://…)",
                    "da": f"{token!r} er ikke {'en kode eller ' if codes_allowed else ''}en IRI (http://…)",
                },
                number,
                column,
            )
        )
        return None

    # Second pass: what each row says.
    wanted: dict[NamedNode, set[Triple]] = {}
    for number, concept, values in rows:
        triples = {Triple(concept, RDF_TYPE, CONCEPT), Triple(concept, IN_SCHEME, scheme)}
        for column, cell in values.items():
            if column.kind == "notation":
                triples.add(Triple(concept, NOTATION, _same_literal(store.get(concept, set()), NOTATION, cell, "")))
            elif column.kind == "literal":
                assert column.predicate is not None
                for text in _split(cell):
                    triples.add(Triple(concept, column.predicate, Literal(text, language=column.lang or None)))
            elif column.name in ("topConcept", "deprecated"):
                flag = cell.lower()
                if flag not in _YES | _NO:
                    plan.problems.append(
                        Problem(
                            {
                                "en": f"{cell!r}: write true or leave empty",
                                "da": f"{cell!r}: skriv true eller lad stå tomt",
                            },
                            number,
                            column.name,
                        )
                    )
                elif flag in _YES:
                    triples.add(
                        Triple(concept, TOP_CONCEPT_OF, scheme)
                        if column.name == "topConcept"
                        else Triple(concept, DEPRECATED, TRUE)
                    )
            elif column.kind == "link":
                assert column.predicate is not None
                for token in _split(cell):
                    target = resolve(token, column.name, number, codes_allowed=column.name not in MATCHES)
                    if target is not None:
                        triples.add(Triple(concept, column.predicate, target))
        # A new concept without a broader concept starts at the top (existing ones keep what they are).
        if concept not in stored and not any(t.predicate in (BROADER, TOP_CONCEPT_OF) for t in triples):
            triples.add(Triple(concept, TOP_CONCEPT_OF, scheme))
        wanted[concept] = triples
    if plan.problems:
        return

    # The type and skos:inScheme are only ever added; the notation column is always there.
    managed = _managed_keys([c for c in columns if c is not None]) | {(NOTATION, "*")}
    changes = ChangeSet(scheme, scheme)
    for concept, triples in wanted.items():
        old = store.get(concept, set())
        changes.added |= triples - old
        changes.removed |= {t for t in old if _is_managed(t, managed) and t not in triples}
    _related_both_ways(changes, store, wanted, "related" in {c.name for c in columns if c})
    _inverses(changes, store, scheme)
    plan.schemes.append(SchemeImport(scheme, slug, False, changes, kept=len(stored - in_file), concepts=len(in_file)))
    _dry_run(thesaurus, plan, row_of, {c.value: code for code, c in file_codes.items()})


def _dry_run(thesaurus: Thesaurus, plan: ImportPlan, rows: dict[str, int], codes: dict[str, str]) -> None:
    target = plan.schemes[-1]
    if target.changes.empty:
        return
    try:
        target.changes = thesaurus.apply(target.changes, agent="", reason="", dry_run=True)
    except EditRefused as exc:
        plan.problems += _problems_from(exc, rows, codes)


def _row_concept(uri: str, code: str, scheme: NamedNode, stored: set[NamedNode]) -> NamedNode | None:
    """The concept a row describes: its uri when the scheme has it; a new concept is `<scheme>/<code>`."""
    minted = NamedNode(f"{scheme.value}/{code}")
    if not uri:
        return minted
    try:
        given = NamedNode(uri)
    except ValueError:
        return None
    if given in stored or given == minted:
        return given
    return None


def _slug_from_uris(services: Services, uris: Iterable[str]) -> str | None:
    prefix = services.iris.base + "vocab/"
    for uri in uris:
        if uri.startswith(prefix) and "/" in uri[len(prefix) :]:
            return uri[len(prefix) :].split("/", 1)[0]
    return None


def _managed_keys(columns: Sequence[_Column]) -> set[tuple[NamedNode, str]]:
    """(predicate, language) pairs the file's columns describe completely; "*" stands for any value."""
    keys: set[tuple[NamedNode, str]] = set()
    for c in columns:
        if c.kind == "literal" and c.predicate is not None:
            keys.add((c.predicate, c.lang))
        elif c.kind == "link" and c.predicate is not None:
            keys.add((c.predicate, "*"))
    return keys


def _is_managed(t: Triple, keys: set[tuple[NamedNode, str]]) -> bool:
    if (t.predicate, "*") in keys:  # type: ignore[comparison-overlap]
        return True
    return isinstance(t.object, Literal) and (t.predicate, t.object.language or "") in keys


def _related_both_ways(
    changes: ChangeSet, store: dict[NamedNode, set[Triple]], wanted: dict[NamedNode, set[Triple]], managed: bool
) -> None:
    """skos:related is symmetric: a link added on either row is added on both concepts; one taken off
    either row goes from both."""
    if not managed:
        return
    pairs: set[frozenset[NamedNode]] = set()
    for concept, triples in wanted.items():
        pairs |= {frozenset((concept, t.object)) for t in triples if t.predicate == RELATED}  # type: ignore[arg-type]
        pairs |= {frozenset((concept, t.object)) for t in store.get(concept, ()) if t.predicate == RELATED}  # type: ignore[arg-type]
    for pair in pairs:
        if len(pair) != 2:
            continue
        a, b = sorted(pair, key=str)
        before = Triple(a, RELATED, b) in store.get(a, ()) or Triple(b, RELATED, a) in store.get(b, ())

        def says(x: NamedNode, y: NamedNode) -> bool:
            return Triple(x, RELATED, y) in (wanted[x] if x in wanted else store.get(x, set()))

        keep = says(a, b) and says(b, a) if before else says(a, b) or says(b, a)
        for x, y in ((a, b), (b, a)):
            t = Triple(x, RELATED, y)
            present = t in store.get(x, ())
            changes.added.discard(t)
            changes.removed.discard(t)
            if keep and not present:
                changes.added.add(t)
            elif not keep and present:
                changes.removed.add(t)


def _inverses(changes: ChangeSet, store: dict[NamedNode, set[Triple]], scheme: NamedNode) -> None:
    """Narrower links follow the broader links that change, hasTopConcept follows topConceptOf."""
    for kind, triples in (("added", set(changes.added)), ("removed", set(changes.removed))):
        for t in triples:
            if t.predicate == BROADER and isinstance(t.object, NamedNode):
                inverse = Triple(t.object, NARROWER, t.subject)
            elif t.predicate == TOP_CONCEPT_OF and t.object == scheme:
                inverse = Triple(scheme, HAS_TOP_CONCEPT, t.subject)
            else:
                continue
            present = inverse in store.get(inverse.subject, ())  # type: ignore[arg-type]
            if kind == "added" and not present:
                changes.added.add(inverse)
            elif kind == "removed" and present:
                changes.removed.add(inverse)


# -- RDF files ---------------------------------------------------------------------------------------


def _plan_rdf(services: Services, plan: ImportPlan, data: bytes, suffix: str, slug: str | None) -> None:
    try:
        quads = parse_quads(data, SUFFIXES[suffix], source=plan.filename)
    except RdfSyntaxError as exc:
        raise ImportFailed(400, str(exc), f"Filen er ikke gyldig RDF: {exc}") from None
    triples = list(services.iris.rebase_triples(q.triple for q in quads))
    schemes = sorted({t.subject for t in triples if t.predicate == RDF_TYPE and t.object == CONCEPT_SCHEME}, key=str)
    schemes += sorted({t.object for t in triples if t.predicate == IN_SCHEME} - set(schemes), key=str)  # type: ignore[arg-type]
    schemes = [s for s in schemes if isinstance(s, NamedNode)]
    if slug is not None and len(schemes) > 1:
        raise ImportFailed(
            400,
            f"The file holds {len(schemes)} schemes; --id names the scheme only for a file with one.",
            f"Filen rummer {len(schemes)} begrebssystemer; --id navngiver kun begrebssystemet i en fil med ét.",
        )
    thesaurus = Thesaurus(services)
    ours = services.iris.base + "vocab/"
    existing: list[tuple[NamedNode, NamedNode]] = []  # (scheme in the file, scheme in the store)
    foreign: list[NamedNode] = []
    for s in schemes:
        target = services.iris.scheme(slug) if slug else s
        if thesaurus.scheme_exists(target) and (slug or s.value.startswith(ours)):
            existing.append((s, target))
        else:
            foreign.append(s)
    if not schemes and slug and thesaurus.scheme_exists(services.iris.scheme(slug)):
        raise ImportFailed(
            400,
            "The file holds no concept scheme and no skos:inScheme; nothing to compare with the scheme.",
            "Filen rummer intet begrebssystem og ingen skos:inScheme; intet at sammenligne med.",
        )
    for source, target in existing:
        _plan_rdf_existing(services, thesaurus, plan, triples, source, target)
    if foreign or not schemes:
        taken = {target.value for _, target in existing}
        _plan_rdf_new(services, plan, triples, set(foreign), slug, taken)


def _plan_rdf_existing(
    services: Services,
    thesaurus: Thesaurus,
    plan: ImportPlan,
    triples: list[Triple],
    source: NamedNode,
    target: NamedNode,
) -> None:
    """Each concept of the file becomes what the file says (a foreign scheme's concepts by their code)."""
    by_subject = _by_subject(triples)
    members = {s for s, ts in by_subject.items() if Triple(s, IN_SCHEME, source) in ts}
    store = _by_subject(services.store.graph_triples(target))
    stored = {s for s, ts in store.items() if Triple(s, IN_SCHEME, target) in ts}
    rename: dict[NamedNode, NamedNode] = {source: target}
    if source != target:
        codes = _assign_codes(members, by_subject, taken=set())
        rename |= {c: NamedNode(f"{target.value}/{code}") for c, code in codes.items()}
    described = _rename(triples, rename)
    if source != target:
        described += [Triple(rename[c], EXACT_MATCH, c) for c in members if rename[c] != c]
    wanted = _by_subject(described)
    changes = ChangeSet(target, target)
    blank = False
    for concept in sorted({rename.get(c, c) for c in members}, key=str):
        new = wanted.get(concept, set())
        blank = blank or any(isinstance(t.object, BlankNode) for t in new)
        changes.added |= new - store.get(concept, set())
        changes.removed |= store.get(concept, set()) - new
    if source == target and target in wanted:  # our own scheme's header, as exported
        header = {t for t in wanted[target] if t.predicate != HAS_TOP_CONCEPT}
        old = {t for t in store.get(target, set()) if t.predicate != HAS_TOP_CONCEPT}
        changes.added |= header - old
        changes.removed |= old - header
    if blank:
        plan.problems.append(
            Problem(
                {
                    "en": "the file describes concepts with blank nodes, which cannot be imported",
                    "da": "filen beskriver begreber med blanke knuder, som ikke kan importeres",
                },
                subject=target.value,
            )
        )
        return
    _inverses(changes, store, target)
    concepts = {rename.get(c, c) for c in members}
    plan.schemes.append(
        SchemeImport(
            target, slug_of(services, target), False, changes, kept=len(stored - concepts), concepts=len(concepts)
        )
    )
    codes_by_iri = {c.value: code for c in concepts if (code := _notation(wanted.get(c, set())))}
    _dry_run(thesaurus, plan, {}, codes_by_iri)


def _plan_rdf_new(
    services: Services,
    plan: ImportPlan,
    triples: list[Triple],
    foreign: set[NamedNode],
    slug: str | None,
    taken: set[str],
) -> None:
    """The file's other schemes as new schemes, repaired as skosify does."""
    graph = to_rdflib(triples)
    xl_labels = len(set(graph.subjects(rdflib.URIRef(SKOSXL + "literalForm"), None)))
    had_scheme = set(graph.subjects(rdflib.SKOS.inScheme, None))
    _inherit_schemes(graph)
    had_top = set(graph.subjects(rdflib.SKOS.topConceptOf, None)) | set(graph.objects(None, rdflib.SKOS.hasTopConcept))
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    try:
        repaired = skosify.skosify(
            graph,
            update_query=services.queries("skosxl-flatten"),
            enrich_mappings=False,  # would give the external mapping targets statements of their own
            eliminate_redundancy=False,
            break_cycles=False,  # a cycle is refused with the reason, not silently broken
        )
    except SystemExit:
        raise ImportFailed(422, "The file holds no SKOS concepts.", "Filen rummer ingen SKOS-begreber.") from None
    finally:
        root.removeHandler(collect)
    repaired_triples = from_rdflib(repaired)
    if xl_labels:
        plan.notes.append(f"{xl_labels} SKOS-XL labels flattened to SKOS labels")
    in_scheme = {s for s in repaired.subjects(rdflib.SKOS.inScheme, None)} - had_scheme
    if in_scheme:
        plan.notes.append(f"skos:inScheme added to {len(in_scheme)} concepts that had none")
    tops = set(repaired.subjects(rdflib.SKOS.topConceptOf, None)) - had_top
    if tops:
        plan.notes.append(f"{len(tops)} top concepts inferred")
    # skosify's own words, less the ones about its command-line options (titles are handled below).
    plan.notes += [m for m in collect.messages if "Multiple concept schemes" not in m and "--" not in m][:20]

    by_subject = _by_subject(repaired_triples)
    schemes = sorted(
        {t.subject for t in repaired_triples if t.predicate == RDF_TYPE and t.object == CONCEPT_SCHEME}, key=str
    )
    schemes = [s for s in schemes if isinstance(s, NamedNode) and (s in foreign or not foreign)]
    if not schemes:
        return
    existing_slugs = {r["scheme"].value for r in services.store.select(services.queries("scheme-graphs"))} | taken
    rename: dict[NamedNode, NamedNode] = {}
    home: dict[NamedNode, NamedNode] = {}  # concept -> its scheme's new IRI
    targets: list[tuple[NamedNode, NamedNode, str]] = []
    for s in schemes:
        new_slug = slug or _free_slug(_slugify(_local_name(s.value)) or "vocabulary", existing_slugs, services)
        existing_slugs.add(services.iris.scheme(new_slug).value)
        target = services.iris.scheme(new_slug)
        if Thesaurus(services).scheme_exists(target):
            raise ImportFailed(
                409, f"There is a scheme {new_slug} already.", f"Der er allerede et begrebssystem {new_slug}."
            )
        rename[s] = target
        targets.append((s, target, new_slug))
        members = {c for c, ts in by_subject.items() if Triple(c, IN_SCHEME, s) in ts and c not in home}
        for concept, code in _assign_codes(members, by_subject, taken=set()).items():
            rename[concept] = NamedNode(f"{target.value}/{code}")
            home[concept] = target
            if not _notation(by_subject[concept]):
                repaired_triples.append(Triple(concept, NOTATION, Literal(code)))
    collections = {c for c, ts in by_subject.items() if Triple(c, RDF_TYPE, COLLECTION) in ts}
    for collection in collections:
        member_home = next(
            (home[t.object] for t in by_subject[collection] if isinstance(t.object, NamedNode) and t.object in home),
            None,
        )
        if member_home is not None:
            home[collection] = member_home
    dropped = {s for s in by_subject if s not in home and s not in rename}
    if dropped:
        plan.notes.append(f"statements about {len(dropped)} resources that are neither schemes nor concepts left out")
    renamed = _rename(repaired_triples, rename)
    renamed += [Triple(new, EXACT_MATCH, old) for old, new in rename.items() if old in home and old != new]
    renamed += [Triple(rename[s], DCT_SOURCE, s) for s, _, _ in targets if rename[s] != s]
    new_home = {rename.get(c, c): h for c, h in home.items()}
    renamed, crossing = _cross_scheme_to_mappings(renamed, new_home)
    if crossing:
        plan.notes.append(f"{crossing} hierarchical or related links between the schemes turned into mappings")
    graphs: dict[NamedNode, list[Triple]] = defaultdict(list)
    for t in renamed:
        owner = t.subject if t.subject in {target for _, target, _ in targets} else new_home.get(t.subject)  # type: ignore[arg-type]
        if owner is not None:
            graphs[owner].append(t)  # type: ignore[index]
    everything: list[Triple] = []
    for _, target, new_slug in targets:
        header = [t for t in graphs[target] if t.subject == target]
        titles, descriptions, note = _titles(header, new_slug)
        if note:
            plan.notes.append(note)
        body = {t for t in graphs[target] if not (t.subject == target and t.predicate in (TITLE, DESCRIPTION))}
        body |= {Triple(target, TITLE, Literal(text, language=lang)) for lang, text in titles.items()}
        body |= {Triple(target, DESCRIPTION, Literal(text, language=lang)) for lang, text in descriptions.items()}
        count = sum(1 for t in body if t.predicate == IN_SCHEME and t.object == target)
        plan.schemes.append(
            SchemeImport(
                target,
                new_slug,
                True,
                ChangeSet(target, target, added=body),
                concepts=count,
                titles=titles,
                descriptions=descriptions,
            )
        )
        everything += body
    codes = _codes(everything, None)
    report = services.validator.validate_vocabularies(everything)
    plan.problems += [
        Problem(
            v.messages,
            column=compact(v.path).removeprefix("skos:") if v.path else None,
            subject=codes.get(v.focus, v.focus),
        )
        for v in report.errors
    ]
    # What Thesaurus.apply checks beyond the shapes: links stay inside the scheme.
    members_of = {t.subject: t.object for t in everything if t.predicate == IN_SCHEME}
    for t in everything:
        if t.predicate in (BROADER, NARROWER, RELATED) and members_of.get(t.object) != members_of.get(t.subject):  # type: ignore[arg-type]
            plan.problems.append(
                Problem(
                    {
                        "en": f"{t.object} is not a concept of this scheme",
                        "da": f"{t.object} er ikke et begreb i dette begrebssystem",
                    },
                    column=compact(t.predicate.value).removeprefix("skos:"),
                    subject=codes.get(t.subject.value, t.subject.value),  # type: ignore[union-attr]
                )
            )


_MAPPING_FOR = {
    BROADER: NamedNode(SKOS + "broadMatch"),
    NARROWER: NamedNode(SKOS + "narrowMatch"),
    RELATED: NamedNode(SKOS + "relatedMatch"),
}


def _cross_scheme_to_mappings(triples: list[Triple], home: dict[NamedNode, NamedNode]) -> tuple[list[Triple], int]:
    """Links between concepts of different schemes are mappings in SKOS (broadMatch, narrowMatch,
    relatedMatch), not hierarchy: each scheme keeps its own hierarchy."""
    out, changed = [], 0
    for t in triples:
        mapping = _MAPPING_FOR.get(t.predicate)  # type: ignore[call-overload]
        source, target = home.get(t.subject), home.get(t.object)  # type: ignore[call-overload]
        if mapping is not None and source is not None and target is not None and source != target:
            out.append(Triple(t.subject, mapping, t.object))
            changed += 1
        else:
            out.append(t)
    return out, changed


SKOSXL = "http://www.w3.org/2008/05/skos-xl#"
DCT_SOURCE = NamedNode(DCT + "source")
_TITLE_SOURCES = (DCT + "title", "http://purl.org/dc/elements/1.1/title", SKOS + "prefLabel", RDFS + "label")


def _titles(header: Sequence[Triple], slug: str) -> tuple[dict[str, str], dict[str, str], str]:
    """A new scheme's titles in Danish and English (the scheme shape wants both), from what the file has."""
    found: dict[str, str] = {}
    for source in _TITLE_SOURCES:
        for t in header:
            if t.predicate.value == source and isinstance(t.object, Literal):
                found.setdefault(t.object.language or "", t.object.value.strip())
    descriptions = {
        t.object.language: t.object.value.strip()
        for t in header
        if t.predicate == DESCRIPTION and isinstance(t.object, Literal) and t.object.language in ("da", "en")
    }
    titles = {lang: found[lang] for lang in ("da", "en") if found.get(lang)}
    fallback = next((v for v in found.values() if v), slug)
    missing = [lang for lang in ("da", "en") if lang not in titles]
    for lang in missing:
        titles[lang] = fallback
    note = f"scheme {slug}: title in {', '.join(missing)} missing, set to {fallback!r}" if missing else ""
    return titles, descriptions, note


def _inherit_schemes(graph: rdflib.Graph) -> None:
    """A concept without skos:inScheme joins the scheme of its broader (or narrower) concepts, before
    skosify puts the rest in the file's first scheme."""
    skos = rdflib.SKOS
    changed = True
    while changed:
        changed = False
        for concept in list(graph.subjects(rdflib.RDF.type, skos.Concept)):
            if graph.value(concept, skos.inScheme) is not None:
                continue
            neighbours = [*graph.objects(concept, skos.broader), *graph.subjects(skos.narrower, concept)]
            neighbours += [*graph.subjects(skos.broader, concept), *graph.objects(concept, skos.narrower)]
            for n in neighbours:
                scheme = graph.value(n, skos.inScheme) or graph.value(n, skos.topConceptOf)
                if scheme is not None:
                    graph.add((concept, skos.inScheme, scheme))
                    changed = True
                    break


def _assign_codes(
    members: Iterable[NamedNode], by_subject: dict[NamedNode, set[Triple]], *, taken: set[str]
) -> dict[NamedNode, str]:
    """A code for each concept: its notation, else the last part of its IRI, else a number — unique."""
    codes: dict[NamedNode, str] = {}
    used = set(taken)
    pending = []
    for concept in sorted(members, key=str):
        for candidate in (_notation(by_subject.get(concept, set())), _local_name(concept.value)):
            if candidate and _CODE.match(candidate) and candidate not in used:
                codes[concept] = candidate
                used.add(candidate)
                break
        else:
            pending.append(concept)
    number = 1
    for concept in pending:
        while str(number) in used:
            number += 1
        codes[concept] = str(number)
        used.add(str(number))
    return codes


def _rename(triples: Iterable[Triple], rename: dict[NamedNode, NamedNode]) -> list[Triple]:
    def term(t: object) -> object:
        return rename.get(t, t) if isinstance(t, NamedNode) else t

    return [Triple(term(t.subject), t.predicate, term(t.object)) for t in triples]  # type: ignore[arg-type]


def _local_name(iri: str) -> str:
    return re.split(r"[/#:]", iri.rstrip("/#"))[-1]


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if slug and not slug[0].isalpha():
        slug = "v-" + slug
    return slug[:40]


def _free_slug(base: str, taken: set[str], services: Services) -> str:
    base = base if SCHEME_ID.match(base) else "vocabulary"
    candidate, n = base, 2
    while services.iris.scheme(candidate).value in taken:
        candidate = f"{base[:36]}-{n}"
        n += 1
    return candidate


# -- shared small helpers ------------------------------------------------------------------------------


def _by_subject(triples: Iterable[Triple]) -> dict[NamedNode, set[Triple]]:
    grouped: dict[NamedNode, set[Triple]] = defaultdict(set)
    for t in triples:
        if isinstance(t.subject, NamedNode):
            grouped[t.subject].add(t)
    return grouped


def _notation(triples: Iterable[Triple]) -> str:
    return next((t.object.value for t in triples if t.predicate == NOTATION and isinstance(t.object, Literal)), "")


def _codes(triples: Iterable[Triple], scheme: NamedNode | None) -> dict[str, str]:
    """IRI -> code, for showing concepts by their code."""
    codes = {
        t.subject.value: t.object.value for t in triples if t.predicate == NOTATION and isinstance(t.object, Literal)
    }  # type: ignore[union-attr]
    if scheme is not None:
        prefix = scheme.value + "/"
        for t in triples:
            for term in (t.subject, t.object):
                if isinstance(term, NamedNode) and term.value.startswith(prefix):
                    codes.setdefault(term.value, term.value[len(prefix) :])
    return codes


def _same_literal(old: Iterable[Triple], predicate: NamedNode, text: str, lang: str) -> Literal:
    """The stored literal when it says the same (keeps its datatype), else a new one."""
    for t in old:
        same = isinstance(t.object, Literal) and t.object.value == text and (t.object.language or "") == lang
        if t.predicate == predicate and same:
            return t.object  # type: ignore[return-value]
    return Literal(text, language=lang or None)


def _split(cell: str) -> list[str]:
    return [v.strip() for v in cell.split("|") if v.strip()] if cell.strip() else []


def _natural(text: str) -> tuple[object, ...]:
    """Codes in their natural order: 5.2 before 5.10."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, danish_sort_key(p)) for p in re.split(r"(\d+)", text) if p)


__all__ = [
    "EXPORT_FORMATS",
    "ImportFailed",
    "ImportPlan",
    "Problem",
    "apply_import",
    "export_scheme",
    "plan_import",
    "scheme_iri",
    "scheme_table",
    "slug_of",
]
