"""The coverage dashboard's figures are aggregated by the database (selectors._Due); here
they are compared with a straightforward computation, account by account in Python (the
dashboard's former loop), on a small world with every case the rules know: category rules
shorter than, equal to and longer than the tier's general one, owners (one of them no
longer active), territory managers of a city and of a province, industry managers,
accounts nobody covers, people with the same name or none, accounts never visited,
visited long ago or within the period, inactive and untiered accounts, and a manager
who sees only their team's accounts."""

import datetime
import random
from collections import defaultdict
from typing import Any

import pytest

from kam.accounts.models import AccountStatus, Industry, TeamRole
from kam.accounts.selectors import account_list_for
from kam.core import regions
from kam.core.models import Role, User
from kam.coverage import rules, selectors
from kam.coverage.models import Assignment, PolicyRule, PolicyVersion, Visit
from kam.coverage.services import policy_current
from tests.factories import AccountFactory, TeamMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

END = datetime.date(2026, 7, 15)
CITIES = [("350000", "350100"), ("350000", "350200"), ("440000", "440100"),
          ("440000", "440300"), ("110000", "110100")]  # fmt: skip


def reference(user: User, *, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    """Every account the user sees, one by one: its rule, visits due, done and last visit."""
    policy_rules = list(policy_current().rules.all())
    days = (end - start).days + 1
    resolve = selectors.covering_resolver()
    accounts = account_list_for(user).filter(status=AccountStatus.ACTIVE, tier__isnull=False)
    done: dict[int, int] = defaultdict(int)
    last: dict[int, datetime.date] = {}
    for account_id, day in Visit.objects.filter(status=Visit.Status.DONE, day__lte=end).values_list(
        "account_id", "day"
    ):
        if day >= start:
            done[account_id] += 1
        last[account_id] = max(day, last.get(account_id, day))
    by_tier: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    by_person: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    by_province: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    not_visited = []
    for a in accounts.order_by("name", "id"):
        rule = rules.rule_for(policy_rules, a.tier, a.categories)
        if rule is None or rule.cadence_days > days:
            continue
        cadence = rule.cadence_days
        due = max(1, days // cadence)
        got = min(done[a.pk], due)
        person = resolve(a.pk, a.city_code, a.province_code, a.industry_id)
        name = (User.objects.get(pk=person).display_name if person else "") or "—"
        for bucket, key in ((by_tier, a.tier), (by_person, name),
                            (by_province, regions.label(a.province_code) or "—")):  # fmt: skip
            bucket[key][0] += got
            bucket[key][1] += due
        seen = last.get(a.pk)
        if seen is None or (end - seen).days > cadence:
            not_visited.append({"account_id": a.pk, "tier": a.tier, "last": seen,
                                "cadence": cadence})  # fmt: skip
    not_visited.sort(key=lambda r: (r["tier"], r["last"] or datetime.date.min))

    def rows(bucket: dict[Any, list[int]]) -> list[tuple[Any, int, int]]:
        return [(k, v[0], v[1]) for k, v in bucket.items()]

    return {
        "done": sum(v[0] for v in by_tier.values()),
        "due": sum(v[1] for v in by_tier.values()),
        "by_tier": sorted(rows(by_tier)),
        "by_person": sorted(rows(by_person)),
        "by_province": sorted(rows(by_province), key=lambda r: (-r[2], r[0]))[:15],
        "not_visited": not_visited,
    }


def measured(user: User, *, start: datetime.date, end: datetime.date) -> dict[str, Any]:
    data = selectors.measures(user, start=start, end=end)

    def rows(key: str) -> list[tuple[Any, int, int]]:
        # Not the people listed only for their missed visits (no account due).
        return [(r["key"], r["done"], r["due"]) for r in data[key] if r["due"]]

    return {
        "done": data["done"],
        "due": data["due"],
        "by_tier": sorted(rows("by_tier")),
        "by_person": sorted(rows("by_person")),
        "by_province": rows("by_province"),
        "not_visited": list(data["not_visited"]),
    }


@pytest.fixture
def world(owner: User, colleague: User) -> dict[str, Any]:
    rng = random.Random(14)
    version = PolicyVersion.objects.create(number=PolicyVersion.objects.count() + 100)
    for tier, category, cadence in [
        (1, "", 7), (1, "economic", 7),  # a category's rule as demanding as the general one
        (2, "", 14), (2, "strategic", 10), (2, "important", 30),  # shorter and longer
        (3, "", 30), (3, "strategic", 14),
        (4, "", 60), (4, "potential", 20),
        (5, "", 91),
    ]:  # fmt: skip
        PolicyRule.objects.create(version=version, tier=tier, category=category,
                                  coverage_model="territory", cadence_days=cadence)  # fmt: skip
    gone = UserFactory(role=Role.MANAGER, display_name="离职经理", is_active=False)
    twin = UserFactory(role=Role.MANAGER, display_name=owner.display_name)  # the same name
    nameless = UserFactory(role=Role.MANAGER, display_name="")
    territory = UserFactory(role=Role.MANAGER, display_name="区域经理王")
    province = UserFactory(role=Role.MANAGER, display_name="省区经理赵")
    industrial = UserFactory(role=Role.MANAGER, display_name="行业经理钱")
    industry = Industry.objects.create(code="h1-cold-chain", name_zh="冷链", name_en="Cold chain")
    Assignment.objects.create(kind="territory", user=territory, province_code="440000",
                              city_code="440100")  # fmt: skip
    Assignment.objects.create(kind="territory", user=gone, province_code="350000",
                              city_code="350200")  # an inactive person covers nothing  # fmt: skip
    Assignment.objects.create(kind="territory", user=province, province_code="440000")
    Assignment.objects.create(kind="territory", user=territory, province_code="440000")  # later
    Assignment.objects.create(kind="industry", user=industrial, industry=industry)
    owners = [owner, colleague, gone, twin, nameless, None, None]
    accounts = []
    for i in range(60):
        province_code, city_code = rng.choice(CITIES)
        account = AccountFactory(
            name=f"测试客户{rng.randint(1, 25)}",  # some names twice: then by id
            tier=rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5, None]),
            status=AccountStatus.ACTIVE if i % 13 else AccountStatus.PROSPECT,
            province_code=province_code, city_code=city_code,
            industry=industry if rng.random() < 0.3 else None,
            is_economic=rng.random() < 0.3, is_strategic=rng.random() < 0.3,
            is_important=rng.random() < 0.3, is_potential=rng.random() < 0.3,
        )  # fmt: skip
        person = rng.choice(owners)
        if person is not None:
            TeamMembershipFactory(account=account, user=person, role=TeamRole.OWNER)
        if i % 3 == 0 and person != owner:  # the owner sees it too, without owning it
            TeamMembershipFactory(account=account, user=owner, role=TeamRole.CO_OWNER)
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5])):
            Visit.objects.create(
                account=account, person=owner, day=END - datetime.timedelta(days=rng.randint(-5, 200)),
                status=rng.choice([Visit.Status.DONE, Visit.Status.DONE, Visit.Status.PLANNED,
                                   Visit.Status.CANCELLED, Visit.Status.MISSED]),
            )  # fmt: skip
        accounts.append(account)
    # Nobody owns these: the city's manager, the province's, the industry's, or nobody.
    for city, with_industry in (("440100", False), ("440300", False), ("110100", True),
                                ("110100", False)):  # fmt: skip
        accounts.append(AccountFactory(tier=3, province_code=city[:2] + "0000", city_code=city,
                                       industry=industry if with_industry else None))  # fmt: skip
    return {"accounts": accounts}


@pytest.mark.parametrize("days", [1, 7, 10, 14, 31, 60, 90, 91, 200])
def test_the_database_figures_equal_an_account_by_account_computation(
    world: dict[str, Any], department: User, owner: User, days: int
) -> None:
    start = END - datetime.timedelta(days=days - 1)
    for user in (department, owner):
        expected = reference(user, start=start, end=END)
        got = measured(user, start=start, end=END)
        assert got == expected, (user, days)
    # The world is not trivial: some of everything.
    if days == 90:
        expected = reference(department, start=start, end=END)
        assert expected["done"] and expected["due"] > expected["done"]
        assert {r["last"] is None for r in expected["not_visited"]} == {True, False}
        names = {k for k, _d, _n in expected["by_person"]}
        assert {"—", "区域经理王", "行业经理钱", "客户经理张"} <= names
        assert "离职经理" not in names and "省区经理赵" in names


def test_pages_of_the_not_visited_accounts_are_slices_of_the_whole_list(
    world: dict[str, Any], department: User
) -> None:
    start = END - datetime.timedelta(days=89)
    rows = selectors.measures(department, start=start, end=END)["not_visited"]
    whole = list(rows)
    assert len(rows) == len(whole) > 7
    assert whole == reference(department, start=start, end=END)["not_visited"]
    for lo, hi in [(0, 5), (3, 9), (5, 6), (len(whole) - 2, len(whole) + 5)]:
        assert rows[lo:hi] == whole[lo:hi]  # across the tiers' boundaries too
    assert rows[-1] == whole[-1] and rows[2] == whole[2]
    with pytest.raises(IndexError):
        rows[len(whole)]


def test_no_due_tier_means_no_figures(department: User, world: dict[str, Any]) -> None:
    data = selectors.measures(department, start=END, end=END)  # one day: no cadence fits
    assert data["due"] == 0 and data["compliance"] is None
    assert len(data["not_visited"]) == 0 and list(data["not_visited"]) == []


def test_a_user_who_sees_no_accounts_gets_empty_figures(world: dict[str, Any], admin: User) -> None:
    data = selectors.measures(admin, start=END - datetime.timedelta(days=89), end=END)
    assert (data["due"], data["done"], data["by_tier"], len(data["not_visited"])) == (0, 0, [], 0)


def test_the_portfolio_totals_are_kept_until_what_they_read_changes(
    world: dict[str, Any], department: User, director: User, owner: User
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    start = END - datetime.timedelta(days=89)
    first = measured(department, start=start, end=END)
    with CaptureQueriesContext(connection) as ctx:
        again = measured(director, start=start, end=END)  # another role that sees all
    assert again == first
    assert not any("SUM(a.due)" in q["sql"] for q in ctx.captured_queries)  # from the cache
    # A visit done on a due account: the next read counts it.
    account = next(a for a in world["accounts"] if a.tier == 1 and a.status == AccountStatus.ACTIVE)
    Visit.objects.create(account=account, person=owner, day=END, status=Visit.Status.DONE)
    after = measured(director, start=start, end=END)
    assert after == reference(director, start=start, end=END)
    assert after != first
    # A manager's figures are never kept (each team's differ).
    with CaptureQueriesContext(connection) as ctx:
        measured(owner, start=start, end=END)
    assert any("SUM(a.due)" in q["sql"] for q in ctx.captured_queries)
