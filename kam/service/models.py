"""Service cases under SLA clocks, and satisfaction surveys (征询函).

The rules that span rows (a warning before its violation, a resolution note, no close with
an open claim, contacts of the case's own account) are checked by the services; what one
row can hold is a database constraint here.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import TIER_CHOICES, Account, Contact


def _localized(zh: str, en: str) -> str:
    return en if en and (get_language() or "").startswith("en") else zh


class CaseType(models.TextChoices):
    COMPLAINT = "complaint", _("Complaint")
    INQUIRY = "inquiry", _("Inquiry")
    REQUEST = "request", _("Service request")
    CLAIM = "claim", _("Claim")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")
    VISIT = "visit", _("Visit")
    PORTAL = "portal", _("Customer portal")
    SURVEY = "survey", _("Survey")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("case status", "New")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("case status", "Acknowledged")
    IN_PROGRESS = "in_progress", pgettext_lazy("case status", "In progress")
    WAITING = "waiting", pgettext_lazy("case status", "Waiting for customer")
    RESOLVED = "resolved", pgettext_lazy("case status", "Resolved")
    CLOSED = "closed", pgettext_lazy("case status", "Closed")
    REOPENED = "reopened", pgettext_lazy("case status", "Reopened")


OPEN_STATUSES = [Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING,
                 Status.REOPENED]  # fmt: skip


class Action(models.TextChoices):
    NOTIFY_ASSIGNEE = "assignee", _("Notify the assignee")
    NOTIFY_MANAGER = "manager", _("Notify the assignee's manager")
    NOTIFY_OWNER = "owner", _("Notify the account owner")
    NOTIFY_DEPARTMENT = "department", _("Notify the key-account department")
    REASSIGN = "reassign", _("Re-assign")


class RootCause(models.Model):
    """A managed list of root causes (administrators extend it)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=80)
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("root cause")
        verbose_name_plural = _("root causes")

    def __str__(self) -> str:
        return _localized(self.name_zh, self.name_en)


class SlaPolicy(models.Model):
    """Targets for one account tier (or every tier) and severity."""

    class ClockKind(models.TextChoices):
        BUSINESS = "business", _("Business hours on working days")
        CALENDAR = "calendar", _("Calendar hours")

    name = models.CharField(_("name"), max_length=100)
    tier = models.PositiveSmallIntegerField(
        _("tier"), choices=TIER_CHOICES, null=True, blank=True, help_text=_("Empty: any tier.")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    clock = models.CharField(
        _("clock"), max_length=10, choices=ClockKind.choices, default=ClockKind.BUSINESS
    )
    day_start = models.TimeField(_("business day starts"), default="09:00")
    day_end = models.TimeField(_("business day ends"), default="18:00")
    response_minutes = models.PositiveIntegerField(
        _("first response target (minutes)"), validators=[MinValueValidator(1)]
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution target (minutes)"), validators=[MinValueValidator(1)]
    )
    warning_shares = models.JSONField(
        _("warnings at (percent of the target)"), default=list, blank=True
    )
    warning_actions = models.JSONField(_("actions on a warning"), default=list, blank=True)
    violation_actions = models.JSONField(_("actions on a violation"), default=list, blank=True)
    reassign_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("re-assign to on violation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["tier", "severity"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["tier", "severity"], condition=models.Q(active=True),
                name="sla_one_active_policy_per_tier_severity",
            ),
            models.CheckConstraint(
                condition=models.Q(day_start__lt=models.F("day_end")), name="sla_day_start_before_end"
            ),
        ]  # fmt: skip

    def __str__(self) -> str:
        return self.name


class Case(models.Model):
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="service_cases"
    )
    kind = models.CharField(_("type"), max_length=10, choices=CaseType.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    waybills = models.JSONField(_("waybill numbers"), default=list, blank=True)
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts involved"), blank=True, related_name="service_cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.PROTECT,
        related_name="service_cases",
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=15, choices=Status.choices, default=Status.NEW, db_index=True
    )
    root_cause = models.ForeignKey(
        RootCause, verbose_name=_("root cause"), on_delete=models.PROTECT, null=True, blank=True
    )
    resolution_note = models.TextField(_("resolution note"), max_length=4000, blank=True)
    claim_amount = models.DecimalField(
        _("claimed amount (CNY)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
    )  # fmt: skip
    # The policy's terms at opening (a later policy edit does not move running clocks).
    policy = models.ForeignKey(
        SlaPolicy, verbose_name=_("SLA policy"), on_delete=models.SET_NULL, null=True, blank=True
    )
    clock = models.CharField(max_length=10, choices=SlaPolicy.ClockKind.choices, blank=True)
    day_start = models.PositiveSmallIntegerField(default=540)  # minutes after midnight
    day_end = models.PositiveSmallIntegerField(default=1080)
    response_target = models.PositiveIntegerField(null=True, blank=True)  # clock minutes
    resolution_target = models.PositiveIntegerField(null=True, blank=True)
    warning_shares = models.JSONField(default=list, blank=True)
    # Derived by the clock (kept for sorting the queue and for the measures).
    response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    sla_state = models.CharField(max_length=10, default="ok")  # ok / warning / violated
    response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    response_met = models.BooleanField(null=True, blank=True)
    resolution_met = models.BooleanField(null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("service case")
        verbose_name_plural = _("service cases")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="claim") | models.Q(claim_amount__gt=0),
                name="service_claim_has_amount",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["resolved", "closed"])
                | ~models.Q(resolution_note=""),
                name="service_resolved_has_note",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    @property
    def number(self) -> str:
        return f"S{self.pk:06d}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class AssignmentTurn(models.Model):
    """Whose turn it is in a round robin (one row per rotation, e.g. ``service``): the
    rotation locks this row, so two cases opened at the same instant go to two people."""

    name = models.CharField(max_length=40, unique=True)
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    turns = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.last_user_id}"


class Claim(models.Model):
    """A claim (理赔) on a case; a case with an open claim cannot be closed."""

    class ClaimStatus(models.TextChoices):
        OPEN = "open", _("Open")
        PAID = "paid", _("Paid")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="claims")
    amount = models.DecimalField(
        _("amount (CNY)"), max_digits=14, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.OPEN
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="service_claim_positive")
        ]

    def __str__(self) -> str:
        return f"{self.amount} ({self.get_status_display()})"


class CasePause(models.Model):
    """An interval the clocks did not run (waiting for the customer, or resolved until a
    reopen)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} – {self.ended_at or '…'}"


class CaseEvent(models.Model):
    """The case timeline: every status change, assignment, and everything the clock did."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        STATUS = "status", _("Status changed")
        PAUSED = "paused", _("Clock paused")
        RESUMED = "resumed", _("Clock resumed")
        WARNING = "warning", _("SLA warning")
        VIOLATION = "violation", _("SLA violated")
        NOTIFIED = "notified", _("Notified")
        ASSIGNED = "assigned", _("Assigned")
        CLAIM = "claim", _("Claim")
        NOTE = "note", _("Note")

    class Clock(models.TextChoices):
        RESPONSE = "response", _("first response")
        RESOLUTION = "resolution", _("resolution")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    clock = models.CharField(max_length=10, choices=Clock.choices, blank=True)
    share = models.PositiveSmallIntegerField(null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    text = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            # The tick is idempotent: each threshold of each clock fires once per case.
            models.UniqueConstraint(
                fields=["case", "clock", "share"],
                condition=models.Q(kind__in=["warning", "violation"]),
                name="service_threshold_fires_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


# --- surveys -------------------------------------------------------------------------------


DEFAULT_DIMENSIONS = [
    {"key": "function", "zh": "功能", "en": "Function"},
    {"key": "quality", "zh": "服务质量", "en": "Service quality"},
    {"key": "level", "zh": "服务水平", "en": "Service level"},
    {"key": "price", "zh": "价格", "en": "Price"},
    {"key": "overall", "zh": "总体满意度", "en": "Overall"},
]


def default_dimensions() -> list[dict[str, str]]:
    return [dict(d) for d in DEFAULT_DIMENSIONS]


class SurveyTemplate(models.Model):
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100)
    intro_zh = models.TextField(_("Chinese introduction"), max_length=2000, blank=True)
    intro_en = models.TextField(_("English introduction"), max_length=2000, blank=True)
    dimensions = models.JSONField(_("rated dimensions (1-5)"), default=default_dimensions)
    ask_nps = models.BooleanField(_("ask the NPS question (0-10)"), default=True)
    ask_comment = models.BooleanField(_("ask for free text"), default=True)
    low_rating = models.PositiveSmallIntegerField(
        _("a rating at or below this opens a follow-up case"), default=2
    )
    low_nps = models.PositiveSmallIntegerField(
        _("an NPS answer at or below this opens a follow-up case"), default=4
    )

    class Meta:
        ordering = ["name_zh"]
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(low_rating__lte=5, low_nps__lte=10), name="survey_low_in_range"
            )
        ]

    def __str__(self) -> str:
        return _localized(self.name_zh, self.name_en)


class Campaign(models.Model):
    class CampaignStatus(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENT = "sent", _("Sent")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    template = models.ForeignKey(
        SurveyTemplate, verbose_name=_("template"), on_delete=models.PROTECT
    )
    tiers = models.JSONField(_("tiers"), default=list, blank=True)
    categories = models.JSONField(_("categories"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    owners = models.JSONField(_("owners"), default=list, blank=True)
    expires_at = models.DateTimeField(_("links expire"))
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("survey campaign")
        verbose_name_plural = _("survey campaigns")

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """One contact's link. Only the SHA-256 of the token is stored; a reminder issues a
    new token (the old link then says it was replaced)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    previous_hashes = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["account_id", "contact_id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="survey_one_invite_each")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.contact_id}"


class Response(models.Model):
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    ratings = models.JSONField(default=dict)
    average = models.DecimalField(max_digits=3, decimal_places=2, null=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(max_length=4000, blank=True)
    language = models.CharField(max_length=10, blank=True)
    submitted_at = models.DateTimeField()
    follow_up = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__lte=10),
                name="survey_nps_0_to_10",
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.account_id}"
