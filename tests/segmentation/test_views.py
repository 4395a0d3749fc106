"""The pages: who sees what, the actions, and no NaN anywhere."""

import re
from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import Account
from kam.core.models import User
from kam.segmentation import services
from kam.segmentation.models import Alert, RuleSet, Run, TierProposal

PAGES = ["/segmentation/", "/segmentation/?level=codes", "/segmentation/proposals/",
         "/segmentation/candidates/", "/segmentation/alerts/", "/segmentation/rules/",
         "/segmentation/runs/"]  # fmt: skip


def login(user: User) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_the_department_without_nan(run: Run, department: User, path: str) -> None:
    response = login(department).get(path)
    assert response.status_code == 200
    # CSRF tokens are random letters and may spell "NaN" by chance: leave them out.
    html = re.sub(
        r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"',
        r'\1"TOKEN"',
        response.content.decode(),
    )
    assert '"X-CSRFToken": "TOKEN"' in html  # the regex saw the token it must hide
    for bad in ("NaN", ">nan<", "nan %", "¥nan", "None %"):
        assert bad not in html


def test_portfolio_shows_concentration_and_the_chart_data(run: Run, director: User) -> None:
    html = login(director).get("/segmentation/").content.decode()
    assert 'id="pareto-chart"' in html and 'id="seg-data"' in html
    assert f"{run.stats['accounts']['top20_share']} %" in html


def test_managers_see_no_portfolio_but_their_alerts(run: Run, owner: User, colleague: User,
                                                    account_a: Account) -> None:  # fmt: skip
    assert login(owner).get("/segmentation/rules/").status_code == 403
    mine = login(owner).get("/segmentation/alerts/").content.decode()
    assert str(account_a.name_en) in mine
    theirs = login(colleague).get("/segmentation/alerts/").content.decode()
    assert str(account_a.name_en) not in theirs


def test_account_page_panel_says_why(run: Run, owner: User, account_a: Account) -> None:
    html = login(owner).get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="value-panel"' in html
    assert "Tier " in html and " because " in html
    assert "Revenue ¥192,000.00: the sum of the monthly facts from 2025-07 to 2026-06" in html


def test_accept_a_proposal_from_the_list(run: Run, department: User) -> None:
    proposal = TierProposal.objects.filter(run=run).first()
    client = login(department)
    response = client.post(f"/segmentation/proposals/{proposal.pk}/accept/")
    assert response.status_code == 302
    assert Account.objects.get(pk=proposal.account_id).tier == proposal.proposed_tier
    others = list(
        TierProposal.objects.filter(run=run, status="open").values_list("pk", flat=True)[:2]
    )
    client.post("/segmentation/proposals/", {"proposal": others})
    assert TierProposal.objects.filter(pk__in=others, status="accepted").count() == 2


def test_analyst_may_not_accept(run: Run, analyst: User) -> None:
    proposal = TierProposal.objects.filter(run=run).first()
    login(analyst).post(f"/segmentation/proposals/{proposal.pk}/accept/")
    assert Account.objects.get(pk=proposal.account_id).tier == proposal.current_tier


def test_override_form_requires_a_reason(run: Run, director: User, account_b: Account) -> None:
    client = login(director)
    response = client.post(
        f"/segmentation/accounts/{account_b.pk}/tier/", {"tier": 1, "reason": ""}
    )
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(
        f"/segmentation/accounts/{account_b.pk}/tier/", {"tier": 1, "reason": "战略"}
    )
    assert response.status_code == 302
    account_b.refresh_from_db()
    assert account_b.tier == 1


def test_rules_page_refuses_contradictions_with_messages(director: User, department: User) -> None:
    client = login(director)
    form = client.get("/segmentation/rules/").context["form"]
    data = {name: field.initial for name, field in form.fields.items() if field.initial is not None}
    bad = {**data, "cutoff_1": 50, "cutoff_2": 60, "weight_revenue": -1}
    html = client.post("/segmentation/rules/", bad).content.decode()
    assert "The tier cut-offs overlap" in html
    assert "may not be negative" in html
    assert RuleSet.objects.count() == 1
    zero = {**data, **{k: 0 for k in data if k.startswith("weight_")}}
    assert "add up to zero" in client.post("/segmentation/rules/", zero).content.decode()
    assert (
        client.post("/segmentation/rules/", {**data, "economic_threshold": 1_000_000}).status_code
        == 302
    )
    assert RuleSet.objects.first().version == 2
    assert login(department).post("/segmentation/rules/", data).status_code == 403


def test_alert_inbox_acknowledge_and_resolve(run: Run, owner: User, account_a: Account) -> None:
    alert = Alert.objects.get(kind="decline", account=account_a)
    client = login(owner)
    client.post(
        "/segmentation/alerts/", {"alert": alert.pk, "action": "acknowledge", "note": "在跟进"}
    )
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.note == "在跟进"
    client.post("/segmentation/alerts/", {"alert": alert.pk, "action": "resolve", "note": ""})
    alert.refresh_from_db()
    assert alert.status == "acknowledged"  # a resolution needs a note
    client.post("/segmentation/alerts/", {"alert": alert.pk, "action": "resolve", "note": "已恢复"})
    alert.refresh_from_db()
    assert alert.status == "resolved"


def test_candidate_one_click_prospect(run: Run, department: User, analyst: User) -> None:
    assert (
        login(analyst)
        .post("/segmentation/candidates/", {"code": "YJFASTGROW", "name": "x"})
        .status_code
        == 403
    )
    response = login(department).post(
        "/segmentation/candidates/", {"code": "YJFASTGROW", "name": "快增长电商"}
    )
    account = Account.objects.get(name="快增长电商")
    assert response.status_code == 302 and account.billing_codes.get().code == "YJFASTGROW"
    csv = login(department).get("/segmentation/candidates/?format=csv")
    assert csv.status_code == 200


def test_run_now_button_and_progress_page(portfolio: Any, department: User,
                                          django_capture_on_commit_callbacks: Any) -> None:  # fmt: skip
    client = login(department)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/segmentation/run/")
    run = Run.objects.get()
    assert response.status_code == 302 and run.trigger == "manual" and run.created_by == department
    run.refresh_from_db()
    assert run.status == "done"
    assert "run-done" in client.get(f"/segmentation/runs/{run.pk}/").content.decode()
    other = services.run_execute(run=services.run_create(trigger="nightly"))
    html = client.get(f"/segmentation/runs/compare/?a={run.pk}&b={other.pk}").content.decode()
    assert 'id="migration-matrix"' in html


def test_list_pages_do_not_query_per_row(
    run: Run, department: User, django_assert_max_num_queries: Any
) -> None:
    client = login(department)
    assert Alert.objects.count() >= 1 and TierProposal.objects.count() > 5
    for path in (
        "/segmentation/alerts/?status=all",
        "/segmentation/proposals/",
        "/segmentation/candidates/",
    ):
        with django_assert_max_num_queries(20):
            assert client.get(path).status_code == 200


def test_a_manager_sees_the_portfolio_of_their_own_accounts_only(
    run: Run, owner: User, colleague: User, account_a: Account, account_b: Account
) -> None:
    response = login(owner).get("/segmentation/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="portfolio-mine"' in html and 'id="pareto-chart"' in html
    assert str(account_a) in html and str(account_b) not in html
    # Their figures, not the portfolio's: one account's revenue, and no candidates' count.
    mine = run.valuations.get(level="account", account=account_a)
    assert f"¥{mine.revenue:,.2f}" in html
    assert f"¥{run.stats['accounts']['revenue']:,.2f}" not in html
    assert "/segmentation/candidates/" not in html and "/segmentation/proposals/" not in html
    theirs = login(colleague).get("/segmentation/").content.decode()
    assert str(account_b) in theirs and str(account_a) not in theirs


def test_service_reps_still_get_no_portfolio(run: Run, service_rep: User) -> None:
    assert login(service_rep).get("/segmentation/").status_code == 403


def test_the_default_rule_sets_note_is_shown_in_the_readers_language(
    run: Run, department: User
) -> None:
    assert RuleSet.objects.get(version=1).note == RuleSet.DEFAULTS_NOTE
    english = login(department).get("/segmentation/rules/").content.decode()
    assert "Built-in default rules" in english and "<td>defaults</td>" not in english
    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(department)
    chinese = client.get("/segmentation/rules/").content.decode()
    assert "内置默认规则" in chinese and "<td>defaults</td>" not in chinese
