"""The retention rule: personal information of contacts with no business for
``KAM_PERSONAL_DATA_RETENTION_YEARS`` years (default 3) is erased.

A contact's last business is the latest of:

- the contact's creation and last edit (``created_at``, ``updated_at``);
- every row of every table that names the contact (:func:`.relations.contact_relations`):
  visit reports they attended, service cases that involve them, ties to other people and
  to our staff, and the records of apps built later, by the row's date and time columns.
  Deadlines (columns named ``due`` or ``expires``) are no business; survey invitations
  count only when answered (:data:`ACTIVITY_COLUMNS`). Lawful-basis records are no
  business: they say why we may keep the data, not that we did business.

Reading a contact is no business: the access log does not count.

:func:`retention_run` is what ``kam privacy retention`` calls from a scheduler. It erases
contact by contact, each in its own transaction (an interrupted run is simply run again),
checks each contact again under its lock (an edit a second ago is business), stores a
:class:`~kam.accounts.models.RetentionRun` and tells the directors. A dry run erases nothing
and stores what it would have erased. Running it twice erases nothing the second time.
"""

import datetime
from collections.abc import Callable, Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kam.core.errors import ApplicationError
from kam.core.models import AccessLog, Role, User
from kam.core.notify import notify

from ..models import ConsentRecord, Contact, RetentionRun
from . import erasure, relations

#: Tables whose date columns other than these are no business with the person.
ACTIVITY_COLUMNS: dict[str, tuple[str, ...]] = {
    # Sending or reminding is ours; only an answer is theirs.
    "service.invitation": ("answered_at",),
}
#: Words in a column's name that mark a deadline, not something that happened.
DEADLINE_WORDS = ("due", "expires")
#: Tables that name a contact but are no business with them.
NOT_BUSINESS = (ConsentRecord,)
_CHUNK = 500

Progress = Callable[[int, int], None]


def cutoff_for(as_of: datetime.date, years: int) -> datetime.date:
    """The day ``years`` years before ``as_of`` (29 February → 28 February)."""
    try:
        return as_of.replace(year=as_of.year - years)
    except ValueError:
        return as_of.replace(year=as_of.year - years, day=28)


def activity_columns(model: type[models.Model]) -> list[str]:
    key = model._meta.label_lower
    if key in ACTIVITY_COLUMNS:
        return list(ACTIVITY_COLUMNS[key])
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and not any(w in f.name for w in DEADLINE_WORDS)
    ]


def _day(value: datetime.date | datetime.datetime) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value


def last_business(contact_ids: Iterable[int]) -> dict[int, datetime.date]:
    """Each contact's day of last business (in China time)."""
    ids = list(contact_ids)
    last: dict[int, datetime.date] = {}

    def seen(pk: int, value: datetime.date | datetime.datetime | None) -> None:
        if value is not None:
            day = _day(value)
            if pk not in last or day > last[pk]:
                last[pk] = day

    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for pk, created, updated in Contact.objects.filter(pk__in=chunk).values_list(
            "pk", "created_at", "updated_at"
        ):
            seen(pk, created)
            seen(pk, updated)
        for relation in relations.contact_relations():
            if relation.model in NOT_BUSINESS:
                continue
            for column in activity_columns(relation.model):
                rows = (
                    relation.rows(chunk)
                    .values(relation.field)
                    .annotate(latest=Max(column))
                    .order_by()
                    .values_list(relation.field, "latest")
                )
                for pk, latest in rows:
                    seen(pk, latest)
    return last


def contacts_due(*, as_of: datetime.date, years: int) -> list[int]:
    """Ids of the contacts not yet erased whose last business is before the cutoff."""
    cutoff = cutoff_for(as_of, years)
    start = datetime.datetime.combine(
        cutoff, datetime.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE)
    )
    # created_at <= updated_at: a contact edited since the cutoff is not even a candidate.
    candidates = list(
        Contact.objects.filter(erased_at__isnull=True, updated_at__lt=start)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    last = last_business(candidates)
    return [pk for pk in candidates if last.get(pk, cutoff) < cutoff]


def retention_run(
    *,
    as_of: datetime.date,
    years: int | None = None,
    dry_run: bool = False,
    channel: str = AccessLog.Channel.CLI,
    progress: Progress | None = None,
) -> RetentionRun:
    """Erase (or, ``dry_run``, list) the contacts due under the retention rule, as the
    system; store the run and tell the directors what was erased."""
    years = settings.PERSONAL_DATA_RETENTION_YEARS if years is None else years
    if not 1 <= years <= 100:
        raise ApplicationError(_("The retention period must be 1 to 100 years."))
    cutoff = cutoff_for(as_of, years)
    due = contacts_due(as_of=as_of, years=years)
    done: list[int] = []
    for i, pk in enumerate(due, start=1):
        if dry_run or _erase_if_still_due(pk, cutoff, channel):
            done.append(pk)
        if progress is not None:
            progress(i, len(due))
    with transaction.atomic():
        run = RetentionRun.objects.create(
            at=timezone.now(), as_of=as_of, years=years, cutoff=cutoff, dry_run=dry_run,
            count=len(done), contact_ids=done, channel=channel,
        )  # fmt: skip
        if done and not dry_run:
            _tell_directors(run)
    return run


def _erase_if_still_due(pk: int, cutoff: datetime.date, channel: str) -> bool:
    with transaction.atomic():
        contact = Contact.objects.select_for_update().filter(pk=pk, erased_at__isnull=True).first()
        if contact is None or last_business([pk]).get(pk, cutoff) >= cutoff:
            return False
        erasure.contact_erase(by=None, contact=contact, channel=channel)
    return True


def _tell_directors(run: RetentionRun) -> None:
    directors = User.objects.filter(role=Role.DIRECTOR, is_active=True)
    with translation.override(settings.LANGUAGE_CODE):
        subject = ngettext(
            "Retention rule: personal information of %(n)d contact erased",
            "Retention rule: personal information of %(n)d contacts erased",
            run.count,
        ) % {"n": run.count}
        ids = ", ".join(f"#{pk}" for pk in run.contact_ids[:50])
        if run.count > 50:
            ids += " …"
        body = _(
            "Contacts with no business since %(cutoff)s (%(years)d years before %(as_of)s) "
            "were erased: %(ids)s."
        ) % {"cutoff": run.cutoff.isoformat(), "years": run.years,
             "as_of": run.as_of.isoformat(), "ids": ids}  # fmt: skip
    notify(
        directors, subject=subject, body=body, kind="accounts.retention",
        url=reverse("privacy_retention_detail", args=[run.pk]),
    )  # fmt: skip
