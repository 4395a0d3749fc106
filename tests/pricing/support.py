"""What the pricing tests build again and again: the zone matrix, a standard card, the
tier-1 guidance (plain functions, so browser tests can call them too)."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal as D
from typing import Any

from kam.pricing import services
from kam.pricing.models import CardKind, PriceGuidance, RateCard, Zone


def zones() -> dict[str, Zone]:
    """The standard zones and the default province-pair matrix."""
    services.fill_default_matrix()
    return services.ensure_zones()


def standard_card(
    *, name: str = "list", start: dt.date = dt.date(2025, 1, 1),
    products: Iterable[str] = ("express",), first: str = "20", step_kg: str = "1",
    step: str = "5", activate: bool = True, **fields: Any,
) -> RateCard:  # fmt: skip
    """A standard (list) card: first 1 kg at ``first``, each ``step_kg`` at ``step``, in
    every zone, for ``products``; active unless told otherwise."""
    codes = zones()
    card = RateCard.objects.create(name=name, kind=CardKind.LIST, effective_from=start, **fields)
    services.set_first_additional_rules(card, [
        services.RuleRow(p, z, D(1), D(first), D(step_kg), D(step)) for p in products for z in codes
    ])  # fmt: skip
    if activate:
        services.activate_card(card)
    return card


def tier_one_guidance() -> PriceGuidance:
    """Tier 1: target 20 %, normal 30 %, floor 40 %, margin floor 10 %."""
    return PriceGuidance.objects.create(
        tier=1, target_discount=D(20), normal_discount=D(30), floor_discount=D(40),
        margin_floor=D(10),
    )  # fmt: skip
