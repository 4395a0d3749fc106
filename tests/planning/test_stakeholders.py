"""The stakeholder map and the coverage rules: each rule warns (and says what to do), is
switched off and parameterised by directors; bad settings are refused with nothing
stored; the map reads any number of accounts in a fixed number of queries; a foreign
account answers 404 on the pages and the API; analysts see the map without names."""

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kam.accounts.models import Account, TeamRole
from kam.core.models import Role, User
from kam.coverage.models import Visit, VisitReport
from kam.planning import rules
from kam.planning.models import AccountPlan, CoverageRules
from kam.planning.stakeholders import people_for
from tests.factories import (
    AccountFactory,
    ContactFactory,
    StaffTieFactory,
    TeamMembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def client_for(user: User, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def attended(contact: Any, by: User, day: datetime.date) -> None:
    """A done visit on ``day`` whose report lists ``contact`` among the attendees."""
    visit = Visit.objects.create(account=contact.account, person=by, day=day,
                                 status=Visit.Status.DONE)  # fmt: skip
    report = VisitReport.objects.create(visit=visit, purpose="季度回顾", summary="回顾合作",
                                        submitted_by=by)  # fmt: skip
    report.contacts.add(contact)


def warnings(account: Account, today: datetime.date, **settings: Any) -> dict[str, list[Any]]:
    people = people_for([account.pk], today=today)[account.pk]
    found = rules.warnings_for(people, tier=account.tier, rules=CoverageRules(**settings),
                               today=today)  # fmt: skip
    out: dict[str, list[Any]] = {}
    for w in found:
        out.setdefault(w.rule, []).append(w)
    return out


def test_an_account_with_nobody_known_warns_of_every_gap_and_says_what_to_do(
    account_a: Account, today: datetime.date
) -> None:
    found = warnings(account_a, today)
    assert set(found) == {"no_decision_maker", "no_coach", "no_sponsor"}
    assert all(w.todo for ws in found.values() for w in ws)
    assert "economic buyer" in found["no_decision_maker"][0].todo


def test_each_rule_fires_on_its_own_fact(account_a: Account, owner: User,
                                         today: datetime.date) -> None:  # fmt: skip
    boss = ContactFactory(account=account_a, name="决策人王", buying_role="economic_buyer",
                          influence="high", attitude="opponent")  # fmt: skip
    coach = ContactFactory(account=account_a, name="内线李", buying_role="coach",
                           influence="medium", attitude="champion")  # fmt: skip
    attended(coach, owner, today - datetime.timedelta(days=10))
    attended(boss, owner, today - datetime.timedelta(days=200))
    found = warnings(account_a, today)
    assert "no_decision_maker" not in found and "no_coach" not in found
    assert [w.contact_id for w in found["opponent"]] == [boss.pk]
    # The decision maker was last met 200 days ago; the coach 10 days ago.
    assert [w.contact_id for w in found["stale_contact"]] == [boss.pk]
    assert "200 days" in found["stale_contact"][0].text
    # Within the rule's N days, no warning; a director's longer N silences it too.
    assert "stale_contact" not in warnings(account_a, today, stale_days=365)
    # An executive sponsor on our side clears the tier-1 warning.
    TeamMembershipFactory(account=account_a, user=UserFactory(role=Role.DIRECTOR),
                          role=TeamRole.EXECUTIVE_SPONSOR)  # fmt: skip
    assert "no_sponsor" not in warnings(account_a, today)


def test_rules_switched_off_do_not_warn_and_the_sponsor_rule_follows_the_tier(
    account_a: Account, today: datetime.date
) -> None:
    off = {"no_decision_maker": False, "no_coach": False, "opponent": False,
           "stale_contact": False, "no_sponsor": False}  # fmt: skip
    assert warnings(account_a, today, **off) == {}
    account_a.tier = 3
    account_a.save()
    assert "no_sponsor" not in warnings(account_a, today)
    assert "no_sponsor" in warnings(account_a, today, sponsor_max_tier=3)


def test_a_contact_never_met_is_stale_and_erased_contacts_are_left_out(
    account_a: Account, today: datetime.date
) -> None:
    boss = ContactFactory(account=account_a, buying_role="economic_buyer")
    gone = ContactFactory(account=account_a, buying_role="coach")
    gone.erased_at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    gone.save()
    found = warnings(account_a, today)
    assert [w.contact_id for w in found["stale_contact"]] == [boss.pk]
    assert "never been met" in found["stale_contact"][0].text
    assert "no_coach" in found


def test_the_map_of_many_accounts_costs_the_same_queries_as_of_one(
    owner: User, today: datetime.date
) -> None:
    def build(n: int) -> list[int]:
        ids = []
        for _ in range(n):
            account = AccountFactory(tier=1)
            for role in ("economic_buyer", "coach", "user_buyer"):
                contact = ContactFactory(account=account, buying_role=role)
                StaffTieFactory(contact=contact, user=owner)
                attended(contact, owner, today - datetime.timedelta(days=5))
            ids.append(account.pk)
        return ids

    small, large = build(1), build(6)
    with CaptureQueriesContext(connection) as one:
        people_for(small, today=today)
    with CaptureQueriesContext(connection) as many:
        maps = people_for(large, today=today)
    assert len(one) == len(many) == 4
    assert all(len(m.people) == 3 and m.people[0].staff for m in maps.values())
    assert all(p.last_met == today - datetime.timedelta(days=5)
               for m in maps.values() for p in m.people)  # fmt: skip


def test_the_map_page_draws_roles_by_influence_with_our_ties(
    account_a: Account, owner: User, today: datetime.date
) -> None:
    boss = ContactFactory(account=account_a, name="决策人王", buying_role="economic_buyer",
                          influence="high", attitude="supporter", closeness=4)  # fmt: skip
    StaffTieFactory(contact=boss, user=owner, strength=5)
    page = client_for(owner).get(f"/planning/accounts/{account_a.pk}/stakeholders/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "决策人王" in html and "客户经理张 (5/5)" in html and "Closeness 4" in html
    assert 'data-rule="no_coach"' in html and 'data-rule="no_decision_maker"' not in html
    zh = client_for(owner, "zh-hans").get(f"/planning/accounts/{account_a.pk}/stakeholders/")
    assert "客户关系图谱" in zh.content.decode()


def test_a_foreign_account_is_404_like_a_missing_one_and_analysts_see_no_names(
    account_a: Account, account_b: Account, owner: User, analyst: User, today: datetime.date
) -> None:
    ContactFactory(account=account_a, name="决策人王", buying_role="economic_buyer")
    for url in (f"/planning/accounts/{account_b.pk}/stakeholders/",
                "/planning/accounts/99999999/stakeholders/"):  # fmt: skip
        assert client_for(owner).get(url).status_code == 404
    page = client_for(analyst).get(f"/planning/accounts/{account_a.pk}/stakeholders/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "决策人王" not in html and "a contact" in html


def test_the_plan_page_and_the_account_page_show_the_warnings(
    plan_a: AccountPlan, account_a: Account, owner: User
) -> None:
    html = client_for(owner).get(f"/planning/plans/{plan_a.pk}/").content.decode()
    assert 'id="plan-stakeholders"' in html and 'data-rule="no_decision_maker"' in html
    html = client_for(owner).get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="account-health-panel"' in html and 'data-rule="no_coach"' in html


def test_directors_change_the_rules_and_others_may_not(director: User, owner: User) -> None:
    form = {"no_decision_maker": "on", "no_coach": "on", "stale_contact": "on",
            "stale_days": "60", "sponsor_max_tier": "1"}  # fmt: skip
    assert client_for(owner).post("/planning/stakeholder-rules/", form).status_code == 403
    assert not CoverageRules.objects.exists()
    response = client_for(director).post("/planning/stakeholder-rules/", form)
    assert response.status_code == 302
    saved = rules.rules_get()
    assert (saved.stale_days, saved.sponsor_max_tier, saved.opponent, saved.no_sponsor) == (
        60, 1, False, False)  # fmt: skip
    page = client_for(owner).get("/planning/stakeholder-rules/").content.decode()
    assert 'id="rules-form"' not in page and 'id="rules-table"' in page


@pytest.mark.parametrize(("field", "value"), [("stale_days", "0"), ("stale_days", "1000"),
                                              ("sponsor_max_tier", "9")])  # fmt: skip
def test_rules_out_of_range_are_refused_in_the_pages_language_and_nothing_is_stored(
    director: User, field: str, value: str
) -> None:
    form = {"stale_days": "90", "sponsor_max_tier": "2", field: value}
    html = client_for(director, "zh-hans").post("/planning/stakeholder-rules/", form)
    assert html.status_code == 200
    assert "请输入 " in html.content.decode() and "之间的整数" in html.content.decode()
    assert not CoverageRules.objects.exists()


def test_the_rules_service_refuses_bad_values_with_the_field_named(director: User) -> None:
    from django.core.exceptions import ValidationError

    for values in ({"stale_days": 3}, {"sponsor_max_tier": 0}, {"no_coach": "yes"},
                   {"unknown": True}):  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            rules.rules_set(by=director, values=values)
        assert set(exc.value.message_dict) == set(values)
    assert not CoverageRules.objects.exists()


def test_the_api_gives_the_map_and_warnings_and_404_for_a_foreign_account(
    account_a: Account, account_b: Account, owner: User, analyst: User,
    api_as: Callable[..., Any], today: datetime.date,
) -> None:  # fmt: skip
    boss = ContactFactory(account=account_a, name="决策人王", buying_role="economic_buyer",
                          attitude="opponent", influence="high")  # fmt: skip
    response = api_as(owner).get(f"/planning/accounts/{account_a.pk}/stakeholders")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["people"][0]["name"] == "决策人王" and body["people"][0]["key"] is True
    assert {w["rule"] for w in body["warnings"]} >= {"opponent", "no_coach", "stale_contact"}
    assert [w["contact"] for w in body["warnings"] if w["rule"] == "opponent"] == [boss.pk]
    foreign = api_as(owner).get(f"/planning/accounts/{account_b.pk}/stakeholders")
    missing = api_as(owner).get("/planning/accounts/99999999/stakeholders")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    blind = api_as(analyst).get(f"/planning/accounts/{account_a.pk}/stakeholders").json()
    assert blind["people"][0]["name"] == "" and blind["people"][0]["contact"] is None
