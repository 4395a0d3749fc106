"""``kam demo``: a deterministic, valid archive that loads once and reloads on --reset.

A small archive (``--companies 120``) keeps these tests fast; the generator's rules do
not depend on the size.
"""

import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.test import override_settings

from kam.accounts import demo, demo_data
from kam.accounts.models import (
    Account,
    BillingCode,
    BuyingRole,
    Contact,
    ContactTie,
    CorporateGroup,
    StaffTie,
    TeamMembership,
    TeamRole,
)
from kam.accounts.services import _pinyin_key
from kam.core import creditcode, regions
from kam.core.models import Role, User
from tests.conftest import TEST_FIELD_KEY

# Every test reads the database (the module's demo lives in it).
pytestmark = pytest.mark.django_db

SMALL = 120
SEED = 7


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo(*args: str) -> str:
    out = io.StringIO()
    call_command(
        "demo", "--companies", str(SMALL), "--seed", str(SEED), "--no-waybills", *args, stdout=out
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def loaded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """The small demo, loaded once for the module's tests that read it (each test runs in
    a savepoint inside it, so one that reloads or resets leaves it as it was), rolled back
    at the end. The tests that need an empty archive come before the first that asks for
    it: from then on the module's tests run inside it."""
    quiet = {"PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
             "FIELD_KEYS": [TEST_FIELD_KEY]}  # fmt: skip
    with django_db_blocker.unblock(), override_settings(**quiet), transaction.atomic():
        yield run_demo()
        transaction.set_rollback(True)


def fingerprint(archive: demo.DemoArchive) -> dict[str, list[Any]]:
    contacts = [c for level in archive.contacts for c in level]
    return {
        "accounts": [
            (a.name, a.name_en, a.credit_code, a.tier, a.annual_output_value, a.city_code)
            for a in archive.accounts
        ],
        "groups": [g.name for level in archive.groups for g in level],
        "contacts": [(c.name, c.title, c.phone_mobile, c.email, c.birthday) for c in contacts],
        "billing": [b.code for b in archive.billing_codes],
        "ties": [(t.from_contact.name, t.to_contact.name, t.kind) for t in archive.contact_ties],
        "teams": [(m.account.name, m.user.username, m.role) for m in archive.memberships],
    }


def stored_archive() -> list[tuple[Any, ...]]:
    return list(
        Account.objects.order_by("credit_code").values_list(
            "name", "name_en", "credit_code", "tier", "annual_output_value", "group__name"
        )
    )


def test_the_same_seed_generates_the_same_archive(db: None) -> None:
    first = fingerprint(demo.generate(seed=SEED, companies=60))
    second = fingerprint(demo.generate(seed=SEED, companies=60))
    other = fingerprint(demo.generate(seed=SEED + 1, companies=60))

    assert first == second
    assert first["accounts"] != other["accounts"]
    assert first["contacts"] != other["contacts"]


def test_demo_leaves_an_archive_with_real_accounts_alone(db: None) -> None:
    Account.objects.create(name="真实客户有限公司")

    output = run_demo()

    assert "already holds 1 accounts" in output
    assert Account.objects.count() == 1
    assert not User.objects.filter(username__in=demo.DEMO_USERNAMES).exists()


def test_demo_refuses_when_a_demo_username_is_taken(db: None) -> None:
    User.objects.create_user(username="director", password="x" * 12)

    with pytest.raises(CommandError, match="director"):
        run_demo()

    assert Account.objects.count() == 0
    assert User.objects.count() == 1


def test_reset_never_deletes_a_real_user_with_a_demo_username(db: None) -> None:
    real = User.objects.create_user(username="admin", email="it@carrier.example", password="x" * 12)

    with pytest.raises(CommandError, match="admin"):
        run_demo("--reset")  # wipes the (empty) archive, keeps the real admin, refuses

    assert User.objects.filter(pk=real.pk).exists()
    assert Account.objects.count() == 0


def test_demo_json_reports_counts(db: None) -> None:
    out = io.StringIO()
    call_command("demo", "--companies", "30", "--json", stdout=out, stderr=io.StringIO())

    result = json.loads(out.getvalue())

    assert result["loaded"] is True
    assert result["counts"]["accounts"] == 30 == Account.objects.count()
    assert result["counts"]["contacts"] == Contact.objects.count()
    assert {row["username"] for row in result["logins"]} == set(demo.DEMO_USERNAMES)


def test_demo_rejects_a_bad_size_or_date(db: None) -> None:
    with pytest.raises(CommandError, match="--companies"):
        call_command("demo", "--companies", "0", stdout=io.StringIO())
    with pytest.raises(CommandError, match="--as-of"):
        call_command("demo", "--as-of", "yesterday", stdout=io.StringIO())
    assert Account.objects.count() == 0


def test_demo_loads_the_archive_and_prints_the_logins(loaded: str) -> None:
    assert Account.objects.count() == SMALL
    assert CorporateGroup.objects.exists()
    assert Contact.objects.count() >= SMALL
    assert ContactTie.objects.exists() and StaffTie.objects.exists()
    assert "Loaded the demo archive" in loaded
    assert demo.DEMO_PASSWORD in loaded
    for username in demo.DEMO_USERNAMES:
        assert re.search(rf"^\s*{username}\s", loaded, re.MULTILINE), username
    # Whose login asks for an authenticator app, and how a trial turns that off.
    director_line = next(line for line in loaded.splitlines() if " director " in line)
    manager_line = next(line for line in loaded.splitlines() if " manager " in line)
    assert "authenticator app" in director_line and "authenticator app" not in manager_line
    assert "KAM_TWO_FACTOR_ROLES" in loaded


def test_every_role_has_a_demo_login_with_the_demo_password(loaded: str) -> None:
    users = User.objects.filter(username__in=demo.DEMO_USERNAMES)
    assert {u.role for u in users} == set(Role.values)
    assert all(u.check_password(demo.DEMO_PASSWORD) for u in users)
    assert User.objects.get(username="admin").is_superuser
    assert not User.objects.get(username="manager1").is_staff


def test_every_credit_code_is_valid_and_names_the_accounts_city(loaded: str) -> None:
    accounts = list(Account.objects.all())
    assert all(a.credit_code for a in accounts)
    for account in accounts:
        assert creditcode.problem(account.credit_code) is None, account.credit_code
        assert account.credit_code[2:8] == account.city_code
        city = regions.get(account.city_code)
        assert city is not None and not city.is_province
        assert city.province_code == account.province_code
    assert len({a.credit_code for a in accounts}) == len(accounts)


def test_accounts_pass_model_validation_and_are_searchable_by_pinyin(loaded: str) -> None:
    for account in Account.objects.all():
        account.full_clean()
        assert account.search_pinyin == _pinyin_key(account.name, account.name_en)
    assert all(re.fullmatch(r"YJ\d{10}", b.code) for b in BillingCode.objects.all())


def test_tiers_are_a_pyramid_and_categories_follow_size(loaded: str) -> None:
    tiers = Counter(Account.objects.values_list("tier", flat=True))
    assert 0 < tiers[1] < tiers[2] < tiers[3] < tiers[5]
    assert set(Account.objects.filter(tier=1).values_list("coverage_model", flat=True)) == {
        "resident"
    }
    assert not Account.objects.filter(is_group=True, group__isnull=True).exists()
    assert not Account.objects.filter(is_group=False, group__isnull=False).exists()
    assert not Account.objects.filter(is_economic=True, is_potential=True).exists()
    assert Account.objects.filter(is_important=True).exists()


def test_groups_nest_without_cycles_and_have_two_to_eight_subsidiaries(loaded: str) -> None:
    groups = {g.pk: g for g in CorporateGroup.objects.all()}
    for group in groups.values():
        assert 2 <= group.accounts.count() <= 8, group.name
        seen = {group.pk}
        node = group
        while node.parent_id is not None:
            assert node.parent_id not in seen
            seen.add(node.parent_id)
            node = groups[node.parent_id]


def test_org_charts_are_trees_within_one_account(loaded: str) -> None:
    contacts = {c.pk: c for c in Contact.objects.all()}
    for contact in contacts.values():
        seen = {contact.pk}
        node = contact
        while node.reports_to_id is not None:
            manager = contacts[node.reports_to_id]
            assert manager.account_id == contact.account_id
            assert manager.pk not in seen, "reporting cycle"
            seen.add(manager.pk)
            node = manager


def test_big_accounts_have_eight_to_fifteen_contacts_and_one_economic_buyer(loaded: str) -> None:
    big = Account.objects.filter(tier__in=[1, 2])
    assert big.exists()
    for account in big:
        contacts = list(account.contacts.all())
        assert 8 <= len(contacts) <= 15, account.name
        roles = Counter(c.buying_role for c in contacts)
        assert roles[BuyingRole.ECONOMIC_BUYER] == 1
        assert roles[BuyingRole.USER_BUYER] >= 1
    for account in Account.objects.exclude(tier__in=[1, 2]).exclude(industry__code="government"):
        assert 1 <= account.contacts.count() <= 4


def test_every_account_has_one_manager_as_owner_in_whose_territory_it_is(loaded: str) -> None:
    owners = TeamMembership.objects.filter(role=TeamRole.OWNER)
    assert owners.count() == Account.objects.count()
    assert set(owners.values_list("user__role", flat=True)) == {Role.MANAGER}
    territories = {t.username: t for t in demo_data.TERRITORIES}
    for username, city, province in owners.values_list(
        "user__username", "account__city_code", "account__province_code"
    ):
        t = territories[username]
        assert city in t.cities or province[:2] in t.provinces, (username, city)
    bases = dict(User.objects.filter(role=Role.MANAGER).values_list("username", "base_city_code"))
    assert bases == {t.username: t.base for t in demo_data.TERRITORIES}
    assert owners.filter(account__tier=1).values("user").distinct().count() >= 3
    roles_used = set(TeamMembership.objects.values_list("role", flat=True))
    assert {TeamRole.OWNER, TeamRole.SERVICE_REP, TeamRole.EXECUTIVE_SPONSOR} <= roles_used


def test_contacts_are_stored_encrypted(loaded: str) -> None:
    contact = Contact.objects.exclude(phone_mobile="").first()
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone_mobile FROM accounts_contact WHERE id = %s", [contact.pk])
        (raw,) = cursor.fetchone()
    assert re.fullmatch(r"1[3-9]\d{9}", contact.phone_mobile)
    assert contact.phone_mobile not in raw


def test_running_demo_again_changes_nothing(loaded: str) -> None:
    before = stored_archive()
    counts = (Contact.objects.count(), ContactTie.objects.count(), User.objects.count())

    output = run_demo()

    assert "already loaded" in output
    assert demo.DEMO_PASSWORD in output  # the logins are printed again
    assert stored_archive() == before
    assert (Contact.objects.count(), ContactTie.objects.count(), User.objects.count()) == counts


def test_reset_rebuilds_the_same_archive_from_the_same_seed(loaded: str) -> None:
    before = stored_archive()
    contacts = Contact.objects.count()

    output = run_demo("--reset")

    assert "Loaded the demo archive" in output
    assert stored_archive() == before
    assert Contact.objects.count() == contacts
    assert User.objects.filter(username__in=demo.DEMO_USERNAMES).count() == len(demo.DEMO_USERS)
