"""A person's visits as an iCalendar feed (RFC 5545), for phones that subscribe to it."""

import datetime

from django.conf import settings
from icalendar import Calendar, Event

from kam.core.models import User

from .models import Visit

#: How far back and ahead the feed reaches.
PAST_DAYS = 60
FUTURE_DAYS = 180


def feed(user: User, *, today: datetime.date) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//KAM//Visits//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"KAM · {user}")
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    visits = (
        Visit.objects.filter(
            person=user,
            day__gte=today - datetime.timedelta(days=PAST_DAYS),
            day__lte=today + datetime.timedelta(days=FUTURE_DAYS),
        )
        .exclude(status=Visit.Status.CANCELLED)
        .select_related("account")
        .order_by("day", "id")
    )
    stamp = datetime.datetime.now(tz=datetime.UTC)
    for visit in visits:
        event = Event()
        event.add("uid", f"visit-{visit.pk}@kam")
        event.add("dtstamp", stamp)
        event.add("dtstart", visit.day)  # an all-day event: the planner books days, not hours
        event.add("dtend", visit.day + datetime.timedelta(days=1))
        prefix = "★ " if visit.executive else ""
        event.add("summary", f"{prefix}{visit.account.name}")
        event.add("location", visit.account.address or "")
        event.add("status", "CONFIRMED" if visit.status == Visit.Status.DONE else "TENTATIVE")
        event.add("sequence", visit.version)
        cal.add_component(event)
    return cal.to_ical()
