"""Imports, the lake's file catalogue, and the monthly facts per billing account code."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportBatch(models.Model):
    """One import: a file (web or CLI) or an API push. Visible in the lake whole or not at all."""

    class Source(models.TextChoices):
        WEB = "web", _("Upload")
        CLI = "cli", _("Command line")
        API = "api", _("API")
        DEMO = "demo", _("Demo data")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        COMMITTED = "committed", _("Done")
        FAILED = "failed", _("Failed")
        INTERRUPTED = "interrupted", _("Interrupted")

    class Stage(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        READING = "reading", _("Reading the file")
        VALIDATING = "validating", _("Checking rows")
        WRITING = "writing", _("Writing to the lake")
        FACTS = "facts", _("Building monthly facts")
        DONE = "done", _("Finished")

    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    stage = models.CharField(
        _("stage"), max_length=12, choices=Stage.choices, default=Stage.WAITING
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("file"), max_length=255)
    # Where the uploaded file waits for the worker (removed once the import ends).
    upload_path = models.CharField(max_length=500, blank=True)
    file_size = models.BigIntegerField(_("size (bytes)"), default=0)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    encoding_requested = models.CharField(max_length=20, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    rows_read = models.BigIntegerField(_("read"), default=0)
    accepted = models.BigIntegerField(_("accepted"), default=0)
    rejected = models.BigIntegerField(_("rejected"), default=0)
    duplicates = models.BigIntegerField(_("duplicates"), default=0)
    conflicts = models.BigIntegerField(_("conflicts"), default=0)
    # Waybills the lake held in transit that this batch brought in a later state.
    updated = models.BigIntegerField(_("updated"), default=0)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(default=0)
    months = models.JSONField(default=list, blank=True)  # ["2026-01", ...] touched by this batch
    warnings = models.JSONField(default=list, blank=True)  # [{"code": ..., "params": {...}}]
    error_code = models.CharField(max_length=40, blank=True)
    error_params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    worker_pid = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"#{self.pk} {self.file_name}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMMITTED, self.Status.FAILED, self.Status.INTERRUPTED)

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.progress_total:
            return 0
        return min(99, int(100 * self.progress_done / self.progress_total))


class LakeFile(models.Model):
    """A Parquet file that belongs to the lake. Only files named here are read."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.PROTECT, related_name="lake_files")
    path = models.CharField(max_length=300, unique=True)  # relative to settings.LAKE_DIR
    month = models.CharField(max_length=7, db_index=True)  # YYYY-MM (Beijing calendar)
    rows = models.BigIntegerField()

    class Meta:
        ordering = ["month", "path"]

    def __str__(self) -> str:
        return self.path


class AccountMonth(models.Model):
    """The facts of one billing account code in one month, built by DuckDB from the lake.

    Money is exact: sums of the lake's DECIMAL(18,2) columns. ``margin`` and ``cost`` cover
    the waybills whose cost is known (``costed_waybills``); ``on_time`` counts delivered
    waybills with a promised time (``promised``) delivered by it.
    """

    billing_code = models.CharField(_("billing account code"), max_length=40)
    month = models.DateField(_("month"))  # the first day of the month
    waybills = models.BigIntegerField(_("waybills"))
    pieces = models.BigIntegerField(_("pieces"))
    weight_kg = models.DecimalField(_("weight (kg)"), max_digits=20, decimal_places=3)
    revenue = models.DecimalField(_("revenue (CNY)"), max_digits=20, decimal_places=2)
    cost = models.DecimalField(_("cost (CNY)"), max_digits=20, decimal_places=2)
    margin = models.DecimalField(_("margin (CNY)"), max_digits=20, decimal_places=2)
    costed_waybills = models.BigIntegerField(default=0)
    cod_amount = models.DecimalField(_("COD amount (CNY)"), max_digits=20, decimal_places=2)
    returns = models.BigIntegerField(_("returns"))
    returned = models.BigIntegerField(_("returned to sender"), default=0)
    lost = models.BigIntegerField(_("lost"))
    damaged = models.BigIntegerField(_("damaged"))
    promised = models.BigIntegerField(default=0)
    on_time = models.BigIntegerField(_("on time"))
    consumer_waybills = models.BigIntegerField(default=0)
    lanes = models.IntegerField(_("lanes"))
    destination_cities = models.IntegerField(_("destination cities"))
    active_days = models.IntegerField(_("active days"))
    # The product mix: waybills and revenue per product (the contract's closed list).
    express_waybills = models.BigIntegerField(default=0)
    express_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    standard_waybills = models.BigIntegerField(default=0)
    standard_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    ground_waybills = models.BigIntegerField(default=0)
    ground_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    cold_waybills = models.BigIntegerField(default=0)
    cold_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)
    international_waybills = models.BigIntegerField(default=0)
    international_revenue = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        ordering = ["billing_code", "month"]
        # No index on the month alone: readers by month read most of the table anyway, and
        # the index doubled the cost of replacing a month's facts (bench/ledger).
        constraints = [
            models.UniqueConstraint(fields=["billing_code", "month"], name="account_month_unique")
        ]

    def __str__(self) -> str:
        return f"{self.billing_code} {self.month:%Y-%m}"


class AccountRevenue(models.Model):
    """An account's revenue over the trailing 12 months ending ``as_of`` (the ledger's
    latest month), summed over its billing codes' AccountMonth facts, and over the 12 months
    before those: the account list's revenue column, stored so that sorting 100,000
    accounts by it reads one row per account instead of summing each account's facts, and
    a manager's book of business on the home page (revenue and growth). Refreshed when
    facts are rebuilt and when a billing code is added or removed
    (:func:`kam.ledger.selectors.refresh_revenue_12m`); accounts with no facts in either
    period have no row. Used only while its ``as_of`` is the ledger's latest month;
    otherwise the readers sum the facts themselves."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True,
        related_name="revenue_figure",
    )  # fmt: skip
    as_of = models.DateField()  # the last month of the period (its first day)
    revenue = models.DecimalField(max_digits=20, decimal_places=2)
    #: The 12 months before the period (growth is ``revenue`` against it).
    revenue_prev = models.DecimalField(max_digits=20, decimal_places=2, default=0)

    class Meta:
        indexes = [
            models.Index(fields=["as_of"], name="ledger_revenue_as_of"),
            # The account list sorted by revenue, highest first, walks it from the top.
            models.Index(fields=["revenue"], name="ledger_revenue_by_revenue"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of:%Y-%m} {self.revenue}"


class UnlinkedCode(models.Model):
    """A billing code in the facts that no archive account holds, with its totals over all
    its months: what the unlinked codes' list (*Shipments -> Unlinked codes*) reads, a row
    per such code instead of grouping every fact of every code (948,000 facts in bench/web)
    twice a page. Refreshed from the facts by every rebuild of the facts, and for one code
    when its billing code is removed from an account
    (:func:`kam.ledger.selectors.refresh_unlinked_codes`); a code linked since its row was
    written is left out by the reader. Used while the lake has files (facts come from
    rebuilds then); otherwise the reader groups the facts itself: same rows."""

    billing_code = models.CharField(max_length=40, unique=True)
    waybills = models.BigIntegerField()
    revenue = models.DecimalField(max_digits=20, decimal_places=2)
    first_month = models.DateField()
    last_month = models.DateField()
    months = models.IntegerField()

    def __str__(self) -> str:
        return self.billing_code


class FactFile(models.Model):
    """A Parquet file of per-lane facts (``facts/lanes/month=YYYY-MM/b<batch>_....parquet``):
    the lanes that matter of each code in a month, the 10 biggest by revenue among those used
    at least twice (``sql/facts.sql``). One file per month is current: the import's commit
    that rebuilds a month replaces its rows, so readers switch with the database; the files
    it replaced are removed by the next import."""

    batch = models.ForeignKey(
        ImportBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="fact_files"
    )
    kind = models.CharField(max_length=20, default="lanes")
    month = models.CharField(max_length=7, db_index=True)  # YYYY-MM (Beijing calendar)
    path = models.CharField(max_length=300, unique=True)  # relative to settings.LAKE_DIR
    rows = models.BigIntegerField()

    class Meta:
        ordering = ["kind", "month", "path"]

    def __str__(self) -> str:
        return self.path
