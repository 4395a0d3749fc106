"""Active sessions: listed at login, "last active" at most once a minute, ended one by one
or all others, by the user or an administrator; gone at logout and expiry."""

import datetime
from typing import Any

import time_machine
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kam.core.models import SecurityEvent, User, UserSession
from kam.core.usersessions import sessions_of
from tests.core.logins import browser, password, post, text
from tests.factories import UserFactory

PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50"
)


def _logged_in(user: User, address: str = "198.51.100.7", agent: str = "") -> Any:
    client = browser(address, agent=agent)
    assert password(client, user.username).status_code == 302
    return client


def test_a_login_lists_the_session_with_device_address_and_times(owner: User) -> None:
    with time_machine.travel(datetime.datetime(2026, 5, 4, 2, 0, tzinfo=datetime.UTC), tick=False):
        client = _logged_in(owner, "198.51.100.7")
        _logged_in(owner, "203.0.113.5", agent=PHONE)
        page = text(client.get("/me/security/"))
    assert "Chrome on Windows" in page and "WeChat on iPhone" in page
    assert "198.51.100.7" in page and "203.0.113.5" in page
    assert "2026-05-04 10:00" in page  # China time
    assert page.count("this session") == 1
    row = UserSession.objects.get(user=owner, client_address="198.51.100.7")
    assert row.session_key == client.session.session_key


def test_last_active_is_written_at_most_once_a_minute(owner: User) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in(owner)
    row = UserSession.objects.get(user=owner)

    def writes_at(seconds: int) -> int:
        moved = time_machine.travel(start + datetime.timedelta(seconds=seconds), tick=False)
        with moved, CaptureQueriesContext(connection) as queries:
            assert client.get("/notifications/").status_code == 200
        return sum("core_usersession" in q["sql"] and "UPDATE" in q["sql"] for q in queries)

    assert writes_at(30) == 0
    assert writes_at(61) == 1
    assert writes_at(90) == 0
    row.refresh_from_db()
    assert row.last_active_at == start + datetime.timedelta(seconds=61)


def test_activity_does_not_prolong_the_session_beyond_its_age(owner: User, settings: Any) -> None:
    settings.SESSION_COOKIE_AGE = 3600
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _logged_in(owner)
    for minutes in (20, 40, 59):
        with time_machine.travel(start + datetime.timedelta(minutes=minutes), tick=False):
            assert client.get("/notifications/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(minutes=61), tick=False):
        assert client.get("/notifications/").status_code == 302  # to the login page
        assert list(sessions_of(owner)) == []  # the expired row is gone when listed


def test_logout_removes_the_row(owner: User) -> None:
    client = _logged_in(owner)
    post(client, "/logout/")
    assert not UserSession.objects.filter(user=owner).exists()


def test_ending_another_session_logs_that_browser_out_on_its_next_request(owner: User) -> None:
    mine, other = _logged_in(owner), _logged_in(owner, agent=PHONE)
    row = UserSession.objects.get(session_key=other.session.session_key)
    response = post(mine, f"/me/sessions/{row.pk}/end/", follow=True)
    assert "The session is ended" in text(response)
    assert not Session.objects.filter(session_key=row.session_key).exists()
    assert other.get("/notifications/")["Location"].startswith("/login/")
    assert mine.get("/notifications/").status_code == 200
    assert SecurityEvent.objects.filter(user=owner, kind="session_ended").count() == 1


def test_the_current_session_is_not_ended_from_the_list(owner: User) -> None:
    client = _logged_in(owner)
    row = UserSession.objects.get(session_key=client.session.session_key)
    response = post(client, f"/me/sessions/{row.pk}/end/", follow=True)
    assert "log out instead" in text(response)
    assert UserSession.objects.filter(pk=row.pk).exists()


def test_sign_out_all_others_keeps_this_one(owner: User) -> None:
    mine = _logged_in(owner)
    others = [_logged_in(owner, f"192.0.2.{i}") for i in range(1, 4)]
    response = post(mine, "/me/sessions/end-others/", follow=True)
    assert "3 other sessions ended." in text(response)
    assert [s.session_key for s in sessions_of(owner)] == [mine.session.session_key]
    assert all(o.get("/notifications/").status_code == 302 for o in others)


def test_nobody_ends_someone_elses_session_except_administrators(
    owner: User, colleague: User, director: User, admin: User
) -> None:
    victim = _logged_in(owner)
    row = UserSession.objects.get(user=owner)
    for who in (colleague, director):
        client = browser()
        client.force_login(who)
        assert post(client, f"/me/sessions/{row.pk}/end/").status_code == 404
    assert victim.get("/notifications/").status_code == 200
    client = browser()
    client.force_login(admin)
    assert f"session-{row.pk}" in client.get(f"/security/users/{owner.pk}/").content.decode()
    assert post(client, f"/me/sessions/{row.pk}/end/")["Location"] == f"/security/users/{owner.pk}/"
    assert victim.get("/notifications/").status_code == 302
    event = SecurityEvent.objects.get(kind="session_ended")
    assert event.actor == admin and event.user == owner


def test_an_administrator_ends_all_of_a_users_sessions(owner: User, admin: User) -> None:
    sessions = [_logged_in(owner, f"192.0.2.{i}") for i in range(1, 3)]
    client = browser()
    client.force_login(admin)
    response = post(client, f"/security/users/{owner.pk}/sessions/end/", follow=True)
    assert "2 sessions ended." in text(response)
    assert all(s.get("/").status_code == 302 for s in sessions)


def test_the_users_list_costs_the_same_queries_for_few_or_many_users(admin: User) -> None:
    client = browser()
    client.force_login(admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/security/users/").status_code == 200
        return len(queries)

    _logged_in(UserFactory())
    client.get("/security/users/")
    few = count()
    for _ in range(10):
        _logged_in(UserFactory())
    assert count() == few


def test_changing_the_password_keeps_this_session_and_ends_the_others(owner: User) -> None:
    mine, other = _logged_in(owner), _logged_in(owner, agent=PHONE)
    assert 'id="change-password"' in mine.get("/me/security/").content.decode()
    wrong = post(mine, "/me/security/password/", {"old_password": "nope", "new_password1": "x",
                                                 "new_password2": "y"})  # fmt: skip
    assert wrong.status_code == 200 and "Your old password was entered incorrectly" in text(wrong)
    response = post(mine, "/me/security/password/", {
        "old_password": "correct horse battery staple",
        "new_password1": "Another-long-secret-42", "new_password2": "Another-long-secret-42",
    }, follow=True)  # fmt: skip
    assert "Your password is changed; your other sessions ended." in text(response)
    rows = list(sessions_of(owner))
    assert [r.session_key for r in rows] == [mine.session.session_key]
    assert "this session" in text(mine.get("/me/security/"))
    assert other.get("/notifications/").status_code == 302
    assert SecurityEvent.objects.filter(user=owner, kind="password_changed").exists()


def test_password_rules_are_explained_in_chinese(owner: User) -> None:
    client = _logged_in(owner)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    page = text(post(client, "/me/security/password/", {
        "old_password": "correct horse battery staple", "new_password1": "1234", "new_password2": "1234",
    }))  # fmt: skip
    assert "密码太短。密码必须包含至少 8 个字符。" in page and "too short" not in page
