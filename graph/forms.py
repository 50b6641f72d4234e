"""Submission forms generated from the shapes: the fields, their names and help texts (da/en),
order and cardinality come from shapes/*.ttl, the value kinds from the simple JSON schema of
`graph.submissions`, so a form, the API and validation can never disagree about a field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import rdflib
from rdflib.namespace import SH

from graph.iris import RecordKind
from graph.resources import Resolution, ResourceKind, Status
from graph.submissions import (
    CONCEPT,
    CONCEPTS,
    FIELDS,
    LANG_LIST_MAP,
    LANG_MAP,
    RECORD,
    RECORDS,
    TEXTS,
    FieldSpec,
    property_iri,
)
from graph.text import danish_sort_key
from graph.views import Site, pick, scheme_page, walk

DASH_READ_ONLY = rdflib.URIRef("http://datashapes.org/dash#readOnly")
LONG_TEXT = {"description", "citation", "address"}


@dataclass
class Option:
    value: str
    label: str
    depth: int = 0


@dataclass
class FormField:
    spec: FieldSpec
    names: dict[str, str]
    help: dict[str, str]
    order: float
    required: bool
    repeatable: bool
    options: list[Option] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def widget(self) -> str:
        """How the template draws it: languages | lines | select | text | textarea | date | url | list."""
        shape = self.spec.shape
        if shape == LANG_MAP:
            return "languages"
        if shape == LANG_LIST_MAP:
            return "lines"
        if shape in (CONCEPT, CONCEPTS, RECORD, RECORDS):
            return "select"
        if shape == TEXTS:
            return "list"
        if shape == "date":
            return "date"
        if shape == "iri":
            return "url"
        return "textarea" if self.name in LONG_TEXT else "text"

    @property
    def multiple(self) -> bool:
        return self.spec.shape in (CONCEPTS, RECORDS)

    @property
    def schemes(self) -> list[str]:
        """The slugs of the schemes a concept field takes its values from (none for other fields)."""
        return concept_schemes(self.spec)

    @property
    def picker(self) -> bool:
        """Drawn with a concept picker (autocomplete, chips) when JavaScript runs: the many-valued concept
        fields. Single-valued ones from small schemes (knowledge type, evidence level) stay selects."""
        return self.spec.shape == CONCEPTS

    def label(self, lang: str) -> str:
        return pick(self.names, lang, self.name)

    def help_text(self, lang: str) -> str:
        return pick(self.help, lang)


def _texts(graph: rdflib.Graph, node: rdflib.term.Node, prop: rdflib.URIRef) -> dict[str, str]:
    return {getattr(o, "language", None) or "": str(o) for o in graph.objects(node, prop)}


def form_fields(site: Site, kind: RecordKind, lang: str) -> list[FormField]:
    """The fields of the submission form for one record type, in the shapes' order."""
    shapes = site.services.validator.record_shapes
    target = rdflib.URIRef(site.iris.record_class(kind).value)
    by_property = {property_iri(spec, site.iris).value: spec for spec in FIELDS}
    fields: dict[str, FormField] = {}
    for shape in shapes.subjects(SH.targetClass, target):
        for prop_shape in shapes.objects(shape, SH.property):
            path = shapes.value(prop_shape, SH.path)
            spec = by_property.get(str(path))
            if spec is None or shapes.value(prop_shape, DASH_READ_ONLY) is not None:
                continue
            min_count = shapes.value(prop_shape, SH.minCount)
            max_count = shapes.value(prop_shape, SH.maxCount)
            order = shapes.value(prop_shape, SH.order)
            fields[spec.name] = FormField(
                spec=spec,
                names=_texts(shapes, prop_shape, SH.name),
                help=_texts(shapes, prop_shape, SH.description),
                order=float(order) if order is not None else 99.0,
                required=min_count is not None and int(min_count) > 0,
                repeatable=max_count is None or int(max_count) > 1,
            )
    result = sorted(fields.values(), key=lambda f: (f.order, f.name))
    for form_field in result:
        form_field.options = _options(site, form_field.spec, lang)
    return result


def concept_schemes(spec: FieldSpec) -> list[str]:
    """A concept field's schemes: its own, and for industries also the branchegrupper (given by IRI)."""
    if spec.shape not in (CONCEPT, CONCEPTS):
        return []
    return [spec.scheme] + (["branchegrupper"] if spec.scheme == "industries" else [])


def _options(site: Site, spec: FieldSpec, lang: str) -> list[Option]:
    if spec.shape in (CONCEPT, CONCEPTS):
        options: list[Option] = []
        for slug in concept_schemes(spec):
            iri = site.iris.scheme(slug)
            page = scheme_page(site, Resolution(iri, Status.live, ResourceKind.scheme), [])
            depth = {id(n): 0 for n in page.roots}
            for node in walk(page.roots):
                for child in node.children:
                    depth[id(child)] = depth[id(node)] + 1
                prefix = f"{node.notation} " if node.notation else ""
                options.append(Option(node.ref.iri, prefix + node.ref.label(lang), depth[id(node)]))
        return options
    if spec.shape in (RECORD, RECORDS):
        assert spec.record_kind is not None
        rows = site.services.store.select(
            site.services.queries("records-of-class", recordClass=site.iris.record_class(spec.record_kind))
        )
        refs = site.refs(r["record"].value for r in rows)
        return sorted((Option(r.iri, r.label(lang)) for r in refs), key=lambda o: danish_sort_key(o.label))
    return []


def json_from_form(kind: RecordKind, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The simple-JSON submission a filled-in form stands for (empty fields left out)."""
    data: dict[str, Any] = {"type": kind.value}
    if record_id := _first(form, "id"):
        data["id"] = record_id
    for spec in FIELDS:
        name = spec.name
        if spec.shape == LANG_MAP:
            texts = {lang: v for lang in ("da", "en") if (v := _first(form, f"{name}.{lang}"))}
            if texts:
                data[name] = texts
        elif spec.shape == LANG_LIST_MAP:
            lines = {
                lang: [line.strip() for line in v.splitlines() if line.strip()]
                for lang in ("da", "en")
                if (v := _first(form, f"{name}.{lang}"))
            }
            if lines:
                data[name] = lines
        elif spec.shape in (CONCEPTS, RECORDS):
            values = [v for v in form.get(name, []) if v.strip()]
            if values:
                data[name] = values
        elif spec.shape == TEXTS:
            if text := _first(form, name):
                data[name] = [part.strip() for part in text.split(",") if part.strip()]
        elif value := _first(form, name):
            data[name] = value
    return data


def _first(form: Mapping[str, Sequence[str]], name: str) -> str:
    values = form.get(name) or []
    return values[0].strip() if values else ""
