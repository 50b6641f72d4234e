"""schema.org JSON-LD embedded in pages, so search engines understand what each page is about."""

from __future__ import annotations

from typing import Any

from graph.iris import DCT, SCHEMA
from graph.views import ConceptPage, OntologyPage, RecordPage, SchemePage
from graph.vocab_schemes import CollectionPage

RECORD_TYPES = {
    "item": "CreativeWork",
    "problem": "Thing",
    "solution": "HowTo",
    "actor": "Organization",
    "event": "Event",
}


def concept(page: ConceptPage, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "DefinedTerm",
        "@id": page.iri,
        "name": page.label(lang),
        "inLanguage": lang,
    }
    definitions = page.texts("http://www.w3.org/2004/02/skos/core#definition")
    if definitions:
        data["description"] = (definitions.get(lang) or definitions.get("da") or [""])[0]
    if page.scheme:
        data["inDefinedTermSet"] = page.scheme.iri
    return data


def scheme(page: SchemePage, lang: str) -> dict[str, Any]:
    return {
        "@context": "https://schema.org",
        "@type": "DefinedTermSet",
        "@id": page.iri,
        "name": page.label(lang),
        "inLanguage": lang,
    }


def collection(page: CollectionPage, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "DefinedTermSet",
        "@id": page.iri,
        "name": page.label(lang),
        "inLanguage": lang,
        "hasDefinedTerm": [m.iri for m in page.members],
    }
    if page.scheme:
        data["isPartOf"] = page.scheme.iri
    return data


def record(page: RecordPage, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": RECORD_TYPES[page.kind.value],
        "@id": page.iri,
        "name": page.label(lang),
    }
    if description := page.description(lang):
        data["description"] = description
    simple = {
        SCHEMA + "startDate": "startDate",
        SCHEMA + "endDate": "endDate",
        SCHEMA + "location": "location",
        SCHEMA + "url": "url",
        DCT + "issued": "datePublished",
        DCT + "modified": "dateModified",
    }
    for prop, key in simple.items():
        if (p := page.prop(prop)) and p.values:
            value = p.values[0]
            data[key] = value.ref.iri if value.ref else value.text
    linked = {DCT + "publisher": "publisher", SCHEMA + "organizer": "organizer"}
    for prop, key in linked.items():
        if (p := page.prop(prop)) and p.values:
            data[key] = [
                {"@type": "Organization", "@id": v.ref.iri, "name": v.ref.label(lang)} for v in p.values if v.ref
            ]
    return data


def ontology(page: OntologyPage, lang: str) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "Dataset", "@id": page.iri, "name": page.label(lang)}
