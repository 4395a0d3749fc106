"""Every write on service cases and SLA policies: opening, the status workflow, pauses,
claims, assignment, and the clock tick that fires warnings and violations.

Each action is atomic and first brings the case's clocks up to date (so a threshold crossed
before the action is on the timeline before it), then changes the state and records it.
"""

import datetime
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kam.accounts.models import Account, Contact, TeamMembership, TeamRole
from kam.accounts.selectors import account_list_for
from kam.core import access
from kam.core.calendar import notify_unconfirmed_years, unconfirmed_years, working_calendar
from kam.core.errors import ApplicationError, ConflictError, PermissionDeniedError
from kam.core.models import Role, User
from kam.core.notify import notify
from kam.core.workcal import WorkingCalendar

from . import clock as clk
from .models import (
    OPEN_STATUSES,
    Action,
    AssignmentTurn,
    Case,
    CaseEvent,
    CasePause,
    CaseType,
    Claim,
    RootCause,
    SlaPolicy,
    Status,
)

WAYBILL_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,39}$")
MAX_WAYBILLS = 50
CLOCK_SPAN = (datetime.date(2020, 1, 1), datetime.date(2035, 12, 31))

# --- who may do what ----------------------------------------------------------------------------


def may_work_cases(user: User) -> bool:
    """Open and work on cases: everyone on accounts except analysts and administrators."""
    return access.is_active_user(user) and user.role in {
        Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER, Role.SERVICE,
    }  # fmt: skip


def may_manage_service(user: User) -> bool:
    """SLA policies, bulk assignment, survey campaigns: the department and directors."""
    return access.is_active_user(user) and user.role in {Role.DIRECTOR, Role.DEPARTMENT}


def _require_worker(user: User, case: Case | None = None, account: Account | None = None) -> None:
    if not may_work_cases(user):
        raise PermissionDeniedError(_("You may not work on service cases."))
    target = account or (case.account if case else None)
    if target is not None and not account_list_for(user).filter(pk=target.pk).exists():
        raise PermissionDeniedError(_("You may not work on this account's cases."))


# --- clocks --------------------------------------------------------------------------------------

_CLOCKS: dict[tuple[int, str, int, int], clk.Clock] = {}


def clock_for(case: Case, calendar: WorkingCalendar) -> clk.Clock:
    """The case's clock, cached per calendar content and business hours (building one
    walks the calendar's days; a few hundred exceptions hash in microseconds)."""
    calendar_hours = case.clock == SlaPolicy.ClockKind.CALENDAR
    key = (hash(frozenset(calendar.exceptions.items())), case.clock, case.day_start, case.day_end)
    found = _CLOCKS.get(key)
    if found is None:
        if len(_CLOCKS) > 32:
            _CLOCKS.clear()
        found = clk.Clock(
            calendar.is_working, start=case.day_start, end=case.day_end,
            calendar_hours=calendar_hours, first=CLOCK_SPAN[0], last=CLOCK_SPAN[1],
        )  # fmt: skip
        _CLOCKS[key] = found
    return found


def segments(case: Case, which: str) -> list[clk.Segment]:
    """The running segments of the first-response or resolution clock."""
    stop = case.acknowledged_at if which == CaseEvent.Clock.RESPONSE else case.resolved_at
    out: list[clk.Segment] = []
    start = clk.to_minute(case.opened_at)
    for pause in case.pauses.all():
        p_start = clk.to_minute(pause.started_at)
        out.append((start, p_start))
        if pause.ended_at is None:
            start = -1
            break
        start = clk.to_minute(pause.ended_at)
    if start >= 0:
        out.append((start, None))
    if stop is not None:
        end = clk.to_minute(stop)
        out = [(s, end if e is None else min(e, end)) for s, e in out if s < end]
    return [(s, e) for s, e in out if e is None or e > s]


def _target(case: Case, which: str) -> int | None:
    return case.response_target if which == CaseEvent.Clock.RESPONSE else case.resolution_target


def clock_figures(case: Case, calendar: WorkingCalendar, now: datetime.datetime) -> dict[str, Any]:
    """Elapsed minutes, due instant and share used of both clocks, for pages and the API."""
    out: dict[str, Any] = {}
    if not case.clock:
        return out
    c = clock_for(case, calendar)
    at = clk.to_minute(now)
    for which in (CaseEvent.Clock.RESPONSE, CaseEvent.Clock.RESOLUTION):
        target = _target(case, which)
        if not target:
            continue
        segs = segments(case, which)
        used = clk.elapsed(c, segs, at)
        due = clk.due(c, segs, target)
        running = bool(segs) and segs[-1][1] is None
        out[which] = {
            "target": target,
            "used": used,
            "left": target - used,
            "percent": round(100 * used / target),
            "due": clk.from_minute(due) if due is not None else None,
            "running": running,
        }
    return out


def clock_unconfirmed_years(case: Case, figures: dict[str, Any], calendar: WorkingCalendar,
                            now: datetime.datetime) -> list[int]:  # fmt: skip
    """The years a business-hours clock of ``case`` runs through (opening to its due times,
    or to now / its end) whose official holidays have not been entered: there the clock
    counts public holidays as working days. Calendar-hours clocks know no holidays."""
    if case.clock != SlaPolicy.ClockKind.BUSINESS or not figures:
        return []
    end = case.closed_at or case.resolved_at or now
    instants = [case.opened_at, end, *(f["due"] for f in figures.values() if f.get("due"))]
    days = [timezone.localtime(t).date() for t in instants]
    return unconfirmed_years(min(days), max(days), calendar)


CLOCK_NOTICE = gettext_lazy(
    "An SLA clock of an open service case runs into a year whose holidays are not entered."
)


def _refresh_dues(case: Case, calendar: WorkingCalendar) -> None:
    """Keep ``response_due`` / ``resolution_due`` (queue sorting) in step with the clock;
    ``None`` while the clock stands still short of its target."""
    if not case.clock:
        return
    c = clock_for(case, calendar)
    for which, attr in ((CaseEvent.Clock.RESPONSE, "response_due"),
                        (CaseEvent.Clock.RESOLUTION, "resolution_due")):  # fmt: skip
        target = _target(case, which)
        due = clk.due(c, segments(case, which), target) if target else None
        setattr(case, attr, clk.from_minute(due) if due is not None else None)


def _recipients(case: Case, actions: Iterable[str]) -> list[User]:
    people: list[User | None] = []
    for action in actions:
        if action == Action.NOTIFY_ASSIGNEE:
            people.append(case.assignee)
        elif action == Action.NOTIFY_MANAGER:
            people.append(case.assignee.manager)
        elif action == Action.NOTIFY_OWNER:
            people.append(account_owner(case.account))
        elif action == Action.NOTIFY_DEPARTMENT:
            people.extend(User.objects.filter(role=Role.DEPARTMENT, is_active=True))
    return [p for p in people if p is not None]


def account_owner(account: Account) -> User | None:
    row = (
        TeamMembership.objects.filter(account=account, role=TeamRole.OWNER)
        .select_related("user")
        .first()
    )
    return row.user if row else None


def case_url(case: Case) -> str:
    return reverse("service:case_detail", args=[case.pk])


def _fire(case: Case, which: str, share: int, at: datetime.datetime) -> bool:
    """Record one threshold crossing and run its actions; False if it had fired already."""
    violation = share >= 100
    kind = CaseEvent.Kind.VIOLATION if violation else CaseEvent.Kind.WARNING
    if CaseEvent.objects.filter(case=case, clock=which, share=share,
                                kind__in=[CaseEvent.Kind.WARNING, CaseEvent.Kind.VIOLATION]).exists():  # fmt: skip
        return False
    CaseEvent.objects.create(case=case, at=at, kind=kind, clock=which, share=share)
    policy = case.policy
    actions = list((policy.violation_actions if violation else policy.warning_actions) if policy else
                   ([Action.NOTIFY_ASSIGNEE, Action.NOTIFY_MANAGER] if violation else
                    [Action.NOTIFY_ASSIGNEE]))  # fmt: skip
    with translation.override(settings.LANGUAGE_CODE):
        clock_name = str(CaseEvent.Clock(which).label)
        if violation:
            subject = _("SLA violated: %(case)s %(subject)s (%(clock)s)")
        else:
            subject = _("SLA warning %(share)s%%: %(case)s %(subject)s (%(clock)s)")
        subject = subject % {"case": case.number, "subject": case.subject, "clock": clock_name,
                             "share": share}  # fmt: skip
        body = _("Account: %(account)s. Assignee: %(assignee)s.") % {
            "account": case.account.name, "assignee": case.assignee,
        }  # fmt: skip
    people = _recipients(case, actions)
    if people:
        notify(people, subject=subject, body=body, url=case_url(case), kind="service.sla")
        CaseEvent.objects.create(
            case=case, at=at, kind=CaseEvent.Kind.NOTIFIED, clock=which,
            text=", ".join(sorted({str(p) for p in people})),
            data={"users": sorted({p.pk for p in people})},
        )  # fmt: skip
    if violation and Action.REASSIGN in actions:
        target = (policy.reassign_to if policy else None) or case.assignee.manager
        if target is not None and target.is_active and target.pk != case.assignee_id:
            _assign(case, target, by=None, at=at, reason=_("re-assigned by the SLA policy"))
    return True


def clocks_advance(case: Case, *, now: datetime.datetime,
                   calendar: WorkingCalendar | None = None) -> int:  # fmt: skip
    """Fire every threshold crossed up to ``now`` (each once, at the instant it was crossed)
    and refresh the due times and state. Returns how many thresholds fired."""
    if not case.clock:
        return 0
    calendar = calendar or working_calendar()
    c = clock_for(case, calendar)
    at = clk.to_minute(now)
    fired = 0
    shares = sorted({int(s) for s in case.warning_shares if 0 < int(s) < 100}) + [100]
    for which in (CaseEvent.Clock.RESPONSE, CaseEvent.Clock.RESOLUTION):
        target = _target(case, which)
        if not target:
            continue
        segs = segments(case, which)
        for share in shares:
            due = clk.due(c, segs, -(-target * share // 100))
            if due is None or due > at:
                break
            fired += _fire(case, which, share, clk.from_minute(due))
    _refresh_dues(case, calendar)
    kinds = set(case.events.filter(kind__in=[CaseEvent.Kind.WARNING, CaseEvent.Kind.VIOLATION])
                .values_list("kind", flat=True))  # fmt: skip
    case.sla_state = ("violated" if CaseEvent.Kind.VIOLATION in kinds else
                      "warning" if CaseEvent.Kind.WARNING in kinds else "ok")  # fmt: skip
    case.save(update_fields=["response_due", "resolution_due", "sla_state", "assignee"])
    return fired


def clocks_tick(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Advance every open case's clocks (what the scheduler runs: `kam service tick`)."""
    now = now or timezone.now()
    calendar = working_calendar()
    cases = fired = 0
    unknown: set[int] = set()
    for pk in Case.objects.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True):
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related(
                "account", "assignee", "assignee__manager", "policy").get(pk=pk)  # fmt: skip
            fired += clocks_advance(case, now=now, calendar=calendar)
            unknown.update(clock_unconfirmed_years(
                case, clock_figures(case, calendar, now), calendar, now))  # fmt: skip
            cases += 1
    notices = notify_unconfirmed_years(sorted(unknown), where=CLOCK_NOTICE) if unknown else 0
    return {"cases": cases, "fired": fired, "calendar_notices": notices}


# --- policies ------------------------------------------------------------------------------------


def _policy_check(policy: SlaPolicy) -> None:
    errors: dict[str, Any] = {}
    shares = policy.warning_shares
    if not isinstance(shares, list) or not all(isinstance(s, int) for s in shares):
        errors["warning_shares"] = _("Give the warnings as whole percentages, e.g. 50, 80.")
    elif any(s >= 100 for s in shares):
        errors["warning_shares"] = _(
            "A warning must come before the violation: below 100 percent of the target."
        )
    elif any(s <= 0 for s in shares) or len(set(shares)) != len(shares):
        errors["warning_shares"] = _("Warnings are distinct percentages between 1 and 99.")
    valid = {a.value for a in Action}
    for field in ("warning_actions", "violation_actions"):
        if any(a not in valid for a in getattr(policy, field)):
            errors[field] = _("Unknown action.")
    if Action.REASSIGN in policy.warning_actions:
        errors["warning_actions"] = _("Re-assigning is a violation action.")
    if policy.clock == SlaPolicy.ClockKind.BUSINESS and policy.day_start >= policy.day_end:
        errors["day_end"] = _("The business day must end after it starts.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def policy_save(*, by: User, policy: SlaPolicy) -> SlaPolicy:
    if not may_manage_service(by):
        raise PermissionDeniedError(_("Only the key-account department sets SLA policies."))
    policy.warning_shares = sorted(policy.warning_shares) if isinstance(policy.warning_shares, list) and all(isinstance(s, int) for s in policy.warning_shares) else policy.warning_shares  # fmt: skip
    _policy_check(policy)
    policy.full_clean()
    clash = SlaPolicy.objects.filter(tier=policy.tier, severity=policy.severity, active=True)
    if policy.active and clash.exclude(pk=policy.pk).exists():
        raise ValidationError(
            {"severity": _("An active policy already covers this tier and severity.")}
        )
    policy.save()
    return policy


def policy_for(account: Account, severity: str) -> SlaPolicy | None:
    """The active policy of the account's tier and the severity, else the any-tier one."""
    rows = {p.tier: p for p in SlaPolicy.objects.filter(severity=severity, active=True)}
    return rows.get(account.tier) or rows.get(None)


# --- opening ----------------------------------------------------------------------------------


def waybills_clean(account: Account, raw: Iterable[str]) -> list[str]:
    """Normalise waybill numbers and check them against the ledger where it has data:
    each must be in the lake and billed to one of this account's billing codes."""
    numbers: list[str] = []
    for item in raw:
        for part in re.split(r"[\s,，;；、]+", item or ""):
            number = part.strip().upper()
            if number and number not in numbers:
                numbers.append(number)
    bad = [n for n in numbers if not WAYBILL_RE.match(n)]
    if bad:
        raise ValidationError(
            {"waybills": _("Not a waybill number: %(n)s") % {"n": ", ".join(bad)}}
        )
    if len(numbers) > MAX_WAYBILLS:
        raise ValidationError(
            {"waybills": _("At most %(n)s waybills per case.") % {"n": MAX_WAYBILLS}}
        )
    if numbers:
        found = ledger_waybills(numbers)
        if found is not None:
            codes = set(account.billing_codes.values_list("code", flat=True))
            missing = [n for n in numbers if n not in found]
            foreign = [n for n in numbers if n in found and found[n] not in codes]
            if missing:
                raise ValidationError({"waybills": _("Not in the shipment ledger: %(n)s")
                                       % {"n": ", ".join(missing)}})  # fmt: skip
            if foreign:
                raise ValidationError({"waybills": _("Billed to another account: %(n)s")
                                       % {"n": ", ".join(foreign)}})  # fmt: skip
    return numbers


def ledger_waybills(numbers: Sequence[str]) -> dict[str, str] | None:
    """Waybill number -> billing code for those of ``numbers`` in the lake; ``None`` when
    the ledger holds no waybills at all (then nothing can be checked)."""
    from kam.ledger import facts, lake  # read-only: the ledger's own lake reader
    from kam.ledger.models import LakeFile

    files = list(LakeFile.objects.values_list("path", flat=True))
    if not files:
        return None
    con = lake.connect()
    try:
        facts.define_waybills_view(con, files)
        rows = con.execute(
            "SELECT waybill_no, billing_code FROM waybills WHERE waybill_no IN (SELECT unnest(?))",
            [list(numbers)],
        ).fetchall()
    finally:
        con.close()
    return {str(n): str(c) for n, c in rows}


def _contacts_clean(account: Account, contacts: Iterable[Contact]) -> list[Contact]:
    contacts = list(contacts)
    if any(c.account_id != account.pk for c in contacts):
        raise ValidationError({"contacts": _("Only this account's contacts can be involved.")})
    return contacts


def _assignee_clean(account: Account, assignee: User) -> None:
    """Cases go to people whose role works on cases and who see the account: directors and
    the department, or a manager or service rep on the account's team."""
    if not may_work_cases(assignee):
        raise ValidationError({"assignee": _(
            "%(user)s cannot take service cases: cases go to directors, the key-account "
            "department, account managers and service reps.") % {"user": assignee}})  # fmt: skip
    if not account_list_for(assignee).filter(pk=account.pk).exists():
        raise ValidationError({"assignee": _(
            "%(user)s is not on this account's team: put them on the team first (account "
            "page, Team), or choose someone on it.") % {"user": assignee}})  # fmt: skip


SERVICE_ROTATION = "service"


def account_service_reps(account: Account) -> list[User]:
    """The account's service reps who can take cases, in the order they joined the team."""
    rows = (
        TeamMembership.objects.filter(account=account, role=TeamRole.SERVICE_REP,
                                      user__is_active=True)
        .select_related("user").order_by("created_at", "pk")
    )  # fmt: skip
    return [m.user for m in rows if may_work_cases(m.user)]


def _next_in_rotation() -> User | None:
    """The service team's next person in turn (active service reps by id, after the one
    who had the last turn; wrapping). The rotation's row is locked until the transaction
    ends, so concurrent openings take successive turns."""
    team = list(User.objects.filter(role=Role.SERVICE, is_active=True).order_by("pk"))
    if not team:
        return None
    AssignmentTurn.objects.get_or_create(name=SERVICE_ROTATION)
    turn = AssignmentTurn.objects.select_for_update().get(name=SERVICE_ROTATION)
    # Taking the write lock now (SQLite serialises writers; PostgreSQL has the row lock).
    AssignmentTurn.objects.filter(pk=turn.pk).update(turns=turn.turns + 1)
    last = turn.last_user_id or 0
    chosen = next((u for u in team if u.pk > last), team[0])
    AssignmentTurn.objects.filter(pk=turn.pk).update(last_user=chosen)
    return chosen


#: Why a case went to its first assignee (``CaseEvent.data["rule"]``), and the words for it.
ASSIGN_RULES = {
    "service_rep": gettext_lazy("the account's service rep"),
    "rotation": gettext_lazy("next in turn in the service team"),
    "owner": gettext_lazy("the account's owner (no service rep in the team)"),
}


def assignee_by_rule(account: Account) -> tuple[User | None, str]:
    """Who a new case of ``account`` goes to, and the rule's key (:data:`ASSIGN_RULES`):
    the account's service rep; else the
    service team's next in turn, who joins the account's team as its service rep (so the
    account's next cases go to the same person); else the account's owner. Call inside a
    transaction (the rotation's turn is taken for good)."""
    from kam.accounts.services import team_member_add  # noqa: PLC0415 - write on the team

    reps = account_service_reps(account)
    if reps:
        return reps[0], "service_rep"
    chosen = _next_in_rotation()
    if chosen is not None:
        if not TeamMembership.objects.filter(account=account, user=chosen).exists():
            team_member_add(by=None, account=account, user=chosen, role=TeamRole.SERVICE_REP)
        return chosen, "rotation"
    owner = account_owner(account)
    if owner is not None and may_work_cases(owner):
        return owner, "owner"
    return None, ""


@transaction.atomic
def case_open(
    *,
    by: User | None,
    account: Account,
    kind: str,
    channel: str,
    severity: str,
    subject: str,
    description: str = "",
    waybills: Iterable[str] = (),
    contacts: Iterable[Contact] = (),
    assignee: User | None = None,
    claim_amount: Decimal | None = None,
    now: datetime.datetime | None = None,
) -> Case:
    """Open a case on ``account`` under the SLA policy of its tier and the severity."""
    if by is not None:
        _require_worker(by, account=account)
    now = now or timezone.now()
    rule = ""
    if assignee is None:
        assignee, rule = assignee_by_rule(account)
    assignee = assignee or by
    if assignee is None:
        raise ValidationError({"assignee": _("Choose who handles the case.")})
    _assignee_clean(account, assignee)
    if kind == CaseType.CLAIM and not claim_amount:
        raise ValidationError({"claim_amount": _("A claim needs the amount claimed.")})
    if kind != CaseType.CLAIM:
        claim_amount = None
    case = Case(
        account=account, kind=kind, channel=channel, severity=severity, subject=subject.strip(),
        description=description, assignee=assignee, claim_amount=claim_amount, opened_at=now,
        created_by=by,
    )  # fmt: skip
    case.waybills = waybills_clean(account, waybills)
    contact_list = _contacts_clean(account, contacts)
    policy = policy_for(account, severity)
    if policy is not None:
        case.policy = policy
        case.clock = policy.clock
        case.day_start = policy.day_start.hour * 60 + policy.day_start.minute
        case.day_end = policy.day_end.hour * 60 + policy.day_end.minute
        case.response_target = policy.response_minutes
        case.resolution_target = policy.resolution_minutes
        case.warning_shares = list(policy.warning_shares)
    case.full_clean(exclude=["contacts"])
    case.save()
    case.contacts.set(contact_list)
    if claim_amount:
        Claim.objects.create(case=case, amount=claim_amount)
    text = policy.name if policy else _("no SLA policy covers this tier and severity")
    _event(case, CaseEvent.Kind.OPENED, by, now, text)
    if rule:
        with translation.override(settings.LANGUAGE_CODE):
            why = str(ASSIGN_RULES[rule])
        _event(case, CaseEvent.Kind.ASSIGNED, None, now, f"→ {assignee} ({why})",
               to_user=assignee.pk, rule=rule)  # fmt: skip
    calendar = working_calendar()
    _refresh_dues(case, calendar)
    case.save(update_fields=["response_due", "resolution_due"])
    years = clock_unconfirmed_years(case, clock_figures(case, calendar, now), calendar, now)
    if years:
        notify_unconfirmed_years(years, where=CLOCK_NOTICE)
    if assignee != by:
        with translation.override(settings.LANGUAGE_CODE):
            subject_text = _("New case for you: %(case)s %(subject)s") % {
                "case": case.number, "subject": case.subject}  # fmt: skip
        notify([assignee], subject=subject_text, url=case_url(case), kind="service.assigned")
    return case


def _event(case: Case, kind: str, by: User | None, at: datetime.datetime, text: str = "",
           **data: Any) -> CaseEvent:  # fmt: skip
    return CaseEvent.objects.create(case=case, kind=kind, actor=by, at=at, text=str(text)[:500],
                                    data=data)  # fmt: skip


def _assign(case: Case, assignee: User, *, by: User | None, at: datetime.datetime,
            reason: str = "") -> None:  # fmt: skip
    before = case.assignee
    case.assignee = assignee
    case.save(update_fields=["assignee"])
    _event(case, CaseEvent.Kind.ASSIGNED, by, at, f"{before} → {assignee}" + (f" ({reason})" if reason else ""),
           from_user=before.pk, to_user=assignee.pk)  # fmt: skip
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Case assigned to you: %(case)s %(subject)s") % {
            "case": case.number, "subject": case.subject}  # fmt: skip
    notify([assignee], subject=subject, url=case_url(case), kind="service.assigned")


# --- the workflow -------------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[set[str], str]] = {
    "acknowledge": ({Status.NEW, Status.REOPENED}, Status.ACKNOWLEDGED),
    "start": ({Status.NEW, Status.ACKNOWLEDGED, Status.REOPENED}, Status.IN_PROGRESS),
    "wait": (
        {Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED},
        Status.WAITING,
    ),
    "resume": ({Status.WAITING}, Status.IN_PROGRESS),
    "resolve": (set(OPEN_STATUSES), Status.RESOLVED),
    "close": ({Status.RESOLVED}, Status.CLOSED),
    "reopen": ({Status.RESOLVED, Status.CLOSED}, Status.REOPENED),
}


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related(
        "account", "assignee", "assignee__manager", "policy").get(pk=case.pk)  # fmt: skip


@transaction.atomic
def case_transition(
    *,
    by: User,
    case: Case,
    action: str,
    note: str = "",
    root_cause: RootCause | None = None,
    now: datetime.datetime | None = None,
    version: int | None = None,
) -> Case:
    """Move a case through its workflow. ``note`` is the resolution note (``resolve``) or
    the reason (other actions)."""
    if action not in TRANSITIONS:
        raise ValidationError({"action": _("Unknown action.")})
    case = _locked(case)
    _require_worker(by, case=case)
    if version is not None and version != case.version:
        raise ConflictError(_("Someone else changed this case meanwhile; reload and try again."))
    allowed, target = TRANSITIONS[action]
    if case.status not in allowed:
        raise ApplicationError(
            _("A case that is “%(status)s” cannot be moved this way.")
            % {"status": case.get_status_display()}, field="action",
        )  # fmt: skip
    now = now or timezone.now()
    calendar = working_calendar()
    clocks_advance(case, now=now, calendar=calendar)  # thresholds crossed before this action
    note = (note or "").strip()
    if action == "resolve":
        errors = {}
        if not note:
            errors["resolution_note"] = _("Write what was done before resolving the case.")
        if root_cause is None and case.kind == CaseType.COMPLAINT:
            errors["root_cause"] = _("Choose the root cause of the complaint.")
        if errors:
            raise ValidationError(errors)
    if action == "close" and case.claims.filter(status=Claim.ClaimStatus.OPEN).exists():
        raise ApplicationError(
            _("The case has an open claim: pay or reject it before closing the case."),
            field="claims",
        )
    before = case.status
    if case.acknowledged_at is None and action in {"acknowledge", "start", "wait", "resolve"}:
        case.acknowledged_at = now
        if case.response_target:
            used = clk.elapsed(
                clock_for(case, calendar), segments(case, "response"), clk.to_minute(now)
            )
            case.response_minutes = used
            case.response_met = used <= case.response_target
    open_pause = case.pauses.filter(ended_at__isnull=True).first()
    if action == "wait":
        CasePause.objects.create(case=case, started_at=now)
        case.paused_at = now
        _event(case, CaseEvent.Kind.PAUSED, by, now, note)
    elif open_pause is not None and action in {"resume", "resolve"}:
        open_pause.ended_at = now
        open_pause.save(update_fields=["ended_at"])
        case.paused_at = None
        _event(case, CaseEvent.Kind.RESUMED, by, now, note if action == "resume" else "")
    if action == "resolve":
        case.resolution_note = note
        case.root_cause = root_cause
        case.resolved_at = now
        if case.resolution_target:
            used = clk.elapsed(clock_for(case, calendar), segments(case, "resolution"),
                               clk.to_minute(now))  # fmt: skip
            case.resolution_minutes = used
            case.resolution_met = used <= case.resolution_target
    elif action == "close":
        case.closed_at = now
    elif action == "reopen":
        # The time between resolving and reopening does not count; the clock runs on.
        CasePause.objects.create(case=case, started_at=case.resolved_at or now, ended_at=now)
        case.resolved_at = None
        case.closed_at = None
        case.resolution_minutes = None
        case.resolution_met = None
    case.status = target
    case.version += 1
    case.full_clean(exclude=["contacts"])
    case.save()
    _event(case, CaseEvent.Kind.STATUS, by, now, note if action not in {"wait", "resume"} else "",
           action=action, before=before, after=target)  # fmt: skip
    case = _locked(case)
    clocks_advance(case, now=now, calendar=calendar)
    return case


def may_reassign(user: User, case: Case) -> bool:
    """Directors, the department, the case's assignee and the account's owner re-assign."""
    if not may_work_cases(user):
        return False
    if user.role in {Role.DIRECTOR, Role.DEPARTMENT} or case.assignee_id == user.pk:
        return True
    return TeamMembership.objects.filter(
        account_id=case.account_id, user=user, role=TeamRole.OWNER
    ).exists()


@transaction.atomic
def case_assign(*, by: User, case: Case, assignee: User, reason: str = "",
                now: datetime.datetime | None = None) -> Case:  # fmt: skip
    """Hand a case to someone else: recorded on the timeline (from, to, who, why) and
    notified to the new assignee."""
    case = _locked(case)
    _require_worker(by, case=case)
    if not may_reassign(by, case):
        raise PermissionDeniedError(
            _("Only the assignee, the account's owner or the department re-assigns a case.")
        )
    if not case.is_open:
        raise ApplicationError(_("Only open cases are assigned."))
    _assignee_clean(case.account, assignee)
    if assignee.pk != case.assignee_id:
        _assign(
            case, assignee, by=by, at=now or timezone.now(), reason=(reason or "").strip()[:200]
        )
    return case


@transaction.atomic
def cases_bulk_assign(*, by: User, cases: Sequence[Case], assignee: User) -> int:
    """Assign several cases at once; all or none (a refusal names the case)."""
    if not may_manage_service(by):
        raise PermissionDeniedError(_("Only the key-account department assigns in bulk."))
    done = 0
    for case in cases:
        try:
            case_assign(by=by, case=case, assignee=assignee)
        except (ValidationError, ApplicationError) as exc:
            message = getattr(exc, "message", None) or "; ".join(
                m for ms in getattr(exc, "message_dict", {}).values() for m in ms)  # fmt: skip
            raise ApplicationError(f"{case.number}: {message}") from exc
        done += 1
    return done


@transaction.atomic
def claim_add(*, by: User, case: Case, amount: Decimal) -> Claim:
    case = _locked(case)
    _require_worker(by, case=case)
    claim = Claim(case=case, amount=amount)
    claim.full_clean()
    claim.save()
    _event(case, CaseEvent.Kind.CLAIM, by, timezone.now(), f"+ {amount}", claim=claim.pk)
    return claim


@transaction.atomic
def claim_decide(*, by: User, claim: Claim, status: str) -> Claim:
    case = _locked(claim.case)
    _require_worker(by, case=case)
    claim = Claim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != Claim.ClaimStatus.OPEN:
        raise ApplicationError(_("This claim has been decided already."))
    if status not in {Claim.ClaimStatus.PAID, Claim.ClaimStatus.REJECTED}:
        raise ValidationError({"status": _("A claim is paid or rejected.")})
    claim.status = status
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_at"])
    _event(case, CaseEvent.Kind.CLAIM, by, claim.decided_at,
           f"{claim.amount}: {claim.get_status_display()}", claim=claim.pk)  # fmt: skip
    return claim


@transaction.atomic
def case_note(*, by: User, case: Case, text: str) -> CaseEvent:
    _require_worker(by, case=case)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write a note.")})
    return _event(case, CaseEvent.Kind.NOTE, by, timezone.now(), text)
