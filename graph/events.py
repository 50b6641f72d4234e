"""The events calendar: upcoming events by month, past events newest first, filters, iCalendar.

Times are shown in Europe/Copenhagen local time. An event given with `xsd:date` values is an
all-day event. An event counts as upcoming until the day it ends (or starts, if it has no end)
has passed, so a running conference is still upcoming.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, vCalAddress, vDuration, vText
from icalendar import Event as ICalEvent
from pyoxigraph import NamedNode

from graph.clock import COPENHAGEN, today_in_copenhagen
from graph.facets import (
    Fact,
    Filter,
    Hierarchy,
    apply_filters,
    class_facts,
    first_text,
    hierarchy,
    iris,
    picked_lang,
    record_facts,
    refs_sorted,
    texts,
)
from graph.iris import DCT, SCHEMA, XSD, RecordKind
from graph.views import Ref, Site, pick

PAST_PAGE_SIZE = 10

#: The filters of the events page, in the order of the form, with the property each one reads.
FILTERS = ("factor", "industry", "type", "region")


def _filter_properties(site: Site) -> dict[str, str]:
    amv = site.iris.amv
    return {"factor": amv + "factor", "industry": amv + "industry", "type": amv + "eventType", "region": amv + "region"}


@dataclass
class EventEntry:
    iri: str
    path: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    start: date | datetime  # a date for an all-day event, else an aware datetime in Copenhagen time
    end: date | datetime | None
    start_text: str  # the values as given in the data (ISO 8601)
    end_text: str
    location: str
    url: str
    modified: str
    types: list[Ref]
    regions: list[Ref]
    factors: list[Ref]
    industries: list[Ref]
    organisers: list[Ref]
    tags: dict[str, set[str]] = field(default_factory=dict)  # filter name -> tags and their broader concepts

    def label(self, lang: str) -> str:
        return pick(self.titles, lang, self.iri)

    def label_lang(self, lang: str) -> str:
        """The language of `label(lang)` (it falls back to another language when missing)."""
        return picked_lang(self.titles, lang)

    def description(self, lang: str) -> str:
        return pick(self.descriptions, lang)

    def description_lang(self, lang: str) -> str:
        return picked_lang(self.descriptions, lang)

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def start_day(self) -> date:
        return _day(self.start)

    @property
    def end_day(self) -> date:
        """The last day of the event (the start day when there is no end)."""
        return _day(self.end) if self.end is not None else self.start_day

    @property
    def start_time(self) -> time | None:
        return self.start.time() if isinstance(self.start, datetime) else None

    @property
    def end_time(self) -> time | None:
        return self.end.time() if isinstance(self.end, datetime) else None

    @property
    def online(self) -> bool:
        return self.location.strip().casefold() in ("online", "på nettet", "webinar")

    def sort_key(self) -> tuple[date, int, time, str]:
        return (self.start_day, 0 if self.all_day else 1, self.start_time or time(0), self.iri)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def parse_when(fact: Fact | None) -> date | datetime | None:
    """An `xsd:date` as a date; an `xsd:dateTime` as an aware datetime in Copenhagen time."""
    if fact is None or fact.is_iri:
        return None
    text = fact.value.strip()
    try:
        if fact.datatype == XSD + "date":
            return date.fromisoformat(text[:10])
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=COPENHAGEN)
    return parsed.astimezone(COPENHAGEN)


def _properties(site: Site) -> list[str]:
    return [
        DCT + "title",
        DCT + "description",
        DCT + "modified",
        SCHEMA + "startDate",
        SCHEMA + "endDate",
        SCHEMA + "location",
        SCHEMA + "url",
        SCHEMA + "organizer",
        *_filter_properties(site).values(),
    ]


def load_events(
    site: Site, only: Sequence[str] | None = None
) -> tuple[list[EventEntry], Hierarchy, dict[str, dict[str, str]]]:
    """Every public event (or the public ones among `only`), soonest first; the hierarchy of the
    concepts they are tagged with; the names of those concepts (and their broader concepts and
    schemes) and of the organisers."""
    properties = _properties(site)
    if only is None:
        facts = class_facts(site, site.iris.record_class(RecordKind.event), properties)
    else:
        facts = record_facts(site, only, properties)
    by_filter = _filter_properties(site)
    concepts = {c for f in facts.values() for p in by_filter.values() for c in iris(f, p)}
    organisers = {a for f in facts.values() for a in iris(f, SCHEMA + "organizer")}
    tree = hierarchy(site, concepts)
    labels = site.names(sorted(organisers | tree.concepts | set(tree.schemes.values())))

    entries = []
    for event, f in facts.items():
        start = parse_when(next(iter(f.get(SCHEMA + "startDate", [])), None))
        if start is None:  # the shapes require a start; a record without one cannot be placed
            continue
        end_fact = next(iter(f.get(SCHEMA + "endDate", [])), None)
        tags = {name: tree.up(iris(f, prop)) for name, prop in by_filter.items()}
        entries.append(
            EventEntry(
                iri=event,
                path=site.path(event),
                titles=texts(f, DCT + "title"),
                descriptions=texts(f, DCT + "description"),
                start=start,
                end=parse_when(end_fact),
                start_text=first_text(f, SCHEMA + "startDate"),
                end_text=end_fact.value if end_fact else "",
                location=first_text(f, SCHEMA + "location"),
                url=next(iter(iris(f, SCHEMA + "url")), ""),
                modified=first_text(f, DCT + "modified"),
                types=refs_sorted(site, iris(f, by_filter["type"]), labels),
                regions=refs_sorted(site, iris(f, by_filter["region"]), labels),
                factors=refs_sorted(site, iris(f, by_filter["factor"]), labels),
                industries=refs_sorted(site, iris(f, by_filter["industry"]), labels),
                organisers=refs_sorted(site, iris(f, SCHEMA + "organizer"), labels),
                tags=tags,
            )
        )
    entries.sort(key=EventEntry.sort_key)
    return entries, tree, labels


def filtered_events(site: Site, asked: Mapping[str, str], lang: str) -> tuple[list[EventEntry], list[Filter]]:
    """All public events that match the filters asked for, soonest first, and the filters."""
    entries, tree, labels = load_events(site)
    return apply_filters(site, entries, FILTERS, asked, tree, labels, lang)


# -- the page --------------------------------------------------------------------------------


@dataclass
class MonthGroup:
    year: int
    month: int
    events: list[EventEntry]


@dataclass
class EventsPage:
    today: date
    upcoming: list[MonthGroup]
    upcoming_count: int
    past: list[EventEntry]
    past_count: int
    past_page: int
    past_pages: int
    filters: list[Filter]

    @property
    def chosen(self) -> dict[str, str]:
        """The filters in effect, as URL parameters (for links that keep them)."""
        return {f.name: f.selected.key for f in self.filters if f.selected}

    @property
    def rejected(self) -> list[Filter]:
        return [f for f in self.filters if f.rejected]

    @property
    def shown(self) -> list[EventEntry]:
        return [e for g in self.upcoming for e in g.events] + self.past


def events_page(
    site: Site, asked: Mapping[str, str] | None = None, lang: str = "da", today: date | None = None, past_page: int = 1
) -> EventsPage:
    """The events page as of `today` (injectable so that tests do not depend on the clock)."""
    today = today or today_in_copenhagen()
    entries, filters = filtered_events(site, asked or {}, lang)
    upcoming = [e for e in entries if e.end_day >= today]
    past = sorted((e for e in entries if e.end_day < today), key=EventEntry.sort_key, reverse=True)

    groups: list[MonthGroup] = []
    for event in upcoming:
        if not groups or (groups[-1].year, groups[-1].month) != (event.start_day.year, event.start_day.month):
            groups.append(MonthGroup(event.start_day.year, event.start_day.month, []))
        groups[-1].events.append(event)

    pages = max(1, -(-len(past) // PAST_PAGE_SIZE))
    page = min(max(1, past_page), pages)
    shown = past[(page - 1) * PAST_PAGE_SIZE : page * PAST_PAGE_SIZE]
    return EventsPage(today, groups, len(upcoming), shown, len(past), page, pages, filters)


# -- iCalendar (RFC 5545) --------------------------------------------------------------------


def _stamp(modified: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(modified.replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC).replace(microsecond=0)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(microsecond=0)


def _organiser_emails(site: Site, events: Sequence[EventEntry]) -> dict[str, str]:
    actors = sorted({o.iri for e in events for o in e.organisers})
    facts = record_facts(site, actors, [SCHEMA + "email"])
    return {a: first_text(f, SCHEMA + "email") for a, f in facts.items() if first_text(f, SCHEMA + "email")}


def calendar(
    site: Site,
    events: Sequence[EventEntry],
    *,
    name: str,
    lang: str,
    page_url: Callable[[EventEntry], str],
    organiser_label: str,
) -> bytes:
    """An iCalendar document with one VEVENT per event; UID is the event's IRI.

    Timed events carry TZID=Europe/Copenhagen (with its VTIMEZONE); all-day events carry DATE
    values with the exclusive DTEND that RFC 5545 asks for.
    """
    cal = Calendar()
    cal.add("prodid", "-//Arbejdsmiljøviden//Arrangementer//DA")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", "Europe/Copenhagen")
    cal.add("refresh-interval", timedelta(hours=12), parameters={"VALUE": "DURATION"})  # RFC 7986
    cal.add("x-published-ttl", vDuration(timedelta(hours=12)))
    emails = _organiser_emails(site, events)
    for event in events:
        ical = ICalEvent()
        ical.add("uid", event.iri)
        ical.add("dtstamp", _stamp(event.modified))
        if event.all_day:
            ical.add("dtstart", event.start_day)
            ical.add("dtend", event.end_day + timedelta(days=1))
        else:
            ical.add("dtstart", event.start)
            if isinstance(event.end, datetime):
                if event.end > event.start:
                    ical.add("dtend", event.end)
            elif event.end is not None:
                end = datetime.combine(event.end + timedelta(days=1), time(0), tzinfo=COPENHAGEN)
                if end > event.start:
                    ical.add("dtend", end)
        ical.add("summary", event.label(lang))
        description = event.description(lang)
        organisers = ", ".join(o.label(lang) for o in event.organisers)
        if organisers:
            description = f"{description}\n\n{organiser_label}: {organisers}".strip()
        if description:
            ical.add("description", description)
        if event.location:
            ical.add("location", event.location)
        ical.add("url", page_url(event))
        if event.organisers:
            first = event.organisers[0]
            address = vCalAddress(f"mailto:{emails[first.iri]}" if first.iri in emails else first.iri)
            address.params["cn"] = vText(first.label(lang))
            ical.add("organizer", address)
        if event.types:
            ical.add("categories", [t.label(lang) for t in event.types])
        cal.add_component(ical)
    timed = [e for e in events if not e.all_day]
    if timed:  # a VTIMEZONE for Europe/Copenhagen, covering the years the events are in
        first = min(e.start_day for e in timed)
        last = max(e.end_day for e in timed)
        cal.add_missing_timezones(date(first.year - 1, 1, 1), date(last.year + 2, 1, 1))
    return cal.to_ical()


def public_event(site: Site, iri: NamedNode) -> EventEntry | None:
    """One public event by IRI, or None."""
    found, _, _ = load_events(site, [iri.value])
    return found[0] if found else None
