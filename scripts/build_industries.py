#!/usr/bin/env python3
"""Build the industry vocabularies from public reference data.

Writes two SKOS concept schemes as Turtle:

* ``industries.ttl``: the complete Danish industry classification DB07 (Dansk Branchekode 2007), all five
  levels, with English labels and matches taken from NACE Rev. 2 as published by Eurostat's RAMON;
* ``branchegrupper.ttl``: the Danish Working Environment Authority's 10 main groups and 36 industry
  groups, with hand-written English labels and close matches to DB07.

Inputs (in ``--data-dir``): ``db07.tsv``, ``nace-r2-ramon.ttl`` and ``arbejdstilsynet-branchegrupper.txt``.
The output is deterministic: the same inputs always give byte-identical files.

    .venv/bin/python scripts/build_industries.py [--data-dir DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, Namespace, URIRef

REPO_ROOT = Path(__file__).resolve().parent.parent

BASE = "https://w3id.org/arbejdsmiljoviden/"
VOCAB = BASE + "vocab/"
NACE_R2 = "http://ec.europa.eu/eurostat/ramon/rdfdata/nace_r2/"
RAMON_ONTOLOGY = Namespace("http://ec.europa.eu/eurostat/ramon/ontologies/nace.rdf#")

CREATED = "2026-11-27"
VERSION = "1.0"
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
DB07_SOURCE = "https://www.dst.dk/da/Statistik/dokumentation/nomenklaturer/db07"
AT_SOURCE = "https://at.dk/"

PREFIXES = {
    "dct": "http://purl.org/dc/terms/",
    "owl": "http://www.w3.org/2002/07/owl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "vocab": VOCAB,
}

# -- DB07 ----------------------------------------------------------------------------------------------

#: DB07 "Niveau" -> (name of the level, column holding the code, column holding the parent code).
LEVELS: dict[str, tuple[str, str, str | None]] = {
    "0": ("section", "Section", None),
    "1": ("division", "Hovedgruppe", "Section"),
    "2": ("group", "Gruppe", "Hovedgruppe"),
    "3": ("class", "Undergruppe", "Gruppe"),
    "4": ("subclass", "DB07", "Undergruppe"),
}

CODE_PATTERNS = {
    "section": re.compile(r"^[A-Z]$"),
    "division": re.compile(r"^\d{2}$"),
    "group": re.compile(r"^\d{2}\.\d$"),
    "class": re.compile(r"^\d{2}\.\d{2}$"),
    "subclass": re.compile(r"^\d{2}\.\d{2}\.\d{2}$"),
}

#: Known defects of db07.tsv: code -> (text as found, corrected text). A correction is applied only while
#: the source still has the defective text, so an upstream fix is never overwritten.
DB07_TEXT_CORRECTIONS = {
    # The text of division 64 is cut off after "og"; completed as in Danmarks Statistik's DB07.
    "64": (
        "Pengeinstitut- og finansieringsvirksomhed undtagen forsikring og",
        "Pengeinstitut- og finansieringsvirksomhed undtagen forsikring og pensionsforsikring",
    ),
}

#: English labels for DB07 codes that have neither a NACE Rev. 2 equivalent nor a parent to borrow from.
#: 99.99.99 "Uoplyst" (not stated) is a six-digit row of its own, in a section "X" that has no row.
DB07_ENGLISH = {"99.99.99": "Activity not stated"}

#: Known defects of the RAMON copy: code -> (wrong, right) substring of the English name.
RAMON_NAME_CORRECTIONS = {"T": ("U0NDIFFERENTIATED", "UNDIFFERENTIATED")}


@dataclass
class Db07Entry:
    code: str
    level: str
    parent: str | None
    label_da: str
    validity: str = ""
    children: list[str] = field(default_factory=list)
    label_en: str = ""
    exact_match: str | None = None
    close_match: str | None = None
    borrowed_english: bool = False  # True when the English label is "<class label> — <code>"


@dataclass(frozen=True)
class RamonEntry:
    iri: str
    name: str


def clean_text(text: str) -> str:
    """Trim and collapse runs of whitespace."""
    return " ".join(text.split())


def read_db07(path: Path) -> dict[str, Db07Entry]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    entries: dict[str, Db07Entry] = {}
    for row in rows:
        level, code_column, parent_column = LEVELS[row["Niveau"]]
        code = row[code_column].strip()
        parent = row[parent_column].strip() if parent_column else ""
        if not CODE_PATTERNS[level].match(code):
            raise ValueError(f"row {row['ID']}: {level} code {code!r} is malformed")
        if code in entries:
            raise ValueError(f"row {row['ID']}: duplicate code {code!r}")
        label = clean_text(row["Tekst"])
        if code in DB07_TEXT_CORRECTIONS:
            found, corrected = DB07_TEXT_CORRECTIONS[code]
            if label == found:
                label = corrected
        if not label:
            raise ValueError(f"row {row['ID']}: {code} has no text")
        entries[code] = Db07Entry(code, level, parent or None, label, clean_text(row["NB"]))
    for entry in entries.values():
        if entry.parent is not None:
            if entry.parent not in entries:
                raise ValueError(f"{entry.code}: parent {entry.parent!r} is not a DB07 code")
            entries[entry.parent].children.append(entry.code)
    return entries


def read_ramon(path: Path) -> dict[str, RamonEntry]:
    graph = Graph()
    graph.parse(path, format="turtle")
    entries: dict[str, RamonEntry] = {}
    for subject, code in graph.subject_objects(RAMON_ONTOLOGY.code):
        if not isinstance(subject, URIRef) or not str(subject).startswith(NACE_R2):
            continue
        name = clean_text(str(graph.value(subject, RAMON_ONTOLOGY.name)))
        if str(code) in RAMON_NAME_CORRECTIONS:
            wrong, right = RAMON_NAME_CORRECTIONS[str(code)]
            name = name.replace(wrong, right)
        if name.isupper():  # the section names are in capitals
            name = name[0] + name[1:].lower()
        entries[str(code)] = RamonEntry(str(subject), name)
    return entries


def validity_notes(note: str) -> tuple[str, str] | None:
    """DB07's NB column ("gælder 2008-2012", "valid from  2014", ...) as a Danish and an English note."""
    if not note:
        return None
    years = re.findall(r"\d{4}", note)
    if len(years) == 2:
        return f"Gyldig i DB07 {years[0]}–{years[1]}.", f"Valid in DB07 {years[0]}–{years[1]}."
    if len(years) == 1:
        return f"Gyldig i DB07 fra {years[0]}.", f"Valid in DB07 from {years[0]}."
    raise ValueError(f"cannot read the validity note {note!r}")


def add_english(entries: dict[str, Db07Entry], ramon: dict[str, RamonEntry]) -> None:
    """Give every DB07 entry an English label and, where there is one, a match to NACE Rev. 2."""
    for code in sorted(entries, key=lambda c: c.count(".")):  # parents before children
        entry = entries[code]
        if entry.level != "subclass":
            if code in ramon:
                entry.label_en, entry.exact_match = ramon[code].name, ramon[code].iri
            elif entry.parent in ramon:
                # The DB07 2008-2012 classes 42.10, 42.20 and 42.90 each covered a whole NACE group.
                entry.label_en, entry.close_match = ramon[entry.parent].name, ramon[entry.parent].iri
            else:
                raise ValueError(f"{code}: no English label in NACE Rev. 2")
            continue
        if entry.parent is None:
            entry.label_en = DB07_ENGLISH[code]
            continue
        parent = entries[entry.parent]
        parent_match = parent.exact_match or parent.close_match
        if parent.children == [code] and code.endswith(".00"):
            # The class is not subdivided: the subclass is the class.
            entry.label_en = parent.label_en
            if parent.exact_match:
                entry.exact_match = parent.exact_match
            else:
                entry.close_match = parent_match
        else:
            entry.label_en = f"{parent.label_en} — {code}"
            entry.close_match = parent_match
            entry.borrowed_english = True


# -- Arbejdstilsynet's branchegrupper -----------------------------------------------------------------

#: English labels, keyed by the Danish names in arbejdstilsynet-branchegrupper.txt.
BRANCHEGRUPPER_ENGLISH = {
    "Bygge og anlæg": "Building and construction",
    "Anlægsarbejde": "Civil engineering",
    "Opførelse og nedrivning af byggeri": "Construction and demolition of buildings",
    "Færdiggørelse af byggeri": "Building completion and finishing",
    "Handel": "Trade",
    "Butikker": "Shops",
    "Engros": "Wholesale",
    "Industri": "Manufacturing",
    "Elektronik": "Electronics",
    "Energi og råstoffer": "Energy and raw materials",
    "Installation og reparation af maskiner og udstyr": "Installation and repair of machinery and equipment",
    "Kemi og medicin": "Chemicals and pharmaceuticals",
    "Metal og maskiner": "Metal and machinery",
    "Plast, glas og beton": "Plastics, glass and concrete",
    "Tekstil og papir": "Textiles and paper",
    "Transportmidler": "Transport equipment",
    "Træ og møbler": "Wood and furniture",
    "Kontor og kommunikation": "Office and communication",
    "Film, presse og bøger": "Film, press and books",
    "IT og telekommunikation": "IT and telecommunications",
    "Kontor": "Office work",
    "Landbrug og fødevarer": "Agriculture and food",
    "Landbrug, skovbrug og fiskeri": "Agriculture, forestry and fishing",
    "Slagterier": "Slaughterhouses and meat processing",
    "Nærings- og nydelsesmidler": "Food, beverages and tobacco",
    "Offentlig service": "Public services",
    "Politi, beredskab og fængsler": "Police, emergency services and prisons",
    "Religiøse institutioner og begravelsesvæsen": "Religious institutions and funeral services",
    "Vand, kloak og affald": "Water, sewerage and waste",
    "Privat service": "Private services",
    "Frisører og anden personlig pleje": "Hairdressing and other personal care",
    "Hotel og camping": "Hotels and campsites",
    "Kultur og sport": "Culture and sport",
    "Rengøring": "Cleaning",
    "Restauranter og barer": "Restaurants and bars",
    "Transport": "Transport",
    "Transport af gods": "Freight transport",
    "Transport af passagerer": "Passenger transport",
    "Social og sundhed": "Social care and health",
    "Daginstitutioner": "Day care",
    "Døgninstitutioner og hjemmepleje": "Residential care and home care",
    "Hospitaler": "Hospitals",
    "Læger, tandlæger og dyrlæger": "Doctors, dentists and veterinarians",
    "Undervisning og forskning": "Education and research",
    "Undervisning": "Education",
    "Universiteter og forskning": "Universities and research",
}

#: The DB07 codes that mainly make up a branchegruppe, where that is clear from the names and the scope of
#: the DB07 codes. Groups left out ("Kontor") are too mixed to map with confidence.
BRANCHEGRUPPER_DB07 = {
    "Anlægsarbejde": ["42"],
    "Opførelse og nedrivning af byggeri": ["41", "43.1"],
    "Færdiggørelse af byggeri": ["43.3"],
    "Butikker": ["47"],
    "Engros": ["46"],
    "Elektronik": ["26"],
    "Energi og råstoffer": ["B", "35"],
    "Installation og reparation af maskiner og udstyr": ["33"],
    "Kemi og medicin": ["20", "21"],
    "Metal og maskiner": ["24", "25", "28"],
    "Plast, glas og beton": ["22", "23"],
    "Tekstil og papir": ["13", "14", "17"],
    "Transportmidler": ["29", "30"],
    "Træ og møbler": ["16", "31"],
    "Film, presse og bøger": ["58", "59", "60"],
    "IT og telekommunikation": ["61", "62", "63"],
    "Landbrug, skovbrug og fiskeri": ["A"],
    "Slagterier": ["10.1"],
    "Nærings- og nydelsesmidler": ["10.3", "10.4", "10.5", "10.6", "10.7", "10.8", "10.9", "11", "12"],
    "Politi, beredskab og fængsler": ["84.23", "84.24", "84.25"],
    "Religiøse institutioner og begravelsesvæsen": ["94.91", "96.03"],
    "Vand, kloak og affald": ["E"],
    "Frisører og anden personlig pleje": ["96.02", "96.04"],
    "Hotel og camping": ["55"],
    "Kultur og sport": ["90", "91", "93"],
    "Rengøring": ["81.2"],
    "Restauranter og barer": ["56"],
    "Transport af gods": ["49.2", "49.4", "50.2", "50.4", "51.2"],
    "Transport af passagerer": ["49.1", "49.3", "50.1", "50.3", "51.1"],
    "Daginstitutioner": ["88.91"],
    "Døgninstitutioner og hjemmepleje": ["87", "88.10.10"],
    "Hospitaler": ["86.1"],
    "Læger, tandlæger og dyrlæger": ["86.2", "75"],
    "Undervisning": ["85"],
    "Universiteter og forskning": ["85.42", "72"],
}


@dataclass
class GroupEntry:
    code: str
    label_da: str
    label_en: str
    parent: str | None
    children: list[str] = field(default_factory=list)
    close_matches: list[str] = field(default_factory=list)


def english_group_label(label_da: str) -> str:
    if label_da not in BRANCHEGRUPPER_ENGLISH:
        raise ValueError(f"no English label for the branchegruppe {label_da!r}")
    return BRANCHEGRUPPER_ENGLISH[label_da]


def read_branchegrupper(path: Path, db07: dict[str, Db07Entry]) -> dict[str, GroupEntry]:
    entries: dict[str, GroupEntry] = {}
    main_number = 0
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        main_label, _, groups = line.partition(":")
        main_number += 1
        main_da = clean_text(main_label)
        main = GroupEntry(f"{main_number:02d}", main_da, english_group_label(main_da), None)
        entries[main.code] = main
        for number, group_label in enumerate(groups.split("|"), start=1):
            label = clean_text(group_label)
            group = GroupEntry(f"{main.code}.{number:02d}", label, english_group_label(label), main.code)
            for db07_code in BRANCHEGRUPPER_DB07.get(label, []):
                if db07_code not in db07:
                    raise ValueError(f"{label}: {db07_code} is not a DB07 code")
                group.close_matches.append(concept_iri("industries", db07_code))
            main.children.append(group.code)
            entries[group.code] = group
    unused = set(BRANCHEGRUPPER_DB07) - {e.label_da for e in entries.values()}
    if unused:
        raise ValueError(f"mappings for unknown branchegrupper: {sorted(unused)}")
    return entries


# -- Turtle ---------------------------------------------------------------------------------------------


def concept_iri(slug: str, code: str) -> str:
    return f"{VOCAB}{slug}/{code}"


def literal(text: str, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^{datatype}'
    return f'"{escaped}"'


#: Local names written as prefix:local (a safe subset of Turtle's PN_LOCAL: no trailing dot).
LOCAL_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")

#: Longer lines are wrapped, with the objects of one predicate on continuation lines.
LINE_LENGTH = 100


def wrap(objects: Sequence[str], indent: str) -> str:
    """Objects separated by commas, as many on a line as fit in LINE_LENGTH."""
    lines: list[str] = []
    current = ""
    for obj in objects:
        candidate = f"{current} , {obj}" if current else obj
        if current and len(indent) + len(candidate) + 2 > LINE_LENGTH:
            lines.append(current + " ,")
            current = obj
        else:
            current = candidate
    lines.append(current)
    return "\n".join(indent + line for line in lines)


@dataclass
class TurtleWriter:
    """A small writer for readable Turtle: IRIs are abbreviated with the prefixes or the @base."""

    base: str
    prefixes: dict[str, str]
    blocks: list[str] = field(default_factory=list)

    def iri(self, iri: str) -> str:
        if iri.startswith(self.base) and "/" not in iri[len(self.base) :]:
            return f"<{iri[len(self.base) :]}>"
        for prefix, namespace in sorted(self.prefixes.items(), key=lambda p: -len(p[1])):
            local = iri[len(namespace) :]
            if iri.startswith(namespace) and LOCAL_NAME.fullmatch(local):
                return f"{prefix}:{local}"
        return f"<{iri}>"

    def resource(self, subject: str, properties: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Add one subject; each property is (predicate as written, objects as written)."""
        lines = [self.iri(subject)]
        present = [(p, objects) for p, objects in properties if objects]
        for i, (predicate, objects) in enumerate(present):
            end = " ." if i == len(present) - 1 else " ;"
            line = f"    {predicate} {' , '.join(objects)}{end}"
            if len(line) > LINE_LENGTH and len(objects) > 1:
                line = f"    {predicate}\n" + wrap(objects, "        ") + end
            lines.append(line)
        self.blocks.append("\n".join(lines))

    def text(self, header: str) -> str:
        out = [f"# {line}".rstrip() for line in header.splitlines()]
        out.append("")
        out.append(f"@base <{self.base}> .")
        out.extend(f"@prefix {p}: <{ns}> ." for p, ns in sorted(self.prefixes.items()))
        out.append("")
        return "\n".join(out) + "\n" + "\n\n".join(self.blocks) + "\n"


def scheme_properties(
    writer: TurtleWriter,
    titles: tuple[str, str],
    descriptions: tuple[str, str],
    sources: Iterable[str],
    top_concepts: Iterable[str],
) -> list[tuple[str, list[str]]]:
    return [
        ("a", ["skos:ConceptScheme"]),
        ("dct:title", [literal(titles[0], "da"), literal(titles[1], "en")]),
        ("dct:description", [literal(descriptions[0], "da"), literal(descriptions[1], "en")]),
        ("dct:created", [literal(CREATED, datatype="xsd:date")]),
        ("owl:versionInfo", [literal(VERSION)]),
        ("dct:publisher", [writer.iri(BASE)]),
        ("dct:license", [writer.iri(LICENSE)]),
        ("dct:source", [writer.iri(s) for s in sources]),
        ("skos:hasTopConcept", [writer.iri(c) for c in top_concepts]),
    ]


def code_order(code: str) -> tuple[bool, str]:
    """Sections (letters) first, then the numeric codes; string order keeps children after parents."""
    return (code[0].isdigit(), code)


def iri_order(iri: str) -> tuple[bool, str]:
    return code_order(iri.rsplit("/", 1)[-1])


def industries_turtle(entries: dict[str, Db07Entry]) -> str:
    slug = "industries"
    scheme = VOCAB + slug
    writer = TurtleWriter(scheme + "/", {**PREFIXES, "nace": NACE_R2})
    tops = [concept_iri(slug, c) for c in sorted(entries, key=code_order) if entries[c].parent is None]
    writer.resource(
        scheme,
        scheme_properties(
            writer,
            ("Brancher (DB07)", "Industries (DB07 / NACE Rev. 2)"),
            (
                "Dansk Branchekode 2007 (DB07) fra Danmarks Statistik med alle fem niveauer: "
                "hovedafdelinger, hovedgrupper, grupper, undergrupper og de sekscifrede danske "
                "branchekoder, inklusive koder der kun var gyldige i en del af perioden. Engelske "
                "betegnelser og ækvivalenser er fra EU's NACE Rev. 2 (Eurostat, RAMON); en sekscifret "
                "dansk underopdeling uden egen engelsk betegnelse har undergruppens engelske betegnelse "
                "efterfulgt af koden.",
                "The Danish industry classification DB07 (Dansk Branchekode 2007) by Statistics Denmark "
                "with all five levels: sections, divisions, groups, classes and the six-digit Danish "
                "subclasses, including codes that were valid for part of the period only. English labels "
                "and equivalences are from the EU's NACE Rev. 2 (Eurostat, RAMON); a six-digit Danish "
                "subdivision without an English label of its own carries its class's English label "
                "followed by its code.",
            ),
            [DB07_SOURCE, NACE_R2],
            tops,
        ),
    )
    for code in sorted(entries, key=code_order):
        entry = entries[code]
        notes = validity_notes(entry.validity)
        children = sorted(entry.children, key=code_order)
        writer.resource(
            concept_iri(slug, code),
            [
                ("a", ["skos:Concept"]),
                ("skos:inScheme", [writer.iri(scheme)]),
                ("skos:topConceptOf", [writer.iri(scheme)] if entry.parent is None else []),
                ("skos:notation", [literal(code)]),
                ("skos:prefLabel", [literal(entry.label_da, "da"), literal(entry.label_en, "en")]),
                ("skos:historyNote", [literal(notes[0], "da"), literal(notes[1], "en")] if notes else []),
                ("skos:broader", [writer.iri(concept_iri(slug, entry.parent))] if entry.parent else []),
                ("skos:narrower", [writer.iri(concept_iri(slug, c)) for c in children]),
                ("skos:exactMatch", [writer.iri(entry.exact_match)] if entry.exact_match else []),
                ("skos:closeMatch", [writer.iri(entry.close_match)] if entry.close_match else []),
            ],
        )
    return writer.text(
        "Brancher (DB07) / Industries (DB07 / NACE Rev. 2)\n"
        "Generated by scripts/build_industries.py from db07.tsv and nace-r2-ramon.ttl; do not edit by hand."
    )


def branchegrupper_turtle(entries: dict[str, GroupEntry]) -> str:
    slug = "branchegrupper"
    scheme = VOCAB + slug
    writer = TurtleWriter(scheme + "/", {**PREFIXES, "industries": VOCAB + "industries/"})
    tops = [concept_iri(slug, c) for c in sorted(entries) if entries[c].parent is None]
    writer.resource(
        scheme,
        scheme_properties(
            writer,
            ("Arbejdstilsynets branchegrupper", "Danish Working Environment Authority industry groups"),
            (
                "Arbejdstilsynets 36 branchegrupper i 10 hovedgrupper. Hver branchegruppe er, hvor det er "
                "klart, knyttet med skos:closeMatch til de DB07-koder, der hovedsageligt udgør den.",
                "The 36 industry groups of the Danish Working Environment Authority (Arbejdstilsynet) in 10 "
                "main groups. Where it is clear, each group is linked with skos:closeMatch to the DB07 codes "
                "that mainly make it up.",
            ),
            [AT_SOURCE],
            tops,
        ),
    )
    for code in sorted(entries):
        entry = entries[code]
        writer.resource(
            concept_iri(slug, code),
            [
                ("a", ["skos:Concept"]),
                ("skos:inScheme", [writer.iri(scheme)]),
                ("skos:topConceptOf", [writer.iri(scheme)] if entry.parent is None else []),
                ("skos:notation", [literal(code)]),
                ("skos:prefLabel", [literal(entry.label_da, "da"), literal(entry.label_en, "en")]),
                ("skos:broader", [writer.iri(concept_iri(slug, entry.parent))] if entry.parent else []),
                ("skos:narrower", [writer.iri(concept_iri(slug, c)) for c in sorted(entry.children)]),
                ("skos:closeMatch", [writer.iri(m) for m in sorted(entry.close_matches, key=iri_order)]),
            ],
        )
    return writer.text(
        "Arbejdstilsynets branchegrupper / Danish Working Environment Authority industry groups\n"
        "Generated by scripts/build_industries.py from arbejdstilsynet-branchegrupper.txt; "
        "do not edit by hand."
    )


# -- main -----------------------------------------------------------------------------------------------


def write_checked(path: Path, text: str) -> int:
    """Write `text` after making sure it parses; return the number of triples."""
    graph = Graph()
    graph.parse(data=text, format="turtle")
    path.write_text(text, encoding="utf-8")
    return len(graph)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO_ROOT / "data" / "reference",
        help="directory with the input files (default: data/reference, a copy of ../shared/data)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=REPO_ROOT / "vocabularies",
        help="directory to write the Turtle files to (default: vocabularies/ in the repository)",
    )
    args = parser.parse_args(argv)

    db07 = read_db07(args.data_dir / "db07.tsv")
    ramon = read_ramon(args.data_dir / "nace-r2-ramon.ttl")
    add_english(db07, ramon)
    groups = read_branchegrupper(args.data_dir / "arbejdstilsynet-branchegrupper.txt", db07)

    args.out.mkdir(parents=True, exist_ok=True)
    n_industries = write_checked(args.out / "industries.ttl", industries_turtle(db07))
    n_groups = write_checked(args.out / "branchegrupper.ttl", branchegrupper_turtle(groups))

    levels = Counter(e.level for e in db07.values())
    print(f"industries.ttl: {len(db07)} concepts, {n_industries} triples", file=sys.stderr)
    for level, _, _ in LEVELS.values():
        print(f"  {level}: {levels[level]}", file=sys.stderr)
    print(
        f"  subclasses with a borrowed English label: {sum(e.borrowed_english for e in db07.values())}",
        file=sys.stderr,
    )
    print(f"branchegrupper.ttl: {len(groups)} concepts, {n_groups} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
