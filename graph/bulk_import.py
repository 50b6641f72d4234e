"""Bulk import: many records at once from a spreadsheet (CSV, XLSX) or from RDF (JSON-LD, Turtle).

A spreadsheet has one record per row and one column per field of the simple JSON schema of
`graph.submissions` (`FIELDS`, plus `type` and `id`); language-map fields take one column per
language (`title.da`, `title.en`; a bare `title` is Danish). A multi-valued cell separates its values
with " | ". Concepts are given by code (notation), IRI or label (Danish or English, any case;
æ/ø/å also match ae/oe/aa); a label that names several concepts is an error naming them. RDF files
may hold any number of records (`split_records`).

Every row is checked first (a dry run changes nothing). Applying writes the valid rows as pending
submissions, or published at once, in ONE ledger transaction and one store transaction, and indexes
them in one commit. Re-importing is idempotent: each row has an identity key — the record's IRI when
the row gives one, else its web address (`url`), else its type and normalised title — and rows
imported before are matched to the record they made; a row whose content did not change is
reported "unchanged" and nothing is written for it.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import secrets
import sqlite3
import time
import unicodedata
import urllib.parse
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox
from pyoxigraph import BlankNode, NamedNode, Triple

from graph.iris import SCHEMA, Iris, RecordKind
from graph.ledger import RecordStatus, now
from graph.rdf import RdfSyntaxError, parse_quads
from graph.records import SYSTEM_PROPERTIES, Record, split_records
from graph.search.analysis import fold
from graph.search.thesaurus import CONCEPT_FACETS, Thesaurus
from graph.submissions import (
    CONCEPT,
    CONCEPTS,
    FIELD_BY_NAME,
    FIELDS,
    LANG_LIST_MAP,
    LANG_MAP,
    RECORD,
    RECORDS,
    TEXTS,
    FieldSpec,
    SubmissionRefused,
    field_for_path,
    record_from_json,
)

if TYPE_CHECKING:
    from graph.services import Services

#: Between the values of a multi-valued cell (spaces around it are optional).
SEPARATOR = "|"
#: The largest file the upload page takes (the CLI reads any size).
MAX_UPLOAD_BYTES = 20_000_000
#: How long an uploaded file waits for its "apply" step.
STAGED_SECONDS = 24 * 3600
URL = SCHEMA + "url"


class ImportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    jsonld = "jsonld"
    turtle = "turtle"


SUFFIXES = {
    ".csv": ImportFormat.csv,
    ".xlsx": ImportFormat.xlsx,
    ".jsonld": ImportFormat.jsonld,
    ".json": ImportFormat.jsonld,
    ".ttl": ImportFormat.turtle,
}
RDF_FORMATS = {ImportFormat.jsonld: ox.RdfFormat.JSON_LD, ImportFormat.turtle: ox.RdfFormat.TURTLE}


class ImportRefused(Exception):
    """The file as a whole cannot be imported (unknown type, unknown column, not parseable…)."""

    def __init__(self, en: str, da: str) -> None:
        super().__init__(en)
        self.messages = {"en": en, "da": da}

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages["en"]


@dataclass(frozen=True)
class Problem:
    """What is wrong with a row (or a warning about it), naming the field (column) when there is one."""

    field: str | None
    messages: dict[str, str]

    def message(self, lang: str) -> str:
        return self.messages.get(lang) or self.messages.get("en") or next(iter(self.messages.values()), "")


class RowStatus(StrEnum):
    new = "new"  # valid: a new record (a new submission, or published)
    update = "update"  # valid: a new version of a record imported or published before
    unchanged = "unchanged"  # imported before with this very content: nothing to do
    error = "error"  # not imported; `problems` say why


@dataclass
class ImportRow:
    number: int  # spreadsheet row (the header is row 1), or the record's place in an RDF file
    kind: str
    title: str
    iri: str = ""
    status: RowStatus = RowStatus.new
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    submission: str | None = None  # the pending submission an applied import made
    key: str = field(default="", repr=False)
    record: Record | None = field(default=None, repr=False)
    explicit_iri: bool = field(default=False, repr=False)  # the row named its record (id / IRI)

    def fail(self, field_name: str | None, en: str, da: str) -> None:
        self.problems.append(Problem(field_name, {"en": en, "da": da}))
        self.status = RowStatus.error


@dataclass
class ImportReport:
    source: str
    format: ImportFormat
    rows: list[ImportRow]
    applied: bool
    publish: bool

    def count(self, status: RowStatus) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def errors(self) -> list[ImportRow]:
        return [r for r in self.rows if r.status == RowStatus.error]

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format.value,
            "applied": self.applied,
            "publish": self.publish,
            "counts": {s.value: self.count(s) for s in RowStatus},
            "rows": [
                {
                    "row": r.number,
                    "type": r.kind,
                    "title": r.title,
                    "iri": r.iri,
                    "status": r.status.value,
                    "submission": r.submission,
                    "problems": [{"field": p.field, "messages": p.messages} for p in r.problems],
                    "warnings": [{"field": p.field, "messages": p.messages} for p in r.warnings],
                }
                for r in self.rows
            ],
        }


def import_format(filename: str) -> ImportFormat:
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        known = ", ".join(sorted(SUFFIXES))
        raise ImportRefused(
            f"{filename}: unknown file type {suffix or '(none)'!r}; use one of {known}",
            f"{filename}: ukendt filtype {suffix or '(ingen)'!r}; brug en af {known}",
        )
    return SUFFIXES[suffix]


# -- the column layout ----------------------------------------------------------------------------


def column_layout() -> list[tuple[str, FieldSpec | None]]:
    """Every column a spreadsheet may have, in documentation order (the upload page lists them)."""
    columns: list[tuple[str, FieldSpec | None]] = [("type", None), ("id", None)]
    for spec in FIELDS:
        if spec.shape in (LANG_MAP, LANG_LIST_MAP):
            columns += [(f"{spec.name}.da", spec), (f"{spec.name}.en", spec)]
        else:
            columns.append((spec.name, spec))
    return columns


_COLUMN = re.compile(r"^(?P<name>[A-Za-z]+)(?:\.(?P<lang>[a-z]{2,3}))?$")
_BY_LOWER = {name.lower(): name for name in [*FIELD_BY_NAME, "type", "id"]}


def _columns(header: Sequence[str]) -> list[tuple[str, str | None] | None]:
    """Each header cell as (field, language); None for an empty one. An unknown column refuses the file,
    since ignoring it would silently drop what the user meant to import."""
    columns: list[tuple[str, str | None] | None] = []
    seen: set[tuple[str, str | None]] = set()
    for cell in header:
        text = cell.strip()
        if not text:
            columns.append(None)
            continue
        match = _COLUMN.match(text)
        name = _BY_LOWER.get(match.group("name").lower()) if match else None
        lang = match.group("lang") if match else None
        spec = FIELD_BY_NAME.get(name or "")
        multilingual = spec is not None and spec.shape in (LANG_MAP, LANG_LIST_MAP)
        if name is None or (lang and not multilingual):
            raise ImportRefused(
                f"unknown column {text!r}; the columns are the fields of the simple JSON schema (see the README)",
                f"ukendt kolonne {text!r}; kolonnerne er felterne i det enkle JSON-skema (se README)",
            )
        column = (name, (lang or "da") if multilingual else None)
        if column in seen:
            raise ImportRefused(f"the column {text!r} occurs twice", f"kolonnen {text!r} forekommer to gange")
        seen.add(column)
        columns.append(column)
    if ("type", None) not in seen:
        raise ImportRefused("the column 'type' is missing", "kolonnen 'type' mangler")
    return columns


def _cell(value: object) -> str:
    """A spreadsheet cell as text: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_table(data: bytes, fmt: ImportFormat) -> tuple[list[str], Iterator[tuple[int, list[str]]]]:
    """The header and the (row number, cells) of a CSV or XLSX file."""
    if fmt == ImportFormat.xlsx:
        import openpyxl  # only needed here; keeps the start of every other command fast

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many types for a file that is not XLSX
            raise ImportRefused(f"not a readable .xlsx file: {exc}", f"ikke en læsbar .xlsx-fil: {exc}") from None
        rows = ([_cell(v) for v in row] for row in book.worksheets[0].iter_rows(values_only=True))
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")  # what Excel writes for "CSV" on Danish Windows
        first = text.split("\n", 1)[0]
        delimiter = max(",;\t", key=first.count)  # Danish Excel writes ';'
        rows = ([c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = next(rows, None)
    if header is None:
        raise ImportRefused("the file is empty", "filen er tom")
    return header, ((number, cells) for number, cells in enumerate(rows, 2))


# -- concepts by code, IRI or label ------------------------------------------------------------------


def _label_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


class ConceptResolver:
    """Reads a concept reference of a cell in a field's schemes: code, IRI, or a Danish or English label."""

    def __init__(self, thesaurus: Thesaurus) -> None:
        self.thesaurus = thesaurus
        self.notations: dict[tuple[str, str], str] = {}
        # scheme -> tier -> key -> concepts; tiers: preferred labels, other labels, folded (ae/oe/aa) labels
        self.labels: dict[str, list[dict[str, set[str]]]] = defaultdict(lambda: [defaultdict(set) for _ in range(3)])
        for concept in thesaurus.concepts.values():
            if concept.notation:
                self.notations[(concept.scheme, concept.notation.casefold())] = concept.iri
            tiers = self.labels[concept.scheme]
            for text, lang, kind in concept.labels:
                if lang not in ("da", "en", ""):
                    continue
                tiers[0 if kind == "pref" else 1][_label_key(text)].add(concept.iri)
                tiers[2][fold(_label_key(text))].add(concept.iri)

    @staticmethod
    @functools.cache
    def schemes(spec: FieldSpec) -> tuple[str, ...]:
        """The field's schemes, its main one first (industries: DB07, then the branchegrupper)."""
        return next((s for s in CONCEPT_FACETS.values() if spec.scheme in s), (spec.scheme,))

    def resolve(self, spec: FieldSpec, value: str, row: ImportRow) -> str | None:
        if value.startswith(("http://", "https://")):
            return value  # checked by validation: is it a concept of the field's scheme?
        schemes = self.schemes(spec)
        for scheme in schemes:
            if iri := self.notations.get((scheme, value.casefold())):
                return iri
        for tier in range(3):
            key = fold(_label_key(value)) if tier == 2 else _label_key(value)
            found = {iri for scheme in schemes for iri in self.labels[scheme][tier].get(key, ())}
            live = {iri for iri in found if not self.thesaurus.concepts[iri].deprecated}
            found = live or found
            if len(found) == 1:
                return next(iter(found))
            if found:
                names = ", ".join(
                    f"{c.label('da')} ({c.notation or c.iri})" for c in self.thesaurus.ordered(self.concepts(found))
                )
                row.fail(
                    spec.name,
                    f"{value!r} is a label of several concepts: {names}; give the code instead",
                    f"{value!r} er betegnelse for flere begreber: {names}; angiv koden i stedet",
                )
                return None
        row.fail(
            spec.name,
            f"no concept in {' or '.join(schemes)} has the code or label {value!r}",
            f"intet begreb i {' eller '.join(schemes)} har koden eller betegnelsen {value!r}",
        )
        return None

    def concepts(self, iris: Iterable[str]) -> list[Any]:
        return [self.thesaurus.concepts[i] for i in iris]


# -- identity and content ----------------------------------------------------------------------------


def normalised_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).casefold().split())


def normalised_url(url: str) -> str:
    """Scheme and host in lower case, no fragment, no trailing slash: how two spellings of one address meet."""
    parts = urllib.parse.urlsplit(url.strip())
    return urllib.parse.urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query, "")
    )


def identity_key(kind: str, iri: str | None, url: str | None, title: str | None) -> str:
    """The row's idempotency key (README, "Bulk import"): its record IRI if given, else its web address,
    else its type and normalised title; hashed so that the ledger keeps no user text in it."""
    if iri:
        basis = f"iri {iri}"
    elif url:
        basis = f"url {kind} {normalised_url(url)}"
    else:
        basis = f"title {kind} {normalised_title(title or '')}"
    return hashlib.sha256(basis.encode()).hexdigest()


def canonical(triples: Iterable[Triple], iri: NamedNode) -> str:
    """A record's content as comparable text: without the system's dates, blank nodes labelled canonically."""
    own = [t for t in triples if not (t.subject == iri and t.predicate in SYSTEM_PROPERTIES)]
    if any(isinstance(t.subject, BlankNode) or isinstance(t.object, BlankNode) for t in own):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in own)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        own = [q.triple for q in dataset]
    return "\n".join(sorted(str(t) for t in own))


def renamed(record: Record, iri: NamedNode) -> Record:
    """The record under another IRI (its `#fragment` nodes move with it)."""
    old = record.iri.value

    def move(term: Any) -> Any:
        if isinstance(term, NamedNode) and (term.value == old or term.value.startswith(old + "#")):
            return NamedNode(iri.value + term.value[len(old) :])
        return term

    return Record(iri, record.kind, [Triple(move(t.subject), t.predicate, move(t.object)) for t in record.triples])


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the import -----------------------------------------------------------------------------------------


class Importer:
    """Reads a file into rows, checks them, and (when applying) writes the valid ones in one unit."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.iris: Iris = services.iris
        self.db: sqlite3.Connection = services.ledger.db  # the ledger's table import_keys (graph/ledger.py)

    def run(
        self,
        data: bytes,
        filename: str,
        *,
        agent: str,
        apply: bool = False,
        publish: bool = False,
        may_revise: bool = True,
    ) -> ImportReport:
        """Check every row; with `apply`, import the valid ones (pending, or published with `publish`)."""
        fmt = import_format(filename)
        source = Path(filename).name
        rows = self._rdf_rows(data, fmt, source) if fmt in RDF_FORMATS else self._table_rows(data, fmt)
        partial = [r for r in rows if r.status == RowStatus.error and r.record is not None]
        self._compare_with_earlier(rows)
        todo = [r for r in rows if r.status in (RowStatus.new, RowStatus.update)]
        if not apply:
            self._check([*todo, *partial])  # one validation call for the whole file
            return ImportReport(source, fmt, rows, applied=False, publish=publish)
        self._check(partial)  # rows that are wrong anyway: validation only completes their report
        if publish:
            self._publish(todo, agent=agent, source=source)
        else:
            self._submit(todo, agent=agent, source=source, may_revise=may_revise)
        return ImportReport(source, fmt, rows, applied=apply, publish=publish)

    # -- reading ------------------------------------------------------------------------------------

    def _table_rows(self, data: bytes, fmt: ImportFormat) -> list[ImportRow]:
        header, cells = read_table(data, fmt)
        columns = _columns(header)
        resolver = ConceptResolver(self.services.search.thesaurus)
        prepared: list[tuple[ImportRow, dict[str, Any]]] = []
        for number, values in cells:
            if not any(values):
                continue  # blank lines between blocks of rows are common in spreadsheets
            row = ImportRow(number, "", "")
            data_json = self._row_json(row, columns, values, resolver)
            url = data_json.get("url") if isinstance(data_json.get("url"), str) else None
            title = data_json.get("title", {})
            row.title = title.get("da") or title.get("en") or next(iter(title.values()), "")
            row.kind = str(data_json.get("type", ""))
            iri = ""
            if row.kind in RecordKind.__members__ and isinstance(data_json.get("id"), str):
                iri = self.iris.record(RecordKind(row.kind), data_json["id"]).value
            row.explicit_iri = bool(iri)
            row.key = identity_key(row.kind, iri, url, row.title)
            prepared.append((row, data_json))
        known = self._known_keys([row.key for row, _ in prepared])
        for row, data_json in prepared:
            earlier = known.get(row.key)
            if earlier and not row.explicit_iri:
                data_json["id"] = earlier.rsplit("/", 1)[1]  # the record this row made before
            row.record = self._record(row, data_json)
            if row.record is not None:
                row.iri = row.record.iri.value
        return [row for row, _ in prepared]

    def _record(self, row: ImportRow, data_json: dict[str, Any]) -> Record | None:
        """The row's record. When some fields are wrong, the record without them, so that validation can
        still report what else is wrong with the row (the row stays an error and is never written)."""
        try:
            return record_from_json(data_json, self.iris)
        except SubmissionRefused as exc:
            errors = exc.errors or [{"field": None, "messages": {"en": exc.message, "da": exc.message}}]
            for error in errors:
                row.fail(error.get("field"), error["messages"]["en"], error["messages"]["da"])
            wrong = {e.get("field") for e in errors}
            if wrong & {None, "type", "id"}:
                return None
            try:
                return record_from_json({k: v for k, v in data_json.items() if k not in wrong}, self.iris)
            except SubmissionRefused:
                return None

    def _row_json(
        self,
        row: ImportRow,
        columns: Sequence[tuple[str, str | None] | None],
        values: Sequence[str],
        resolver: ConceptResolver,
    ) -> dict[str, Any]:
        """The simple-JSON record a row stands for; references to concepts are resolved here."""
        data: dict[str, Any] = {}
        for column, value in zip(columns, values, strict=False):
            if column is None or not value:
                continue
            name, lang = column
            spec = FIELD_BY_NAME.get(name)
            parts = [p.strip() for p in value.split(SEPARATOR) if p.strip()]
            if name == "type":
                data["type"] = value.strip().lower()
            elif name == "id":
                parsed = self.iris.parse_record(NamedNode(value)) if value.startswith(("http://", "https://")) else None
                data["id"] = parsed[1] if parsed else value
            elif spec is None:
                continue
            elif spec.shape == LANG_MAP:
                data.setdefault(name, {})[lang] = value
            elif spec.shape == LANG_LIST_MAP:
                data.setdefault(name, {})[lang] = parts
            elif spec.shape in (CONCEPT, RECORD) and len(parts) > 1:
                row.fail(name, "give one value only", "angiv kun én værdi")
            elif spec.shape in (CONCEPT, CONCEPTS):
                found = [iri for part in parts if (iri := resolver.resolve(spec, part, row))]
                if found and len(found) == len(parts):
                    data[name] = found if spec.shape == CONCEPTS else found[0]
            elif spec.shape in (RECORDS, TEXTS):
                data[name] = parts
            else:
                data[name] = value
        return data

    def _rdf_rows(self, data: bytes, fmt: ImportFormat, source: str) -> list[ImportRow]:
        try:
            quads = parse_quads(data, RDF_FORMATS[fmt], base_iri=self.iris.base, source=source)
        except RdfSyntaxError as exc:
            raise ImportRefused(str(exc), f"kan ikke læses som {fmt.value}: {exc}") from None
        subjects = {q.subject.value for q in quads if isinstance(q.subject, NamedNode)}
        records, problems = split_records((q.triple for q in quads), self.iris)
        if problems:
            raise ImportRefused(
                "; ".join(f"<{p.focus}>: {p.message('en')}" for p in problems),
                "; ".join(f"<{p.focus}>: {p.message('da')}" for p in problems),
            )
        rows = []
        for number, record in enumerate(records, 1):
            url = next(
                (t.object.value for t in record.triples if t.subject == record.iri and t.predicate.value == URL), None
            )
            row = ImportRow(number, record.kind.value, record.title(), record.iri.value, record=record)
            row.explicit_iri = record.iri.value in subjects  # else a blank node we named
            row.key = identity_key(row.kind, row.iri if row.explicit_iri else None, url, row.title)
            rows.append(row)
        known = self._known_keys([r.key for r in rows])
        for row in rows:
            earlier = known.get(row.key)
            if earlier and not row.explicit_iri and row.record is not None:
                row.record = renamed(row.record, NamedNode(earlier))
                row.iri = earlier
        return rows

    # -- matching rows with what exists -------------------------------------------------------------------

    def _known_keys(self, keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            query = f"SELECT key, iri FROM import_keys WHERE key IN ({','.join('?' * len(chunk))})"
            found.update({row[0]: row[1] for row in self.db.execute(query, list(chunk))})
        return found

    def _latest_submissions(self, iris: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """The newest submission of each record: (id, status, content)."""
        found: dict[str, tuple[str, str, str]] = {}
        for chunk in _chunks(iris):
            query = (
                "SELECT iri, id, status, content FROM submissions "
                f"WHERE iri IN ({','.join('?' * len(chunk))}) ORDER BY submitted_at, rowid"
            )
            for row in self.db.execute(query, list(chunk)):
                found[row[0]] = (row[1], row[2], row[3])
        return found

    def _compare_with_earlier(self, rows: Sequence[ImportRow]) -> None:
        """Two rows for one record are an error; a row that matches the record (published, or waiting for
        review) exactly is "unchanged"; one that differs from a published record is an update."""
        first: dict[str, ImportRow] = {}
        for row in rows:
            if row.status == RowStatus.error or row.record is None:
                continue
            same = first.get(row.key) or first.get(row.iri)
            if same is not None:
                row.fail(
                    None,
                    f"the same record as row {same.number} (same IRI, web address or title)",
                    f"samme post som række {same.number} (samme IRI, webadresse eller titel)",
                )
                continue
            first[row.key] = first[row.iri] = row
        live = [r for r in rows if r.status != RowStatus.error and r.record is not None]
        iris = [r.iri for r in live]
        entries = self.services.ledger.get_many(iris)
        submissions = self._latest_submissions([i for i in iris if i not in entries])
        for row in live:
            assert row.record is not None
            entry = entries.get(row.iri)
            if entry is None and row.iri not in submissions:
                continue  # a new record: nothing to compare with
            content = canonical(row.record.triples, row.record.iri)
            if entry is not None and entry.status == RecordStatus.published:
                published = self.services.records.triples(row.record.iri)
                row.status = (
                    RowStatus.unchanged if canonical(published, row.record.iri) == content else RowStatus.update
                )
            elif entry is not None:
                row.fail(
                    "id",
                    f"the record {row.iri} is {entry.status.value}; it cannot be imported again",
                    f"posten {row.iri} har status {entry.status.value}; den kan ikke importeres igen",
                )
            elif row.iri in submissions:
                submission_id, status, text = submissions[row.iri]
                triples = [q.triple for q in ox.parse(text, format=ox.RdfFormat.N_TRIPLES)]
                if canonical(triples, row.record.iri) == content:
                    row.status, row.submission = RowStatus.unchanged, submission_id
                    if status != "approved":
                        row.warnings.append(
                            Problem(
                                None,
                                {
                                    "en": f"imported before as submission {submission_id} ({status})",
                                    "da": f"importeret før som indsendelse {submission_id} ({status})",
                                },
                            )
                        )
                elif status != "rejected":
                    row.fail(
                        None,
                        f"an earlier version of this row waits for review (submission {submission_id}); "
                        "decide on it first",
                        f"en tidligere version af rækken venter på gennemsyn (indsendelse {submission_id}); "
                        "tag stilling til den først",
                    )

    # -- checking and writing -----------------------------------------------------------------------------

    def _take(self, row: ImportRow, errors: Iterable[dict[str, Any]], warnings: Iterable[dict[str, Any]]) -> None:
        for error in errors:
            row.fail(error.get("field"), error["messages"].get("en", ""), error["messages"].get("da", ""))
        row.warnings += [Problem(w.get("field"), w["messages"]) for w in warnings]

    def _violations(self, row: ImportRow, violations: Sequence[Any]) -> None:
        reported = {p.field for p in row.problems}  # a field left out for being wrong is not "missing" as well
        as_dicts = [
            {"field": name, "messages": v.messages, "violation": v.is_violation}
            for v in violations
            if (name := field_for_path(v.path, self.iris)) not in reported or name is None
        ]
        self._take(row, [d for d in as_dicts if d["violation"]], [d for d in as_dicts if not d["violation"]])

    def _check(self, rows: Sequence[ImportRow]) -> None:
        if not rows:
            return
        found = self.services.records.validate([r.record for r in rows if r.record is not None])
        for row in rows:
            self._violations(row, found.get(row.iri, []))

    def _remember(self, db: sqlite3.Connection, rows: Iterable[ImportRow], agent: str, source: str) -> None:
        at = now()
        db.executemany(
            "INSERT OR REPLACE INTO import_keys (key, iri, agent, at, source) VALUES (?, ?, ?, ?, ?)",
            [(r.key, r.iri, agent, at, source) for r in rows],
        )

    def _publish(self, rows: Sequence[ImportRow], *, agent: str, source: str) -> None:
        by_iri = {r.iri: r for r in rows}

        def remember(db: sqlite3.Connection, written: Sequence[Record]) -> None:
            self._remember(db, (by_iri[r.iri.value] for r in written), agent, source)

        outcomes = self.services.records.publish_many(
            [r.record for r in rows if r.record is not None], agent=agent, source=f"import {source}", within=remember
        )
        for outcome in outcomes:
            self._violations(by_iri[outcome.iri], outcome.violations)

    def _submit(self, rows: Sequence[ImportRow], *, agent: str, source: str, may_revise: bool) -> None:
        by_iri = {r.iri: r for r in rows}

        def remember(db: sqlite3.Connection, accepted: Sequence[Any]) -> None:
            self._remember(db, (by_iri[s.iri] for s in accepted), agent, source)

        results = self.services.submissions.submit_many(
            [r.record for r in rows if r.record is not None], agent=agent, may_revise=may_revise, within=remember
        )
        for result in results:
            row = by_iri[result.record.iri.value]
            self._take(row, result.errors, result.warnings)
            if result.submission is not None:
                row.submission = result.submission.id


# -- uploads waiting for their "apply" step (the web page) ---------------------------------------------------

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class StagedUploads:
    """An uploaded file kept between the dry run and the "apply" step, for the editor who uploaded it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def stage(self, data: bytes, filename: str, agent: str, publish: bool) -> str:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.prune()
        token = secrets.token_urlsafe(18)
        (self.directory / f"{token}.data").write_bytes(data)
        meta = {"filename": Path(filename).name, "agent": agent, "publish": publish, "sha256": _digest(data)}
        (self.directory / f"{token}.json").write_text(json.dumps(meta), encoding="utf-8")
        return token

    def load(self, token: str, agent: str) -> tuple[bytes, str, bool] | None:
        """(data, file name, publish) of an upload of this agent, or None if there is none (or it expired)."""
        if not _TOKEN.match(token):
            return None
        try:
            meta = json.loads((self.directory / f"{token}.json").read_text(encoding="utf-8"))
            data = (self.directory / f"{token}.data").read_bytes()
        except (OSError, ValueError):
            return None
        if meta.get("agent") != agent or meta.get("sha256") != _digest(data):
            return None
        return data, str(meta["filename"]), bool(meta.get("publish"))

    def discard(self, token: str) -> None:
        if _TOKEN.match(token):
            for suffix in (".data", ".json"):
                (self.directory / f"{token}{suffix}").unlink(missing_ok=True)

    def prune(self) -> None:
        cutoff = time.time() - STAGED_SECONDS
        for path in self.directory.glob("*.*"):
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def report_lines(report: ImportReport, lang: str) -> Iterator[tuple[str, str]]:
    """(style, text) lines of a row-by-row report for a terminal: one per row, one per problem."""
    words = STATUS_WORDS[lang]
    for row in report.rows:
        where = f"{row.number:>6}  {words[row.status]:<13} {row.kind:8} {row.title}"
        yield ("red" if row.status == RowStatus.error else "green", where)
        for problem in row.problems:
            yield ("", f"{'':8}{problem.field or '-'}: {problem.message(lang)}")
        for warning in row.warnings:
            yield ("yellow", f"{'':8}{warning.field or '-'}: {warning.message(lang)}")


#: The row statuses in words, for the CLI (the web page takes its words from api/i18n.py).
STATUS_WORDS: Mapping[str, Mapping[RowStatus, str]] = {
    "da": {RowStatus.new: "ny", RowStatus.update: "opdateres", RowStatus.unchanged: "uændret", RowStatus.error: "fejl"},
    "en": {
        RowStatus.new: "new",
        RowStatus.update: "update",
        RowStatus.unchanged: "unchanged",
        RowStatus.error: "error",
    },
}
