"""Surveys: a campaign sent to the targeted contacts, answered once through the public
link (no login), reminders that replace links, low scores that open cases, and the bad
input the issue lists: out of range, twice, tampered, expired."""

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from kam.accounts.models import Account
from kam.core.errors import ApplicationError
from kam.service import selectors, surveys
from kam.service.models import Campaign, Case, Invitation, Response
from tests.factories import ContactFactory

from .conftest import en_client

pytestmark = pytest.mark.django_db

GOOD = {"function": 5, "quality": 4, "level": 4, "price": 3, "overall": 4}


@pytest.fixture
def campaign(department, account_a: Account, account_b: Account, contact_a, contact_b) -> Campaign:
    ContactFactory(account=account_a, name="无邮箱", email="")
    return surveys.campaign_create(
        by=department, name="2026 上半年征询函", template=surveys.template_default(),
        expires_at=timezone.now() + datetime.timedelta(days=14), tiers=[1],
    )  # fmt: skip


def _send(department: Any, campaign: Campaign, capture: Any) -> list[str]:
    with capture(execute=True):
        counts = surveys.campaign_send(by=department, campaign=campaign)
    assert counts == {"invited": 1, "without_email": 1, "accounts": 1}
    return [re.search(r"/service/s/([\w-]+)/", m.body).group(1) for m in mail.outbox]  # type: ignore[union-attr]


def _form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {f"rating_{k}": v for k, v in GOOD.items()}
    data.update(nps=9, comment="很好")
    data.update(overrides)
    return data


def test_a_campaign_invites_the_targeted_contacts_by_email(department, campaign, contact_a,
                                                          django_capture_on_commit_callbacks) -> None:  # fmt: skip
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    assert mail.outbox[0].to == [contact_a.email]
    assert "https://kam.example/service/s/" in mail.outbox[0].body
    invitation = Invitation.objects.get()
    assert invitation.contact == contact_a and invitation.token_hash != token  # only a hash
    assert len(token) >= 40
    with pytest.raises(ApplicationError):
        surveys.campaign_send(by=department, campaign=campaign)  # once


def test_the_public_link_answers_once_without_login(department, campaign, owner,
                                                   django_capture_on_commit_callbacks) -> None:  # fmt: skip
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    client = en_client()
    page = client.get(f"/service/s/{token}/")
    assert page.status_code == 200 and "survey-form" in page.content.decode()
    done = client.post(f"/service/s/{token}/", _form())
    assert done.status_code == 200 and "survey-thanks" in done.content.decode()
    response = Response.objects.get()
    assert response.ratings == GOOD and response.nps == 9 and response.follow_up is None
    again = client.post(f"/service/s/{token}/", _form(nps=0))
    assert again.status_code == 410 and "already been used" in again.content.decode()
    assert Response.objects.get().nps == 9  # nothing changed
    results = selectors.survey_results(department)
    assert results["answers"] == 1 and results["nps"] == 100.0 and results["average"] == 4.0


@pytest.mark.parametrize("bad", [{"rating_price": 6}, {"rating_price": 0}, {"nps": 11},
                                 {"nps": -1}, {"rating_overall": "4.5"}, {"rating_quality": ""}])  # fmt: skip
def test_answers_out_of_range_are_refused(department, campaign, bad,
                                          django_capture_on_commit_callbacks) -> None:  # fmt: skip
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    page = en_client().post(f"/service/s/{token}/", _form(**bad))
    assert page.status_code == 400
    assert "survey-errors" in page.content.decode()
    assert not Response.objects.exists()
    assert Invitation.objects.get().answered_at is None


def test_a_tampered_link_says_so(department, campaign, django_capture_on_commit_callbacks) -> None:
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    page = en_client().get(f"/service/s/{tampered}/")
    assert page.status_code == 404 and "not valid" in page.content.decode()
    post = en_client().post(f"/service/s/{tampered}/", _form())
    assert post.status_code == 404 and not Response.objects.exists()


def test_an_expired_link_says_so(department, campaign, django_capture_on_commit_callbacks) -> None:
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    with time_machine.travel(campaign.expires_at + datetime.timedelta(minutes=1)):
        page = en_client().get(f"/service/s/{token}/")
        assert page.status_code == 410 and "expired" in page.content.decode()
        en_client().post(f"/service/s/{token}/", _form())
    assert not Response.objects.exists()


def test_a_reminder_replaces_the_link(
    department, campaign, django_capture_on_commit_callbacks
) -> None:
    (old,) = _send(department, campaign, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.campaign_remind(by=department, campaign=campaign) == 1
    new = re.search(r"/service/s/([\w-]+)/", mail.outbox[-1].body).group(1)  # type: ignore[union-attr]
    assert new != old
    page = en_client().get(f"/service/s/{old}/")
    assert page.status_code == 410 and "newer link" in page.content.decode()
    assert en_client().post(f"/service/s/{new}/", _form()).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            surveys.campaign_remind(by=department, campaign=campaign) == 0
        )  # answered: no reminder


def test_a_low_score_opens_a_case_for_the_account_owner(department, campaign, owner, account_a,
                                                       django_capture_on_commit_callbacks) -> None:  # fmt: skip
    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    en_client().post(f"/service/s/{token}/", _form(rating_quality=1, nps=3, comment="延误太多"))
    case = Case.objects.get()
    assert case.account == account_a and case.assignee == owner
    assert case.channel == "survey" and "1/5" in case.subject and "NPS 3/10" in case.subject
    assert Response.objects.get().follow_up == case


def test_the_answer_api_is_public_and_refuses_twice(department, campaign, anon,
                                                   django_capture_on_commit_callbacks) -> None:  # fmt: skip
    from tests.conftest import assert_error

    (token,) = _send(department, campaign, django_capture_on_commit_callbacks)
    out = anon.post(
        "/service/survey-answers", {"token": token, "ratings": {**GOOD, "price": 9}, "nps": 5}
    )
    assert_error(out, 422, "rating_price")
    ok = anon.post("/service/survey-answers", {"token": token, "ratings": GOOD, "nps": 5})
    assert ok.status_code == 201 and ok.json() == {"received": True, "follow_up_case": False}
    assert_error(
        anon.post("/service/survey-answers", {"token": token, "ratings": GOOD, "nps": 5}),
        409,
        "token",
    )
    assert_error(
        anon.post("/service/survey-answers", {"token": "nope", "ratings": GOOD}), 404, "token"
    )


def test_campaign_targets_filter_by_tier_category_industry_and_owner(department, account_a, account_b,
                                                                    colleague) -> None:  # fmt: skip
    def targets(**filters: Any) -> set[int]:
        c = Campaign(template=surveys.template_default(), **filters)
        return set(surveys.campaign_targets(c).values_list("pk", flat=True))

    assert targets(tiers=[2]) == {account_b.pk}
    assert targets(categories=["strategic"]) == {account_a.pk}
    assert targets(industries=[account_b.industry_id]) == {account_b.pk}
    assert targets(owners=[colleague.pk]) == {account_b.pk}
    assert targets() == {account_a.pk, account_b.pk}


def test_nps() -> None:
    assert selectors.nps([10, 9, 8, 7, 6, 0]) == round(100 * (2 - 2) / 6, 1)
    assert selectors.nps([]) is None
