"""Coverage and visits: the policy (versioned), who covers what, visit plans, visits with
their reports (走访表), findings and follow-ups."""

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from kam.accounts.models import TIER_CHOICES, Category, CoverageModel

#: Default visits per working day for a person without a capacity of their own.
DEFAULT_CAPACITY = 3


class PolicyVersion(models.Model):
    """One published version of the coverage policy; the newest is in force."""

    number = models.PositiveIntegerField(_("version"), unique=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("published by"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("published"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("coverage policy version")
        verbose_name_plural = _("coverage policy versions")

    def __str__(self) -> str:
        return f"v{self.number}"


class PolicyRule(models.Model):
    """Coverage for a tier, optionally narrowed to a category (blank: every category).

    Where several rules match an account (it holds several categories), the most
    demanding wins: the shortest cadence and interval."""

    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    tier = models.PositiveSmallIntegerField(_("tier"), choices=TIER_CHOICES)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    coverage_model = models.CharField(
        _("coverage model"), max_length=20, choices=CoverageModel.choices
    )
    cadence_days = models.PositiveSmallIntegerField(
        _("visit every (days)"), validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    executive_every = models.PositiveSmallIntegerField(
        _("executive visit every (visits)"), default=0, validators=[MaxValueValidator(52)],
        help_text=_("Every n-th visit is at executive level; 0 for none."),
    )  # fmt: skip
    survey_months = models.PositiveSmallIntegerField(
        _("satisfaction survey every (months)"), default=12,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )  # fmt: skip

    class Meta:
        ordering = ["tier", "category"]
        verbose_name = _("coverage rule")
        verbose_name_plural = _("coverage rules")
        constraints = [
            models.UniqueConstraint(
                fields=["version", "tier", "category"], name="coverage_rule_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(cadence_days__gte=1), name="coverage_cadence_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} T{self.tier} {self.category or '*'}"


class Assignment(models.Model):
    """An industry manager for an industry, or a territory manager for a province or city."""

    class Kind(models.TextChoices):
        INDUSTRY = "industry", _("Industry manager")
        TERRITORY = "territory", _("Territory manager")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
        related_name="coverage_assignments",
    )  # fmt: skip
    industry = models.ForeignKey(
        "accounts.Industry", verbose_name=_("industry"), on_delete=models.CASCADE,
        null=True, blank=True,
    )  # fmt: skip
    province_code = models.CharField(_("province"), max_length=6, blank=True)
    city_code = models.CharField(_("city"), max_length=6, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "province_code", "city_code", "industry__position"]
        verbose_name = _("coverage assignment")
        verbose_name_plural = _("coverage assignments")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="industry", industry__isnull=False, province_code="")
                    | models.Q(kind="territory", industry__isnull=True)
                    & ~models.Q(province_code="")
                ),
                name="coverage_assignment_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.user}"


class Capacity(models.Model):
    """How many visits a person can make on one working day."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("person"), on_delete=models.CASCADE,
        related_name="visit_capacity",
    )  # fmt: skip
    visits_per_day = models.PositiveSmallIntegerField(
        _("visits per working day"), validators=[MinValueValidator(1), MaxValueValidator(20)]
    )

    class Meta:
        verbose_name = _("visit capacity")
        verbose_name_plural = _("visit capacities")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(visits_per_day__gte=1), name="coverage_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.visits_per_day}"


class VisitPlan(models.Model):
    """One run of the planner: its horizon, what it placed and what it could not."""

    start = models.DateField(_("from"))
    weeks = models.PositiveSmallIntegerField(_("weeks"))
    policy = models.ForeignKey(
        PolicyVersion, verbose_name=_("policy"), on_delete=models.PROTECT, related_name="+"
    )
    due = models.PositiveIntegerField(_("due visits"), default=0)
    placed = models.PositiveIntegerField(_("planned visits"), default=0)
    #: Road km of every planned day (from each person's base city and back).
    km = models.PositiveIntegerField(_("km by road"), default=0)
    #: City codes of covered accounts that have no coordinates (their road is not counted).
    unknown_cities = models.JSONField(default=list, blank=True)
    #: [{"account": id, "name": ..., "person": id|None, "due": "YYYY-MM-DD", "reason": ...,
    #:   "value": "123.45"}], lowest value first.
    unserved = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("generated by"), on_delete=models.SET_NULL,
        null=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("generated"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("visit plan")
        verbose_name_plural = _("visit plans")

    def __str__(self) -> str:
        return f"{self.start} +{self.weeks}w"

    @property
    def placed_share(self) -> float:
        return self.placed / self.due if self.due else 1.0


class Visit(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("visit status", "Planned")
        DONE = "done", pgettext_lazy("visit status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("visit status", "Cancelled")
        #: Its day passed without a report (set by ``kam coverage missed``; selectors also
        #: read a planned visit in the past as missed, so none shows as planned).
        MISSED = "missed", pgettext_lazy("visit status", "Missed")

    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="visits",
    )  # fmt: skip
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visited by"), on_delete=models.PROTECT,
        related_name="visits",
    )  # fmt: skip
    day = models.DateField(_("date"), db_index=True)
    due = models.DateField(pgettext_lazy("visit", "due"), null=True, blank=True)
    city_code = models.CharField(_("city"), max_length=6, blank=True)
    executive = models.BooleanField(_("executive level"), default=False)
    priority = models.BooleanField(_("open alerts or complaints"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    plan = models.ForeignKey(
        VisitPlan, verbose_name=_("plan"), on_delete=models.SET_NULL, null=True, blank=True,
        related_name="visits",
    )  # fmt: skip
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    #: This missed visit completed a run of missed visits that was alerted.
    missed_alert = models.BooleanField(default=False)
    history = HistoricalRecords(excluded_fields=["version", "missed_alert"])

    class Meta:
        ordering = ["day", "person_id", "city_code", "id"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        indexes = [
            models.Index(fields=["person", "day"]),
            # The coverage dashboard's aggregates over done visits (the last visit of each
            # account, the visits in the period), read from the index alone.
            models.Index(fields=["status", "account", "day"], name="visit_status_account_day"),
            models.Index(fields=["status", "day", "account"], name="visit_status_day_account"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.account}"

    def status_on(self, today: datetime.date) -> str:
        """The status as of ``today``: a planned visit whose day has passed without a report
        is missed, even before ``kam coverage missed`` has written it."""
        if self.status == self.Status.PLANNED and self.day < today:
            return self.Status.MISSED
        return str(self.status)

    @property
    def shown_status(self) -> str:
        """:meth:`status_on` the local date (Asia/Shanghai), for pages and the API."""
        return self.status_on(timezone.localdate())

    @property
    def shown_status_label(self) -> str:
        return str(self.Status(self.shown_status).label)


class VisitReport(models.Model):
    """The visit report (走访表), sent to the key-account department's queue."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        REVIEWED = "reviewed", _("Reviewed")

    visit = models.OneToOneField(Visit, on_delete=models.CASCADE, related_name="report")
    purpose = models.CharField(_("purpose"), max_length=300)
    summary = models.TextField(_("summary"), max_length=8000)
    contacts = models.ManyToManyField(
        "accounts.Contact", verbose_name=_("their attendees"), blank=True, related_name="+"
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("our attendees"), blank=True, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("submitted by"), on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("reviewed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("visit report")
        # The department's queue: the reports awaiting review, oldest first, and their count.
        indexes = [
            models.Index(fields=["status", "submitted_at", "id"], name="report_queue_by_submitted")
        ]
        verbose_name_plural = _("visit reports")

    def __str__(self) -> str:
        return f"{self.visit}: {self.purpose}"


class Finding(models.Model):
    class Kind(models.TextChoices):
        NEED = "need", _("Need")
        COMPLAINT = "complaint", _("Complaint")
        COMPETITOR = "competitor", _("Competitor intelligence")
        OPPORTUNITY = "opportunity", _("Opportunity")
        PRICE = "price", _("Price pressure")
        SERVICE = "service", _("Service problem")

    class Severity(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    report = models.ForeignKey(VisitReport, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    text = models.CharField(_("finding"), max_length=1000)

    class Meta:
        ordering = ["-severity", "id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return self.text


class FollowUp(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up status", "Open")
        IN_PROGRESS = "in_progress", pgettext_lazy("follow-up status", "In progress")
        DONE = "done", pgettext_lazy("follow-up status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("follow-up status", "Cancelled")

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    #: The visit report whose next step this is; none for a follow-up another app opened
    #: (an account plan's action), which names its origin instead.
    report = models.ForeignKey(
        VisitReport, on_delete=models.CASCADE, related_name="follow_ups", null=True, blank=True
    )
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        related_name="follow_ups",
    )  # fmt: skip
    title = models.CharField(_("next step"), max_length=300)
    #: Where a follow-up without a report came from: a label and a link back (the app that
    #: opened it is built on coverage, so coverage cannot name it otherwise).
    origin_label = models.CharField(
        pgettext_lazy("follow-up origin", "from"), max_length=300, blank=True
    )
    origin_url = models.CharField(max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="follow_ups",
    )  # fmt: skip
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("closed by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    #: 0: not overdue yet; 1: the owner was reminded; 2: escalated to manager and department.
    escalation = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    #: Who changed the status, owner or due date, and when (the department's audit trail).
    history = HistoricalRecords(excluded_fields=["escalated_at"])

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("follow-up")
        # The open follow-ups by due date (the queue, the dashboard's counts).
        indexes = [
            models.Index(fields=["status", "due_date", "id"], name="follow_up_by_status_due")
        ]
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="cancelled") | ~models.Q(cancel_reason=""),
                name="coverage_followup_cancel_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


def _feed_token() -> str:
    """A new feed secret (also the default of the first migration's plain column)."""
    return secrets.token_urlsafe(24)


def feed_token_hash(plain: str) -> str:
    """What is stored of a feed secret: its SHA-256, as of API and survey tokens."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


class FeedToken(models.Model):
    """The secret in a person's iCalendar feed URL (phones subscribe without a session).
    Only its hash is stored: the link is shown once, when it is made."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="visit_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return str(self.user)
