"""Stored rate cards: the zone matrix, cards as the rating contract prices them, the checks
that span rows, and which card prices an account on a day."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from kam.pricing import rating, services
from kam.pricing.models import (
    CardKind,
    CardStatus,
    CostRate,
    FuelIndex,
    PeakSurcharge,
    RateCard,
    RateRule,
    RuleShape,
    WeightBand,
    ZonePair,
)
from tests.factories import AccountFactory, GroupFactory

from . import support

pytestmark = pytest.mark.django_db

START = dt.date(2026, 1, 1)


@pytest.fixture
def zones():
    return support.zones()


def list_card(zones, **kw) -> RateCard:
    return support.standard_card(start=kw.pop("start", START), step_kg="0.5", step="4",
                                 activate=False, **kw)  # fmt: skip


def test_the_default_matrix_covers_every_province_pair_by_region(zones):
    assert services.missing_pairs() == []
    matrix = services.zone_matrix()
    assert matrix.zone("440300", "440100") == rating.SAME_PROVINCE
    assert matrix.zone("440300", "450100") == "zone1"  # 广东 -> 广西: 华南
    assert matrix.zone("440300", "310100") == "zone2"  # 华南 -> 华东
    assert matrix.zone("440300", "230100") == "zone3"  # 华南 -> 东北
    assert matrix.zone("440300", "650100") == "remote"  # 新疆
    # An administrator's zone is kept when the matrix is filled again.
    ZonePair.objects.filter(origin="440000", destination="310000").update(zone=zones["zone1"])
    assert services.fill_default_matrix() == 0
    assert services.zone_matrix().zone("440300", "310100") == "zone1"


def test_a_missing_province_pair_keeps_a_card_from_activating_and_says_which(zones):
    card = list_card(zones)
    ZonePair.objects.filter(origin="440000", destination="310000").delete()
    with pytest.raises(ValidationError) as caught:
        services.activate_card(card)
    assert "Guangdong" in str(caught.value) and "Shanghai" in str(caught.value)
    card.refresh_from_db()
    assert card.status == CardStatus.DRAFT


def test_a_discount_card_prices_with_the_list_rules_and_surcharges(zones):
    base = list_card(zones, fuel_base_percent=D("5"), remote_fee=D("8"))
    PeakSurcharge.objects.create(
        card=base, name="11.11", start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 11),
        percent=D("10"),
    )  # fmt: skip
    FuelIndex.objects.create(month=dt.date(2026, 11, 1), index=D("7000"))
    account = AccountFactory()
    mine = RateCard.objects.create(
        name="mine", kind=CardKind.DISCOUNT, account=account, base=base, effective_from=START
    )
    services.set_discounts(
        mine, [rating.Discount(D("30")), rating.Discount(D("40"), "express", "remote")]
    )
    spec = services.card_spec(mine)
    wb = rating.Waybill(dt.date(2026, 11, 11), "440300", "310100", "express", D("2"))
    price = rating.price_waybill(spec, wb)
    assert (price.list_freight, price.freight, price.fuel, price.peak) == (
        D("28"), D("19.60"), D("0.98"), D("1.96"),
    )  # fmt: skip
    far = rating.price_waybill(spec, rating.Waybill(START, "440300", "650100", "express", D("1")))
    assert (far.freight, far.remote) == (D("12.00"), D("8"))


def test_weight_breaks_with_a_gap_are_refused_by_rate_and_band(zones):
    card = RateCard.objects.create(name="heavy", kind=CardKind.LIST, effective_from=START)
    rule = RateRule.objects.create(
        card=card, product="ground", zone=zones["zone1"], shape=RuleShape.WEIGHT_BREAKS,
        min_charge=D("30"),
    )  # fmt: skip
    WeightBand.objects.create(rule=rule, from_kg=D(0), to_kg=D(30), per_kg=D("2"))
    WeightBand.objects.create(rule=rule, from_kg=D(50), to_kg=None, per_kg=D("1"))
    with pytest.raises(ValidationError, match=r"Ground.*Zone 1.*a gap between bands 1 and 2"):
        services.activate_card(card)
    WeightBand.objects.filter(from_kg=50).update(from_kg=30)
    assert services.activate_card(card).status == CardStatus.ACTIVE
    spec = services.card_spec(card)
    wb = rating.Waybill(START, "440300", "450100", "ground", D("40"))
    assert rating.price_waybill(spec, wb).freight == D("40.00")


def test_two_active_cards_for_one_account_may_not_overlap(zones):
    base = list_card(zones)
    services.activate_card(base)
    account = AccountFactory()

    def card(start, end=None):
        return RateCard.objects.create(
            name=f"from {start}", kind=CardKind.DISCOUNT, account=account, base=base,
            effective_from=start, effective_to=end,
        )  # fmt: skip

    services.activate_card(card(START, dt.date(2026, 6, 30)))
    with pytest.raises(ValidationError, match="from 2026-01-01.*is already active"):
        services.activate_card(card(dt.date(2026, 6, 1)))
    later = services.activate_card(card(dt.date(2026, 7, 1)))
    assert services.active_card(account, dt.date(2026, 8, 1)) == later
    assert services.active_card(AccountFactory(), dt.date(2026, 8, 1)) == base


def test_a_group_card_prices_its_accounts_without_their_own(zones):
    base = list_card(zones)
    services.activate_card(base)
    parent = GroupFactory()
    child = GroupFactory(parent=parent)
    account = AccountFactory(group=child)
    group_card = RateCard.objects.create(
        name="group", kind=CardKind.DISCOUNT, group=parent, base=base, effective_from=START
    )
    services.activate_card(group_card)
    assert services.active_card(account, dt.date(2026, 3, 1)) == group_card
    assert services.active_card(account, dt.date(2025, 12, 31)) is None


@pytest.mark.parametrize(
    ("discount", "message"),
    [
        (
            rating.Discount(D("101")),
            "Row 1: a discount must be between -100 % .a premium. and 100 %",
        ),
        (
            rating.Discount(D("-100.5")),
            "Row 1: a discount must be between -100 % .a premium. and 100 %",
        ),
        (rating.Discount(D("5"), from_kg=D(5), to_kg=D(5)), "Row 1: the weight band ends"),
        (rating.Discount(D("5"), zone="zone9"), "Row 1: unknown zone “zone9”"),
    ],
)
def test_bad_discounts_are_refused_and_the_old_ones_kept(zones, discount, message):
    card = RateCard.objects.create(
        name="a", kind=CardKind.DISCOUNT, account=AccountFactory(), base=list_card(zones),
        effective_from=START,
    )  # fmt: skip
    services.set_discounts(card, [rating.Discount(D("10"))])
    with pytest.raises(ValidationError, match=message):
        services.set_discounts(card, [rating.Discount(D("12")), discount][1:])
    assert list(card.discounts.values_list("percent", flat=True)) == [D("10")]


def test_bad_rates_are_refused_by_row_and_nothing_changes(zones):
    card = list_card(zones)
    before = card.rules.count()
    rows = [
        services.RuleRow("express", "zone1", D("1"), D("20"), D("1"), D("4")),
        services.RuleRow("express", "zone2", D("1"), D("-1"), D("1"), D("4")),
    ]
    with pytest.raises(ValidationError, match="Row 2: a price cannot be negative"):
        services.set_first_additional_rules(card, rows)
    rows[1] = services.RuleRow("express", "zone2", D("1"), D("20"), D("0"), D("4"))
    with pytest.raises(ValidationError, match="Row 2: weights must be above zero"):
        services.set_first_additional_rules(card, rows)
    assert card.rules.count() == before


def test_the_database_refuses_what_one_row_cannot_hold(zones):
    account = AccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RateCard.objects.create(name="x", kind=CardKind.LIST, account=account, effective_from=START)
    with pytest.raises(IntegrityError), transaction.atomic():
        RateCard.objects.create(
            name="x", kind=CardKind.LIST, effective_from=START,
            fuel_floor_percent=D("9"), fuel_cap_percent=D("5"),
        )  # fmt: skip
    with pytest.raises(IntegrityError), transaction.atomic():
        CostRate.objects.create(
            product="express", zone=zones["zone1"], per_waybill=D("-1"), per_kg=D(1)
        )


def test_cost_rates_and_the_fuel_index_come_back_as_the_contract_reads_them(zones):
    CostRate.objects.create(
        product="express", zone=zones["zone1"], per_waybill=D("3"), per_kg=D("1.5")
    )
    FuelIndex.objects.create(month=dt.date(2026, 2, 1), index=D("7100.50"))
    assert services.cost_rates() == {("express", "zone1"): rating.CostRate(D("3.00"), D("1.5000"))}
    assert services.fuel_index() == {"2026-02": D("7100.50")}


def test_the_wall_shows_the_standard_card_to_all_and_an_accounts_card_to_its_team(
    zones, owner, account_a, account_b
):
    """PostgreSQL's row-level security: a card without an account (the standard card)
    is everyone's, its rates too; an account's card stays behind its team's wall."""
    from django.db import connection

    from kam.core import rls
    from kam.pricing.models import CardDiscount

    standard = list_card(zones)
    for account, name in ((account_a, "A's"), (account_b, "B's")):
        card = RateCard.objects.create(
            name=name, kind=CardKind.DISCOUNT, account=account, base=standard,
            effective_from=START,
        )  # fmt: skip
        services.set_discounts(card, [rating.Discount(D("5"))])
    with rls.scoped(owner):
        names = set(RateCard.objects.values_list("name", flat=True))
        rates = RateRule.objects.filter(card=standard).count()
        discounts = set(CardDiscount.objects.values_list("card__name", flat=True))
    if connection.vendor == "postgresql":
        assert (names, discounts) == ({"list", "A's"}, {"A's"})
    else:  # SQLite has no wall: the selectors alone keep B's card out
        assert (names, discounts) == ({"list", "A's", "B's"}, {"A's", "B's"})
    assert rates == len(zones)


def test_the_nearest_card_wins_in_one_query_of_the_cards(zones):
    base = list_card(zones)
    services.activate_card(base)
    parent = GroupFactory()
    child = GroupFactory(parent=parent)
    account = AccountFactory(group=child)

    def card(name, **whose):
        return services.activate_card(RateCard.objects.create(
            name=name, kind=CardKind.DISCOUNT, base=base, effective_from=START, **whose
        ))  # fmt: skip

    day = dt.date(2026, 3, 1)
    card("parent's", group=parent)
    nearer = card("child's", group=child)
    with CaptureQueriesContext(connection) as ctx:
        assert services.active_card(account, day) == nearer
    assert sum('"pricing_ratecard"' in q["sql"] for q in ctx.captured_queries) == 1
    own = card("own", account=account)
    assert services.active_card(account, day) == own
    # Another account of the same group: its group's card, not the first account's own.
    assert services.active_card(AccountFactory(group=child), day) == nearer
