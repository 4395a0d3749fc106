"""The segmentation rules: thresholds and weights, their checks, categories and tiers.

Plain Python and numpy (no Django). A rule set is a :class:`Rules`; :func:`problems` lists
what is wrong with one (as codes with parameters, which the Django side turns into messages
in the user's language); :func:`categorize` and :func:`propose_tiers` apply it to arrays of
figures and say why, entity by entity, as reason codes.
"""

import dataclasses
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from .figures import CRITERIA, BoolArray, FloatArray, IntArray

CATEGORIES = ("economic", "group", "important", "strategic", "potential")

DEFAULT_WEIGHTS: dict[str, float] = {
    "revenue": 30.0,
    "margin": 20.0,
    "growth": 15.0,
    "frequency": 10.0,
    "credit": 5.0,
    "strategic": 10.0,
    "headroom": 10.0,
}


@dataclass(frozen=True)
class Rules:
    """Every knob of a run. Money in CNY; shares and growth as fractions (0.3 = 30 %)."""

    economic_threshold: float = 5_000_000.0  # T12M revenue of an economic key account
    abc_a: float = 0.80  # cumulative revenue share closing class A
    abc_b: float = 0.95  # ... and class B
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    # Lowest score of tiers 1, 2, 3 and 4 (below the last: tier 5); strictly decreasing.
    tier_cutoffs: tuple[float, float, float, float] = (80.0, 60.0, 40.0, 20.0)
    economic_tier: int = 2  # an economic key account is at least this tier
    strategic_growth: float = 0.15
    strategic_min_score: float = 70.0
    potential_growth: float = 0.30
    potential_min_percentile: float = 0.50  # revenue rank among billing codes, 0..1
    potential_min_months: int = 6  # months with waybills needed before growth counts
    decline_drop: float = 0.30  # seasonally adjusted drop that raises a decline alert
    silence_days: int = 14
    daily_shipper_days: int = 15  # average active days a month that make a daily shipper
    lane_loss_share: float = 0.10  # share of revenue a lane must hold to be "big"
    clv_horizon_months: int = 36
    discount_rate: float = 0.10  # a year

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tier_cutoffs"] = list(self.tier_cutoffs)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Rules":
        """Build from stored or typed values; unknown keys are ignored, missing keys take
        the defaults (a rule set stored before a knob existed keeps working)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "weights" in values:
            values["weights"] = {k: float(values["weights"].get(k, 0.0)) for k in CRITERIA}
        if "tier_cutoffs" in values:
            values["tier_cutoffs"] = tuple(float(c) for c in values["tier_cutoffs"])
        return cls(**values)


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


NON_NEGATIVE = ("economic_threshold", "strategic_growth", "strategic_min_score",
                "potential_growth", "potential_min_percentile", "potential_min_months",
                "decline_drop", "silence_days", "daily_shipper_days", "lane_loss_share",
                "clv_horizon_months", "discount_rate")  # fmt: skip
FRACTIONS = ("abc_a", "abc_b", "potential_min_percentile", "decline_drop", "lane_loss_share")
#: Upper bounds of counts: beyond them a value is a typo (and a long horizon costs time).
AT_MOST = {"clv_horizon_months": 240, "silence_days": 365, "daily_shipper_days": 31,
           "potential_min_months": 120}  # fmt: skip


def problems(rules: Rules) -> list[Problem]:
    """Contradictions and impossible values; an empty list means the rules are usable."""
    out: list[Problem] = []
    for name in NON_NEGATIVE:
        value = getattr(rules, name)
        if not np.isfinite(value) or value < 0:
            out.append(Problem(name, "negative", {"value": value}))
    for name in FRACTIONS:
        value = getattr(rules, name)
        if np.isfinite(value) and not 0 <= value <= 1:
            out.append(Problem(name, "fraction", {"value": value}))
    if not 0 < rules.abc_a < rules.abc_b <= 1:
        out.append(Problem("abc_b", "abc_order", {"a": rules.abc_a, "b": rules.abc_b}))
    weights = [rules.weights.get(c, 0.0) for c in CRITERIA]
    for name, w in zip(CRITERIA, weights, strict=True):
        if not np.isfinite(w) or w < 0:
            out.append(Problem(f"weight_{name}", "negative", {"value": w}))
    if sum(w for w in weights if np.isfinite(w) and w > 0) <= 0:
        out.append(Problem("weights", "weights_zero"))
    cut = rules.tier_cutoffs
    if len(cut) != 4 or any(not np.isfinite(c) or not 0 <= c <= 100 for c in cut):
        out.append(Problem("tier_cutoffs", "cutoff_range"))
    elif any(cut[i] <= cut[i + 1] for i in range(3)):
        overlapping = next(i for i in range(3) if cut[i] <= cut[i + 1])
        out.append(
            Problem(
                "tier_cutoffs",
                "cutoff_overlap",
                {"tier": overlapping + 1, "next": overlapping + 2,
                 "value": cut[overlapping], "next_value": cut[overlapping + 1]},
            )
        )  # fmt: skip
    if rules.economic_tier not in (1, 2, 3, 4, 5):
        out.append(Problem("economic_tier", "tier_range", {"value": rules.economic_tier}))
    for name, most in AT_MOST.items():
        value = getattr(rules, name)
        if np.isfinite(value) and value > most:
            out.append(Problem(name, "too_large", {"value": value, "most": most}))
    return out


@dataclass(frozen=True)
class Categories:
    economic: BoolArray
    group: BoolArray
    important: BoolArray
    strategic: BoolArray
    potential: BoolArray

    def as_lists(self) -> list[list[str]]:
        stacked = np.stack([getattr(self, c) for c in CATEGORIES], axis=1)
        return [[c for c, on in zip(CATEGORIES, row, strict=True) if on] for row in stacked]


def categorize(
    rules: Rules,
    *,
    revenue: FloatArray,
    growth: FloatArray,
    months_with_facts: IntArray,
    score: FloatArray,
    revenue_percentile: FloatArray,
    group_revenue: FloatArray,
    important: BoolArray,
    headroom_share: FloatArray,
    forecast_revenue: FloatArray,
    established: BoolArray | None = None,
) -> Categories:
    """Apply the category rules. ``group_revenue`` is the consolidated T12M revenue of the
    entity's corporate group (``nan`` outside a group); ``headroom_share`` the share of the
    estimated logistics spend not yet with the carrier; ``forecast_revenue`` the next 12
    months' forecast (``nan`` when none)."""
    growth0 = np.nan_to_num(growth, nan=-np.inf)
    economic = revenue >= rules.economic_threshold
    group = np.nan_to_num(group_revenue, nan=-np.inf) >= rules.economic_threshold
    grown_up = months_with_facts >= rules.potential_min_months
    # Strategic: valuable, growing, and with room to grow (most of its spend elsewhere, or
    # unknown): what competitors go after.
    room = np.nan_to_num(headroom_share, nan=1.0) >= 0.5
    strategic = (score >= rules.strategic_min_score) & (growth0 >= rules.strategic_growth) & room
    big = economic if established is None else economic | established
    potential = ~big & (
        (grown_up & (growth0 >= rules.potential_growth)
         & (np.nan_to_num(revenue_percentile) >= rules.potential_min_percentile))
        | (np.nan_to_num(forecast_revenue, nan=-np.inf) >= rules.economic_threshold)
    )  # fmt: skip
    return Categories(
        economic=economic,
        group=group,
        important=important.astype(bool),
        strategic=strategic,
        potential=potential,
    )


@dataclass(frozen=True)
class Tiers:
    tier: npt.NDArray[np.int64]
    by_score: npt.NDArray[np.int64]  # the tier the score alone gives
    raised: BoolArray  # raised to ``economic_tier`` because the entity is economic
    no_revenue: BoolArray  # tier 5 because there was no revenue at all


def propose_tiers(rules: Rules, *, score: FloatArray, revenue: FloatArray,
                  economic: BoolArray) -> Tiers:  # fmt: skip
    """Tier 1 for a score at or above the first cut-off, ... tier 5 below the last; an
    economic key account is raised to ``economic_tier``; no revenue at all is tier 5."""
    cut = np.asarray(rules.tier_cutoffs, dtype=np.float64)
    s = np.nan_to_num(score, nan=0.0)
    by_score = 1 + (s[:, None] < cut[None, :]).sum(axis=1).astype(np.int64)
    raised = economic & (by_score > rules.economic_tier)
    tier = np.where(raised, rules.economic_tier, by_score)
    no_revenue = np.nan_to_num(revenue, nan=0.0) <= 0
    tier = np.where(no_revenue, 5, tier).astype(np.int64)
    return Tiers(tier=tier, by_score=by_score, raised=raised & ~no_revenue, no_revenue=no_revenue)
