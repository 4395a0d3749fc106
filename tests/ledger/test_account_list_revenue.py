"""The account list's trailing-12-month revenue: from the facts, sortable, paged, no query per row."""

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import Account, BillingCode
from kam.core.models import User
from kam.ledger import selectors
from kam.ledger.models import AccountMonth, AccountRevenue, ImportBatch, LakeFile
from tests.factories import AccountFactory, BillingCodeFactory, TeamMembershipFactory

pytestmark = pytest.mark.django_db


def fact(code: str, month: datetime.date, revenue: str) -> AccountMonth:
    zero = Decimal(0)
    return AccountMonth.objects.create(
        billing_code=code, month=month, waybills=1, pieces=1, weight_kg=Decimal(1),
        revenue=Decimal(revenue), cost=zero, margin=zero, cod_amount=zero, returns=0, lost=0,
        damaged=0, on_time=1, lanes=1, destination_cities=1, active_days=1,
    )  # fmt: skip


def lake_until(month: str) -> None:
    batch = ImportBatch.objects.create(source=ImportBatch.Source.CLI, file_name="x.parquet")
    LakeFile.objects.create(
        batch=batch, path=f"waybills/month={month}/x.parquet", month=month, rows=1
    )


@pytest.fixture
def revenue(account_a: Account, account_b: Account) -> dict[str, Account]:
    """A: two codes, 12 months to 2026-10 (and older months that do not count); B: one code,
    more revenue; C: no codes."""
    lake_until("2024-01")
    lake_until("2026-10")
    BillingCodeFactory(account=account_a, code="YJ0591002")
    fact("YJ0591001", datetime.date(2025, 11, 1), "100.10")  # first month of the 12
    fact("YJ0591001", datetime.date(2026, 10, 1), "200.20")  # the last
    fact("YJ0591002", datetime.date(2026, 3, 1), "0.70")
    fact("YJ0591001", datetime.date(2025, 10, 1), "9999.00")  # 13 months back: not counted
    fact("UNLINKED01", datetime.date(2026, 10, 1), "5000.00")  # no account's
    code_b = BillingCode.objects.filter(account=account_b).values_list("code", flat=True).first()
    if code_b is None:
        code_b = BillingCodeFactory(account=account_b, code="GZ0200001").code
    fact(code_b, datetime.date(2026, 1, 1), "1000.00")
    return {"A": account_a, "B": account_b, "C": AccountFactory(name="无运单客户")}


def test_revenue_sums_the_codes_months_of_the_trailing_12_months(revenue: dict) -> None:
    figures = dict(
        selectors.with_revenue_12m(Account.objects.all()).values_list("name", "revenue_12m")
    )
    assert figures[revenue["A"].name] == Decimal("301.00")
    assert figures[revenue["B"].name] == Decimal("1000.00")
    assert figures[revenue["C"].name] == Decimal("0.00")
    assert selectors.trailing_period() == (datetime.date(2025, 11, 1), datetime.date(2026, 10, 1))
    # An explicit month ends the period there instead.
    earlier = selectors.with_revenue_12m(Account.objects.filter(pk=revenue["A"].pk),
                                         as_of=datetime.date(2026, 9, 15))  # fmt: skip
    assert earlier.get().revenue_12m == Decimal("9999.00") + Decimal("100.10") + Decimal("0.70")


def test_without_a_lake_the_revenue_is_zero(account_a: Account) -> None:
    fact("YJ0591001", datetime.date(2026, 10, 1), "1.00")  # facts but no lake file: no period
    assert selectors.trailing_period() is None
    assert selectors.with_revenue_12m(Account.objects.all()).get().revenue_12m == 0


def test_the_account_list_shows_and_sorts_by_our_revenue(revenue: dict, director: User) -> None:
    client = Client()
    client.force_login(director)
    page = client.get("/accounts/", {"sort": "-revenue_12m"}, headers={"Accept-Language": "en"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Our revenue, 12 months" in html and "2025-11 – 2026-10" in html
    assert "¥301.00" in html and "¥1,000.00" in html
    names = [a.name for a in page.context["page"].object_list]
    assert names[:3] == [revenue["B"].name, revenue["A"].name, revenue["C"].name]
    ascending = client.get("/accounts/", {"sort": "revenue_12m"})
    assert [a.name for a in ascending.context["page"].object_list][0] == revenue["C"].name
    chinese = client.get("/accounts/", headers={"Accept-Language": "zh-Hans"})
    assert "近12个月我方收入" in chinese.content.decode()


def test_a_bad_sort_is_refused_not_a_crash(director: User, session_client: Any) -> None:
    client = Client()
    client.force_login(director)
    assert client.get("/accounts/", {"sort": "revenue_12m; DROP"}).status_code == 200
    api = session_client(director)
    assert api.get("/accounts", {"sort": "-revenue"}).status_code == 422


def test_the_api_lists_and_sorts_by_our_revenue(
    revenue: dict, owner: User, session_client: Any
) -> None:
    TeamMembershipFactory(account=revenue["B"], user=owner, role="member")
    body = session_client(owner).get("/accounts", {"sort": "-revenue_12m"}).json()
    assert [(i["name"], i["revenue_12m"]) for i in body["items"]] == [
        (revenue["B"].name, "1000.00"), (revenue["A"].name, "301.00"),
    ]  # fmt: skip
    # The manager sees only their accounts: C (no team) is not listed.
    assert body["count"] == 2


def test_the_list_takes_the_same_queries_however_many_accounts_have_facts(
    revenue: dict, director: User, django_assert_max_num_queries: Any
) -> None:
    client = Client()
    client.force_login(director)
    client.get("/accounts/", {"sort": "-revenue_12m"})
    with django_assert_max_num_queries(40) as before:
        client.get("/accounts/", {"sort": "-revenue_12m"})
    for n in range(40):
        account = AccountFactory()
        code = BillingCodeFactory(account=account, code=f"ZZ{n:06d}").code
        fact(code, datetime.date(2026, 5, 1), f"{n}.00")
    with django_assert_max_num_queries(len(before.captured_queries)):
        page = client.get("/accounts/", {"sort": "-revenue_12m"})
    assert page.context["page"].object_list[0].revenue_12m == Decimal("1000.00")


# --- the stored figures (AccountRevenue): refreshed with the facts, identical to the sum ---


def live(as_of: datetime.date | None = None) -> dict[str, Decimal]:
    """The figures summed from the facts (no stored figures of the period)."""
    AccountRevenue.objects.all().delete()
    return dict(
        selectors.with_revenue_12m(Account.objects.all(), as_of).values_list("name", "revenue_12m")
    )


def listed(as_of: datetime.date | None = None) -> dict[str, Decimal]:
    return dict(
        selectors.with_revenue_12m(Account.objects.all(), as_of).values_list("name", "revenue_12m")
    )


def test_stored_figures_are_the_facts_sums_to_the_cent(revenue: dict) -> None:
    expected = live()
    selectors.refresh_revenue_12m()
    stored = {r.account_id: r for r in AccountRevenue.objects.all()}
    # A row per account with facts in the period (C has none), for the ledger's latest month.
    assert set(stored) == {revenue["A"].pk, revenue["B"].pk}
    assert {r.as_of for r in stored.values()} == {datetime.date(2026, 10, 1)}
    assert stored[revenue["A"].pk].revenue == Decimal("301.00")
    assert listed() == expected
    # The list reads them: a changed stored figure shows (the facts alone would not).
    AccountRevenue.objects.filter(account=revenue["A"]).update(revenue=Decimal("1.23"))
    assert listed()[revenue["A"].name] == Decimal("1.23")
    # Another period (an explicit month) sums the facts.
    assert listed(datetime.date(2026, 9, 1))[revenue["A"].name] == Decimal("10099.80")


def test_stored_figures_of_an_older_period_are_not_used(revenue: dict) -> None:
    selectors.refresh_revenue_12m()
    lake_until("2026-11")  # a newer month in the lake, facts not yet rebuilt
    fact("YJ0591001", datetime.date(2026, 11, 1), "5.00")
    figures = listed()
    assert figures[revenue["A"].name] == Decimal("200.20") + Decimal("0.70") + Decimal("5.00")
    assert figures[revenue["C"].name] == Decimal("0.00")


def test_a_billing_code_added_or_removed_refreshes_its_accounts_figure(
    revenue: dict, django_capture_on_commit_callbacks: Any
) -> None:
    selectors.refresh_revenue_12m()
    fact("NEW0000001", datetime.date(2026, 6, 1), "42.00")  # facts of a code not yet linked
    with django_capture_on_commit_callbacks(execute=True):
        code = BillingCodeFactory(account=revenue["C"], code="NEW0000001")
    assert AccountRevenue.objects.get(account=revenue["C"]).revenue == Decimal("42.00")
    assert listed()[revenue["C"].name] == Decimal("42.00")
    with django_capture_on_commit_callbacks(execute=True):
        code.delete()
    assert not AccountRevenue.objects.filter(account=revenue["C"]).exists()
    assert listed()[revenue["C"].name] == Decimal("0.00")
    # An account deleted with its codes leaves no figure behind.
    with django_capture_on_commit_callbacks(execute=True):
        revenue["A"].delete()
    assert not AccountRevenue.objects.filter(account_id=revenue["A"].pk).exists()


def test_refreshing_one_account_before_any_rebuild_stores_nothing(revenue: dict) -> None:
    selectors.refresh_revenue_12m([revenue["A"].pk])  # figures not in use yet: the list sums
    assert not AccountRevenue.objects.exists()


def test_the_sorted_list_reads_the_stored_figures(revenue: dict, director: User) -> None:
    selectors.refresh_revenue_12m()
    client = Client()
    client.force_login(director)
    page = client.get("/accounts/", {"sort": "-revenue_12m"})
    names = [a.name for a in page.context["page"].object_list]
    assert names[:3] == [revenue["B"].name, revenue["A"].name, revenue["C"].name]
    assert "¥301.00" in page.content.decode()


# --- the home page's book of business reads the same stored figures -------------------------


def test_stored_figures_hold_the_twelve_months_before_too(
    revenue: dict, django_capture_on_commit_callbacks: Any
) -> None:
    selectors.refresh_revenue_12m()
    stored = {r.account_id: r for r in AccountRevenue.objects.all()}
    # 2024-11 – 2025-10: A's 13th month back counts there; B had none.
    assert stored[revenue["A"].pk].revenue_prev == Decimal("9999.00")
    assert stored[revenue["B"].pk].revenue_prev == Decimal("0.00")
    fact("GONE000001", datetime.date(2025, 1, 1), "7.00")  # revenue in the prior period only
    with django_capture_on_commit_callbacks(execute=True):
        BillingCodeFactory(account=revenue["C"], code="GONE000001")
    figure = AccountRevenue.objects.get(account=revenue["C"])
    assert (figure.revenue, figure.revenue_prev) == (Decimal("0.00"), Decimal("7.00"))


def test_the_book_of_business_from_stored_figures_equals_the_facts_sums(
    revenue: dict, owner: User
) -> None:
    from kam.accounts.models import TeamRole
    from kam.accounts.selectors import account_list_for

    # Movers both ways (equal changes: the higher id first up, the lower first down), an
    # account that did not change, an untiered one.
    for i, (now, before) in enumerate([("50.00", "10.00"), ("10.00", "50.00"), ("5.00", "5.00"),
                                       ("90.00", "50.00"), ("0.00", "40.00"), ("1.00", "0.00")]):  # fmt: skip
        account = AccountFactory(tier=None if i == 2 else 1 + i % 3)
        code = BillingCodeFactory(account=account).code
        fact(code, datetime.date(2026, 2, 1), now)
        fact(code, datetime.date(2025, 2, 1), before)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    for key in ("B", "C"):  # A is the owner's already
        TeamMembershipFactory(account=revenue[key], user=owner, role=TeamRole.CO_OWNER)
    as_of = datetime.date(2026, 11, 1)  # the twelve months to 2026-10, the lake's latest
    accounts = account_list_for(owner)
    summed = selectors.book_of_business(accounts, as_of=as_of)  # nothing stored yet
    selectors.refresh_revenue_12m()
    stored = selectors.book_of_business(accounts, as_of=as_of)
    assert stored == summed
    assert stored.revenue == Decimal("1457.00") and stored.revenue_prev == Decimal("10154.00")
    assert [m["change"] for m in stored.movers_up] == [Decimal("1000.00"), Decimal("40.00"),
                                                       Decimal("40.00")]  # fmt: skip
    assert [m["change"] for m in stored.movers_down] == [Decimal("-9698.00"), Decimal("-40.00"),
                                                         Decimal("-40.00")]  # fmt: skip
    assert stored.movers_up[1]["pk"] > stored.movers_up[2]["pk"]
    assert stored.movers_down[1]["pk"] < stored.movers_down[2]["pk"]
    assert stored.tiers[-1] == (None, 1) and stored.accounts == 9
    # It does read them (a changed figure shows), and only for their own period.
    AccountRevenue.objects.filter(account=revenue["B"]).update(revenue=Decimal("1.00"))
    assert selectors.book_of_business(accounts, as_of=as_of).revenue == Decimal("458.00")
    earlier = selectors.book_of_business(accounts, as_of=datetime.date(2026, 10, 1))
    assert earlier.end == datetime.date(2026, 9, 1)
    assert earlier.revenue == Decimal("11255.80")  # A's 2025-10 in, its 2026-10 out


def test_the_home_page_shows_the_twelve_months_to_the_ledgers_latest(
    revenue: dict, owner: User
) -> None:
    selectors.refresh_revenue_12m()  # A is the owner's
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(owner)
    body = client.get("/").content.decode()
    assert "Revenue 2025-11 – 2026-10" in body and "¥301.00" in body


def test_pages_sorted_by_stored_revenue_are_the_one_querys_rows(
    revenue: dict, director: User, owner: User
) -> None:
    """Highest first, the list reads the accounts above 0 by the stored figure, then the
    rest: every page, across the boundary and past it, is the slice of the one query's
    order (ties on revenue by name, descending; zero and missing figures together)."""
    from kam.accounts import selectors as accounts
    from kam.accounts.models import TeamRole

    selectors.refresh_revenue_12m()
    for i, amount in enumerate(["1000.00", "301.00", "0.00", "55.50", "55.50", None, None]):
        account = AccountFactory(name=f"排序客户{i}")
        if amount is not None:
            AccountRevenue.objects.create(
                account=account, as_of=datetime.date(2026, 10, 1), revenue=Decimal(amount)
            )
        if i % 2:
            TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    for user in (director, owner):
        listed = accounts.account_search(accounts.account_list_for(user), sort="-revenue_12m")
        assert accounts._stored_figure_sort(listed) is not None
        order = list(listed.values_list("pk", flat=True))
        assert len(order) >= 4
        for start in range(len(order) + 1):
            for stop in range(start, len(order) + 2):
                rows = accounts.account_rows(listed, start, stop)
                assert [a.pk for a in rows] == order[start:stop], (user, start, stop)
    ascending = accounts.account_search(accounts.account_list_for(director), sort="revenue_12m")
    assert accounts._stored_figure_sort(ascending) is None
