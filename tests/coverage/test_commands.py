"""``kam plan visits`` and ``kam coverage escalate`` from the command line."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from kam.accounts.models import Account
from kam.coverage.models import Visit

pytestmark = pytest.mark.django_db


def test_plan_visits_prints_a_summary_and_json(account_a: Account, account_b: Account) -> None:
    out = StringIO()
    call_command("plan", "visits", "--weeks", "4", "--start", "2026-07-06", stdout=out)
    assert out.getvalue().startswith("Planned 6 of 6 due visits (100.0%) from 2026-07-06 for 4")
    out = StringIO()
    call_command("plan", "visits", "--weeks", "2", "--start", "2026-07-06", "--json", stdout=out)
    body = json.loads(out.getvalue())
    assert body["placed"] == 3 and body["unserved"] == []
    assert Visit.objects.count() == 6  # the 2-week plan replaced the first two weeks only


def test_plan_visits_refuses_zero_weeks() -> None:
    with pytest.raises(CommandError, match="between 1 and 26"):
        call_command("plan", "visits", "--weeks", "0", stdout=StringIO())


def test_escalate_json(follow_up: object) -> None:
    out = StringIO()
    call_command("coverage", "escalate", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"reminded": 0, "escalated": 0}
