"""Two-factor authentication: who must, the gate after the password, enrolment, codes,
recovery codes, turning it off, the administrator's reset, the API and the admin site."""

import re
from typing import Any

import pytest
import time_machine
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from kam.core import twofactor
from kam.core.models import Role, SecurityEvent, User
from kam.core.services import token_create
from tests.conftest import force_login_password_only
from tests.core.logins import browser, code_now, password, post, text
from tests.factories import UserFactory

REQUIRED = [Role.DIRECTOR, Role.ADMIN, Role.DEPARTMENT]
OPTIONAL = [Role.MANAGER, Role.SERVICE, Role.ANALYST]


@pytest.fixture(autouse=True)
def _no_throttle_delay(settings: Any) -> None:
    """django-otp waits 1, 2, 4... seconds after wrong codes; the tests that need it set it."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def _enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def _codes(user: User) -> list[str]:
    """Recovery codes made through the service (the plain codes exist only here)."""
    return twofactor.recovery_codes_renew(user=user)


def _location(response: Any) -> str:
    assert response.status_code == 302, response.status_code
    return str(response["Location"])


# --- who must ------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REQUIRED)
def test_required_roles_without_an_authenticator_are_taken_to_enrolment(
    db: None, role: str
) -> None:
    user = UserFactory(role=role)
    client = browser()
    assert _location(password(client, user.username)).startswith("/login/enrol/")
    # ...and no other page answers until they have set it up
    for path in ("/", "/accounts/", "/notifications/", "/me/security/", "/admin/"):
        assert _location(client.get(path)).startswith("/login/enrol/?next="), path


@pytest.mark.parametrize("role", OPTIONAL)
def test_optional_roles_without_an_authenticator_log_in_with_the_password(
    db: None, role: str
) -> None:
    user = UserFactory(role=role)
    client = browser()
    assert _location(password(client, user.username)) == "/"
    assert client.get("/notifications/").status_code == 200


def test_the_required_roles_are_a_setting(db: None, settings: Any) -> None:
    settings.KAM_TWO_FACTOR_ROLES = ["manager"]
    manager, director = UserFactory(role=Role.MANAGER), UserFactory(role=Role.DIRECTOR)
    assert _location(password(browser(), manager.username)).startswith("/login/enrol/")
    assert _location(password(browser(), director.username)) == "/"


@pytest.mark.parametrize("role", [*REQUIRED, Role.MANAGER])
def test_a_user_with_an_authenticator_is_asked_for_the_code(db: None, role: str) -> None:
    user = UserFactory(role=role)
    _enrolled(user)
    client = browser()
    assert _location(password(client, user.username)).startswith("/login/code/?next=")
    assert _location(client.get("/accounts/")).startswith("/login/code/?next=%2Faccounts%2F")
    page = client.get("/login/code/")
    assert page.status_code == 200 and "nav-user" not in page.content.decode()  # no menu yet


# --- the code page ------------------------------------------------------------------------------


@pytest.fixture
def pending(director: User) -> tuple[Any, TOTPDevice]:
    """The director after the right password: the code is still owed."""
    client = browser()
    password(client, director.username)
    return client, twofactor.authenticator(director)  # type: ignore[return-value]


def test_the_right_code_opens_every_page_and_goes_to_next(pending: tuple[Any, TOTPDevice]) -> None:
    client, device = pending
    response = post(client, "/login/code/", {"code": code_now(device), "next": "/accounts/"})
    assert _location(response) == "/accounts/"
    assert client.get("/accounts/").status_code == 200
    assert client.get("/login/code/").status_code == 302  # nothing owed any more


def test_next_pointing_elsewhere_is_ignored(pending: tuple[Any, TOTPDevice]) -> None:
    client, device = pending
    response = post(
        client, "/login/code/", {"code": code_now(device), "next": "https://evil.example/"}
    )
    assert _location(response) == "/"


def test_a_code_is_accepted_once(pending: tuple[Any, TOTPDevice], director: User) -> None:
    client, device = pending
    code = code_now(device)
    post(client, "/login/code/", {"code": code})
    other = browser()
    password(other, director.username)
    response = post(other, "/login/code/", {"code": code})
    assert response.status_code == 200 and "This code is not right" in text(response)


@pytest.mark.parametrize("bad", ["000000", "12345", "abcdef", "", "1234567", "x" * 40])
def test_wrong_or_malformed_codes_are_refused_with_a_message(
    pending: tuple[Any, TOTPDevice], bad: str
) -> None:
    client, device = pending
    if bad == "000000" and code_now(device) == bad:
        bad = "000001"
    response = post(client, "/login/code/", {"code": bad})
    assert response.status_code == 200
    message = "Enter the code." if bad == "" else "This code is not right"
    assert message in text(response)
    assert client.get("/accounts/").status_code == 302


def test_wrong_codes_are_told_in_chinese_too(director: User) -> None:
    client = browser(lang="zh-hans")
    password(client, director.username)
    page = text(post(client, "/login/code/", {"code": "999999x"}))
    assert "验证码不正确" in page


def test_five_wrong_codes_lock_the_login_and_end_the_half_logged_in_session(
    pending: tuple[Any, TOTPDevice], director: User
) -> None:
    client, device = pending
    statuses = [post(client, "/login/code/", {"code": "000000" if code_now(device) != "000000"
                                              else "000001"}).status_code for _ in range(5)]  # fmt: skip
    assert statuses == [200, 200, 200, 200, 429]
    assert _location(client.get("/accounts/")).startswith("/login/")  # logged out
    # The password does not reopen it: the lock holds for the user name at this address.
    assert password(browser(), director.username).status_code == 429


def test_the_password_does_not_reset_the_count_of_wrong_codes(
    pending: tuple[Any, TOTPDevice], director: User
) -> None:
    client, _ = pending
    for _ in range(4):
        post(client, "/login/code/", {"code": "abcdefgh"})
    again = browser()
    password(again, director.username)
    assert post(again, "/login/code/", {"code": "abcdefgh"}).status_code == 429


def test_quick_wrong_codes_are_slowed_down_by_the_device(
    pending: tuple[Any, TOTPDevice], settings: Any
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    client, device = pending
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        post(
            client, "/login/code/", {"code": "000000" if code_now(device) != "000000" else "111111"}
        )
        response = post(client, "/login/code/", {"code": code_now(device)})
        assert "Too many wrong codes: wait 1 second and try again." in text(response)
    with time_machine.travel(start + timezone.timedelta(seconds=2), tick=False):
        assert _location(post(client, "/login/code/", {"code": code_now(device)})) == "/"


# --- recovery codes -------------------------------------------------------------------------------


def test_a_recovery_code_logs_in_once_and_says_how_many_are_left(director: User) -> None:
    codes = _codes(director)
    client = browser()
    password(client, director.username)
    response = post(
        client, "/login/code/", {"code": codes[3].upper().replace("-", " ")}, follow=True
    )
    assert "You logged in with a recovery code. 9 codes are left" in text(response)
    assert SecurityEvent.objects.filter(user=director, kind="recovery_code_used").exists()
    again = browser()
    password(again, director.username)
    assert "This code is not right" in text(post(again, "/login/code/", {"code": codes[3]}))


def test_recovery_codes_are_stored_only_as_hashes(director: User) -> None:
    codes = _codes(director)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(re.fullmatch(r"[2-9a-hjkmnp-z]{4}(-[2-9a-hjkmnp-z]{4}){3}", c) for c in codes)
    stored = set(StaticToken.objects.values_list("token", flat=True))
    assert stored == {twofactor.recovery_code_hash(c) for c in codes}
    assert not stored & {c for c in codes} and not stored & {c.replace("-", "") for c in codes}


def test_new_recovery_codes_replace_the_old_ones(director: User) -> None:
    old = _codes(director)
    client = browser()
    client.force_login(director)
    assert 'id="confirm-button"' in client.get("/me/security/recovery-codes/").content.decode()
    response = post(client, "/me/security/recovery-codes/", follow=True)
    shown = re.findall(r"<code>([^<]+)</code>", response.content.decode())
    assert len(shown) == 10 and not set(shown) & set(old)
    assert twofactor.code_verify(user=director, code=old[0]).device is None
    assert twofactor.code_verify(user=director, code=shown[0]).device is not None
    # shown once: the page does not show them again
    assert _location(client.get("/login/recovery-codes/")) == "/me/security/"


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_key_then_confirms_with_a_code(db: None) -> None:
    user = UserFactory(role=Role.DEPARTMENT)
    client = browser()
    password(client, user.username)
    page = client.get("/login/enrol/?next=/accounts/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in body  # within the CSP's img-src data:
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert twofactor.secret_for_typing(device) in body
    assert client.get("/login/enrol/").content.decode().count(twofactor.secret_for_typing(device))
    assert TOTPDevice.objects.filter(user=user).count() == 1  # a reload keeps the same key

    wrong = post(
        client, "/login/enrol/", {"code": "123456" if code_now(device) != "123456" else "654321"}
    )
    assert "This code does not match" in text(wrong)
    response = post(client, "/login/enrol/", {"code": code_now(device), "next": "/accounts/"})
    assert _location(response) == "/login/recovery-codes/?next=%2Faccounts%2F"
    codes_page = client.get("/login/recovery-codes/?next=/accounts/")
    assert len(re.findall(r"<code>", codes_page.content.decode())) == 10
    assert 'href="/accounts/"' in codes_page.content.decode()
    assert client.get("/accounts/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    assert SecurityEvent.objects.filter(user=user, kind="2fa_enabled").exists()


def test_the_password_alone_cannot_add_an_authenticator_to_one_that_has_one(director: User) -> None:
    client = browser()
    password(client, director.username)
    assert _location(client.get("/login/enrol/")).startswith("/login/code/")
    assert not TOTPDevice.objects.filter(user=director, confirmed=False).exists()


def test_a_verified_user_replaces_the_authenticator(director: User) -> None:
    old = twofactor.authenticator(director)
    client = browser()
    client.force_login(director)
    client.get("/login/enrol/")
    new = TOTPDevice.objects.get(user=director, confirmed=False)
    post(client, "/login/enrol/", {"code": code_now(new)})
    assert list(TOTPDevice.objects.filter(user=director)) == [new]
    assert old is not None and not TOTPDevice.objects.filter(pk=old.pk).exists()


# --- one's own page and turning it off ----------------------------------------------------------------


def test_the_security_page_shows_the_state_and_what_can_be_done(
    director: User, owner: User
) -> None:
    client = browser()
    client.force_login(director)
    page = client.get("/me/security/").content.decode()
    assert 'id="two-factor-on"' in page and 'id="remove-two-factor"' not in page  # required
    client = browser()
    client.force_login(owner)
    page = client.get("/me/security/").content.decode()
    assert 'id="two-factor-off"' in page and 'id="set-up-two-factor"' in page


def test_an_optional_user_turns_it_off_after_confirming(owner: User) -> None:
    _enrolled(owner)
    _codes(owner)
    client = browser()
    client.force_login(owner)  # verified
    assert 'id="confirm-button"' in client.get("/me/security/two-factor/remove/").content.decode()
    post(client, "/me/security/two-factor/remove/")
    assert not twofactor.is_enrolled(owner) and twofactor.recovery_codes_left(owner) == 0
    assert _location(password(browser(), owner.username)) == "/"
    assert SecurityEvent.objects.filter(user=owner, kind="2fa_removed", actor=owner).exists()


def test_a_required_user_cannot_turn_it_off(director: User) -> None:
    client = browser()
    client.force_login(director)
    response = post(client, "/me/security/two-factor/remove/", follow=True)
    assert "can replace your authenticator but not turn it off" in text(response)
    assert twofactor.is_enrolled(director)


# --- the administrator's reset -----------------------------------------------------------------------


def test_an_administrator_resets_a_lost_phone_and_it_is_logged(admin: User, director: User) -> None:
    _codes(director)
    theirs = browser()
    theirs.force_login(director)
    client = browser()
    client.force_login(admin)
    assert (
        'id="confirm-button"'
        in client.get(f"/security/users/{director.pk}/reset-two-factor/").content.decode()
    )
    response = post(client, f"/security/users/{director.pk}/reset-two-factor/", follow=True)
    assert "is reset and 1 session ended" in text(response)
    assert not twofactor.is_enrolled(director) and twofactor.recovery_codes_left(director) == 0
    event = SecurityEvent.objects.get(kind="2fa_reset")
    assert event.actor == admin and event.user == director
    assert _location(theirs.get("/")).startswith("/login/")  # their session ended
    assert _location(password(browser(), director.username)).startswith("/login/enrol/")


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.DEPARTMENT, Role.MANAGER, Role.ANALYST])
def test_only_administrators_reach_other_users_logins(db: None, owner: User, role: str) -> None:
    client = browser()
    client.force_login(UserFactory(role=role))
    assert client.get("/security/users/").status_code == 404
    assert client.get(f"/security/users/{owner.pk}/").status_code == 404
    assert post(client, f"/security/users/{owner.pk}/reset-two-factor/").status_code == 404


def test_the_users_list_shows_who_has_set_it_up(admin: User, director: User, owner: User) -> None:
    client = browser()
    client.force_login(admin)
    page = text(client.get("/security/users/"))
    assert "Required, not set up" not in page  # director and admin have one
    UserFactory(username="newdept", role=Role.DEPARTMENT)
    page = text(client.get("/security/users/?q=newdept"))
    assert "Required, not set up" in page and "owner" not in page


# --- the API and the admin site ------------------------------------------------------------------------


def test_a_session_that_owes_the_code_is_refused_by_the_api(director: User) -> None:
    client = browser()
    force_login_password_only(client, director)
    response = client.get("/api/v1/me", headers={"X-CSRFToken": "x"})
    assert response.status_code == 401
    assert "two-factor code" in response.json()["detail"]


def test_a_verified_session_and_a_bearer_token_reach_the_api(director: User) -> None:
    client = browser()
    client.force_login(director)
    assert client.get("/api/v1/me").json()["username"] == "director"
    _, token = token_create(user=director, name="script")
    assert (
        browser().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


def test_a_bearer_token_works_beside_a_session_that_owes_the_code(director: User) -> None:
    client = browser()
    force_login_password_only(client, director)
    _, token = token_create(user=director, name="script")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_the_admin_site_needs_the_second_factor_even_for_staff_of_optional_roles(db: None) -> None:
    staff = UserFactory(role=Role.MANAGER, is_staff=True, is_superuser=True)
    client = browser()
    client.force_login(staff)  # password only: a manager owes no code by role
    response = client.get("/admin/")
    assert _location(response).startswith("/admin/login/")
    assert _location(client.get(response["Location"])).startswith("/login/enrol/")
    _enrolled(staff)
    client.force_login(staff)  # now verified
    assert client.get("/admin/").status_code == 200


def test_the_admin_login_page_is_kams(db: None, admin: User) -> None:
    assert _location(browser().get("/admin/login/?next=/admin/")) == "/login/?next=/admin/"
    client = browser()
    force_login_password_only(client, admin)
    assert _location(client.get("/admin/")).startswith("/login/code/")
    analyst = UserFactory(role=Role.ANALYST)
    _enrolled(analyst)
    client = browser()
    client.force_login(analyst)  # verified, but not staff
    assert client.get("/admin/login/").status_code == 403


def test_an_htmx_request_of_a_session_that_owes_the_code_reloads_the_page(director: User) -> None:
    client = browser()
    force_login_password_only(client, director)
    response = client.get("/notifications/", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/code/")
