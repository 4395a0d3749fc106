"""Demo data of the segmentation app: two runs over the demo's facts (the first three months
earlier, so that the run history has a comparison), and a few accepted tier proposals so
that account pages show a tier history. Idempotent."""

import datetime
from collections.abc import Callable

from django.db import transaction
from django.db.models import F

from kam.core.models import Role, User

from . import services
from .models import Alert, RuleSet, Run, TierChange, TierProposal, Valuation

Progress = Callable[[str, int, int], None]
ACCEPTED = 5  # proposals the demo director accepts


def _months_before(day: datetime.date, n: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - n
    return datetime.date(index // 12, index % 12 + 1, 1)


def demo_load(*, seed: int, as_of: datetime.date, progress: Progress) -> str:
    from django.db.models import Max

    from kam.ledger.models import AccountMonth

    if Run.objects.filter(status=Run.Status.DONE).exists():
        return "Segmentation: runs already there."
    last = AccountMonth.objects.aggregate(m=Max("month"))["m"]
    if last is None:
        return "Segmentation: no monthly facts, no run."
    last = min(last, as_of.replace(day=1))
    director = User.objects.filter(role=Role.DIRECTOR, is_active=True).order_by("pk").first()
    # The demo's money is at a carrier's scale: the product's rules (the source's CNY
    # 5,000,000 economic threshold) apply as they are.
    first = services.run_create(trigger=Run.Trigger.DEMO, as_of=_months_before(last, 3))
    services.run_execute(
        run=first, progress=lambda s, d, t: progress(f"segmentation (earlier): {s}", d, t)
    )
    if director is not None:
        _calibrate_cutoffs(by=director, run=first)
    run = services.run_create(trigger=Run.Trigger.DEMO, as_of=last)
    run = services.run_execute(
        run=run, progress=lambda s, d, t: progress(f"segmentation: {s}", d, t)
    )
    accepted = 0
    if director is not None:
        # Raises only (the largest first): the director does not demote a key account on
        # one run's say-so.
        for proposal in TierProposal.objects.filter(
            run=run, status=TierProposal.Status.OPEN, proposed_tier__lt=F("current_tier")
        ).order_by("valuation__rank")[:ACCEPTED]:
            services.proposal_accept(by=director, proposal=proposal)
            accepted += 1
    s = run.stats
    economic = sum(
        "economic" in categories
        for categories in Valuation.objects.filter(run=run, level="account").values_list(
            "categories", flat=True
        )
    )
    threshold = services.rule_set_current().rules.get("economic_threshold", 0)
    return (
        f"Segmentation: 2 runs ({economic} economic accounts at CNY {threshold:,.0f} a year); "
        f"top 20 % of billing codes hold {s['codes']['top20_share']} % of revenue "
        f"(Gini {s['codes']['gini']}); {s['candidates']} candidates, {s['proposals']} tier proposals "
        f"({accepted} accepted), {Alert.objects.count()} alerts."
    )


#: The note of the rules version the demo's director saves after the first run.
CALIBRATED_NOTE = (
    "层级分数线按现有客户层级金字塔校准（tier cut-offs calibrated to the archive's pyramid）"
)


def _calibrate_cutoffs(*, by: User, run: Run) -> RuleSet | None:
    """What a department does after its first run: the default cut-offs (80/60/40/20)
    assume scores spread evenly, but a portfolio's scores bunch up (the demo's median is
    about 52), so nine in ten accounts would be proposed another tier. The director saves
    a rules version whose cut-offs put as many active accounts in each tier as the archive
    has there today; the economic threshold and everything else stay as they are. None
    when the scores cannot give strictly falling cut-offs (a tiny archive)."""
    rows = list(
        Valuation.objects.filter(run=run, level="account", account__status="active")
        .values_list("score", "current_tier")
    )  # fmt: skip
    if len(rows) < 50:
        return None
    scores = sorted((float(score) for score, _tier in rows), reverse=True)
    cutoffs: list[float] = []
    for tier in (1, 2, 3, 4):
        n = sum(1 for _score, current in rows if (current or 5) <= tier)
        cutoffs.append(round(scores[max(n, 1) - 1], 2))
    if not (100 >= cutoffs[0] > cutoffs[1] > cutoffs[2] > cutoffs[3] > 0):
        return None
    rules = {**services.rule_set_current().rules, "tier_cutoffs": cutoffs}
    return services.rule_set_create(by=by, data=rules, note=CALIBRATED_NOTE)


def demo_wipe(progress: Progress) -> None:
    steps = [Alert, TierChange, TierProposal, Valuation, Run, RuleSet]
    with transaction.atomic():
        for i, model in enumerate(steps, start=1):
            model.objects.all().delete()
            progress("wiping segmentation", i, len(steps))
