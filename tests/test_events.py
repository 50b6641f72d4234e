"""The events calendar: /events (upcoming by month, past newest first, filters), /events.ics and
the per-event /id/event/{id}.ics."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from fastapi.testclient import TestClient
from pyoxigraph import NamedNode

from api.app import create_app
from graph.events import PAST_PAGE_SIZE, events_page
from graph.iris import RecordKind
from graph.services import Services, open_services
from graph.views import Site
from tests.conftest import make_settings
from tests.records_util import BASE, PREFIXES, triples

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
ARBEJDSTILSYNET = f"{BASE}id/actor/zhe5ymay"
ALL_DAY_COURSE = f"{BASE}id/event/eg8czpbs"  # 2027-02-10 – 2027-02-11, xsd:date
DECEMBER_WEBINAR = f"{BASE}id/event/9tjkpzjh"  # 2026-12-08 09:00–10:30 +01:00
TRAINING = f"{BASE}id/event/56j0778s"  # 2027-02-22 – 2027-02-26, xsd:date


def event_turtle(
    record_id: str,
    *,
    title: str = "Temadag om høreskader",
    start: str = '"2099-12-03T09:00:00+01:00"^^xsd:dateTime',
    factor: str = "factor:5.1.1",
) -> str:
    return (
        PREFIXES
        + f"""
<{BASE}id/event/{record_id}> a amv:Event ;
    dct:title "{title}"@da ;
    dct:description "Et testarrangement."@da ;
    amv:eventType <{BASE}vocab/event-types/03> ;
    schema:startDate {start} ;
    schema:location "Vejle" ;
    schema:organizer <{ARBEJDSTILSYNET}> ;
    amv:factor {factor} .
"""
    )


def add_event(data_dir: Path, turtle: str) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        outcomes = services.records.load(triples(turtle), agent="test")
        assert all(o.accepted for o in outcomes), [v.describe() for o in outcomes for v in o.violations]


def public_events(services: Services) -> int:
    return services.records.counts()["event"]


# -- the view builder ------------------------------------------------------------------------


def test_upcoming_and_past_split_on_the_day_given(embedded: Services) -> None:
    site = Site(embedded)
    before = events_page(site, today=date(2026, 12, 1))
    after = events_page(site, today=date(2026, 12, 9))
    upcoming_before = [e.iri for g in before.upcoming for e in g.events]
    upcoming_after = [e.iri for g in after.upcoming for e in g.events]
    assert DECEMBER_WEBINAR in upcoming_before and DECEMBER_WEBINAR not in upcoming_after
    assert before.upcoming_count + before.past_count == public_events(embedded)
    assert after.past_count == before.past_count + 1
    # A multi-day event is upcoming until its last day has passed.
    running = events_page(site, today=date(2027, 2, 24))
    assert TRAINING in [e.iri for g in running.upcoming for e in g.events]
    assert TRAINING not in [e.iri for g in events_page(site, today=date(2027, 2, 27)).upcoming for e in g.events]


def test_upcoming_events_are_grouped_by_month_soonest_first(embedded: Services) -> None:
    page = events_page(Site(embedded), today=date(2026, 11, 27))
    months = [(g.year, g.month) for g in page.upcoming]
    assert months == sorted(months) and len(set(months)) == len(months)
    assert months[0] == (2026, 12)
    for group in page.upcoming:
        starts = [e.start_day for e in group.events]
        assert starts == sorted(starts)
        assert all((d.year, d.month) == (group.year, group.month) for d in starts)


def test_past_events_newest_first_in_pages(embedded: Services) -> None:
    site = Site(embedded)
    total = public_events(embedded)
    first = events_page(site, today=date(2100, 1, 1))
    assert first.upcoming == [] and first.past_count == total
    assert len(first.past) == min(PAST_PAGE_SIZE, total)
    starts = [e.start_day for e in first.past]
    assert starts == sorted(starts, reverse=True)
    last = events_page(site, today=date(2100, 1, 1), past_page=999)
    assert last.past_page == last.past_pages == -(-total // PAST_PAGE_SIZE)
    assert last.past and last.past[-1].start_day == date(2025, 3, 20)  # the oldest sample event


def test_times_are_shown_in_copenhagen_time_and_dates_stay_all_day(services: Services) -> None:
    """Runs on the embedded store and through the Oxigraph server."""
    page = events_page(Site(services), today=date(2026, 1, 1))
    by_iri = {e.iri: e for g in page.upcoming for e in g.events}
    webinar, course = by_iri[DECEMBER_WEBINAR], by_iri[ALL_DAY_COURSE]
    assert not webinar.all_day and webinar.start == datetime(2026, 12, 8, 9, 0, tzinfo=COPENHAGEN)
    assert webinar.start.utcoffset().total_seconds() == 3600
    assert course.all_day and (course.start_day, course.end_day) == (date(2027, 2, 10), date(2027, 2, 11))


def test_factor_filter_includes_events_tagged_with_narrower_factors(data_dir: Path) -> None:
    add_event(data_dir, event_turtle("h0reskad"))  # tagged factor 5.1.1 (høreskader) only
    noise = f"{BASE}id/event/h0reskad"
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        site = Site(services)
        today = date(2026, 1, 1)

        def found(factor: str) -> list[str]:
            page = events_page(site, {"factor": factor}, today=today)
            return [e.iri for g in page.upcoming for e in g.events] + [e.iri for e in page.past]

        assert noise in found("factors/5.1.1")
        assert noise in found("factors/5.1")  # støj, the broader concept
        assert noise in found("factors/5")  # fysisk arbejdsmiljø, two levels up
        assert noise not in found("factors/2")
        # Every event found under "fysisk arbejdsmiljø" is tagged with it or a narrower factor.
        page = events_page(site, {"factor": "factors/5"}, today=today)
        assert all(f"{BASE}vocab/factors/5" in e.tags["factor"] for g in page.upcoming for e in g.events)
        # The options are the tags in use and their broader concepts, with counts.
        factor_filter = next(f for f in page.filters if f.name == "factor")
        keys = {o.key: o for o in factor_filter.options}
        assert {"factors/5.1.1", "factors/5.1", "factors/5"} <= keys.keys()
        assert "factors/4" not in keys  # nothing is tagged with biologisk arbejdsmiljø
        assert factor_filter.selected is not None and factor_filter.selected.key == "factors/5"
        assert keys["factors/5"].count >= keys["factors/5.1"].count >= keys["factors/5.1.1"].count >= 1


def test_type_filter_includes_narrower_types_and_unknown_values_are_ignored(services: Services) -> None:
    """Runs on the embedded store and through the Oxigraph server."""
    site = Site(services)
    page = events_page(site, {"type": "event-types/09"}, today=date(2026, 1, 1))  # uddannelse
    types = {t.iri for e in page.shown for t in e.types}
    assert types == {f"{BASE}vocab/event-types/09", f"{BASE}vocab/event-types/10"}
    ignored = events_page(site, {"type": '"} UNION { ?s ?p ?o', "region": "regions/01"}, today=date(2026, 1, 1))
    assert [f.name for f in ignored.rejected] == ["type"]
    assert ignored.chosen == {"region": "regions/01"}
    assert all(r.iri == f"{BASE}vocab/regions/01" for e in ignored.shown for r in e.regions)


# -- the HTML page ---------------------------------------------------------------------------


def test_events_page_lists_events_with_links_alternate_and_json_ld(data_dir: Path) -> None:
    add_event(data_dir, event_turtle("dec2099a"))
    with TestClient(create_app(make_settings(data_dir))) as client:
        html = client.get("/events").text
        english = client.get("/events?lang=en").text
    assert '<link rel="alternate" type="text/calendar" href="/events.ics">' in html
    assert '<h3 id="month-2099-12">december 2099</h3>' in html
    assert '<h3 id="month-2099-12">December 2099</h3>' in english
    assert '<a href="/id/event/dec2099a">Temadag om høreskader</a>' in html
    assert "3. december 2099, kl. 09.00" in html and "3 December 2099, at 09:00" in english
    # Every form control has a label.
    for control in re.findall(r'<select id="([^"]+)"', html):
        assert f'<label for="{control}">' in html
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert data["@type"] == "ItemList"
    items = [i["item"] for i in data["itemListElement"]]
    assert items and all(i["@type"] == "Event" and i["startDate"] for i in items)
    assert f"{BASE}id/event/dec2099a" in [i["@id"] for i in items]


def test_filtered_page_links_to_the_filtered_feed(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        html = client.get("/events?type=event-types/06").text
    assert 'href="/events.ics?type=event-types%2F06"' in html
    assert '<option value="event-types/06" selected>' in html


@pytest.mark.parametrize(
    "query",
    [
        'factor="}',
        "factor=<script>alert(1)</script>",
        "industry=../../etc/passwd",
        "type=' OR 1=1 --",
        "region=" + "x" * 5000,
        "factor=https://w3id.org/arbejdsmiljoviden/vocab/factors/5> } ; DROP ALL ; #",
        "past=abc",
        "past=-3",
        "past=99999999999999",
        "factor=%00%ff",
    ],
)
def test_injection_attempts_in_filters_give_no_server_error(data_dir: Path, query: str) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        page = client.get("/events?" + query)
        feed = client.get("/events.ics?" + query)
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert feed.status_code in (200, 400)
    if not query.startswith("past="):
        assert 'role="status"' in page.text  # the unknown value is reported, and ignored
        assert feed.status_code == 400


# -- iCalendar -------------------------------------------------------------------------------


def vevents(body: bytes) -> list[icalendar.cal.Component]:
    return [c for c in icalendar.Calendar.from_ical(body).walk("VEVENT")]


def test_feed_has_one_vevent_per_public_event(data_dir: Path) -> None:
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        expected = public_events(services)
        rows = services.store.select(f"SELECT ?e WHERE {{ ?e a <{services.iris.amv}Event> }}")
        event_iris = {r["e"].value for r in rows}
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get("/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert b"\r\n" in response.content  # RFC 5545 line endings
    calendar = icalendar.Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"] and calendar["X-WR-CALNAME"]
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Copenhagen"]
    events = vevents(response.content)
    assert len(events) == expected
    uids = {str(e["UID"]) for e in events}
    assert len(uids) == expected and uids == event_iris
    by_uid = {str(e["UID"]): e for e in events}
    webinar = by_uid[DECEMBER_WEBINAR]
    assert webinar.decoded("DTSTART") == datetime(2026, 12, 8, 9, 0, tzinfo=COPENHAGEN)
    assert webinar["DTSTART"].params["TZID"] == "Europe/Copenhagen"
    assert str(webinar["SUMMARY"]) == "Webinar: Nye grænseværdier for kemiske stoffer"
    assert str(webinar["URL"]).endswith("/id/event/9tjkpzjh")
    assert webinar["ORGANIZER"].params["CN"] and webinar["DTSTAMP"]
    course = by_uid[ALL_DAY_COURSE]
    assert course.decoded("DTSTART") == date(2027, 2, 10)
    assert course.decoded("DTEND") == date(2027, 2, 12)  # exclusive end of a two-day event
    assert course["LOCATION"] == "Teknologisk Institut, Taastrup"
    assert [str(c) for c in course["CATEGORIES"].cats] == ["Kursus"]


def test_feed_takes_the_same_filters_as_the_page(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        training = vevents(client.get("/events.ics?type=event-types/09").content)
        english = icalendar.Calendar.from_ical(client.get("/events.ics?type=event-types/09&lang=en").content)
        unknown = client.get("/events.ics?type=event-types/99")
    assert {str(e["UID"]) for e in training} >= {TRAINING}
    assert all(
        str(c) in ("Uddannelse", "Lovpligtig arbejdsmiljøuddannelse") for e in training for c in e["CATEGORIES"].cats
    )
    assert str(english["X-WR-CALNAME"]) == "Arbejdsmiljøviden – events"
    assert unknown.status_code == 400 and "type" in unknown.text


def test_per_event_ics_answers_200_404_and_410(data_dir: Path) -> None:
    add_event(data_dir, event_turtle("w1thdrwn"))
    with open_services(make_settings(data_dir), embedded_only=True) as services:
        services.records.withdraw(services.iris.record(RecordKind.event, "w1thdrwn"), agent="test", reason="aflyst")
    with TestClient(create_app(make_settings(data_dir))) as client:
        one = client.get("/id/event/eg8czpbs.ics")
        missing = client.get("/id/event/zzzzzzzz.ics")
        malformed = client.get('/id/event/"}<x>.ics')
        actor = client.get("/id/event/zhe5ymay.ics")  # an actor's id is no event
        gone = client.get("/id/event/w1thdrwn.ics")
        page = client.get("/id/event/eg8czpbs")
        feed = client.get("/events.ics")
    assert one.status_code == 200 and one.headers["content-type"] == "text/calendar; charset=utf-8"
    (event,) = vevents(one.content)
    assert str(event["UID"]) == ALL_DAY_COURSE
    assert str(event["SUMMARY"]) == "Kursus: Kemisk risikovurdering for små virksomheder"
    assert (missing.status_code, malformed.status_code, actor.status_code, gone.status_code) == (404, 404, 404, 410)
    assert f"{BASE}id/event/w1thdrwn" not in {str(e["UID"]) for e in vevents(feed.content)}
    # The event page links to its calendar file.
    assert 'href="/id/event/eg8czpbs.ics"' in page.text


def test_linked_data_of_events_still_resolves(data_dir: Path) -> None:
    with TestClient(create_app(make_settings(data_dir))) as client:
        turtle = client.get("/id/event/eg8czpbs.ttl")
    assert turtle.status_code == 200 and NamedNode(ALL_DAY_COURSE).value in turtle.text
