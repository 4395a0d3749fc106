"""The world of the access matrix: two accounts with a record of every kind, and a persona
in every role.

Account A (明达) is served by ``owner`` (account manager) and ``service`` (service rep);
account B (远航) by ``colleague``. Every record that belongs to an account exists on both
sides, built through the services where they exist, and every text or figure of B (and of
A, for the personas who may see neither) is a distinctive *canary*: when it shows up in a
response to someone who may not see it, the matrix reports the leak.

Ids are canaries too. Rows of A get ids in 96,xxx,xxx and rows of B in 97,xxx,xxx, each
table in its own block of a thousand (:func:`bump_sequences`), so that a number in a
response names exactly one row: an id of a foreign row in a body is a leak, whatever the
field is called.

:data:`MODELS_OUT_OF_SCOPE` lists the models that belong to no account and so have no
foreign side, each with the reason; :func:`unbuilt_models` finds account-scoped models that
the world does not build (a new app's table), and the matrix fails until they are added
here.
"""

import datetime
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.models import Model
from django.utils import timezone

from kam.accounts.models import (
    Account,
    BillingCode,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
    TeamRole,
)
from kam.core.models import Notification, Role, User
from kam.core.services import user_create

#: The first id of A's rows and of B's rows; each table gets its own block of a thousand.
A_BASE = 96_000_000
B_BASE = 97_000_000
#: Rows made after the world (by requests the matrix sends) start here.
LATER_BASE = 99_000_000
#: Ids that name nothing (the "missing" kind of every id parameter).
MISSING_ID = 95_999_999
#: What a persona who may see no row of a kind sends as their "own" id (names nothing
#: either, but differs from MISSING_ID so that the two stay apart in one path).
NO_OWN_ID = 95_999_990
BLOCK = 1000

#: Models that belong to no account (or hold nothing of one), so have no foreign side.
MODELS_OUT_OF_SCOPE: dict[str, str] = {
    "core.User": "staff are a company directory: every user's name may appear in choices",
    "core.UserSession": "a user's own sessions (the matrix checks them as a user's own)",
    "core.SecurityEvent": "a user's own log-in events, shown with their sessions",
    "accounts.RetentionRun": "a run of the retention rule covers every account; directors",
    "core.ApiToken": "a user's own tokens; the API's token routes are CLI-only",
    "core.AccessLog": "read by directors only, who see every account",
    "core.CalendarDay": "the company's working calendar",
    "accounts.Industry": "a reference list",
    "ledger.ImportBatch": "an import is the department's, never an account's",
    "ledger.LakeFile": "files of the lake, named by import batches",
    "ledger.FactFile": "files of lane facts, named by import batches",
    "segmentation.RuleSet": "the company's segmentation rules",
    "segmentation.Run": "a run covers every account; its per-account rows are scoped",
    "coverage.PolicyVersion": "the company's coverage policy",
    "coverage.PolicyRule": "the company's coverage policy",
    "coverage.Assignment": "territory and industry assignments of staff",
    "coverage.Capacity": "a staff member's visit capacity",
    "coverage.VisitPlan": "a plan run covers everyone; its visits are scoped",
    "service.RootCause": "a reference list",
    "service.SlaPolicy": "the company's SLA policies",
    "service.SurveyTemplate": "the company's survey questions",
    "service.Campaign": "a campaign targets many accounts; its invitations are scoped",
    "planning.ReviewPolicy": "the company's plan review schedule",
    "planning.Competitor": "the department's list of competitors",
    "planning.WalletBenchmark": "the company's logistics-spend benchmarks",
    "planning.StageCriteria": "the company's stage entry criteria (versions)",
}


def _app_models() -> list[type[Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("kam.")]


def bump_sequences(base: int) -> None:
    """Make the next automatic id of the k-th table (by name) ``base + k * BLOCK + 1``."""
    models = sorted(
        (m for m in apps.get_models() if m._meta.managed and not m._meta.proxy
         and m._meta.pk.get_internal_type() in ("AutoField", "BigAutoField")),
        key=lambda m: m._meta.db_table,
    )  # fmt: skip
    with connection.cursor() as cursor:
        for k, model in enumerate(models):
            table, start = model._meta.db_table, base + k * BLOCK
            if connection.vendor == "sqlite":
                cursor.execute(
                    "UPDATE sqlite_sequence SET seq = %s WHERE name = %s", [start, table]
                )
                if cursor.rowcount == 0:
                    cursor.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [table, start]
                    )
            else:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                    [table, model._meta.pk.column, start],
                )


def reset_sequences() -> None:
    """PostgreSQL keeps sequences outside transactions: put them back after the world."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    statements = connection.ops.sequence_reset_sql(no_style(), list(apps.get_models()))
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


@dataclass
class Side:
    """One account and everything that hangs off it."""

    name: str
    account: Account
    records: dict[str, list[Model]] = field(default_factory=dict)
    #: Texts anyone who may see the account may see (names, subjects, free text).
    account_texts: set[str] = field(default_factory=set)
    #: Texts of its contacts: names, titles, notes of ties.
    contact_texts: set[str] = field(default_factory=set)
    #: Contact details (phone, e-mail, WeChat): the account team and directors.
    detail_texts: set[str] = field(default_factory=set)
    #: Personal information (hobbies, birthday...): the team's editors and directors.
    personal_texts: set[str] = field(default_factory=set)
    #: Digit runs of its figures (revenue): a figure of a foreign account in a body.
    figure_digits: set[str] = field(default_factory=set)
    #: The survey link's plain token of its invitation.
    survey_token: str = ""

    def add(self, *objs: Model) -> None:
        for obj in objs:
            self.records.setdefault(obj._meta.label, []).append(obj)

    def first(self, label: str) -> Model | None:
        rows = self.records.get(label) or []
        return rows[0] if rows else None


@dataclass
class World:
    personas: dict[str, User]
    colleague: User
    a: Side
    b: Side
    groups: dict[str, CorporateGroup]
    globals: dict[str, list[Model]]
    feed_tokens: dict[str, str]
    unlinked_code: str
    colleague_session: Model

    def sides(self) -> tuple[Side, Side]:
        return (self.a, self.b)


#: Roles of the personas (one per role, and an account manager on no team).
PERSONAS = {
    "director": Role.DIRECTOR,
    "department": Role.DEPARTMENT,
    "owner": Role.MANAGER,
    "service": Role.SERVICE,
    "analyst": Role.ANALYST,
    "admin": Role.ADMIN,
    "outsider": Role.MANAGER,
}


@dataclass(frozen=True)
class Sight:
    """Which sides a persona may see, by kind of data (the product's promise)."""

    accounts: frozenset[str]
    contacts: frozenset[str]
    details: frozenset[str]
    personal: frozenset[str]
    groups: bool


AB, A, NONE = frozenset("ab"), frozenset("a"), frozenset()
SIGHT = {
    "director": Sight(AB, AB, AB, AB, True),
    # The department sees every account and contact; details only on teams it is on.
    "department": Sight(AB, AB, NONE, NONE, True),
    "owner": Sight(A, A, A, A, True),
    # Service reps see contact details of their accounts, not personal information.
    "service": Sight(A, A, A, NONE, True),
    "analyst": Sight(AB, NONE, NONE, NONE, True),
    "admin": Sight(NONE, NONE, NONE, NONE, False),
    "outsider": Sight(NONE, NONE, NONE, NONE, True),
}


def _months(last: datetime.date, n: int) -> list[datetime.date]:
    index = last.year * 12 + last.month - 1
    return [datetime.date((index - k) // 12, (index - k) % 12 + 1, 1) for k in range(n)][::-1]


def _facts(code: str, revenue: Decimal, months: Iterable[datetime.date]) -> list[Model]:
    from kam.ledger.models import AccountMonth

    rows = [
        AccountMonth(
            billing_code=code,
            month=m,
            waybills=41,
            pieces=41,
            weight_kg=Decimal("12.500"),
            revenue=revenue,
            cost=(revenue * Decimal("0.6")).quantize(Decimal("0.01")),
            margin=(revenue * Decimal("0.4")).quantize(Decimal("0.01")),
            costed_waybills=41,
            cod_amount=Decimal(0),
            returns=0,
            lost=0,
            damaged=0,
            on_time=40,
            lanes=2,
            destination_cities=2,
            active_days=12,
        )  # fmt: skip
        for m in months
    ]
    return list(AccountMonth.objects.bulk_create(rows))


@dataclass(frozen=True)
class Texts:
    """The canaries of one side."""

    account: str
    account_en: str
    code: str
    group: str
    group_en: str
    contact1: str
    contact2: str
    title: str
    phone: str
    email: str
    wechat: str
    hobbies: str
    consent: str
    tie_note: str
    purpose: str
    summary: str
    finding: str
    follow_up: str
    case: str
    case_text: str
    comment: str
    notice: str
    plan: str
    plan_item: str
    objective: str
    action: str
    review: str
    revenue: Decimal


TEXTS = {
    "a": Texts(
        account="明达甲方电子有限公司",
        account_en="Mingda Alpha Electronics Co Ltd",
        code="YJALPHA0591",
        group="明达甲方集团",
        group_en="Mingda Alpha Group",
        contact1="林志强甲",
        contact2="周雅琴甲",
        title="甲方供应链副总裁",
        phone="13912340001",
        email="lin.alpha@mingda.example",
        wechat="linzq_alpha",
        hobbies="甲方围棋与茶道",
        consent="甲方履行运输合同所需",
        tie_note="甲方同学关系",
        purpose="甲方季度业务回顾",
        summary="甲方计划扩大华南仓配",
        finding="甲方需要冷链方案",
        follow_up="甲方发送冷链报价",
        case="甲方整批货物延误",
        case_text="甲方客户反映延误两天",
        comment="甲方服务很周到",
        notice="甲方通知事项",
        plan="甲方三年成为首选物流伙伴",
        plan_item="甲方仓配一体化需求",
        objective="甲方收入增长两成",
        action="甲方高层拜访安排",
        review="甲方计划目标清晰",
        revenue=Decimal("2345678.91"),
    ),  # fmt: skip
    "b": Texts(
        account="远航乙方服饰有限公司",
        account_en="Yuanhang Beta Apparel Co Ltd",
        code="YJBETA9731",
        group="远航乙方集团",
        group_en="Yuanhang Beta Group",
        contact1="黄乙龙",
        contact2="刘乙浩",
        title="乙方物流总监",
        phone="13977770002",
        email="huang.beta@yuanhang.example",
        wechat="huangyl_beta",
        hobbies="乙方高尔夫收藏",
        consent="乙方月结对账联系所需",
        tie_note="乙方老乡关系",
        purpose="乙方年度合同谈判",
        summary="乙方考虑更换承运商",
        finding="乙方对价格不满",
        follow_up="乙方准备折扣方案",
        case="乙方冷链温度超标",
        case_text="乙方客户要求赔偿",
        comment="乙方价格太贵了",
        notice="乙方机密通知",
        plan="乙方防守份额计划",
        plan_item="乙方竞争对手低价威胁",
        objective="乙方准时率提升",
        action="乙方价格方案谈判",
        review="乙方计划需补充行动",
        revenue=Decimal("8765432.19"),
    ),  # fmt: skip
}


def _valid_credit_code(n: int) -> str:
    from kam.core.creditcode import check_character

    first17 = f"91350100{n:09d}"
    return first17 + check_character(first17)


def build_side(
    key: str,
    *,
    owner: User,
    service_rep: User | None,
    department: User,
    policy: Model,
    campaign: Model,
    months: list[datetime.date],
) -> Side:
    """One account with a record of every account-scoped kind, through the services."""
    from kam.accounts.services import _pinyin_key
    from kam.coverage import services as coverage
    from kam.coverage.models import Visit
    from kam.service import services as service
    from kam.service import surveys
    from kam.service.models import Invitation

    t = TEXTS[key]
    group = CorporateGroup.objects.create(name=t.group, name_en=t.group_en)
    account = Account.objects.create(
        name=t.account, name_en=t.account_en, credit_code=_valid_credit_code(700 + ord(key)),
        province_code="350000", city_code="350100", tier=1, group=group, is_economic=True,
        search_pinyin=_pinyin_key(t.account, t.account_en), employees=1200,
    )  # fmt: skip
    side = Side(name=key, account=account)
    side.add(group, account)
    side.add(BillingCode.objects.create(account=account, code=t.code))
    side.add(TeamMembership.objects.create(account=account, user=owner, role=TeamRole.OWNER))
    if service_rep is not None:
        side.add(
            TeamMembership.objects.create(
                account=account, user=service_rep, role=TeamRole.SERVICE_REP
            )
        )
    boss = Contact.objects.create(
        account=account, name=t.contact1, title=t.title, phone_mobile=t.phone, email=t.email,
        wechat=t.wechat, hobbies=t.hobbies, birthday=datetime.date(1975, 9, 3),
    )  # fmt: skip
    deputy = Contact.objects.create(
        account=account, name=t.contact2, title=t.title, reports_to=boss,
        email=f"deputy.{t.email}",
    )  # fmt: skip
    side.add(boss, deputy)
    from kam.accounts.models import ConsentRecord, LawfulBasis

    side.add(ConsentRecord.objects.create(
        contact=boss, basis=LawfulBasis.CONTRACT, purpose=t.consent, recorded_by=owner,
        obtained_on=datetime.date(2025, 3, 1),
    ))  # fmt: skip
    side.add(ContactTie.objects.create(from_contact=boss, to_contact=deputy, kind="colleague",
                                       note=t.tie_note))  # fmt: skip
    side.add(StaffTie.objects.create(contact=boss, user=owner, strength=4, note=t.tie_note))

    today = timezone.localdate()
    planned = Visit.objects.create(
        account=account, person=owner, day=today + datetime.timedelta(days=7),
        due=today + datetime.timedelta(days=7), city_code=account.city_code,
    )  # fmt: skip
    side.add(planned)
    report = coverage.report_submit(
        by=owner, account=account, visited_on=today - datetime.timedelta(days=3),
        purpose=t.purpose, summary=t.summary, contacts=[boss],
        findings=[{"kind": "need", "severity": 3, "text": t.finding}],
        follow_ups=[{"title": t.follow_up, "owner": owner,
                     "due_date": today + datetime.timedelta(days=2)}],
    )  # fmt: skip
    side.add(report.visit, report, *report.findings.all(), *report.follow_ups.all())

    case = service.case_open(
        by=owner, account=account, kind="complaint", channel="phone", severity="medium",
        subject=t.case, description=t.case_text, contacts=[boss],
        assignee=service_rep or owner,
    )  # fmt: skip
    side.add(case)
    side.add(service.claim_add(by=department, case=case, amount=Decimal("321.00")))
    case = service.case_transition(by=department, case=case, action="wait",
                                   note=f"{t.case_text}，等待客户")  # fmt: skip
    side.add(*case.events.all(), *case.pauses.all())

    from kam.segmentation import services as segmentation

    # Set to tier 4 by hand, so that the run below proposes tier 1 again (a proposal).
    side.add(segmentation.tier_override(by=department, account=account, tier=4,
                                        reason=f"{t.purpose}，暂定四级"))  # fmt: skip

    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation = Invitation.objects.create(
        campaign=campaign, account=account, contact=boss, token_hash=surveys.token_hash(token),
        expires_at=now + datetime.timedelta(days=30), sent_at=now,
    )  # fmt: skip
    side.add(invitation)
    ratings = {d["key"]: 4 for d in campaign.template.dimensions}  # type: ignore[attr-defined]
    side.add(surveys.response_submit(token=token, ratings=ratings, nps=8, comment=t.comment))
    side.survey_token = secrets.token_urlsafe(32)  # an unanswered second invitation's link
    deputy_invitation = Invitation.objects.create(
        campaign=campaign, account=account, contact=deputy,
        token_hash=surveys.token_hash(side.survey_token),
        expires_at=now + datetime.timedelta(days=30), sent_at=now,
    )  # fmt: skip
    side.add(deputy_invitation)
    side.add(*_facts(t.code, t.revenue, months))
    from kam.ledger.models import AccountRevenue

    # The account list's stored revenue figure: the sum of the facts' last 12 months.
    side.add(
        AccountRevenue.objects.create(
            account=account, as_of=months[-1], revenue=t.revenue * min(12, len(months))
        )
    )
    if key == "b":
        # An account nobody owns: the visit planner lists its visits as unserved.
        orphan = Account.objects.create(
            name="远航乙方二号物流有限公司", name_en="Yuanhang Beta Two Logistics",
            credit_code=_valid_credit_code(900), province_code="440000", city_code="440100",
            tier=1, is_economic=True,
        )  # fmt: skip
        side.add(orphan)
        side.account_texts |= {orphan.name, orphan.name_en}
    from kam.segmentation.models import Alert

    side.add(Alert.objects.create(
        kind=Alert.Kind.SILENCE, account=account, code=t.code, subject=t.code,
        params={"code": t.code, "days": 21, "last": months[-1].isoformat(), "threshold": 14},
        note=t.follow_up,
    ))  # fmt: skip

    _plan_side(side, t, owner=owner, department=department, report=report, case=case)
    _pricing_side(side, t, owner=owner)

    side.account_texts |= {t.account, t.account_en, t.code, t.purpose, t.summary, t.finding,
                           t.follow_up, t.case, t.case_text, t.comment, account.credit_code}  # fmt: skip
    side.contact_texts |= {t.contact1, t.contact2, t.title, t.tie_note, t.consent}
    side.detail_texts |= {t.phone, t.email, t.wechat}
    side.personal_texts |= {t.hobbies}
    digits = str(t.revenue).replace(".", "")
    side.figure_digits |= {digits[:7]}
    return side


def _pricing_side(side: Side, t: Texts, *, owner: User) -> None:
    """A custom card of the account's own (a weight-break rate with its band, a divisor, a
    peak and a discount) and a quote submitted for approval (its discount card and step).
    The standard list card every quote discounts is made once, by the first side."""
    from kam.pricing import quotes, rating, services
    from kam.pricing.models import (
        CardKind,
        DimDivisor,
        PeakSurcharge,
        RateCard,
        RateRule,
        RuleShape,
        WeightBand,
    )  # fmt: skip

    zones = services.ensure_zones()
    today = timezone.localdate()
    if not RateCard.objects.filter(kind=CardKind.LIST).exists():
        services.fill_default_matrix()
        standard = RateCard.objects.create(
            name="矩阵标准价",
            kind=CardKind.LIST,
            effective_from=today - datetime.timedelta(days=400),
        )
        services.set_first_additional_rules(standard, [
            services.RuleRow("express", code, Decimal("1"), Decimal("20"), Decimal("1"), Decimal("5"))
            for code in zones
        ])  # fmt: skip
        services.activate_card(standard)
    card = RateCard.objects.create(
        name=f"{t.account}专属价", kind=CardKind.CUSTOM, account=side.account,
        effective_from=today, notes=f"{t.plan}价格备注",
    )  # fmt: skip
    rule = RateRule.objects.create(
        card=card, product="ground", zone=zones["zone1"], shape=RuleShape.WEIGHT_BREAKS,
        min_charge=Decimal("30"),
    )  # fmt: skip
    band = WeightBand.objects.create(rule=rule, from_kg=0, to_kg=None, per_kg=Decimal("1.2"))
    divisor = DimDivisor.objects.create(card=card, product="ground", divisor=6000)
    peak = PeakSurcharge.objects.create(
        card=card, name=f"{t.plan}旺季", start=today, end=today + datetime.timedelta(days=10),
        percent=Decimal("5"),
    )  # fmt: skip
    services.set_discounts(card, [rating.Discount(Decimal("3"))])
    quote = quotes.quote_create(
        by=owner, account=side.account, strategy="cost_plus",
        discounts=[rating.Discount(Decimal("20"))], valid_until=today + datetime.timedelta(days=30),
        terms=f"{t.plan}报价条款",
    )  # fmt: skip
    quote = quotes.quote_submit(by=owner, quote=quote)
    side.add(card, rule, band, divisor, peak, *card.discounts.all(), quote, quote.card,
             *quote.card.discounts.all(), *quote.steps.all())  # fmt: skip
    side.account_texts |= {card.name, f"{t.plan}价格备注", f"{t.plan}旺季", f"{t.plan}报价条款",
                           quote.number}  # fmt: skip


def _plan_side(side: Side, t: Texts, *, owner: User, department: User, report: Model,
               case: Model) -> None:  # fmt: skip
    """The account's plan of this year with an analysis item from the visit report's
    finding, an objective, an action tracked as a follow-up, and the department's review."""
    from kam.planning import services as planning

    today = timezone.localdate()
    plan = planning.plan_create(by=owner, account=side.account, year=today.year, kind="expand",
                                owner=owner, ambition=t.plan)  # fmt: skip
    finding = report.findings.first()  # type: ignore[attr-defined]
    item = planning.item_add(by=owner, plan=plan, kind="need", text=t.plan_item, finding=finding)
    case_item = planning.item_add(by=owner, plan=plan, kind="problem", text=f"{t.plan_item}二",
                                  case=case)  # fmt: skip
    objective = planning.objective_add(
        by=owner, plan=plan, metric="revenue", title=t.objective, baseline=t.revenue,
        target=t.revenue * 2, target_date=today + datetime.timedelta(days=40),
    )  # fmt: skip
    action = planning.action_add(by=owner, plan=plan, title=t.action, horizon=30, owner=owner,
                                 due_date=today + datetime.timedelta(days=5))  # fmt: skip
    action = planning.action_track(by=owner, action=action)
    planning.plan_submit(by=owner, plan=plan)
    review = planning.plan_review(by=department, plan=plan, decision="returned", comment=t.review)
    plan.refresh_from_db()
    side.add(plan, item, case_item, objective, action, review, action.follow_up)
    side.account_texts |= {t.plan, t.plan_item, t.objective, t.action, t.review}
    # An opportunity from the report's finding, with a contact of the account as a buying
    # influence.
    from kam.planning.models import Solution

    contact = side.first("accounts.Contact")
    opportunity = planning.opportunity_create(
        by=owner, account=side.account, solution=Solution.objects.get(code="cold-chain"),
        owner=owner, title=f"{t.finding}机会", annual_revenue=t.revenue, probability=40,
        expected_close=today + datetime.timedelta(days=90), finding=finding,
        decision_criteria=f"{t.plan}标准", influences=[(contact, "economic_buyer")],
    )  # fmt: skip
    side.add(opportunity, *opportunity.influences.all())
    side.account_texts |= {f"{t.finding}机会", f"{t.plan}标准"}
    # The account's health: today's snapshot (with its parts) and the list's stored score.
    from kam.planning import health
    from kam.planning.models import AccountHealth, HealthSnapshot

    health.health_refresh(today=today, account_ids=[side.account.pk])
    side.add(HealthSnapshot.objects.get(account=side.account, day=today),
             AccountHealth.objects.get(account=side.account))  # fmt: skip
    _wallet_side(side, t, owner=owner, department=department)


def _wallet_side(side: Side, t: Texts, *, owner: User, department: User) -> None:
    """A wallet estimate with a competitor's share, a stage change and an open stage
    proposal of the account."""
    from kam.planning import stages, wallet
    from kam.planning.models import Competitor

    competitor = Competitor.objects.filter(name="矩阵对手").first() or wallet.competitor_save(
        by=department, name="矩阵对手", name_en="Matrix rival"
    )  # fmt: skip
    estimate = wallet.estimate_add(
        by=owner, account=side.account, total_spend=Decimal("300000000"), source="customer",
        confidence="high", source_note=f"{t.plan}钱包来源", shares=[(competitor.pk, 20)],
    )  # fmt: skip
    here = stages.index(side.account.stage)
    up = stages.STAGES[here + 1] if here + 1 < len(stages.STAGES) else stages.STAGES[here - 1]
    change = stages.stage_set(by=department, account=side.account, stage=up,
                              reason=f"{t.plan}阶段理由")  # fmt: skip
    here = stages.index(up)
    nxt = stages.STAGES[here + 1] if here + 1 < len(stages.STAGES) else stages.STAGES[here - 1]
    proposal = stages.proposal_create(by=owner, account=side.account, to_stage=nxt,
                                      reason=f"{t.plan}建议理由")  # fmt: skip
    side.add(estimate, *estimate.shares.all(), change, proposal)
    side.account_texts |= {f"{t.plan}钱包来源", f"{t.plan}阶段理由", f"{t.plan}建议理由"}


def build_world() -> World:
    """Users and company-wide records first (small ids), then A's rows, then B's."""
    from kam.accounts.privacy.retention import retention_run
    from kam.ledger.models import ImportBatch
    from kam.segmentation import services as segmentation
    from kam.segmentation.models import Run
    from kam.service.models import SlaPolicy
    from kam.service.surveys import template_default

    personas = {
        name: user_create(username=f"m_{name}", role=role, display_name=f"矩阵{name}")
        for name, role in PERSONAS.items()
    }
    department = personas["department"]
    policy = SlaPolicy.objects.create(
        name="矩阵通用", tier=None, severity="medium", clock="business", response_minutes=120,
        resolution_minutes=480, warning_shares=[50, 80], warning_actions=[],
        violation_actions=[],
    )  # fmt: skip
    from kam.service.models import Campaign

    campaign = Campaign.objects.create(
        name="矩阵满意度调查", template=template_default(), created_by=department,
        expires_at=timezone.now() + datetime.timedelta(days=30),
        status=Campaign.CampaignStatus.SENT, sent_at=timezone.now(),
    )  # fmt: skip
    batch = ImportBatch.objects.create(
        source=ImportBatch.Source.CLI, file_name="matrix.csv", created_by=department
    )
    today = timezone.localdate()
    last = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    months = _months(last, 24)
    unlinked = "YJUNLINKED77"
    _facts(unlinked, Decimal("1500.00"), months)

    bump_sequences(A_BASE)
    a = build_side("a", owner=personas["owner"], service_rep=personas["service"],
                   department=department, policy=policy, campaign=campaign, months=months)  # fmt: skip
    bump_sequences(B_BASE)
    # The colleague's id is distinctive too: a page about them by id is compared with one
    # about nobody, the id replaced by a placeholder.
    colleague = user_create(username="m_colleague", role=Role.MANAGER, display_name="矩阵同事")
    b = build_side("b", owner=colleague, service_rep=None, department=department,
                   policy=policy, campaign=campaign, months=months)  # fmt: skip
    # Notifications are a user's own: the colleague's is foreign to every persona.
    b.add(Notification.objects.create(user=colleague, subject=TEXTS["b"].notice, url="/"))
    b.account_texts.add(TEXTS["b"].notice)
    # A signed-in session of the colleague's: their browser and address are theirs alone
    # (and the administrators', who manage logins).
    colleague_session = _session(colleague, COLLEAGUE_AGENT, COLLEAGUE_ADDRESS)
    bump_sequences(LATER_BASE)
    own_sessions = [_session(user, f"MatrixAgent/{name}", "198.51.100.10")
                    for name, user in personas.items()]  # fmt: skip
    own_notices = {
        name: Notification.objects.create(user=user, subject=f"{TEXTS['a'].notice}{name}", url="/")
        for name, user in personas.items()
    }

    run = segmentation.run_execute(run=segmentation.run_create(trigger=Run.Trigger.MANUAL))
    # A visit plan in which B's second account has visits nobody can take (it has no
    # owner): the plan page lists them, with the account's name and value.
    from kam.coverage import services as coverage

    plan = coverage.plan_generate(by=None, start=today + datetime.timedelta(days=1), weeks=4)
    assert b.records["accounts.Account"][1].pk in {u["account"] for u in plan.unserved}
    from kam.segmentation.models import TierProposal, Valuation

    for side in (a, b):
        for model in (Valuation, TierProposal):
            side.add(*model.objects.filter(account=side.account))
    feed_tokens = {name: _feed_token(user) for name, user in [*personas.items(),
                                                             ("colleague", colleague)]}  # fmt: skip
    return World(
        personas=personas, colleague=colleague, a=a, b=b,
        groups={"a": a.account.group, "b": b.account.group},  # type: ignore[dict-item]
        globals={"segmentation.Run": [run], "coverage.VisitPlan": [plan],
                 "accounts.RetentionRun": [retention_run(as_of=today, dry_run=True)],
                 "core.UserSession": own_sessions, "ledger.ImportBatch": [batch],
                 "service.SlaPolicy": [policy], "service.Campaign": [campaign],
                 "core.Notification": list(own_notices.values())},
        feed_tokens=feed_tokens, unlinked_code=unlinked, colleague_session=colleague_session,
    )  # fmt: skip


#: The colleague's browser and address: staff data that only they and administrators see.
COLLEAGUE_AGENT = "MatrixColleagueAgent/7.7"
COLLEAGUE_ADDRESS = "198.51.100.77"


def _session(user: User, agent: str, address: str) -> Model:
    from kam.core.models import UserSession

    now = timezone.now()
    return UserSession.objects.create(
        user=user, session_key=secrets.token_hex(16), client_address=address, user_agent=agent,
        created_at=now, last_active_at=now, expires_at=now + datetime.timedelta(hours=8),
    )  # fmt: skip


def _feed_token(user: User) -> str:
    """The plain secret of the user's iCalendar feed (only its hash is stored)."""
    from kam.coverage import services as coverage

    return coverage.feed_token_renew(user=user)[1]


def account_scoped_models() -> list[type[Model]]:
    """Models whose rows belong to an account: a FK path to Account (or to a Contact)."""
    found = []
    for model in _app_models():
        if model._meta.label in MODELS_OUT_OF_SCOPE or model is Account:
            found.append(model) if model is Account else None
            continue
        if _path_to_account(model):
            found.append(model)
    return found


def _path_to_account(model: type[Model], depth: int = 0) -> bool:
    if depth > 3:
        return False
    for f in model._meta.get_fields():
        if not (f.is_relation and f.concrete and f.related_model):
            continue
        if f.related_model is Account:
            return True
        if f.related_model is not User and _path_to_account(f.related_model, depth + 1):
            return True
    return False


def unbuilt_models(world: World) -> list[str]:
    """Account-scoped models with no row on both sides (history tables excepted)."""
    missing = []
    for model in account_scoped_models():
        label = model._meta.label
        if model.__name__.startswith("Historical"):
            continue
        if not (world.a.records.get(label) and world.b.records.get(label)):
            missing.append(label)
    return missing


def settings_for_world() -> dict[str, Any]:
    """Settings the module's world is built and read under (the suite's fixed key)."""
    from tests.conftest import TEST_FIELD_KEY

    return {
        "FIELD_KEYS": [TEST_FIELD_KEY],
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "TASKS": {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
        "SEGMENT_AFTER_IMPORT": False,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "LANGUAGE_CODE": settings.LANGUAGE_CODE,
    }
