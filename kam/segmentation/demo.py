"""Demo data of the segmentation app: two runs over the demo's facts (the first three months
earlier, so that the run history has a comparison), and a few accepted tier proposals so
that account pages show a tier history. Idempotent."""

import datetime
from collections.abc import Callable

from django.db import transaction

from kam.core.models import Role, User

from . import services
from .models import Alert, RuleSet, Run, TierChange, TierProposal, Valuation

Progress = Callable[[str, int, int], None]
ACCEPTED = 5  # proposals the demo director accepts
#: The demo ships about a hundredth of a real branch's volume (a million waybills over two
#: years), so no account reaches the product's CNY 5,000,000 economic threshold. The demo's
#: director publishes a rules version scaled to it; the product's default stays as it is.
DEMO_ECONOMIC_THRESHOLD = 50_000.0
DEMO_RULES_NOTE = (
    "演示数据按真实分公司约 1/100 的运量生成，经济型门槛按比例调为 5 万元（demo scale: 1/100）"
)


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
    if director is not None and services.rule_set_current().note != DEMO_RULES_NOTE:
        services.rule_set_create(
            by=director,
            data={
                **services.rule_set_current().rules,
                "economic_threshold": DEMO_ECONOMIC_THRESHOLD,
            },
            note=DEMO_RULES_NOTE,
        )
    first = services.run_create(trigger=Run.Trigger.DEMO, as_of=_months_before(last, 3))
    services.run_execute(
        run=first, progress=lambda s, d, t: progress(f"segmentation (earlier): {s}", d, t)
    )
    run = services.run_create(trigger=Run.Trigger.DEMO, as_of=last)
    run = services.run_execute(
        run=run, progress=lambda s, d, t: progress(f"segmentation: {s}", d, t)
    )
    accepted = 0
    if director is not None:
        for proposal in TierProposal.objects.filter(
            run=run, status=TierProposal.Status.OPEN
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
    return (
        f"Segmentation: 2 runs (economic threshold scaled to the demo: CNY "
        f"{DEMO_ECONOMIC_THRESHOLD:,.0f}: {economic} economic accounts); top 20 % of billing codes hold {s['codes']['top20_share']} % of revenue "
        f"(Gini {s['codes']['gini']}); {s['candidates']} candidates, {s['proposals']} tier proposals "
        f"({accepted} accepted), {Alert.objects.count()} alerts."
    )


def demo_wipe(progress: Progress) -> None:
    steps = [Alert, TierChange, TierProposal, Valuation, Run, RuleSet]
    with transaction.atomic():
        for i, model in enumerate(steps, start=1):
            model.objects.all().delete()
            progress("wiping segmentation", i, len(steps))
