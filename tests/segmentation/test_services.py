"""A run over a small portfolio: figures, tiers, proposals, alerts, candidates; the tier
decisions and alert actions; the rules' versions."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kam.accounts.models import Account
from kam.core.errors import ApplicationError, PermissionDeniedError
from kam.core.models import Notification, User
from kam.segmentation import selectors, services
from kam.segmentation.models import Alert, Level, RuleSet, Run, TierChange, TierProposal, Valuation
from tests.factories import AccountFactory, BillingCodeFactory

from .conftest import month, store


def test_run_values_every_code_account_and_group(run: Run, account_a: Account) -> None:
    assert run.status == Run.Status.DONE
    assert run.rule_set.version == 1
    assert f"{run.as_of:%Y-%m}" == "2026-06"
    levels = {lv: Valuation.objects.filter(run=run, level=lv).count() for lv in Level.values}
    assert levels["code"] == 1 + 1 + 10 + 4 + 20 + 1
    assert levels["account"] == Account.objects.count()
    v = Valuation.objects.get(run=run, account=account_a)
    assert str(v.revenue) == "192000.00"  # 9 x 20,000 + 3 x 4,000
    assert v.growth == pytest.approx(192000 / 240000 - 1)
    assert v.abc == "A" and v.rank == 1
    assert v.reasons[0]["code"] in {"tier_by_score", "tier_economic"}
    stats = run.stats["codes"]
    assert 0 < stats["top20_share"] <= 100 and 0 <= stats["gini"] <= 1


def test_awkward_accounts_get_figures_and_a_sensible_tier(
    run: Run, portfolio: dict[str, Any]
) -> None:
    odd = portfolio["odd"]
    values = {k: Valuation.objects.get(run=run, account=a) for k, a in odd.items()}
    assert values["no_revenue"].proposed_tier == 5
    assert values["no_revenue"].reasons[0]["code"] == "tier_no_revenue"
    assert values["refunds"].proposed_tier == 5  # refunds beyond revenue: nothing earned
    assert str(values["refunds"].revenue) == "-300.00"  # shown as it is, tier 5 all the same
    assert values["one_month"].growth is None and values["one_month"].active_months == 1
    assert values["gaps"].active_months == 6
    for v in values.values():
        assert 0 <= v.score <= 100
        assert v.volatility is None or v.volatility == v.volatility  # never NaN


def test_proposals_for_changed_tiers_and_accepting_one_writes_the_archive(
    run: Run, account_a: Account, department: User
) -> None:
    proposals = TierProposal.objects.filter(run=run)
    assert proposals.exists()
    assert all(p.proposed_tier != p.current_tier for p in proposals)
    target = proposals.first()
    change = services.proposal_accept(by=department, proposal=target)
    account = Account.objects.get(pk=target.account_id)
    assert account.tier == target.proposed_tier
    assert change.kind == TierChange.Kind.ACCEPTED and change.by == department
    history = account.history.first()
    assert history.tier == target.proposed_tier and history.history_user == department
    with pytest.raises(ApplicationError):
        services.proposal_accept(by=department, proposal=target)  # already decided


def test_bulk_accept_is_all_or_nothing(run: Run, department: User, owner: User) -> None:
    open_ = list(TierProposal.objects.filter(run=run)[:3])
    with pytest.raises(PermissionDeniedError):
        services.proposals_accept(by=owner, proposals=open_)
    assert TierChange.objects.count() == 0
    assert services.proposals_accept(by=department, proposals=open_) == 3
    assert TierChange.objects.count() == 3


def test_override_needs_a_reason(run: Run, account_b: Account, director: User) -> None:
    with pytest.raises(ValidationError) as exc:
        services.tier_override(by=director, account=account_b, tier=1, reason="  ")
    assert "reason" in exc.value.error_dict
    change = services.tier_override(by=director, account=account_b, tier=1, reason="集团战略合作")
    account_b.refresh_from_db()
    assert account_b.tier == 1 and change.reason == "集团战略合作" and change.from_tier == 2


def test_decline_alert_goes_to_owner_and_department(
    run: Run, account_a: Account, owner: User, department: User, colleague: User
) -> None:
    alert = Alert.objects.get(kind=Alert.Kind.DECLINE, account=account_a)
    assert alert.params["drop"] == pytest.approx(80.0)
    assert account_a.pk in selectors.accounts_with_open_alerts()
    assert Notification.objects.filter(user=owner, kind="segmentation.alert").exists()
    assert Notification.objects.filter(user=department, kind="segmentation.alert").exists()
    assert not Notification.objects.filter(user=colleague).exists()
    # A second run does not raise it again.
    again = services.run_execute(run=services.run_create(trigger=Run.Trigger.NIGHTLY))
    assert again.stats["alerts"]["decline"] == 0
    assert Alert.objects.filter(kind=Alert.Kind.DECLINE, account=account_a).count() == 1


def test_acknowledge_and_resolve_with_a_note(run: Run, account_a: Account, owner: User) -> None:
    alert = Alert.objects.get(kind=Alert.Kind.DECLINE, account=account_a)
    alert = services.alert_acknowledge(by=owner, alert=alert, note="called the customer")
    assert alert.status == Alert.Status.ACKNOWLEDGED and alert.acknowledged_by == owner
    assert account_a.pk in selectors.accounts_with_open_alerts()  # not resolved yet
    with pytest.raises(ValidationError):
        services.alert_resolve(by=owner, alert=alert, note="")
    alert = services.alert_resolve(by=owner, alert=alert, note="volume moved to a new code")
    assert alert.status == Alert.Status.RESOLVED
    assert "called the customer" in alert.note and "new code" in alert.note
    assert account_a.pk not in selectors.accounts_with_open_alerts()
    with pytest.raises(ApplicationError):
        services.alert_acknowledge(by=owner, alert=alert)


def test_fast_growing_small_code_is_a_candidate_and_becomes_a_prospect(
    run: Run, department: User
) -> None:
    candidates = selectors.candidates_for(department, run)
    assert "YJFASTGROW" in {v.code for v in candidates}
    v = candidates.get(code="YJFASTGROW")
    assert "potential" in v.categories and v.abc != "A"
    account = services.candidate_prospect_create(
        by=department, code="YJFASTGROW", name="快增长电商"
    )
    assert account.status == "prospect"
    assert account.billing_codes.get().code == "YJFASTGROW"
    assert "YJFASTGROW" not in {v.code for v in selectors.candidates_for(department, run)}


def test_rules_are_versioned_and_contradictions_refused(
    director: User, department: User, english: None
) -> None:
    current = services.rule_set_current()
    assert current.version == 1
    with pytest.raises(PermissionDeniedError):
        services.rule_set_create(by=department, data={"economic_threshold": 1})
    with pytest.raises(ValidationError) as exc:
        services.rule_set_create(by=director, data={"tier_cutoffs": [80, 60, 70, 20]})
    assert "tier_cutoffs" in exc.value.error_dict
    assert "overlap" in " ".join(exc.value.error_dict["tier_cutoffs"][0].messages)
    zero = dict.fromkeys(current.rules["weights"], 0)
    with pytest.raises(ValidationError) as exc:
        services.rule_set_create(by=director, data={"weights": zero})
    assert "weights" in exc.value.error_dict
    with pytest.raises(ValidationError) as exc:
        services.rule_set_create(by=director, data={"economic_threshold": -5, "silence_days": -1})
    assert {"economic_threshold", "silence_days"} <= set(exc.value.error_dict)
    assert RuleSet.objects.count() == 1  # nothing half-written
    new = services.rule_set_create(by=director, data={"economic_threshold": 100000}, note="test")
    assert new.version == 2 and new.rules["economic_threshold"] == 100000
    run = services.run_create(trigger=Run.Trigger.MANUAL)
    assert run.rule_set == new


def test_run_enqueue_runs_in_the_background_and_reuses_a_queued_run(
    portfolio: dict[str, Any], django_capture_on_commit_callbacks: Callable
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        run = services.run_enqueue(trigger=Run.Trigger.IMPORT, import_batch_id=7)
    run.refresh_from_db()
    assert run.status == Run.Status.DONE and run.import_batch_id == 7
    queued = Run.objects.create(rule_set=run.rule_set, trigger=Run.Trigger.IMPORT)
    assert services.run_enqueue(trigger=Run.Trigger.IMPORT) == queued


def test_managers_cannot_start_runs(owner: User) -> None:
    with pytest.raises(PermissionDeniedError):
        services.run_create(trigger=Run.Trigger.MANUAL, by=owner)


def test_empty_ledger_gives_an_empty_run(db: None) -> None:
    run = services.run_execute(run=services.run_create(trigger=Run.Trigger.MANUAL))
    assert run.status == Run.Status.DONE and run.stats == {"empty": True}


def test_demo_load_makes_two_runs_once(portfolio: dict[str, Any], director: User) -> None:
    import datetime

    from kam.segmentation import demo

    line = demo.demo_load(seed=1, as_of=datetime.date(2026, 6, 30), progress=lambda *a: None)
    assert "2 runs" in line and "top 20 %" in line
    runs = list(Run.objects.order_by("created_at"))
    assert [f"{r.as_of:%Y-%m}" for r in runs] == ["2026-03", "2026-06"]
    assert TierChange.objects.filter(by=director).count() == demo.ACCEPTED
    assert "already" in demo.demo_load(
        seed=1, as_of=datetime.date(2026, 6, 30), progress=lambda *a: None
    )
    demo.demo_wipe(lambda *a: None)
    assert not Run.objects.exists() and not Alert.objects.exists()


def test_decline_below_the_previous_forecast_band(portfolio: dict[str, Any], owner: User) -> None:
    # Steady, then one bad month: too little for the year-on-year rule (-27 % over 3 months),
    # but far below the band the previous run forecast for that month.
    account = AccountFactory(tier=2)
    BillingCodeFactory(account=account, code="YJBAND0001")
    store("YJBAND0001", [30000.0] * 23 + [6000.0])
    services.run_execute(run=services.run_create(trigger=Run.Trigger.MANUAL, as_of=month(1)))
    assert not Alert.objects.filter(account=account).exists()
    services.run_execute(run=services.run_create(trigger=Run.Trigger.MANUAL))
    alert = Alert.objects.get(account=account, kind=Alert.Kind.DECLINE)
    assert alert.params["rule"] == "band" and alert.params["actual"] == 6000.0
    assert alert.params["lo"] > 6000.0


def test_silent_daily_shipper_without_lake_files(portfolio: dict[str, Any]) -> None:
    account = AccountFactory(tier=2)
    BillingCodeFactory(account=account, code="YJDAILY001")
    store("YJDAILY001", [40000.0] * 23 + [None], active_days=22)
    services.run_execute(run=services.run_create(trigger=Run.Trigger.MANUAL))
    alert = Alert.objects.get(account=account, kind=Alert.Kind.SILENCE)
    assert alert.subject == "YJDAILY001" and alert.params["month"] == "2026-06"


@pytest.mark.django_db
def test_a_committed_import_queues_one_segmentation_run(settings, tmp_path) -> None:  # noqa: ANN001
    """The ledger's import_committed signal starts a run (after the import commits), and a
    quiet import (the demo's) or a switched-off setting starts none."""
    from kam.ledger.signals import quiet
    from kam.segmentation.models import Run
    from tests.ledger.conftest import good_rows, import_file, write_waybills

    settings.SEGMENT_AFTER_IMPORT = True
    batch = import_file(write_waybills(tmp_path / "a.csv", good_rows(3)))
    runs = list(Run.objects.filter(import_batch_id=batch.pk))
    assert [r.trigger for r in runs] == ["import"]

    with quiet():
        quiet_batch = import_file(write_waybills(tmp_path / "b.csv", good_rows(3, start=10)))
    settings.SEGMENT_AFTER_IMPORT = False
    off_batch = import_file(write_waybills(tmp_path / "c.csv", good_rows(3, start=20)))
    assert not Run.objects.filter(import_batch_id__in=[quiet_batch.pk, off_batch.pk]).exists()


def test_an_exploded_lifetime_value_is_stored_as_not_estimated() -> None:
    from decimal import Decimal

    from kam.segmentation.runner import _opt_money

    assert _opt_money(1234.5) == Decimal("1234.50")
    assert _opt_money(3.7148161561689887e30) is None  # a 30-account fit's q just above 1
    assert _opt_money(float("inf")) is None and _opt_money(float("nan")) is None
