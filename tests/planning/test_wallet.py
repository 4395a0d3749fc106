"""Share of wallet: estimates with competitors' and in-house shares, our share from the
ledger's stored trailing figures, benchmarks, the trend, the portfolio by tier and
industry (only the accounts the user sees), the plan's situation, the account panel and
the API. Bad input (share above 100 %, shares summing above 100 %, negative spend, unknown
competitor) is refused with a clear message and nothing stored."""

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account
from kam.core.errors import PermissionDeniedError
from kam.core.models import User
from kam.ledger.selectors import refresh_revenue_12m
from kam.planning import selectors, wallet
from kam.planning.models import AccountPlan, Competitor, CompetitorShare, WalletEstimate
from tests.conftest import assert_error
from tests.factories import AccountFactory, BillingCodeFactory, TeamMembershipFactory
from tests.planning.conftest import LAST_MONTH, add_facts, months_back

pytestmark = pytest.mark.django_db

D = Decimal


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


@pytest.fixture
def rivals(department: User) -> list[Competitor]:
    return [wallet.competitor_save(by=department, name="顺丰速运", name_en="SF Express"),
            wallet.competitor_save(by=department, name="京东物流", name_en="JD Logistics")]  # fmt: skip


def message(exc: pytest.ExceptionInfo[ValidationError], field: str) -> str:
    return " ".join(exc.value.message_dict[field])


def add(by: User, account: Account, total: str = "400000", **kw: Any) -> WalletEstimate:
    kw.setdefault("source", "customer")
    kw.setdefault("confidence", "high")
    return wallet.estimate_add(by=by, account=account, total_spend=D(total), **kw)


def test_an_estimate_gives_our_share_from_the_ledger_and_the_competitors_shares(
    owner: User, account_a: Account, facts_a: None, rivals: list[Competitor], today: datetime.date
) -> None:
    sf, jd = rivals
    add(owner, account_a, "400000", inhouse_share=D("10"), source_note="采购总监口述",
        shares=[(sf.pk, "40"), (jd.pk, D("20"))])  # fmt: skip
    w = wallet.account_wallet(account_a)
    assert w.wallet == D("400000.00") and w.revenue == D("120000.00")
    assert w.our_share == 30.0 and w.headroom == D("280000.00")
    assert [(s.competitor.name, s.share) for s in w.latest.shares] == [("顺丰速运", D("40.00")),
                                                                         ("京东物流", D("20.00"))]  # fmt: skip
    assert w.other_share == 0.0  # 30 + 40 + 20 + 10
    assert w.latest.estimate.our_revenue == D("120000.00")


def test_our_share_reads_the_stored_trailing_figures(
    owner: User, account_a: Account, facts_a: None, today: datetime.date
) -> None:
    refresh_revenue_12m()  # the stored AccountRevenue rows, as after an import
    add(owner, account_a, "240000")
    with CaptureQueriesContext(connection) as queries:
        revenue = wallet.revenue_12m([account_a.pk])
    assert revenue == {account_a.pk: D("120000.00")}
    assert any("ledger_accountrevenue" in q["sql"] for q in queries.captured_queries)
    assert not any("ledger_accountmonth" in q["sql"] for q in queries.captured_queries[1:])
    assert wallet.account_wallet(account_a).our_share == 50.0


@pytest.mark.parametrize(
    ("total", "shares", "inhouse", "field", "words"),
    [
        ("-5", [], "0", "total_spend", "cannot be negative"),
        ("100000", [], "0", "total_spend", "share of wallet would be 120.0 %"),
        ("400000", [(0, "150")], "0", "shares", "between 0 and 100 %"),
        ("400000", [(0, "50"), (1, "30")], "0", "shares", "add up to 110.0 %"),
        ("400000", [(0, "40")], "35", "shares", "add up to 105.0 %"),
        ("400000", [(999999, "10")], "0", "shares", "Unknown competitor"),
        ("400000", [(0, "10"), (0, "10")], "0", "shares", "named twice"),
        ("400000", [], "101", "inhouse_share", "between 0 and 100 %"),
    ],
)
def test_bad_estimates_are_refused_with_a_clear_message_and_nothing_stored(
    owner: User, account_a: Account, facts_a: None, rivals: list[Competitor], today: datetime.date,
    total: str, shares: list[tuple[int, str]], inhouse: str, field: str, words: str,
) -> None:  # fmt: skip
    named = [(rivals[i].pk if i < len(rivals) else i, s) for i, s in shares]
    with pytest.raises(ValidationError) as exc:
        add(owner, account_a, total, shares=named, inhouse_share=D(inhouse))
    assert words in message(exc, field)
    assert not WalletEstimate.objects.exists() and not CompetitorShare.objects.exists()


def test_an_inactive_competitor_is_unknown_and_the_list_is_the_departments(
    owner: User, department: User, account_a: Account, facts_a: None, rivals: list[Competitor],
    today: datetime.date,
) -> None:  # fmt: skip
    with pytest.raises(PermissionDeniedError):
        wallet.competitor_save(by=owner, name="中通快递")
    wallet.competitor_save(by=department, competitor=rivals[1], name="京东物流", active=False)
    with pytest.raises(ValidationError) as exc:
        add(owner, account_a, shares=[(rivals[1].pk, "10")])
    assert "Unknown competitor" in message(exc, "shares")
    with pytest.raises(ValidationError) as exc:
        wallet.competitor_save(by=department, name="顺丰速运")
    assert "already" in message(exc, "name")


def test_the_trend_keeps_every_estimate_and_the_latest_is_the_wallet(
    owner: User, account_a: Account, facts_a: None, today: datetime.date
) -> None:
    add(owner, account_a, "600000", as_of=datetime.date(2025, 7, 1), confidence="low")
    add(owner, account_a, "300000", as_of=datetime.date(2026, 7, 1))
    add(owner, account_a, "500000", as_of=datetime.date(2026, 1, 1))
    w = wallet.account_wallet(account_a)
    assert [v.estimate.as_of for v in w.history] == [
        datetime.date(2026, 7, 1), datetime.date(2026, 1, 1), datetime.date(2025, 7, 1)]  # fmt: skip
    assert w.wallet == D("300000.00") and w.our_share == 40.0
    with pytest.raises(ValidationError) as exc:
        add(owner, account_a, as_of=today + datetime.timedelta(days=1))
    assert "future" in message(exc, "as_of")


def test_benchmarks_by_industry_and_size_derive_an_estimate(
    director: User, owner: User, account_a: Account, facts_a: None, today: datetime.date
) -> None:
    with pytest.raises(ValidationError) as exc:
        wallet.estimate_from_benchmark(by=owner, account=account_a)
    assert "No benchmark" in message(exc, "total_spend")
    with pytest.raises(PermissionDeniedError):
        wallet.benchmark_set(by=owner, industry=None, size="large", spend_per_employee=D("100"))
    with pytest.raises(ValidationError):
        wallet.benchmark_set(by=director, industry=None, size="large", spend_per_employee=D("-1"))
    wallet.benchmark_set(by=director, industry=None, size="large", spend_per_employee=D("300"))
    wallet.benchmark_set(by=director, industry=account_a.industry, size="large",
                         spend_per_employee=D("500"))  # fmt: skip
    estimate = wallet.estimate_from_benchmark(by=owner, account=account_a)  # 1,200 employees
    assert estimate.total_spend == D("600000.00") and estimate.source == "benchmark"
    assert estimate.confidence == "low" and "1200" in estimate.source_note
    assert wallet.size_of(299) == "small" and wallet.size_of(5000) == "xlarge"


def test_the_plan_situation_reads_the_latest_estimate(
    owner: User, plan_a: AccountPlan, account_a: Account, facts_a: None, today: datetime.date
) -> None:
    Account.objects.filter(pk=account_a.pk).update(logistics_spend_estimate=D("1200000"))
    account_a.refresh_from_db()
    plan_a.account = account_a
    assert selectors.situation(owner, plan_a).share_of_wallet == 10.0  # the archive's figure
    add(owner, account_a, "240000")
    assert selectors.situation(owner, plan_a).share_of_wallet == 50.0


def test_the_portfolio_sums_wallet_and_headroom_of_visible_accounts_in_one_grouped_query(
    owner: User, department: User, account_a: Account, account_b: Account, facts_a: None,
    today: datetime.date,
) -> None:  # fmt: skip
    add(owner, account_a, "400000")
    Account.objects.filter(pk=account_b.pk).update(logistics_spend_estimate=D("900000"))
    extra = AccountFactory(tier=1, industry=account_a.industry)
    TeamMembershipFactory(account=extra, user=owner, role="owner")
    BillingCodeFactory(account=extra, code="YJ0591999")
    add_facts("YJ0591999", months_back(LAST_MONTH, 12), revenue="5000.00")
    add(owner, extra, "100000")
    with CaptureQueriesContext(connection) as queries:
        rows = wallet.portfolio(owner, "tier")
    # The ledger's latest month, whether its stored figures are current, the grouped sums.
    assert len(queries.captured_queries) == 3
    assert [(r["key"], r["accounts"], r["wallet"], r["headroom"]) for r in rows] == [
        (1, 2, D("500000.00"), D("320000.00"))]  # account_b (colleague's) is not there  # fmt: skip
    assert rows[0]["share"] == 36.0
    dept = {r["key"]: r for r in wallet.portfolio(department, "tier")}
    assert dept[2]["wallet"] == D("900000.00") and dept[2]["headroom"] == D("900000.00")
    by_industry = wallet.portfolio(department, "industry")
    assert {r["label"] for r in by_industry} == {"IT / electronics", "Apparel"}


def test_pages_show_the_wallet_and_refuse_bad_input_with_nothing_stored(
    owner: User, colleague: User, analyst: User, account_a: Account, account_b: Account,
    facts_a: None, rivals: list[Competitor], today: datetime.date,
) -> None:  # fmt: skip
    client = client_for(owner)
    url = f"/planning/wallet/accounts/{account_a.pk}/"
    body = {"total_spend": "400000", "as_of": "2026-07-01", "source": "customer",
            "confidence": "high", "inhouse_share": "10", "source_note": "",
            "competitor": [str(rivals[0].pk), str(rivals[1].pk)],
            "competitor_share": ["50", "20"]}  # fmt: skip
    page = client.post(url, body).content.decode()
    assert "add up to 110.0 %" in page and not WalletEstimate.objects.exists()
    zh = client_for(owner, "zh-hans").post(url, {**body, "total_spend": "-1"}).content.decode()
    assert "不能为负" in zh and not WalletEstimate.objects.exists()
    response = client.post(url, {**body, "competitor_share": ["40", "20"]})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "30.0 %" in page and "SF Express" in page
    portfolio = client.get("/planning/wallet/").content.decode()
    assert account_a.name_en in portfolio and account_b.name_en not in portfolio
    assert client_for(colleague).get(url).status_code == 404
    assert client_for(analyst).post(url, body).status_code == 403
    account_page = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-wallet-panel"' in account_page and "30.0 %" in account_page


def test_the_api_reads_and_adds_estimates_with_the_same_rules(
    session_client: Callable[..., Any], owner: User, colleague: User, account_a: Account,
    facts_a: None, rivals: list[Competitor], today: datetime.date,
) -> None:  # fmt: skip
    api = session_client(owner)
    bad = api.post(f"/planning/accounts/{account_a.pk}/wallet-estimates", {
        "total_spend": "400000", "source": "customer", "confidence": "high",
        "shares": [{"competitor": rivals[0].pk, "share": "90"}]})  # fmt: skip
    assert_error(bad, 422, "shares")
    assert not WalletEstimate.objects.exists()
    created = api.post(f"/planning/accounts/{account_a.pk}/wallet-estimates", {
        "total_spend": "400000", "source": "customer", "confidence": "high",
        "shares": [{"competitor": rivals[0].pk, "share": "40"}]})  # fmt: skip
    assert created.status_code == 201, created.content
    body = api.get(f"/planning/accounts/{account_a.pk}/wallet").json()
    assert body["our_share"] == 30.0 and body["estimates"][0]["shares"][0]["name"] == "顺丰速运"
    other = session_client(colleague)
    assert other.get(f"/planning/accounts/{account_a.pk}/wallet").status_code == 404
    assert other.post(f"/planning/accounts/{account_a.pk}/wallet-estimates", {
        "total_spend": "1", "source": "field", "confidence": "low"}).status_code == 404  # fmt: skip
    assert [c["name"] for c in api.get("/planning/competitors").json()] == ["京东物流", "顺丰速运"]


def test_the_demo_fills_wallets_and_stages_for_the_top_accounts_once(
    owner: User, department: User, director: User, today: datetime.date
) -> None:
    from kam.accounts.models import TeamRole
    from kam.planning import demo
    from kam.planning.models import StageChange, StageProposal

    months = months_back(LAST_MONTH, 24)
    for i in range(4):
        account = AccountFactory(tier=1 + i % 2, stage=["basic", "cooperative"][i % 2])
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        add_facts(BillingCodeFactory(account=account, code=f"YJW{i:04d}").code, months)
    line = demo.demo_load(seed=1, as_of=LAST_MONTH, progress=lambda *a: None)
    assert "12 wallet estimates" in line
    assert Competitor.objects.count() == 7 and CompetitorShare.objects.exists()
    for account in Account.objects.all():
        w = wallet.account_wallet(account)
        assert len(w.history) == 3 and 0 < w.our_share <= 100
        assert account.stage_changes.order_by("-on", "-id").first().to_stage == account.stage
    assert StageChange.objects.filter(from_stage="").count() == 4
    assert StageProposal.objects.exists()
    demo.demo_wipe(lambda *a: None)
    assert not WalletEstimate.objects.exists() and not Competitor.objects.exists()
    assert not StageChange.objects.exists() and not StageProposal.objects.exists()


def test_competitor_and_benchmark_pages_are_edited_by_their_keepers_only(
    owner: User, department: User, director: User, account_a: Account, today: datetime.date
) -> None:
    from kam.planning.models import WalletBenchmark

    assert client_for(owner).post("/planning/competitors/", {"name": "中通"}).status_code == 403
    response = client_for(department).post("/planning/competitors/",
                                           {"name": "中通快递", "name_en": "ZTO", "active": "on"})  # fmt: skip
    assert response.status_code == 302 and Competitor.objects.get().name_en == "ZTO"
    assert "中通快递" in client_for(owner).get("/planning/competitors/").content.decode()
    url = "/planning/wallet/benchmarks/"
    assert client_for(department).post(url, {"size": "large", "spend_per_employee": "100"}
                                       ).status_code == 403  # fmt: skip
    zh = client_for(director, "zh-hans").post(
        url, {"industry": str(account_a.industry_id), "size": "large", "spend_per_employee": "-5"}
    ).content.decode()  # fmt: skip
    assert "物流支出不能为负数" in zh and not WalletBenchmark.objects.exists()
    client_for(director).post(url, {"industry": str(account_a.industry_id), "size": "large",
                                    "spend_per_employee": "500"})  # fmt: skip
    assert WalletBenchmark.objects.get().spend_per_employee == D("500.00")
    page = client_for(owner).get(f"/planning/wallet/accounts/{account_a.pk}/").content.decode()
    assert "1200 employees × ¥500.00 a year per employee." in page
    client_for(director).post(url, {"industry": str(account_a.industry_id), "size": "large",
                                    "spend_per_employee": ""})  # fmt: skip
    assert not WalletBenchmark.objects.exists()
