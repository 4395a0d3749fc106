"""Account plans (大客户计划): a plan per account or corporate group and year, its analysis
(SWOT, GPN), measurable objectives, 30/60/90-day actions and the department's reviews.

Nothing here is a figure typed by hand: the plan's situation and each objective's progress
are read from the ledger's facts and the other apps at view time (``selectors.py``)."""

import datetime
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kam.accounts.models import TIER_CHOICES, BuyingRole

#: How often the department reviews a plan, by the account's tier, until a director
#: changes it (DOMAIN.md section 4: tier 1 quarterly).
DEFAULT_REVIEW_DAYS = {1: 90, 2: 180, 3: 365, 4: 365, 5: 365}


class ReviewPolicy(models.Model):
    """Days between the department's reviews of a plan, per tier (directors edit it)."""

    tier = models.PositiveSmallIntegerField(_("tier"), choices=TIER_CHOICES, unique=True)
    interval_days = models.PositiveSmallIntegerField(
        _("review every (days)"), validators=[MinValueValidator(7), MaxValueValidator(730)]
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["tier"]
        verbose_name = _("plan review schedule")
        verbose_name_plural = _("plan review schedules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(interval_days__gte=7), name="planning_review_interval_week"
            )
        ]

    def __str__(self) -> str:
        return f"T{self.tier}: {self.interval_days}"


class PlanKind(models.TextChoices):
    ACQUIRE = "acquire", pgettext_lazy("plan type", "Acquire")
    EXPAND = "expand", pgettext_lazy("plan type", "Expand")
    RETAIN = "retain", pgettext_lazy("plan type", "Retain")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("plan status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("plan status", "Awaiting review")
    APPROVED = "approved", pgettext_lazy("plan status", "Signed off")
    RETURNED = "returned", pgettext_lazy("plan status", "Returned")


class AccountPlan(models.Model):
    """The strategic plan of one account, or of one corporate group (covering its
    accounts), for one year."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="plans",
    )  # fmt: skip
    group = models.ForeignKey(
        "accounts.CorporateGroup", verbose_name=_("corporate group"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="plans",
    )  # fmt: skip
    year = models.PositiveSmallIntegerField(
        _("year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    kind = models.CharField(pgettext_lazy("plan", "type"), max_length=10, choices=PlanKind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="account_plans",
    )  # fmt: skip
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("plan team"), blank=True, related_name="+"
    )
    start = models.DateField(_("plan starts"))
    end = models.DateField(_("plan ends"))
    ambition = models.TextField(_("where the account should go"), max_length=4000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PlanStatus.choices, default=PlanStatus.DRAFT,
        db_index=True,
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    #: When the department last signed the plan off or returned it, and when it is due
    #: again (from :class:`ReviewPolicy`; before the first review, counted from the start).
    last_review_at = models.DateTimeField(_("last reviewed"), null=True, blank=True)
    next_review_due = models.DateField(_("next review due"), db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords(m2m_fields=[team])

    class Meta:
        ordering = ["-year", "id"]
        verbose_name = _("account plan")
        verbose_name_plural = _("account plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(account__isnull=False, group__isnull=True)
                | models.Q(account__isnull=True, group__isnull=False),
                name="planning_plan_account_or_group",
            ),
            models.UniqueConstraint(
                fields=["account", "year"],
                condition=models.Q(account__isnull=False),
                name="planning_one_plan_per_account_year",
            ),  # fmt: skip
            models.UniqueConstraint(
                fields=["group", "year"],
                condition=models.Q(group__isnull=False),
                name="planning_one_plan_per_group_year",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=models.Q(start__lte=models.F("end")), name="planning_plan_start_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} {self.year}"

    @property
    def subject(self) -> object:
        """The account or the group the plan is for."""
        return self.account if self.account_id else self.group

    @property
    def editable(self) -> bool:
        """Objectives, items and actions change while the plan is worked on (a plan awaiting
        review is frozen until the department decides)."""
        return self.status != PlanStatus.SUBMITTED


class PlanItem(models.Model):
    """One line of the plan's analysis: SWOT or GPN (goals, problems, needs)."""

    class Kind(models.TextChoices):
        STRENGTH = "strength", _("Strength")
        WEAKNESS = "weakness", _("Weakness")
        OPPORTUNITY = "opportunity", pgettext_lazy("SWOT", "Opportunity")
        THREAT = "threat", _("Threat")
        GOAL = "goal", pgettext_lazy("GPN", "Goal")
        PROBLEM = "problem", pgettext_lazy("GPN", "Problem")
        NEED = "need", pgettext_lazy("GPN", "Need")

    SWOT = ("strength", "weakness", "opportunity", "threat")
    GPN = ("goal", "problem", "need")

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    text = models.CharField(_("text"), max_length=1000)
    #: Where it came from: a finding of a visit report or a service case of the plan's
    #: account(s), when there is one.
    finding = models.ForeignKey(
        "coverage.Finding", verbose_name=_("visit-report finding"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    case = models.ForeignKey(
        "service.Case", verbose_name=_("service case"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "kind", "id"]
        verbose_name = _("plan analysis item")
        verbose_name_plural = _("plan analysis items")

    def __str__(self) -> str:
        return self.text


class Metric(models.TextChoices):
    """What an objective measures; each is read from data (the ledger's facts, the surveys)."""

    REVENUE = "revenue", _("Revenue (CNY, 12 months)")
    WAYBILLS = "waybills", _("Volume (waybills, 12 months)")
    WEIGHT = "weight", _("Weight (kg, 12 months)")
    MARGIN = "margin", _("Margin (CNY, 12 months)")
    LANES = "lanes", _("Lanes used (latest month)")
    PRODUCTS = "products", _("Products used (12 months)")
    NPS = "nps", _("NPS (latest survey)")
    ON_TIME = "on_time", _("On-time rate (%, 3 months)")


class Objective(models.Model):
    """A measurable objective: a metric, where it stood (baseline), where it should be
    (target) and by when. Progress is never typed: it is the metric's value now."""

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="objectives")
    metric = models.CharField(_("metric"), max_length=10, choices=Metric.choices)
    title = models.CharField(_("objective"), max_length=300, blank=True)
    baseline = models.DecimalField(_("baseline"), max_digits=20, decimal_places=2)
    target = models.DecimalField(_("target"), max_digits=20, decimal_places=2)
    target_date = models.DateField(_("target date"))
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "target_date", "id"]
        verbose_name = _("objective")
        verbose_name_plural = _("objectives")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(target=models.F("baseline")),
                name="planning_objective_target_differs",
            )
        ]

    def __str__(self) -> str:
        return self.title or self.get_metric_display()


class Horizon(models.IntegerChoices):
    D30 = 30, _("30 days")
    D60 = 60, _("60 days")
    D90 = 90, _("90 days")


class Action(models.Model):
    """A 30 / 60 / 90-day action. Made a coverage follow-up, it is tracked (and reminded,
    escalated) there, and its status is the follow-up's."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("action status", "Open")
        IN_PROGRESS = "in_progress", pgettext_lazy("action status", "In progress")
        DONE = "done", pgettext_lazy("action status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("action status", "Cancelled")

    OPEN_STATUSES = ("open", "in_progress")

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(_("action"), max_length=300)
    horizon = models.PositiveSmallIntegerField(_("horizon"), choices=Horizon.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    due_date = models.DateField(_("due date"))
    resources = models.CharField(_("resources asked for"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    follow_up = models.OneToOneField(
        "coverage.FollowUp", verbose_name=_("follow-up"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "horizon", "due_date", "id"]
        verbose_name = _("plan action")
        verbose_name_plural = _("plan actions")
        indexes = [models.Index(fields=["status", "due_date"], name="planning_action_due")]

    def __str__(self) -> str:
        return self.title

    @property
    def tracked_status(self) -> str:
        """The follow-up's status once the action is one, else its own."""
        return str(self.follow_up.status) if self.follow_up_id and self.follow_up else self.status

    @property
    def tracked_status_label(self) -> str:
        return str(self.Status(self.tracked_status).label)

    def overdue_on(self, today: datetime.date) -> bool:
        return self.tracked_status in self.OPEN_STATUSES and self.due_date < today


class Review(models.Model):
    """The department's decision on a submitted plan: signed off, or returned with comments."""

    class Decision(models.TextChoices):
        APPROVED = "approved", pgettext_lazy("review", "Signed off")
        RETURNED = "returned", pgettext_lazy("review", "Returned")

    plan = models.ForeignKey(AccountPlan, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comments"), max_length=4000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("reviewed"), auto_now_add=True)
    next_review_due = models.DateField(_("next review due"))
    history = HistoricalRecords()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(decision="returned") | ~models.Q(comment=""),
                name="planning_returned_has_comment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} {self.decision}"


# --- opportunities for solutions ------------------------------------------------------------


class Solution(models.Model):
    """A solution the carrier sells (warehousing, cold chain, COD ...); directors edit the
    catalogue."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("solution")
        verbose_name_plural = _("solutions")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name in the active language (Chinese unless English is active)."""
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh


class Stage(models.TextChoices):
    IDENTIFIED = "identified", pgettext_lazy("opportunity stage", "Identified")
    QUALIFIED = "qualified", pgettext_lazy("opportunity stage", "Qualified")
    PROPOSAL = "proposal", pgettext_lazy("opportunity stage", "Proposal")
    NEGOTIATION = "negotiation", pgettext_lazy("opportunity stage", "Negotiation")
    WON = "won", pgettext_lazy("opportunity stage", "Won")
    LOST = "lost", pgettext_lazy("opportunity stage", "Lost")


#: The open stages in order; won and lost close an opportunity.
OPEN_STAGES = ("identified", "qualified", "proposal", "negotiation")
CLOSED_STAGES = ("won", "lost")

#: The questions of each open stage that must all be answered yes to leave it forward.
QUALIFIERS: dict[str, tuple[tuple[str, Any], ...]] = {
    "identified": (
        ("need", _("Has the customer confirmed the need?")),
        ("contact", _("Do we know who would buy it?")),
    ),
    "qualified": (
        ("budget", _("Is there a budget or a cost the solution replaces?")),
        ("decider", _("Have we met the economic buyer?")),
        ("timing", _("Is there a date by which the customer decides?")),
    ),
    "proposal": (
        ("sent", _("Has the proposal been sent?")),
        ("criteria", _("Do we know the customer's decision criteria?")),
    ),
    "negotiation": (
        ("price", _("Is the price agreed?")),
        ("terms", _("Are the contract terms agreed?")),
    ),
}


class Opportunity(models.Model):
    """A solution that could be sold to an account: its value, chance, stage and who buys."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="opportunities",
    )  # fmt: skip
    solution = models.ForeignKey(
        Solution, verbose_name=_("solution"), on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="opportunities",
    )  # fmt: skip
    annual_revenue = models.DecimalField(
        _("estimated annual revenue"), max_digits=14, decimal_places=2,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    annual_margin = models.DecimalField(
        _("estimated annual margin"), max_digits=14, decimal_places=2, default=0
    )
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    expected_close = models.DateField(_("expected close date"))
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.IDENTIFIED,
        db_index=True,
    )  # fmt: skip
    #: {stage: {question key: true/false}}: the answers to the stages' qualifiers.
    qualifiers = models.JSONField(_("stage qualifiers"), default=dict, blank=True)
    #: Why the last move skipped a stage (or went back), when it did.
    stage_reason = models.CharField(_("reason for the stage change"), max_length=1000, blank=True)
    decision_criteria = models.TextField(_("decision criteria"), max_length=4000, blank=True)
    competitors = models.TextField(_("competitors"), max_length=4000, blank=True)
    closed_reason = models.TextField(_("reason won or lost"), max_length=4000, blank=True)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    finding = models.ForeignKey(
        "coverage.Finding", verbose_name=_("visit-report finding"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["expected_close", "id"]
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=100),
                name="planning_opportunity_probability",
            ),
            models.CheckConstraint(
                condition=models.Q(stage__in=OPEN_STAGES) | ~models.Q(closed_reason=""),
                name="planning_opportunity_closed_reason",
            ),
        ]
        indexes = [models.Index(fields=["account", "stage"], name="planning_opp_account_stage")]

    def __str__(self) -> str:
        return self.title or f"{self.solution} · {self.account}"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def weighted(self) -> Any:
        return self.annual_revenue * self.probability / 100

    def answered_yes(self, stage: str) -> bool:
        answers = (self.qualifiers or {}).get(stage, {})
        return all(answers.get(key) is True for key, _label in QUALIFIERS.get(stage, ()))


class BuyingInfluence(models.Model):
    """A contact of the opportunity's account and the part they play in buying it."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="influences"
    )
    contact = models.ForeignKey(
        "accounts.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    role = models.CharField(_("buying role"), max_length=20, choices=BuyingRole.choices)
    history = HistoricalRecords()

    class Meta:
        ordering = ["opportunity", "id"]
        verbose_name = _("buying influence")
        verbose_name_plural = _("buying influences")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"], name="planning_influence_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id} {self.contact_id} {self.role}"


# --- stakeholder coverage rules and account health ------------------------------------------

#: The parts of an account's health score, in the order pages show them.
HEALTH_PARTS = ("plan", "players", "freshness", "satisfaction", "value", "service", "alerts")

#: The weights (out of 100) until a director changes them.
DEFAULT_HEALTH_WEIGHTS = {"plan": 15, "players": 15, "freshness": 15, "satisfaction": 15,
                          "value": 20, "service": 10, "alerts": 10}  # fmt: skip


class CoverageRules(models.Model):
    """The stakeholder coverage rules that warn on the plan and account pages: each on or
    off, with its parameter (directors edit them; one row, the company's)."""

    no_decision_maker = models.BooleanField(_("warn when no decision maker is known"), default=True)
    no_coach = models.BooleanField(_("warn when there is no coach (内线)"), default=True)
    opponent = models.BooleanField(_("warn about an opponent with high influence"), default=True)
    stale_contact = models.BooleanField(_("warn about a key contact not met lately"), default=True)
    stale_days = models.PositiveSmallIntegerField(
        _("a key contact is not met lately after (days)"), default=90,
        validators=[MinValueValidator(7), MaxValueValidator(730)],
    )  # fmt: skip
    no_sponsor = models.BooleanField(_("warn when we have no executive sponsor"), default=True)
    sponsor_max_tier = models.PositiveSmallIntegerField(
        _("an executive sponsor is needed up to tier"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )  # fmt: skip
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("stakeholder coverage rules")
        verbose_name_plural = _("stakeholder coverage rules")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(stale_days__gte=7, stale_days__lte=730),
                name="planning_rules_stale_days",
            ),
            models.CheckConstraint(
                condition=models.Q(sponsor_max_tier__gte=1, sponsor_max_tier__lte=5),
                name="planning_rules_sponsor_tier",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


class HealthSettings(models.Model):
    """The weights of the health score's parts (whole numbers adding up to 100) and the drop
    that raises an alert (directors edit them; one row, the company's)."""

    w_plan = models.PositiveSmallIntegerField(_("plan current and reviewed"), default=15)
    w_players = models.PositiveSmallIntegerField(_("key players known"), default=15)
    w_freshness = models.PositiveSmallIntegerField(_("contact freshness"), default=15)
    w_satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), default=15)
    w_value = models.PositiveSmallIntegerField(_("value trend"), default=20)
    w_service = models.PositiveSmallIntegerField(_("service breaches"), default=10)
    w_alerts = models.PositiveSmallIntegerField(_("open alerts"), default=10)
    drop_alert = models.PositiveSmallIntegerField(
        _("alert on a drop of (points)"), default=15,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )  # fmt: skip
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("account health settings")
        verbose_name_plural = _("account health settings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    w_plan__lte=100,
                    w_players__lte=100,
                    w_freshness__lte=100,
                    w_satisfaction__lte=100,
                    w_value__lte=100,
                    w_service__lte=100,
                    w_alerts__lte=100,
                ),
                name="planning_health_weights_range",
            ),
            models.CheckConstraint(
                condition=models.Q(drop_alert__gte=1, drop_alert__lte=100),
                name="planning_health_drop_range",
            ),
        ]

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    @property
    def weights(self) -> dict[str, int]:
        return {part: int(getattr(self, f"w_{part}")) for part in HEALTH_PARTS}


class HealthSnapshot(models.Model):
    """An account's health score on a day, with each part's score and the facts behind it
    (``parts``: ``{part: {"score": 0-100 or null, "weight": w, "facts": {...}}}``)."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="+",
    )  # fmt: skip
    day = models.DateField(_("date"))
    score = models.PositiveSmallIntegerField(
        _("health"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    parts = models.JSONField(default=dict)

    class Meta:
        ordering = ["account", "-day"]
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="planning_health_once_a_day"),
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="planning_health_score_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day} {self.score}"


class AccountHealth(models.Model):
    """An account's latest health score: the account list's column, stored one row per
    account so that sorting the list by it reads an index, not every snapshot."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True,
        related_name="health_figure",
    )  # fmt: skip
    day = models.DateField()
    score = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["score"], name="planning_health_by_score")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.score}"


# --- share of wallet ---------------------------------------------------------------------------


class Competitor(models.Model):
    """A carrier competing for the accounts' logistics spend; the department and directors
    keep the list."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    notes = models.CharField(_("notes"), max_length=1000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("competitor")
        verbose_name_plural = _("competitors")

    def __str__(self) -> str:
        from django.utils.translation import get_language

        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name


class CompanySize(models.TextChoices):
    """Size bands by employees (the benchmarks' second key)."""

    SMALL = "small", _("Small (under 300 employees)")
    MEDIUM = "medium", _("Medium (300–999 employees)")
    LARGE = "large", _("Large (1,000–4,999 employees)")
    XLARGE = "xlarge", _("Very large (5,000 employees or more)")


#: The lower bound of each size band, in employees.
SIZE_BANDS = (("xlarge", 5000), ("large", 1000), ("medium", 300), ("small", 0))


class WalletBenchmark(models.Model):
    """Logistics spend per employee and year for an industry and a size band (no industry:
    any industry); directors edit them. What an estimate is derived from when nobody has
    entered one."""

    industry = models.ForeignKey(
        "accounts.Industry", verbose_name=_("industry"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    size = models.CharField(_("company size"), max_length=10, choices=CompanySize.choices)
    spend_per_employee = models.DecimalField(
        _("logistics spend per employee (CNY / year)"), max_digits=12, decimal_places=2,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["industry__position", "industry__code", "size"]
        verbose_name = _("wallet benchmark")
        verbose_name_plural = _("wallet benchmarks")
        constraints = [
            models.UniqueConstraint(fields=["industry", "size"], name="planning_benchmark_once"),
            models.CheckConstraint(
                condition=models.Q(spend_per_employee__gte=0), name="planning_benchmark_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.industry or '*'} {self.size}: {self.spend_per_employee}"


class WalletEstimate(models.Model):
    """An estimate of an account's total logistics spend a year, dated, with its source and
    confidence, the competitors' shares and the share the account carries itself (in-house).
    Estimates are kept: the latest is the account's, the others its trend."""

    class Source(models.TextChoices):
        CUSTOMER = "customer", _("Told by the customer")
        TENDER = "tender", _("Tender documents")
        REPORT = "report", _("Annual report or filings")
        FIELD = "field", _("Our own estimate")
        BENCHMARK = "benchmark", _("Industry benchmark")

    class Confidence(models.TextChoices):
        LOW = "low", pgettext_lazy("confidence", "Low")
        MEDIUM = "medium", pgettext_lazy("confidence", "Medium")
        HIGH = "high", pgettext_lazy("confidence", "High")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="wallet_estimates",
    )  # fmt: skip
    as_of = models.DateField(_("estimated on"))
    total_spend = models.DecimalField(
        _("total logistics spend (CNY / year)"), max_digits=16, decimal_places=2,
        validators=[MinValueValidator(0)],
    )  # fmt: skip
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    source_note = models.CharField(_("source details"), max_length=500, blank=True)
    confidence = models.CharField(_("confidence"), max_length=6, choices=Confidence.choices)
    inhouse_share = models.DecimalField(
        _("in-house logistics share (%)"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    #: Our revenue over the ledger's trailing 12 months when the estimate was entered (the
    #: trend's share at that date; today's share is read from the ledger).
    our_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["account", "-as_of", "-id"]
        verbose_name = _("wallet estimate")
        verbose_name_plural = _("wallet estimates")
        indexes = [models.Index(fields=["account", "-as_of", "-id"], name="planning_wallet_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_spend__gte=0), name="planning_wallet_spend_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(inhouse_share__gte=0, inhouse_share__lte=100),
                name="planning_wallet_inhouse_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of} {self.total_spend}"


class CompetitorShare(models.Model):
    """A competitor's share of an estimate's total spend."""

    estimate = models.ForeignKey(WalletEstimate, on_delete=models.CASCADE, related_name="shares")
    competitor = models.ForeignKey(
        Competitor, verbose_name=_("competitor"), on_delete=models.PROTECT, related_name="+"
    )
    share = models.DecimalField(
        _("share (%)"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip

    class Meta:
        ordering = ["estimate", "-share", "id"]
        verbose_name = _("competitor's share")
        verbose_name_plural = _("competitors' shares")
        constraints = [
            models.UniqueConstraint(
                fields=["estimate", "competitor"], name="planning_competitor_share_once"
            ),
            models.CheckConstraint(
                condition=models.Q(share__gte=0, share__lte=100), name="planning_share_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competitor_id} {self.share}"


# --- relationship stages -------------------------------------------------------------------------


def stage_label(value: str) -> str:
    """The relationship stage's name (``Account.stage``'s choices) in the active language."""
    from kam.accounts.models import Stage as RelationshipStage

    return str(RelationshipStage(value).label) if value in RelationshipStage.values else value


class StageLabels:
    from_stage: str
    to_stage: str

    @property
    def from_label(self) -> str:
        return stage_label(self.from_stage)

    @property
    def to_label(self) -> str:
        return stage_label(self.to_stage)


class StageCriteria(models.Model):
    """One version of the stages' entry criteria. Directors' edits add a version; the old
    ones stay, and each proposal names the version it was evaluated with.

    ``criteria``: {stage: {criterion: threshold}} with the criteria of
    :data:`kam.planning.stages.CRITERIA` (a missing criterion does not apply)."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    criteria = models.JSONField(_("entry criteria"), default=dict)
    note = models.CharField(_("what changed"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("stage entry criteria")
        verbose_name_plural = _("stage entry criteria")

    def __str__(self) -> str:
        return f"v{self.version}"


class StageProposal(StageLabels, models.Model):
    """A proposed change of an account's relationship stage with its evidence (what the data
    said about each criterion, and which a person must confirm), awaiting the account's
    owner or the department."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("stage proposal", "Open")
        ACCEPTED = "accepted", pgettext_lazy("stage proposal", "Accepted")
        OVERRIDDEN = "overridden", pgettext_lazy("stage proposal", "Overridden")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="stage_proposals",
    )  # fmt: skip
    from_stage = models.CharField(_("from stage"), max_length=20)
    to_stage = models.CharField(_("proposed stage"), max_length=20)
    criteria = models.ForeignKey(
        StageCriteria, verbose_name=_("criteria version"), on_delete=models.PROTECT,
        related_name="proposals",
    )  # fmt: skip
    #: [{"stage", "criterion", "required", "value", "met": true / false / null}]; null: no
    #: data, a person confirms it.
    evidence = models.JSONField(_("evidence"), default=list)
    reason = models.CharField(_("reason"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("proposed"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(_("reason for the decision"), max_length=1000, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("stage proposal")
        verbose_name_plural = _("stage proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="open"),
                name="planning_one_open_stage_proposal",
            ),  # fmt: skip
            models.CheckConstraint(
                condition=~models.Q(status="overridden") | ~models.Q(decision_reason=""),
                name="planning_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.from_stage}->{self.to_stage}"


class StageChange(StageLabels, models.Model):
    """One change of an account's relationship stage (the stage history): when, from what,
    to what, who, why, and the proposal it came from, if any."""

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="stage_changes",
    )  # fmt: skip
    from_stage = models.CharField(_("from stage"), max_length=20, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=20)
    on = models.DateField(_("date"), db_index=True)
    reason = models.CharField(_("reason"), max_length=1000, blank=True)
    proposal = models.ForeignKey(
        StageProposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["account", "-on", "-id"]
        verbose_name = _("stage change")
        verbose_name_plural = _("stage history")
        indexes = [models.Index(fields=["account", "-on", "-id"], name="planning_stage_latest")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.from_stage}->{self.to_stage} {self.on}"
