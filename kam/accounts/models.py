"""The key-account archive: companies, corporate groups, people, ties and teams.

Invariants that the database can hold are constraints here; the rest (no cycles in
groups or org charts, valid credit codes and regions) is checked in ``clean()`` and
enforced by the services, which call ``full_clean()`` before every write.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.core import creditcode, regions
from kam.core.fields import BoundedTextField, EncryptedDateField, EncryptedTextField
from kam.core.models import AccessLog


def _localized(zh: str, en: str) -> str:
    return en if en and (get_language() or "").startswith("en") else zh


class Industry(models.Model):
    """An industry; the list is seeded from the domain and administrators can extend it."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=60)
    name_en = models.CharField(_("English name"), max_length=60)
    position = models.PositiveSmallIntegerField(_("position"), default=100)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self) -> str:
        return _localized(self.name_zh, self.name_en)


class CorporateGroup(models.Model):
    """A corporate group (集团); groups nest (a group can belong to a larger group)."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    notes = BoundedTextField(_("notes"), max_length=4000, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["version", "updated_at"])

    class Meta:
        ordering = ["name"]
        verbose_name = _("corporate group")
        verbose_name_plural = _("corporate groups")

    def __str__(self) -> str:
        return _localized(self.name, self.name_en)

    def clean(self) -> None:
        seen = {self.pk} if self.pk else set()
        node = self.parent
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": _("A group cannot be nested inside itself.")})
            seen.add(node.pk)
            node = node.parent


class Category(models.TextChoices):
    ECONOMIC = "economic", _("Economic key account")
    GROUP = "group", _("Group account")
    STRATEGIC = "strategic", _("Strategic account")
    IMPORTANT = "important", _("Important account")
    POTENTIAL = "potential", _("Potential key account")


class Stage(models.TextChoices):
    EXPLORATORY = "exploratory", _("Exploratory")
    BASIC = "basic", _("Basic")
    COOPERATIVE = "cooperative", _("Cooperative")
    INTERDEPENDENT = "interdependent", _("Interdependent")
    INTEGRATED = "integrated", _("Integrated")


class CoverageModel(models.TextChoices):
    # The ways of covering an account (派驻, 客户代表, 行业经理制, 片区经理制); "Industry manager"
    # is also a team role (行业经理), hence the context.
    RESIDENT = "resident", pgettext_lazy("coverage model", "Resident manager")
    REPRESENTATIVE = "representative", pgettext_lazy("coverage model", "Account representative")
    INDUSTRY = "industry", pgettext_lazy("coverage model", "Industry manager")
    TERRITORY = "territory", pgettext_lazy("coverage model", "Territory manager")


class ProfitStatus(models.TextChoices):
    PROFIT = "profit", _("Profitable")
    BREAKEVEN = "breakeven", _("Break-even")
    LOSS = "loss", _("Loss-making")
    UNKNOWN = "unknown", _("Unknown")


class AccountStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    PROSPECT = "prospect", _("Prospect")
    LOST = "lost", _("Lost")


# Spelled out so that each label stays lazy (translated when shown, not at import).
TIER_CHOICES = [
    (1, _("Tier 1")),
    (2, _("Tier 2")),
    (3, _("Tier 3")),
    (4, _("Tier 4")),
    (5, _("Tier 5")),
]


class Account(models.Model):
    """A customer company in the archive."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, null=True, blank=True
    )
    legal_representative = models.CharField(_("legal representative"), max_length=100, blank=True)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, null=True, blank=True
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    main_products = models.CharField(_("main products"), max_length=500, blank=True)
    annual_output_value = models.DecimalField(
        _("annual output value (CNY)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    profit_status = models.CharField(
        _("profit status"),
        max_length=10,
        choices=ProfitStatus.choices,
        default=ProfitStatus.UNKNOWN,
    )
    province_code = models.CharField(_("province"), max_length=6, blank=True, db_index=True)
    city_code = models.CharField(_("city"), max_length=6, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    group = models.ForeignKey(
        CorporateGroup,
        verbose_name=_("corporate group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="accounts",
    )
    # Categories are not exclusive; one column each keeps filters simple on every database.
    is_economic = models.BooleanField(Category.ECONOMIC.label, default=False)
    is_group = models.BooleanField(Category.GROUP.label, default=False)
    is_strategic = models.BooleanField(Category.STRATEGIC.label, default=False)
    is_important = models.BooleanField(Category.IMPORTANT.label, default=False)
    is_potential = models.BooleanField(Category.POTENTIAL.label, default=False)
    tier = models.PositiveSmallIntegerField(
        _("tier"), choices=TIER_CHOICES, null=True, blank=True, db_index=True
    )
    stage = models.CharField(
        _("relationship stage"), max_length=20, choices=Stage.choices, default=Stage.EXPLORATORY
    )
    coverage_model = models.CharField(
        _("coverage model"), max_length=20, choices=CoverageModel.choices, blank=True
    )
    logistics_spend_estimate = models.DecimalField(
        _("estimated total logistics spend (CNY / year)"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    inhouse_logistics_share = models.DecimalField(
        _("in-house logistics share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    status = models.CharField(
        _("status"), max_length=10, choices=AccountStatus.choices, default=AccountStatus.ACTIVE
    )
    notes = BoundedTextField(_("notes"), max_length=4000, blank=True)
    # Pinyin initials and full pinyin of the names, for search (“hwjs” finds 华为技术).
    search_pinyin = models.CharField(max_length=600, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["search_pinyin", "version", "updated_at"])

    CATEGORY_FIELDS = {
        Category.ECONOMIC: "is_economic",
        Category.GROUP: "is_group",
        Category.STRATEGIC: "is_strategic",
        Category.IMPORTANT: "is_important",
        Category.POTENTIAL: "is_potential",
    }

    class Meta:
        ordering = ["name"]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(tier__isnull=True) | models.Q(tier__gte=1, tier__lte=5),
                name="account_tier_1_to_5",
            ),
        ]
        # The account list's default order (name, then id) read from an index: without it a
        # page of a director's list sorted all 100,000 accounts (bench/web).
        indexes = [models.Index(fields=["name", "id"], name="account_list_by_name")]

    def __str__(self) -> str:
        return _localized(self.name, self.name_en)

    @property
    def categories(self) -> list[str]:
        return [c.value for c, f in self.CATEGORY_FIELDS.items() if getattr(self, f)]

    @property
    def category_labels(self) -> list[str]:
        return [str(c.label) for c, f in self.CATEGORY_FIELDS.items() if getattr(self, f)]

    @property
    def province_label(self) -> str:
        return regions.label(self.province_code)

    @property
    def city_label(self) -> str:
        return regions.label(self.city_code)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.credit_code:
            self.credit_code = creditcode.normalize(self.credit_code)
            reason = creditcode.problem(self.credit_code)
            if reason is not None:
                errors["credit_code"] = {
                    "length": _("A unified social credit code has 18 characters."),
                    "character": _(
                        "Only digits and capital letters except I, O, Z, S, V may appear."
                    ),
                    "check": _("The check character (the 18th) does not match; check for typos."),
                }[reason]
        else:
            self.credit_code = None
        if self.province_code:
            province = regions.get(self.province_code)
            if province is None or not province.is_province:
                errors["province_code"] = _("Unknown province code.")
        if self.city_code:
            city = regions.get(self.city_code)
            if city is None or city.is_province:
                errors["city_code"] = _("Unknown city code.")
            elif not self.province_code:
                self.province_code = city.province_code
            elif city.province_code != self.province_code:
                errors["city_code"] = _("This city is not in the chosen province.")
        if errors:
            raise ValidationError(errors)


class BillingCode(models.Model):
    """A billing account code (月结账号) under which shipments are billed to the account."""

    code = models.CharField(_("billing account code"), max_length=40, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="billing_codes")
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("billing account code")
        verbose_name_plural = _("billing account codes")
        # The account search matches a code case-insensitively (``code__iexact``): without
        # this, every search read all the codes (50,000 in bench/web).
        indexes = [models.Index(Upper("code"), name="billing_code_upper")]

    def __str__(self) -> str:
        return self.code


class TeamRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    CO_OWNER = "co_owner", _("Co-owner")
    INDUSTRY_MANAGER = "industry_manager", _("Industry manager")
    TERRITORY_MANAGER = "territory_manager", _("Territory manager")
    SERVICE_REP = "service_rep", _("Service representative")
    EXECUTIVE_SPONSOR = "executive_sponsor", _("Executive sponsor")


class TeamMembership(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="account_memberships",
    )
    role = models.CharField(_("team role"), max_length=20, choices=TeamRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "user__username"]
        verbose_name = _("team member")
        verbose_name_plural = _("account team")
        # A user's accounts, read from the index alone: what every row-level policy asks
        # (kam.core.rls), and the account list's owner filter and its choices (by role).
        indexes = [
            models.Index(fields=["user", "role", "account"], name="team_by_user_role_account")
        ]
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="team_one_role_per_user"),
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(role="owner"),
                name="team_one_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_role_display()}"


class BuyingRole(models.TextChoices):
    ECONOMIC_BUYER = "economic_buyer", _("Economic buyer / key decision maker")
    USER_BUYER = "user_buyer", _("User buyer")
    TECHNICAL_BUYER = "technical_buyer", _("Technical buyer")
    COACH = "coach", _("Coach / internal champion")
    OTHER = "other", _("Other")


class Attitude(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    SUPPORTER = "supporter", _("Supporter")
    NEUTRAL = "neutral", _("Neutral")
    OPPONENT = "opponent", _("Opponent")


class Influence(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


_ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]


class Contact(models.Model):
    """A person at the account. Contact details and personal information are encrypted."""

    #: Contact details: the account team and directors see them.
    DETAIL_FIELDS = ("phone_mobile", "phone_office", "email", "wechat")
    #: Personal information: the account team (not service reps) and directors see it.
    PERSONAL_FIELDS = (
        "birthday",
        "family",
        "hobbies",
        "habits",
        "social_ties",
        "work_duties",
        "performance",
        "goals",
    )

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(pgettext_lazy("person", "name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_reports",
    )
    phone_mobile = EncryptedTextField(_("mobile phone"), max_length=30, blank=True)
    phone_office = EncryptedTextField(_("office phone"), max_length=30, blank=True)
    email = EncryptedTextField(_("e-mail"), max_length=254, blank=True)
    wechat = EncryptedTextField(_("WeChat ID"), max_length=60, blank=True)
    birthday = EncryptedDateField(_("birthday"), blank=True, default="")
    family = EncryptedTextField(_("family"), max_length=2000, blank=True)
    hobbies = EncryptedTextField(_("hobbies"), max_length=2000, blank=True)
    habits = EncryptedTextField(_("habits"), max_length=2000, blank=True)
    social_ties = EncryptedTextField(_("social ties"), max_length=2000, blank=True)
    work_duties = EncryptedTextField(_("work duties"), max_length=2000, blank=True)
    performance = EncryptedTextField(_("performance"), max_length=2000, blank=True)
    goals = EncryptedTextField(_("goals"), max_length=2000, blank=True)
    buying_role = models.CharField(
        _("buying role"), max_length=20, choices=BuyingRole.choices, default=BuyingRole.OTHER
    )
    attitude = models.CharField(
        _("attitude"), max_length=10, choices=Attitude.choices, default=Attitude.NEUTRAL
    )
    influence = models.CharField(
        _("influence"), max_length=10, choices=Influence.choices, default=Influence.MEDIUM
    )
    closeness = models.PositiveSmallIntegerField(_("closeness"), default=3, validators=_ONE_TO_FIVE)
    trust = models.PositiveSmallIntegerField(_("trust"), default=3, validators=_ONE_TO_FIVE)
    favour = models.PositiveSmallIntegerField(_("favour"), default=3, validators=_ONE_TO_FIVE)
    last_contacted = models.DateField(_("last contacted"), null=True, blank=True)
    # The lawful basis lives in ConsentRecord (one row per basis and purpose, with history).
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Personal data stays out of the history tables, so that erasure really erases.
    history = HistoricalRecords(
        excluded_fields=[*DETAIL_FIELDS, *PERSONAL_FIELDS, "version", "updated_at"]
    )

    class Meta:
        ordering = ["account_id", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closeness__gte=1, closeness__lte=5)
                & models.Q(trust__gte=1, trust__lte=5)
                & models.Q(favour__gte=1, favour__lte=5),
                name="contact_scores_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.reports_to_id is None:
            return
        if self.pk and self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": _("A contact cannot report to themself.")})
        if self.reports_to.account_id != self.account_id:
            raise ValidationError(
                {"reports_to": _("The manager must be a contact at the same account.")}
            )
        seen = {self.pk}
        node = self.reports_to
        while node is not None:
            if node.pk in seen:
                raise ValidationError(
                    {"reports_to": _("This would make a reporting cycle in the org chart.")}
                )
            seen.add(node.pk)
            node = node.reports_to


class TieKind(models.TextChoices):
    COLLEAGUE = "colleague", _("Colleague")
    FRIEND = "friend", _("Friend")
    FAMILY = "family", _("Family")
    FORMER_COLLEAGUE = "former_colleague", _("Former colleague")
    SUPPLIER = "supplier", _("Supplier relation")


class ContactTie(models.Model):
    """Two people at customers who know each other (人际信息)."""

    from_contact = models.ForeignKey(
        Contact, verbose_name=_("person"), on_delete=models.CASCADE, related_name="ties_out"
    )
    to_contact = models.ForeignKey(
        Contact, verbose_name=_("knows"), on_delete=models.CASCADE, related_name="ties_in"
    )
    kind = models.CharField(_("relation"), max_length=20, choices=TieKind.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tie between contacts")
        verbose_name_plural = _("ties between contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["from_contact", "to_contact", "kind"], name="contact_tie_unique"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_contact=models.F("to_contact")),
                name="contact_tie_not_self",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_contact} — {self.to_contact} ({self.get_kind_display()})"

    def clean(self) -> None:
        if self.from_contact_id and self.from_contact_id == self.to_contact_id:
            raise ValidationError({"to_contact": _("A person cannot be tied to themself.")})


class StaffTie(models.Model):
    """Who on our side knows a contact, and how well."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="staff_ties"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("our staff"),
        on_delete=models.CASCADE,
        related_name="contact_ties",
    )
    strength = models.PositiveSmallIntegerField(
        _("how well (1–5)"), default=3, validators=_ONE_TO_FIVE
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    since = models.DateField(_("since"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff tie")
        verbose_name_plural = _("staff ties")
        constraints = [
            models.UniqueConstraint(fields=["contact", "user"], name="staff_tie_unique"),
            models.CheckConstraint(
                condition=models.Q(strength__gte=1, strength__lte=5),
                name="staff_tie_strength_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.contact}"


# --- personal-information rights (PIPL) -------------------------------------------------------


class LawfulBasis(models.TextChoices):
    """The grounds of PIPL Article 13 on which personal information may be processed.

    Item 2 of the article names two grounds (a contract with the person; human-resources
    management), which are kept apart here.
    """

    CONSENT = "consent", _("Consent of the person")
    CONTRACT = "contract", _("Necessary for a contract with the person")
    HR = "hr", _("Human-resources management")
    LEGAL_DUTY = "legal_duty", _("Statutory duty or obligation")
    PUBLIC_HEALTH = "public_health", _("Public health emergency, or protecting life and property")
    NEWS = "news", _("News reporting or public-opinion supervision in the public interest")
    MADE_PUBLIC = "made_public", _("Information the person or the law already made public")
    OTHER_LAW = "other_law", _("Other grounds in laws and administrative regulations")


class ConsentRecord(models.Model):
    """Why we may hold one person's personal information: a lawful basis and its purpose.

    A contact may have several (consent for relationship management, a contract for
    deliveries...). A record stays when it is withdrawn or ends (``withdrawn_on``); edits
    and deletions are kept in its history. Who recorded it is the acting user.
    """

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
        related_name="consent_records",
    )  # fmt: skip
    basis = models.CharField(_("lawful basis"), max_length=20, choices=LawfulBasis.choices)
    purpose = models.CharField(
        _("purpose"), max_length=300,
        help_text=_("What the information is used for, e.g. maintaining the business relationship."),
    )  # fmt: skip
    obtained_on = models.DateField(_("obtained on"))
    evidence = BoundedTextField(
        _("evidence"), max_length=1000, blank=True,
        help_text=_("Where the proof is, e.g. the signed form's number or how consent was given."),
    )  # fmt: skip
    withdrawn_on = models.DateField(
        _("withdrawn or ended on"), null=True, blank=True,
        help_text=_("For consent: the day the person withdrew it; for another basis: the day it "
                    "ceased to apply."),
    )  # fmt: skip
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["version", "updated_at"])

    class Meta:
        ordering = ["-obtained_on", "-id"]
        verbose_name = _("lawful basis record")
        verbose_name_plural = _("lawful basis records")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(withdrawn_on__isnull=True)
                | models.Q(withdrawn_on__gte=models.F("obtained_on")),
                name="consent_withdrawn_after_obtained",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_basis_display()} · {self.purpose}"

    def is_active(self, on: datetime.date) -> bool:
        return self.obtained_on <= on and (self.withdrawn_on is None or self.withdrawn_on > on)

    def clean(self) -> None:
        errors: dict[str, str] = {}
        today = timezone.localdate()
        if self.obtained_on and self.obtained_on > today:
            errors["obtained_on"] = _("The date obtained cannot be in the future.")
        if self.withdrawn_on:
            if self.withdrawn_on > today:
                errors["withdrawn_on"] = _("The withdrawal date cannot be in the future.")
            elif self.obtained_on and self.withdrawn_on < self.obtained_on:
                errors["withdrawn_on"] = _(
                    "The withdrawal date cannot be before the date the basis was obtained."
                )
        if errors:
            raise ValidationError(errors)


class RetentionRun(models.Model):
    """One run of the retention rule (``kam privacy retention``): what it erased, or, in a
    dry run, what it would have erased. Contacts are named by id only."""

    at = models.DateTimeField(_("run at"), default=timezone.now, db_index=True)
    as_of = models.DateField(_("as of"))
    years = models.PositiveSmallIntegerField(_("retention (years)"))
    cutoff = models.DateField(_("no business since"))
    dry_run = models.BooleanField(_("dry run"), default=False)
    count = models.PositiveIntegerField(_("contacts"), default=0)
    contact_ids = models.JSONField(_("contact ids"), default=list, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=AccessLog.Channel.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("run by"), on_delete=models.SET_NULL,
        null=True, blank=True, related_name="+",
    )  # fmt: skip

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.count}"
