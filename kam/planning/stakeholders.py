"""The stakeholder map (客户关系图谱): the buying roles already in the archive — each contact's
buying role, attitude, influence, closeness / trust / favour — and who on our side knows
them, laid out as a grid of buying role × influence.

Read for any number of accounts in a fixed number of queries (the contacts, the last
visit each attended, our staff's ties, our executive sponsors), never a query per account
or per contact: the account page, the plan page and the nightly health job share it."""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Max

from kam.accounts.models import (
    Attitude,
    BuyingRole,
    Contact,
    Influence,
    StaffTie,
    TeamMembership,
    TeamRole,
)

#: The roles that make a contact a key contact, whatever their influence.
KEY_ROLES = (BuyingRole.ECONOMIC_BUYER, BuyingRole.COACH)
#: The map's columns and rows, in the order they are drawn.
ROLES = (
    BuyingRole.ECONOMIC_BUYER,
    BuyingRole.TECHNICAL_BUYER,
    BuyingRole.USER_BUYER,
    BuyingRole.COACH,
    BuyingRole.OTHER,
)
INFLUENCES = (Influence.HIGH, Influence.MEDIUM, Influence.LOW)


@dataclass
class Person:
    """A contact as the map draws them."""

    pk: int
    name: str
    title: str
    role: str
    attitude: str
    influence: str
    closeness: int
    trust: int
    favour: int
    last_met: datetime.date | None = None
    #: Our staff who know them: (name, how well 1-5).
    staff: list[tuple[str, int]] = field(default_factory=list)

    @property
    def key(self) -> bool:
        return self.role in KEY_ROLES or self.influence == Influence.HIGH

    @property
    def role_label(self) -> str:
        return str(BuyingRole(self.role).label)

    @property
    def attitude_label(self) -> str:
        return str(Attitude(self.attitude).label)

    @property
    def influence_label(self) -> str:
        return str(Influence(self.influence).label)

    def days_since_met(self, today: datetime.date) -> int | None:
        return None if self.last_met is None else (today - self.last_met).days


@dataclass
class AccountPeople:
    """Everything the rules and the map need of one account's people."""

    account_id: int
    people: list[Person] = field(default_factory=list)
    #: Names of our executive sponsors on the account's team.
    sponsors: list[str] = field(default_factory=list)

    def with_role(self, role: str) -> list[Person]:
        return [p for p in self.people if p.role == role]

    def grid(self) -> list[tuple[str, str, list[list[Person]]]]:
        """Rows of influence (high first), each with one cell per buying role."""
        return [
            (str(influence), str(influence.label),
             [[p for p in self.people if p.role == role and p.influence == influence]
              for role in ROLES])
            for influence in INFLUENCES
        ]  # fmt: skip

    @staticmethod
    def columns() -> list[tuple[str, str]]:
        return [(str(role), str(role.label)) for role in ROLES]


def people_for(account_ids: list[int] | set[int], *, today: datetime.date,
               staff: bool = True) -> dict[int, AccountPeople]:  # fmt: skip
    """Each account's :class:`AccountPeople` (erased contacts left out). Four queries for any
    number of accounts (three without ``staff``, the staff ties' names); callers pass ids
    they have already checked against the user's access rules (or all, for the job)."""
    from kam.coverage.models import Visit, VisitReport  # noqa: PLC0415 - planning reads coverage

    ids = list(account_ids)
    out = {pk: AccountPeople(pk) for pk in ids}
    if not ids:
        return out
    contacts = (
        Contact.objects.filter(account_id__in=ids, erased_at__isnull=True)
        .order_by("account_id", "name", "id")
        .values_list("pk", "account_id", "name", "title", "buying_role", "attitude", "influence",
                     "closeness", "trust", "favour", "last_contacted")
    )  # fmt: skip
    people: dict[int, Person] = {}
    for pk, account, name, title, role, attitude, influence, cl, tr, fa, last in contacts:
        person = Person(pk, name, title, role, attitude, influence, cl, tr, fa, last)
        people[pk] = person
        out[account].people.append(person)
    # The last day each attended a visit that was done (their visit reports' attendees).
    met = (
        VisitReport.contacts.through.objects.filter(
            contact__account_id__in=ids, visitreport__visit__status=Visit.Status.DONE,
            visitreport__visit__day__lte=today,
        )
        .values("contact_id")
        .annotate(last=Max("visitreport__visit__day"))
        .order_by()
    )  # fmt: skip
    for row in met:
        attendee = people.get(row["contact_id"])
        if attendee is not None and (attendee.last_met is None or row["last"] > attendee.last_met):
            attendee.last_met = row["last"]
    if staff and people:
        ties = (
            StaffTie.objects.filter(contact__account_id__in=ids, contact__erased_at__isnull=True)
            .select_related("user")
            .order_by("-strength", "id")
        )
        for tie in ties:
            if tie.contact_id in people:
                people[tie.contact_id].staff.append((str(tie.user), tie.strength))
    sponsors: dict[int, list[str]] = defaultdict(list)
    for membership in TeamMembership.objects.filter(
        account_id__in=ids, role=TeamRole.EXECUTIVE_SPONSOR, user__is_active=True
    ).select_related("user"):
        sponsors[membership.account_id].append(str(membership.user))
    for pk, names in sponsors.items():
        out[pk].sponsors = names
    return out
