"""Every read of the archive that depends on who is asking.

:func:`account_list_for` is the one place that decides which accounts a user may see;
pages, exports and API endpoints all start from it. Anything outside it is answered 404.
"""

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import (
    Exists,
    F,
    Func,
    IntegerField,
    Model,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.expressions import Col
from django.db.models.functions import Coalesce

from kam.core import access, rls
from kam.core.models import Role, User

from . import figures
from .models import (
    Account,
    BillingCode,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
    TeamRole,
)

_M = TypeVar("_M", bound=Model)


def account_list_for(user: User) -> QuerySet[Account]:
    """The accounts ``user`` may see, unfiltered otherwise."""
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return Account.objects.none()
    accounts = Account.objects.all()
    if not access.sees_all_accounts(user):
        ids = rls.team_account_ids(user)
        accounts = (
            accounts.filter(pk__kam_any=ids)
            if ids is not None
            else accounts.filter(team__user=user)
        )
    return accounts


def in_account_scope(rows: QuerySet[_M], user: User, path: str = "account") -> QuerySet[_M]:
    """``rows`` whose account (the path ``path``, a non-null foreign key) ``user`` may
    see, as :func:`account_list_for` decides. Who sees every account needs no filter: a
    semi-join with 100,000 accounts only costs time. Under a scoped request the team's
    accounts are named by key on the rows' own column (:func:`kam.core.rls.team_account_ids`),
    so PostgreSQL reads them by index instead of guessing the team's share."""
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return rows.none()
    if access.sees_all_accounts(user):
        return rows
    return rows.filter(account_scope_q(user, path))


def account_scope_q(user: User, path: str = "account") -> Q:
    """The condition of :func:`in_account_scope` (for a user who does not see every
    account), to combine with others."""
    ids = rls.team_account_ids(user)
    if ids is not None:
        return Q(**{f"{path}__kam_any": ids})
    return Q(**{f"{path}__in": account_list_for(user)})


#: The attribute :func:`account_get_for` sets on the account it returns: the id of the user
#: it was fetched for, through :func:`account_list_for`.
_FETCHED_FOR = "_kam_fetched_for"


def account_get_for(user: User, pk: int) -> Account:
    """One account the user may see; raises ``Account.DoesNotExist`` otherwise."""
    account = (
        account_list_for(user)
        .select_related("industry", "group", "group__parent")
        .prefetch_related(
            Prefetch("team", queryset=TeamMembership.objects.select_related("user")),
            Prefetch("billing_codes", queryset=BillingCode.objects.order_by("code")),
        )
        .get(pk=pk)
    )
    setattr(account, _FETCHED_FOR, user.pk)
    return account


def account_visible(user: User, account: Account | int) -> bool:
    """May ``user`` see ``account`` (an account or its id), as :func:`account_list_for`
    decides? An account :func:`account_get_for` fetched for this same user answers
    without a query: the account page's panels each asked again (six queries a page)."""
    if isinstance(account, Account):
        if user.pk is not None and getattr(account, _FETCHED_FOR, None) == user.pk:
            return True
        account = account.pk
    return account_list_for(user).filter(pk=account).exists()


@dataclass(frozen=True)
class AccountAccess:
    """What one user may do with one account they can see."""

    team_role: str | None
    can_edit: bool
    can_manage_team: bool
    can_delete: bool
    sees_contacts: bool
    sees_contact_details: bool
    sees_personal: bool

    @property
    def protected_fields(self) -> tuple[str, ...]:
        fields: tuple[str, ...] = ()
        if self.sees_contact_details:
            fields += Contact.DETAIL_FIELDS
        if self.sees_personal:
            fields += Contact.PERSONAL_FIELDS
        return fields


def account_access(user: User, account_id: int) -> AccountAccess:
    """The user's rights on an account they can already see."""
    team_role = (
        TeamMembership.objects.filter(account_id=account_id, user=user)
        .values_list("role", flat=True)
        .first()
    )
    return access_for_team_role(user, team_role)


def access_for_team_role(user: User, team_role: str | None) -> AccountAccess:
    """The user's rights on an account where their team role (or ``None``) is known."""
    on_team = team_role is not None
    director = user.role == Role.DIRECTOR
    editor_on_team = on_team and access.may_edit(user)
    return AccountAccess(
        team_role=team_role,
        can_edit=access.may_manage_archive(user) or editor_on_team,
        can_manage_team=access.may_manage_archive(user)
        or (editor_on_team and team_role in {TeamRole.OWNER, TeamRole.CO_OWNER}),
        can_delete=director,
        sees_contacts=access.sees_contacts(user),
        sees_contact_details=director or (on_team and access.sees_contacts(user)),
        sees_personal=director or (on_team and access.may_see_personal_data_on_team(user)),
    )


def group_list_for(user: User) -> QuerySet[CorporateGroup]:
    """Groups are visible to everyone who sees customer data; their accounts are filtered."""
    if not access.is_active_user(user) or not access.sees_customer_data(user):
        return CorporateGroup.objects.none()
    # The account count covers only the accounts the user may see: a count is no record,
    # but "this group has 40 accounts" should not tell a manager about 37 they cannot open.
    # Counted per group shown (correlated subqueries): a page of 25 groups counts the
    # accounts of 25, not of all 5,000 before sorting them (bench/web).
    accounts = account_list_for(user).filter(group_id=OuterRef("pk"))
    children = CorporateGroup.objects.filter(parent_id=OuterRef("pk"))
    return CorporateGroup.objects.select_related("parent").annotate(
        account_count=_count_of(accounts), child_count=_count_of(children)
    )


def _count_of(rows: QuerySet[Any]) -> Subquery:
    """The number of ``rows`` (a queryset with an OuterRef) as one SQL expression: a
    COUNT over them (a plain function to Django, so it adds no GROUP BY)."""
    count = Func(F("pk"), function="COUNT", output_field=IntegerField())
    return Subquery(rows.order_by().annotate(n=count).values("n"), output_field=IntegerField())


def contact_list_for(user: User) -> QuerySet[Contact]:
    if not access.is_active_user(user) or not access.sees_contacts(user):
        return Contact.objects.none()
    return in_account_scope(Contact.objects.all(), user).select_related("account", "reports_to")


def contact_get_for(user: User, pk: int) -> Contact:
    return contact_list_for(user).get(pk=pk)


def contact_ties_for(user: User) -> QuerySet[ContactTie]:
    """Ties whose both ends the user can see.

    One pass over the ties, each end's account checked against the user's accounts. (As
    ``from_contact_id IN contacts AND to_contact_id IN contacts``, SQLite probed the
    (from, to) index for every pair of visible contacts: 10 s for a director.)
    """
    if not access.is_active_user(user) or not access.sees_contacts(user):
        return ContactTie.objects.none()
    ties = ContactTie.objects.select_related("from_contact", "to_contact")
    if not access.sees_all_accounts(user):
        accounts = account_list_for(user).values("pk")
        ties = ties.filter(from_contact__account__in=accounts, to_contact__account__in=accounts)
    return ties


def contact_tie_candidates(user: User, contact: Contact) -> QuerySet[Contact]:
    """The people ``contact`` may be tied to on its page: the user's visible contacts (not
    erased, not ``contact`` itself) at its account or at the accounts of its corporate group.

    The accounts are found first (by key and by the group's index), then their contacts:
    as one OR over the joined account, PostgreSQL joined every contact with every account
    (0.7 s for a director on bench/web's 492,000 contacts).
    """
    group_id = contact.account.group_id
    near = Q(pk=contact.account_id) | Q(group_id=group_id) if group_id else Q(pk=contact.account_id)
    return (
        contact_list_for(user)
        .exclude(pk=contact.pk)
        .filter(erased_at__isnull=True, account_id__in=Account.objects.filter(near).values("pk"))
        .select_related("account")
    )


def staff_ties_for(user: User) -> QuerySet[StaffTie]:
    return StaffTie.objects.filter(contact__in=contact_list_for(user)).select_related(
        "contact", "user"
    )


#: What a node of the people graph shows of a contact (never the encrypted columns).
GRAPH_FIELDS = ("id", "account_id", "name", "title", "buying_role", "attitude")


def account_people_graph(
    user: User, account: Account, contacts: list[Contact] | None = None
) -> dict[str, list[dict[str, object]]]:
    """Nodes and edges of the people around one account: its contacts, the people they
    know elsewhere (when visible), and our staff who know them.

    ``account`` is one the user can already see (the page fetched it through
    :func:`account_get_for`); ``contacts`` are its contacts when the caller has them. Three
    bounded queries at most, whatever the size of the archive: the ties of these contacts
    (by the two indexed ends), the accounts of their other ends that the user may see (only
    for users who do not see every account), and the staff ties of these contacts. (Through
    :func:`contact_ties_for` / :func:`staff_ties_for`, which re-check every visible contact,
    a director's graph on PostgreSQL planned a join over all contacts.)
    """
    if not access.is_active_user(user) or not access.sees_contacts(user):
        return {"nodes": [], "edges": []}
    if contacts is None:
        contacts = list(
            Contact.objects.filter(account=account).only(*GRAPH_FIELDS).order_by("name")
        )
    ids = {c.pk for c in contacts}
    ties: list[ContactTie] = []
    staff: list[StaffTie] = []
    if ids:
        ties = list(
            ContactTie.objects.filter(Q(from_contact_id__in=ids) | Q(to_contact_id__in=ids))
            .select_related("from_contact", "to_contact")
            .only(
                *(f.name for f in ContactTie._meta.concrete_fields),
                *(f"{end}__{f}" for end in ("from_contact", "to_contact") for f in GRAPH_FIELDS),
            )
            .order_by("id")
        )
        if not access.sees_all_accounts(user):
            elsewhere = {
                c.account_id
                for t in ties
                for c in (t.from_contact, t.to_contact)
                if c.account_id != account.pk
            }
            # One query checks this account too: a caller that skipped the access check
            # gets an empty graph, not someone else's people.
            visible = set(
                account_list_for(user)
                .filter(pk__in=elsewhere | {account.pk})
                .values_list("pk", flat=True)
            )
            if account.pk not in visible:
                return {"nodes": [], "edges": []}
            ties = [
                t
                for t in ties
                if t.from_contact.account_id in visible and t.to_contact.account_id in visible
            ]
        staff = list(
            StaffTie.objects.filter(contact_id__in=ids).select_related("user").order_by("id")
        )
    nodes: dict[str, dict[str, object]] = {}
    for c in contacts:
        nodes[f"c{c.pk}"] = {
            "id": f"c{c.pk}",
            "name": c.name,
            "kind": "contact",
            "title": c.title,
            "role": c.buying_role,
            "attitude": c.attitude,
        }
    for t in ties:
        for c in (t.from_contact, t.to_contact):
            nodes.setdefault(
                f"c{c.pk}",
                {
                    "id": f"c{c.pk}",
                    "name": c.name,
                    "kind": "external",
                    "title": c.title,
                    "role": c.buying_role,
                    "attitude": c.attitude,
                },
            )
    for s in staff:
        nodes.setdefault(
            f"u{s.user_id}",
            {
                "id": f"u{s.user_id}",
                "name": str(s.user),
                "kind": "staff",
                "title": "",
                "role": "",
                "attitude": "",
            },
        )
    edges = [
        {
            "source": f"c{t.from_contact_id}",
            "target": f"c{t.to_contact_id}",
            "kind": t.kind,
            "label": t.get_kind_display(),
        }
        for t in ties
    ]
    edges += [
        {
            "source": f"u{s.user_id}",
            "target": f"c{s.contact_id}",
            "kind": "staff",
            "label": str(s.strength),
        }
        for s in staff
    ]
    return {"nodes": list(nodes.values()), "edges": edges}


def org_chart(contacts: list[Contact]) -> list[dict[str, object]]:
    """Contacts as a forest by ``reports_to`` (roots are people with no manager here)."""
    children: dict[int | None, list[Contact]] = {}
    ids = {c.pk for c in contacts}
    for c in contacts:
        parent = c.reports_to_id if c.reports_to_id in ids else None
        children.setdefault(parent, []).append(c)

    def build(c: Contact, depth: int) -> dict[str, object]:
        kids = children.get(c.pk, []) if depth < 50 else []
        return {
            "name": c.name,
            "title": c.title,
            "id": c.pk,
            "children": [build(k, depth + 1) for k in kids],
        }

    return [build(c, 0) for c in children.get(None, [])]


def account_owners() -> QuerySet[User]:
    """Users who own at least one account, by username: the account list's owner filter.

    One index probe per user (EXISTS), not a DISTINCT over the join with every owner's
    membership (40 ms for bench/web's 50,000 owned accounts)."""
    owns = TeamMembership.objects.filter(user=OuterRef("pk"), role=TeamRole.OWNER)
    return User.objects.filter(Exists(owns)).order_by("username")


def users_for_team_choice() -> QuerySet[User]:
    return User.objects.filter(is_active=True).exclude(role=Role.ADMIN).order_by("username")


#: Sort keys users may choose, mapped to ORDER BY columns (``-`` for descending).
ACCOUNT_SORTS = {
    "name": ("name", "id"),
    "tier": ("tier", "name"),
    "stage": ("stage", "name"),
    "province": ("province_code", "name"),
    "employees": ("employees", "name"),
    "output": ("annual_output_value", "name"),
    "updated": ("updated_at", "id"),
    # A figure the ledger registers (kam.accounts.figures): our trailing-12-month revenue.
    "revenue_12m": ("revenue_12m", "name"),
    # A figure planning registers: the latest account health score (0-100; none before the
    # first run, listed last either way).
    "health_score": ("health_score", "name"),
}
#: Sort columns whose empty values go last in both directions (on every database).
NULLS_LAST = {"health_score"}


#: A search text of characters without case: digits, Chinese (CJK) characters, spaces and
#: common punctuation.
_UNCASED = re.compile(r"[0-9\s\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uff0f()（）.,&·-]+")


def account_search(
    accounts: QuerySet[Account],
    *,
    q: str = "",
    tiers: list[int] | None = None,
    categories: list[str] | None = None,
    industry: str = "",
    province: str = "",
    owner: int | None = None,
    stages: list[str] | None = None,
    status: str = "",
    group: int | None = None,
    sort: str = "name",
) -> QuerySet[Account]:
    """Filter and sort accounts already limited by :func:`account_list_for`.

    ``q`` matches Chinese or English names, credit code, billing codes and pinyin
    (initials or full). Values are assumed valid (forms and schemas check them).
    """
    if q:
        q = q.strip()
        lowered = q.lower()
        # Digits and Chinese characters have no case: matching them case-sensitively finds
        # the same accounts without upper-casing every name of the archive first (on
        # PostgreSQL ``icontains`` is UPPER(name) LIKE UPPER(q), most of a search's time).
        contains = "contains" if _UNCASED.fullmatch(q) else "icontains"
        accounts = accounts.filter(
            Q(**{f"name__{contains}": q})
            | Q(**{f"name_en__{contains}": q})
            | Q(credit_code__iexact=q)
            | Q(search_pinyin__contains=lowered.replace(" ", ""))
            | Q(pk__in=BillingCode.objects.filter(code__iexact=q).values("account_id"))
        )
    if tiers:
        accounts = accounts.filter(tier__in=tiers)
    for category in categories or []:
        accounts = accounts.filter(**{Account.CATEGORY_FIELDS[category]: True})
    if industry:
        accounts = accounts.filter(industry__code=industry)
    if province:
        accounts = accounts.filter(province_code=province)
    if owner is not None:
        accounts = accounts.filter(
            pk__in=TeamMembership.objects.filter(user_id=owner, role=TeamRole.OWNER).values(
                "account_id"
            )
        )
    if stages:
        accounts = accounts.filter(stage__in=stages)
    if status:
        accounts = accounts.filter(status=status)
    if group is not None:
        accounts = accounts.filter(group_id=group)
    accounts = figures.annotate(accounts)
    descending = sort.startswith("-")
    columns = ACCOUNT_SORTS[sort.lstrip("-")]
    order: list[Any] = [
        (F(c).desc(nulls_last=True) if descending else F(c).asc(nulls_last=True))
        if c in NULLS_LAST
        else (f"-{c}" if descending else c)
        for c in columns
    ]
    return accounts.order_by(*order)


def with_list_relations(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """What a list row shows: industry, group and the owner, without N+1 queries."""
    return accounts.select_related("industry", "group").prefetch_related(
        Prefetch(
            "team",
            queryset=TeamMembership.objects.filter(role=TeamRole.OWNER).select_related("user"),
            to_attr="owners",
        )
    )


def _stored_figure_sort(accounts: QuerySet[Account]) -> tuple[str, Col] | None:
    """The key and stored column of a figure the list is sorted by, highest first, when
    the figure is that column or 0 for accounts without one (``Coalesce(column, 0)``, as
    the ledger's stored revenue); None for any other sort."""
    order = tuple(accounts.query.order_by)
    if len(order) != 2 or order[1] != "-name" or not str(order[0]).startswith("-"):
        return None
    key = str(order[0])[1:]
    if ACCOUNT_SORTS.get(key) != (key, "name"):
        return None
    figure = accounts.query.annotations.get(key)
    if not isinstance(figure, Coalesce):
        return None
    sources = figure.get_source_expressions()
    if len(sources) != 2 or not isinstance(sources[0], Col):
        return None
    if not isinstance(sources[1], Value) or sources[1].value != 0:
        return None
    return key, sources[0]


def account_rows(accounts: QuerySet[Account], start: int, stop: int) -> list[Account]:
    """Rows ``start`` to ``stop`` of a sorted account list, as the list's query would
    return them: the page's keys first (the sort carries the keys alone, not every column
    of 100,000 accounts with their industry and group), then those accounts with
    everything the list shows, in the same order. (Sorted by our revenue, a director's
    page was 0.19 s of sorting wide rows on bench/web.)"""
    keys = accounts.prefetch_related(None)
    stored = _stored_figure_sort(keys)
    if stored is None or stop <= start:
        ids = list(keys.values_list("pk", flat=True)[start:stop])
    else:
        # Sorted by a stored figure, highest first: the accounts above 0 by the figure's
        # own column (its index walked from the top, the visible accounts joined to it,
        # name ties sorted within equal figures), then the rest (no figure, or 0 or less)
        # as the list sorts them. The same rows in the same order as the one query, whose
        # sort on the figure or 0 read every account (0.1 s for 100,000 on bench/web).
        key, column = stored
        above = keys.annotate(_stored=column).filter(_stored__gt=0).order_by("-_stored", "-name")
        ids = list(above.values_list("pk", flat=True)[start:stop])
        if len(ids) < stop - start:
            n_above = start + len(ids) if ids else above.count()
            rest = keys.exclude(**{f"{key}__gt": 0}).values_list("pk", flat=True)
            ids += list(rest[max(start - n_above, 0) : stop - n_above])
    rows = {a.pk: a for a in accounts.filter(pk__in=ids)}
    return [rows[pk] for pk in ids]


class AccountPaginator(Paginator):
    """Django's paginator over a sorted account list, whose page reads
    :func:`account_rows` (the count and page numbers as Django's)."""

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        start = (number - 1) * self.per_page
        stop = min(start + self.per_page, self.count)
        if stop + self.orphans >= self.count:
            stop = self.count
        return self._get_page(account_rows(self.object_list, start, stop), number, self)


@dataclass(frozen=True)
class HistoryEntry:
    at: object
    user: str
    subject: str
    kind: str  # "+", "~", "-"
    changes: list[tuple[str, str, str]]


def _display(model: type, field: str, value: object) -> str:
    if value is None or value == "":
        return "—"
    try:
        f = model._meta.get_field(field)
    except Exception:  # noqa: BLE001 - a field that no longer exists shows its raw value
        return str(value)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "✓" if value else "✗"
    return str(value)


def account_history(account: Account, limit: int = 100) -> list[HistoryEntry]:
    """Field history of the account and its team, newest first, as readable changes."""
    entries: list[HistoryEntry] = []
    records = list(
        account.history.select_related("history_user").order_by("history_date", "history_id")
    )
    previous = None
    for record in records:
        changes: list[tuple[str, str, str]] = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous)
            for change in delta.changes:
                label = str(Account._meta.get_field(change.field).verbose_name)
                changes.append((label, _display(Account, change.field, change.old),
                                _display(Account, change.field, change.new)))  # fmt: skip
            if not changes:
                previous = record
                continue
        entries.append(HistoryEntry(record.history_date, str(record.history_user or "system"),
                                    str(Account._meta.verbose_name), record.history_type, changes))  # fmt: skip
        previous = record
    team = TeamMembership.history.filter(account_id=account.pk).select_related(
        "history_user", "user"
    )
    for record in team.order_by("history_date"):
        who = str(record.user) if record.user_id else "?"
        entries.append(HistoryEntry(record.history_date, str(record.history_user or "system"),
                                    str(TeamMembership._meta.verbose_name), record.history_type,
                                    [(who, "", _display(TeamMembership, "role", record.role))]))  # fmt: skip
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
