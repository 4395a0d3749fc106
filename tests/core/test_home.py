"""The home page (工作台): each role sees its own work, only from the accounts it may see,
in a number of queries that does not grow with the number of accounts."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from kam.accounts.models import Account, TeamRole
from kam.core.models import Role, User
from kam.coverage.models import FollowUp, Visit, VisitReport
from kam.ledger.models import AccountMonth
from kam.ledger.selectors import book_of_business
from kam.segmentation.models import Alert, RuleSet, Run, TierProposal, Valuation
from kam.service.models import Case
from tests.conftest import CSRF_SECRET
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    TeamMembershipFactory,
    UserFactory,
)

#: A Wednesday (no holiday near it); the clock is moved to 10:00 Beijing time that day.
TODAY = datetime.date(2026, 7, 15)


@pytest.fixture(autouse=True)
def _today(time_machine):
    time_machine.move_to(datetime.datetime(2026, 7, 15, 2, 0, tzinfo=datetime.UTC), tick=False)


def logged_in(user: User, lang: str = "en") -> Client:
    client = Client(headers={"Accept-Language": lang})
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def page(user: User, lang: str = "en", client: Client | None = None) -> str:
    response = (client or logged_in(user, lang)).get("/")
    assert response.status_code == 200
    return response.content.decode()


def _fact(code: str, month: datetime.date, revenue: str) -> AccountMonth:
    zero = Decimal(0)
    return AccountMonth(
        billing_code=code, month=month, waybills=10, pieces=10, weight_kg=zero,
        revenue=Decimal(revenue), cost=zero, margin=zero, cod_amount=zero, returns=0, lost=0,
        damaged=0, on_time=0, lanes=1, destination_cities=1, active_days=1,
    )  # fmt: skip


def _report(visit: Visit, by: User) -> VisitReport:
    return VisitReport.objects.create(visit=visit, purpose="回访", summary="—", submitted_by=by)


def _case(account: Account, subject: str, *, assignee: User | None, due: datetime.datetime,
          state: str = "ok") -> Case:  # fmt: skip
    return Case.objects.create(
        account=account, kind="complaint", channel="phone", severity="medium", subject=subject,
        assignee=assignee, opened_at=timezone.now() - datetime.timedelta(hours=1),
        response_due=due, resolution_due=due, sla_state=state,
    )  # fmt: skip


def _work(account: Account, manager: User, tag: str, *, service: User | None = None) -> None:
    """Everything a home page may show, on ``account``, each text carrying ``tag``."""
    now = timezone.now()
    Visit.objects.create(account=account, person=manager, day=TODAY)
    Visit.objects.create(account=account, person=manager, day=TODAY - datetime.timedelta(days=3))
    Visit.objects.create(
        account=account,
        person=manager,
        day=TODAY - datetime.timedelta(days=8),
        status=Visit.Status.MISSED,
    )  # as `kam coverage missed` marks it
    done = Visit.objects.create(account=account, person=manager, day=TODAY,
                                status=Visit.Status.DONE)  # fmt: skip
    report = _report(done, manager)
    report.purpose = f"{tag}-report"
    report.save()
    FollowUp.objects.create(report=report, account=account, title=f"{tag}-follow-up",
                            owner=manager, due_date=TODAY - datetime.timedelta(days=1))  # fmt: skip
    _case(account, f"{tag}-case", assignee=service or manager, due=now - datetime.timedelta(hours=1),
          state="violated")  # fmt: skip
    Alert.objects.create(kind=Alert.Kind.DECLINE, account=account, params={
        "from": "2025-07", "to": "2026-06", "drop": 30, "recent": "100", "prior": "200"})  # fmt: skip


# --- per role ---------------------------------------------------------------------------------


@pytest.fixture
def world(owner, colleague, service_rep, account_a, account_b):
    _work(account_a, owner, "kestrel", service=service_rep)
    _work(account_b, colleague, "osprey")
    return account_a, account_b


def test_a_manager_sees_their_visits_follow_ups_cases_and_alerts_not_a_colleagues(owner, world):
    account_a, account_b = world
    body = page(owner)
    today_visit = Visit.objects.get(account=account_a, day=TODAY, status="planned")
    missed = Visit.objects.get(account=account_a, day=TODAY - datetime.timedelta(days=3))
    assert f"/coverage/reports/new/?visit={today_visit.pk}" in body  # the report to file
    assert f"/coverage/reports/new/?visit={missed.pk}" in body  # missed, still to report
    marked = Visit.objects.get(account=account_a, status=Visit.Status.MISSED)
    assert f"/coverage/reports/new/?visit={marked.pk}" in body
    assert "Missed: 2 visits without a report" in body
    assert "kestrel-follow-up" in body and "overdue since" in body
    assert "kestrel-case" in body
    assert account_a.name_en in body  # the alert names the account (in English here)
    alert = Alert.objects.get(account=account_a)
    assert f"/segmentation/alerts/#alert-{alert.pk}" in body  # where it is acknowledged
    assert "My book of business" in body
    for foreign in ("osprey-follow-up", "osprey-case", "osprey-report", account_b.name,
                    account_b.name_en):  # fmt: skip
        assert foreign not in body
    # A manager reviews no reports and approves no tiers.
    assert "home-reviews" not in body and "home-proposals" not in body


def test_the_department_sees_reports_to_review_overdue_people_breaches_and_proposals(
    department, owner, colleague, world
):
    account_a, _ = world
    run = Run.objects.create(rule_set=RuleSet.objects.create(version=1, rules={}),
                             trigger="manual", status=Run.Status.DONE)  # fmt: skip
    valuation = Valuation.objects.create(
        run=run, level="account", account=account_a, revenue=1, revenue_prev=1, waybills=1,
        active_months=1, rank=1, cum_share=1, abc="A", score=1, proposed_tier=1, tier_by_score=1,
    )  # fmt: skip
    TierProposal.objects.create(run=run, account=account_a, valuation=valuation,
                                current_tier=3, proposed_tier=1)  # fmt: skip
    body = page(department)
    proposal = TierProposal.objects.get()
    assert f"/segmentation/proposals/#proposal-{proposal.pk}" in body  # where it is accepted
    for text in (
        "kestrel-report",
        "osprey-report",
        "kestrel-case",
        "osprey-case",
        "Tier proposals",
    ):
        assert text in body
    assert f"?owner={owner.pk}&amp;overdue=1" in body and f"?owner={colleague.pk}&amp;" in body
    # This month so far: 2 visits made of 6 (today's unreported one not yet counted).
    assert "home-compliance" in body and "33.3 %" in body
    assert "My book of business" not in body and "home-visits" not in body


def test_a_service_rep_sees_their_queue_by_urgency(service_rep, world):
    body = page(service_rep)
    assert "home-my-queue" in body and "kestrel-case" in body
    assert "osprey-case" not in body
    assert "home-visits" not in body and "My book of business" not in body


def test_a_service_rep_also_sees_others_cases_of_their_accounts_near_their_sla(
    service_rep, owner, world
):
    account_a, _ = world
    _case(account_a, "kestrel-others", assignee=owner,
          due=timezone.now() + datetime.timedelta(hours=3))  # fmt: skip
    _case(account_a, "kestrel-later", assignee=owner,
          due=timezone.now() + datetime.timedelta(days=3))  # fmt: skip
    body = page(service_rep)
    near = body[body.index('id="home-cases-near-sla"') :]
    assert "kestrel-others" in near and "kestrel-later" not in near
    assert "kestrel-case" not in near  # their own: in "My queue" above


def test_an_analyst_sees_alerts_and_portfolio_figures_but_no_contacts(analyst, world, contact_a):
    body = page(analyst)
    assert "home-alerts" in body and "home-portfolio" in body
    assert contact_a.name not in body
    assert "home-my-queue" not in body


def test_an_outsider_sees_empty_states_that_say_what_would_appear(outsider, world):
    body = page(outsider)
    assert "No visits planned for the rest of this week" in body
    assert "You are on no account team yet" in body
    for text in ("kestrel-", "osprey-"):
        assert text not in body


def test_an_administrator_sees_no_customer_data(admin, world):
    body = page(admin)
    assert "sees no customer data" in body
    assert "kestrel-" not in body and "osprey-" not in body


def test_the_home_page_speaks_chinese_first(owner, world):
    body = page(owner, lang="zh-hans")
    assert "工作台" in body
    assert "我的业务" in body


# --- the book of business -----------------------------------------------------------------------


def test_book_of_business_sums_the_trailing_twelve_months_and_finds_the_movers(db, owner):
    up, down, quiet = (AccountFactory(tier=t) for t in (1, 2, 2))
    for account in (up, down, quiet):
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    codes = {a.pk: BillingCodeFactory(account=a).code for a in (up, down, quiet)}
    AccountMonth.objects.bulk_create([
        _fact(codes[up.pk], datetime.date(2026, 6, 1), "300.00"),  # last complete month
        _fact(codes[up.pk], datetime.date(2025, 6, 1), "100.00"),  # the 12 months before
        _fact(codes[up.pk], datetime.date(2026, 7, 1), "999.00"),  # this month: not yet
        _fact(codes[down.pk], datetime.date(2025, 7, 1), "50.00"),  # first of the twelve
        _fact(codes[down.pk], datetime.date(2024, 7, 1), "80.00"),  # first of the prior twelve
        _fact(codes[down.pk], datetime.date(2024, 6, 1), "700.00"),  # older: out
    ])  # fmt: skip
    from kam.accounts.selectors import account_list_for

    book = book_of_business(account_list_for(owner), as_of=TODAY)
    assert (book.start, book.end) == (datetime.date(2025, 7, 1), datetime.date(2026, 6, 1))
    assert book.revenue == Decimal("350.00") and book.revenue_prev == Decimal("180.00")
    assert round(book.growth, 4) == round(170 / 180, 4)
    assert book.tiers == [(1, 1), (2, 2)]
    assert [m["pk"] for m in book.movers_up] == [up.pk]
    assert [m["pk"] for m in book.movers_down] == [down.pk]
    assert book.movers_down[0]["change"] == Decimal("-30.00")


def test_book_of_business_of_no_accounts_is_empty(db, outsider):
    from kam.accounts.selectors import account_list_for

    book = book_of_business(account_list_for(outsider), as_of=TODAY)
    assert book.accounts == 0 and book.revenue == 0 and book.growth is None


# --- query counts -------------------------------------------------------------------------------


def _portfolio(n: int, manager: User, service: User) -> None:
    for i in range(n):
        account = AccountFactory(tier=1 + i % 5)
        TeamMembershipFactory(account=account, user=manager, role=TeamRole.OWNER)
        TeamMembershipFactory(account=account, user=service, role=TeamRole.SERVICE_REP)
        code = BillingCodeFactory(account=account).code
        AccountMonth.objects.bulk_create([
            _fact(code, datetime.date(2026, 3, 1), str(100 + i)),
            _fact(code, datetime.date(2025, 3, 1), str(150 - i)),
        ])  # fmt: skip
        _work(account, manager, f"n{i}", service=service)


def _count(user: User) -> int:
    """Queries of one request of the home page (the login before it not counted)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(user)
    with CaptureQueriesContext(connection) as queries:
        page(user, client=client)
    return len(queries)


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SERVICE, Role.DEPARTMENT, Role.DIRECTOR,
                                  Role.ANALYST])  # fmt: skip
def test_the_number_of_queries_does_not_grow_with_the_accounts(
    db, role, django_assert_max_num_queries
):
    manager = UserFactory(role=Role.MANAGER)
    service = UserFactory(role=Role.SERVICE)
    viewer = {Role.MANAGER: manager, Role.SERVICE: service}.get(role) or UserFactory(role=role)
    # Enough for full sections: a section that lists fewer than it shows needs no COUNT.
    _portfolio(10, manager, service)
    few = _count(viewer)
    _portfolio(20, manager, service)
    client = logged_in(viewer)
    with django_assert_max_num_queries(few):
        body = page(viewer, client=client)
    if role in (Role.MANAGER, Role.SERVICE):
        assert "30 accounts on my teams" in body
    assert body.count('class="kam-card kam-home-section') >= 2
