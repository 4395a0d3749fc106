"""The login lockout: three rules with their own limits, the retry time, unlocking."""

import datetime
import json
from io import StringIO
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from kam.core import lockout
from kam.core.models import Role, SecurityEvent, User
from tests.core.logins import browser, password, post, text
from tests.factories import UserFactory

OFFICE = "203.0.113.10"  # the company's proxy: everyone's address
ELSEWHERE = "198.51.100.99"


@pytest.fixture(autouse=True)
def _limits(settings: Any) -> None:
    settings.KAM_LOGIN_FAILURE_LIMIT = 5
    settings.KAM_LOGIN_USERNAME_FAILURE_LIMIT = 10
    settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT = 50
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=30)


def _fail(username: str, address: str, times: int = 1) -> Any:
    response = None
    for _ in range(times):
        response = password(browser(address), username, "wrong password")
    return response


def _logs_in(user: User, address: str) -> bool:
    response = password(browser(address), user.username)
    return response.status_code == 302 and response["Location"] != "/login/"


# --- the rules ---------------------------------------------------------------------------------


def test_five_made_up_user_names_from_the_directors_address_do_not_lock_the_director(
    director: User,
) -> None:
    for i in range(5):
        assert _fail(f"nobody{i}", OFFICE).status_code == 200  # the form again, not a lock
    assert _logs_in(director, OFFICE)


def test_made_up_user_names_below_the_address_limit_lock_nobody_there(
    director: User, settings: Any
) -> None:
    settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for i in range(11):
        _fail(f"guess{i}", OFFICE)
    assert lockout.lockout_for(director.username, OFFICE) is None
    assert _logs_in(director, OFFICE)


def test_the_address_limit_locks_every_user_name_at_that_address(
    director: User, settings: Any
) -> None:
    settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for i in range(12):
        _fail(f"guess{i}", OFFICE)
    response = password(browser(OFFICE), director.username)
    assert response.status_code == 429
    assert _logs_in(director, ELSEWHERE)


def test_the_default_limits_are_five_ten_and_fifty() -> None:
    import kam.settings as defaults  # the module's defaults, not the fixture's values

    assert defaults.KAM_LOGIN_ADDRESS_FAILURE_LIMIT == 50
    assert defaults.KAM_LOGIN_USERNAME_FAILURE_LIMIT == 10
    assert defaults.KAM_LOGIN_FAILURE_LIMIT == 5


def test_five_wrong_passwords_lock_that_user_name_at_that_address_only(owner: User) -> None:
    responses = [_fail(owner.username, OFFICE) for _ in range(5)]
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    assert password(browser(OFFICE), owner.username).status_code == 429  # even the right one
    assert _logs_in(owner, ELSEWHERE)


def test_ten_wrong_passwords_from_many_addresses_lock_the_user_name_everywhere(owner: User) -> None:
    for i in range(10):
        _fail(owner.username, f"192.0.2.{i + 1}")
    assert password(browser("192.0.2.200"), owner.username).status_code == 429
    lock = lockout.lockout_for(owner.username, "192.0.2.200")
    assert lock is not None and lock.rule.key == "username"


def test_nine_wrong_passwords_from_many_addresses_do_not(owner: User) -> None:
    for i in range(9):
        _fail(owner.username, f"192.0.2.{i + 1}")
    assert _logs_in(owner, "192.0.2.200")


def test_each_limit_is_a_setting(owner: User, settings: Any) -> None:
    settings.KAM_LOGIN_FAILURE_LIMIT = 2
    _fail(owner.username, OFFICE, 2)
    assert password(browser(OFFICE), owner.username).status_code == 429
    settings.KAM_LOGIN_FAILURE_LIMIT = 3
    assert _logs_in(owner, OFFICE)


def test_a_lock_ends_after_the_lockout_minutes_and_failures_during_it_do_not_extend_it(
    owner: User,
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _fail(owner.username, OFFICE, 5)
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        assert _fail(owner.username, OFFICE).status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=31), tick=False):
        assert _logs_in(owner, OFFICE)


def test_a_complete_login_forgets_that_user_names_failures_but_not_others(
    owner: User, colleague: User
) -> None:
    _fail(owner.username, OFFICE, 4)
    _fail(colleague.username, OFFICE, 4)
    assert _logs_in(owner, OFFICE)
    counts = lockout.failure_counts(colleague.username, OFFICE)
    assert counts.failures["username_address"] == 4
    assert lockout.failure_counts(owner.username, OFFICE).failures["username"] == 0


# --- what the locked user is told --------------------------------------------------------------


def test_the_locked_page_says_when_to_try_again_in_china_time(owner: User) -> None:
    with time_machine.travel(datetime.datetime(2026, 3, 2, 1, 5, tzinfo=datetime.UTC), tick=False):
        response = _fail(owner.username, OFFICE, 5)
        assert response.status_code == 429
        assert "You can try again after 2026-03-02 09:35 (China Standard Time)." in text(response)
        chinese = password(browser(OFFICE, lang="zh-hans"), owner.username, "x")
    assert "2026-03-02 09:35" in text(chinese) and "登录失败次数过多" in text(chinese)


def test_the_locked_page_does_not_tell_whether_the_user_name_exists(owner: User) -> None:
    with time_machine.travel(timezone.now(), tick=False):  # the same retry time for both
        real = _fail(owner.username, OFFICE, 5)
        made_up = _fail("no-such-user", ELSEWHERE, 5)
    assert real.status_code == made_up.status_code == 429
    assert text(real).replace(OFFICE, "") == text(made_up).replace(ELSEWHERE, "")
    assert owner.username not in text(real)


def test_wrong_password_message_is_the_same_for_real_and_made_up_names(owner: User) -> None:
    real = text(_fail(owner.username, OFFICE))
    made_up = text(_fail("no-such-user", OFFICE))
    assert "Please enter a correct" in real
    assert real.replace(owner.username, "X") == made_up.replace("no-such-user", "X")


# --- unlocking ----------------------------------------------------------------------------------


@pytest.fixture
def locked_owner(owner: User) -> User:
    _fail(owner.username, OFFICE, 5)
    assert lockout.lockout_for(owner.username, OFFICE) is not None
    return owner


def test_administrators_and_directors_see_the_locks(locked_owner: User, admin: User,
                                                    director: User) -> None:  # fmt: skip
    for who in (admin, director):
        client = browser()
        client.force_login(who)
        page = text(client.get("/security/lockouts/"))
        assert "User name from this address" in page and locked_owner.username in page
        assert OFFICE in page


@pytest.mark.parametrize("role", [Role.MANAGER, Role.DEPARTMENT, Role.SERVICE, Role.ANALYST])
def test_other_roles_get_404_for_the_lockouts_pages(locked_owner: User, role: str) -> None:
    client = browser()
    client.force_login(UserFactory(role=role))
    assert client.get("/security/lockouts/").status_code == 404
    query = {"rule": "username_address", "username": locked_owner.username, "address": OFFICE}
    assert post(client, "/security/lockouts/unlock/", query).status_code == 404
    assert lockout.lockout_for(locked_owner.username, OFFICE) is not None


def test_unlock_asks_for_confirmation_then_lifts_the_lock_and_logs_it(
    locked_owner: User, admin: User
) -> None:
    client = browser()
    client.force_login(admin)
    query = {"rule": "username_address", "username": locked_owner.username, "address": OFFICE}
    confirm = client.get("/security/lockouts/unlock/", query)
    assert confirm.status_code == 200 and 'id="confirm-button"' in confirm.content.decode()
    assert lockout.lockout_for(locked_owner.username, OFFICE) is not None  # GET changes nothing
    response = post(client, "/security/lockouts/unlock/", query)
    assert response.status_code == 302
    assert lockout.lockout_for(locked_owner.username, OFFICE) is None
    assert _logs_in(locked_owner, OFFICE)
    event = SecurityEvent.objects.get(kind=SecurityEvent.Kind.UNLOCKED)
    assert event.actor == admin and event.user == locked_owner


def test_unlock_with_missing_or_bad_values_says_what_is_wrong(admin: User) -> None:
    client = browser()
    client.force_login(admin)
    response = post(client, "/security/lockouts/unlock/", {"rule": "address", "address": "10.0.0"},
                    follow=True)  # fmt: skip
    assert "Enter a valid IPv4 or IPv6 address." in text(response)
    response = post(client, "/security/lockouts/unlock/", {"rule": "username_address",
                                                          "address": OFFICE}, follow=True)  # fmt: skip
    assert "Give the user name to unlock." in text(response)


def test_the_lockouts_page_lists_one_row_per_lock_in_force(db: None, settings: Any) -> None:
    settings.KAM_LOGIN_FAILURE_LIMIT, settings.KAM_LOGIN_USERNAME_FAILURE_LIMIT = 3, 6
    settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT = 8
    for i in range(8):
        _fail(f"guess{i}", OFFICE)  # the address rule
    for i in range(6):
        _fail("wanted", f"192.0.2.{i + 1}")  # the user name rule
    _fail("typo", ELSEWHERE, 3)  # user name + address
    keys = sorted((lock.rule.key, lock.username or "", lock.address or "")
                  for lock in lockout.lockouts_current())  # fmt: skip
    assert keys == [("address", "", OFFICE), ("username", "wanted", ""),
                    ("username_address", "typo", ELSEWHERE)]  # fmt: skip


# --- kam unlock -----------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out = StringIO()
    call_command("unlock", *args, stdout=out)
    return out.getvalue()


def test_kam_unlock_username_forgets_its_failures_from_every_address(locked_owner: User) -> None:
    _fail(locked_owner.username, ELSEWHERE, 2)
    assert "Unlocked user name 'owner'" in _run(locked_owner.username)
    assert not AccessAttempt.objects.filter(username=locked_owner.username).exists()
    assert _logs_in(locked_owner, OFFICE)
    assert SecurityEvent.objects.filter(kind="unlocked", actor=None).count() == 1


def test_kam_unlock_address_forgets_every_user_names_failures_there(
    director: User, settings: Any
) -> None:
    settings.KAM_LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for i in range(12):
        _fail(f"guess{i}", OFFICE)
    _fail("someone", ELSEWHERE)
    assert "Unlocked address 203.0.113.10" in _run("--address", OFFICE)
    assert _logs_in(director, OFFICE)
    assert AccessAttempt.objects.filter(ip_address=ELSEWHERE).exists()


def test_kam_unlock_lists_locks_and_refuses_bad_arguments(locked_owner: User) -> None:
    rows = json.loads(_run("--list", "--json"))
    assert rows == [{"rule": "username_address", "username": "owner", "address": OFFICE,
                     "failures": 5, "until": rows[0]["until"]}]  # fmt: skip
    with pytest.raises(CommandError, match="not an IP address"):
        _run("--address", "office")
    with pytest.raises(CommandError, match="one of them"):
        _run()
    assert "nothing to unlock" in _run("nobody")
