"""Rules: contradictions refused, categories and tiers with their edge cases."""

import numpy as np

from kam.segmentation.rules import Rules, categorize, problems, propose_tiers


def codes(rules: Rules) -> set[tuple[str, str]]:
    return {(p.field, p.code) for p in problems(rules)}


def test_defaults_are_consistent_and_round_trip() -> None:
    assert problems(Rules()) == []
    assert Rules.from_dict(Rules().to_dict()) == Rules()
    assert Rules().economic_threshold == 5_000_000  # the source's rule of thumb


def test_overlapping_tier_cutoffs_are_refused() -> None:
    assert ("tier_cutoffs", "cutoff_overlap") in codes(Rules(tier_cutoffs=(80, 60, 60, 20)))
    assert ("tier_cutoffs", "cutoff_overlap") in codes(Rules(tier_cutoffs=(50, 60, 40, 20)))
    assert ("tier_cutoffs", "cutoff_range") in codes(Rules(tier_cutoffs=(180, 60, 40, 20)))


def test_weights_summing_to_zero_are_refused() -> None:
    zero = dict.fromkeys(Rules().weights, 0.0)
    assert ("weights", "weights_zero") in codes(Rules(weights=zero))
    assert ("weight_revenue", "negative") in codes(
        Rules(weights={**zero, "revenue": -1.0, "margin": 1.0})
    )


def test_negative_thresholds_and_bad_shares_are_refused() -> None:
    assert ("economic_threshold", "negative") in codes(Rules(economic_threshold=-1))
    assert ("silence_days", "negative") in codes(Rules(silence_days=-3))
    assert ("abc_b", "abc_order") in codes(Rules(abc_a=0.9, abc_b=0.8))
    assert ("decline_drop", "fraction") in codes(Rules(decline_drop=1.5))


def test_counts_beyond_sense_are_refused() -> None:
    assert ("clv_horizon_months", "too_large") in codes(Rules(clv_horizon_months=10_000))
    assert ("daily_shipper_days", "too_large") in codes(Rules(daily_shipper_days=32))
    assert problems(Rules(clv_horizon_months=240, silence_days=365)) == []


def test_tiers_by_score_economic_floor_and_no_revenue() -> None:
    rules = Rules(tier_cutoffs=(80, 60, 40, 20), economic_tier=2)
    score = np.array([95.0, 80.0, 79.9, 45.0, 10.0, 10.0, 90.0])
    revenue = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 6e6, 0.0])
    tiers = propose_tiers(rules, score=score, revenue=revenue, economic=revenue >= 5e6)
    assert tiers.tier.tolist() == [1, 1, 2, 3, 5, 2, 5]
    assert tiers.raised.tolist() == [False] * 5 + [True, False]
    assert tiers.no_revenue.tolist() == [False] * 6 + [True]


def test_categories() -> None:
    rules = Rules()
    n = 4
    cats = categorize(
        rules,
        revenue=np.array([6e6, 1e5, 2e5, 1e3]),
        growth=np.array([0.0, 0.5, np.nan, 0.9]),
        months_with_facts=np.array([24, 24, 24, 3]),
        score=np.array([90.0, 75.0, 50.0, 20.0]),
        revenue_percentile=np.array([1.0, 0.8, 0.9, 0.1]),
        group_revenue=np.array([np.nan, 7e6, np.nan, np.nan]),
        important=np.array([False, False, True, False]),
        headroom_share=np.full(n, np.nan),
        forecast_revenue=np.array([np.nan, np.nan, 6e6, np.nan]),
    )
    assert cats.as_lists() == [
        ["economic"],
        ["group", "strategic", "potential"],
        ["important", "potential"],  # the forecast reaches the threshold
        [],  # fast growth, but too small and too young
    ]
