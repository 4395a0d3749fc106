"""The English texts of the strategies' workings, warnings and refusals: the msgids the
Django layer translates (``pricing.messages``); figures fill the ``%(name)s`` placeholders."""

from __future__ import annotations

from collections.abc import Mapping

from .base import Figure, Flag, Step, StrategyError


def gettext_noop(text: str) -> str:
    """Marks a text for the translation catalogue (``makemessages`` finds the name) without
    importing Django; the Django layer translates it when it shows it."""
    return text


# English texts of the codes: the msgids the Django layer translates (proposals.py);
# figures fill the %(name)s placeholders.
STEP_TEXTS = {
    "account_volume": gettext_noop(
        "Account volume: %(waybills)s waybills, list freight %(result)s, charged today %(current_revenue)s, cost %(cost)s (%(estimated_lanes)s lanes costed from cost rates)."
    ),
    "cost_plus_price": gettext_noop("Cost %(cost)s x (1 + %(markup_percent)s %%) = %(result)s."),
    "lane_discount": gettext_noop(
        "List %(list_freight)s to charge %(target_revenue)s: %(result)s %% off, charging %(revenue)s against cost %(cost)s (margin %(margin_percent)s %%)."
    ),
    "required_revenue": gettext_noop(
        "Revenue for a %(target_margin_percent)s %% margin on cost %(cost)s: %(cost)s x 100 / (100 - %(target_margin_percent)s) = %(result)s."
    ),
    "account_discount": gettext_noop("Discount for the account: %(result)s %%."),
    "margin_reached": gettext_noop(
        "Margin reached: (%(revenue)s - %(cost)s) / %(revenue)s = %(result)s %%."
    ),
    "current_discount": gettext_noop(
        "Current discount: 1 - %(revenue)s / %(list_freight)s = %(result)s %%."
    ),
    "on_time_value": gettext_noop(
        "On-time %(on_time_percent)s %% against the market's %(market_percent)s %%, x %(weight)s = %(result)s points."
    ),
    "claims_value": gettext_noop(
        "Claims %(claims_percent)s %% against the market's %(market_percent)s %%, x %(weight)s = %(result)s points."
    ),
    "value_adjustment": gettext_noop(
        "Value of the service: %(raw)s points, held within +-%(cap_percent)s: %(result)s points of premium."
    ),
    "target_revenue": gettext_noop(
        "Customer's target %(price_per_waybill)s a waybill x %(waybills)s waybills = %(result)s."
    ),
    "target_margin": gettext_noop(
        "Target revenue %(revenue)s against cost %(cost)s: margin %(result)s %%; clears the %(floor_percent)s %% floor: %(clears_floor)s; needs %(discount_needed)s %% off."
    ),
    "monthly_waybills": gettext_noop(
        "%(waybills)s waybills over %(months)s months = %(result)s a month."
    ),
    "volume_band": gettext_noop("Volume band from %(min_waybills)s a month: %(result)s %% off."),
    "next_band": gettext_noop(
        "Next band from %(min_waybills)s a month (%(waybills_to_go)s more): %(result)s %% off."
    ),
    "tier_adjustment": gettext_noop("Tier %(tier)s: %(result)s points."),
    "season": gettext_noop("Season %(name)s, %(start)s to %(end)s: %(result)s %% of the freight."),
    "competitor_level": gettext_noop(
        "%(source)s (%(date)s, %(age_days)s days old) charges %(their_freight)s where the list charges %(list_freight)s: %(result)s %% below the list."
    ),
    "going_rate": gettext_noop(
        "Going rate: median %(median)s %% of %(rates)s rates, plus %(offset_percent)s points = %(result)s %% off."
    ),
    "bid_price": gettext_noop(
        "Cost %(cost)s a waybill to a %(target_margin_percent)s %% margin, not below the floor price %(floor_price)s: %(result)s (list %(list_price)s, %(discount_percent)s %% off; %(annual_revenue)s a year)."
    ),
    "bid_total": gettext_noop(
        "Bid: %(lanes)s lanes priced, %(flagged_lanes)s not, %(result)s a year."
    ),
}
FLAG_TEXTS = {
    "above_list": gettext_noop("Priced above the list (a premium)."),
    "below_floor": gettext_noop(
        "Margin %(margin_percent)s %% is below the %(floor_percent)s %% floor."
    ),
    "held_at_floor": gettext_noop(
        "The strategy's price %(target)s is below the floor; priced at the floor, %(floor_revenue)s."
    ),
    "value_capped": gettext_noop(
        "The service's value, %(raw)s points, was held at the cap of %(cap_percent)s."
    ),
    "no_volume": gettext_noop("No shipments in this lane: not priced."),
    "discount_held_in_range": gettext_noop(
        "The schedule gives %(raw)s %%; held between 0 and 100 %%."
    ),
    "no_competitor_rate": gettext_noop("No competitor rate for this product and zone: not priced."),
    "rate_in_future": gettext_noop(
        "The rate from %(source)s is dated %(date)s, after the pricing date: left out."
    ),
    "stale_rate": gettext_noop("The rate from %(source)s is %(age_days)s days old."),
    "all_rates_stale": gettext_noop(
        "Every competitor rate is older than %(stale_after_days)s days; the stale ones were used."
    ),
    "target_below_floor": gettext_noop(
        "The target margin %(target_margin_percent)s %% is below the floor %(floor_percent)s %%."
    ),
    "no_zone": gettext_noop("No zone for %(origin)s to %(destination)s: not priced."),
    "no_list_rule": gettext_noop("No list rate in zone %(zone)s: not priced."),
    "no_cost_rate": gettext_noop("No cost rate in zone %(zone)s: not priced."),
}
ERROR_TEXTS = {
    "no_volume": gettext_noop("The account has no shipments to price."),
    "no_revenue": gettext_noop("A margin needs revenue above zero."),
    "no_list_freight": gettext_noop(
        "The list card charges nothing for %(product)s in zone %(zone)s."
    ),
    "no_cost_rate": gettext_noop("No cost rate for %(product)s in zone %(zone)s."),
    "no_list_rule": gettext_noop("No list rate for %(product)s in zone %(zone)s."),
    "negative_price": gettext_noop("A price must not be negative (%(price)s)."),
    "negative_markup": gettext_noop("A markup must not be negative (%(markup)s %%)."),
    "negative_cap": gettext_noop("The cap must not be negative (%(cap)s)."),
    "negative_stale_days": gettext_noop(
        "The age after which a rate is stale must not be negative."
    ),
    "margin_not_below_100": "A margin must be below 100 %% (%(margin)s %%).",
    "repeated_lane": gettext_noop("Two target prices for one lane (%(product)s, %(zone)s)."),
    "bands_not_from_zero": gettext_noop("The volume bands must start at 0 waybills."),
    "repeated_band": gettext_noop("Two volume bands start at %(min_waybills)s."),
    "discount_out_of_range": gettext_noop(
        "A discount must be between 0 and 100 %% (%(percent)s %%)."
    ),
    "unknown_tier": gettext_noop("No tier adjustment for tier %(tier)s."),
    "season_ends_before_start": gettext_noop("The season %(season)s ends before it starts."),
    "season_below_minus_100": "The season %(season)s takes off more than the freight.",
    "seasons_overlap": gettext_noop("The seasons %(first)s and %(second)s overlap."),
    "no_months": gettext_noop("The profile's period must be at least one month."),
}


class _Figures(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, figures: Mapping[str, Figure]) -> str:
    return template % _Figures({k: str(v) for k, v in figures.items()})


def step_text(step: Step) -> str:
    """A working step in English."""
    return _fill(STEP_TEXTS.get(step.label, step.label), {**step.figures, "result": step.result})


def flag_text(flag: Flag) -> str:
    """A warning in English."""
    return _fill(FLAG_TEXTS.get(flag.code, flag.code), flag.params)


def error_text(error: StrategyError) -> str:
    """A refusal in English."""
    return _fill(ERROR_TEXTS.get(error.code, error.code), error.params)
