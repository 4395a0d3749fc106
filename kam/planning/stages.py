"""Relationship stages (大客户管理发展模型): exploratory (孕育) -> basic (初级) -> cooperative ->
interdependent (伙伴) -> integrated. Reads and writes.

Each stage has entry criteria that directors edit (:class:`StageCriteria`, a new version
on each edit). An account is evaluated from data where there is some: share of wallet,
products used (the ledger's product mix), solutions in use (won opportunities), an
executive sponsor on the account team, years of business (the first month in the ledger);
a data connection and the contract term are not in the data, so a person confirms them.
The evaluation proposes one step at a time (up when the next stage's criteria hold, down
when the current stage's fail); the owner or the department accepts the proposal or
overrides it with a reason. Every change of ``Account.stage`` goes through
:func:`stage_set`, which records the stage history."""

import datetime
from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account, BillingCode, Stage, TeamMembership, TeamRole
from kam.accounts.selectors import account_list_for, account_scope_q
from kam.core import access
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Role, User
from kam.ledger.models import AccountMonth

from . import selectors, wallet
from .models import Opportunity, StageChange, StageCriteria, StageProposal

STAGES: tuple[str, ...] = tuple(Stage.values)

#: The criteria a stage may require: (label, kind, from data?). Kinds: "percent", "count",
#: "months", "years", "flag".
CRITERIA: dict[str, tuple[Any, str, bool]] = {
    "min_share": (gettext_lazy("Share of wallet at least (%)"), "percent", True),
    "min_products": (gettext_lazy("Products used at least"), "count", True),
    "min_solutions": (gettext_lazy("Solutions in use at least"), "count", True),
    "executive_sponsor": (gettext_lazy("Executive sponsor on our team"), "flag", True),
    "min_years": (gettext_lazy("Years of business at least"), "years", True),
    "data_connection": (gettext_lazy("Data connection in use"), "flag", False),
    "min_contract_months": (gettext_lazy("Contract term at least (months)"), "months", False),
}

#: The first version's criteria (the domain's model: a small share as one of several
#: suppliers, then more products and share, then solutions and a sponsor, then systems).
DEFAULT_CRITERIA: dict[str, dict[str, Any]] = {
    "exploratory": {},
    "basic": {"min_products": 1},
    "cooperative": {"min_share": 15, "min_products": 2, "min_years": 1},
    "interdependent": {"min_share": 35, "min_products": 3, "min_solutions": 1,
                       "executive_sponsor": True, "min_contract_months": 12},
    "integrated": {"min_share": 60, "min_products": 4, "min_solutions": 2,
                   "executive_sponsor": True, "data_connection": True,
                   "min_contract_months": 24, "min_years": 3},
}  # fmt: skip

DECIDERS = (TeamRole.OWNER, TeamRole.CO_OWNER)


def index(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else 0


def label(stage: str) -> str:
    return str(Stage(stage).label) if stage in STAGES else stage


# --- who may do what ----------------------------------------------------------------------------


def may_edit_criteria(user: User) -> bool:
    return access.is_active_user(user) and user.role == Role.DIRECTOR


def may_propose(user: User, account_id: int) -> bool:
    """The account's team managers, the department and directors."""
    return selectors.may_edit_opportunity(user, account_id)


def may_decide(user: User, account_id: int) -> bool:
    """The account's owner (or co-owner) and the department (and directors)."""
    if not access.is_active_user(user):
        return False
    if user.role in (Role.DIRECTOR, Role.DEPARTMENT):
        return True
    return (
        user.role == Role.MANAGER
        and TeamMembership.objects.filter(
            account_id=account_id, user=user, role__in=DECIDERS
        ).exists()
    )


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not do this."))


# --- criteria ------------------------------------------------------------------------------------


def current_criteria() -> StageCriteria:
    """The latest version (an unsaved version 0 of the defaults before any is stored)."""
    return StageCriteria.objects.order_by("-version").first() or StageCriteria(
        version=0, criteria=DEFAULT_CRITERIA
    )


def _stored_criteria(by: User | None) -> StageCriteria:
    row = StageCriteria.objects.order_by("-version").first()
    if row is None:
        row = StageCriteria.objects.create(version=1, criteria=DEFAULT_CRITERIA, created_by=by,
                                           note="defaults")  # fmt: skip
    return row


def clean_criteria(raw: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Thresholds checked by kind; empty and false values drop the criterion."""
    out: dict[str, dict[str, Any]] = {}
    for stage in STAGES:
        out[stage] = {}
        for key, value in (raw.get(stage) or {}).items():
            if key not in CRITERIA:
                raise ValidationError({stage: _("Unknown criterion %(key)s.") % {"key": key}})
            name, kind, _data = CRITERIA[key]
            where = {"stage": label(stage), "criterion": name}
            if kind == "flag":
                if value in (True, "on", "true", "1", 1):
                    out[stage][key] = True
                continue
            if value in (None, ""):
                continue
            try:
                number = Decimal(str(value))
            except ArithmeticError:
                number = Decimal(-1)
            limit = 100 if kind == "percent" else 1000
            if not number.is_finite() or number < 0 or number > limit or (
                kind != "percent" and number != number.to_integral_value()
            ):  # fmt: skip
                text = (
                    _("%(stage)s, %(criterion)s: enter a percentage from 0 to 100.")
                    if kind == "percent"
                    else _("%(stage)s, %(criterion)s: enter a whole number from 0 to %(limit)s.")
                )
                raise ValidationError({stage: text % {**where, "limit": limit}})
            out[stage][key] = float(number) if kind == "percent" else int(number)
    return out


@transaction.atomic
def criteria_set(*, by: User, criteria: dict[str, dict[str, Any]], note: str = "") -> StageCriteria:
    """A new version of the entry criteria (directors); the old ones stay."""
    _require(may_edit_criteria(by))
    cleaned = clean_criteria(criteria)
    last = StageCriteria.objects.select_for_update().order_by("-version").first()
    if last is not None and last.criteria == cleaned:
        raise ApplicationError(_("Nothing changed: the criteria are those of version %(v)s.") % {
            "v": last.version})  # fmt: skip
    return StageCriteria.objects.create(
        version=(last.version if last else 0) + 1, criteria=cleaned, created_by=by,
        note=(note or "").strip()[:500],
    )  # fmt: skip


# --- the data ------------------------------------------------------------------------------------


@dataclass
class Facts:
    share: float | None = None
    products: int | None = None
    solutions: int = 0
    executive_sponsor: bool = False
    years: float | None = None

    def value(self, key: str) -> Any:
        return {"min_share": self.share, "min_products": self.products,
                "min_solutions": self.solutions, "executive_sponsor": self.executive_sponsor,
                "min_years": self.years}.get(key)  # fmt: skip


def facts_for(account_ids: list[int], *, today: datetime.date | None = None) -> dict[int, Facts]:
    """The evaluated data of each account: a fixed number of grouped queries for any number
    of accounts."""
    today = today or timezone.localdate()
    out = {pk: Facts() for pk in account_ids}
    if not account_ids:
        return out
    rows = wallet.with_wallet(Account.objects.filter(pk__in=account_ids)).values_list(
        "pk", "wallet", "revenue_12m"
    )
    for pk, wallet_total, revenue in rows:
        out[pk].share = wallet.share_percent(revenue, wallet_total)
    metrics = selectors.account_metrics(set(account_ids))
    for pk in account_ids:
        row = metrics.get(pk)
        out[pk].products = sum(1 for p in selectors.PRODUCTS if row[p]) if row else 0
    for pk, n in (
        Opportunity.objects.filter(account_id__in=account_ids, stage="won").values("account_id")
        .annotate(n=Count("solution", distinct=True)).values_list("account_id", "n")
    ):  # fmt: skip
        out[pk].solutions = n
    for pk in TeamMembership.objects.filter(
        account_id__in=account_ids, role=TeamRole.EXECUTIVE_SPONSOR, user__is_active=True
    ).values_list("account_id", flat=True):
        out[pk].executive_sponsor = True
    code_account = dict(
        BillingCode.objects.filter(account_id__in=account_ids).values_list("code", "account_id")
    )
    first: dict[int, datetime.date] = {}
    if code_account:
        for code, month in (
            AccountMonth.objects.filter(billing_code__in=list(code_account))
            .values("billing_code").annotate(first=Min("month")).values_list("billing_code", "first")
            .order_by()
        ):  # fmt: skip
            pk = code_account[code]
            first[pk] = min(month, first.get(pk, month))
    for pk, month in first.items():
        out[pk].years = round((today - month).days / 365.25, 1)
    return out


def _check(key: str, required: Any, facts: Facts) -> dict[str, Any]:
    _name, kind, from_data = CRITERIA[key]
    value = facts.value(key) if from_data else None
    if not from_data or (value is None and kind != "flag"):
        met = None  # a person confirms it
    elif kind == "flag":
        met = bool(value) or not required
    else:
        met = value >= required
    return {"criterion": key, "required": required, "value": value, "met": met}


def evaluate(
    current: str, facts: Facts, criteria: dict[str, dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]]:
    """The stage the data support, one step from ``current``, and the evidence: each
    criterion of the stage it weighs (the next one up, or the current one when one of its
    criteria fails) with what the data say (``met`` null: a person must confirm it)."""
    here = index(current)
    if here > 0:
        checks = [{"stage": current, **_check(k, v, facts)}
                  for k, v in criteria.get(current, {}).items()]  # fmt: skip
        if any(c["met"] is False for c in checks):
            return STAGES[here - 1], checks
    if here + 1 < len(STAGES):
        up = STAGES[here + 1]
        checks = [{"stage": up, **_check(k, v, facts)} for k, v in criteria.get(up, {}).items()]
        if checks and not any(c["met"] is False for c in checks):
            return up, checks
        return current, checks
    return current, []


def evidence_text(row: dict[str, Any]) -> str:
    """One line of evidence as people read it: "Products used at least 2: now 1"."""
    name, kind, _data = CRITERIA.get(row["criterion"], (row["criterion"], "count", True))
    required = row["required"]
    wanted = "" if kind == "flag" or not isinstance(required, int | float) else f" {required:g}"
    value = row.get("value")
    if value is None and (kind != "flag" or not CRITERIA.get(row["criterion"], ("", "", False))[2]):
        seen = _("no data: to confirm")
    elif kind == "flag":
        seen = _("yes") if value else _("no")
    else:
        seen = _("now %(value)s") % {"value": f"{value:g}"}
    return f"{name}{wanted}: {seen}"


# --- reads ---------------------------------------------------------------------------------------


def proposal_list_for(user: User) -> QuerySet[StageProposal]:
    """Proposals of the accounts ``user`` sees."""
    if not selectors.sees_plans(user):
        return StageProposal.objects.none()
    qs = StageProposal.objects.all()
    if not access.sees_all_accounts(user):
        qs = qs.filter(account_scope_q(user))
    return qs.select_related("account", "criteria", "proposed_by", "decided_by")


def proposals_to_decide(user: User) -> QuerySet[StageProposal]:
    """The open proposals ``user`` decides: an owner's accounts; all for the department."""
    qs = proposal_list_for(user).filter(status=StageProposal.Status.OPEN)
    if user.role in (Role.DIRECTOR, Role.DEPARTMENT):
        return qs.order_by("created_at", "id")
    return qs.filter(account__team__user=user, account__team__role__in=DECIDERS).order_by(
        "created_at", "id"
    )


def history_list_for(user: User) -> QuerySet[StageChange]:
    if not selectors.sees_plans(user):
        return StageChange.objects.none()
    qs = StageChange.objects.all()
    if not access.sees_all_accounts(user):
        qs = qs.filter(account_scope_q(user))
    return qs.select_related("by")


@dataclass
class HistoryRow:
    change: StageChange
    days: int  # in the stage it entered, until the next change (or today)


def account_history(account: Account, *, today: datetime.date | None = None) -> list[HistoryRow]:
    today = today or timezone.localdate()
    changes = list(account.stage_changes.select_related("by").order_by("-on", "-id"))
    out, until = [], today
    for c in changes:
        out.append(HistoryRow(c, max((until - c.on).days, 0)))
        until = c.on
    return out


def stage_since(account: Account) -> datetime.date:
    """When the account entered its stage: its last change, else its creation."""
    last = account.stage_changes.aggregate(on=Max("on"))["on"]
    return last or timezone.localtime(account.created_at).date()


def period_bounds(period: str) -> tuple[datetime.date, datetime.date] | None:
    """``2026`` or ``2026Q3`` -> (first day, last day); ``None`` when unreadable."""
    try:
        if len(period) == 4:
            year = int(period)
            return datetime.date(year, 1, 1), datetime.date(year, 12, 31)
        if len(period) == 6 and period[4] in "Qq":
            year, q = int(period[:4]), int(period[5])
            if not 1 <= q <= 4:
                return None
            start = datetime.date(year, 3 * q - 2, 1)
            end = (datetime.date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
                   - datetime.timedelta(days=1))  # fmt: skip
            return start, end
    except ValueError:
        return None
    return None


def current_period(today: datetime.date, kind: str = "quarter") -> str:
    if kind == "year":
        return str(today.year)
    return f"{today.year}Q{(today.month - 1) // 3 + 1}"


@dataclass
class Portfolio:
    distribution: list[tuple[str, str, int]]  # stage, label, accounts
    matrix: list[tuple[str, str, list[int], int]]  # from stage, label, counts by to stage, total
    up: int
    down: int
    changes: int
    proposals: dict[str, int]


def portfolio(user: User, start: datetime.date, end: datetime.date) -> Portfolio:
    """The stage distribution of the accounts ``user`` sees now, and the transition matrix
    (from stage x to stage) of the changes dated in [start, end]: grouped queries."""
    accounts = account_list_for(user)
    counts = dict(
        accounts.order_by().values("stage").annotate(n=Count("pk")).values_list("stage", "n")
    )
    distribution = [(s, label(s), counts.get(s, 0)) for s in STAGES]
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for a, b, n in (
        history_list_for(user).filter(on__gte=start, on__lte=end).order_by()
        .values("from_stage", "to_stage").annotate(n=Count("pk"))
        .values_list("from_stage", "to_stage", "n")
    ):  # fmt: skip
        cells[(a, b)] += n
    matrix = []
    up = down = 0
    for a in STAGES:
        row = [cells.get((a, b), 0) for b in STAGES]
        matrix.append((a, label(a), row, sum(row)))
        for b in STAGES:
            n = cells.get((a, b), 0)
            if index(b) > index(a):
                up += n
            elif index(b) < index(a):
                down += n
    proposals = dict(
        proposal_list_for(user).order_by().values("status").annotate(n=Count("pk"))
        .values_list("status", "n")
    )  # fmt: skip
    return Portfolio(distribution, matrix, up, down, sum(cells.values()), proposals)


# --- writes --------------------------------------------------------------------------------------


#: True while :func:`stage_set` writes the account (it records the change itself).
_setting: ContextVar[bool] = ContextVar("kam_planning_stage_set", default=False)


def stage_changed_elsewhere(
    sender: Any, account: Account, by: User | None, changes: dict[str, Any], **kwargs: Any
) -> None:
    """The archive changed an account's stage (its form or API, ``account_changed``):
    the stage history records it too, so time in stage and the transition matrix hold
    every change. A change made here (:func:`stage_set`) is recorded by it, with its
    reason."""
    if "stage" not in changes or _setting.get():
        return
    old, new = changes["stage"]
    StageChange.objects.create(
        account=account, from_stage=old or "", to_stage=new, on=timezone.localdate(),
        reason=str(_("Changed on the account's page")), by=by,
    )  # fmt: skip


@transaction.atomic
def stage_set(
    *, by: User, account: Account, stage: str, reason: str = "",
    proposal: StageProposal | None = None, on: datetime.date | None = None,
) -> StageChange:  # fmt: skip
    """Change ``account``'s relationship stage (the archive's service writes the account,
    with its field history) and record the change. Skipping a stage (up or down) needs a
    reason."""
    from kam.accounts import services as accounts  # noqa: PLC0415

    _require(may_decide(by, account.pk))
    if stage not in STAGES:
        raise ValidationError({"stage": _("Choose one of the five stages.")})
    current = Account.objects.select_for_update().values_list("stage", flat=True).get(pk=account.pk)
    reason = (reason or "").strip()[:1000]
    if stage == current:
        raise ValidationError({"stage": _("The account is already at this stage.")})
    if abs(index(stage) - index(current)) > 1 and not reason:
        raise ValidationError({"reason": _(
            "Moving from %(a)s to %(b)s skips a stage: give the reason."
        ) % {"a": label(current), "b": label(stage)}})  # fmt: skip
    token = _setting.set(True)  # this change is recorded here, with its reason
    try:
        accounts.account_update(by=by, account=account, data={"stage": stage}, version=None)
    finally:
        _setting.reset(token)
    account.stage = stage
    return StageChange.objects.create(
        account=account, from_stage=current, to_stage=stage, on=on or timezone.localdate(),
        reason=reason, proposal=proposal, by=by,
    )  # fmt: skip


@transaction.atomic
def proposal_create(
    *, by: User | None, account: Account, to_stage: str = "", reason: str = "",
    today: datetime.date | None = None,
) -> StageProposal:  # fmt: skip
    """Propose a stage change for ``account``: evaluated from the data (``to_stage`` empty)
    or the proposer's stage with a reason. ``by`` None: the evaluation command."""
    if by is not None:
        _require(may_propose(by, account.pk))
    current = Account.objects.values_list("stage", flat=True).get(pk=account.pk)
    criteria = _stored_criteria(by)
    facts = facts_for([account.pk], today=today)[account.pk]
    evaluated, evidence = evaluate(current, facts, criteria.criteria)
    reason = (reason or "").strip()[:1000]
    if not to_stage:
        to_stage = evaluated
        if to_stage == current:
            raise ValidationError({"stage": _(
                "The data support the current stage (%(stage)s): nothing to propose."
            ) % {"stage": label(current)}})  # fmt: skip
    elif to_stage not in STAGES:
        raise ValidationError({"stage": _("Choose one of the five stages.")})
    elif to_stage == current:
        raise ValidationError({"stage": _("The account is already at this stage.")})
    else:
        # The evidence of the proposed stage's criteria, whatever the evaluation found.
        evidence = [{"stage": to_stage, **_check(k, v, facts)}
                    for k, v in criteria.criteria.get(to_stage, {}).items()]  # fmt: skip
        if abs(index(to_stage) - index(current)) > 1 and not reason:
            raise ValidationError({"reason": _(
                "Moving from %(a)s to %(b)s skips a stage: give the reason."
            ) % {"a": label(current), "b": label(to_stage)}})  # fmt: skip
    try:
        with transaction.atomic():
            proposal = StageProposal.objects.create(
                account=account, from_stage=current, to_stage=to_stage, criteria=criteria,
                evidence=evidence, reason=reason, proposed_by=by,
            )  # fmt: skip
    except IntegrityError:
        raise ApplicationError(
            _("This account already has an open stage proposal: decide it first.")
        ) from None
    return proposal


@transaction.atomic
def proposal_decide(
    *, by: User, proposal: StageProposal, accept: bool, reason: str = "",
    stage: str = "", confirmed: list[str] = (),  # type: ignore[assignment]
) -> StageProposal:  # fmt: skip
    """Accept (criteria without data must be confirmed) or override with a reason, keeping
    the current stage or choosing another one."""
    _require(may_decide(by, proposal.account_id))
    locked = StageProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != StageProposal.Status.OPEN:
        raise ApplicationError(_("This proposal has already been decided."))
    reason = (reason or "").strip()[:1000]
    account = Account.objects.get(pk=locked.account_id)
    if account.stage != locked.from_stage:
        raise ApplicationError(
            _("The account's stage changed after the proposal was made; make a new proposal.")
        )
    if accept:
        unconfirmed = [r for r in locked.evidence
                       if r.get("met") is None and r["criterion"] not in set(confirmed)]  # fmt: skip
        if unconfirmed:
            names = ", ".join(str(CRITERIA[r["criterion"]][0]) for r in unconfirmed)
            raise ValidationError({"confirmed": _(
                "Confirm what the data cannot show (%(names)s), or override with a reason."
            ) % {"names": names}})  # fmt: skip
        stage_set(by=by, account=account, stage=locked.to_stage,
                  reason=reason or locked.reason, proposal=locked)  # fmt: skip
        locked.status = StageProposal.Status.ACCEPTED
    else:
        if not reason:
            raise ValidationError({"reason": _("Give the reason for overriding the proposal.")})
        stage = stage or locked.from_stage
        if stage not in STAGES:
            raise ValidationError({"stage": _("Choose one of the five stages.")})
        if stage != account.stage:
            stage_set(by=by, account=account, stage=stage, reason=reason, proposal=locked)
        locked.status = StageProposal.Status.OVERRIDDEN
    locked.decided_by, locked.decided_at = by, timezone.now()
    locked.decision_reason = reason
    locked._history_user = by  # type: ignore[attr-defined]
    locked.save()
    return locked


def evaluate_accounts(*, accounts: QuerySet[Account], dry_run: bool = False,
                      today: datetime.date | None = None) -> dict[str, int]:  # fmt: skip
    """Propose the data's stage for each of ``accounts`` that differs from its own and has
    no open proposal (the ``stage_proposals`` command). Evaluated in batches of grouped
    queries."""
    version = _stored_criteria(None) if not dry_run else current_criteria()
    criteria = version.criteria
    open_ids = set(StageProposal.objects.filter(status="open").values_list("account_id", flat=True))
    rows = list(accounts.exclude(pk__in=open_ids).values_list("pk", "stage"))
    made = evaluated = 0
    for start in range(0, len(rows), 500):
        batch = rows[start : start + 500]
        facts = facts_for([pk for pk, _s in batch], today=today)
        for pk, stage in batch:
            evaluated += 1
            target, evidence = evaluate(stage, facts[pk], criteria)
            if target == stage:
                continue
            made += 1
            if not dry_run:
                StageProposal.objects.create(
                    account_id=pk, from_stage=stage, to_stage=target, criteria=version,
                    evidence=evidence,
                )  # fmt: skip
    return {"evaluated": evaluated, "proposed": made}


def open_proposal(account: Account) -> StageProposal | None:
    return account.stage_proposals.filter(status="open").select_related("criteria").first()


def criteria_rows(criteria: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The criteria table: a row per criterion, a cell per stage."""
    return [{"key": k, "label": name, "kind": kind, "from_data": from_data,
             "cells": [(s, criteria.get(s, {}).get(k)) for s in STAGES]}
            for k, (name, kind, from_data) in CRITERIA.items()]  # fmt: skip
