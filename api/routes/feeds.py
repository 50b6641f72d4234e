"""Feeds: `/feeds/items.atom`, `/feeds/items.json` (newly published knowledge items, with the filters
of `/items` plus `actor`) and `/feeds/events.atom`, `/feeds/events.json` (upcoming events, with the
filters of `/events`); and the helpers that announce them on pages (`feeds` in a page's context,
printed by base.html as `<link rel="alternate" title=…>` and a visible subscribe link).

A feed's language is its `lang` parameter (da by default; the cookie is not used, so a feed URL
always gives the same feed). Conditional GET: the ETag comes from the dataset's freshness key (and,
for events, the day), Last-Modified from the dataset's last change; a match answers 304 before
anything is built.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pyoxigraph import NamedNode

from api.i18n import LANGUAGES, request_language
from graph.clock import COPENHAGEN, today_in_copenhagen
from graph.coverage import FILTERS, FilterError, ItemList
from graph.dataset_description import freshness
from graph.events import FILTERS as EVENT_FILTERS
from graph.events import EventsPage
from graph.feeds import (
    ACTOR,
    ATOM_TYPE,
    EVENTS,
    ITEMS,
    JSON_FEED_TYPE,
    Feed,
    FeedLink,
    atom,
    concept_scope,
    etag,
    event_topics,
    events_feed,
    feed_links,
    feed_title,
    instant,
    item_scope,
    items_feed,
    json_feed,
    parse_item_scope,
)
from graph.iris import RecordKind
from graph.resources import Resolution, ResourceKind
from graph.views import Site

router = APIRouter()

FORMATS = {"atom": f"{ATOM_TYPE}; charset=utf-8", "json": f"{JSON_FEED_TYPE}; charset=utf-8"}


def feed_language(request: Request) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGES else "da"


def _site_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _not_modified(request: Request, tag: str, modified: datetime | None) -> bool:
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return tag in tags or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since and modified:
        try:
            return modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _bad_request(fmt: str, param: str, value: str, messages: dict[str, str], lang: str) -> Response:
    if fmt == "json":
        return JSONResponse(
            {"error": {"parameter": param, "value": value, "message": messages}},
            status_code=400,
            headers={"Access-Control-Allow-Origin": "*"},
        )
    return PlainTextResponse(f"400 Bad Request: {messages[lang]}\n", status_code=400)


def _respond(
    request: Request, fmt: str, lang: str, tag: str, modified: datetime | None, build: Callable[[], Feed]
) -> Response:
    """304 when the client's copy is current; else the feed `build()` gives, in `fmt`."""
    headers = {
        "ETag": tag,
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Expose-Headers": "ETag, Last-Modified",
        "X-Content-Type-Options": "nosniff",
    }
    if modified is not None:
        headers["Last-Modified"] = format_datetime(modified.astimezone(UTC).replace(microsecond=0), usegmt=True)
    if _not_modified(request, tag, modified):
        return Response(status_code=304, headers=headers)
    feed = build()
    site = Site(request.app.state.services)
    if fmt == "atom":
        body = atom(feed, site, lang=lang, site_url=_site_url(request))
        return Response(body, media_type=FORMATS[fmt], headers=headers)
    data: Any = json_feed(feed, site, lang=lang, site_url=_site_url(request))
    return JSONResponse(data, media_type=FORMATS[fmt], headers=headers)


def _items_feed(request: Request, fmt: str) -> Response:
    lang = feed_language(request)
    services = request.app.state.services
    site = Site(services)
    params = {spec.param: request.query_params.getlist(spec.param) for spec in FILTERS}
    params[ACTOR] = request.query_params.getlist(ACTOR)
    try:
        scope = parse_item_scope(site, params)
    except FilterError as error:
        return _bad_request(fmt, error.param, error.value, error.messages, lang)
    fresh = freshness(services)
    modified = instant(fresh.modified)
    tag = etag(fresh.key, ITEMS, fmt, lang, _site_url(request), repr(scope.parameters))
    fallback = modified or datetime.now(UTC)
    return _respond(request, fmt, lang, tag, modified, lambda: items_feed(site, scope, fallback))


def _events_feed(request: Request, fmt: str) -> Response:
    lang = feed_language(request)
    services = request.app.state.services
    site = Site(services)
    asked = {name: request.query_params.get(name, "") for name in EVENT_FILTERS}
    today = today_in_copenhagen()
    fresh = freshness(services)
    # What counts as upcoming changes at midnight (Copenhagen time) even when the data does not.
    midnight = datetime.combine(today, time(0), tzinfo=COPENHAGEN).astimezone(UTC)
    modified = max(filter(None, [instant(fresh.modified), midnight]))
    feed, filters = events_feed(site, asked, lang, today, modified)
    if rejected := [f for f in filters if f.rejected]:
        first = rejected[0]
        messages = {
            "da": f"«{first.rejected}» er ikke en mulig værdi for filteret «{first.name}». "
            "Brug de værdier, som filtrene på /events tilbyder.",
            "en": f"“{first.rejected}” is not a possible value of the filter “{first.name}”. "
            "Use the values offered by the filters on /events.",
        }
        return _bad_request(fmt, first.name, first.rejected, messages, lang)
    tag = etag(fresh.key, EVENTS, fmt, lang, _site_url(request), today.isoformat(), repr(feed.parameters))
    return _respond(request, fmt, lang, tag, modified, lambda: feed)


@router.get("/feeds/items.atom")
def items_atom(request: Request) -> Response:
    """Newly published knowledge items (Atom 1.0), filtered like `/items`, plus `actor`."""
    return _items_feed(request, "atom")


@router.get("/feeds/items.json")
def items_json_feed(request: Request) -> Response:
    """Newly published knowledge items (JSON Feed 1.1), filtered like `/items`, plus `actor`."""
    return _items_feed(request, "json")


@router.get("/feeds/events.atom")
def events_atom(request: Request) -> Response:
    """Upcoming events (Atom 1.0), filtered like `/events`."""
    return _events_feed(request, "atom")


@router.get("/feeds/events.json")
def events_json_feed(request: Request) -> Response:
    """Upcoming events (JSON Feed 1.1), filtered like `/events`."""
    return _events_feed(request, "json")


# -- announcing feeds on pages -------------------------------------------------------------------


def home_feeds(request: Request) -> list[FeedLink]:
    """The home page: every new knowledge item, and every upcoming event."""
    lang = request_language(request)
    return feed_links(ITEMS, [], feed_title(ITEMS, [], lang), lang) + feed_links(
        EVENTS, [], feed_title(EVENTS, [], lang), lang
    )


def items_page_feeds(request: Request, items: ItemList) -> list[FeedLink]:
    """`/items`: the feed with the same filters."""
    lang = request_language(request)
    site = Site(request.app.state.services)
    filters: dict[str, list[NamedNode]] = {}
    for param, _value, iri in items.parameters:
        filters.setdefault(param, []).append(NamedNode(iri))
    scope = item_scope(site, filters)
    return feed_links(ITEMS, scope.parameters, scope.title(lang), lang)


def events_page_feeds(request: Request, page: EventsPage) -> list[FeedLink]:
    """`/events`: the feed of upcoming events with the same filters."""
    lang = request_language(request)
    site = Site(request.app.state.services)
    title = feed_title(EVENTS, event_topics(site, page.filters), lang)
    return feed_links(EVENTS, list(page.chosen.items()), title, lang)


def resource_feeds(request: Request, resolution: Resolution, page: Any) -> list[FeedLink]:
    """A concept of a filterable scheme (factors, industries, knowledge types, …): its items;
    an actor: the items it published or created. Other pages announce no feed."""
    lang = request_language(request)
    site = Site(request.app.state.services)
    if resolution.kind == ResourceKind.concept and getattr(page, "scheme", None) is not None:
        scope = concept_scope(site, resolution.iri.value, page.scheme.iri)
    elif resolution.kind == ResourceKind.record and resolution.record_kind == RecordKind.actor:
        scope = item_scope(site, {}, [resolution.iri.value])
    else:
        scope = None
    return feed_links(ITEMS, scope.parameters, scope.title(lang), lang) if scope else []
