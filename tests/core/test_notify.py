"""In-app notifications and their e-mail."""

import pytest
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse

from kam.core.models import Notification, Role
from kam.core.notify import notify
from kam.core.services import user_create

pytestmark = pytest.mark.django_db


def _user(name: str, *, email: str = "", active: bool = True):  # noqa: ANN202
    user = user_create(username=name, role=Role.MANAGER, password="Pw-for-tests-123", email=email)
    if not active:
        user.is_active = False
        user.save()
    return user


def test_each_active_recipient_is_notified_once_and_mailed(
    django_capture_on_commit_callbacks,  # noqa: ANN001
) -> None:
    a, b = _user("a", email="a@example.com"), _user("b")
    gone = _user("gone", email="gone@example.com", active=False)
    with django_capture_on_commit_callbacks(execute=True):
        rows = notify(
            [a, a, b, None, gone], subject="Follow-up overdue", body="Call back", url="/x/"
        )
    assert sorted(r.user.username for r in rows) == ["a", "b"]
    assert Notification.objects.count() == 2
    assert [m.to for m in mail.outbox] == [["a@example.com"]]  # b has no address
    assert mail.outbox[0].subject == "[KAM] Follow-up overdue"
    assert "/x/" in mail.outbox[0].body


def test_a_rolled_back_action_sends_no_mail(django_capture_on_commit_callbacks) -> None:  # noqa: ANN001
    a = _user("a", email="a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                notify([a], subject="x")
                raise RuntimeError
        except RuntimeError:
            pass
    assert mail.outbox == []
    assert Notification.objects.count() == 0


def test_the_inbox_shows_own_notifications_and_opening_marks_read() -> None:
    a, b = _user("a"), _user("b")
    mine = notify([a], subject="Mine", url="/notifications/?show=unread")[0]
    notify([b], subject="Not mine")
    client = Client()
    client.force_login(a)
    page = client.get(reverse("notifications")).content.decode()
    assert "Mine" in page and "Not mine" not in page
    response = client.post(reverse("notification_open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/notifications/?show=unread"
    mine.refresh_from_db()
    assert mine.read_at is not None
    # Someone else's notification is not found, and nothing changes.
    theirs = Notification.objects.get(user=b)
    assert client.post(reverse("notification_open", args=[theirs.pk])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_an_outside_link_is_never_followed() -> None:
    a = _user("a")
    row = notify([a], subject="x", url="https://evil.example/")[0]
    client = Client()
    client.force_login(a)
    response = client.post(reverse("notification_open", args=[row.pk]))
    assert response["Location"] == reverse("notifications")


def test_mark_all_read_clears_the_badge() -> None:
    a = _user("a")
    notify([a], subject="one")
    notify([a], subject="two")
    client = Client()
    client.force_login(a)
    assert client.get(reverse("notifications")).context["unread_notifications"] == 2
    client.post(reverse("notifications_read_all"))
    assert client.get(reverse("notifications")).context["unread_notifications"] == 0
