"""Writing pricing data and turning stored cards into :class:`rating.Card` values.

Every check that spans rows lives here (weight bands contiguous from 0, one active card
per subject and date, a zone for every province pair); each refusal is a
``ValidationError`` whose message names the row or cell, in the user's language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kam.accounts.models import Account, CorporateGroup
from kam.core import regions
from kam.core.errors import PermissionDeniedError

from . import rating, strategies
from .models import (
    CardDiscount,
    CardKind,
    CardStatus,
    CostRate,
    FuelIndex,
    PeakSurcharge,
    PriceGuidance,
    RateCard,
    RateRule,
    RuleShape,
    Zone,
    ZonePair,
)
from .selectors import may_edit_guidance

# The zones every matrix has (rating's codes) and the default scheme's others.
STANDARD_ZONES: tuple[tuple[str, str, str, bool], ...] = (
    (rating.SAME_CITY, "同城", "Same city", False),
    (rating.SAME_PROVINCE, "省内", "Same province", False),
    ("zone1", "一区（同大区）", "Zone 1 (same region)", False),
    ("zone2", "二区（邻近大区）", "Zone 2 (neighbouring region)", False),
    ("zone3", "三区（远距）", "Zone 3 (far)", False),
    ("remote", "偏远地区", "Remote areas", True),
)

# China's seven administrative regions (大区) by province code, for the default matrix.
_REGION_OF: dict[str, str] = {
    **dict.fromkeys(("110000", "120000", "130000", "140000", "150000"), "north"),
    **dict.fromkeys(("210000", "220000", "230000"), "northeast"),
    **dict.fromkeys(("310000", "320000", "330000", "340000", "350000", "360000", "370000"), "east"),
    **dict.fromkeys(("410000", "420000", "430000"), "central"),
    **dict.fromkeys(("440000", "450000", "460000"), "south"),
    **dict.fromkeys(("500000", "510000", "520000", "530000", "540000"), "southwest"),
    **dict.fromkeys(("610000", "620000", "630000", "640000", "650000"), "northwest"),
}
_NEIGHBOURS = {
    frozenset(pair)
    for pair in (
        ("north", "northeast"), ("north", "east"), ("north", "central"), ("north", "northwest"),
        ("east", "central"), ("east", "south"), ("central", "south"), ("central", "southwest"),
        ("central", "northwest"), ("south", "southwest"), ("southwest", "northwest"),
    )
}  # fmt: skip
_REMOTE_PROVINCES = ("650000", "540000")  # 新疆, 西藏


def default_zone(origin: str, destination: str) -> str:
    """The default scheme's zone of a province pair (the mainland's 31, as the region
    tables hold them): Xinjiang and Tibet remote, then the same region, a neighbouring
    region, or far."""
    a, b = _REGION_OF.get(origin, "far"), _REGION_OF.get(destination, "far")
    if origin in _REMOTE_PROVINCES or destination in _REMOTE_PROVINCES:
        return "remote"
    if a == b:
        return "zone1"
    return "zone2" if frozenset((a, b)) in _NEIGHBOURS else "zone3"


@transaction.atomic
def ensure_zones() -> dict[str, Zone]:
    """The standard zones, created where missing (never changed where present)."""
    for position, (code, zh, en, remote) in enumerate(STANDARD_ZONES, start=1):
        Zone.objects.get_or_create(
            code=code,
            defaults={"name_zh": zh, "name_en": en, "remote": remote, "position": position * 10},
        )
    return {z.code: z for z in Zone.objects.all()}


@transaction.atomic
def fill_default_matrix() -> int:
    """Give every province pair without a zone the default scheme's zone; the pairs an
    administrator set are kept. Returns how many pairs were added."""
    zones = ensure_zones()
    codes = [p.code for p in regions.provinces()]
    have = set(ZonePair.objects.values_list("origin", "destination"))
    new = [
        ZonePair(origin=o, destination=d, zone=zones[default_zone(o, d)])
        for o in codes
        for d in codes
        if o != d and (o, d) not in have
    ]
    ZonePair.objects.bulk_create(new, batch_size=500)
    return len(new)


def missing_pairs() -> list[tuple[str, str]]:
    """Province pairs (origin, destination) the matrix has no zone for."""
    codes = [p.code for p in regions.provinces()]
    have = set(ZonePair.objects.values_list("origin", "destination"))
    return [(o, d) for o in codes for d in codes if o != d and (o, d) not in have]


def zone_matrix() -> rating.ZoneMatrix:
    pairs = ZonePair.objects.values_list("origin", "destination", "zone__code")
    return rating.ZoneMatrix({(o, d): z for o, d, z in pairs})


def fuel_index() -> dict[str, Decimal]:
    return {f"{m:%Y-%m}": i for m, i in FuelIndex.objects.values_list("month", "index")}


def cost_rates() -> dict[tuple[str, str], rating.CostRate]:
    rows = CostRate.objects.values_list("product", "zone__code", "per_waybill", "per_kg")
    return {(p, z): rating.CostRate(w, k) for p, z, w, k in rows}


# --- cards -----------------------------------------------------------------------------


def _rules(card: RateCard) -> dict[tuple[str, str], rating.Rule]:
    rules: dict[tuple[str, str], rating.Rule] = {}
    for rule in card.rules.select_related("zone").prefetch_related("bands"):
        key = (rule.product, rule.zone.code)
        if rule.shape == RuleShape.FIRST_ADDITIONAL:
            rules[key] = rating.FirstAdditional(
                rule.first_kg, rule.first_price, rule.step_kg, rule.step_price
            )
        else:
            bands = tuple(
                rating.Band(b.from_kg, b.to_kg, b.per_kg)
                for b in sorted(rule.bands.all(), key=lambda b: b.from_kg)
            )
            rules[key] = rating.WeightBreaks(bands, rule.min_charge or Decimal("0"))
    return rules


def peaks_of(card: RateCard) -> list[PeakSurcharge]:
    """The peak seasons that price with ``card``: a discount card's own seasons (a quote's,
    e.g. differential pricing's) in place of its list card's, else the list card's; a list
    or custom card's own."""
    own = list(card.peaks.all())
    if card.kind == CardKind.DISCOUNT and card.base is not None and not own:
        return list(card.base.peaks.all())
    return own


def _surcharges(card: RateCard, peaks: Iterable[PeakSurcharge]) -> rating.Surcharges:
    fuel = None
    if card.fuel_base_percent is not None:
        fuel = rating.FuelRule(
            card.fuel_base_percent,
            card.fuel_factor,
            card.fuel_reference,
            card.fuel_floor_percent,
            card.fuel_cap_percent,
        )
    return rating.Surcharges(
        fuel=fuel,
        fuel_index=fuel_index() if fuel else {},
        peaks=tuple(rating.Peak(p.start, p.end, p.percent) for p in peaks),
        remote_zones=frozenset(Zone.objects.filter(remote=True).values_list("code", flat=True)),
        remote_fee=card.remote_fee,
        cod_percent=card.cod_percent,
        cod_min=card.cod_min,
        insurance_percent=card.insurance_percent,
        insurance_min=card.insurance_min,
    )


def card_spec(card: RateCard, zones: rating.ZoneMatrix | None = None) -> rating.Card:
    """The card as the rating contract prices it. A discount card prices with its list
    card's rules and surcharges (surcharges follow the carrier's standard), its own
    discounts, and its own seasons where it has any (:func:`peaks_of`); a list or custom
    card with its own rules and surcharges."""
    priced = card.base if card.kind == CardKind.DISCOUNT and card.base else card
    discounts = tuple(
        rating.Discount(
            d.percent, d.product or None, d.zone.code if d.zone else None, d.from_kg, d.to_kg
        )
        for d in card.discounts.select_related("zone")
    )
    return rating.Card(
        zones=zones if zones is not None else zone_matrix(),
        rules=_rules(priced),
        discounts=discounts,
        surcharges=_surcharges(priced, peaks_of(card)),
        dim_divisor={d.product: d.divisor for d in priced.divisors.all()},
    )


def card_problems(card: RateCard) -> list[str]:
    """What keeps a card from pricing, each naming the rate (product and zone) or row."""
    problems: list[str] = []
    for rule in card.rules.select_related("zone").prefetch_related("bands"):
        where = f"{rule.get_product_display()} / {rule.zone}"
        if rule.shape == RuleShape.WEIGHT_BREAKS:
            bands = [(b.from_kg, b.to_kg) for b in rule.bands.all()]
            problems.extend(
                _("%(where)s: %(problem)s") % {"where": where, "problem": p}
                for p in rating.check_bands(bands)
            )
    if card.kind == CardKind.DISCOUNT:
        if card.base is None or card.base.kind != CardKind.LIST:
            problems.append(_("A discount card must discount a standard (list) card."))
    elif not card.rules.exists():
        problems.append(_("The card has no rates."))
    if card.fuel_floor_percent > card.fuel_cap_percent:
        problems.append(_("The fuel surcharge's floor is above its cap."))
    if (missing := missing_pairs())[:1]:
        o, d = missing[0]
        problems.append(
            _(
                "The zone matrix has no zone for %(origin)s → %(destination)s (%(count)s pairs missing)."
            )
            % {"origin": regions.label(o), "destination": regions.label(d), "count": len(missing)}
        )
    return problems


def _same_subject(card: RateCard) -> Q:
    if card.kind == CardKind.LIST:
        return Q(kind=CardKind.LIST)
    if card.account_id:
        return Q(account_id=card.account_id)
    return Q(group_id=card.group_id)


def _overlapping(card: RateCard) -> QuerySet[RateCard]:
    end = card.effective_to or dt.date.max
    rows = RateCard.objects.filter(_same_subject(card), status=CardStatus.ACTIVE).exclude(
        pk=card.pk
    )
    rows = rows.filter(effective_from__lte=end)
    return rows.filter(Q(effective_to__isnull=True) | Q(effective_to__gte=card.effective_from))


@transaction.atomic
def activate_card(card: RateCard) -> RateCard:
    """Make ``card`` price from its effective date. Refused when it cannot price or when
    another active card of the same subject overlaps its dates (named, with its dates)."""
    card = RateCard.objects.select_for_update().get(pk=card.pk)
    if problems := card_problems(card):
        raise ValidationError(problems)
    clash = _overlapping(card).order_by("effective_from").first()
    if clash is not None:
        raise ValidationError(
            _(
                "“%(card)s” is already active from %(start)s to %(end)s; "
                "end it before this card starts, or change this card's dates."
            )
            % {
                "card": clash.name,
                "start": clash.effective_from,
                "end": clash.effective_to or _("open-ended"),
            }
        )
    card.status = CardStatus.ACTIVE
    card.save(update_fields=["status", "updated_at"])
    return card


def _group_chain(group: CorporateGroup | None) -> list[int]:
    """The group and its ancestors, nearest first."""
    chain: list[int] = []
    while group is not None and group.pk not in chain:
        chain.append(group.pk)
        group = group.parent
    return chain


def active_card(account: Account, day: dt.date) -> RateCard | None:
    """The card that prices ``account``'s shipments on ``day``: its own, else its
    group's (nearest group first), else the standard list card; the latest in effect of
    each. One query: the candidates are few (the account's, its groups' and the list's
    cards in effect on the day)."""
    chain = _group_chain(getattr(account, "group", None))
    live = RateCard.objects.filter(status=CardStatus.ACTIVE, effective_from__lte=day).filter(
        Q(effective_to__isnull=True) | Q(effective_to__gte=day)
    )
    candidates = live.filter(
        Q(account=account) | Q(group_id__in=chain) | Q(kind=CardKind.LIST)
    ).order_by("-effective_from", "-pk")

    def rank(card: RateCard) -> int:
        if card.account_id == account.pk:
            return 0
        if card.group_id in chain:
            return 1 + chain.index(card.group_id)
        return 1 + len(chain)  # the list card

    best: RateCard | None = None
    for card in candidates:  # newest first: the first of each rank wins
        if best is None or rank(card) < rank(best):
            best = card
    return best


@dataclass(frozen=True)
class RuleRow:
    """One rate of a card as a form or a sheet gives it."""

    product: str
    zone: str
    first_kg: Decimal
    first_price: Decimal
    step_kg: Decimal
    step_price: Decimal


@transaction.atomic
def set_first_additional_rules(card: RateCard, rows: Iterable[RuleRow]) -> int:
    """Replace ``card``'s first/additional-weight rates with ``rows`` (all or nothing)."""
    zones = {z.code: z for z in Zone.objects.all()}
    built: list[RateRule] = []
    for n, row in enumerate(rows, start=1):
        if row.zone not in zones:
            raise ValidationError(
                _("Row %(n)s: unknown zone “%(zone)s”.") % {"n": n, "zone": row.zone}
            )
        if min(row.first_price, row.step_price) < 0:
            raise ValidationError(_("Row %(n)s: a price cannot be negative.") % {"n": n})
        if row.first_kg <= 0 or row.step_kg <= 0:
            raise ValidationError(_("Row %(n)s: weights must be above zero.") % {"n": n})
        built.append(
            RateRule(
                card=card,
                product=row.product,
                zone=zones[row.zone],
                shape=RuleShape.FIRST_ADDITIONAL,
                first_kg=row.first_kg,
                first_price=row.first_price,
                step_kg=row.step_kg,
                step_price=row.step_price,
            )  # fmt: skip
        )
    card.rules.filter(shape=RuleShape.FIRST_ADDITIONAL).delete()
    RateRule.objects.bulk_create(built)
    return len(built)


@transaction.atomic
def set_discounts(card: RateCard, rows: Iterable[rating.Discount]) -> int:
    """Replace ``card``'s discounts (all or nothing); a discount beyond ±100 % or a band
    that ends at or below its start is refused by its row number."""
    zones = {z.code: z for z in Zone.objects.all()}
    built: list[CardDiscount] = []
    for n, d in enumerate(rows, start=1):
        if not Decimal("-100") <= d.percent <= Decimal("100"):
            raise ValidationError(
                _(
                    "Row %(n)s: a discount must be between -100 %% (a premium) and 100 %% (got %(value)s)."
                )
                % {"n": n, "value": d.percent}
            )
        if d.to_kg is not None and d.to_kg <= d.from_kg:
            raise ValidationError(
                _("Row %(n)s: the weight band ends at or below its start.") % {"n": n}
            )
        if d.zone is not None and d.zone not in zones:
            raise ValidationError(
                _("Row %(n)s: unknown zone “%(zone)s”.") % {"n": n, "zone": d.zone}
            )
        built.append(
            CardDiscount(
                card=card,
                percent=d.percent,
                product=d.product or "",
                zone=zones[d.zone] if d.zone else None,
                from_kg=d.from_kg,
                to_kg=d.to_kg,
            )  # fmt: skip
        )
    card.discounts.all().delete()
    CardDiscount.objects.bulk_create(built)
    return len(built)


#: A season's name, as the card's peak rows keep it.
SEASON_NAME_LENGTH = 60


def season_problems(seasons: Iterable[strategies.Season]) -> dict[int, str]:
    """What is wrong with each season, by its row number from 1 (empty when all is well):
    a missing name, an end before the start, a percentage beyond -100 to 100 or with more
    than three decimals, and seasons that overlap (named by the later row)."""
    rows = list(seasons)
    problems: dict[int, str] = {}
    for n, season in enumerate(rows, start=1):
        if not season.name.strip():
            problems[n] = _("Season %(n)s: give it a name.") % {"n": n}
        elif len(season.name.strip()) > SEASON_NAME_LENGTH:
            problems[n] = _("Season %(n)s: the name is longer than %(max)s characters.") % {
                "n": n, "max": SEASON_NAME_LENGTH,
            }  # fmt: skip
        elif season.end < season.start:
            problems[n] = _("Season %(n)s: it ends before it starts.") % {"n": n}
        elif not Decimal("-100") <= season.percent <= Decimal("100") or (
            season.percent != season.percent.quantize(Decimal("0.001"))
        ):
            problems[n] = _(
                "Season %(n)s: the percentage must be between -100 %% (an off-season "
                "reduction) and 100 %%, with at most three decimals (got %(value)s)."
            ) % {"n": n, "value": season.percent}
    dated = sorted(
        ((n, s) for n, s in enumerate(rows, start=1) if n not in problems),
        key=lambda pair: pair[1].start,
    )
    for (_n, a), (m, b) in zip(dated, dated[1:], strict=False):
        if b.start <= a.end:
            problems[m] = _("Season %(n)s overlaps “%(other)s” (%(start)s to %(end)s).") % {
                "n": m, "other": a.name, "start": a.start, "end": a.end,
            }  # fmt: skip
    return problems


def set_seasons(card: RateCard, seasons: Iterable[strategies.Season]) -> int:
    """Replace ``card``'s peak seasons (all or nothing): a ``ValidationError`` naming the
    first bad row (:func:`season_problems`) stores nothing."""
    rows = list(seasons)
    problems = season_problems(rows)
    if problems:
        raise ValidationError(list(problems.values()))
    card.peaks.all().delete()
    PeakSurcharge.objects.bulk_create(
        PeakSurcharge(card=card, name=s.name.strip(), start=s.start, end=s.end, percent=s.percent)
        for s in rows
    )
    return len(rows)


@transaction.atomic
def guidance_set(
    *, by: Any, tier: int, target_discount: Decimal, normal_discount: Decimal,
    floor_discount: Decimal, margin_floor: Decimal,
) -> PriceGuidance:  # fmt: skip
    """A director sets a tier's price guidance (history records who changed what)."""
    if not may_edit_guidance(by):
        raise PermissionDeniedError(_("Only directors set price guidance."))
    if not target_discount <= normal_discount <= floor_discount:
        raise ValidationError(_("The discounts must rise from target to normal to floor."))
    values = {"target_discount": target_discount, "normal_discount": normal_discount,
              "floor_discount": floor_discount, "margin_floor": margin_floor}  # fmt: skip
    row = PriceGuidance.objects.select_for_update().filter(tier=tier).first()
    row = row or PriceGuidance(tier=tier)
    for name, value in values.items():
        setattr(row, name, value)
    row._history_user = by  # type: ignore[attr-defined]
    row.full_clean()
    row.save()
    return row
