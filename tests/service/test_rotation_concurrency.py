"""The service team's rotation under concurrent openings: cases opened at the same moment
on accounts without a service rep go to different people (the rotation's row is locked).

On PostgreSQL the openings really overlap (threads released together); SQLite allows one
writer at a time, so there they run one after the other through the same code path."""

import threading

import pytest
from django.db import connection, connections

from kam.accounts.models import TeamRole
from kam.core.models import Role, User
from kam.service import services
from kam.service.models import Case
from tests.factories import AccountFactory, TeamMembershipFactory, UserFactory

from .conftest import MONDAY

POSTGRES = connection.vendor == "postgresql"
pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_cases_take_successive_turns(owner: User, policy) -> None:
    team = [UserFactory(role=Role.SERVICE) for _ in range(4)]
    accounts = [AccountFactory(tier=2) for _ in range(4)]
    for account in accounts:
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    start = threading.Barrier(len(accounts)) if POSTGRES else None
    errors: list[BaseException] = []

    def open_case(account) -> None:  # type: ignore[no-untyped-def]
        try:
            if start is not None:
                start.wait(timeout=10)
            services.case_open(by=owner, account=account, kind="inquiry", channel="phone",
                               severity="medium", subject="同时", now=MONDAY)  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_case, args=(a,)) for a in accounts]
    for t in threads:
        t.start()
        if not POSTGRES:
            t.join()
    for t in threads:
        t.join()
    assert not errors, errors
    assignees = sorted(Case.objects.values_list("assignee_id", flat=True))
    assert assignees == sorted(u.pk for u in team)  # four cases, four people, nobody twice
