"""Rate cards, their surcharges, cost rates, competitor rates, price guidance and quotes.

A stored card becomes a :class:`kam.pricing.rating.Card` through
``services.card_spec``; everything that prices (the quote calculator, the strategies, the
what-if over the lake) prices with that, never with these rows directly. What one row can
hold is a database constraint here; what spans rows (bands contiguous from 0, one active
card per account and date, a zone for every province pair) is checked by the services.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from kam.accounts.models import TIER_CHOICES

ZERO = Decimal("0")
_NON_NEGATIVE = [MinValueValidator(ZERO)]
_PERCENT = [MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))]
#: A season's percentage: a surcharge, or (negative) an off-season reduction of at most
#: the whole freight.
_SEASON_PERCENT = [MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))]


class Product(models.TextChoices):
    """The ledger's products (``kam.ledger.contract.PRODUCTS``)."""

    EXPRESS = "express", _("Express (特快)")
    STANDARD = "standard", _("Standard (标快)")
    GROUND = "ground", _("Ground (陆运)")
    COLD = "cold", _("Cold chain (冷运)")
    INTERNATIONAL = "international", _("International (国际)")


class Zone(models.Model):
    """A pricing zone. ``same_city`` (同城) and ``same_province`` (省内) always exist; the
    others are what the province-pair matrix assigns; ``remote`` zones (新疆, 西藏) carry
    the card's remote-area fee."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name_zh = models.CharField(_("Chinese name"), max_length=40)
    name_en = models.CharField(_("English name"), max_length=40)
    remote = models.BooleanField(_("remote area"), default=False)
    position = models.PositiveSmallIntegerField(_("position"), default=100)
    history = HistoricalRecords()

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("zone")
        verbose_name_plural = _("zones")

    def __str__(self) -> str:
        english = (get_language() or "").startswith("en")
        return self.name_en if english and self.name_en else self.name_zh


class ZonePair(models.Model):
    """The zone of shipments from one province to another (GB/T 2260 province codes, six
    digits ending in 0000). The matrix is directional: A -> B and B -> A are two rows."""

    origin = models.CharField(_("origin province"), max_length=6)
    destination = models.CharField(_("destination province"), max_length=6)
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.PROTECT)
    history = HistoricalRecords()

    class Meta:
        ordering = ["origin", "destination"]
        verbose_name = _("zone of a province pair")
        verbose_name_plural = _("zone matrix")
        constraints = [
            models.UniqueConstraint(fields=["origin", "destination"], name="pricing_zone_pair"),
            models.CheckConstraint(
                condition=~Q(origin=F("destination")), name="pricing_zone_pair_two_provinces"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.origin} -> {self.destination}: {self.zone.code}"


class CardKind(models.TextChoices):
    LIST = "list", _("Standard (list) card")
    DISCOUNT = "discount", _("Discounts off the list")
    CUSTOM = "custom", _("Custom card")


class CardStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("card status", "Draft")
    ACTIVE = "active", pgettext_lazy("card status", "Active")
    RETIRED = "retired", pgettext_lazy("card status", "Retired")


class RateCard(models.Model):
    """A versioned rate card. The list card (``account`` and ``group`` empty) is the
    carrier's standard; an account's or a corporate group's card is either discounts off the
    list (``base`` is the list card it discounts) or custom rules of its own. Only an active
    card prices; one active card of a kind per subject and date (checked by the services).

    Surcharges: the fuel rule (percentage = base + factor × (index − reference), within
    [floor, cap]) prices against :class:`FuelIndex`; peaks are :class:`PeakSurcharge` rows;
    remote zones carry ``remote_fee`` per waybill; COD and insurance are percentages with a
    minimum.
    """

    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("card kind"), max_length=10, choices=CardKind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=CardStatus.choices, default=CardStatus.DRAFT,
        db_index=True,
    )  # fmt: skip
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="rate_cards",
    )  # fmt: skip
    group = models.ForeignKey(
        "accounts.CorporateGroup", verbose_name=_("corporate group"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="rate_cards",
    )  # fmt: skip
    base = models.ForeignKey(
        "self", verbose_name=_("list card"), on_delete=models.PROTECT, null=True, blank=True,
        related_name="discount_cards",
    )  # fmt: skip
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    fuel_base_percent = models.DecimalField(
        _("fuel surcharge base (%)"), max_digits=6, decimal_places=3, null=True, blank=True,
        validators=_PERCENT,
    )  # fmt: skip
    fuel_factor = models.DecimalField(
        _("fuel factor (% per index point)"), max_digits=9, decimal_places=6, default=ZERO
    )
    fuel_reference = models.DecimalField(
        _("fuel reference index"), max_digits=10, decimal_places=2, default=ZERO,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    fuel_floor_percent = models.DecimalField(
        _("fuel floor (%)"), max_digits=6, decimal_places=3, default=ZERO, validators=_PERCENT
    )
    fuel_cap_percent = models.DecimalField(
        _("fuel cap (%)"), max_digits=6, decimal_places=3, default=Decimal("100"),
        validators=_PERCENT,
    )  # fmt: skip
    remote_fee = models.DecimalField(
        _("remote-area fee per waybill"), max_digits=10, decimal_places=2, default=ZERO,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    cod_percent = models.DecimalField(
        _("COD fee (%)"), max_digits=6, decimal_places=3, default=ZERO, validators=_PERCENT
    )
    cod_min = models.DecimalField(
        _("COD fee minimum"), max_digits=10, decimal_places=2, default=ZERO,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    insurance_percent = models.DecimalField(
        _("insurance fee (%)"), max_digits=6, decimal_places=3, default=ZERO, validators=_PERCENT
    )
    insurance_min = models.DecimalField(
        _("insurance fee minimum"), max_digits=10, decimal_places=2, default=ZERO,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    notes = models.TextField(_("notes"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-effective_from", "id"]
        verbose_name = _("rate card")
        verbose_name_plural = _("rate cards")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=CardKind.LIST, account__isnull=True, group__isnull=True)
                | Q(~Q(kind=CardKind.LIST), account__isnull=False, group__isnull=True)
                | Q(~Q(kind=CardKind.LIST), account__isnull=True, group__isnull=False),
                name="pricing_card_subject",
            ),
            models.CheckConstraint(
                condition=Q(kind=CardKind.DISCOUNT, base__isnull=False)
                | Q(~Q(kind=CardKind.DISCOUNT), base__isnull=True),
                name="pricing_card_discount_has_base",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="pricing_card_dates",
            ),
            models.CheckConstraint(
                condition=Q(fuel_floor_percent__lte=F("fuel_cap_percent")),
                name="pricing_card_fuel_floor_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def subject(self) -> object:
        return self.account if self.account_id else self.group


class RuleShape(models.TextChoices):
    FIRST_ADDITIONAL = "first_additional", _("First weight + additional weight (首重/续重)")
    WEIGHT_BREAKS = "weight_breaks", _("Weight breaks (per kg by band)")


class RateRule(models.Model):
    """How a card prices one product in one zone: first and additional weight (首重 /
    续重) or weight breaks with a minimum charge (the bands are :class:`WeightBand`)."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="rules")
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.PROTECT)
    shape = models.CharField(_("shape"), max_length=20, choices=RuleShape.choices)
    first_kg = models.DecimalField(
        _("first weight (kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    first_price = models.DecimalField(
        _("first weight price"), max_digits=10, decimal_places=2, null=True, blank=True,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    step_kg = models.DecimalField(
        _("additional weight step (kg)"), max_digits=8, decimal_places=3, null=True, blank=True
    )
    step_price = models.DecimalField(
        _("price per additional step"), max_digits=10, decimal_places=2, null=True, blank=True,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    min_charge = models.DecimalField(
        _("minimum charge"), max_digits=10, decimal_places=2, null=True, blank=True,
        validators=_NON_NEGATIVE,
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["card", "product", "zone__position"]
        verbose_name = _("rate")
        verbose_name_plural = _("rates")
        constraints = [
            models.UniqueConstraint(fields=["card", "product", "zone"], name="pricing_one_rule"),
            models.CheckConstraint(
                condition=Q(
                    shape=RuleShape.FIRST_ADDITIONAL,
                    first_kg__gt=0,
                    first_price__gte=0,
                    step_kg__gt=0,
                    step_price__gte=0,
                )
                | Q(shape=RuleShape.WEIGHT_BREAKS, min_charge__gte=0),
                name="pricing_rule_shape_fields",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.product} {self.zone.code}"


class WeightBand(models.Model):
    """A band ``[from_kg, to_kg)`` of a weight-break rule; ``to_kg`` empty is open-ended."""

    rule = models.ForeignKey(RateRule, on_delete=models.CASCADE, related_name="bands")
    from_kg = models.DecimalField(_("from (kg)"), max_digits=10, decimal_places=3)
    to_kg = models.DecimalField(
        _("to (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    per_kg = models.DecimalField(
        _("price per kg"), max_digits=10, decimal_places=4, validators=_NON_NEGATIVE
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["rule", "from_kg"]
        verbose_name = _("weight band")
        verbose_name_plural = _("weight bands")
        constraints = [
            models.CheckConstraint(
                condition=Q(from_kg__gte=0, per_kg__gte=0)
                & (Q(to_kg__isnull=True) | Q(to_kg__gt=F("from_kg"))),
                name="pricing_band_values",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_kg}–{self.to_kg or '∞'} kg: {self.per_kg}/kg"


class CardDiscount(models.Model):
    """A percentage off the list, for a product, a zone and a band of chargeable weight
    (each optional); the most specific matching discount applies (``rating.Discount``).
    A negative percentage is a premium over the list."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="discounts")
    #: Negative is a premium over the list (perceived value can price above it).
    percent = models.DecimalField(
        _("discount (%)"), max_digits=7, decimal_places=4,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    product = models.CharField(_("product"), max_length=16, choices=Product.choices, blank=True)
    zone = models.ForeignKey(
        Zone, verbose_name=_("zone"), on_delete=models.PROTECT, null=True, blank=True
    )
    from_kg = models.DecimalField(_("from (kg)"), max_digits=10, decimal_places=3, default=ZERO)
    to_kg = models.DecimalField(
        _("to (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["card", "product", "zone__position", "from_kg"]
        verbose_name = _("discount")
        verbose_name_plural = _("discounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(percent__gte=-100, percent__lte=100, from_kg__gte=0)
                & (Q(to_kg__isnull=True) | Q(to_kg__gt=F("from_kg"))),
                name="pricing_discount_values",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.percent} %"


class DimDivisor(models.Model):
    """The dimensional-weight divisor of a product on a card (cm³ per kg: 6000, 12000)."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="divisors")
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    divisor = models.PositiveIntegerField(
        _("divisor (cm³ per kg)"), validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = _("dimensional divisor")
        verbose_name_plural = _("dimensional divisors")
        constraints = [
            models.UniqueConstraint(fields=["card", "product"], name="pricing_one_divisor"),
            models.CheckConstraint(condition=Q(divisor__gt=0), name="pricing_divisor_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product}: {self.divisor}"


class PeakSurcharge(models.Model):
    """A peak-season surcharge of a card (11.11, 12.12, the Spring Festival): a percentage
    of the freight on ship dates ``start`` to ``end`` inclusive. Negative is an off-season
    reduction (differential pricing's seasons, on a quote's card)."""

    card = models.ForeignKey(RateCard, on_delete=models.CASCADE, related_name="peaks")
    name = models.CharField(_("name"), max_length=60)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    percent = models.DecimalField(
        _("surcharge (%)"), max_digits=6, decimal_places=3, validators=_SEASON_PERCENT
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["card", "start"]
        verbose_name = _("peak-season surcharge")
        verbose_name_plural = _("peak-season surcharges")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gte=F("start"), percent__gte=-100, percent__lte=100),
                name="pricing_peak_values",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.start}–{self.end} {self.percent:+} %"


class FuelIndex(models.Model):
    """The fuel-price index of a month, entered by administrators (one row per month)."""

    month = models.DateField(_("month"), unique=True)  # the first day of the month
    index = models.DecimalField(
        _("index"), max_digits=10, decimal_places=2, validators=_NON_NEGATIVE
    )
    source = models.CharField(_("source"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-month"]
        verbose_name = _("fuel index")
        verbose_name_plural = _("fuel index")
        constraints = [
            models.CheckConstraint(condition=Q(index__gte=0), name="pricing_fuel_index_value"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}: {self.index}"


class CostRate(models.Model):
    """The estimated cost of carrying a waybill of a product in a zone, where the ledger
    has no cost for it: per waybill plus per kilogram of chargeable weight."""

    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.PROTECT)
    per_waybill = models.DecimalField(
        _("cost per waybill"), max_digits=10, decimal_places=2, validators=_NON_NEGATIVE
    )
    per_kg = models.DecimalField(
        _("cost per kg"), max_digits=10, decimal_places=4, validators=_NON_NEGATIVE
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "zone__position"]
        verbose_name = _("cost rate")
        verbose_name_plural = _("cost rates")
        constraints = [
            models.UniqueConstraint(fields=["product", "zone"], name="pricing_one_cost_rate"),
            models.CheckConstraint(
                condition=Q(per_waybill__gte=0, per_kg__gte=0), name="pricing_cost_rate_values"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.zone_id}: {self.per_waybill} + {self.per_kg}/kg"


class CompetitorRate(models.Model):
    """A competitor's rate for a product and zone as observed on a date (随行就市):
    first and additional weight, from a named source."""

    competitor = models.CharField(_("competitor"), max_length=100)
    product = models.CharField(_("product"), max_length=16, choices=Product.choices)
    zone = models.ForeignKey(Zone, verbose_name=_("zone"), on_delete=models.PROTECT)
    first_kg = models.DecimalField(_("first weight (kg)"), max_digits=8, decimal_places=3)
    first_price = models.DecimalField(
        _("first weight price"), max_digits=10, decimal_places=2, validators=_NON_NEGATIVE
    )
    step_kg = models.DecimalField(_("additional weight step (kg)"), max_digits=8, decimal_places=3)
    step_price = models.DecimalField(
        _("price per additional step"), max_digits=10, decimal_places=2, validators=_NON_NEGATIVE
    )
    observed_on = models.DateField(_("observed on"))
    source = models.CharField(_("source"), max_length=200)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "zone__position", "-observed_on"]
        verbose_name = _("competitor rate")
        verbose_name_plural = _("competitor rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_kg__gt=0, step_kg__gt=0, first_price__gte=0, step_price__gte=0),
                name="pricing_competitor_rate_values",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.competitor} {self.product} {self.observed_on}"


class PriceGuidance(models.Model):
    """What directors allow per tier: the target, normal and floor discount off the list,
    and a margin floor. A quote within the normal discount and above the margin floor
    needs no approval; beyond it the department head approves; beyond the floor the
    director does too."""

    tier = models.PositiveSmallIntegerField(_("tier"), choices=TIER_CHOICES, unique=True)
    target_discount = models.DecimalField(
        _("target discount (%)"), max_digits=6, decimal_places=3, validators=_PERCENT
    )
    normal_discount = models.DecimalField(
        _("normal discount (%)"), max_digits=6, decimal_places=3, validators=_PERCENT
    )
    floor_discount = models.DecimalField(
        _("floor discount (%)"), max_digits=6, decimal_places=3, validators=_PERCENT
    )
    margin_floor = models.DecimalField(
        _("margin floor (%)"), max_digits=6, decimal_places=3,
        validators=[MinValueValidator(Decimal("-100")), MaxValueValidator(Decimal("100"))],
    )  # fmt: skip
    history = HistoricalRecords()

    class Meta:
        ordering = ["tier"]
        verbose_name = _("price guidance")
        verbose_name_plural = _("price guidance")
        constraints = [
            models.CheckConstraint(
                condition=Q(target_discount__lte=F("normal_discount"))
                & Q(normal_discount__lte=F("floor_discount"))
                & Q(target_discount__gte=0, floor_discount__lte=100),
                name="pricing_guidance_order",
            ),
        ]

    def __str__(self) -> str:
        return f"tier {self.tier}: {self.normal_discount} % / {self.floor_discount} %"


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("quote status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("quote status", "Awaiting approval")
    RETURNED = "returned", pgettext_lazy("quote status", "Returned")
    APPROVED = "approved", pgettext_lazy("quote status", "Approved")
    SENT = "sent", pgettext_lazy("quote status", "Sent to the customer")
    ACCEPTED = "accepted", pgettext_lazy("quote status", "Accepted")
    REJECTED = "rejected", pgettext_lazy("quote status", "Rejected")
    EXPIRED = "expired", pgettext_lazy("quote status", "Expired")
    CONTRACTED = "contracted", pgettext_lazy("quote status", "Contracted")


class Approval(models.TextChoices):
    NONE = "none", _("Within guidance")
    DEPARTMENT = "department", _("Department head")
    DIRECTOR = "director", _("Department head, then director")


class Strategy(models.TextChoices):
    COST_PLUS = "cost_plus", _("Cost-plus (成本加成)")
    TARGET_PROFIT = "target_profit", _("Target profit (目标利润)")
    PERCEIVED_VALUE = "perceived_value", _("Perceived value (感受价值)")
    REVERSE = "reverse", _("Reverse pricing (反向定价)")
    DIFFERENTIAL = "differential", _("Differential pricing (差别定价)")
    GOING_RATE = "going_rate", _("Going rate (随行就市)")
    SEALED_BID = "sealed_bid", _("Sealed bid (投标定价)")


class Quote(models.Model):
    """A price offered to an account or a corporate group: a proposed card, the strategy
    and its workings, validity and terms, and its way to a contract. A contracted quote's
    card becomes the subject's active card from ``contract_from``."""

    number = models.CharField(_("number"), max_length=20, unique=True)
    account = models.ForeignKey(
        "accounts.Account", verbose_name=_("account"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="quotes",
    )  # fmt: skip
    group = models.ForeignKey(
        "accounts.CorporateGroup", verbose_name=_("corporate group"), on_delete=models.CASCADE,
        null=True, blank=True, related_name="quotes",
    )  # fmt: skip
    card = models.ForeignKey(
        RateCard, verbose_name=_("proposed card"), on_delete=models.PROTECT, related_name="quotes"
    )
    strategy = models.CharField(_("strategy"), max_length=20, choices=Strategy.choices)
    workings = models.JSONField(_("workings"), default=list, blank=True)
    valid_until = models.DateField(_("valid until"))
    terms = models.TextField(_("terms"), max_length=4000, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT,
        db_index=True,
    )  # fmt: skip
    #: The approval the quote needed when it was last submitted (from the guidance).
    approval = models.CharField(
        _("approval needed"), max_length=12, choices=Approval.choices, default=Approval.NONE
    )
    #: Whose decision a submitted quote waits for (the department, then a director).
    awaiting = models.CharField(
        _("awaiting"), max_length=12, choices=Approval.choices, blank=True, db_index=True
    )
    #: The deepest discount and the margin of the proposal on the account's last twelve
    #: months, as computed at submission (what the guidance was checked against).
    deepest_discount = models.DecimalField(
        _("deepest discount (%)"), max_digits=6, decimal_places=3, null=True, blank=True
    )
    margin_percent = models.DecimalField(
        _("margin (%)"), max_digits=7, decimal_places=3, null=True, blank=True
    )
    revision = models.PositiveSmallIntegerField(_("revision"), default=1)
    contract_from = models.DateField(_("contract from"), null=True, blank=True)
    contract_to = models.DateField(_("contract to"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT,
        related_name="quotes",
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.CheckConstraint(
                condition=Q(account__isnull=False, group__isnull=True)
                | Q(account__isnull=True, group__isnull=False),
                name="pricing_quote_account_or_group",
            ),
            models.CheckConstraint(
                condition=Q(contract_to__isnull=True)
                | Q(contract_from__isnull=False, contract_to__gte=F("contract_from")),
                name="pricing_quote_contract_dates",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def subject(self) -> object:
        return self.account if self.account_id else self.group


class QuoteNumber(models.Model):
    """The last quote number given in a year: quotes are numbered Q<year>-<n> from this
    locked row (not from the quotes a user happens to see, which row-level security
    narrows to their own accounts)."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Decision(models.TextChoices):
    SUBMITTED = "submitted", pgettext_lazy("quote step", "Submitted")
    APPROVED = "approved", pgettext_lazy("quote step", "Approved")
    RETURNED = "returned", pgettext_lazy("quote step", "Returned")
    COMMENTED = "commented", pgettext_lazy("quote step", "Commented")


class QuoteStep(models.Model):
    """One step of a quote's approval chain: who did what at which level, with a comment."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="steps")
    revision = models.PositiveSmallIntegerField(_("revision"))
    level = models.CharField(_("approval level"), max_length=12, choices=Approval.choices)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        ordering = ["quote", "at", "id"]
        verbose_name = _("approval step")
        verbose_name_plural = _("approval steps")

    def __str__(self) -> str:
        return f"{self.quote_id} r{self.revision} {self.level} {self.decision}"
