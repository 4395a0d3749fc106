"""Who sees what: the persona matrix over accounts, contacts and personal information."""

from typing import Any

import pytest
from django.db.models import Q

from kam.accounts import selectors
from kam.accounts.models import Account, AccountStatus, Contact, TeamRole
from kam.core.models import User
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    ContactFactory,
    ContactTieFactory,
    GroupFactory,
    StaffTieFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db

PERSONAS = ["director", "department", "owner", "colleague", "service_rep", "analyst", "admin",
            "outsider"]  # fmt: skip

# persona -> (accounts seen, contacts seen), over account_a (A) and account_b (B)
VISIBILITY = {
    "director": ({"A", "B"}, {"A", "B"}),
    "department": ({"A", "B"}, {"A", "B"}),
    "owner": ({"A"}, {"A"}),
    "colleague": ({"B"}, {"B"}),
    "service_rep": ({"A"}, {"A"}),
    "analyst": ({"A", "B"}, set()),
    "admin": (set(), set()),
    "outsider": (set(), set()),
}

# persona -> (contact details of A, personal information of A, may edit A, may delete A)
RIGHTS_ON_A = {
    "director": (True, True, True, True),
    "department": (False, False, True, False),
    "owner": (True, True, True, False),
    "service_rep": (True, False, False, False),
    "analyst": (False, False, False, False),
}


@pytest.fixture
def world(account_a: Account, account_b: Account, contact_a: Contact, contact_b: Contact) -> dict:
    return {"A": account_a, "B": account_b, "cA": contact_a, "cB": contact_b}


def names(objects: Any, world: dict) -> set[str]:
    by_pk = {obj.pk: key for key, obj in world.items() if isinstance(obj, Account)}
    return {by_pk[o.account_id if isinstance(o, Contact) else o.pk] for o in objects}


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_role_sees_the_accounts_and_contacts_it_should(
    persona: str, world: dict, request: Any
) -> None:
    user = request.getfixturevalue(persona)
    accounts, contacts = VISIBILITY[persona]
    assert names(selectors.account_list_for(user), world) == accounts
    assert names(selectors.contact_list_for(user), world) == contacts


@pytest.mark.parametrize("persona", ["colleague", "admin", "outsider"])
def test_an_account_outside_the_users_reach_does_not_exist_for_them(
    persona: str, world: dict, request: Any
) -> None:
    user = request.getfixturevalue(persona)
    with pytest.raises(Account.DoesNotExist):
        selectors.account_get_for(user, world["A"].pk)
    with pytest.raises(Contact.DoesNotExist):
        selectors.contact_get_for(user, world["cA"].pk)


@pytest.mark.parametrize("persona", list(RIGHTS_ON_A))
def test_rights_on_an_account_follow_role_and_team(persona: str, world: dict, request: Any) -> None:
    user = request.getfixturevalue(persona)
    rights = selectors.account_access(user, world["A"].pk)
    details, personal, edit, delete = RIGHTS_ON_A[persona]
    assert rights.sees_contact_details is details
    assert rights.sees_personal is personal
    assert rights.can_edit is edit
    assert rights.can_delete is delete
    expected = (set(Contact.DETAIL_FIELDS) if details else set()) | (
        set(Contact.PERSONAL_FIELDS) if personal else set()
    )
    assert set(rights.protected_fields) == expected


def test_department_staff_see_personal_information_on_their_own_teams(
    department: User, world: dict
) -> None:
    TeamMembershipFactory(account=world["B"], user=department, role=TeamRole.EXECUTIVE_SPONSOR)
    assert selectors.account_access(department, world["B"].pk).sees_personal is True
    assert selectors.account_access(department, world["A"].pk).sees_personal is False


def test_a_deactivated_user_sees_nothing(director: User, world: dict) -> None:
    director.is_active = False
    assert not selectors.account_list_for(director).exists()
    assert not selectors.contact_list_for(director).exists()


def test_ties_show_only_when_both_people_are_visible(
    director: User, owner: User, world: dict
) -> None:
    inside = ContactFactory(account=world["A"])
    local = ContactTieFactory(from_contact=world["cA"], to_contact=inside)
    across = ContactTieFactory(from_contact=world["cA"], to_contact=world["cB"])
    assert set(selectors.contact_ties_for(director)) == {local, across}
    assert set(selectors.contact_ties_for(owner)) == {local}


def test_staff_ties_follow_the_contacts_the_user_sees(
    owner: User, colleague: User, analyst: User, world: dict
) -> None:
    tie = StaffTieFactory(contact=world["cA"], user=owner)
    assert list(selectors.staff_ties_for(owner)) == [tie]
    assert list(selectors.staff_ties_for(colleague)) == []
    assert list(selectors.staff_ties_for(analyst)) == []


def test_groups_are_hidden_from_system_administrators(
    director: User, admin: User, analyst: User
) -> None:
    group = GroupFactory()
    assert list(selectors.group_list_for(director)) == [group]
    assert list(selectors.group_list_for(analyst)) == [group]
    assert list(selectors.group_list_for(admin)) == []


def test_people_graph_shows_contacts_their_ties_and_our_staff(owner: User, world: dict) -> None:
    boss = world["cA"]
    deputy = ContactFactory(account=world["A"], name="副手", reports_to=boss)
    ContactTieFactory(from_contact=boss, to_contact=deputy, kind="friend")
    StaffTieFactory(contact=boss, user=owner)
    graph = selectors.account_people_graph(owner, world["A"])
    assert {n["id"] for n in graph["nodes"]} == {f"c{boss.pk}", f"c{deputy.pk}", f"u{owner.pk}"}
    assert {(e["source"], e["target"], e["kind"]) for e in graph["edges"]} == {
        (f"c{boss.pk}", f"c{deputy.pk}", "friend"),
        (f"u{owner.pk}", f"c{boss.pk}", "staff"),
    }


def test_org_chart_nests_contacts_under_their_managers(world: dict) -> None:
    boss = world["cA"]
    deputy = ContactFactory(account=world["A"], name="副手", reports_to=boss)
    clerk = ContactFactory(account=world["A"], name="文员", reports_to=deputy)
    chart = selectors.org_chart([boss, deputy, clerk])
    assert [root["id"] for root in chart] == [boss.pk]
    assert chart[0]["children"][0]["id"] == deputy.pk
    assert chart[0]["children"][0]["children"][0]["id"] == clerk.pk


# --- search -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("明达", {"A"}),
        ("mingda", {"A"}),  # English name and full pinyin
        ("fjmd", {"A"}),  # pinyin initials
        ("gzyh", {"B"}),
        ("91350100m000100y43", {"A"}),  # credit code, any case
        ("yj0591001", {"A"}),  # billing account code
        ("有限公司", {"A", "B"}),
        ("不存在", set()),
    ],
)
def test_search_matches_names_pinyin_and_codes(
    director: User, world: dict, q: str, expected: set[str]
) -> None:
    found = selectors.account_search(selectors.account_list_for(director), q=q)
    assert names(found, world) == expected


@pytest.mark.parametrize("q", ["18", "集团", "（18）", "18 号"])
def test_a_search_without_letters_finds_what_a_case_insensitive_one_does(
    director: User, world: dict, q: str
) -> None:
    """Digits and Chinese have no case: the search matches them as they are (without
    upper-casing every name), and finds the same accounts as ``icontains``."""
    AccountFactory(name="客户18号有限公司", name_en="Customer 18 Ltd")
    AccountFactory(name="某集团（18）分公司", name_en="X (18) branch")
    AccountFactory(name="客户18 号仓储", name_en="")
    AccountFactory(name="客户1号", name_en="Customer 180")
    visible = selectors.account_list_for(director)
    expected = visible.filter(
        Q(name__icontains=q)
        | Q(name_en__icontains=q)
        | Q(search_pinyin__contains=q.lower().replace(" ", ""))
    )
    found = selectors.account_search(visible, q=q)
    assert {a.pk for a in found} == {a.pk for a in expected}
    assert found.exists() or q == "集团"


def test_a_search_with_letters_stays_case_insensitive(director: User, world: dict) -> None:
    AccountFactory(name="ABC物流18号", name_en="")
    visible = selectors.account_list_for(director)
    assert [a.name for a in selectors.account_search(visible, q="abc物流18")] == ["ABC物流18号"]


def test_account_owners_are_the_users_who_own_an_account(
    owner: User, colleague: User, outsider: User, world: dict
) -> None:
    TeamMembershipFactory(account=world["B"], user=outsider, role=TeamRole.CO_OWNER)
    assert list(selectors.account_owners()) == sorted([owner, colleague], key=lambda u: u.username)


def test_tie_candidates_are_the_visible_people_of_the_account_and_its_group(
    owner: User, director: User, world: dict
) -> None:
    group = GroupFactory()
    world["A"].group = group
    world["A"].save()
    sister = AccountFactory(group=group)
    TeamMembershipFactory(account=sister, user=owner)
    hidden_sister = AccountFactory(group=group)  # not on the owner's team
    here = ContactFactory(account=world["A"])
    there = ContactFactory(account=sister)
    unseen = ContactFactory(account=hidden_sister)
    erased = ContactFactory(account=world["A"])
    Contact.objects.filter(pk=erased.pk).update(erased_at="2025-01-01T00:00:00Z")
    ContactFactory(account=AccountFactory())  # another group's, never a candidate
    for user, expected in ((owner, {here, there}), (director, {here, there, unseen})):
        found = list(selectors.contact_tie_candidates(user, world["cA"]))
        assert set(found) == expected
        assert found == sorted(found, key=lambda c: (c.account_id, c.name))
    world["A"].group = None
    world["A"].save()
    assert set(selectors.contact_tie_candidates(director, world["cA"])) == {here}


def test_search_filters_combine(director: User, colleague: User, world: dict) -> None:
    lost = AccountFactory(name="已流失客户", tier=1, status=AccountStatus.LOST, is_economic=True)
    visible = selectors.account_list_for(director)
    assert set(selectors.account_search(visible, tiers=[1])) == {world["A"], lost}
    assert set(selectors.account_search(visible, tiers=[1], status="active")) == {world["A"]}
    assert set(selectors.account_search(visible, categories=["economic", "strategic"])) == {
        world["A"]
    }
    assert set(selectors.account_search(visible, industry="apparel")) == {world["B"]}
    assert set(selectors.account_search(visible, province="440000")) == {world["B"]}
    assert set(selectors.account_search(visible, owner=colleague.pk)) == {world["B"]}
    assert set(selectors.account_search(visible, stages=["basic", "integrated"])) == {world["B"]}


def test_search_by_group_and_sorting(director: User, world: dict) -> None:
    group = GroupFactory()
    AccountFactory(name="集团子公司甲", group=group, employees=10)
    AccountFactory(name="集团子公司乙", group=group, employees=20)
    visible = selectors.account_list_for(director)
    in_group = selectors.account_search(visible, group=group.pk, sort="-employees")
    assert [a.employees for a in in_group] == [20, 10]
    by_tier = selectors.account_search(visible, sort="tier")
    assert [a.tier for a in by_tier][:2] == [1, 2]


def test_billing_code_search_does_not_reveal_accounts_outside_reach(
    outsider: User, world: dict
) -> None:
    BillingCodeFactory(account=world["B"], code="YJ-OUTSIDE")
    found = selectors.account_search(selectors.account_list_for(outsider), q="YJ-OUTSIDE")
    assert list(found) == []
