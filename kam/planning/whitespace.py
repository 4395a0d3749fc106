"""Whitespace (白地分析): accounts × solutions, each cell saying whether the account already
uses the solution (with the ledger's evidence), has an open opportunity for it, won or lost
one, or was never offered it.

Reads only: the accounts come from :func:`kam.accounts.selectors.account_list_for` (the one
gate), the opportunities from :func:`kam.planning.selectors.opportunity_list_for`, and the
evidence from the ledger's monthly facts summed over the trailing 12 months in one grouped
query for all the accounts of a page, never a query per cell."""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kam.accounts.models import Account, BillingCode, TeamMembership, TeamRole
from kam.accounts.selectors import account_list_for, group_list_for
from kam.core import access
from kam.core.models import Role, User
from kam.ledger import selectors as ledger
from kam.ledger.models import AccountMonth

from .models import OPEN_STAGES, Solution
from .selectors import opportunity_list_for

#: A solution's code -> the fact column whose trailing-12-month sum shows it in use. Where the
#: ledger does not show a solution (warehousing, packaging, same-city ...), a cell is never
#: "in use" from data: only an opportunity won says so.
EVIDENCE = {
    "cod": "cod_amount",
    "returns": "returns",
    "cold-chain": "cold_waybills",
    "international": "international_waybills",
}

#: The share of an account's waybills a product or a return flag must reach to count as the
#: solution in use: a handful of cold-chain parcels in a year is no cold-chain business.
#: Cash on delivery counts from the first yuan collected (it is a service agreed, not a mix).
MIN_SHARE = Decimal("0.01")

#: The cell states, in the order one wins over another when several hold: an opportunity
#: being worked on is what the team acts on, then a sale won, then use seen in the ledger,
#: then a lost opportunity.
STATES = ("open", "won", "in_use", "lost", "not_offered")


def state_labels() -> dict[str, str]:
    return {"open": pgettext("whitespace", "Open opportunity"),
            "won": pgettext("whitespace", "Won"), "in_use": pgettext("whitespace", "In use"),
            "lost": pgettext("whitespace", "Lost"),
            "not_offered": pgettext("whitespace", "Not offered")}  # fmt: skip


@dataclass(frozen=True)
class Filters:
    group: int | None = None
    mine: bool = False
    tier: int | None = None
    owner: int | None = None
    industry: int | None = None
    q: str = ""
    sort: str = "tier"


#: Tier first by default (the key accounts on the first pages), accounts without a tier last.
SORTS: dict[str, tuple[Any, ...]] = {
    "tier": (F("tier").asc(nulls_last=True), "name", "id"),
    "-tier": (F("tier").desc(nulls_last=True), "name", "id"),
    "name": ("name", "id"),
}


@dataclass
class Cell:
    state: str
    title: str
    opportunity: int | None = None  # the opportunity the cell links to, when there is one


def accounts(user: User, f: Filters) -> QuerySet[Account]:
    """The accounts of the grid: those ``user`` sees, narrowed by ``f`` (a corporate group,
    the user's own portfolio, tier, owner, industry, name), sorted."""
    rows = account_list_for(user)
    if f.group:
        # A group the user may not see is no group: nothing matches (the view answers 404).
        if not group_list_for(user).filter(pk=f.group).exists():
            return Account.objects.none()
        rows = rows.filter(group_id=f.group)
    if f.mine:
        rows = rows.filter(team__user=user)
    if f.tier:
        rows = rows.filter(tier=f.tier)
    if f.owner:
        owns = TeamMembership.objects.filter(account=OuterRef("pk"), user_id=f.owner,
                                             role=TeamRole.OWNER)  # fmt: skip
        rows = rows.filter(Exists(owns))
    if f.industry:
        rows = rows.filter(industry_id=f.industry)
    if f.q:
        rows = rows.filter(Q(name__icontains=f.q) | Q(name_en__icontains=f.q)
                           | Q(search_pinyin__icontains=f.q.lower()))  # fmt: skip
    return rows.distinct().order_by(*SORTS.get(f.sort, SORTS["tier"]))


def may_create(user: User) -> bool:
    """Whether "not offered" cells link to a new opportunity: managers (the grid holds only
    the accounts they see, which are those they may add opportunities to), the department
    and directors."""
    return access.is_active_user(user) and user.role in (Role.MANAGER, Role.DEPARTMENT,
                                                         Role.DIRECTOR)  # fmt: skip


def evidence(account_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per account: the evidence columns summed over the ledger's trailing 12 months (and
    the waybills, to say what share they are). One query for the codes, one grouped query
    over the facts."""
    period = ledger.trailing_period()
    if not account_ids or period is None:
        return {}
    start, end = period
    code_account = dict(
        BillingCode.objects.filter(account_id__in=account_ids).values_list("code", "account_id")
    )
    if not code_account:
        return {}
    columns = sorted(set(EVIDENCE.values())) + ["waybills"]
    rows = (
        AccountMonth.objects.filter(billing_code__in=list(code_account), month__gte=start,
                                    month__lte=end)
        .values("billing_code").annotate(**{f"s_{c}": Sum(c) for c in columns}).order_by()
    )  # fmt: skip
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        acc = out.setdefault(code_account[row["billing_code"]], defaultdict(int))
        for c in columns:
            acc[c] += row[f"s_{c}"] or 0
    out_period = {"start": start, "end": end}
    for acc in out.values():
        acc["period"] = out_period
    return out


def _evidence_text(column: str, facts: dict[str, Any]) -> str | None:
    value = facts.get(column) or 0
    if not value:
        return None
    period = facts["period"]
    span = f"{period['start']:%Y-%m}–{period['end']:%Y-%m}"
    waybills = facts.get("waybills") or 0
    if column == "cod_amount":
        return _("The ledger shows ¥%(amount)s of cash on delivery collected in %(span)s.") % {
            "amount": f"{Decimal(value):,.0f}", "span": span}  # fmt: skip
    if not waybills or Decimal(value) / waybills < MIN_SHARE:
        return None
    share = f"{100 * value / waybills:.1f} %"
    text = {
        "returns": _("The ledger shows %(n)s return waybills in %(span)s (%(share)s of all)."),
        "cold_waybills": _("The ledger shows %(n)s cold-chain waybills in %(span)s "
                           "(%(share)s of all)."),
        "international_waybills": _("The ledger shows %(n)s international waybills in "
                                    "%(span)s (%(share)s of all)."),
    }[column]  # fmt: skip
    return text % {"n": f"{int(value):,}", "span": span, "share": share}


def cells(
    user: User, account_ids: list[int], solutions: list[Solution]
) -> dict[int, dict[int, Cell]]:
    """account id -> solution id -> :class:`Cell`, for the accounts (already through the
    user's gate) and the solutions given. Two queries for opportunities and evidence."""
    labels = state_labels()
    facts = evidence(account_ids)
    # Per (account, solution): the opportunity that decides the cell (open before won
    # before lost; the latest of each), from one query.
    rank = {"won": 1, "lost": 3, **{s: 0 for s in OPEN_STAGES}}
    best: dict[tuple[int, int], tuple[int, datetime.date, int, str]] = {}
    opps = (
        opportunity_list_for(user).filter(account_id__in=account_ids)
        .values_list("account_id", "solution_id", "stage", "pk", "expected_close").order_by()
    )  # fmt: skip
    for account_id, solution_id, stage, pk, close in opps:
        key = (account_id, solution_id)
        candidate = (rank[stage], close, pk, stage)
        held = best.get(key)
        if held is None or (candidate[0], -candidate[2]) < (held[0], -held[2]):
            best[key] = candidate
    out: dict[int, dict[int, Cell]] = {}
    for account_id in account_ids:
        row: dict[int, Cell] = {}
        account_facts = facts.get(account_id, {})
        for solution in solutions:
            column = EVIDENCE.get(solution.code)
            proof = _evidence_text(column, account_facts) if column and account_facts else None
            opp = best.get((account_id, solution.pk))
            stage = opp[3] if opp else ""
            if stage in OPEN_STAGES:
                state = "open"
            elif stage == "won":
                state = "won"
            elif proof:
                state = "in_use"
            elif stage == "lost":
                state = "lost"
            else:
                state = "not_offered"
            parts = [f"{solution.name}: {labels[state]}"]
            if opp and state in ("open", "won", "lost"):
                parts.append(_("Opportunity, expected to close %(date)s.")
                             % {"date": f"{opp[1]:%Y-%m-%d}"})  # fmt: skip
            if proof:
                parts.append(proof)
            elif column is None and state == "not_offered":
                parts.append(_("The ledger does not show this solution."))
            row[solution.pk] = Cell(state, " ".join(parts), opp[2] if opp else None)
        out[account_id] = row
    return out


def counts(
    grid: dict[int, dict[int, Cell]], solutions: list[Solution]
) -> dict[int, dict[str, int]]:
    """Per solution, how many cells of the page are in each state."""
    out = {s.pk: dict.fromkeys(STATES, 0) for s in solutions}
    for row in grid.values():
        for solution_id, cell in row.items():
            out[solution_id][cell.state] += 1
    return out


# --- the XLSX export ------------------------------------------------------------------------

#: Accounts per batch of the export: each batch costs the same few queries.
EXPORT_BATCH = 1000


def xlsx(user: User, f: Filters) -> bytes:
    """The whole grid (every matching account, not one page) as a workbook: an account per
    row, a solution per column, the state in each cell and its evidence as a comment-free
    second sheet of long rows (account, solution, state, evidence)."""
    import io

    from openpyxl import Workbook

    solutions = list(Solution.objects.filter(active=True))
    labels = state_labels()
    wb = Workbook(write_only=True)
    grid_sheet = wb.create_sheet(_("Whitespace"))
    detail = wb.create_sheet(_("Evidence"))
    grid_sheet.append([_("Account"), _("Tier"), *[s.name for s in solutions]])
    detail.append([_("Account"), _("Solution"), _("State"), _("Evidence")])
    ids = list(accounts(user, f).values_list("pk", flat=True))
    for i in range(0, len(ids), EXPORT_BATCH):
        chunk = ids[i : i + EXPORT_BATCH]
        names = {pk: (name, tier) for pk, name, tier in
                 Account.objects.filter(pk__in=chunk).values_list("pk", "name", "tier")}  # fmt: skip
        grid = cells(user, chunk, solutions)
        for pk in chunk:
            name, tier = names[pk]
            grid_sheet.append([name, tier, *[labels[grid[pk][s.pk].state] for s in solutions]])
            for s in solutions:
                cell = grid[pk][s.pk]
                detail.append([name, s.name, labels[cell.state], cell.title])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
