"""The vocabulary editor's HTML forms as the editing JSON, and back.

The forms work without JavaScript: one field per language for Danish and English, and for further
languages a box with one `lang: text` line per label or note; several alternative or hidden labels
go one per line, several notes in one language are separated by an empty line; concepts (broader,
related) are given one code or IRI per line, mappings one IRI per line. What a form does not show
(e.g. history notes, deprecation on the edit form) is taken over unchanged from the concept as it
is, so a form never drops what it cannot display. The result goes through `Thesaurus.edit` like any
JSON from the API: one set of rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from graph.iris import DCT, SKOS
from graph.validation import Violation
from graph.vocab_edit import LABELS, MATCHES, EditRefused

FORM_LANGUAGES = ("da", "en")
NOTE_FIELDS = ("definition", "scopeNote", "example", "editorialNote")
LINK_FIELDS = ("broader", "related")
TEXT_FIELDS = (*LABELS, *NOTE_FIELDS)
#: Every field group of the concept form, in the order shown (error messages are filed under these).
CONCEPT_FIELDS = ("notation", *TEXT_FIELDS, *LINK_FIELDS, *MATCHES, "reason")
_OTHER_LINE = re.compile(r"^\s*([a-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)\s*:\s*(.+?)\s*$")
_PARAGRAPHS = re.compile(r"\n\s*\n")


def first(values: Mapping[str, list[str]], name: str) -> str:
    return (values.get(name) or [""])[0].replace("\r\n", "\n")


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def form_values(data: Mapping[str, Any], scheme: str) -> dict[str, str]:
    """The concept's editing JSON as the text of each form field."""
    values: dict[str, str] = {"notation": str(data.get("notation") or "")}
    for name in TEXT_FIELDS:
        by_lang = data.get(name) or {}
        other = []
        for lang, texts in sorted(by_lang.items()):
            texts = _listed(texts)
            if lang in FORM_LANGUAGES:
                joiner = "\n" if name in LABELS else "\n\n"
                values[f"{name}.{lang}"] = joiner.join(texts)
            else:
                other += [f"{lang}: {t}" for t in texts]
        values[f"{name}.other"] = "\n".join(other)
    prefix = scheme + "/"
    for name in LINK_FIELDS:
        values[name] = "\n".join(v.removeprefix(prefix) for v in _listed(data.get(name)))
    for name in MATCHES:
        values[name] = "\n".join(_listed(data.get(name)))
    return values


def json_from_form(values: Mapping[str, list[str]], base: Mapping[str, Any]) -> dict[str, Any]:
    """The editing JSON: the fields the form sent, over `base` (the concept as it is; {} for a new one)."""
    data = {k: v for k, v in base.items() if k != "iri"}
    problems: list[Violation] = []
    if "notation" in values:
        data["notation"] = first(values, "notation").strip()
    for name in TEXT_FIELDS:
        keys = [f"{name}.{lang}" for lang in (*FORM_LANGUAGES, "other")]
        if not any(k in values for k in keys):
            continue
        by_lang: dict[str, list[str]] = {}
        for lang in FORM_LANGUAGES:
            text = first(values, f"{name}.{lang}")
            parts = lines(text) if name in LABELS else [p.strip() for p in _PARAGRAPHS.split(text) if p.strip()]
            if parts:
                by_lang[lang] = parts
        for line in lines(first(values, f"{name}.other")):
            match = _OTHER_LINE.match(line)
            if match is None:
                problems.append(
                    Violation(
                        focus="",
                        path=name,
                        messages={
                            "en": f"write other languages as “language: text”, one per line (not “{line}”)",
                            "da": f"skriv andre sprog som “sprog: tekst”, én pr. linje (ikke “{line}”)",
                        },
                        rule="form",
                    )
                )
                continue
            by_lang.setdefault(match.group(1), []).append(match.group(2))
        if not by_lang:
            data.pop(name, None)
        elif name == "prefLabel":  # one per language; a second one is left for the rules to refuse
            data[name] = {lang: texts[0] if len(texts) == 1 else texts for lang, texts in by_lang.items()}
        else:
            data[name] = by_lang
    for name in (*LINK_FIELDS, *MATCHES):
        if name in values:
            found = lines(first(values, name))
            if found:
                data[name] = found
            else:
                data.pop(name, None)
    if "broader" in values:
        # A concept without a broader concept is a top concept of its scheme, and only then.
        data["topConceptOf"] = not data.get("broader")
    if problems:
        raise EditRefused(422, "The form has errors; nothing was changed.", problems)
    return data


def field_of(violation: Violation) -> str:
    """The form field a problem is about: editing-JSON names as they are, property IRIs by local name."""
    path = violation.path or ""
    for namespace in (SKOS, DCT):
        path = path.removeprefix(namespace)
    return path.removeprefix("skos:").removeprefix("dct:")


def form_errors(
    violations: Iterable[Violation], lang: str, fields: Iterable[str]
) -> tuple[dict[str, list[str]], list[str]]:
    """Messages in `lang` by form field; those about no field of the form go in the second list."""
    known = set(fields)
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    for violation in violations:
        name = field_of(violation)
        message = violation.message(lang)
        if name in known:
            if message not in by_field.setdefault(name, []):
                by_field[name].append(message)
        elif message not in general:
            general.append(message)
    return by_field, general


def display_value(value: Any) -> str:
    """A field value of the editing JSON as one line of text (for reviewers)."""
    if value is None or value in ({}, [], ""):
        return "—"
    if isinstance(value, Mapping):
        return "; ".join(f"{lang}: {', '.join(_listed(texts))}" for lang, texts in sorted(value.items()))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return str(value)
