"""Every write of the planning app. Each action is atomic, checks who is acting, and
refuses bad input with a ``ValidationError`` naming the field (or an ``ApplicationError``):
nothing is half-written. History (django-simple-history) records who changed what."""

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.accounts.models import Account, CorporateGroup
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Role, User

from . import selectors
from .models import (
    CLOSED_STAGES,
    DEFAULT_REVIEW_DAYS,
    OPEN_STAGES,
    QUALIFIERS,
    AccountPlan,
    Action,
    BuyingInfluence,
    Horizon,
    Metric,
    Objective,
    Opportunity,
    PlanItem,
    PlanKind,
    PlanStatus,
    Review,
    ReviewPolicy,
    Solution,
    Stage,
)

PLAN_STAFF_ROLES = (Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER, Role.SERVICE)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDeniedError(_("You may not do this."))


def _by(obj: Any, by: User | None) -> None:
    obj._history_user = by  # simple-history's acting user


def _editable(by: User, plan: AccountPlan) -> None:
    _require(selectors.may_edit(by, plan))
    # The stored status (the caller's copy may be older), locked until the write is done.
    plan.status = (
        AccountPlan.objects.select_for_update().filter(pk=plan.pk)
        .values_list("status", flat=True).get()
    )  # fmt: skip
    if not plan.editable:
        raise ApplicationError(
            _("The plan is awaiting the department's review; it changes again once reviewed."),
        )


def _staff(user: User | None, field: str) -> User:
    if user is None or not user.is_active or user.role not in PLAN_STAFF_ROLES:
        raise ValidationError({field: _("Choose an active member of staff.")})
    return user


# --- the review schedule -----------------------------------------------------------------------


@transaction.atomic
def review_policy_set(*, by: User | None, intervals: dict[int, int]) -> None:
    """Set the days between reviews per tier (directors)."""
    if by is not None:
        _require(selectors.may_edit_policy(by))
    for tier, days in intervals.items():
        if tier not in DEFAULT_REVIEW_DAYS:
            raise ValidationError({"tier": _("Unknown tier %(tier)s.") % {"tier": tier}})
        if days is None or not 7 <= int(days) <= 730:
            raise ValidationError({f"tier_{tier}": _(
                "Tier %(tier)s: review every 7 to 730 days.") % {"tier": tier}})  # fmt: skip
    for tier, days in intervals.items():
        row = ReviewPolicy.objects.filter(tier=tier).first() or ReviewPolicy(tier=tier)
        if row.pk and row.interval_days == int(days):
            continue
        row.interval_days = int(days)
        _by(row, by)
        row.save()


# --- plans -------------------------------------------------------------------------------------


def _next_due(plan: AccountPlan, since: datetime.date) -> datetime.date:
    return since + datetime.timedelta(days=selectors.review_interval_for(plan))


@transaction.atomic
def plan_create(
    *,
    by: User,
    year: int,
    kind: str,
    owner: User,
    account: Account | None = None,
    group: CorporateGroup | None = None,
    team: Iterable[User] = (),
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    ambition: str = "",
) -> AccountPlan:
    """A new plan (draft) for an account the user may plan, or for a corporate group
    (the department and directors, or a manager on the team of one of its accounts)."""
    if (account is None) == (group is None):
        raise ValidationError({"account": _("Choose an account or a corporate group.")})
    _require(selectors.may_create_for(by, account))
    if kind not in PlanKind.values:
        raise ValidationError({"kind": _("Choose the plan's type: acquire, expand or retain.")})
    if not 2000 <= int(year) <= 2100:
        raise ValidationError({"year": _("Choose a year between 2000 and 2100.")})
    start = start or datetime.date(year, 1, 1)
    end = end or datetime.date(year, 12, 31)
    if end < start:
        raise ValidationError({"end": _("The plan cannot end before it starts.")})
    existing = AccountPlan.objects.filter(year=year)
    existing = existing.filter(account=account) if account else existing.filter(group=group)
    if existing.exists():
        raise ValidationError({"year": _("There is already a plan for %(year)s.") % {"year": year}})
    plan = AccountPlan(
        account=account, group=group, year=year, kind=kind, owner=_staff(owner, "owner"),
        start=start, end=end, ambition=(ambition or "").strip()[:4000], created_by=by,
        next_review_due=start,
    )  # fmt: skip
    plan.next_review_due = _next_due(plan, start)
    plan.full_clean()
    _by(plan, by)
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError:
        raise ValidationError(
            {"year": _("There is already a plan for %(year)s.") % {"year": year}}
        ) from None
    plan.team.set([_staff(u, "team") for u in team])
    return plan


@transaction.atomic
def plan_update(
    *,
    by: User,
    plan: AccountPlan,
    kind: str | None = None,
    owner: User | None = None,
    team: Iterable[User] | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    ambition: str | None = None,
) -> AccountPlan:
    plan = AccountPlan.objects.select_for_update().get(pk=plan.pk)
    _editable(by, plan)
    if kind is not None:
        if kind not in PlanKind.values:
            raise ValidationError({"kind": _("Choose the plan's type: acquire, expand or retain.")})
        plan.kind = kind
    if owner is not None:
        plan.owner = _staff(owner, "owner")
    if start is not None:
        plan.start = start
    if end is not None:
        plan.end = end
    if plan.end < plan.start:
        raise ValidationError({"end": _("The plan cannot end before it starts.")})
    early = plan.actions.filter(due_date__lt=plan.start).order_by("due_date").first()
    if early is not None:
        raise ValidationError({"start": _(
            "The action “%(action)s” is due on %(due)s, before this start."
        ) % {"action": early.title, "due": early.due_date.isoformat()}})  # fmt: skip
    if ambition is not None:
        plan.ambition = ambition.strip()[:4000]
    plan.full_clean()
    _by(plan, by)
    plan.save()
    if team is not None:
        plan.team.set([_staff(u, "team") for u in team])
    return plan


@transaction.atomic
def plan_submit(*, by: User, plan: AccountPlan) -> AccountPlan:
    """Send the plan to the department for review. A plan needs an objective first."""
    plan = AccountPlan.objects.select_for_update().get(pk=plan.pk)
    _require(selectors.may_edit(by, plan))
    if plan.status == PlanStatus.SUBMITTED:
        raise ApplicationError(_("The plan is already awaiting review."))
    if not plan.objectives.exists():
        raise ApplicationError(_("Add at least one measurable objective before submitting."))
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = timezone.now()
    _by(plan, by)
    plan.save(update_fields=["status", "submitted_at", "updated_at"])
    _notify_department(plan)
    return plan


def _notify_department(plan: AccountPlan) -> None:
    from django.utils.translation import gettext_lazy  # noqa: PLC0415

    from kam.core.notify import notify  # noqa: PLC0415

    department = list(User.objects.filter(role=Role.DEPARTMENT, is_active=True))
    if not department:
        return
    transaction.on_commit(lambda: notify(
        department, kind="planning.plan_submitted",
        url=reverse("planning:detail", args=[plan.pk]), email=False,
        subject=gettext_lazy("Account plan to review: %(plan)s") % {"plan": str(plan)},
        body=gettext_lazy("%(owner)s submitted the plan %(plan)s.")
        % {"owner": str(plan.owner), "plan": str(plan)},
    ))  # fmt: skip


@transaction.atomic
def plan_review(
    *, by: User, plan: AccountPlan, decision: str, comment: str = "",
    today: datetime.date | None = None,
) -> Review:  # fmt: skip
    """The department signs a submitted plan off, or returns it with comments. A signed-off
    plan is reviewed again on its schedule (the decision may be repeated then)."""
    _require(selectors.may_review(by))
    plan = AccountPlan.objects.select_for_update().get(pk=plan.pk)
    if plan.status not in (PlanStatus.SUBMITTED, PlanStatus.APPROVED):
        raise ApplicationError(_("Only a submitted or signed-off plan can be reviewed."))
    if decision not in Review.Decision.values:
        raise ValidationError({"decision": _("Sign the plan off or return it.")})
    comment = (comment or "").strip()
    if decision == Review.Decision.RETURNED and not comment:
        raise ValidationError({"comment": _("Say what must change before the plan is returned.")})
    today = today or timezone.localdate()
    due = _next_due(plan, today)
    review = Review(plan=plan, decision=decision, comment=comment[:4000], by=by,
                    next_review_due=due)  # fmt: skip
    review.full_clean()
    _by(review, by)
    review.save()
    plan.status = (
        PlanStatus.APPROVED if decision == Review.Decision.APPROVED else PlanStatus.RETURNED
    )
    plan.last_review_at = timezone.now()
    plan.next_review_due = due
    _by(plan, by)
    plan.save(update_fields=["status", "last_review_at", "next_review_due", "updated_at"])
    _notify_owner(plan, review)
    return review


def _notify_owner(plan: AccountPlan, review: Review) -> None:
    from django.utils.translation import gettext_lazy  # noqa: PLC0415

    from kam.core.notify import notify  # noqa: PLC0415

    subject = (
        gettext_lazy("Account plan signed off: %(plan)s")
        if review.decision == Review.Decision.APPROVED
        else gettext_lazy("Account plan returned: %(plan)s")
    )
    transaction.on_commit(lambda: notify(
        [plan.owner], kind="planning.plan_reviewed",
        url=reverse("planning:detail", args=[plan.pk]), email=False,
        subject=subject % {"plan": str(plan)}, body=review.comment or subject % {"plan": str(plan)},
    ))  # fmt: skip


# --- analysis items -----------------------------------------------------------------------------


def _check_sources(by: User, plan: AccountPlan, finding: Any, case: Any) -> None:
    """A linked finding or case must be of the plan's account(s) and readable by the user;
    the message names no foreign record."""
    accounts = set(selectors.plan_accounts(plan).values_list("pk", flat=True))
    if finding is not None:
        ok = finding.report.visit.account_id in accounts and selectors.linkable_findings(
            by, plan
        ).filter(pk=finding.pk).exists()  # fmt: skip
        if not ok:
            raise ValidationError(
                {"finding": _("The finding must come from a visit report on this plan's account.")}
            )
    if case is not None:
        ok = case.account_id in accounts and selectors.linkable_cases(by, plan).filter(
            pk=case.pk
        ).exists()  # fmt: skip
        if not ok:
            raise ValidationError(
                {"case": _("The service case must be one of this plan's account.")}
            )


@transaction.atomic
def item_add(
    *, by: User, plan: AccountPlan, kind: str, text: str, finding: Any = None, case: Any = None
) -> PlanItem:
    _editable(by, plan)
    if kind not in PlanItem.Kind.values:
        raise ValidationError({"kind": _("Choose a kind: strength, weakness, opportunity, threat, "
                                         "goal, problem or need.")})  # fmt: skip
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the item.")})
    _check_sources(by, plan, finding, case)
    item = PlanItem(plan=plan, kind=kind, text=text[:1000], finding=finding, case=case)
    item.full_clean()
    _by(item, by)
    item.save()
    return item


@transaction.atomic
def item_update(
    *, by: User, item: PlanItem, kind: str, text: str, finding: Any = None, case: Any = None
) -> PlanItem:
    _editable(by, item.plan)
    if kind not in PlanItem.Kind.values:
        raise ValidationError({"kind": _("Choose a kind: strength, weakness, opportunity, threat, "
                                         "goal, problem or need.")})  # fmt: skip
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the item.")})
    _check_sources(by, item.plan, finding, case)
    item.kind, item.text, item.finding, item.case = kind, text[:1000], finding, case
    item.full_clean()
    _by(item, by)
    item.save()
    return item


@transaction.atomic
def item_delete(*, by: User, item: PlanItem) -> None:
    _editable(by, item.plan)
    _by(item, by)
    item.delete()


# --- objectives ---------------------------------------------------------------------------------


def _clean_objective(
    plan: AccountPlan, metric: str, baseline: Decimal | None, target: Decimal | None,
    target_date: datetime.date | None, today: datetime.date,
) -> None:  # fmt: skip
    if metric not in Metric.values:
        raise ValidationError({"metric": _("Choose what the objective measures.")})
    if baseline is None:
        raise ValidationError({"baseline": _(
            "Give the baseline: where the metric stood when the plan started.")})  # fmt: skip
    if target is None:
        raise ValidationError({"target": _("Give the target.")})
    if target == baseline:
        raise ValidationError({"target": _(
            "The target equals the baseline: nothing would change.")})  # fmt: skip
    if target_date is None:
        raise ValidationError({"target_date": _("Give the date by which the target is met.")})
    if target_date < today:
        raise ValidationError({"target_date": _("The target date %(day)s is in the past.")
                               % {"day": target_date.isoformat()}})  # fmt: skip
    if target_date <= plan.start:
        raise ValidationError({"target_date": _("The target date must be after the plan starts "
                                                "(%(start)s).") % {"start": plan.start.isoformat()}})  # fmt: skip
    if metric in (Metric.ON_TIME,) and not (0 <= target <= 100 and 0 <= baseline <= 100):
        raise ValidationError({"target": _("A rate is between 0 and 100 %.")})
    if metric == Metric.NPS and not (-100 <= target <= 100 and -100 <= baseline <= 100):
        raise ValidationError({"target": _("An NPS is between -100 and 100.")})


@transaction.atomic
def objective_add(
    *,
    by: User,
    plan: AccountPlan,
    metric: str,
    baseline: Decimal | None,
    target: Decimal | None,
    target_date: datetime.date | None,
    title: str = "",
    today: datetime.date | None = None,
) -> Objective:
    _editable(by, plan)
    today = today or timezone.localdate()
    _clean_objective(plan, metric, baseline, target, target_date, today)
    objective = Objective(plan=plan, metric=metric, baseline=baseline, target=target,
                          target_date=target_date, title=(title or "").strip()[:300])  # fmt: skip
    objective.full_clean()
    _by(objective, by)
    objective.save()
    return objective


@transaction.atomic
def objective_update(
    *,
    by: User,
    objective: Objective,
    metric: str,
    baseline: Decimal | None,
    target: Decimal | None,
    target_date: datetime.date | None,
    title: str = "",
    today: datetime.date | None = None,
) -> Objective:
    _editable(by, objective.plan)
    today = today or timezone.localdate()
    _clean_objective(objective.plan, metric, baseline, target, target_date, today)
    objective.metric, objective.baseline, objective.target = metric, baseline, target  # type: ignore[assignment]
    objective.target_date, objective.title = target_date, (title or "").strip()[:300]  # type: ignore[assignment]
    objective.full_clean()
    _by(objective, by)
    objective.save()
    return objective


@transaction.atomic
def objective_delete(*, by: User, objective: Objective) -> None:
    _editable(by, objective.plan)
    _by(objective, by)
    objective.delete()


# --- actions ------------------------------------------------------------------------------------


def _clean_action(plan: AccountPlan, title: str, horizon: int | None,
                  due_date: datetime.date | None) -> str:  # fmt: skip
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Say what is to be done.")})
    if horizon not in Horizon.values:
        raise ValidationError({"horizon": _("Choose 30, 60 or 90 days.")})
    if due_date is None:
        raise ValidationError({"due_date": _("Give the due date.")})
    if due_date < plan.start:
        raise ValidationError({"due_date": _(
            "The action is due on %(due)s, before the plan starts (%(start)s).")
            % {"due": due_date.isoformat(), "start": plan.start.isoformat()}})  # fmt: skip
    return title[:300]


@transaction.atomic
def action_add(
    *,
    by: User,
    plan: AccountPlan,
    title: str,
    horizon: int | None,
    owner: User | None,
    due_date: datetime.date | None,
    resources: str = "",
) -> Action:
    _editable(by, plan)
    title = _clean_action(plan, title, horizon, due_date)
    action = Action(plan=plan, title=title, horizon=horizon, owner=_staff(owner, "owner"),
                    due_date=due_date, resources=(resources or "").strip()[:1000])  # fmt: skip
    action.full_clean()
    _by(action, by)
    action.save()
    return action


@transaction.atomic
def action_update(
    *,
    by: User,
    action: Action,
    title: str,
    horizon: int | None,
    owner: User | None,
    due_date: datetime.date | None,
    resources: str = "",
    status: str | None = None,
) -> Action:
    _editable(by, action.plan)
    title = _clean_action(action.plan, title, horizon, due_date)
    owner = _staff(owner, "owner")
    if action.follow_up_id and (owner.pk != action.owner_id or due_date != action.due_date):
        # The follow-up is what is reminded and escalated: its owner and date are the truth.
        raise ValidationError({"due_date": _(
            "This action is tracked as a follow-up: change its owner and due date there."
        )})  # fmt: skip
    action.title, action.horizon = title, horizon  # type: ignore[assignment]
    action.owner, action.due_date = owner, due_date  # type: ignore[assignment]
    action.resources = (resources or "").strip()[:1000]
    if status is not None and status != action.status:
        if action.follow_up_id:
            raise ValidationError({"status": _(
                "This action is tracked as a follow-up: change its status there.")})  # fmt: skip
        if status not in Action.Status.values:
            raise ValidationError({"status": _("Unknown status.")})
        action.status = status
    action.full_clean()
    _by(action, by)
    action.save()
    return action


@transaction.atomic
def action_delete(*, by: User, action: Action) -> None:
    _editable(by, action.plan)
    if action.follow_up_id:
        raise ApplicationError(_("This action is tracked as a follow-up; cancel the follow-up "
                                 "instead."))  # fmt: skip
    _by(action, by)
    action.delete()


@transaction.atomic
def action_track(*, by: User, action: Action, today: datetime.date | None = None) -> Action:
    """Make the action a coverage follow-up on the plan's account, so that it is tracked,
    reminded and escalated like a visit report's next step; the action then shows the
    follow-up's status. A follow-up belongs to one account: a group plan's actions are
    tracked on the plan itself."""
    action = Action.objects.select_for_update().select_related("plan", "owner").get(pk=action.pk)
    plan = action.plan
    _require(selectors.may_edit(by, plan))
    if action.follow_up_id:
        raise ApplicationError(_("This action is already a follow-up."))
    if plan.account_id is None or plan.account is None:
        raise ApplicationError(_("Only actions of an account's plan can become follow-ups."))
    if action.status not in Action.OPEN_STATUSES:
        raise ApplicationError(_("Only an open action can become a follow-up."))
    from kam.coverage import services as coverage  # noqa: PLC0415

    follow_up = coverage.follow_up_create(
        by=by, account=plan.account, title=action.title, owner=action.owner,
        due_date=action.due_date, today=today,
        origin_label=_("Account plan %(year)s: %(action)s") % {"year": plan.year,
                                                               "action": action.title},
        origin_url=reverse("planning:detail", args=[plan.pk]),
    )  # fmt: skip
    action.follow_up = follow_up
    _by(action, by)
    action.save(update_fields=["follow_up"])
    return action


# --- solutions and opportunities -------------------------------------------------------------


@transaction.atomic
def solution_save(
    *, by: User, solution: Solution | None = None, code: str, name_zh: str, name_en: str,
    description: str = "", active: bool = True, position: int = 0,
) -> Solution:  # fmt: skip
    """Add a solution to the catalogue or change one (directors)."""
    _require(selectors.may_edit_solutions(by))
    code, name_zh, name_en = (code or "").strip(), (name_zh or "").strip(), (name_en or "").strip()
    if not code or not name_zh or not name_en:
        raise ValidationError({"code": _("A solution needs a code and a name in both languages.")})
    clash = Solution.objects.filter(code=code)
    if solution is not None:
        clash = clash.exclude(pk=solution.pk)
    if clash.exists():
        raise ValidationError({"code": _("Another solution has this code.")})
    row = solution or Solution()
    row.code, row.name_zh, row.name_en = code, name_zh, name_en
    row.description, row.active, row.position = description or "", bool(active), int(position)
    row.full_clean()
    _by(row, by)
    row.save()
    return row


def _clean_opportunity(opp: Opportunity) -> None:
    if opp.probability is None or not 0 <= int(opp.probability) <= 100:
        raise ValidationError({"probability": _("The probability is a percentage from 0 to 100.")})
    if opp.annual_revenue is None or opp.annual_revenue < 0:
        raise ValidationError({"annual_revenue": _("The estimated revenue cannot be negative.")})
    if opp.annual_margin is not None and opp.annual_margin > opp.annual_revenue:
        raise ValidationError(
            {"annual_margin": _("The estimated margin cannot exceed the estimated revenue.")}
        )
    if opp.solution_id is None or not Solution.objects.filter(pk=opp.solution_id).exists():
        raise ValidationError({"solution": _("Choose a solution from the catalogue.")})


def _check_finding(by: User, account: Account, finding: Any) -> None:
    if finding is None:
        return
    ok = finding.report.visit.account_id == account.pk and selectors.linkable_account_findings(
        by, account
    ).filter(pk=finding.pk).exists()  # fmt: skip
    if not ok:
        raise ValidationError(
            {"finding": _("The finding must come from a visit report on this account.")}
        )


def _set_influences(by: User, opp: Opportunity, influences: Iterable[tuple[Any, str]]) -> None:
    """Replace the buying influences: contacts of the opportunity's own account only (the
    message names no foreign record)."""
    from kam.accounts.models import BuyingRole, Contact  # noqa: PLC0415

    pairs = list(influences)
    ids = [getattr(c, "pk", c) for c, _role in pairs]
    own = set(
        Contact.objects.filter(pk__in=ids, account_id=opp.account_id).values_list("pk", flat=True)
    )
    for contact_id, role in zip(ids, (r for _c, r in pairs), strict=True):
        if contact_id not in own:
            raise ValidationError(
                {"influences": _("A buying influence must be a contact of this account.")}
            )
        if role not in BuyingRole.values:
            raise ValidationError({"influences": _("Choose a buying role for each contact.")})
    if len(set(ids)) != len(ids):
        raise ValidationError({"influences": _("Each contact is a buying influence once.")})
    kept = {i.contact_id: i for i in opp.influences.all()}
    for contact_id, role in zip(ids, (r for _c, r in pairs), strict=True):
        row = kept.pop(contact_id, None) or BuyingInfluence(opportunity=opp, contact_id=contact_id)
        if row.pk and row.role == role:
            continue
        row.role = role
        _by(row, by)
        row.save()
    for row in kept.values():
        _by(row, by)
        row.delete()


@transaction.atomic
def opportunity_create(
    *, by: User, account: Account, solution: Solution, owner: User, annual_revenue: Decimal,
    probability: int, expected_close: datetime.date, annual_margin: Decimal = Decimal(0),
    title: str = "", decision_criteria: str = "", competitors: str = "", finding: Any = None,
    influences: Iterable[tuple[Any, str]] = (),
) -> Opportunity:  # fmt: skip
    """A new opportunity (identified) for an account the user may plan, optionally from a
    visit-report finding of the same account."""
    _require(selectors.may_edit_opportunity(by, account.pk))
    opp = Opportunity(
        account=account, solution=solution, owner=_staff(owner, "owner"), title=title or "",
        annual_revenue=annual_revenue, annual_margin=annual_margin, probability=probability,
        expected_close=expected_close, decision_criteria=decision_criteria or "",
        competitors=competitors or "", finding=finding, created_by=by,
    )  # fmt: skip
    _clean_opportunity(opp)
    _check_finding(by, account, finding)
    _by(opp, by)
    opp.save()
    _set_influences(by, opp, influences)
    return opp


OPPORTUNITY_FIELDS = ("solution", "owner", "title", "annual_revenue", "annual_margin",
                      "probability", "expected_close", "decision_criteria", "competitors")  # fmt: skip


@transaction.atomic
def opportunity_update(
    *, by: User, opportunity: Opportunity, influences: Iterable[tuple[Any, str]] | None = None,
    **changes: Any,
) -> Opportunity:  # fmt: skip
    """Change an opportunity's figures and texts (not its stage: :func:`opportunity_move`)."""
    _require(selectors.may_edit_opportunity(by, opportunity.account_id))
    opp = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    for name, value in changes.items():
        if name not in OPPORTUNITY_FIELDS:
            raise ValidationError({name: _("This field cannot be changed here.")})
        if name == "owner":
            value = _staff(value, "owner")
        setattr(opp, name, "" if value is None and name in ("title", "decision_criteria",
                                                          "competitors") else value)  # fmt: skip
    _clean_opportunity(opp)
    _by(opp, by)
    opp.save()
    if influences is not None:
        _set_influences(by, opp, influences)
    return opp


def _clean_answers(answers: dict[str, Any] | None) -> dict[str, dict[str, bool]]:
    clean: dict[str, dict[str, bool]] = {}
    for stage, given in (answers or {}).items():
        keys = {k for k, _label in QUALIFIERS.get(stage, ())}
        if not keys or not isinstance(given, dict):
            raise ValidationError({"qualifiers": _("Unknown stage in the qualifiers.")})
        for key, value in given.items():
            if key not in keys or not isinstance(value, bool):
                raise ValidationError(
                    {"qualifiers": _("Answer each stage qualifier with yes or no.")}
                )
        clean[stage] = dict(given)
    return clean


@transaction.atomic
def opportunity_move(
    *, by: User, opportunity: Opportunity, stage: str, answers: dict[str, Any] | None = None,
    reason: str = "", today: datetime.date | None = None,
) -> Opportunity:  # fmt: skip
    """Answer qualifiers and move the opportunity to ``stage``.

    Forward, every qualifier of the stage it leaves must be answered yes; skipping a stage
    needs a reason; won and lost need the reason it was won or lost. Going back to an
    earlier open stage is allowed. A closed opportunity does not move."""
    _require(selectors.may_edit_opportunity(by, opportunity.account_id))
    opp = Opportunity.objects.select_for_update().get(pk=opportunity.pk)
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Choose a stage.")})
    if not opp.is_open:
        raise ApplicationError(_("The opportunity is closed; it no longer moves."))
    reason = (reason or "").strip()
    merged = {s: dict(v) for s, v in (opp.qualifiers or {}).items()}
    for s, given in _clean_answers(answers).items():
        merged.setdefault(s, {}).update(given)
    opp.qualifiers = merged
    here = OPEN_STAGES.index(opp.stage)
    if stage in CLOSED_STAGES:
        if not reason:
            raise ValidationError({"reason": _("Say why the opportunity was won or lost.")})
        if stage == Stage.WON and not opp.answered_yes(opp.stage):
            raise ValidationError({"qualifiers": _(
                "Every qualifier of the current stage must be answered yes before it is won."
            )})  # fmt: skip
        opp.closed_reason = reason
        opp.closed_on = today or timezone.localdate()
        opp.probability = 100 if stage == Stage.WON else 0
    elif stage != opp.stage:
        there = OPEN_STAGES.index(stage)
        if there > here and not opp.answered_yes(opp.stage):
            raise ValidationError({"qualifiers": _(
                "Every qualifier of the current stage must be answered yes to advance."
            )})  # fmt: skip
        if there > here + 1 and not reason:
            raise ValidationError({"reason": _("Say why the opportunity skips a stage.")})
        opp.stage_reason = reason
    opp.stage = stage
    _by(opp, by)
    opp.save()
    return opp
