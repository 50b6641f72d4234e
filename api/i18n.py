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
    "nav.vocabularies": {"da": "Begreber", "en": "Concepts"},
    "nav.actors": {"da": "Aktører", "en": "Actors"},
    "nav.events": {"da": "Arrangementer", "en": "Events"},
    "nav.coverage": {"da": "Videnskort", "en": "Coverage map"},
    "nav.about": {"da": "Om data", "en": "About the data"},
    "nav.main": {"da": "Hovedmenu", "en": "Main menu"},
    "search.label": {"da": "Søg i Arbejdsmiljøviden", "en": "Search Arbejdsmiljøviden"},
    "search.button": {"da": "Søg", "en": "Search"},
    "search.placeholder": {"da": "fx støj, tunge løft, stress", "en": "e.g. noise, heavy lifting, stress"},
    "home.browse_factor": {"da": "Find viden efter arbejdsmiljøfaktor", "en": "Browse by work-environment factor"},
    "home.browse_industry": {"da": "Find viden efter branche", "en": "Browse by industry"},
    "home.newest": {"da": "Nyeste viden", "en": "Newest knowledge"},
    "home.upcoming": {"da": "Kommende arrangementer", "en": "Upcoming events"},
    "home.all_events": {"da": "Alle arrangementer", "en": "All events"},
    "data.formats": {"da": "Data om denne side", "en": "Data about this page"},
    "concept.breadcrumb": {"da": "Placering i hierarkiet", "en": "Place in the hierarchy"},
    "concept.scheme": {"da": "Begrebssystem", "en": "Concept scheme"},
    "concept.labels": {"da": "Betegnelser", "en": "Labels"},
    "concept.preferred": {"da": "Foretrukken betegnelse", "en": "Preferred label"},
    "concept.narrower": {"da": "Underbegreber", "en": "Narrower concepts"},
    "concept.related": {"da": "Relaterede begreber", "en": "Related concepts"},
    "concept.mappings": {"da": "Tilsvarende begreber andre steder", "en": "Matching concepts elsewhere"},
    "concept.tagged": {
        "da": "Det handler om dette begreb (inkl. underbegreber)",
        "en": "Tagged with this concept (incl. narrower)",
    },
    "concept.none_tagged": {
        "da": "Intet i grafen er endnu opmærket med dette begreb.",
        "en": "Nothing in the graph is tagged with this concept yet.",
    },
    "concept.showing": {"da": "Viser de nyeste", "en": "Showing the newest"},
    "deprecated.notice": {
        "da": "Dette begreb er udgået og bør ikke længere bruges.",
        "en": "This concept is deprecated and should no longer be used.",
    },
    "deprecated.replaced_by": {"da": "Brug i stedet", "en": "Use instead"},
    "scheme.tree": {"da": "Hierarki", "en": "Hierarchy"},
    "scheme.index": {"da": "Alfabetisk indeks", "en": "Alphabetical index"},
    "scheme.index_nav": {"da": "Bogstaver", "en": "Letters"},
    "scheme.use": {"da": "se", "en": "see"},
    "record.links_here": {"da": "Forbindelser hertil", "en": "Linked from"},
    "record.modified": {"da": "Sidst ændret", "en": "Last changed"},
    "kind.item": {"da": "Vidensressource", "en": "Knowledge item"},
    "kind.problem": {"da": "Arbejdsmiljøproblem", "en": "Work-environment problem"},
    "kind.solution": {"da": "Løsning", "en": "Solution"},
    "kind.actor": {"da": "Aktør", "en": "Actor"},
    "kind.event": {"da": "Arrangement", "en": "Event"},
    "kinds.item": {"da": "Vidensressourcer", "en": "Knowledge items"},
    "kinds.problem": {"da": "Arbejdsmiljøproblemer", "en": "Work-environment problems"},
    "kinds.solution": {"da": "Løsninger", "en": "Solutions"},
    "kinds.actor": {"da": "Aktører", "en": "Actors"},
    "kinds.event": {"da": "Arrangementer", "en": "Events"},
    "incoming.solution.solves": {"da": "Løsninger på problemet", "en": "Solutions to this problem"},
    "incoming.item.addresses": {"da": "Viden om problemet", "en": "Knowledge about this problem"},
    "incoming.item.describesSolution": {"da": "Viden bag løsningen", "en": "Knowledge behind this solution"},
    "incoming.solution.offeredBy": {"da": "Løsninger, aktøren tilbyder", "en": "Solutions this actor offers"},
    "incoming.item.publisher": {"da": "Viden udgivet af aktøren", "en": "Knowledge published by this actor"},
    "incoming.item.creator": {"da": "Viden skabt af aktøren", "en": "Knowledge created by this actor"},
    "incoming.event.organizer": {"da": "Arrangementer, aktøren holder", "en": "Events this actor organises"},
    "tombstone.title": {"da": "Posten er trukket tilbage", "en": "This record has been withdrawn"},
    "tombstone.when": {"da": "Trukket tilbage", "en": "Withdrawn"},
    "tombstone.reason": {"da": "Begrundelse", "en": "Reason"},
    "notfound.title": {"da": "Siden findes ikke", "en": "Page not found"},
    "notfound.text": {
        "da": "Der findes ingen ressource med denne adresse. Prøv at søge:",
        "en": "There is no resource at this address. Try searching:",
    },
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
