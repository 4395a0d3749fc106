"""Fixtures of the service tests: an SLA policy, a root cause, a fixed working Monday."""

import datetime
from typing import Any

import pytest

from kam.accounts.models import Account
from kam.core.models import Role, User
from kam.service.models import Action, RootCause, SlaPolicy
from tests.factories import UserFactory

CST = datetime.timezone(datetime.timedelta(hours=8))
#: Monday 2 March 2026, 09:00 China Standard Time: a plain working day.
MONDAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=CST)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=CST)


@pytest.fixture(autouse=True)
def _mail_in_memory(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.KAM_BASE_URL = "https://kam.example"


@pytest.fixture
def boss(db: None) -> User:
    return UserFactory(username="boss", display_name="主管钱", role=Role.MANAGER)


@pytest.fixture
def policy(db: None, department: User) -> SlaPolicy:
    """Any tier, medium severity: 2 business hours to respond, 8 to resolve."""
    return SlaPolicy.objects.create(
        name="通用 · 中", tier=None, severity="medium", clock="business",
        response_minutes=120, resolution_minutes=480, warning_shares=[50, 80],
        warning_actions=[Action.NOTIFY_ASSIGNEE],
        violation_actions=[Action.NOTIFY_ASSIGNEE, Action.NOTIFY_MANAGER, Action.NOTIFY_OWNER,
                           Action.NOTIFY_DEPARTMENT],
    )  # fmt: skip


@pytest.fixture
def cause(db: None) -> RootCause:
    return RootCause.objects.create(code="delay", name_zh="运输延误", name_en="Transit delay")


@pytest.fixture
def complaint(account_a: Account, owner: User, service_rep: User, policy: SlaPolicy, boss: User):
    """A medium complaint on account A opened Monday 09:00 by the owner, assigned to the
    service rep (whose manager is ``boss``)."""
    from kam.service import services

    service_rep.manager = boss
    service_rep.save()
    return services.case_open(
        by=owner, account=account_a, kind="complaint", channel="phone", severity="medium",
        subject="整批货物延误", assignee=service_rep, now=MONDAY,
    )  # fmt: skip


@pytest.fixture(autouse=True)
def _english() -> Any:
    """Messages are asserted in English (the Chinese catalogue is tested on its own)."""
    from django.utils import translation

    with translation.override("en"):
        yield


def en_client(**kwargs: Any) -> Any:
    from django.test import Client

    return Client(headers={"Accept-Language": "en"}, **kwargs)
