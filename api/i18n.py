"""Danish first, English second: the language of a request and the UI strings in both languages."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("da", "en")
LANG_COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "site.name": {"da": "Arbejdsmiljøviden", "en": "Arbejdsmiljøviden"},
    "site.tagline": {
        "da": "Samlet, åben viden om arbejdsmiljø: problemer, løsninger og aktører, der kan hjælpe.",
        "en": "Open, shared knowledge about the work environment: problems, solutions and the actors who can help.",
    },
    "nav.home": {"da": "Forside", "en": "Home"},
    "nav.skip": {"da": "Spring til indhold", "en": "Skip to content"},
    "lang.switch": {"da": "English", "en": "Dansk"},
    "home.numbers": {"da": "Det rummer vidensgrafen", "en": "What the knowledge graph holds"},
    "home.schemes": {"da": "Begrebssystemer", "en": "Concept schemes"},
    "home.concepts": {"da": "begreber", "en": "concepts"},
    "count.item": {"da": "vidensressourcer", "en": "knowledge items"},
    "count.problem": {"da": "arbejdsmiljøproblemer", "en": "work-environment problems"},
    "count.solution": {"da": "løsninger", "en": "solutions"},
    "count.actor": {"da": "aktører", "en": "actors"},
    "count.event": {"da": "arrangementer", "en": "events"},
    "count.concept": {"da": "begreber", "en": "concepts"},
    "count.scheme": {"da": "begrebssystemer", "en": "concept schemes"},
    "footer.licence": {
        "da": "Data under CC BY 4.0. Persistente identifikatorer under",
        "en": "Data under CC BY 4.0. Persistent identifiers under",
    },
}


def request_language(request: Request) -> str:
    """`?lang=` wins (and is remembered in a cookie), then the cookie, then Danish."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else "da"


def translator(lang: str):  # noqa: ANN201 - returns a plain callable for templates
    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            raise KeyError(f"no UI string {key!r}")
        return entry.get(lang) or entry["da"]

    return t
