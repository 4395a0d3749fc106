"""Segmentation runs and what they produce: values per code / account / group, tier
proposals and the tier history, alerts, and the versioned rule sets."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from kam.accounts.models import TIER_CHOICES, Account, CorporateGroup


class RuleSet(models.Model):
    """A version of the rules (thresholds, weights, cut-offs); never edited, only superseded."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    rules = models.JSONField(_("rules"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        verbose_name = _("rule set")
        verbose_name_plural = _("rule sets")

    #: The note stored with version 1, the built-in defaults (a marker, shown translated).
    DEFAULTS_NOTE = "defaults"

    def __str__(self) -> str:
        return f"v{self.version}"

    @property
    def note_display(self) -> str:
        """The note as pages show it: the built-in defaults' marker in the reader's language."""
        from django.utils.translation import pgettext

        if self.note == self.DEFAULTS_NOTE:
            return pgettext("rule set note", "Built-in default rules")
        return self.note


class Run(models.Model):
    class Trigger(models.TextChoices):
        IMPORT = "import", _("After an import")
        NIGHTLY = "nightly", _("Nightly")
        MANUAL = "manual", _("On demand")
        DEMO = "demo", _("Demo data")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    rule_set = models.ForeignKey(
        RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="runs"
    )
    as_of = models.DateField(_("last month"), null=True, blank=True)  # first day of the month
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    import_batch_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("started by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    stats = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("segmentation run")
        verbose_name_plural = _("segmentation runs")

    def __str__(self) -> str:
        return f"#{self.pk}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Level(models.TextChoices):
    CODE = "code", _("Billing account code")
    ACCOUNT = "account", _("Account")
    GROUP = "group", _("Corporate group")


class Valuation(models.Model):
    """The figures, score, categories and proposed tier of one entity in one run."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="valuations")
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    code = models.CharField(_("billing account code"), max_length=40, blank=True)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    group = models.ForeignKey(
        CorporateGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    revenue = models.DecimalField(_("revenue, trailing 12 months"), max_digits=20, decimal_places=2)
    revenue_prev = models.DecimalField(max_digits=20, decimal_places=2)
    margin = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    margin_rate = models.FloatField(null=True, blank=True)
    waybills = models.BigIntegerField(_("waybills"))
    active_months = models.PositiveSmallIntegerField(_("active months"))
    months_with_facts = models.PositiveSmallIntegerField(default=0)
    first_month = models.DateField(null=True, blank=True)
    last_month = models.DateField(null=True, blank=True)
    growth = models.FloatField(_("growth"), null=True, blank=True)
    volatility = models.FloatField(_("volatility"), null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"))
    cum_share = models.FloatField(_("cumulative share"))
    abc = models.CharField(_("class"), max_length=1)
    score = models.FloatField(_("value score"))
    score_parts = models.JSONField(default=dict)
    headroom = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    categories = models.JSONField(default=list)
    proposed_tier = models.PositiveSmallIntegerField(_("proposed tier"), choices=TIER_CHOICES)
    tier_by_score = models.PositiveSmallIntegerField(choices=TIER_CHOICES)
    current_tier = models.PositiveSmallIntegerField(
        _("current tier"), choices=TIER_CHOICES, null=True, blank=True
    )
    reasons = models.JSONField(default=list)  # [{"code": ..., "params": {...}}]
    clv = models.DecimalField(_("lifetime value"), max_digits=20, decimal_places=2, null=True,
                              blank=True)  # fmt: skip
    clv_model = models.CharField(max_length=10, blank=True)  # "bgnbd" / "sbg"
    p_alive = models.FloatField(null=True, blank=True)
    forecast = models.JSONField(null=True, blank=True)
    is_candidate = models.BooleanField(default=False)
    owner_name = models.CharField(max_length=150, blank=True)
    industry_name = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["rank"]
        indexes = [
            models.Index(fields=["run", "level", "rank"], name="valuation_run_level_rank"),
            models.Index(fields=["run", "account"], name="valuation_run_account"),
            models.Index(fields=["run", "code"], name="valuation_run_code"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=0, score__lte=100), name="valuation_score_0_100"
            ),
            models.CheckConstraint(
                condition=models.Q(proposed_tier__gte=1, proposed_tier__lte=5),
                name="valuation_tier_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.level}/{self.code or self.account_id or self.group_id}"


class TierProposal(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        OVERRIDDEN = "overridden", _("Overridden")
        SUPERSEDED = "superseded", _("Superseded")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="proposals")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    valuation = models.ForeignKey(Valuation, on_delete=models.CASCADE, related_name="+")
    current_tier = models.PositiveSmallIntegerField(choices=TIER_CHOICES, null=True, blank=True)
    proposed_tier = models.PositiveSmallIntegerField(_("proposed tier"), choices=TIER_CHOICES)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["proposed_tier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "account"], name="proposal_one_per_run")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.current_tier} -> {self.proposed_tier}"


class TierChange(models.Model):
    """Every change of an account's tier made here: accepted proposals and overrides."""

    class Kind(models.TextChoices):
        ACCEPTED = "accepted", _("Proposal accepted")
        OVERRIDE = "override", _("Overridden")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    proposal = models.ForeignKey(
        TierProposal, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    from_tier = models.PositiveSmallIntegerField(_("from"), choices=TIER_CHOICES, null=True)
    to_tier = models.PositiveSmallIntegerField(_("to"), choices=TIER_CHOICES)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    reason = models.TextField(_("reason"), max_length=2000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.from_tier} -> {self.to_tier}"


class Alert(models.Model):
    class Kind(models.TextChoices):
        DECLINE = "decline", _("Decline")
        SILENCE = "silence", _("Silence")
        LANE_LOSS = "lane_loss", _("Lane lost")
        NEW_CODE = "new_code", _("New qualifying code")
        #: Raised by the planning app's nightly health job (kam.planning.health).
        HEALTH = "health", _("Health drop")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        RESOLVED = "resolved", _("Resolved")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code = models.CharField(_("billing account code"), max_length=40, blank=True)
    subject = models.CharField(max_length=60, blank=True)  # e.g. the lane "440100-310100"
    run = models.ForeignKey(Run, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    params = models.JSONField(default=dict)
    created_at = models.DateTimeField(_("raised"), auto_now_add=True, db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(_("note"), max_length=2000, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            # One unresolved alert per subject: a nightly run does not raise it again.
            models.UniqueConstraint(
                fields=["kind", "account", "code", "subject"],
                condition=~models.Q(status="resolved"),
                name="alert_one_unresolved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.account_id or self.code}"
