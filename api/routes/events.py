"""The events calendar: `/events` (HTML), `/events.ics` (all events) and `/id/event/{id}.ics`.

The per-event route is registered before the linked-data catch-all `/id/{rest:path}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pyoxigraph import NamedNode

from api.i18n import request_language, translator
from api.routes.feeds import events_page_feeds
from api.templating import render
from graph.events import (
    FILTERS,
    EventEntry,
    calendar,
    events_page,
    filtered_events,
    public_event,
    today_in_copenhagen,
)
from graph.iris import RecordKind
from graph.resources import Status, resolve
from graph.views import Site

router = APIRouter()

ICS_MEDIA_TYPE = "text/calendar; charset=utf-8"


@dataclass(frozen=True)
class CalendarAlternate:
    """An alternate representation for base.html's `alternates` (a `<link>` and a footer link)."""

    media_type: str = "text/calendar"
    suffix: str = ".ics"


def asked_filters(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FILTERS}


def _page_number(raw: str | None) -> int:
    if raw and raw.isdigit() and len(raw) < 6:
        return int(raw)
    return 1


def _absolute(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


def event_schema(request: Request, event: EventEntry, lang: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "Event",
        "@id": event.iri,
        "name": event.label(lang),
        "startDate": event.start_text,
        "url": _absolute(request, event.path),
    }
    if event.end_text:
        data["endDate"] = event.end_text
    if description := event.description(lang):
        data["description"] = description
    if event.location:
        if event.online:
            data["eventAttendanceMode"] = "https://schema.org/OnlineEventAttendanceMode"
            data["location"] = {"@type": "VirtualLocation", "name": event.location}
        else:
            data["eventAttendanceMode"] = "https://schema.org/OfflineEventAttendanceMode"
            data["location"] = {"@type": "Place", "name": event.location, "address": event.location}
    if event.organisers:
        data["organizer"] = [{"@type": "Organization", "@id": o.iri, "name": o.label(lang)} for o in event.organisers]
    if event.types:
        data["additionalType"] = [t.iri for t in event.types]
    return data


@router.get("/events", response_class=HTMLResponse)
def events(request: Request) -> HTMLResponse:
    lang = request_language(request)
    site = Site(request.app.state.services)
    today = today_in_copenhagen()
    page = events_page(site, asked_filters(request), lang, today, _page_number(request.query_params.get("past")))
    ics_href = "/events.ics" + ("?" + urlencode(page.chosen) if page.chosen else "")
    t = translator(lang)
    schema_org = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "name": t("events.title"),
        "url": str(request.url),
        "numberOfItems": len(page.shown),
        "itemListElement": [
            {"@type": "ListItem", "position": i, "item": event_schema(request, e, lang)}
            for i, e in enumerate(page.shown, start=1)
        ],
    }
    return render(
        request,
        "events.html",
        {
            "page": page,
            "ics_href": ics_href,
            "alternates": [(CalendarAlternate(), ics_href)],
            "feeds": events_page_feeds(request, page),
            "schema_org": schema_org,
        },
    )


def _calendar_response(request: Request, site: Site, entries: list[EventEntry], lang: str, filename: str) -> Response:
    t = translator(lang)
    body = calendar(
        site,
        entries,
        name=t("events.calendar_name"),
        lang=lang,
        page_url=lambda e: _absolute(request, e.path),
        organiser_label=t("events.organisers"),
    )
    return Response(
        body,
        media_type=ICS_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'inline; filename="{filename}"',
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/events.ics")
def events_ics(request: Request) -> Response:
    """Every public event (matching the same filters as /events) as one iCalendar feed."""
    lang = request_language(request)
    site = Site(request.app.state.services)
    entries, filters = filtered_events(site, asked_filters(request), lang)
    if rejected := [f.name for f in filters if f.rejected]:
        return PlainTextResponse(
            f"400 Bad Request: unknown value for the filter(s) {', '.join(rejected)}. "
            "Use the values offered by the filters on /events.\n",
            status_code=400,
        )
    return _calendar_response(request, site, entries, lang, "arbejdsmiljoviden.ics")


@router.get("/id/event/{event_id}.ics")
def event_ics(request: Request, event_id: str) -> Response:
    """One event as iCalendar: 404 when unknown or not public, 410 when withdrawn."""
    services = request.app.state.services
    lang = request_language(request)
    site = Site(services)
    try:
        iri = NamedNode(services.iris.base + "id/event/" + event_id)
    except ValueError:
        iri = None
    resolution = resolve(services, iri) if iri is not None else None
    if resolution is None or resolution.status == Status.missing or resolution.record_kind != RecordKind.event:
        return PlainTextResponse("404 Not Found: no public event with this identifier\n", status_code=404)
    if resolution.status == Status.gone:
        return PlainTextResponse(
            "410 Gone: this event has been withdrawn; see its page for why\n",
            status_code=410,
            headers={"Link": f'<{site.path(iri.value)}>; rel="alternate"; type="text/html"'},
        )
    entry = public_event(site, iri)
    if entry is None:
        return PlainTextResponse("404 Not Found: no public event with this identifier\n", status_code=404)
    return _calendar_response(request, site, [entry], lang, f"{event_id}.ics")
