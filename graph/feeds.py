"""Feeds: newly published knowledge items and upcoming events, as Atom 1.0 (RFC 4287) and JSON Feed 1.1.

A feed of items mirrors a list of items: it takes the filters of `/items` (factor, industry,
knowledge type, evidence level — each including its narrower concepts; parsed by
`graph.coverage.filter_concepts`, not a second time here) plus `actor` (publisher or creator), and
lists the `ITEMS_FEED_SIZE` items that entered Arbejdsmiljøviden last (by `dct:created`), newest
first. A feed of events takes the filters of `/events` (parsed by `graph.events`/`graph.facets`) and
lists the events that have not ended yet, soonest first.

The feeds are built here as plain view models (`Feed`, `FeedEntry`) and written by `atom()` (with
xml.etree, so every text is escaped) and `json_feed()` (a plain dict). URLs of our pages are
absolute on the host that serves the feed (`site_url`); identifiers are IRIs.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, NamedTuple
from urllib.parse import urlencode

from pyoxigraph import NamedNode

from graph.coverage import FILTERS, MAX_FILTER_VALUES, FilterError, filter_concepts, filter_parameters
from graph.dataset_description import LICENSE
from graph.events import EventEntry, filtered_events
from graph.facets import Filter, first_text, iris, picked_lang, record_facts, texts
from graph.iris import DCT, ID_PATTERN, RDF, RecordKind
from graph.text import danish_sort_key
from graph.views import Ref, Site, pick

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"

ITEMS = "items"
EVENTS = "events"
ITEMS_FEED_SIZE = 50
EVENTS_FEED_SIZE = 100
ACTOR = "actor"  # the URL parameter of the actor filter (an actor record's IRI, path or id)

SITE_NAME = "Arbejdsmiljøviden"
RIGHTS = {
    "da": "Data under Creative Commons Navngivelse 4.0 International (CC BY 4.0): " + LICENSE,
    "en": "Data under Creative Commons Attribution 4.0 International (CC BY 4.0): " + LICENSE,
}
HEADINGS = {
    ITEMS: {"da": "Ny viden", "en": "New knowledge"},
    EVENTS: {"da": "Kommende arrangementer", "en": "Upcoming events"},
}
EVERYTHING = {"da": "i Arbejdsmiljøviden", "en": "in Arbejdsmiljøviden"}
SUBTITLES = {
    ITEMS: {
        "da": "De vidensressourcer, der senest er optaget i Arbejdsmiljøviden, nyeste først "
        f"(højst {ITEMS_FEED_SIZE}).",
        "en": "The knowledge items most recently added to Arbejdsmiljøviden, newest first "
        f"(at most {ITEMS_FEED_SIZE}).",
    },
    EVENTS: {
        "da": f"Arrangementer, der endnu ikke er slut, de første først (højst {EVENTS_FEED_SIZE}).",
        "en": f"Events that have not ended yet, soonest first (at most {EVENTS_FEED_SIZE}).",
    },
}
#: How a feed's title names what it is filtered by: "{}" is the concept or actor.
TOPIC_PHRASES = {
    "factor": {"da": "om {}", "en": "about {}"},
    "industry": {"da": "for branchen {}", "en": "for the industry {}"},
    "knowledgeType": {"da": "af typen {}", "en": "of the type {}"},
    "evidenceLevel": {"da": "med evidensniveauet {}", "en": "with the evidence level {}"},
    ACTOR: {"da": "fra {}", "en": "from {}"},
    "type": {"da": "af typen {}", "en": "of the type {}"},  # event type
    "region": {"da": "i {}", "en": "in {}"},
}
NARROWER = {"da": " (og underbegreber)", "en": " (incl. narrower concepts)"}
OR = {"da": " eller ", "en": " or "}

#: Characters XML 1.0 does not allow in a document; removed from every text we write.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class FeedLink(NamedTuple):
    """A feed to announce on a page: `<link rel="alternate" type title href>` and a visible link."""

    type: str
    title: str
    href: str


# -- what a feed is about ------------------------------------------------------------------------


@dataclass
class Topic:
    """One value of one filter, with whether the filter takes in narrower concepts too."""

    param: str
    ref: Ref
    narrower: bool = False


def feed_title(kind: str, topics: Sequence[Topic], lang: str) -> str:
    """ "Ny viden om støj (og underbegreber)", "Kommende arrangementer", …"""
    heading = HEADINGS[kind][lang]
    if not topics:
        return f"{heading} {EVERYTHING[lang]}"
    by_param: dict[str, list[Topic]] = defaultdict(list)
    for topic in topics:
        by_param[topic.param].append(topic)
    parts = []
    for param, chosen in by_param.items():
        names = OR[lang].join(t.ref.label(lang) + (NARROWER[lang] if t.narrower else "") for t in chosen)
        parts.append(TOPIC_PHRASES[param][lang].format(names))
    return f"{heading} {', '.join(parts)}"


def _narrower_closure(site: Site, concepts: Sequence[str]) -> dict[str, set[str]]:
    """Each concept -> itself and all its narrower concepts."""
    closure: dict[str, set[str]] = {c: {c} for c in concepts}
    if concepts:
        services = site.services
        query = services.queries("narrower-closure", concepts=[NamedNode(c) for c in sorted(set(concepts))])
        for row in services.store.select(query):
            closure.setdefault(row["concept"].value, set()).add(row["narrower"].value)
    return closure


@dataclass
class ItemScope:
    """What a feed of items is filtered by: concepts per `/items` filter, and actors."""

    filters: dict[str, list[NamedNode]]  # param -> the chosen concepts (as coverage.filter_concepts gives them)
    actors: list[Ref]
    topics: list[Topic]
    accepted: dict[str, list[NamedNode]]  # SPARQL parameter -> the chosen concepts and their narrower ones
    parameters: list[tuple[str, str]]  # the URL parameters that select this scope, in canonical form

    def title(self, lang: str) -> str:
        return feed_title(ITEMS, self.topics, lang)

    @property
    def active(self) -> int:
        return sum(1 for spec in FILTERS if self.filters.get(spec.param)) + (1 if self.actors else 0)

    def alternate_path(self) -> str:
        """The page that shows what the feed announces: the actor's page, else the matching `/items` list."""
        if len(self.actors) == 1 and not any(self.filters.values()):
            return self.actors[0].path or "/items"
        params = [(p, v) for p, v in self.parameters if p != ACTOR]
        return "/items" + ("?" + urlencode(params) if params else "")


def parse_item_scope(site: Site, params: Mapping[str, Sequence[str]]) -> ItemScope:
    """The scope URL parameters ask for; raises FilterError (HTTP 400) for a value that names nothing."""
    filters = filter_concepts(site, params)
    actors = _actor_iris(site, params.get(ACTOR, ()))
    return item_scope(site, filters, actors)


def item_scope(site: Site, filters: Mapping[str, Sequence[NamedNode]], actors: Sequence[str] = ()) -> ItemScope:
    """The scope of known concepts and public actors (as checked by `parse_item_scope`)."""
    chosen = {spec.param: list(dict.fromkeys(filters.get(spec.param, ()))) for spec in FILTERS}
    concepts = sorted({n.value for ns in chosen.values() for n in ns})
    closure = _narrower_closure(site, concepts)
    names = site.names(sorted(set(concepts) | set(actors)))
    topics = [
        Topic(spec.param, site.ref(n.value, names.get(n.value, {})), len(closure.get(n.value, ())) > 1)
        for spec in FILTERS
        for n in chosen[spec.param]
    ]
    actor_refs = [site.ref(a, names.get(a, {})) for a in dict.fromkeys(actors)]
    topics += [Topic(ACTOR, ref) for ref in actor_refs]
    accepted = {
        spec.query_parameter: [NamedNode(c) for c in sorted({c for n in chosen[spec.param] for c in closure[n.value]})]
        for spec in FILTERS
    }
    parameters = [(p, v) for p, v, _ in filter_parameters(site, {k: v for k, v in chosen.items() if v})]
    parameters += [(ACTOR, a.iri.rsplit("/", 1)[-1]) for a in actor_refs]
    return ItemScope({k: v for k, v in chosen.items() if v}, actor_refs, topics, accepted, parameters)


def _unknown_actor(value: str) -> dict[str, str]:
    shown = value if len(value) <= 80 else value[:77] + "…"
    return {
        "da": f"«{shown}» er ikke en kendt aktør. Brug en aktørs id, sti (/id/actor/…) eller IRI.",
        "en": f"“{shown}” is not a known actor. Use an actor's id, path (/id/actor/…) or IRI.",
    }


def _actor_iris(site: Site, values: Sequence[str]) -> list[str]:
    """The public actors `values` name (an id, a path `/id/actor/{id}` or an IRI); FilterError if one does not."""
    wanted = [v.strip() for v in values if v.strip()]
    if len(wanted) > MAX_FILTER_VALUES:
        raise FilterError(
            ACTOR,
            wanted[MAX_FILTER_VALUES],
            {
                "da": f"Højst {MAX_FILTER_VALUES} værdier for «{ACTOR}».",
                "en": f"At most {MAX_FILTER_VALUES} values for “{ACTOR}”.",
            },
        )
    iris_ = site.iris
    found: list[tuple[str, str]] = []
    for value in wanted:
        candidate = value
        if ID_PATTERN.match(value):
            candidate = iris_.record(RecordKind.actor, value).value
        elif value.startswith("/id/"):
            candidate = iris_.base + value[1:]
        parsed = iris_.parse_record(candidate)
        if parsed is None or parsed[0] != RecordKind.actor:
            raise FilterError(ACTOR, value, _unknown_actor(value))
        found.append((value, candidate))
    if not found:
        return []
    facts = record_facts(site, [iri for _, iri in found], [RDF + "type"])
    actor_class = iris_.record_class(RecordKind.actor).value
    for value, iri in found:
        if actor_class not in iris(facts.get(iri, {}), RDF + "type"):
            raise FilterError(ACTOR, value, _unknown_actor(value))
    return list(dict.fromkeys(iri for _, iri in found))


def concept_scope(site: Site, concept: str, scheme: str) -> ItemScope | None:
    """The feed scope of a concept page: its items (narrower included), if its scheme is an `/items` filter."""
    slug = scheme.rstrip("/").rsplit("/", 1)[-1]
    for spec in FILTERS:
        if slug in spec.schemes:
            return item_scope(site, {spec.param: [NamedNode(concept)]})
    return None


# -- the feed model ------------------------------------------------------------------------------


@dataclass
class Category:
    ref: Ref
    scheme: str


@dataclass
class FeedEntry:
    iri: str
    path: str
    titles: dict[str, str]
    summaries: dict[str, str]
    published: datetime | None
    updated: datetime
    authors: list[Ref]
    categories: list[Category]
    event: EventEntry | None = None  # for a feed of events: when and where

    def title(self, lang: str) -> str:
        return pick(self.titles, lang, self.iri)

    def summary(self, lang: str) -> str:
        text = pick(self.summaries, lang)
        if self.event is None:
            return text
        when = when_text(self.event, lang)
        return f"{when}. {text}" if text else when

    def summary_lang(self, lang: str) -> str:
        return picked_lang(self.summaries, lang) if self.event is None else lang


@dataclass
class Feed:
    kind: str  # ITEMS | EVENTS
    topics: list[Topic]
    entries: list[FeedEntry]
    parameters: list[tuple[str, str]]  # canonical URL parameters (without lang)
    alternate_path: str  # the page of the same list
    updated: datetime  # the newest entry's update, or the dataset's last change when there is none

    def title(self, lang: str) -> str:
        return feed_title(self.kind, self.topics, lang)

    def subtitle(self, lang: str) -> str:
        return SUBTITLES[self.kind][lang]

    def path(self, suffix: str, lang: str = "da") -> str:
        """Where the feed is served (`suffix`: atom | json); feeds served elsewhere override this."""
        return feed_path(self.kind, suffix, self.parameters, lang)

    def identifier(self, site: Site) -> str:
        return feed_id(site, self.kind, self.parameters)


def instant(text: str | None) -> datetime | None:
    """An ISO 8601 date or date-time as an aware UTC datetime (a date is its midnight UTC)."""
    if not text:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0))
        elif len(value) == 4 and value.isdigit():
            parsed = datetime(int(value), 1, 1)
        else:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _concept_scheme(site: Site, concept: str) -> str:
    """The scheme of a concept, from its IRI pattern `<base>vocab/{scheme}/{code}`."""
    prefix = site.iris.base + "vocab/"
    if concept.startswith(prefix):
        return prefix + concept[len(prefix) :].split("/", 1)[0]
    return ""


def _refs(site: Site, values: Sequence[str], names: Mapping[str, dict[str, str]]) -> list[Ref]:
    refs = [site.ref(v, names.get(v, {})) for v in dict.fromkeys(values)]
    return sorted(refs, key=lambda r: danish_sort_key(r.label("da")))


def items_feed(site: Site, scope: ItemScope, fallback: datetime, limit: int = ITEMS_FEED_SIZE) -> Feed:
    """The newest published knowledge items in `scope`, by when they entered Arbejdsmiljøviden."""
    services = site.services
    if scope.active:
        bindings: dict[str, int | list[NamedNode]] = dict(scope.accepted)
        bindings["actors"] = [NamedNode(a.iri) for a in scope.actors]
        query = services.queries("feed-items", filters=scope.active, limit=limit, **bindings)
    else:
        query = services.queries("feed-items-all", limit=limit)
    items = list(dict.fromkeys(row["item"].value for row in services.store.select(query)))
    amv = site.iris.amv
    properties = [
        DCT + "title",
        DCT + "description",
        DCT + "created",
        DCT + "modified",
        DCT + "publisher",
        DCT + "creator",
        amv + "knowledgeType",
        amv + "factor",
    ]
    facts = record_facts(site, items, properties)
    linked = {v for f in facts.values() for p in properties[4:] for v in iris(f, p)}
    names = site.names(sorted(linked))
    entries = []
    for item in items:
        f = facts.get(item, {})
        created = instant(first_text(f, DCT + "created"))
        modified = instant(first_text(f, DCT + "modified")) or created or fallback
        concepts = _refs(site, iris(f, amv + "knowledgeType"), names) + _refs(site, iris(f, amv + "factor"), names)
        entries.append(
            FeedEntry(
                iri=item,
                path=site.path(item),
                titles=texts(f, DCT + "title"),
                summaries=texts(f, DCT + "description"),
                published=created,
                updated=modified,
                authors=_refs(site, iris(f, DCT + "publisher") + iris(f, DCT + "creator"), names),
                categories=[Category(c, _concept_scheme(site, c.iri)) for c in concepts],
            )
        )
    updated = max((e.updated for e in entries), default=fallback)
    return Feed(ITEMS, scope.topics, entries, scope.parameters, scope.alternate_path(), updated)


# -- events --------------------------------------------------------------------------------------


def event_topics(site: Site, filters: Sequence[Filter]) -> list[Topic]:
    """The topics of the filters chosen on `/events` (a concept filter includes its narrower concepts)."""
    chosen = [(f.name, f.selected.ref) for f in filters if f.selected]
    closure = _narrower_closure(site, [ref.iri for _, ref in chosen])
    return [Topic(name, ref, len(closure.get(ref.iri, ())) > 1) for name, ref in chosen]


def events_feed(
    site: Site, asked: Mapping[str, str], lang: str, today: date, fallback: datetime
) -> tuple[Feed, list[Filter]]:
    """The public events matching the `/events` filters that have not ended by `today`, soonest first.

    Check the returned filters' `rejected` first: a value that is not one of the options is ignored
    by `graph.facets.apply_filters`, and a feed of everything would be the wrong answer to it.
    """
    entries, filters = filtered_events(site, asked, lang)
    upcoming = [e for e in entries if e.end_day >= today][:EVENTS_FEED_SIZE]
    facts = record_facts(site, [e.iri for e in upcoming], [DCT + "created"])
    feed_entries = []
    for event in upcoming:
        created = instant(first_text(facts.get(event.iri, {}), DCT + "created"))
        feed_entries.append(
            FeedEntry(
                iri=event.iri,
                path=event.path,
                titles=event.titles,
                summaries=event.descriptions,
                published=created,
                updated=instant(event.modified) or created or fallback,
                authors=event.organisers,
                categories=[Category(r, _concept_scheme(site, r.iri)) for r in (*event.types, *event.factors)],
                event=event,
            )
        )
    chosen = {f.name: f.selected.key for f in filters if f.selected}
    parameters = list(chosen.items())
    alternate = "/events" + ("?" + urlencode(parameters) if parameters else "")
    updated = max((e.updated for e in feed_entries), default=fallback)
    return Feed(EVENTS, event_topics(site, filters), feed_entries, parameters, alternate, updated), filters


def when_text(event: EventEntry, lang: str) -> str:
    """When and where an event is, in words: "8.12.2026 kl. 09.00–10.30, Online"."""

    def day(d: date) -> str:
        return f"{d.day}.{d.month}.{d.year}" if lang == "da" else d.isoformat()

    def clock(t: time | None) -> str:
        if t is None:
            return ""
        return (f" kl. {t.hour:02d}.{t.minute:02d}") if lang == "da" else f" {t.hour:02d}:{t.minute:02d}"

    text = day(event.start_day) + clock(event.start_time)
    if event.end is not None:
        if event.end_day == event.start_day:
            if event.end_time and event.start_time:
                text += "–" + clock(event.end_time).replace(" kl. ", "").strip()
        else:
            text += " – " + day(event.end_day) + clock(event.end_time)
    return f"{text}, {event.location}" if event.location else text


# -- URLs, identifiers and validators --------------------------------------------------------------


def feed_path(kind: str, suffix: str, parameters: Sequence[tuple[str, str]], lang: str = "da") -> str:
    """`/feeds/items.atom?factor=5` (with `lang=en` for an English feed)."""
    params = list(parameters) + ([("lang", lang)] if lang != "da" else [])
    return f"/feeds/{kind}.{suffix}" + ("?" + urlencode(params) if params else "")


def feed_links(kind: str, parameters: Sequence[tuple[str, str]], title: str, lang: str) -> list[FeedLink]:
    """The Atom feed and the JSON Feed of one list, for a page's `<head>` and its subscribe link."""
    return [
        FeedLink(ATOM_TYPE, title, feed_path(kind, "atom", parameters, lang)),
        FeedLink(JSON_FEED_TYPE, title, feed_path(kind, "json", parameters, lang)),
    ]


def _page_url(site_url: str, path: str, lang: str) -> str:
    if lang == "da":
        return site_url + path
    return site_url + path + ("&" if "?" in path else "?") + "lang=" + lang


def feed_id(site: Site, kind: str, parameters: Sequence[tuple[str, str]]) -> str:
    """The feed's permanent identifier: its Atom URL under the base IRI (the same in every language)."""
    return site.iris.base + feed_path(kind, "atom", parameters).lstrip("/")


def etag(*parts: str) -> str:
    """A strong validator from what decides the feed's bytes (dataset version, URL, language, host, day)."""
    return '"' + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32] + '"'


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


# -- Atom 1.0 (RFC 4287) ---------------------------------------------------------------------------


def _element(parent: ET.Element, name: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, name, {k: _clean(v) for k, v in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _text_element(parent: ET.Element, name: str, text: str, text_lang: str, lang: str) -> None:
    element = _element(parent, name, text, type="text")
    if text_lang and text_lang != lang:  # a text that falls back to another language says so
        element.set(XML_LANG, text_lang)


def atom(feed: Feed, site: Site, *, lang: str, site_url: str) -> bytes:
    """The feed as an Atom 1.0 document (UTF-8). Every text goes in as `type="text"`, escaped by ElementTree."""
    # Names are written unqualified under a default namespace declared on the root (ElementTree's
    # `default_namespace` option refuses unqualified attribute names such as `href`).
    root = ET.Element("feed", {"xmlns": ATOM_NS, XML_LANG: lang})
    _element(root, "id", feed.identifier(site))
    _element(root, "title", feed.title(lang), type="text")
    _element(root, "subtitle", feed.subtitle(lang), type="text")
    _element(root, "updated", rfc3339(feed.updated))
    _element(root, "link", rel="self", type=ATOM_TYPE, href=site_url + feed.path("atom", lang))
    _element(root, "link", rel="alternate", type="text/html", href=_page_url(site_url, feed.alternate_path, lang))
    json_href = site_url + feed.path("json", lang)
    _element(root, "link", rel="alternate", type=JSON_FEED_TYPE, href=json_href)
    _element(root, "link", rel="license", type="text/html", href=LICENSE)
    author = _element(root, "author")
    _element(author, "name", SITE_NAME)
    _element(author, "uri", site_url + "/")
    _element(root, "generator", SITE_NAME, uri=site_url + "/")
    _element(root, "rights", RIGHTS[lang], type="text")
    for entry in feed.entries:
        node = _element(root, "entry")
        _element(node, "id", entry.iri)
        _text_element(node, "title", entry.title(lang), picked_lang(entry.titles, lang), lang)
        _element(node, "link", rel="alternate", type="text/html", href=_page_url(site_url, entry.path, lang))
        _element(node, "updated", rfc3339(entry.updated))
        if entry.published is not None:
            _element(node, "published", rfc3339(entry.published))
        summary = entry.summary(lang)
        if summary:
            _text_element(node, "summary", summary, entry.summary_lang(lang), lang)
        for person in entry.authors:
            author = _element(node, "author")
            _element(author, "name", person.label(lang))
            if person.path or person.iri.startswith(("http://", "https://")):  # not an editor's account name
                _element(author, "uri", _page_url(site_url, person.path, lang) if person.path else person.iri)
        for category in entry.categories:
            attributes = {"term": category.ref.iri, "label": category.ref.label(lang)}
            if category.scheme:
                attributes["scheme"] = category.scheme
            _element(node, "category", **attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# -- JSON Feed 1.1 -----------------------------------------------------------------------------------


def json_feed(feed: Feed, site: Site, *, lang: str, site_url: str) -> dict[str, Any]:
    """The feed as a JSON Feed 1.1 object; our extra facts go in `_arbejdsmiljoviden` extension objects."""
    about = site_url + "/about"
    items = []
    for entry in feed.entries:
        title = entry.title(lang)
        summary = entry.summary(lang)
        item: dict[str, Any] = {
            "id": entry.iri,
            "url": _page_url(site_url, entry.path, lang),
            "title": title,
            "content_text": summary or title,
            "date_modified": rfc3339(entry.updated),
            "language": picked_lang(entry.titles, lang) or lang,
            "tags": [c.ref.label(lang) for c in entry.categories],
        }
        if summary:
            item["summary"] = summary
        if entry.published is not None:
            item["date_published"] = rfc3339(entry.published)
        if entry.authors:
            item["authors"] = [
                {"name": a.label(lang), "url": _page_url(site_url, a.path, lang) if a.path else a.iri}
                if a.path or a.iri.startswith(("http://", "https://"))
                else {"name": a.label(lang)}
                for a in entry.authors
            ]
        extension: dict[str, Any] = {
            "about": about,
            "categories": [
                {"term": c.ref.iri, "scheme": c.scheme or None, "label": c.ref.label(lang)} for c in entry.categories
            ],
        }
        if entry.event is not None:
            extension.update(
                {
                    "startDate": entry.event.start_text,
                    "endDate": entry.event.end_text or None,
                    "allDay": entry.event.all_day,
                    "location": entry.event.location or None,
                }
            )
        item["_arbejdsmiljoviden"] = extension
        items.append(item)
    return {
        "version": JSON_FEED_VERSION,
        "title": feed.title(lang),
        "home_page_url": _page_url(site_url, feed.alternate_path, lang),
        "feed_url": site_url + feed.path("json", lang),
        "description": feed.subtitle(lang),
        "language": lang,
        "authors": [{"name": SITE_NAME, "url": site_url + "/"}],
        "_arbejdsmiljoviden": {
            "about": about,
            "id": feed.identifier(site),
            "updated": rfc3339(feed.updated),
            "license": LICENSE,
            "rights": RIGHTS[lang],
            "atom": site_url + feed.path("atom", lang),
        },
        "items": items,
    }
