"""Compiled SHACL validation of records: shapes/*.ttl turned into SPARQL that Oxigraph runs.

pyshacl validates about 140 records a second here; bulk imports need thousands. This module
compiles the record shapes (the shapes graph stays the only source of the rules) into SPARQL
queries that run, per batch, in an in-memory `pyoxigraph.Store` loaded with the batch's data
graph, and produces the *same* `Violation`s as `Validator.validate_records_pyshacl`: the same
focus, path, value, severity, rule and messages, including pyshacl's quirks:

* the results nested under a failed `sh:node` (pyshacl reports them as `sh:detail`, and they are
  `sh:ValidationResult`s of their own, so they appear in the report too, once per parent result);
* `sh:or` members are judged by conformance with `allow_warnings` (a member whose severity is a
  warning always conforms), and their results are dropped;
* literals are seen the way rdflib sees them: rdflib normalises the lexical form of typed literals
  (`"2027-03-04"^^xsd:dateTime` is the value `2027-03-04T00:00:00`) and decides well-formedness with
  Python's date parsers, and pyshacl's `sh:datatype`, `sh:pattern` and `sh:in` work on that view.

How a batch is validated:

1. The data graph goes into the store the way rdflib would hold it: typed literals in rdflib's
   lexical form. Oxigraph canonicalises some lexical forms again (`+00:00` becomes `Z`) and even
   re-types some literals (`xsd:int` becomes `xsd:integer`), so each distinct typed literal is first
   stored on its own to learn what Oxigraph makes of it; one it would re-type is stored under a
   private datatype IRI instead, and every stored form is mapped to rdflib's view of the literal
   (string form, ill-typed or not, value), which the checks and the reported values use.
2. The focus nodes are written to a private named graph: the targets of each targeted shape
   (`sh:targetClass`, with `rdfs:subClassOf` in the data graph, as pyshacl does) from Python, and the
   values of each property shape that refers to nested shapes (`sh:node`, `sh:or`) by one SPARQL
   Update. A shape's focus is then a union of such sets (a property shape inherits the sets of the
   node shapes that hold it).
3. One SELECT per shape and kind of constraint returns the failures of the constraints that do not
   depend on another shape: value checks as one row per failing value with a flag per constraint
   (`sh:datatype`, `sh:nodeKind`, `sh:pattern`, `sh:class`, `sh:in`, `sh:languageIn`,
   `sh:minLength`, `sh:maxLength`), counts (`sh:minCount`, `sh:maxCount`), `sh:hasValue`,
   `sh:uniqueLang`, `sh:closed` (with `sh:ignoredProperties`) and the pairs for
   `sh:lessThanOrEquals` (compared in Python, with rdflib's ordering). Checks whose exact pyshacl
   meaning is Python's (regular expressions with `re` and `sh:flags`, rdflib's well-formedness and
   term equality of literals, lengths of rdflib's lexical forms) are SPARQL custom functions.
4. SPARQL-based constraints (`sh:sparql` with `sh:select`, prefixes from `sh:prefixes`) run as
   written, with `$PATH` substituted and `$this` pre-bound by a `VALUES` block of the focus nodes
   (blank nodes, which VALUES cannot hold, one by one with Oxigraph's pre-binding substitutions).
5. Shape-based constraints (`sh:node`, `sh:or`) are decided in Python from the results of the nested
   shapes, one level of nesting at a time; one query per level finds the focus nodes that hold the
   failing values. Severities (`sh:severity`), `sh:deactivated` and the messages (`sh:message`, da
   and en) follow pyshacl and `graph.validation._violations`.

Anything in a shape that is not compiled (another constraint component, a complex path, another
kind of target, a custom constraint component, shape recursion, SHACL rules, a result that would need
pyshacl's generated English message) raises `UnsupportedShapeFeature` when the shapes are compiled,
so that editing a shape can never silently stop it being checked.

Known differences, by engine semantics (SPARQL-based constraints run in Oxigraph, not in rdflib):
comparing an xsd:dateTime without a time zone with one that has one follows XPath in Oxigraph (an
answer only when they are more than 14 hours apart) while rdflib orders every zone-less value before
every zoned one; and Oxigraph accepts the lexical form `24:00:00`, which rdflib calls ill-typed. Both
only concern values that the shapes reject anyway (a date-time needs a time zone).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD

from graph.validation import Violation, compact

SHACL = str(SH)
_X = "urn:x-amv-shacl:"  # the validator's own IRIs, never part of anyone's data
FOCUS_GRAPH = ox.NamedNode(_X + "focus")
LITERAL_GRAPH = ox.NamedNode(_X + "literals")
MEMBER = ox.NamedNode(_X + "member")
IS = ox.NamedNode(_X + "is")
ALIAS = _X + "datatype:"  # stands in for a datatype that Oxigraph would replace (see `_load`)

XSD_STRING = str(XSD.string)
RDF_LANGSTRING = str(RDF.langString)
TRUE = ox.Literal("true", datatype=ox.NamedNode(str(XSD.boolean)))
FALSE = ox.Literal("false", datatype=ox.NamedNode(str(XSD.boolean)))
RDF_TYPE = ox.NamedNode(str(RDF.type))
RDFS_SUBCLASS_OF = ox.NamedNode(str(RDFS.subClassOf))
ALLOWED_SEVERITIES = {str(SH.Warning), str(SH.Info)}  # pyshacl runs with allow_warnings=True
SEVERITIES = {str(SH.Violation): "violation", str(SH.Warning): "warning", str(SH.Info): "info"}

# Predicates of a shape that the compiler understands. Any other predicate in the sh: namespace is a
# feature it does not compile; predicates outside sh: (labels, dash: form hints) do not validate.
_NON_VALIDATING = {"name", "description", "order", "group", "defaultValue", "message", "severity", "deactivated"}
_COMPILED = {
    "path",
    "targetClass",
    "property",
    "node",
    "or",
    "datatype",
    "nodeKind",
    "pattern",
    "flags",
    "languageIn",
    "uniqueLang",
    "class",
    "minCount",
    "maxCount",
    "minLength",
    "maxLength",
    "in",
    "hasValue",
    "closed",
    "ignoredProperties",
    "lessThanOrEquals",
    "sparql",
}
_SPARQL_CONSTRAINT_KEYS = {"select", "message", "prefixes", "deactivated"}
_NODE_KINDS = {
    "IRI": "!isIRI(?v)",
    "BlankNode": "!isBlank(?v)",
    "Literal": "!isLiteral(?v)",
    "BlankNodeOrIRI": "isLiteral(?v)",
    "BlankNodeOrLiteral": "isIRI(?v)",
    "IRIOrLiteral": "isBlank(?v)",
}


class UnsupportedShapeFeature(ValueError):
    """The shapes use something the compiled validator does not implement (raised at load time)."""


# -- rdflib's view of a literal ---------------------------------------------------------------


@dataclass(frozen=True)
class _LiteralView:
    """A typed literal as rdflib (and so pyshacl) sees it."""

    text: str  # str() of the rdflib Literal: the normalised lexical form
    ill_typed: bool
    value: object
    term: rdflib.Literal


@lru_cache(maxsize=65536)
def _rdflib_view(lexical: str, datatype: str) -> _LiteralView:
    literal = rdflib.Literal(lexical, datatype=rdflib.URIRef(datatype))
    return _LiteralView(str(literal), literal.ill_typed is True, literal.value, literal)


def _is_plain(literal: ox.Literal) -> bool:
    return literal.language is not None or literal.datatype.value == XSD_STRING


def _assert_actual_datatype(value: object, rule: str) -> bool:
    """pyshacl's DatatypeConstraintComponent._assert_actual_datatype."""
    if rule in (XSD_STRING, RDF_LANGSTRING):
        return isinstance(value, str | bytes)
    checks: dict[str, type | tuple[type, ...]] = {
        str(XSD.integer): int,
        str(XSD.float): float,
        str(XSD.decimal): Decimal,
        str(XSD.boolean): bool,
        str(XSD.date): date,
        str(XSD.time): time,
        str(XSD.dateTime): datetime,
    }
    expected = checks.get(rule)
    return True if expected is None else isinstance(value, expected)


class _Batch:
    """Per-batch lookups used by the custom functions and by the results."""

    def __init__(self) -> None:
        self.views: dict[ox.Literal, _LiteralView] = {}

    def view(self, literal: ox.Literal) -> _LiteralView:
        found = self.views.get(literal)
        if found is None:
            found = _rdflib_view(literal.value, literal.datatype.value.removeprefix(ALIAS))
        return found

    def text(self, term: Any) -> str | None:
        """pyshacl's StringBasedConstraintBase.value_node_to_string; None for a blank node."""
        if isinstance(term, ox.Literal):
            return term.value if _is_plain(term) else self.view(term).text
        if isinstance(term, ox.NamedNode):
            return term.value
        return None

    def rdflib_term(self, term: Any) -> rdflib.term.Node:
        if isinstance(term, ox.NamedNode):
            return rdflib.URIRef(term.value)
        if isinstance(term, ox.BlankNode):
            return rdflib.BNode(term.value)
        if term.language is not None:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return rdflib.Literal(term.value)
        return self.view(term).term

    def display(self, term: Any) -> str:
        """What pyshacl's report gives as str() of a focus node or value."""
        if isinstance(term, ox.Literal) and not _is_plain(term):
            return self.view(term).text
        return term.value


# -- the compiled shapes ----------------------------------------------------------------------


@dataclass(eq=False)
class _Check:
    """One value-level constraint: a SPARQL boolean expression over ?v that is true on failure."""

    rule: str
    expression: str


@dataclass(eq=False)
class _SparqlConstraint:
    node: rdflib.term.Node
    query: str  # prefixes applied, $PATH substituted, a `{VALUES}` slot after the first `{` of WHERE
    messages: dict[str, str]
    deactivated: bool


@dataclass(eq=False)
class _Shape:
    node: rdflib.term.Node
    key: int
    label: str
    path: str | None
    severity: str
    allowed: bool  # a warning/info shape: conforms (for sh:or) even when it fails
    deactivated: bool
    messages: dict[str, str] | None  # None: no usable sh:message (fine unless it reports)
    targets: list[str] = field(default_factory=list)
    checks: list[_Check] = field(default_factory=list)
    min_count: int | None = None
    max_count: int | None = None
    unique_lang: bool = False
    has_values: list[str] = field(default_factory=list)  # SPARQL expressions: ?hv is the value
    closed: list[str] | None = None
    less_than_or_equals: list[str] = field(default_factory=list)
    nodes: list[_Shape] = field(default_factory=list)
    ors: list[list[_Shape]] = field(default_factory=list)
    properties: list[_Shape] = field(default_factory=list)
    sparql: list[_SparqlConstraint] = field(default_factory=list)
    height: int = 0
    reportable: bool = False
    sources: dict[str, None] = field(default_factory=dict)  # focus-graph sets whose union is the focus

    @property
    def is_property(self) -> bool:
        return self.path is not None

    def value_pattern(self) -> str:
        """The SPARQL that binds ?v to each value node of focus ?this."""
        return f"?this <{self.path}> ?v ." if self.path else "BIND(?this AS ?v)"


@dataclass(frozen=True)
class _Result:
    """A failed constraint of one shape at one focus node (before it becomes a Violation)."""

    rule: str
    value: Any = None  # an Oxigraph term, or None
    path: str | None = None  # overrides the shape's path (sh:closed, SPARQL ?path)
    nested: _Shape | None = None  # sh:node: the shape whose results are this result's details
    messages: dict[str, str] | None = None  # overrides the shape's (SPARQL-based constraints)


def _sh(local: str) -> rdflib.URIRef:
    return rdflib.URIRef(SHACL + local)


def _component(local: str) -> str:
    """The IRI of a SHACL constraint component: what `Violation.rule` names (compacted)."""
    return COMPONENTS[local]


COMPONENTS = {
    name: SHACL + name + "ConstraintComponent"
    for name in (
        "Datatype",
        "NodeKind",
        "Pattern",
        "Class",
        "In",
        "LanguageIn",
        "MinLength",
        "MaxLength",
        "MinCount",
        "MaxCount",
        "HasValue",
        "UniqueLang",
        "Closed",
        "LessThanOrEquals",
        "Node",
        "Or",
        "SPARQL",
    )
}


def _tagged(literals: Iterable[rdflib.term.Node]) -> dict[str, str]:
    messages: dict[str, str] = {}
    for m in literals:
        lang = getattr(m, "language", None)
        if lang:
            messages.setdefault(lang, str(m))
    return messages


class CompiledShapes:
    """The record shapes, compiled once (per deployment) and run per batch of records."""

    def __init__(self, shapes: rdflib.Graph) -> None:
        self.graph = shapes
        self._shapes: dict[rdflib.term.Node, _Shape] = {}
        self._functions: list[tuple[str, Callable[[_Batch], Callable[..., ox.Literal]]]] = []
        if any(shapes.subjects(RDF.type, SH.ConstraintComponent)):
            raise UnsupportedShapeFeature("custom constraint components (sh:ConstraintComponent) are not compiled")
        for predicate in (SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target, SH.rule):
            for subject in shapes.subjects(predicate, None):
                raise UnsupportedShapeFeature(f"{self._name(subject)}: {compact(str(predicate))} is not compiled")
        roots = sorted(set(shapes.subjects(SH.targetClass, None)), key=str)
        self.top = [self._compile(node, path_allowed=True, stack=()) for node in roots]
        for shape in self.top:
            self._mark_reportable(shape)
        for shape in self._shapes.values():
            self._check_reporting(shape)
        self._order = self._topological()
        self._plan_focus()
        self._sparql_foci = self._sparql_focus_sources()
        self._branches, self._selects = self._own_query()
        self._update = self._focus_update()
        self._literals_query = f"SELECT ?i ?l WHERE {{ GRAPH <{LITERAL_GRAPH.value}> {{ ?i <{IS.value}> ?l }} }}"

    # -- compiling ----------------------------------------------------------------------------

    def _name(self, node: rdflib.term.Node) -> str:
        if isinstance(node, rdflib.URIRef):
            return compact(str(node)) if "shapes#" not in str(node) else "amvsh:" + str(node).split("#", 1)[1]
        for subject, predicate in self.graph.subject_predicates(node):
            return f"{self._name(subject)} {compact(str(predicate))} [...]"
        return "a blank-node shape"

    def _one(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> rdflib.term.Node | None:
        values = list(self.graph.objects(node, predicate))
        if len(values) > 1:
            raise UnsupportedShapeFeature(f"{self._name(node)}: more than one {compact(str(predicate))}")
        return values[0] if values else None

    def _list(self, node: rdflib.term.Node) -> list[rdflib.term.Node]:
        return list(Collection(self.graph, node))

    def _int(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> int | None:
        value = self._one(node, predicate)
        if value is None:
            return None
        if not isinstance(value, rdflib.Literal) or not isinstance(value.value, int) or value.value < 0:
            raise UnsupportedShapeFeature(f"{self._name(node)}: {compact(str(predicate))} must be an integer >= 0")
        return int(value.value)

    def _compile(self, node: rdflib.term.Node, *, path_allowed: bool, stack: tuple[rdflib.term.Node, ...]) -> _Shape:
        if node in stack:
            raise UnsupportedShapeFeature(f"{self._name(node)}: recursive shapes are not compiled")
        if node in self._shapes:
            return self._shapes[node]
        g = self.graph
        name = self._name(node)
        for predicate in set(g.predicates(node, None)):
            text = str(predicate)
            if text.startswith(SHACL) and text[len(SHACL) :] not in _COMPILED | _NON_VALIDATING:
                raise UnsupportedShapeFeature(f"{name}: {compact(text)} is not compiled")
        types = {str(t) for t in g.objects(node, RDF.type)}
        if str(RDFS.Class) in types or str(OWL.Class) in types:
            raise UnsupportedShapeFeature(f"{name}: implicit class targets (a shape that is a class) are not compiled")
        path = self._one(node, SH.path)
        if path is not None and not isinstance(path, rdflib.URIRef):
            raise UnsupportedShapeFeature(f"{name}: only IRI paths are compiled (not {path!r})")
        if path is not None and not path_allowed:
            raise UnsupportedShapeFeature(f"{name}: a property shape where a node shape is expected")
        severity_node = self._one(node, SH.severity) or SH.Violation
        deactivated = self._one(node, SH.deactivated)
        messages = set(g.objects(node, SH.message))
        shape = _Shape(
            node=node,
            key=len(self._shapes),
            label=name,
            path=str(path) if path is not None else None,
            severity=SEVERITIES.get(str(severity_node), "violation"),
            allowed=str(severity_node) in ALLOWED_SEVERITIES,
            deactivated=bool(getattr(deactivated, "value", False)),
            messages=self._messages(node, messages),
            targets=sorted(str(c) for c in g.objects(node, SH.targetClass)),
        )
        self._shapes[node] = shape
        inner = (*stack, node)
        self._value_checks(shape)
        shape.min_count = self._int(node, SH.minCount)
        shape.max_count = self._int(node, SH.maxCount)
        if (shape.min_count is not None or shape.max_count is not None) and not shape.is_property:
            raise UnsupportedShapeFeature(f"{name}: sh:minCount/sh:maxCount on a node shape")
        unique = self._one(node, SH.uniqueLang)
        if unique is not None:
            if not shape.is_property or not isinstance(unique, rdflib.Literal) or not isinstance(unique.value, bool):
                raise UnsupportedShapeFeature(f"{name}: sh:uniqueLang must be a boolean on a property shape")
            shape.unique_lang = unique.value
        for value in sorted(g.objects(node, SH.hasValue), key=str):
            shape.has_values.append(self._equality(value))
        closed = self._one(node, SH.closed)
        ignored = self._one(node, SH.ignoredProperties)
        if ignored is not None and closed is None:
            raise UnsupportedShapeFeature(f"{name}: sh:ignoredProperties without sh:closed")
        for other in g.objects(node, SH.lessThanOrEquals):
            if not isinstance(other, rdflib.URIRef) or not shape.is_property:
                raise UnsupportedShapeFeature(f"{name}: sh:lessThanOrEquals needs an IRI on a property shape")
            shape.less_than_or_equals.append(str(other))
        for child in sorted(g.objects(node, SH.property), key=str):
            if shape.is_property:
                raise UnsupportedShapeFeature(f"{name}: sh:property on a property shape is not compiled")
            prop = self._compile(child, path_allowed=True, stack=inner)
            if not prop.is_property:
                raise UnsupportedShapeFeature(f"{self._name(child)}: sh:property must point to a property shape")
            shape.properties.append(prop)
        if closed is not None and getattr(closed, "value", False) is True:
            allowed_paths = {p.path for p in shape.properties if p.path}
            ignored_paths = self._list(ignored) if ignored is not None else []
            shape.closed = sorted(allowed_paths | {str(p) for p in ignored_paths})
        for nested in sorted(g.objects(node, SH.node), key=str):
            shape.nodes.append(self._compile(nested, path_allowed=False, stack=inner))
        for members in g.objects(node, SH["or"]):
            shape.ors.append([self._compile(m, path_allowed=True, stack=inner) for m in self._list(members)])
        for constraint in sorted(g.objects(node, SH.sparql), key=str):
            shape.sparql.append(self._sparql(shape, constraint))
        return shape

    def _messages(self, node: rdflib.term.Node, messages: set[rdflib.term.Node]) -> dict[str, str] | None:
        """The messages a pyshacl result of this shape ends up with in `Violation.messages`."""
        languages = [m.language for m in messages if getattr(m, "language", None)]
        if len(set(languages)) < len(languages):  # pyshacl's report would pick one of them at random
            raise UnsupportedShapeFeature(f"{self._name(node)}: two sh:message in the same language")
        tagged = _tagged(messages)
        if tagged:
            return tagged
        if len(messages) == 1:
            return {"en": str(next(iter(messages)))}
        return None

    def _value_checks(self, shape: _Shape) -> None:
        g, node = self.graph, shape.node
        datatype = self._one(node, SH.datatype)
        if datatype is not None:
            shape.checks.append(_Check(_component("Datatype"), self._datatype_check(str(datatype))))
        kind = self._one(node, SH.nodeKind)
        if kind is not None:
            local = str(kind)[len(SHACL) :] if str(kind).startswith(SHACL) else None
            if local not in _NODE_KINDS:
                raise UnsupportedShapeFeature(f"{shape.label}: unknown sh:nodeKind {kind}")
            shape.checks.append(_Check(_component("NodeKind"), _NODE_KINDS[local]))
        flags = self._one(node, SH.flags)
        re_flags = 0
        if flags is not None:
            text = str(flags).lower()
            re_flags = (re.I if "i" in text else 0) | (re.M if "m" in text else 0)
        for pattern in sorted(g.objects(node, SH.pattern), key=str):
            if not isinstance(pattern, rdflib.Literal):
                raise UnsupportedShapeFeature(f"{shape.label}: sh:pattern must be a literal")
            matcher = re.compile(str(pattern.value) if pattern.value is not None else str(pattern), re_flags)
            shape.checks.append(_Check(_component("Pattern"), f"!{self._pattern_function(matcher)}(?v)"))
        for cls in sorted(g.objects(node, SH["class"]), key=str):
            if not isinstance(cls, rdflib.URIRef):
                raise UnsupportedShapeFeature(f"{shape.label}: sh:class must be an IRI")
            shape.checks.append(
                _Check(
                    _component("Class"),
                    f"NOT EXISTS {{ ?v <{RDF.type}>/<{RDFS.subClassOf}>* <{cls}> }}",
                )
            )
        members = self._one(node, SH["in"])
        if members is not None:
            shape.checks.append(_Check(_component("In"), self._in_check(self._list(members))))
        languages = self._one(node, SH.languageIn)
        if languages is not None:
            shape.checks.append(_Check(_component("LanguageIn"), self._language_check(shape, self._list(languages))))
        for local, compare in (("minLength", ">="), ("maxLength", "<=")):
            limit = self._int(node, _sh(local))
            if limit is None or (local == "minLength" and limit == 0):
                continue
            function = self._length_function(limit, compare)
            shape.checks.append(_Check(_component(local[0].upper() + local[1:]), f"!{function}(?v)"))

    def _function(self, kind: str, make: Callable[[_Batch], Callable[..., ox.Literal]]) -> str:
        iri = f"{_X}fn/{kind}/{len(self._functions)}"
        self._functions.append((iri, make))
        return f"<{iri}>"

    def _datatype_check(self, rule: str) -> str:
        if rule == str(RDFS.Literal):
            return "!isLiteral(?v)"
        if rule == XSD_STRING:
            return f"!(isLiteral(?v) && datatype(?v) = <{XSD_STRING}>)"
        if rule == RDF_LANGSTRING:
            return '!(isLiteral(?v) && lang(?v) != "")'

        def make(batch: _Batch) -> Callable[..., ox.Literal]:
            def well_typed(term: Any) -> ox.Literal:
                if _is_plain(term):  # rdflib: no datatype; only rdfs:Literal and the string types accept it
                    return FALSE
                view = batch.view(term)
                if str(view.term.datatype) == rule:
                    ok = not view.ill_typed and _assert_actual_datatype(view.value, rule)
                else:
                    ok = rule == str(RDFS.Datatype)
                return TRUE if ok else FALSE

            return well_typed

        function = self._function("datatype", make)
        return f"!(isLiteral(?v) && {function}(?v))"

    def _pattern_function(self, matcher: re.Pattern[str]) -> str:
        @lru_cache(maxsize=65536)
        def matches(text: str) -> bool:
            return matcher.search(text) is not None

        def make(batch: _Batch) -> Callable[..., ox.Literal]:
            def pattern(term: Any) -> ox.Literal:
                text = batch.text(term)
                return TRUE if text is not None and matches(text) else FALSE

            return pattern

        return self._function("pattern", make)

    def _length_function(self, limit: int, compare: str) -> str:
        def make(batch: _Batch) -> Callable[..., ox.Literal]:
            def length(term: Any) -> ox.Literal:
                text = batch.text(term)
                if text is None:
                    return FALSE
                return TRUE if (len(text) >= limit if compare == ">=" else len(text) <= limit) else FALSE

            return length

        return self._function("length", make)

    def _in_check(self, members: list[rdflib.term.Node]) -> str:
        iris = [m for m in members if isinstance(m, rdflib.URIRef)]
        literals = {m for m in members if isinstance(m, rdflib.Literal)}
        parts = [f"?v IN ({', '.join(f'<{m}>' for m in iris)})"] if iris else []
        if literals:

            def make(batch: _Batch) -> Callable[..., ox.Literal]:
                def member(term: Any) -> ox.Literal:
                    return TRUE if batch.rdflib_term(term) in literals else FALSE

                return member

            parts.append(f"(isLiteral(?v) && {self._function('in', make)}(?v))")
        return f"!({' || '.join(parts)})" if parts else "true"

    def _equality(self, value: rdflib.term.Node) -> str:
        """An expression over ?hv that is true when ?hv is the term `value` (rdflib's ==)."""
        if isinstance(value, rdflib.URIRef):
            return f"sameTerm(?hv, <{value}>)"
        if isinstance(value, rdflib.Literal):

            def make(batch: _Batch) -> Callable[..., ox.Literal]:
                def equal(term: Any) -> ox.Literal:
                    return TRUE if batch.rdflib_term(term) == value else FALSE

                return equal

            return f"(isLiteral(?hv) && {self._function('equal', make)}(?hv))"
        return "false"  # a blank node of the shapes graph is never a data node

    def _language_check(self, shape: _Shape, languages: list[rdflib.term.Node]) -> str:
        needed = set()
        for lang in languages:
            if not isinstance(lang, rdflib.Literal) or not isinstance(lang.value, str):
                raise UnsupportedShapeFeature(f"{shape.label}: sh:languageIn members must be strings")
            needed.add(str(lang.value).lower())
        if "*" in needed:
            return '!(isLiteral(?v) && lang(?v) != "")'
        listed = ", ".join(_string(n) for n in sorted(needed))
        return (
            '!(isLiteral(?v) && lang(?v) != "" && (LCASE(lang(?v)) IN ('
            + listed
            + ') || (CONTAINS(lang(?v), "-") && LCASE(STRBEFORE(lang(?v), "-")) IN ('
            + listed
            + "))))"
        )

    def _sparql(self, shape: _Shape, node: rdflib.term.Node) -> _SparqlConstraint:
        g = self.graph
        for predicate in set(g.predicates(node, None)):
            text = str(predicate)
            if text.startswith(SHACL) and text[len(SHACL) :] not in _SPARQL_CONSTRAINT_KEYS:
                raise UnsupportedShapeFeature(f"{shape.label}: {compact(text)} in a SPARQL constraint is not compiled")
        select = self._one(node, SH.select)
        if not isinstance(select, rdflib.Literal):
            raise UnsupportedShapeFeature(f"{shape.label}: SPARQL constraints need one sh:select")
        text = str(select.value)
        for word, pattern in (
            ("MINUS", r"\bMINUS\b"),
            ("VALUES", r"\bVALUES\b"),
            ("SERVICE", r"\bSERVICE\b"),
            ("$currentShape", r"[$?]currentShape\b"),
            ("$shapesGraph", r"[$?]shapesGraph\b"),
            ("?failure", r"[$?]failure\b"),
        ):
            if re.search(pattern, text, re.I if word.isalpha() else 0):
                raise UnsupportedShapeFeature(f"{shape.label}: {word} in a SPARQL constraint is not compiled")
        head = text.split("{", 1)[0]
        if not re.search(r"[$?]this\b|SELECT\s+\*", head, re.I):
            raise UnsupportedShapeFeature(f"{shape.label}: a SPARQL constraint must select $this")
        if shape.path:
            text = re.sub(r"([\s{}()])[$?]PATH\b", lambda m: m.group(1) + f"<{shape.path}>", text)
        elif re.search(r"[$?]PATH\b", text):
            raise UnsupportedShapeFeature(f"{shape.label}: $PATH in a SPARQL constraint of a node shape")
        slot = _first_brace(text)
        if slot < 0:
            raise UnsupportedShapeFeature(f"{shape.label}: cannot find the WHERE clause of a SPARQL constraint")
        text = text[: slot + 1] + " {VALUES} " + text[slot + 1 :]
        prefixes = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(self._prefixes(shape, node).items()))
        # pyshacl drops the language tags of a SPARQL result's messages; `Violation`s take the tagged
        # sh:message of the constraint, else of the shape (see graph.validation._violations).
        own = set(g.objects(node, SH.message))
        shape_messages = set(g.objects(shape.node, SH.message))
        messages = _tagged(own) or _tagged(shape_messages)
        if not messages:
            texts = {str(m) for m in own | shape_messages}
            if len(texts) != 1 or re.search(r"\{[$?][^{}]+\}", next(iter(texts))):
                raise UnsupportedShapeFeature(
                    f"{shape.label}: a SPARQL constraint needs a language-tagged sh:message (here or on its shape)"
                )
            messages = {"en": next(iter(texts))}
        deactivated = self._one(node, SH.deactivated)
        return _SparqlConstraint(node, prefixes + text, messages, bool(getattr(deactivated, "value", False)))

    def _prefixes(self, shape: _Shape, node: rdflib.term.Node) -> dict[str, str]:
        """pyshacl's SPARQLQueryHelper.collect_prefixes (plus its default rdf, rdfs and owl)."""
        g = self.graph
        prefixes = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
        ontologies = set(g.subjects(RDF.type, OWL.Ontology))
        global_declares = {d for o in ontologies for d in g.objects(o, SH.declare)}
        for holder in g.objects(node, SH.prefixes):
            own = set(g.objects(holder, SH.declare))
            declares = own if own and holder in ontologies else global_declares | own
            for declare in declares:
                prefix = self._one(declare, SH.prefix)
                namespace = self._one(declare, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShapeFeature(f"{shape.label}: sh:declare needs sh:prefix and sh:namespace")
                prefixes[str(prefix)] = str(namespace)
        return prefixes

    def _mark_reportable(self, shape: _Shape) -> None:
        """Shapes whose results reach the report: targets, their properties and sh:node (details)."""
        if shape.reportable:
            return
        shape.reportable = True
        for child in [*shape.properties, *shape.nodes]:
            self._mark_reportable(child)

    def _check_reporting(self, shape: _Shape) -> None:
        if shape.sparql and not shape.reportable:
            raise UnsupportedShapeFeature(f"{shape.label}: SPARQL constraints inside sh:or are not compiled")
        reports = bool(
            shape.checks
            or shape.min_count
            or shape.max_count is not None
            or shape.unique_lang
            or shape.has_values
            or shape.closed is not None
            or shape.less_than_or_equals
            or shape.nodes
            or shape.ors
        )
        if shape.reportable and reports and shape.messages is None and not shape.deactivated:
            raise UnsupportedShapeFeature(
                f"{shape.label}: a shape that reports results needs sh:message (language-tagged); "
                "pyshacl's generated English messages are not reproduced"
            )

    def _topological(self) -> list[_Shape]:
        """Shapes, parents before children; with heights (levels of sh:node/sh:or nesting)."""
        order: list[_Shape] = []
        seen: set[int] = set()

        def visit(shape: _Shape) -> None:
            if shape.key in seen:
                return
            seen.add(shape.key)
            children = [*shape.properties, *shape.nodes, *(m for ms in shape.ors for m in ms)]
            for child in children:
                visit(child)
            shape.height = max(
                [0]
                + [c.height for c in shape.properties]
                + [1 + c.height for c in [*shape.nodes, *(m for ms in shape.ors for m in ms)]]
            )
            order.append(shape)

        for shape in self.top:
            visit(shape)
        return list(reversed(order))

    def _sparql_focus_sources(self) -> dict[int, list[_Shape]]:
        """For each shape with SPARQL constraints, the targeted shapes whose targets are its focus nodes:
        the constraints are pre-bound with focus nodes known in Python, so they may sit on a targeted
        shape or on a property shape of targeted shapes, not deeper."""
        sources: dict[int, list[_Shape]] = {}
        for shape in self._shapes.values():
            if not shape.sparql:
                continue
            parents = [s for s in self._shapes.values() if shape in s.properties]
            nested = [s for s in self._shapes.values() if shape in s.nodes or any(shape in ms for ms in s.ors)]
            if nested or any(p not in self.top for p in parents):
                raise UnsupportedShapeFeature(f"{shape.label}: SPARQL constraints in nested shapes are not compiled")
            sources[shape.key] = [*parents, *([shape] if shape in self.top else [])]
        return sources

    # -- the queries --------------------------------------------------------------------------

    def _plan_focus(self) -> None:
        """Where each shape's focus nodes come from: a union of sets in the focus graph. Targets are
        written from Python (`set/S`); a shape inherits the sets of the node shapes that hold it by
        sh:property, and of the node shapes that refer to it by sh:node/sh:or; the values of a property
        shape that refers to nested shapes are copied into a set of their own (`values/P`)."""
        for shape in self._order:  # parents first
            if shape in self.top and not shape.deactivated:
                shape.sources.setdefault(f"{_X}set/{shape.key}")
        for shape in self._order:
            if shape.deactivated or not shape.sources:
                continue
            nested = [*shape.nodes, *(m for ms in shape.ors for m in ms)]
            for child in shape.properties:
                child.sources.update(shape.sources)
            for child in nested:
                child.sources.update({f"{_X}values/{shape.key}": None} if shape.is_property else shape.sources)

    @staticmethod
    def _focus(shape: _Shape) -> str:
        """A SPARQL pattern binding ?this to each focus node of `shape` (once)."""
        sets = list(shape.sources)
        if len(sets) == 1:
            return f"GRAPH <{FOCUS_GRAPH.value}> {{ <{sets[0]}> <{MEMBER.value}> ?this }}"
        listed = " ".join(f"<{s}>" for s in sets)
        return (
            f"{{ SELECT DISTINCT ?this WHERE {{ VALUES ?fs {{ {listed} }} "
            f"GRAPH <{FOCUS_GRAPH.value}> {{ ?fs <{MEMBER.value}> ?this }} }} }}"
        )

    def _focus_update(self) -> str:
        """Copy the values of property shapes that refer to nested shapes, parents first."""
        operations = []
        for shape in self._order:
            if shape.deactivated or not shape.sources or not shape.is_property:
                continue
            if shape.nodes or shape.ors:
                operations.append(
                    f"INSERT {{ GRAPH <{FOCUS_GRAPH.value}> {{ <{_X}values/{shape.key}> <{MEMBER.value}> ?v }} }} "
                    f"WHERE {{ {self._focus(shape)} {shape.value_pattern()} }}"
                )
        return " ;\n".join(operations)

    def _own_query(self) -> tuple[list[tuple[str, _Shape, Any]], list[str]]:
        """SELECTs (one per shape and kind of constraint) returning the failures of every constraint that
        does not depend on another shape, one row per failure, in the same columns."""
        branches: list[tuple[str, _Shape, Any]] = []
        texts: list[str] = []
        flags = max([len(s.checks) for s in self._shapes.values()] + [0])

        def add(kind: str, shape: _Shape, extra: Any, body: str) -> None:
            texts.append(f"{{ {body} BIND({len(branches)} AS ?b) }}")
            branches.append((kind, shape, extra))

        for shape in self._order:
            if shape.deactivated or not shape.sources:
                continue
            focus = self._focus(shape)
            if shape.checks:
                binds = " ".join(f"BIND(({c.expression}) AS ?f{i})" for i, c in enumerate(shape.checks))
                any_flag = " || ".join(f"?f{i}" for i in range(len(shape.checks)))
                add("checks", shape, None, f"{focus} {shape.value_pattern()} {binds} FILTER({any_flag})")
            if shape.min_count or shape.max_count is not None:
                conditions = []
                if shape.min_count:
                    conditions.append(f"?n < {shape.min_count}")
                if shape.max_count is not None:
                    conditions.append(f"?n > {shape.max_count}")
                add(
                    "count",
                    shape,
                    None,
                    f"{{ SELECT ?this (COUNT(DISTINCT ?cv) AS ?n) WHERE {{ {focus} "
                    f"OPTIONAL {{ ?this <{shape.path}> ?cv }} }} GROUP BY ?this }} FILTER({' || '.join(conditions)})",
                )
            for expression in shape.has_values:
                if shape.is_property:
                    body = f"{focus} FILTER NOT EXISTS {{ ?this <{shape.path}> ?hv FILTER({expression}) }}"
                else:
                    body = f"{focus} BIND(?this AS ?hv) FILTER(!({expression}))"
                add("hasValue", shape, None, body)
            if shape.unique_lang:
                add(
                    "uniqueLang",
                    shape,
                    None,
                    f"{{ SELECT ?this ?k WHERE {{ {focus} ?this <{shape.path}> ?lv "
                    f'FILTER(isLiteral(?lv) && lang(?lv) != "") BIND(LCASE(lang(?lv)) AS ?k) }} '
                    "GROUP BY ?this ?k HAVING (COUNT(DISTINCT ?lv) > 1) }",
                )
            if shape.closed is not None:
                node = "?vn" if shape.is_property else "?this"
                reach = f"?this <{shape.path}> ?vn ." if shape.is_property else ""
                allowed = ", ".join(f"<{p}>" for p in shape.closed)
                not_in = f"FILTER(?p NOT IN ({allowed}))" if allowed else ""
                add(
                    "closed",
                    shape,
                    None,
                    f"{focus} {reach} {node} ?p ?v {not_in} "
                    f"FILTER(!(sameTerm(?p, <{RDF.type}>) && sameTerm(?v, <{RDFS.Resource}>)))",
                )
            for other in shape.less_than_or_equals:
                add("lessThanOrEquals", shape, other, f"{focus} ?this <{shape.path}> ?v . ?this <{other}> ?w")
        # One query per branch: Oxigraph runs a long UNION of them markedly slower than the parts.
        variables = " ".join(["?b", "?this", "?v", "?p", "?k", "?n", "?w"] + [f"?f{i}" for i in range(flags)])
        return branches, [f"SELECT {variables} WHERE {text}" for text in texts]

    # -- validating ---------------------------------------------------------------------------

    def validate(self, triples: Sequence[ox.Triple], focus: Sequence[ox.NamedNode] | None = None) -> list[Violation]:
        """The results of validating `triples`; with `focus`, only of those target nodes (and what their
        shapes reach): the records being written, not the linked records whose types are context."""
        batch = _Batch()
        store = ox.Store()
        quads = self._load(store, triples, batch)
        targets = self._targets(triples, None if focus is None else set(focus))
        focus_quads = [
            ox.Quad(ox.NamedNode(f"{_X}set/{shape.key}"), MEMBER, node, FOCUS_GRAPH)
            for shape in self.top
            if not shape.deactivated
            for node in targets[shape.key]
        ]
        store.bulk_extend(quads + focus_quads)
        if self._update:
            store.update(self._update)
        functions = {ox.NamedNode(iri): make(batch) for iri, make in self._functions}

        own: dict[int, dict[Any, list[_Result]]] = defaultdict(lambda: defaultdict(list))
        self._collect_own(store, functions, batch, own)
        self._collect_sparql(store, targets, own)
        self._collect_shape_based(store, own)
        return self._emit(targets, own, batch)

    def _load(self, store: ox.Store, triples: Sequence[ox.Triple], batch: _Batch) -> list[ox.Quad]:
        """The data graph as rdflib holds it, ready for `store`, and rdflib's view of each typed literal.

        Typed literals get rdflib's normalised lexical form. Oxigraph then stores some of them in a
        canonical form of its own (`+00:00` becomes `Z`) and even re-types some (`xsd:int` becomes
        `xsd:integer`, `xsd:dateTimeStamp` becomes `xsd:dateTime`). So each distinct typed literal is
        stored first as a fact in a graph of its own, to learn what Oxigraph makes of it; one that
        would be re-typed goes into the data graph under a private datatype IRI instead (so that it
        keeps its identity and `datatype()` does not claim a type rdflib would not), and every stored
        form is mapped to rdflib's view, which the checks and the reported values use.
        """
        literals: dict[tuple[str, str], int] = {}
        normals: list[ox.Literal] = []
        views: list[_LiteralView] = []
        for t in triples:
            o = t.object
            if isinstance(o, ox.Literal) and not _is_plain(o):
                key = (o.value, o.datatype.value)
                if key not in literals:
                    view = _rdflib_view(o.value, o.datatype.value)
                    literals[key] = len(normals)
                    normals.append(o if view.text == o.value else ox.Literal(view.text, datatype=o.datatype))
                    views.append(view)
        final: list[ox.Literal] = list(normals)
        if normals:
            store.bulk_extend(
                ox.Quad(ox.NamedNode(f"{_X}literal/{i}"), IS, literal, LITERAL_GRAPH)
                for i, literal in enumerate(normals)
            )
            for solution in store.query(self._literals_query):
                i = int(solution[0].value.rsplit("/", 1)[1])
                stored = solution[1]
                if stored.datatype != normals[i].datatype:
                    stored = final[i] = ox.Literal(
                        normals[i].value, datatype=ox.NamedNode(ALIAS + normals[i].datatype.value)
                    )
                batch.views.setdefault(stored, views[i])
            store.clear_graph(LITERAL_GRAPH)
        quads = []
        for t in triples:
            o = t.object
            if isinstance(o, ox.Literal) and not _is_plain(o):
                o = final[literals[(o.value, o.datatype.value)]]
            quads.append(ox.Quad(t.subject, t.predicate, o))
        return quads

    def _targets(self, triples: Sequence[ox.Triple], focus: set[ox.NamedNode] | None) -> dict[int, set[Any]]:
        """pyshacl's focus nodes of sh:targetClass: instances of the class or of its subclasses (those in
        `focus`, when given)."""
        by_type: dict[Any, set[Any]] = defaultdict(set)
        subclasses: dict[Any, set[Any]] = defaultdict(set)
        for t in triples:
            if t.predicate == RDF_TYPE:
                if focus is None or t.subject in focus:
                    by_type[t.object].add(t.subject)
            elif t.predicate == RDFS_SUBCLASS_OF:
                subclasses[t.object].add(t.subject)
        found: dict[int, set[Any]] = {}
        for shape in self.top:
            nodes: set[Any] = set()
            for cls in shape.targets:
                frontier, seen = [ox.NamedNode(cls)], set()
                while frontier:
                    current = frontier.pop()
                    if current in seen:
                        continue
                    seen.add(current)
                    nodes |= by_type.get(current, set())
                    frontier.extend(subclasses.get(current, ()))
            found[shape.key] = nodes
        return found

    def _collect_own(
        self,
        store: ox.Store,
        functions: dict[ox.NamedNode, Callable[..., ox.Literal]],
        batch: _Batch,
        own: dict[int, dict[Any, list[_Result]]],
    ) -> None:
        branches = self._branches
        rows = (row for query in self._selects for row in store.query(query, custom_functions=functions))
        for row in rows:
            kind, shape, extra = branches[int(row[0].value)]
            this = row[1]
            results = own[shape.key][this]
            if kind == "checks":
                for i, check in enumerate(shape.checks):
                    flag = row[7 + i]
                    if flag is not None and flag.value == "true":
                        results.append(_Result(check.rule, row[2]))
            elif kind == "count":
                n = int(row[5].value)
                if shape.min_count and n < shape.min_count:
                    results.append(_Result(_component("MinCount")))
                if shape.max_count is not None and n > shape.max_count:
                    results.append(_Result(_component("MaxCount")))
            elif kind == "hasValue":
                results.append(_Result(_component("HasValue")))
            elif kind == "uniqueLang":
                results.append(_Result(_component("UniqueLang")))
            elif kind == "closed":
                results.append(_Result(_component("Closed"), row[2], path=row[3].value))
            elif kind == "lessThanOrEquals" and not _less_or_equal(
                batch.rdflib_term(row[2]), batch.rdflib_term(row[6])
            ):
                results.append(_Result(_component("LessThanOrEquals"), row[2]))
            if not results:
                del own[shape.key][this]

    def _collect_sparql(
        self, store: ox.Store, targets: dict[int, set[Any]], own: dict[int, dict[Any, list[_Result]]]
    ) -> None:
        for shape in self._shapes.values():
            if not shape.sparql or shape.deactivated:
                continue
            foci: set[Any] = set()
            for parent in self._sparql_foci[shape.key]:
                foci |= targets[parent.key]
            if not foci:
                continue
            bound = sorted((f for f in foci if not isinstance(f, ox.BlankNode)), key=str)
            blank = [f for f in foci if isinstance(f, ox.BlankNode)]
            for constraint in shape.sparql:
                if constraint.deactivated:
                    continue
                runs: list[tuple[str, dict[ox.Variable, Any] | None]] = []
                if bound:
                    values = "VALUES ?this { " + " ".join(str(f) for f in bound) + " }"
                    runs.append((constraint.query.replace("{VALUES}", values, 1), None))
                runs += [(constraint.query.replace("{VALUES}", "", 1), {ox.Variable("this"): f}) for f in blank]
                seen: set[tuple[Any, ...]] = set()
                for query, substitutions in runs:
                    solutions = store.query(query, substitutions=substitutions)
                    names = [v.value for v in solutions.variables]
                    for solution in solutions:
                        bindings = {n: solution[n] for n in names if solution[n] is not None}
                        this = bindings.pop("this", None)
                        if this is None and substitutions:
                            this = substitutions[ox.Variable("this")]
                        if this is None:
                            continue
                        path = bindings.pop("path", None)
                        value = bindings.pop("value", None)
                        key = (this, path, value, frozenset(bindings.items()))
                        if key in seen:
                            continue
                        seen.add(key)
                        if value is None and not shape.is_property:
                            value = this
                        own[shape.key][this].append(
                            _Result(
                                _component("SPARQL"),
                                value,
                                path=path.value if isinstance(path, ox.NamedNode) else None,
                                messages=constraint.messages,
                            )
                        )

    def _collect_shape_based(self, store: ox.Store, own: dict[int, dict[Any, list[_Result]]]) -> None:
        """sh:node and sh:or, one nesting level at a time: find failing values, then their focus nodes."""
        flat_memo: dict[tuple[int, Any], bool] = {}
        conform_memo: dict[tuple[int, Any], bool] = {}

        def has_results(shape: _Shape, node: Any) -> bool:
            key = (shape.key, node)
            if key not in flat_memo:
                flat_memo[key] = not shape.deactivated and (
                    bool(own[shape.key].get(node)) or any(has_results(p, node) for p in shape.properties)
                )
            return flat_memo[key]

        def conforms(shape: _Shape, node: Any) -> bool:
            key = (shape.key, node)
            if key not in conform_memo:
                conform_memo[key] = (
                    shape.deactivated
                    or shape.allowed
                    or (not own[shape.key].get(node) and all(conforms(p, node) for p in shape.properties))
                )
            return conform_memo[key]

        def candidates(shape: _Shape) -> set[Any]:
            found = set(own[shape.key])
            for prop in shape.properties:
                found |= set(own[prop.key])
            return found

        levels = sorted({s.height for s in self._shapes.values() if s.nodes or s.ors})
        for level in levels:
            jobs: list[tuple[_Shape, str, _Shape | None, set[Any]]] = []
            for shape in self._order:
                if shape.height != level or shape.deactivated or not shape.sources:
                    continue
                for nested in shape.nodes:
                    failing = {v for v in candidates(nested) if has_results(nested, v)}
                    if failing:
                        jobs.append((shape, _component("Node"), nested, failing))
                for members in shape.ors:
                    failing = candidates(members[0])
                    failing = {v for v in failing if not any(conforms(m, v) for m in members)}
                    if failing:
                        jobs.append((shape, _component("Or"), None, failing))
            if not jobs:
                continue
            quads = [
                ox.Quad(ox.NamedNode(f"{_X}failing/{level}/{i}"), MEMBER, v, FOCUS_GRAPH)
                for i, (_, _, _, failing) in enumerate(jobs)
                for v in failing
            ]
            store.bulk_extend(quads)
            texts = []
            for i, (shape, _, _, _) in enumerate(jobs):
                failing_set = f"GRAPH <{FOCUS_GRAPH.value}> {{ <{_X}failing/{level}/{i}> <{MEMBER.value}> ?v }}"
                texts.append(f"{{ {self._focus(shape)} {shape.value_pattern()} {failing_set} BIND({i} AS ?j) }}")
            query = "SELECT ?j ?this ?v WHERE {\n" + "\nUNION\n".join(texts) + "\n}"
            for row in store.query(query):
                shape, rule, nested, _ = jobs[int(row[0].value)]
                own[shape.key][row[1]].append(_Result(rule, row[2], nested=nested))
            # The new results change what the shapes above see.
            flat_memo.clear()
            conform_memo.clear()

    def _emit(
        self, targets: dict[int, set[Any]], own: dict[int, dict[Any, list[_Result]]], batch: _Batch
    ) -> list[Violation]:
        memo: dict[tuple[int, Any], list[Violation]] = {}

        def flat(shape: _Shape, node: Any) -> list[Violation]:
            key = (shape.key, node)
            found = memo.get(key)
            if found is not None:
                return found
            found = []
            if not shape.deactivated:
                for result in own[shape.key].get(node, ()):
                    found.append(self._violation(shape, node, result, batch))
                    if result.nested is not None:
                        found.extend(flat(result.nested, result.value))
                for prop in shape.properties:
                    found.extend(flat(prop, node))
            memo[key] = found
            return found

        violations: list[Violation] = []
        for shape in self.top:
            reported = set(own[shape.key]).union(*(own[p.key] for p in shape.properties))
            for node in reported & targets[shape.key]:
                violations.extend(flat(shape, node))
        return violations

    @staticmethod
    def _violation(shape: _Shape, focus: Any, result: _Result, batch: _Batch) -> Violation:
        messages = result.messages or shape.messages or {}
        return Violation(
            focus=batch.display(focus),
            path=result.path if result.path is not None else shape.path,
            messages=dict(messages),
            severity=shape.severity,
            value=batch.display(result.value) if result.value is not None else None,
            rule=compact(result.rule),
        )


# -- helpers ----------------------------------------------------------------------------------


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_brace(query: str) -> int:
    """Index of the `{` that opens the WHERE clause (skipping IRIs, strings and comments)."""
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c == "#":
            end = query.find("\n", i)
            i = n if end < 0 else end
        elif c in "\"'":
            triple = query[i : i + 3] in ('"""', "'''")
            quote = query[i : i + 3] if triple else c
            i += len(quote)
            while i < n and not query.startswith(quote, i):
                i += 2 if query[i] == "\\" else 1
            i += len(quote)
            continue
        elif c == "<" and re.match(r"<[^<>\"{}|^`\\\s]*>", query[i:]):
            i = query.index(">", i)
        elif c == "{":
            return i
        i += 1
    return -1


def _less_or_equal(value: rdflib.term.Node, other: rdflib.term.Node) -> bool:
    """pyshacl's LessThanOrEqualsConstraintComponent comparison of two rdflib terms."""
    if isinstance(value, rdflib.BNode) or isinstance(other, rdflib.BNode):
        raise UnsupportedShapeFeature("sh:lessThanOrEquals cannot compare a blank node")
    left: Any = value
    right: Any = other
    left_string = right_string = False
    if isinstance(left, rdflib.URIRef) or (isinstance(left, rdflib.Literal) and isinstance(left.value, str)):
        left, left_string = str(left) if isinstance(left, rdflib.URIRef) else left.value, True
    if isinstance(right, rdflib.URIRef) or (isinstance(right, rdflib.Literal) and isinstance(right.value, str)):
        right, right_string = str(right) if isinstance(right, rdflib.URIRef) else right.value, True
    if left_string != right_string:
        return False
    return bool(left <= right)
