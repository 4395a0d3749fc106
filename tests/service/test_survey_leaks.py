"""Issue 13: a survey campaign covers accounts of every team; each user's view of it (the
campaigns list's counts, the invitations, the results) covers only the accounts they see."""

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kam.accounts.models import Account, Contact
from kam.core.models import User
from kam.service import surveys
from kam.service.models import Campaign, Invitation

from .conftest import en_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(department: User, account_a: Account, account_b: Account, contact_a: Contact,
         contact_b: Contact, django_capture_on_commit_callbacks: Any) -> Campaign:  # fmt: skip
    """A campaign sent to the contacts of accounts A (tier 1) and B (tier 2); B's answered."""
    campaign = surveys.campaign_create(
        by=department, name="2026 上半年征询函", template=surveys.template_default(),
        expires_at=timezone.now() + datetime.timedelta(days=14), tiers=[1, 2],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        surveys.campaign_send(by=department, campaign=campaign)
    Invitation.objects.filter(contact=contact_b).update(answered_at=timezone.now())
    assert Invitation.objects.count() == 2
    return campaign


def _page(user: User, url: str) -> str:
    client = en_client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_manager_sees_only_their_accounts_invitations(
    sent: Campaign, owner: User, contact_a: Contact, contact_b: Contact, account_b: Account
) -> None:
    page = _page(owner, f"/service/surveys/{sent.pk}/")
    assert contact_a.name in page
    assert contact_b.name not in page and str(account_b) not in page
    assert 'id="count-invited">1<' in page and 'id="count-answered">0<' in page


def test_the_department_sees_every_invitation(
    sent: Campaign, department: User, contact_a: Contact, contact_b: Contact
) -> None:
    page = _page(department, f"/service/surveys/{sent.pk}/")
    assert contact_a.name in page and contact_b.name in page
    assert 'id="count-invited">2<' in page and 'id="count-answered">1<' in page


def test_an_outsider_sees_the_campaign_but_no_invitation(
    sent: Campaign, outsider: User, account_a: Account, account_b: Account
) -> None:
    page = _page(outsider, f"/service/surveys/{sent.pk}/")
    assert str(account_a) not in page and str(account_b) not in page
    assert 'id="count-invited">0<' in page


def test_an_analyst_sees_accounts_but_no_contact_names(
    sent: Campaign, analyst: User, account_a: Account, contact_a: Contact
) -> None:
    page = _page(analyst, f"/service/surveys/{sent.pk}/")
    assert str(account_a) in page and contact_a.name not in page


def test_the_campaigns_list_counts_only_visible_accounts(
    sent: Campaign, owner: User, colleague: User, department: User
) -> None:
    def counts(user: User) -> tuple[str, str]:
        page = _page(user, "/service/surveys/")
        row = page[page.index(sent.name) :]
        cells = [c.split("<")[0] for c in row.split('<td class="text-end">')[1:3]]
        return cells[0], cells[1]

    assert counts(owner) == ("1", "0")
    assert counts(colleague) == ("1", "1")
    assert counts(department) == ("2", "1")
