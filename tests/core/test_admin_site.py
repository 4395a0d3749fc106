"""The administration site shows configuration, never customer data: deleting a user
lists what goes with them by kind and number, not by name (an account manager's team
memberships, visits and notifications name the accounts they serve)."""

from typing import Any

import pytest
from django.test import Client

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.core.notify import notify
from tests.factories import StaffTieFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_user_names_no_customer_record(
    admin: User, owner: User, account_a: Account, contact_a: Contact, settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    StaffTieFactory(contact=contact_a, user=owner)
    notify([owner], subject=f"{account_a.name}：跟进逾期", kind="coverage.overdue")
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin)
    page = client.get(f"/admin/core/user/{owner.pk}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Notifications: 1" in html and "Staff ties: 1" in html  # the summary stays
    for secret in (account_a.name, account_a.name_en, contact_a.name):
        assert secret not in html, secret


def test_a_user_who_cannot_be_deleted_is_told_what_by_kind(admin: User, owner: User,
                                                           account_a: Account) -> None:  # fmt: skip
    import datetime

    from kam.coverage.models import Visit

    Visit.objects.create(account=account_a, person=owner, day=datetime.date(2026, 7, 1))
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(admin)
    html = client.get(f"/admin/core/user/{owner.pk}/delete/").content.decode()
    assert "visits: 1" in html.lower()
    assert account_a.name not in html and "2026" not in html
