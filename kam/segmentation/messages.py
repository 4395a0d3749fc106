"""Texts in the user's language for the codes the plain modules produce: rule problems,
reasons of a valuation, alerts. Codes and parameters are stored; words are made when shown."""

from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Alert, Valuation

CATEGORY_LABELS = {
    "economic": gettext_lazy("Economic key account"),
    "group": gettext_lazy("Group account"),
    "important": gettext_lazy("Important account"),
    "strategic": gettext_lazy("Strategic account"),
    "potential": gettext_lazy("Potential key account"),
}
CRITERION_LABELS = {
    "revenue": gettext_lazy("Revenue"),
    "margin": gettext_lazy("Margin contribution"),
    "growth": gettext_lazy("Growth"),
    "frequency": gettext_lazy("Frequency"),
    "credit": gettext_lazy("Credit standing"),
    "strategic": gettext_lazy("Strategic importance"),
    "headroom": gettext_lazy("Headroom"),
}
FIELD_LABELS = {
    "economic_threshold": gettext_lazy("Economic key account threshold (CNY, trailing 12 months)"),
    "abc_a": gettext_lazy("Class A closes at cumulative share"),
    "abc_b": gettext_lazy("Class B closes at cumulative share"),
    "tier_cutoffs": gettext_lazy("Tier cut-offs (lowest score of tiers 1–4)"),
    "economic_tier": gettext_lazy("Economic key accounts are at least tier"),
    "strategic_growth": gettext_lazy("Strategic: minimum growth"),
    "strategic_min_score": gettext_lazy("Strategic: minimum score"),
    "potential_growth": gettext_lazy("Potential: minimum growth"),
    "potential_min_percentile": gettext_lazy("Potential: minimum revenue percentile"),
    "potential_min_months": gettext_lazy("Potential: minimum months of history"),
    "decline_drop": gettext_lazy("Decline alert: drop"),
    "silence_days": gettext_lazy("Silence alert: days without waybills"),
    "daily_shipper_days": gettext_lazy("Daily shipper: active days a month"),
    "lane_loss_share": gettext_lazy("Lane loss: share of revenue of a big lane"),
    "clv_horizon_months": gettext_lazy("Lifetime value horizon (months)"),
    "discount_rate": gettext_lazy("Discount rate (a year)"),
    "weights": gettext_lazy("Weights"),
}


def money(value: Any) -> str:
    """As the templates' ``money`` filter (−¥872.07 for a loss); "—" for None."""
    from kam.core.templatetags.kam import money as money_filter

    if value is None:
        return "—"
    return money_filter(float(value))


def pct(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f} %"


def problem_text(code: str, params: dict[str, Any]) -> str:
    if code == "negative":
        return _("This value may not be negative.")
    if code == "fraction":
        return _("Give a share between 0 and 1 (0.3 = 30 %).")
    if code == "abc_order":
        return _(
            "The class A cut-off must be above 0 and below the class B cut-off, which is at most 1."
        )
    if code == "weights_zero":
        return _("The weights add up to zero: give at least one criterion a positive weight.")
    if code == "cutoff_range":
        return _("Give four tier cut-offs between 0 and 100.")
    if code == "cutoff_overlap":
        return (
            _(
                "The tier cut-offs overlap: tier %(tier)s starts at %(value)s, which is not above "
                "tier %(next)s's %(next_value)s. Each tier needs a higher score than the next."
            )
            % params
        )
    if code == "tier_range":
        return _("A tier is a number from 1 to 5.")
    if code == "too_large":
        return _("At most %(most)s.") % {"most": params.get("most")}
    return code


def reason_text(code: str, p: dict[str, Any]) -> str:
    if code == "tier_by_score":
        if p.get("high") is None:
            return _("Tier %(tier)s because the value score %(score)s is at least %(low)s.") % p
        if p.get("low") is None:
            return _("Tier %(tier)s because the value score %(score)s is below %(high)s.") % p
        return (
            _("Tier %(tier)s because the value score %(score)s is between %(low)s and %(high)s.")
            % p
        )
    if code == "tier_economic":
        return _(
            "Tier %(tier)s because it is an economic key account (revenue %(revenue)s ≥ %(threshold)s); "
            "the score alone gives tier %(by_score)s."
        ) % {**p, "revenue": money(p["revenue"]), "threshold": money(p["threshold"])}
    if code == "tier_no_revenue":
        return _("Tier 5 because there was no revenue in the last 12 months.")
    if code == "abc":
        return (
            _(
                "Class %(abc)s: rank %(rank)s by revenue, cumulative share %(share)s %% "
                "(A up to %(a)s %%, B up to %(b)s %%)."
            )
            % p
        )
    if code == "cat_economic":
        return _("Economic key account: trailing 12-month revenue %(revenue)s ≥ %(threshold)s.") % {
            "revenue": money(p["revenue"]), "threshold": money(p["threshold"])}  # fmt: skip
    if code == "cat_group":
        return _("Group account: the corporate group %(group)s has consolidated revenue ≥ %(threshold)s.") % {
            "group": p.get("group", ""), "threshold": money(p["threshold"])}  # fmt: skip
    if code == "cat_important":
        return _("Important account: flagged as important in the archive.")
    if code == "cat_strategic":
        return _(
            "Strategic account: value score %(score)s ≥ %(min_score)s, growth %(growth)s "
            "≥ %(min_growth)s %%, and at least half of its logistics spend still elsewhere (or unknown)."
        ) % {**p, "growth": pct(p.get("growth"))}
    if code == "cat_potential":
        return _(
            "Potential key account: not yet in class A, growth %(growth)s ≥ %(min_growth)s %% after "
            "%(months)s months with waybills, or its forecast reaches the economic threshold."
        ) % {**p, "growth": pct(p.get("growth"))}
    return code


def figure_reasons(v: Valuation, codes: int | None = None) -> list[str]:
    """How each figure of ``v`` was computed, from the run's months."""
    run = v.run
    months = run.stats.get("months", ["", ""])
    start, end = _last12(months)
    out = [
        _("Revenue %(revenue)s: the sum of the monthly facts from %(start)s to %(end)s%(codes)s.")
        % {"revenue": money(v.revenue), "start": start, "end": end,
           "codes": (_(" over %(n)s billing codes") % {"n": codes}) if codes else ""},
        _("Margin: %(margin)s over the months whose cost is known.") % {"margin": money(v.margin)}
        if v.margin is not None else _("Margin: unknown (no cost in the waybills)."),
        _("Waybills %(n)s, shipping in %(m)s of the last 12 months.")
        % {"n": intcomma(v.waybills), "m": v.active_months},
        _("Growth %(g)s: against %(prev)s in the 12 months before.")
        % {"g": pct(v.growth * 100 if v.growth is not None else None), "prev": money(v.revenue_prev)}
        if v.growth is not None else
        _("Growth: none computed, the 12 months before had no revenue (%(prev)s).")
        % {"prev": money(v.revenue_prev)},
        _("Volatility %(v)s: standard deviation of monthly revenue over its mean.")
        % {"v": f"{v.volatility:.2f}"} if v.volatility is not None else
        _("Volatility: none computed (no positive revenue)."),
    ]  # fmt: skip
    top = sorted(((k, s) for k, s in v.score_parts.items() if s is not None), key=lambda kv: -kv[1])
    if top:
        parts = ", ".join(f"{CRITERION_LABELS.get(k, k)} {s * 100:.0f}" for k, s in top)
        out.append(_("Value score %(score)s from percentile ranks: %(parts)s.")
                   % {"score": f"{v.score:.1f}", "parts": parts})  # fmt: skip
    return out


def _last12(months: list[str]) -> tuple[str, str]:
    if len(months) != 2 or not months[1]:
        return "", ""
    year, month = (int(x) for x in months[1].split("-"))
    index = year * 12 + month - 1 - 11
    return f"{index // 12:04d}-{index % 12 + 1:02d}", months[1]


def alert_text(alert: Alert) -> str:
    p = alert.params
    who = str(alert.account) if alert.account_id else p.get("code", alert.code)
    if alert.kind == Alert.Kind.DECLINE:
        if p.get("rule") == "band":
            return _("%(who)s: revenue in %(month)s (%(actual)s) fell below the forecast band (%(lo)s).") % {
                "who": who, "month": p["month"], "actual": money(p["actual"]), "lo": money(p["lo"])}  # fmt: skip
        return _(
            "%(who)s: revenue %(from)s – %(to)s fell %(drop)s %% against the same months a year "
            "before (%(recent)s against %(prior)s)."
        ) % {**p, "who": who, "recent": money(p["recent"]), "prior": money(p["prior"])}
    if alert.kind == Alert.Kind.SILENCE:
        if p.get("days") is not None:
            return _("%(who)s: daily shipper %(code)s has sent no waybill for %(days)s days (last on %(last)s).") % {
                **p, "who": who}  # fmt: skip
        return _("%(who)s: daily shipper %(code)s sent no waybill in the last month.") % {
            **p,
            "who": who,
        }
    if alert.kind == Alert.Kind.LANE_LOSS:
        from kam.core import regions

        return _(
            "%(who)s: the lane %(origin)s → %(destination)s (%(share)s %% of revenue %(from)s – %(to)s) "
            "carried nothing in the last two months."
        ) % {**p, "who": who, "origin": regions.label(p["origin"]),
             "destination": regions.label(p["destination"])}  # fmt: skip
    if alert.kind == Alert.Kind.HEALTH:
        return _(
            "%(who)s: account health fell from %(from)s to %(to)s (%(since)s – %(day)s)."
        ) % {**p, "who": who}  # fmt: skip
    return _(
        "New billing code %(code)s (first waybills %(first)s) already qualifies: revenue %(revenue)s, "
        "class %(abc)s."
    ) % {**p, "revenue": money(p["revenue"])}
