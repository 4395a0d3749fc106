"""Demo data of the coverage app: the default policy, territory and industry managers,
capacities, eight weeks of visits done with their reports (走访表), findings and
follow-ups (some closed, some open, some overdue and escalated), and a 12-week plan from
the demo's "today". Deterministic for a seed; idempotent (does nothing when reports exist).
"""

import datetime
import random
from collections.abc import Callable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from kam.accounts import demo_data
from kam.accounts.models import Account, Contact, Industry, TeamMembership, TeamRole
from kam.core.calendar import working_calendar
from kam.core.models import Role, User

from . import planner, services
from .models import (
    Assignment,
    Capacity,
    FeedToken,
    FollowUp,
    PolicyVersion,
    Visit,
    VisitPlan,
    VisitReport,
)

Progress = Callable[[str, int, int], None]

PURPOSES = [
    ("季度业务回顾", "Quarterly business review"),
    ("旺季运力沟通", "Peak-season capacity"),
    ("新仓配方案介绍", "New warehousing offer"),
    ("投诉回访", "Complaint follow-up"),
    ("年度合同续签", "Annual contract renewal"),
    ("高层拜访", "Executive visit"),
]
SUMMARIES = [
    "客户对时效总体满意，华东线路偶有延误；计划下季度增加电商件量。",
    "对方物流总监提出冷链需求，希望两周内拿到方案和报价。",
    "竞争对手给出更低的首重价格，客户要求我们重新报价。",
    "上月破损投诉已处理，客户希望建立月度服务回顾机制。",
    "客户正在评估自建仓的退出方案，对我们的仓配一体化方案有兴趣。",
]
FINDINGS = [
    ("need", 3, "需要冷链仓配一体化方案"),
    ("complaint", 3, "华南线路时效延误，客户不满"),
    ("competitor", 2, "竞争对手首重报价低 8%"),
    ("opportunity", 3, "新产品上市需要全国配送"),
    ("price", 4, "采购要求年度降价 5%"),
    ("service", 2, "客服响应慢，电话常占线"),
    ("need", 1, "希望开通电子面单接口"),
]
NEXT_STEPS = [
    "发送冷链方案与报价",
    "安排线路经理复盘时效",
    "准备竞争报价对比",
    "对接IT开通电子面单",
    "提交年度价格方案审批",
    "组织高层回访",
]
#: Territory and industry managers of the demo (users from kam.accounts.demo): each
#: manager's territory (a province, or the cities they cover in a shared one), so that an
#: account without an owner goes to the manager of its city or province.
TERRITORIES = [
    *[(t.username, c[:2] + "0000", c) for t in demo_data.TERRITORIES for c in t.cities],
    *[(t.username, p + "0000", "") for t in demo_data.TERRITORIES for p in t.provinces],
]
INDUSTRIES = demo_data.INDUSTRY_MANAGERS


def _users() -> dict[str, User]:
    return {u.username: u for u in User.objects.filter(username__startswith="manager")}


@transaction.atomic
def demo_load(*, seed: int, as_of: datetime.date, progress: Progress) -> str:
    if VisitReport.objects.exists():
        return "Coverage demo already loaded."
    rng = random.Random(seed + 5)  # noqa: S311 - demo data, not secrets
    users = _users()
    if not users:
        return ""
    services.policy_current()
    for username, province, city in TERRITORIES:
        if username in users:
            services.assignment_add(by=None, user=users[username], kind="territory",
                                    province_code=province, city_code=city)  # fmt: skip
    for username, code in INDUSTRIES:
        industry = Industry.objects.filter(code=code).first()
        if username in users and industry is not None:
            services.assignment_add(by=None, user=users[username], kind="industry",
                                    industry=industry)  # fmt: skip
    for user in users.values():
        services.capacity_set(by=None, user=user, visits_per_day=rng.choice([3, 3, 4, 5]))
    history = _history(rng, as_of)
    reports = _past_visits(rng, as_of, progress)
    plan = services.plan_generate(by=None, start=as_of + timedelta(days=1), weeks=12)
    recent = _since_as_of(rng, as_of, timezone.localdate())
    counts = services.escalate_overdue(today=as_of, email=False)
    overdue = FollowUp.objects.filter(status__in=FollowUp.OPEN_STATUSES, due_date__lt=as_of)
    return (
        f"Coverage: policy v{services.policy_current().number}, {Assignment.objects.count()} "
        f"assignments, {history:,} past visits, {reports} visit reports with {FollowUp.objects.count()} follow-ups "
        f"({overdue.count()} overdue, {counts['escalated']} escalated), a 12-week plan of "
        f"{plan.placed:,} visits ({len(plan.unserved):,} unserved); {recent} planned visits "
        f"since the data's end reported."
    )


def _history(rng: random.Random, as_of: datetime.date) -> int:
    """Eight weeks of visits done before the demo's "today", about three in four of what
    the policy asked for (no reports: these are the visits before the product)."""
    start = as_of - timedelta(weeks=8)
    inputs, capacity, _accounts = services.plan_inputs(
        start=start, policy=services.policy_current()
    )
    result = planner.plan_visits(
        inputs, capacity, start, 8, working_calendar().is_working, services.plan_travel(inputs)
    )  # days a person can drive
    done = [
        Visit(account_id=v.account, person_id=v.person, day=v.day, due=v.due, city_code=v.city,
              executive=v.executive, status=Visit.Status.DONE)
        for v in result.visits
        if v.day <= as_of and rng.random() < 0.75
    ]  # fmt: skip
    Visit.objects.bulk_create(done, batch_size=1000)
    return len(done)


def _past_visits(rng: random.Random, as_of: datetime.date, progress: Progress) -> int:
    """Eight weeks of done visits to tier 1-2 accounts, each with a report."""
    calendar = working_calendar()
    owned = list(
        TeamMembership.objects.filter(role=TeamRole.OWNER, user__role=Role.MANAGER,
                                      account__tier__in=[1, 2])
        .select_related("account", "user").order_by("account_id")
    )  # fmt: skip
    chosen = rng.sample(owned, min(len(owned), 160))
    department = list(User.objects.filter(role=Role.DEPARTMENT).order_by("username"))
    contacts: dict[int, list[Contact]] = {}
    for contact in Contact.objects.filter(account_id__in=[m.account_id for m in chosen]):
        contacts.setdefault(contact.account_id, []).append(contact)
    start = as_of - timedelta(weeks=8)
    days = list(calendar.working_days(start, as_of + timedelta(days=1)))
    made = 0
    for n, membership in enumerate(chosen, start=1):
        account: Account = membership.account
        day = rng.choice(days)
        visit = Visit.objects.create(account=account, person=membership.user, day=day,
                                     city_code=account.city_code, due=day)  # fmt: skip
        purpose = rng.choice(PURPOSES)[0]
        follow_ups = []
        for _ in range(rng.choice([0, 1, 1, 2])):
            due = calendar.add_working_days(day, rng.randint(3, 25))
            follow_ups.append({"title": rng.choice(NEXT_STEPS), "owner": membership.user,
                               "due_date": due})  # fmt: skip
        findings = [
            {"kind": k, "severity": s, "text": t}
            for k, s, t in rng.sample(FINDINGS, rng.randint(1, 3))
        ]
        attendees = contacts.get(account.pk, [])
        report = _submit_at(
            visit=visit, purpose=purpose, summary=rng.choice(SUMMARIES), findings=findings,
            follow_ups=follow_ups, contacts=rng.sample(attendees, min(len(attendees), 2)),
        )  # fmt: skip
        submitted = _aware(day, 18)
        VisitReport.objects.filter(pk=report.pk).update(submitted_at=submitted)
        if department and rng.random() < 0.6:
            VisitReport.objects.filter(pk=report.pk).update(
                status=VisitReport.Status.REVIEWED, reviewed_by=rng.choice(department),
                reviewed_at=submitted + timedelta(days=1),
            )  # fmt: skip
        for follow_up in report.follow_ups.all():
            if follow_up.due_date < as_of and rng.random() < 0.7:
                closed = min(as_of, follow_up.due_date - timedelta(days=rng.randint(0, 3)))
                closed = max(closed, day)
                FollowUp.objects.filter(pk=follow_up.pk).update(
                    status=FollowUp.Status.DONE, closed_at=_aware(closed, 17),
                    closed_by=follow_up.owner,
                )  # fmt: skip
            elif rng.random() < 0.3:
                FollowUp.objects.filter(pk=follow_up.pk).update(status=FollowUp.Status.IN_PROGRESS)
        made += 1
        if n % 20 == 0:
            progress("coverage: visit reports", n, len(chosen))
    return made


#: Share of the planned visits between the data's end and today that were made and
#: reported; the rest show as missed, as some do in any team.
RECENT_DONE = 0.9


def _since_as_of(rng: random.Random, as_of: datetime.date, today: datetime.date) -> int:
    """The plan starts the day after the data's end (the last day of last month), but the
    demo is opened on a later day: the planned visits of the days in between (up to a
    month) were made and reported, nine in ten, so that the team's coverage this month
    reads as a working team's, not as a month of missed visits. Only yesterday and before:
    today's visits are still to do."""
    if not as_of < today <= as_of + timedelta(days=31):
        return 0
    visits = list(
        Visit.objects.filter(status=Visit.Status.PLANNED, day__gt=as_of, day__lt=today)
        .select_related("account", "person").order_by("day", "pk")
    )  # fmt: skip
    made = 0
    for visit in visits:
        if rng.random() >= RECENT_DONE:
            continue
        report = _submit_at(
            visit=visit, purpose=rng.choice(PURPOSES)[0], summary=rng.choice(SUMMARIES),
            findings=[], follow_ups=[], contacts=[],
        )  # fmt: skip
        VisitReport.objects.filter(pk=report.pk).update(submitted_at=_aware(visit.day, 18))
        made += 1
    return made


def _submit_at(*, visit: Visit, **data: object) -> VisitReport:
    """The real service, on the evening of the visit (it refuses visits in the future)."""
    return services.report_submit(by=visit.person, account=visit.account, visit=visit,
                                  visited_on=visit.day, today=visit.day, **data)  # type: ignore[arg-type]  # fmt: skip


def _aware(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def demo_wipe(progress: Progress) -> None:
    steps: list[Callable[[], object]] = [
        FollowUp.objects.all().delete,
        VisitReport.objects.all().delete,
        Visit.objects.all().delete,
        VisitPlan.objects.all().delete,
        Assignment.objects.all().delete,
        Capacity.objects.all().delete,
        FeedToken.objects.all().delete,
        PolicyVersion.objects.all().delete,
    ]
    for i, step in enumerate(steps, start=1):
        step()
        progress("coverage: wiping", i, len(steps))
