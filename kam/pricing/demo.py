"""Demo data of the pricing app: the zone matrix, a standard list card that matches the
demo ledger's list prices, a fuel index for the ledger's months, cost rates, price
guidance per tier, competitor rates, and discount cards for the tier-1 accounts at the
price level their waybills show.

The list card follows ``kam.ledger.demo.plan.PRODUCTS`` and its lane factors (same city
0.75, same province 0.85, remote 1.5): first kilogram and each further kilogram for the
parcel products, weight breaks for ground (陆运: per kg up to 30 kg, then less-than-truckload
per kg), so that repricing the demo's waybills under the list card lands near what the
ledger shows at list price.
"""

import datetime
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from kam.accounts.models import Account, BillingCode
from kam.core.models import User

from . import services
from .models import (
    CardKind,
    CardStatus,
    CompetitorRate,
    CostRate,
    FuelIndex,
    PeakSurcharge,
    PriceGuidance,
    QuoteStatus,
    RateCard,
    RateRule,
    RuleShape,
    WeightBand,
    Zone,
    ZonePair,
)

D = Decimal
# (product, first kg price, each further kg, each kg beyond 30 kg): the ledger demo's list.
LIST = (
    ("express", D("23"), D("12"), D("6")),
    ("standard", D("12"), D("5"), D("2.5")),
    ("ground", D("9"), D("2.2"), D("1.1")),
    ("cold", D("28"), D("9"), D("3.5")),
    ("international", D("95"), D("38"), D("20")),
)
ZONE_FACTOR = {
    "same_city": D("0.75"), "same_province": D("0.85"), "zone1": D("0.95"), "zone2": D("1.0"),
    "zone3": D("1.1"), "remote": D("1.5"),
}  # fmt: skip
# (tier, target, normal, floor discount %, margin floor %)
GUIDANCE = (
    (1, D("25"), D("35"), D("45"), D("8")),
    (2, D("20"), D("28"), D("38"), D("10")),
    (3, D("15"), D("22"), D("30"), D("12")),
    (4, D("8"), D("15"), D("22"), D("15")),
    (5, D("0"), D("10"), D("15"), D("18")),
)
COMPETITORS = (("顺丰速运", D("1.05")), ("京东物流", D("0.98")), ("中通快递", D("0.72")),
               ("德邦快递", D("0.9")))  # fmt: skip


def _cents(value: Decimal) -> Decimal:
    return value.quantize(D("0.01"))


def _list_card(start: datetime.date, zones: dict[str, Zone]) -> RateCard:
    card = RateCard.objects.create(
        name="2025 标准价目表 / Standard rates 2025", kind=CardKind.LIST, effective_from=start,
        fuel_base_percent=D("6"), fuel_factor=D("0.002"), fuel_reference=D("7000"),
        fuel_floor_percent=D("3"), fuel_cap_percent=D("12"), remote_fee=D("10"),
        cod_percent=D("1"), cod_min=D("2"), insurance_percent=D("0.5"), insurance_min=D("1"),
        notes="与演示台账的标价一致 / matches the demo ledger's list prices",
    )  # fmt: skip
    rules, bands = [], []
    for product, first, each, heavy in LIST:
        for code, zone in zones.items():
            factor = D("1") if product == "international" else ZONE_FACTOR[code]
            if product == "ground":
                rule = RateRule(card=card, product=product, zone=zone,
                                shape=RuleShape.WEIGHT_BREAKS, min_charge=_cents(first * factor))  # fmt: skip
                rules.append(rule)
                bands.append((rule, D("0"), D("30"), each * factor))
                bands.append((rule, D("30"), None, heavy * factor))
            else:
                rules.append(
                    RateRule(
                        card=card,
                        product=product,
                        zone=zone,
                        shape=RuleShape.FIRST_ADDITIONAL,
                        first_kg=D("1"),
                        first_price=_cents(first * factor),
                        step_kg=D("1"),
                        step_price=_cents(each * factor),
                    )  # fmt: skip
                )
    RateRule.objects.bulk_create(rules)
    WeightBand.objects.bulk_create(
        WeightBand(rule=r, from_kg=lo, to_kg=hi, per_kg=rate.quantize(D("0.0001")))
        for r, lo, hi, rate in bands
    )
    for year in range(start.year, start.year + 3):
        PeakSurcharge.objects.bulk_create([
            PeakSurcharge(card=card, name="双十一 / 11.11", start=datetime.date(year, 11, 1),
                          end=datetime.date(year, 11, 15), percent=D("8")),
            PeakSurcharge(card=card, name="双十二 / 12.12", start=datetime.date(year, 12, 8),
                          end=datetime.date(year, 12, 16), percent=D("5")),
        ])  # fmt: skip
    return card


def _price_levels(list_card: RateCard, accounts: list[Account]) -> dict[int, Decimal]:
    """Each account's discount off the list in the ledger's last twelve months: 1 − freight
    charged / the list card's freight for the same waybills (one pass over the lake)."""
    from . import reprice, whatif

    codes = dict(BillingCode.objects.filter(account__in=accounts).values_list("code", "account_id"))
    spec = services.card_spec(list_card)
    with whatif.codes_waybills(codes, whatif.last_twelve_months()) as con:
        if con is None:
            return {}
        reprice.load_card(con, spec, whatif.SOURCE)
        priced = reprice.priced_sql(spec, whatif.SOURCE)
        sql = f"SELECT billing_code, sum(freight), sum(new_freight) FROM ({priced}) WHERE priced GROUP BY billing_code"  # noqa: S608 - our SQL
        rows = con.execute(sql).fetchall()
    charged: dict[int, list[Decimal]] = {}
    for code, freight, listed in rows:
        pair = charged.setdefault(codes[code], [D(0), D(0)])
        pair[0] += D(freight)
        pair[1] += D(listed)
    return {
        pk: ((1 - f / listed) * 100).quantize(D("0.1"))
        for pk, (f, listed) in charged.items()
        if listed > 0
    }


def _fuel_index(rng: random.Random, months: list[datetime.date]) -> None:
    level = 7000.0
    rows = []
    for month in months:
        level = max(5500.0, min(9000.0, level + rng.gauss(0, 180)))
        rows.append(FuelIndex(month=month, index=D(f"{level:.2f}"), source="演示 / demo"))
    FuelIndex.objects.bulk_create(rows)


def _months(as_of: datetime.date, count: int) -> list[datetime.date]:
    index = as_of.year * 12 + as_of.month - 1 - (count - 1)
    return [datetime.date((index + i) // 12, (index + i) % 12 + 1, 1) for i in range(count)]


def demo_load(*, seed: int, as_of: datetime.date, progress: Any) -> str:
    if RateCard.objects.exists():
        return f"pricing: {RateCard.objects.count()} rate cards already there"
    rng = random.Random(seed * 7 + 3)  # noqa: S311 - seeded demo data, not cryptography
    progress("pricing", 0, 3)
    with transaction.atomic():
        services.ensure_zones()
        services.fill_default_matrix()
        zones = {z.code: z for z in Zone.objects.all()}
        months = _months(as_of, 27)
        _fuel_index(rng, months)
        list_card = _list_card(months[0], zones)
        services.activate_card(list_card)
        progress("pricing", 1, 3)
        CostRate.objects.bulk_create(
            CostRate(product=product, zone=zone, per_waybill=_cents(first * D("0.25")),
                     per_kg=(each * D("0.35") * ZONE_FACTOR[code]).quantize(D("0.0001")))
            for product, first, each, _heavy in LIST
            for code, zone in zones.items()
        )  # fmt: skip
        PriceGuidance.objects.bulk_create(
            PriceGuidance(tier=t, target_discount=a, normal_discount=b, floor_discount=c,
                          margin_floor=m)
            for t, a, b, c, m in GUIDANCE
        )  # fmt: skip
        admin = User.objects.filter(username="dept1").first()
        observed = as_of - datetime.timedelta(days=20)
        CompetitorRate.objects.bulk_create(
            CompetitorRate(competitor=name, product=product, zone=zones[code], first_kg=D("1"),
                           first_price=_cents(first * level * ZONE_FACTOR[code]), step_kg=D("1"),
                           step_price=_cents(each * level * ZONE_FACTOR[code]),
                           observed_on=observed - datetime.timedelta(days=rng.randint(0, 200)),
                           source="销售走访 / field visit", entered_by=admin)
            for name, level in COMPETITORS
            for product, first, each, _heavy in LIST[:2]
            for code in ("same_province", "zone1", "zone2", "zone3")
        )  # fmt: skip
        progress("pricing", 2, 3)
        # Tier-1 accounts priced at their contract level: a discount card each, at the
        # discount their waybills show (a few points off for some: leakage to find).
        cards = 0
        tier1 = list(Account.objects.filter(tier=1).order_by("id"))
        levels = _price_levels(list_card, tier1)
        for account in tier1:
            level = levels.get(account.pk)
            if level is None:
                continue
            drift = D(rng.choice(("0", "0", "0", "0.5", "-0.5", "3", "-2")))
            percent = min(max(level + drift, D("0")), D("90"))
            card = RateCard.objects.create(
                name=f"{account.name} 协议价", kind=CardKind.DISCOUNT, account=account,
                base=list_card, effective_from=months[3], status=CardStatus.DRAFT,
            )  # fmt: skip
            services.set_discounts(card, [services.rating.Discount(percent)])
            services.activate_card(card)
            cards += 1
        progress("pricing", 3, 4)
        # Workings and approval comments are stored as written: in the product's language.
        with translation.override(settings.LANGUAGE_CODE):
            made = _quotes(as_of)
    progress("pricing", 4, 4)
    return (
        f"pricing: a standard card, {cards} account cards, "
        f"{ZonePair.objects.count()} zone pairs, {FuelIndex.objects.count()} months of fuel index, "
        f"{made} quotes"
    )


def _quotes(as_of: datetime.date) -> int:
    """A manager's quotes in every state worth seeing: one awaiting the department (below
    the normal discount), one approved and sent, one contracted (the account's active card
    since the month began), and a draft; each proposed by a strategy on the account's own
    waybills, the margin from the what-if."""
    from kam.accounts.selectors import account_list_for

    from . import proposals, quotes, whatif

    manager = User.objects.filter(username="manager1").first()
    dept = User.objects.filter(username="dept1").first()
    director = User.objects.filter(username="director").first()
    if manager is None or dept is None:
        return 0
    accounts = list(account_list_for(manager).filter(tier__in=[1, 2]).order_by("tier", "id")[:4])
    list_card = quotes.list_card(as_of)
    plans = [("target_profit", {"target_margin": D("12")}), ("cost_plus", {"markup": D("25")}),
             ("going_rate", {"offset": D("1")}), ("perceived_value", {})]  # fmt: skip
    made = 0
    for step, (account, (strategy, params)) in enumerate(zip(accounts, plans, strict=False)):
        outcome = proposals.propose(strategy, account, list_card, params, today=as_of)
        if outcome.error or not outcome.discounts:
            continue
        discounts = [
            services.rating.Discount(d.percent.quantize(D("0.0001"), rounding="ROUND_FLOOR"),
                                     d.product, d.zone, d.from_kg, d.to_kg)
            for d in outcome.discounts
            if -100 <= d.percent <= 100  # a lane priced below its cost on the list: left out
        ]  # fmt: skip
        quote = quotes.quote_create(
            by=manager, account=account, strategy=strategy, discounts=discounts,
            valid_until=as_of + datetime.timedelta(days=30), workings=outcome.workings,
            terms="月结30天；价格含税；燃油附加费按月调整。", today=as_of,
        )  # fmt: skip
        made += 1
        if step == 3:
            continue  # a draft
        found = whatif.card_what_if(quote.card, whatif.quote_accounts(account, None))
        margin = found[0].totals["proposed_margin_pct"] if found else None
        quote = quotes.quote_submit(by=manager, quote=quote, margin=margin)
        if step == 0:
            continue  # awaiting the department (or whoever the guidance named)
        for approver in (dept, director):
            if quote.status == QuoteStatus.SUBMITTED and approver is not None:
                quote = quotes.quote_decide(by=approver, quote=quote, decision="approved",
                                            comment="同意，按季度复核实际毛利。")  # fmt: skip
        quote = quotes.quote_send(by=manager, quote=quote)
        if step == 2:
            quote = quotes.quote_answer(by=manager, quote=quote, accepted=True, today=as_of)
            quotes.quote_contract(by=manager, quote=quote, contract_from=as_of.replace(day=1),
                                  contract_to=None)  # fmt: skip
    return made


def demo_wipe(progress: Any) -> None:
    with transaction.atomic():
        from .models import Quote

        Quote.objects.all().delete()
        RateCard.objects.filter(kind=CardKind.DISCOUNT).delete()
        RateCard.objects.all().delete()
        CompetitorRate.objects.all().delete()
        CostRate.objects.all().delete()
        PriceGuidance.objects.all().delete()
        FuelIndex.objects.all().delete()
        ZonePair.objects.all().delete()
