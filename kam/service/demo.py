"""Demo data of the service app: SLA policies, root causes, cases in every state (some
near or over their SLA, so the queue shows colours), a survey template and two answered
campaigns (a trend), with a low score that opened a follow-up case.

SLA clocks run in real time, so the cases are placed relative to the moment the demo is
loaded (open cases must be open *now*); ``as_of`` only seeds nothing here. Everything goes
through the services (the timeline shows what the clock did), with e-mail kept in memory.
"""

import datetime
import random
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.core.calendar import working_calendar
from kam.core.models import Notification, Role, User

from . import services, surveys
from .models import (
    Action,
    AssignmentTurn,
    Campaign,
    Case,
    CaseType,
    Channel,
    Invitation,
    Response,
    RootCause,
    Severity,
    SlaPolicy,
    SurveyTemplate,
)

ROOT_CAUSES = [
    ("delay", "运输延误", "Transit delay"),
    ("damage", "货物破损", "Damaged goods"),
    ("loss", "货物丢失", "Lost goods"),
    ("missort", "错分错派", "Mis-sorted or mis-delivered"),
    ("pickup", "揽收不及时", "Late pick-up"),
    ("billing", "账单错误", "Billing error"),
    ("attitude", "服务态度", "Staff attitude"),
    ("system", "系统故障", "System fault"),
    ("customer", "客户原因", "On the customer's side"),
    ("other", "其他", "Other"),
]
ALL_NOTIFY = [Action.NOTIFY_ASSIGNEE, Action.NOTIFY_MANAGER, Action.NOTIFY_OWNER,
              Action.NOTIFY_DEPARTMENT]  # fmt: skip
# (tier, severity, clock, response hours, resolution hours, re-assign on violation)
POLICIES = [
    (1, Severity.CRITICAL, "calendar", 1, 8, True),
    (1, Severity.HIGH, "business", 2, 9, False),
    (1, Severity.MEDIUM, "business", 4, 18, False),
    (1, Severity.LOW, "business", 8, 36, False),
    (None, Severity.CRITICAL, "business", 2, 9, True),
    (None, Severity.HIGH, "business", 4, 18, False),
    (None, Severity.MEDIUM, "business", 8, 27, False),
    (None, Severity.LOW, "business", 16, 45, False),
]
SUBJECTS = {
    CaseType.COMPLAINT: ["整批货物延误两天未送达", "外包装破损，内件受损", "派送员未按约定时间上门",
                         "签收记录与实际不符", "揽收多次爽约", "月结账单金额与运单不符"],
    CaseType.INQUIRY: ["查询冷链件实时温度记录", "查询本月运费明细", "咨询国际件清关资料",
                       "查询退货件轨迹"],
    CaseType.REQUEST: ["申请增加每日揽收频次", "申请开通电子回单", "申请调整月结对账周期",
                       "申请仓库驻点人员"],
    CaseType.CLAIM: ["高值件丢失理赔", "生鲜件延误变质理赔", "破损商品理赔"],
}  # fmt: skip


def _policies(users: dict[str, User]) -> None:
    for tier, severity, clock, resp, res, reassign in POLICIES:
        if SlaPolicy.objects.filter(tier=tier, severity=severity, active=True).exists():
            continue
        SlaPolicy.objects.create(
            name=f"{'1级' if tier else '通用'} · {Severity(severity).label}",
            tier=tier, severity=severity, clock=clock, response_minutes=resp * 60,
            resolution_minutes=res * 60, warning_shares=[50, 80],
            warning_actions=[Action.NOTIFY_ASSIGNEE],
            violation_actions=[*ALL_NOTIFY, *([Action.REASSIGN] if reassign else [])],
            reassign_to=users.get("dept1") if reassign else None,
        )  # fmt: skip


def _root_causes() -> None:
    for i, (code, zh, en) in enumerate(ROOT_CAUSES):
        RootCause.objects.get_or_create(code=code, defaults={"name_zh": zh, "name_en": en,
                                                              "position": (i + 1) * 10})  # fmt: skip


def _back(calendar: Any, now: datetime.datetime, hours: float) -> datetime.datetime:
    """``hours`` of business time (09:00-18:00 on working days) before ``now``."""
    t = timezone.localtime(now)
    left = hours * 60
    while left > 0:
        day_start = t.replace(hour=9, minute=0, second=0, microsecond=0)
        day_end = t.replace(hour=18, minute=0, second=0, microsecond=0)
        if not calendar.is_working(t.date()) or t <= day_start:
            t = (t - datetime.timedelta(days=1)).replace(hour=18, minute=0, second=0, microsecond=0)
            continue
        t = min(t, day_end)
        step = min(left, (t - day_start).total_seconds() / 60)
        t -= datetime.timedelta(minutes=step)
        left -= step
    return t


def _open(rng: random.Random, account: Account, worker: User, at: datetime.datetime,
          kind: str | None = None, severity: str | None = None) -> Case:  # fmt: skip
    kind = kind or rng.choice(
        [CaseType.COMPLAINT] * 3 + [CaseType.INQUIRY, CaseType.REQUEST, CaseType.CLAIM]
    )
    severity = severity or rng.choice([Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM, Severity.LOW,
                                       Severity.CRITICAL])  # fmt: skip
    contacts = list(account.contacts.all()[:2])
    return services.case_open(
        by=worker, account=account, kind=kind, severity=severity,
        channel=rng.choice([Channel.PHONE, Channel.WECHAT, Channel.EMAIL, Channel.VISIT]),
        subject=rng.choice(SUBJECTS[kind]), description="客户来电反映问题，需尽快跟进处理。",
        contacts=contacts[: rng.randint(0, len(contacts))],  # assigned by rule
        claim_amount=Decimal(rng.randrange(200, 20000)) if kind == CaseType.CLAIM else None, now=at,
    )  # fmt: skip


def _worked(rng: random.Random, case: Case, worker: User, at: datetime.datetime,
            causes: list[RootCause], *, close: bool) -> None:  # fmt: skip
    """A past case, acknowledged, maybe paused, resolved and maybe closed."""
    t = at + datetime.timedelta(minutes=rng.randint(10, 300))
    case = services.case_transition(by=worker, case=case, action="acknowledge", now=t)
    if rng.random() < 0.3:
        t += datetime.timedelta(hours=rng.randint(1, 20))
        case = services.case_transition(by=worker, case=case, action="wait", now=t)
        t += datetime.timedelta(hours=rng.randint(2, 30))
        case = services.case_transition(by=worker, case=case, action="resume", now=t)
    t += datetime.timedelta(hours=rng.choice([2, 4, 8, 16, 30, 60]))
    case = services.case_transition(by=worker, case=case, action="resolve", now=t,
                                    note="已核实原因并与客户确认处理方案，客户表示认可。",
                                    root_cause=rng.choice(causes))  # fmt: skip
    for claim in case.claims.all():
        services.claim_decide(
            by=worker, claim=claim, status=rng.choice(["paid", "paid", "rejected"])
        )
    if close:
        services.case_transition(by=worker, case=case, action="close",
                                 now=t + datetime.timedelta(hours=rng.randint(1, 48)))  # fmt: skip


def _accounts() -> list[tuple[Account, User]]:
    rows = (TeamMembership.objects.filter(role=TeamRole.OWNER, account__tier__in=[1, 2, 3],
                                          user__role=Role.MANAGER, user__is_active=True)
            .select_related("account", "user").order_by("account__tier", "account_id"))  # fmt: skip
    by_tier: dict[int, list[tuple[Account, User]]] = {}
    for r in rows:
        by_tier.setdefault(r.account.tier or 0, []).append((r.account, r.user))
    return [pair for tier in sorted(by_tier) for pair in by_tier[tier][:24]]


def _surveys(rng: random.Random, now: datetime.datetime, dept: User) -> tuple[int, int]:
    template = surveys.template_default()
    answered = 0
    campaigns = 0
    for months_ago, mood in ((7, 0.0), (2, 0.4)):
        name = f"大客户满意度征询函 {timezone.localtime(now - datetime.timedelta(days=30 * months_ago)):%Y-%m}"
        if Campaign.objects.filter(name=name).exists():
            continue
        sent = now - datetime.timedelta(days=30 * months_ago)
        campaign = Campaign.objects.create(
            name=name, template=template, tiers=[1], expires_at=sent + datetime.timedelta(days=21),
            created_by=dept,
        )  # fmt: skip
        issued, _ = surveys.campaign_issue(campaign, now=sent)
        campaign.status = Campaign.CampaignStatus.SENT
        campaign.sent_at = sent
        campaign.save(update_fields=["status", "sent_at"])
        campaigns += 1
        for invitation, token in issued:
            if rng.random() > 0.6:
                continue
            base = rng.choice([3, 4, 4, 4, 5, 5]) + (1 if rng.random() < mood else 0)
            ratings = {d["key"]: max(3, min(5, base + rng.choice([-1, 0, 0, 1])))
                       for d in template.dimensions}  # fmt: skip
            nps = max(5, min(10, base * 2 + rng.choice([-2, -1, 0, 0, 1])))
            if rng.random() < 0.015:  # the odd unhappy customer: a follow-up case
                ratings["quality"], nps = 1, 3
            surveys.response_submit(
                token=token, ratings=ratings, nps=nps, language="zh-hans",
                comment=rng.choice(["", "", "希望旺季时能保证时效。", "客户经理响应很及时。",
                                    "账单对账流程可以再简化。"]),
                now=invitation.sent_at + datetime.timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 8)),
            )  # fmt: skip
            answered += 1
    return campaigns, answered


def demo_load(*, seed: int, as_of: datetime.date, progress: Any) -> str:
    if Case.objects.exists():
        return f"service: {Case.objects.count()} cases already there"
    users = {
        u.username: u for u in User.objects.filter(username__in=["dept1", "dept2", "director"])
    }
    rng = random.Random(seed * 6 + 1)  # noqa: S311 - seeded demo data, not cryptography
    now = timezone.now()
    calendar = working_calendar()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"), \
            transaction.atomic():  # fmt: skip
        _policies(users)
        _root_causes()
        causes = list(RootCause.objects.all())
        pairs = _accounts()
        total = len(pairs)
        for i, (account, owner) in enumerate(pairs):
            progress("service: cases", i, total)
            # Two to three finished cases over the last half year.
            for _ in range(rng.randint(1, 3)):
                opened = _back(calendar, now, rng.randint(40, 1200))
                case = _open(rng, account, owner, opened)
                _worked(rng, case, owner, opened, causes, close=rng.random() < 0.7)
            # One open case in some state, some of them near or over their SLA.
            if i % 2 == 0:
                hours = rng.choice([0.3, 1, 2.5, 4, 6, 9, 15, 30])
                opened = _back(calendar, now, hours)
                case = _open(rng, account, owner, opened)
                step = i % 8
                if step >= 2:
                    case = services.case_transition(by=owner, case=case, action="acknowledge",
                                                    now=opened + datetime.timedelta(minutes=20))  # fmt: skip
                if step in {4, 5}:
                    case = services.case_transition(by=owner, case=case, action="start",
                                                    now=opened + datetime.timedelta(minutes=40))  # fmt: skip
                if step == 6:
                    case = services.case_transition(by=owner, case=case, action="wait",
                                                    now=opened + datetime.timedelta(minutes=50))  # fmt: skip
        progress("service: cases", total, total)
        services.clocks_tick(now=now)
        progress("service: surveys", 0, 1)
        dept = users.get("dept1") or User.objects.filter(role=Role.DEPARTMENT).first()
        campaigns, answered = _surveys(rng, now, dept) if dept else (0, 0)
        # The older campaign's follow-ups have been dealt with since.
        for case in Case.objects.filter(channel=Channel.SURVEY, status="new",
                                        opened_at__lt=now - datetime.timedelta(days=90)):  # fmt: skip
            _worked(rng, case, case.assignee, case.opened_at, causes, close=True)
        services.clocks_tick(now=now)
        progress("service: surveys", 1, 1)
    return (f"service: {Case.objects.count()} cases ({Case.objects.filter(sla_state='violated').count()} "
            f"over SLA), {SlaPolicy.objects.count()} SLA policies, {campaigns} survey campaigns "
            f"with {answered} answers")  # fmt: skip


def demo_wipe(progress: Any) -> None:
    with transaction.atomic():
        Response.objects.all().delete()
        Invitation.objects.all().delete()
        Campaign.objects.all().delete()
        Case.objects.all().delete()
        AssignmentTurn.objects.all().delete()
        SurveyTemplate.objects.all().delete()
        SlaPolicy.objects.all().delete()
        RootCause.objects.all().delete()
        Notification.objects.filter(kind__startswith="service.").delete()
