"""Validation: records against the SHACL shapes, vocabularies against the SKOS quality rules.

Results come back as `Violation`s — one per problem, naming the resource, the property (path),
the offending value and the rule, with the shape's message in Danish and English — so that the CLI,
the API (field-level 422 errors) and the forms can all show them without knowing SHACL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import pyoxigraph as ox
import pyshacl
import rdflib
import skosify.check
from rdflib.namespace import SH

from graph.config import PROJECT_ROOT
from graph.iris import Iris
from graph.rdf import parse_file, to_rdflib

if TYPE_CHECKING:
    from graph.shacl_compiled import CompiledShapes

SHAPES_DIR = PROJECT_ROOT / "shapes"
SKOS_SHAPES_FILE = "skos.ttl"

COMPACT = {
    "http://purl.org/dc/terms/": "dct:",
    "https://schema.org/": "schema:",
    "http://www.w3.org/2004/02/skos/core#": "skos:",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf:",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs:",
    "http://www.w3.org/2002/07/owl#": "owl:",
    "http://www.w3.org/ns/shacl#": "sh:",
}


@dataclass(frozen=True)
class Violation:
    """One validation result, ready to show to a person or return as a field error."""

    focus: str  # the IRI (or blank node label) of the resource that breaks the rule
    path: str | None  # the property IRI, when the rule is about one property
    messages: dict[str, str]  # language -> message
    severity: str = "violation"  # violation | warning | info
    value: str | None = None
    rule: str = ""  # the SHACL constraint component or named check, compacted

    def message(self, lang: str = "da") -> str:
        return self.messages.get(lang) or self.messages.get("en") or next(iter(self.messages.values()), "")

    @property
    def is_violation(self) -> bool:
        return self.severity == "violation"

    def describe(self, lang: str = "en") -> str:
        """One line naming the resource, the property and the rule (for the CLI and logs)."""
        where = compact(self.path) if self.path else "-"
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{self.severity}: <{self.focus}> {where}: {self.message(lang)} [{self.rule}]{value}"

    def as_json(self) -> dict[str, object]:
        return {
            "focus": self.focus,
            "path": self.path,
            "field": compact(self.path) if self.path else None,
            "value": self.value,
            "severity": self.severity,
            "rule": self.rule,
            "messages": self.messages,
        }


def compact(iri: str) -> str:
    for namespace, prefix in COMPACT.items():
        if iri.startswith(namespace):
            return prefix + iri[len(namespace) :]
    if "ontology#" in iri:
        return "amv:" + iri.split("ontology#", 1)[1]
    return iri


@dataclass
class ValidationReport:
    violations: list[Violation] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not any(v.is_violation for v in self.violations)

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.is_violation]

    @property
    def warnings(self) -> list[Violation]:
        return [v for v in self.violations if not v.is_violation]


class Validator:
    """Loads the shapes once per deployment (rebased onto its IRIs) and validates: records with the
    shapes compiled to SPARQL (graph.shacl_compiled; pyshacl stays as the reference), vocabularies
    with pyshacl and skosify."""

    def __init__(self, iris: Iris) -> None:
        self.iris = iris

    def _load_shapes(self, files: Iterable[str]) -> rdflib.Graph:
        graph = rdflib.Graph()
        for name in files:
            quads = parse_file(SHAPES_DIR / name)
            to_rdflib(self.iris.rebase_triples(q.triple for q in quads), graph)
        return graph

    @cached_property
    def record_shapes(self) -> rdflib.Graph:
        names = sorted(p.name for p in SHAPES_DIR.glob("*.ttl") if p.name != SKOS_SHAPES_FILE)
        return self._load_shapes(names)

    @cached_property
    def skos_shapes(self) -> rdflib.Graph:
        return self._load_shapes([SKOS_SHAPES_FILE])

    @cached_property
    def skos_local_shapes(self) -> rdflib.Graph:
        """The SKOS shapes that look at one concept only: the SPARQL-based ones (hierarchy cycles,
        related vs the hierarchy, unique notations, broader in the same scheme) need the whole scheme,
        so editing checks those with targeted queries instead (graph.vocab_edit)."""
        local = rdflib.Graph()
        for triple in self.skos_shapes:
            local.add(triple)
        for shape in set(self.skos_shapes.subjects(SH.sparql, None)):
            for target in (SH.target, SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
                local.remove((shape, target, None))
        return local

    @cached_property
    def compiled_record_shapes(self) -> CompiledShapes:
        """The record shapes compiled to SPARQL (graph.shacl_compiled); raises UnsupportedShapeFeature
        when a shape uses something the compiler does not implement."""
        from graph.shacl_compiled import CompiledShapes

        return CompiledShapes(self.record_shapes)

    def validate_records(
        self, triples: Sequence[ox.Triple], focus: Sequence[ox.NamedNode] | None = None
    ) -> ValidationReport:
        """Validate record triples; `triples` must include the context facts about what they reference
        (rdf:type of linked records, rdf:type/skos:inScheme/owl:deprecated of tagged concepts). With
        `focus`, only those nodes are validated (the linked records are there as context only).

        Runs the compiled shapes in Oxigraph: the same results as `validate_records_pyshacl`, many
        times faster."""
        return _report(self.compiled_record_shapes.validate(triples, focus))

    def validate_records_pyshacl(self, triples: Sequence[ox.Triple]) -> ValidationReport:
        """`validate_records` by pyshacl itself (every target): the reference the compiled validator is
        tested against."""
        return self._run(to_rdflib(triples), self.record_shapes)

    def validate_vocabularies(self, triples: Sequence[ox.Triple]) -> ValidationReport:
        """SKOS quality of whole schemes: the SHACL shapes of shapes/skos.ttl plus skosify's checks."""
        data = to_rdflib(triples)
        report = self._run(data, self.skos_shapes)
        report.violations.extend(skosify_findings(data))
        return report

    def validate_concepts(self, triples: Sequence[ox.Triple]) -> ValidationReport:
        """SKOS quality of the concepts an edit touches (see `skos_local_shapes`)."""
        return self._run(to_rdflib(triples), self.skos_local_shapes)

    @staticmethod
    def _run(data: rdflib.Graph, shapes: rdflib.Graph) -> ValidationReport:
        _, results, _ = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            advanced=True,
            allow_warnings=True,
        )
        return _report(_violations(results, shapes))


def _report(violations: Iterable[Violation]) -> ValidationReport:
    return ValidationReport(sorted(violations, key=lambda v: (v.focus, v.path or "", v.rule)))


def _language_messages(graph: rdflib.Graph, node: rdflib.term.Node | None, predicate: rdflib.URIRef) -> dict[str, str]:
    messages: dict[str, str] = {}
    if node is None:
        return messages
    for message in graph.objects(node, predicate):
        lang = getattr(message, "language", None)
        if lang:
            messages.setdefault(lang, str(message))
    return messages


def _violations(results: rdflib.Graph, shapes: rdflib.Graph) -> Iterable[Violation]:
    severities = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        messages = _language_messages(results, result, SH.resultMessage)
        # pyshacl drops the language tags of SPARQL-based constraints' messages: take them from the shape.
        if not messages:
            messages = _language_messages(
                shapes, results.value(result, SH.sourceConstraint), SH.message
            ) or _language_messages(shapes, results.value(result, SH.sourceShape), SH.message)
        if not messages:
            messages = {"en": str(results.value(result, SH.resultMessage) or "constraint violated")}
        path = results.value(result, SH.resultPath)
        value = results.value(result, SH.value)
        component = results.value(result, SH.sourceConstraintComponent)
        yield Violation(
            focus=str(results.value(result, SH.focusNode)),
            path=str(path) if isinstance(path, rdflib.URIRef) else None,
            messages=messages or {"en": "constraint violated"},
            severity=severities.get(results.value(result, SH.resultSeverity), "violation"),  # type: ignore[arg-type]
            value=str(value) if value is not None else None,
            rule=compact(str(component)) if component is not None else "",
        )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def skosify_findings(data: rdflib.Graph) -> list[Violation]:
    """skosify's checks (cycles, related vs broader, label overlap), report-only.

    (One prefLabel per language is checked by shapes/skos.ttl; skosify's own check of it logs an
    error for its report-only policy in 2.3.)"""
    checks = {
        "skosify:hierarchy_cycles": lambda g: skosify.check.hierarchy_cycles(g, fix=False),
        "skosify:disjoint_relations": lambda g: skosify.check.disjoint_relations(g, fix=False),
        "skosify:label_overlap": lambda g: skosify.check.label_overlap(g, fix=False),
    }
    findings: list[Violation] = []
    root = logging.getLogger()
    for rule, check in checks.items():
        handler = _Collect()
        root.addHandler(handler)
        try:
            check(data)
        finally:
            root.removeHandler(handler)
        for message in handler.messages:
            findings.append(Violation(focus="", path=None, messages={"en": message}, rule=rule))
    return findings
