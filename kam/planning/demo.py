"""Demo data of the planning app: account plans of this year for the demo's top accounts
(tier 1 and 2, owned by managers), with SWOT and GPN items (some taken from their visit
reports' findings), objectives whose baselines sit below or near today's figures so that
progress shows, 30/60/90-day actions (some tracked as follow-ups), and plans in every state:
drafts, submitted, signed off and returned. All written through the services.
Deterministic for a seed; idempotent (does nothing when plans exist)."""

import datetime
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from kam.accounts.models import Account, TeamMembership, TeamRole
from kam.core.models import Role, User

from . import progress as maths
from . import selectors, services
from .models import (
    QUALIFIERS,
    AccountHealth,
    AccountPlan,
    Action,
    HealthSnapshot,
    Objective,
    Opportunity,
    PlanItem,
    Review,
    ReviewPolicy,
    Solution,
)

Progress = Callable[[str, int, int], None]

#: How many accounts get a plan (the top ones by tier, then by id).
PLANS = 60

SWOT = [
    ("strength", "时效稳定，华东区域准时率领先"),
    ("strength", "客户物流总监与我方关系良好"),
    ("weakness", "冷链产品覆盖城市少"),
    ("weakness", "客服响应慢，旺季电话占线"),
    ("opportunity", "客户新产品上市，需要全国配送"),
    ("opportunity", "客户计划退出自建仓，可承接仓配一体化"),
    ("threat", "竞争对手首重报价低 8%"),
    ("threat", "客户采购要求年度降价 5%"),
]
GPN = [
    ("goal", "成为客户华南区域的首选承运商"),
    ("goal", "年内把我方份额提升到四成"),
    ("problem", "旺季运力不足导致延误投诉"),
    ("problem", "月结对账周期长，客户财务不满"),
    ("need", "电子面单接口与客户 ERP 对接"),
    ("need", "代收货款快速回款"),
]
ACTIONS = [
    (30, "安排高层拜访，回顾上半年合作", "总监半天"),
    (30, "提交冷链仓配一体化方案", "方案工程师两天"),
    (60, "与客户 IT 对接电子面单接口", "IT 支持一人周"),
    (60, "旺季运力预留方案评审", "运力计划专员"),
    (90, "年度价格方案审批", "定价委员会"),
    (90, "组织客户满意度回访", "客服主管"),
]


def _year_end(today: datetime.date) -> datetime.date:
    end = datetime.date(today.year, 12, 31)
    return end if (end - today).days >= 30 else today + datetime.timedelta(days=90)


@transaction.atomic
def demo_load(*, seed: int, as_of: datetime.date, progress: Progress) -> str:
    if AccountPlan.objects.exists():
        return "Planning demo already loaded."
    rng = random.Random(seed + 15)  # noqa: S311 - demo data, not secrets
    today = timezone.localdate()
    department = list(
        User.objects.filter(role=Role.DEPARTMENT, is_active=True).order_by("username")
    )
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("username").first()
    reviewer = department[0] if department else director
    if director is not None:
        services.review_policy_set(by=director, intervals={1: 90, 2: 180, 3: 365, 4: 365, 5: 365})
    owned = list(
        TeamMembership.objects.filter(role=TeamRole.OWNER, user__role=Role.MANAGER,
                                      user__is_active=True, account__tier__in=[1, 2])
        .select_related("account", "user").order_by("account__tier", "account_id")[:PLANS]
    )  # fmt: skip
    if not owned:
        return ""
    plans = []
    for n, membership in enumerate(owned, start=1):
        plans.append(_plan(rng, membership, today, reviewer))
        if n % 10 == 0:
            progress("planning: account plans", n, len(owned))
    health_summary = demo_health(seed=seed, today=today, progress=progress)
    wallet_summary = demo_wallet_and_stages(
        rng=rng, accounts=[m.account for m in owned], today=today
    )
    return (
        f"Planning: {len(plans)} account plans ({Objective.objects.count()} objectives, "
        f"{Action.objects.count()} actions of which "
        f"{Action.objects.filter(follow_up__isnull=False).count()} tracked as follow-ups, "
        f"{PlanItem.objects.count()} analysis items, {Review.objects.count()} reviews; "
        f"{Opportunity.objects.count()} opportunities; {wallet_summary}). {health_summary}"
    )


def _plan(rng: random.Random, membership: TeamMembership, today: datetime.date,
          reviewer: User | None) -> AccountPlan:  # fmt: skip
    account, owner = membership.account, membership.user
    kind = rng.choice(["expand", "expand", "retain", "acquire"])
    # Started a few months ago (not on 1 January): the demo opens with objectives part-way.
    start = max(datetime.date(today.year, 1, 1), today - datetime.timedelta(days=120))
    plan = services.plan_create(
        by=owner, account=account, year=today.year, kind=kind, owner=owner, start=start,
        ambition=rng.choice([
            "三年内成为客户的首选物流伙伴，从单一快递走向仓配一体化。",
            "守住现有份额，化解竞争对手的低价冲击，提升服务口碑。",
            "从零散发货做到月结合作，拿下客户华南区域的主要线路。",
        ]),
    )  # fmt: skip
    findings = list(selectors.linkable_findings(owner, plan)[:3])
    for kind_, text in rng.sample(SWOT, 5) + rng.sample(GPN, 3):
        source = findings.pop() if findings and kind_ in ("need", "problem", "threat") else None
        services.item_add(by=owner, plan=plan, kind=kind_, text=source.text if source else text,
                          finding=source)  # fmt: skip
    figures = selectors.figures_for([plan], selectors.accounts_of([plan], owner))[plan.pk]
    target_date = _year_end(today)
    expected = maths.expected_share(plan.start, target_date, today)

    def share() -> float:
        """How far along an objective is: most on track, some at risk, a few behind."""
        r = rng.random()
        if r < 0.6:
            return rng.uniform(expected, min(1.0, expected + 0.35))
        if r < 0.85:
            return rng.uniform(max(0.0, expected - 0.14), expected)
        return rng.uniform(0.0, max(0.0, expected - 0.2))

    def add(metric: str, title: str, now: Decimal | None, growth: float, places: str) -> None:
        # Baseline and target chosen so that today's value is ``share()`` of the way.
        if now is None or now <= 0:
            return
        s = Decimal(str(share()))
        baseline = (now / (1 + s * Decimal(str(growth)))).quantize(Decimal(places))
        target = (baseline * Decimal(str(1 + growth))).quantize(Decimal(places))
        if target != baseline:
            services.objective_add(by=owner, plan=plan, metric=metric, title=title,
                                   baseline=baseline, target=target, target_date=target_date,
                                   today=today)  # fmt: skip

    add("revenue", "收入增长", figures.values.get("revenue"), 0.2, "1")
    add("waybills", "业务量提升", figures.values.get("waybills"), 0.15, "1")
    on_time = figures.values.get("on_time")
    if on_time is not None and on_time <= Decimal("97"):
        s = Decimal(str(share()))
        baseline = (on_time - 3 * s).quantize(Decimal("0.1"))
        services.objective_add(by=owner, plan=plan, metric="on_time", title="准时率达标",
                               baseline=baseline, target=baseline + 3, target_date=target_date,
                               today=today)  # fmt: skip
    products = figures.values.get("products")
    if products is not None and 1 <= products < 5 and rng.random() < 0.5:
        services.objective_add(by=owner, plan=plan, metric="products", title="新增产品",
                               baseline=products - 1, target=products + 1,
                               target_date=target_date, today=today)  # fmt: skip
    for horizon, title, resources in rng.sample(ACTIONS, 4):
        due = today + datetime.timedelta(days=horizon - rng.randint(0, 20))
        action = services.action_add(by=owner, plan=plan, title=title, horizon=horizon,
                                     owner=owner, due_date=due, resources=resources)  # fmt: skip
        if horizon == 30 and rng.random() < 0.6:
            services.action_track(by=owner, action=action, today=today)
    state = rng.random()
    if plan.objectives.exists() and state < 0.75 and reviewer is not None:
        services.plan_submit(by=owner, plan=plan)
        if state < 0.45:
            services.plan_review(by=reviewer, plan=plan, decision="approved",
                                 comment="目标清晰，行动可执行。", today=today)  # fmt: skip
        elif state < 0.6:
            services.plan_review(by=reviewer, plan=plan, decision="returned",
                                 comment="收入目标偏保守，请补充竞争对手应对措施。", today=today)  # fmt: skip
    _opportunities(rng, account, owner, today, figures.values.get("revenue"))
    return plan


COMPETITORS = ["顺丰", "京东物流", "中通", "德邦", "极兔"]
CRITERIA = ["时效与价格", "全国覆盖和系统对接", "冷链温控与理赔", "回款速度"]


def _opportunities(rng: random.Random, account: object, owner: User, today: datetime.date,
                   revenue: Decimal | None) -> None:  # fmt: skip
    """One or two opportunities per account, moved through the stages (each stage's
    qualifiers answered yes on the way), a few won or lost with a reason."""
    catalogue = list(Solution.objects.filter(active=True))
    if not catalogue:
        return
    base = revenue if revenue and revenue > 0 else Decimal("500000")
    contacts = list(account.contacts.order_by("id")[:2])  # type: ignore[attr-defined]
    for solution in rng.sample(catalogue, min(len(catalogue), rng.choice([1, 2]))):
        amount = (base * Decimal(str(rng.uniform(0.05, 0.4)))).quantize(Decimal("1"))
        opp = services.opportunity_create(
            by=owner, account=account, solution=solution, owner=owner,  # type: ignore[arg-type]
            annual_revenue=amount, annual_margin=(amount * Decimal("0.25")).quantize(Decimal("1")),
            probability=rng.choice([10, 20, 30]),
            expected_close=today + datetime.timedelta(days=rng.randint(30, 240)),
            decision_criteria=rng.choice(CRITERIA), competitors=rng.choice(COMPETITORS),
            influences=[(c, role) for c, role in zip(contacts, ["economic_buyer", "coach"],
                                                       strict=False)],
        )  # fmt: skip
        steps = rng.choice([0, 1, 1, 2, 2, 3, 4, 5])
        stages = ["identified", "qualified", "proposal", "negotiation"]
        for n in range(min(steps, 3)):
            here = stages[n]
            opp = services.opportunity_move(
                by=owner, opportunity=opp, stage=stages[n + 1],
                answers={here: {k: True for k, _label in QUALIFIERS[here]}}, today=today,
            )  # fmt: skip
        if steps == 4:
            services.opportunity_move(
                by=owner, opportunity=opp, stage="won", reason="方案与价格获客户认可",
                answers={"negotiation": {k: True for k, _label in QUALIFIERS["negotiation"]}},
                today=today,
            )  # fmt: skip
        elif steps == 5:
            services.opportunity_move(by=owner, opportunity=opp, stage="lost",
                                      reason="竞争对手报价更低", today=today)  # fmt: skip


def demo_wipe(progress: Progress) -> None:
    steps: list[Callable[[], object]] = [
        demo_wallet_wipe,
        Opportunity.objects.all().delete,
        Review.objects.all().delete,
        Action.objects.all().delete,
        Objective.objects.all().delete,
        PlanItem.objects.all().delete,
        AccountPlan.objects.all().delete,
        ReviewPolicy.objects.all().delete,
        HealthSnapshot.objects.all().delete,
        AccountHealth.objects.all().delete,
    ]
    for i, step in enumerate(steps, start=1):
        step()
        progress("planning: wiping", i, len(steps))


# --- account health ------------------------------------------------------------------------------

#: Weeks of health history the demo writes before today's real snapshot.
HEALTH_WEEKS = 9


def demo_health(*, seed: int, today: datetime.date, progress: Progress) -> str:
    """Health for every account: today's real scores first (not stored), then weekly
    snapshots of the past two months drifting towards them (a few of the planned accounts
    higher two months ago, so that today's score is a drop), then today's through the
    nightly job, which stores it and raises the drop alerts in the inbox. The past
    snapshots carry scores only; their parts are today's to explain."""
    from . import health, rules  # noqa: PLC0415

    if HealthSnapshot.objects.exists():
        return ""
    rng = random.Random(seed + 16)  # noqa: S311 - demo data, not secrets
    settings, coverage = health.settings_get(), rules.rules_get()
    planned = set(AccountPlan.objects.filter(account__isnull=False)
                  .values_list("account_id", flat=True))  # fmt: skip
    falling = set(sorted(planned)[::12])  # about one planned account in twelve
    past: list[HealthSnapshot] = []
    done = 0
    for batch in health.account_batches(None):
        now = health.compute(batch, today=today, settings=settings, rules=coverage)
        for pk, h in now.items():
            start = min(100, h.score + rng.randint(25, 35)) if pk in falling else max(
                0, min(100, h.score + rng.randint(-12, 12)))  # fmt: skip
            for week in range(HEALTH_WEEKS, 0, -1):
                share = (HEALTH_WEEKS - week) / HEALTH_WEEKS
                score = round(start + (h.score - start) * share) + rng.randint(-3, 3)
                if pk in falling and week == 1:
                    score = start  # a week ago still high: today is the drop
                past.append(HealthSnapshot(account_id=pk, score=max(0, min(100, score)),
                                           day=today - datetime.timedelta(weeks=week)))  # fmt: skip
        done += len(batch)
        progress("planning: health history", done, done)
        HealthSnapshot.objects.bulk_create(past, batch_size=2000)
        past = []
    result = health.health_refresh(today=today)
    return (f"Health: {result.accounts} accounts scored with {HEALTH_WEEKS} weeks of history; "
            f"{result.alerts} drop alerts.")  # fmt: skip


# --- share of wallet and relationship stages ----------------------------------------------------

WALLET_COMPETITORS = [
    ("顺丰速运", "SF Express"), ("京东物流", "JD Logistics"), ("中通快递", "ZTO Express"),
    ("圆通速递", "YTO Express"), ("韵达速递", "Yunda Express"), ("德邦快递", "Deppon Express"),
    ("中国邮政EMS", "China Post EMS"),
]  # fmt: skip
#: Logistics spend per employee and year by size band, for any industry (CNY).
WALLET_BENCHMARKS = {"small": 6000, "medium": 9000, "large": 12000, "xlarge": 15000}
WALLET_SOURCES = [("customer", "物流总监在年度拜访中告知"), ("tender", "客户年度物流招标文件"),
                  ("report", "客户年报披露的运输费用"), ("field", "按客户出货量和市场价估算")]  # fmt: skip


def demo_wallet_and_stages(*, rng: random.Random, accounts: list[Any], today: datetime.date) -> str:
    """The competitors and benchmarks, the first version of the stage criteria, three
    dated wallet estimates per top account (the trend, competitors' and in-house shares),
    the stage history that led to each account's stage (the changes before KAM, loaded as
    history), and proposals from the data: some accepted by the owner, one overridden by
    the department, the rest open. Idempotent (nothing when competitors exist)."""
    from . import stages, wallet  # noqa: PLC0415
    from .models import Competitor, StageChange, StageProposal, WalletEstimate  # noqa: PLC0415

    if Competitor.objects.exists() or not accounts:
        return "wallet demo already loaded"
    department = (
        User.objects.filter(role=Role.DEPARTMENT, is_active=True).order_by("username").first()
    )
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("username").first()
    if department is None or director is None:
        return "no wallet demo (no department or director)"
    rivals = [wallet.competitor_save(by=department, name=zh, name_en=en)
              for zh, en in WALLET_COMPETITORS]  # fmt: skip
    for size, rate in WALLET_BENCHMARKS.items():
        wallet.benchmark_set(by=director, industry=None, size=size,
                             spend_per_employee=Decimal(rate))  # fmt: skip
    stages.criteria_set(by=director, criteria=stages.DEFAULT_CRITERIA, note="初版标准")
    owners = dict(
        TeamMembership.objects.filter(account__in=accounts, role=TeamRole.OWNER)
        .values_list("account_id", "user_id")
    )  # fmt: skip
    people = {u.pk: u for u in User.objects.filter(pk__in=set(owners.values()))}
    revenue = wallet.revenue_12m([a.pk for a in accounts])
    history = []
    for account in accounts:
        owner = people.get(owners.get(account.pk, 0), department)
        ours = revenue.get(account.pk, Decimal(0))
        if ours > 0:
            share = Decimal(str(rng.uniform(0.12, 0.7)))
            for months_ago, drift in ((18, 1.25), (9, 1.1), (1, 1.0)):
                total = (ours / share * Decimal(str(drift))).quantize(Decimal("1"))
                named = rng.sample(rivals, rng.randint(1, 3))
                free = 100 - float(100 * ours / total)
                parts = [round(free * rng.uniform(0.1, 0.3), 1) for _c in named]
                inhouse = round(max(0.0, (free - sum(parts)) * rng.uniform(0.0, 0.5)), 1)
                source, note = rng.choice(WALLET_SOURCES)
                wallet.estimate_add(
                    by=owner, account=account, total_spend=total, source=source,
                    source_note=note, confidence=rng.choice(["low", "medium", "high"]),
                    as_of=today - datetime.timedelta(days=30 * months_ago),
                    inhouse_share=Decimal(str(inhouse)),
                    shares=[(c.pk, Decimal(str(p))) for c, p in zip(named, parts, strict=True)],
                )  # fmt: skip
        k = stages.index(account.stage)
        path = list(stages.STAGES[max(k - 2, 0) : k + 1])
        on = today - datetime.timedelta(days=rng.randint(700, 900))
        previous = ""
        for stage in path:
            history.append(StageChange(account=account, from_stage=previous, to_stage=stage,
                                       on=on, reason="历史记录导入", by=None))  # fmt: skip
            previous = stage
            on += datetime.timedelta(days=rng.randint(150, 330))
            on = min(on, today - datetime.timedelta(days=rng.randint(20, 60)))
    StageChange.objects.bulk_create(history)
    counts = stages.evaluate_accounts(
        accounts=Account.objects.filter(pk__in=[a.pk for a in accounts]).order_by("pk"), today=today
    )
    overridden = False
    for n, proposal in enumerate(
        StageProposal.objects.filter(status="open").select_related("account").order_by("pk")
    ):  # fmt: skip
        if n % 3 == 0:
            owner = people.get(owners.get(proposal.account_id, 0), department)
            confirmed = [e["criterion"] for e in proposal.evidence if e.get("met") is None]
            stages.proposal_decide(by=owner, proposal=proposal, accept=True,
                                   confirmed=confirmed)  # fmt: skip
        elif n % 3 == 1 and not overridden:
            stages.proposal_decide(by=department, proposal=proposal, accept=False,
                                   reason="客户合同续签中，暂不调整")  # fmt: skip
            overridden = True
    return (
        f"{WalletEstimate.objects.count()} wallet estimates, {len(rivals)} competitors, "
        f"{StageChange.objects.count()} stage changes, {counts['proposed']} stage proposals"
    )


def demo_wallet_wipe() -> None:
    from .models import (  # noqa: PLC0415
        Competitor,
        StageChange,
        StageCriteria,
        StageProposal,
        WalletBenchmark,
        WalletEstimate,
    )

    for model in (StageChange, StageProposal, StageCriteria, WalletEstimate, Competitor,
                  WalletBenchmark):  # fmt: skip
        model.objects.all().delete()
