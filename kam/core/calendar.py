"""The working calendar's rows: seeding from the ``chinese-calendar`` package, and reading
them as a :class:`kam.core.workcal.WorkingCalendar`.

The package knows every year the State Council has published (2004 to its release); a year
published after the package's release is added by an administrator (admin site, "Working
calendar"), and a re-seed never overwrites those rows.
"""

import datetime
import functools

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext

from kam.core.models import CalendarDay, Festival, Notification, Role, User
from kam.core.notify import notify
from kam.core.workcal import WorkingCalendar, weekday_rule

_FESTIVALS = {f.value for f in Festival}


def package_days() -> dict[datetime.date, tuple[bool, str]]:
    """The package's exceptions to the weekday rule: day -> (working, festival)."""
    import chinese_calendar  # noqa: PLC0415 - only seeding needs it

    keys = {h.value: h.name for h in chinese_calendar.Holiday}  # "Spring Festival" -> key
    days: dict[datetime.date, tuple[bool, str]] = {}
    for working, table in ((False, chinese_calendar.holidays), (True, chinese_calendar.workdays)):
        for day, holiday in table.items():
            if working == weekday_rule(day):
                continue  # a holiday on a Sunday changes nothing
            name = keys.get(holiday, "")
            days[day] = (working, name if name in _FESTIVALS else Festival.OTHER.value)
    return days


@transaction.atomic
def calendar_seed() -> int:
    """Insert or refresh the package's days; an administrator's rows are kept as they are.
    Returns how many rows were written."""
    admin_days = set(
        CalendarDay.objects.filter(source=CalendarDay.Source.ADMIN).values_list("day", flat=True)
    )
    wanted = {d: v for d, v in package_days().items() if d not in admin_days}
    CalendarDay.objects.filter(source=CalendarDay.Source.PACKAGE).exclude(day__in=wanted).delete()
    existing = {
        row.day: row for row in CalendarDay.objects.filter(source=CalendarDay.Source.PACKAGE)
    }
    written = 0
    create = []
    for day, (working, festival) in wanted.items():
        row = existing.get(day)
        if row is None:
            create.append(
                CalendarDay(
                    day=day, working=working, festival=festival, source=CalendarDay.Source.PACKAGE
                )
            )
        elif (row.working, row.festival) != (working, festival):
            row.working, row.festival = working, festival
            row.save(update_fields=["working", "festival"])
            written += 1
    CalendarDay.objects.bulk_create(create, batch_size=500)
    return written + len(create)


def working_calendar() -> WorkingCalendar:
    """The product's calendar: every published exception (a few hundred rows, read each time,
    so an administrator's edit counts at once)."""
    return _calendar_of(frozenset(CalendarDay.objects.values_list("day", "working")))


@functools.lru_cache(maxsize=4)
def _calendar_of(days: frozenset[tuple[datetime.date, bool]]) -> WorkingCalendar:
    """Building the calendar's prefix sums walks every day of two decades (milliseconds);
    the same rows give the same, immutable calendar (an SLA clock asks for it per case)."""
    exceptions = dict(days)
    return WorkingCalendar(exceptions=exceptions, known_years=frozenset(d.year for d in exceptions))


def unconfirmed_years(
    start: datetime.date, end: datetime.date, calendar: WorkingCalendar | None = None
) -> list[int]:
    """The years from ``start`` to ``end`` (both included; a ``datetime`` counts by its own
    date) whose official holidays have not been entered, in order. There, the calendar
    falls back to the weekday rule: a public holiday counts as a working day.

    ``end`` before ``start`` is read as the same span. ``calendar`` defaults to the
    product's (one query); pass it when you already hold it."""
    if end < start:
        start, end = end, start
    cal = calendar if calendar is not None else working_calendar()
    return [y for y in range(start.year, end.year + 1) if y not in cal.known_years]


def unconfirmed_years_message(years: list[int]) -> str:
    """One sentence, in the active language, saying which years are unknown and how an
    administrator enters them; empty when ``years`` is empty."""
    if not years:
        return ""
    text = ", ".join(str(y) for y in sorted(years))
    return ngettext(
        "The official holidays of %(years)s have not been entered: its public holidays "
        "count as working days (only weekends are off). An administrator enters them in "
        "the administration site (Working calendar, /admin/core/calendarday/), or upgrades "
        "the chinese-calendar package and runs `kam calendar seed`.",
        "The official holidays of %(years)s have not been entered: their public holidays "
        "count as working days (only weekends are off). An administrator enters them in "
        "the administration site (Working calendar, /admin/core/calendarday/), or upgrades "
        "the chinese-calendar package and runs `kam calendar seed`.",
        len(years),
    ) % {"years": text}


def unconfirmed_years_short(years: list[int]) -> str:
    """A short label for a badge or a table cell (the full sentence is
    :func:`unconfirmed_years_message`)."""
    if not years:
        return ""
    return gettext("Holidays not entered: %(years)s") % {
        "years": ", ".join(str(y) for y in sorted(years))
    }


UNCONFIRMED_KIND = "calendar.unconfirmed"
#: A notice about the same year goes to an administrator at most once in this many days
#: (and not while the last one is unread).
NOTICE_EVERY_DAYS = 7


def notify_unconfirmed_years(years: list[int], *, where: str | Promise = "") -> int:
    """Tell the active administrators that ``years`` have no official holidays entered and
    how to enter them; at most one notice per administrator and year while the last is
    unread or younger than a week. ``where`` says what reached the year, naming no
    customer record (administrators see none). Returns how many notifications were written."""
    if not years:
        return 0
    admins = list(User.objects.filter(role=Role.ADMIN, is_active=True))
    recent = timezone.now() - datetime.timedelta(days=NOTICE_EVERY_DAYS)
    written = 0
    for year in sorted(set(years)):
        kind = f"{UNCONFIRMED_KIND}.{year}"
        told = set(
            Notification.objects.filter(kind=kind, user__in=admins)
            .filter(models.Q(read_at__isnull=True) | models.Q(created_at__gte=recent))
            .values_list("user_id", flat=True)
        )
        people = [a for a in admins if a.pk not in told]
        if not people:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = gettext("Working calendar: the holidays of %(year)s are missing") % {
                "year": year
            }
            body = unconfirmed_years_message([year])
            if where:
                body = f"{where}\n\n{body}"
        written += len(
            notify(
                people, subject=subject, body=body, url="/admin/core/calendarday/", kind=kind
            )  # fmt: skip
        )
    return written
