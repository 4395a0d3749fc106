"""Survey e-mails carry a whole link: in production they are refused without KAM_BASE_URL
(nothing sent, a clear message), a local `kam serve` derives the address from its host and
port, and `kam check --deploy` says what a missing KAM_BASE_URL costs."""

import datetime
import os

import pytest
from django.core import mail
from django.utils import timezone

from kam.core import deploy
from kam.core.errors import ApplicationError
from kam.core.management.commands.serve import Command as Serve
from kam.service import surveys
from kam.service.models import Campaign, Invitation

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(department, account_a, contact_a) -> Campaign:
    return surveys.campaign_create(
        by=department, name="征询函", template=surveys.template_default(),
        expires_at=timezone.now() + datetime.timedelta(days=14), tiers=[1],
    )  # fmt: skip


def test_production_refuses_to_send_without_a_base_url(department, campaign, settings) -> None:
    settings.KAM_ENVIRONMENT = "production"
    settings.KAM_BASE_URL = ""
    with pytest.raises(ApplicationError, match="KAM_BASE_URL is not set"):
        surveys.campaign_send(by=department, campaign=campaign)
    assert not Invitation.objects.exists() and mail.outbox == []
    assert Campaign.objects.get().status == Campaign.CampaignStatus.DRAFT


def test_production_refuses_reminders_without_a_base_url(
    department, campaign, settings, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        surveys.campaign_send(by=department, campaign=campaign)
    settings.KAM_ENVIRONMENT = "production"
    settings.KAM_BASE_URL = ""
    with pytest.raises(ApplicationError, match="KAM_BASE_URL"):
        surveys.campaign_remind(by=department, campaign=campaign)
    assert Invitation.objects.get().reminders == 0


def test_the_page_shows_the_refusal(department, campaign, settings) -> None:
    from django.test import Client

    settings.KAM_ENVIRONMENT = "production"
    settings.KAM_BASE_URL = ""
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(department)
    page = client.post(f"/service/surveys/{campaign.pk}/send/", follow=True)
    assert "KAM_BASE_URL is not set" in page.content.decode()


def test_production_with_a_base_url_sends_whole_links(
    department, campaign, settings, django_capture_on_commit_callbacks
) -> None:
    settings.KAM_ENVIRONMENT = "production"
    settings.KAM_BASE_URL = "https://kam.example.com/"
    with django_capture_on_commit_callbacks(execute=True):
        surveys.campaign_send(by=department, campaign=campaign)
    assert "https://kam.example.com/service/s/" in mail.outbox[0].body


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8000, "http://127.0.0.1:8000"),
        ("localhost", 80, "http://localhost"),
        ("::1", 8001, "http://[::1]:8001"),
        ("[::1]", 8001, "http://[::1]:8001"),
    ],
)
def test_the_local_address_is_derived_from_host_and_port(
    host: str, port: int, expected: str
) -> None:
    assert deploy.local_base_url(host, port) == expected


def test_a_wildcard_address_becomes_the_machines_name(monkeypatch) -> None:
    monkeypatch.setattr(deploy.socket, "getfqdn", lambda: "kam-box.lan")
    assert deploy.local_base_url("0.0.0.0", 8000) == "http://kam-box.lan:8000"  # noqa: S104
    assert deploy.local_base_url("::", 8000) == "http://kam-box.lan:8000"


def test_kam_serve_derives_the_base_url_only_when_unset_and_not_in_production(
    settings, monkeypatch
) -> None:
    monkeypatch.delenv("KAM_BASE_URL", raising=False)
    settings.KAM_ENVIRONMENT = ""
    settings.KAM_BASE_URL = ""
    Serve().derive_base_url("127.0.0.1", 8123)
    assert settings.KAM_BASE_URL == "http://127.0.0.1:8123"
    assert os.environ["KAM_BASE_URL"] == "http://127.0.0.1:8123"  # the worker inherits it
    settings.KAM_BASE_URL = "https://kam.example.com"
    Serve().derive_base_url("127.0.0.1", 8123)
    assert settings.KAM_BASE_URL == "https://kam.example.com"  # set: kept
    settings.KAM_BASE_URL = ""
    settings.KAM_ENVIRONMENT = "production"
    Serve().derive_base_url("127.0.0.1", 8123)
    assert settings.KAM_BASE_URL == ""  # production must set it (and is refused without)


def test_the_deploy_check_says_survey_emails_need_the_base_url(settings) -> None:
    settings.KAM_BASE_URL = ""
    texts = [p.text for p in deploy.production_problems() if p.id == "kam.W002"]
    assert texts and "survey e-mails are not sent" in texts[0]
