"""Time where the service's users are: Denmark (events, "today" on pages, the date in cache versions)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def today_in_copenhagen() -> date:
    """The date in Denmark (an event that ended yesterday there is past)."""
    return datetime.now(COPENHAGEN).date()
