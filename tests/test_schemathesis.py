"""schemathesis against /api/openapi.json: no operation answers a server error, and
every answer has a status, content type and body that the OpenAPI document declares.

Every operation gets valid (positive) and invalid (negative) requests, sent in-process
through the WSGI application with a director's and an account manager's bearer token.
Ids in paths, queries and bodies are often swapped for ids of real rows, so that the
requests reach past the 404s. Each request runs in a savepoint that is rolled back, so
every example sees the same small archive.
"""

import datetime
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kam.accounts.models import Account, ConsentRecord, TeamRole
from kam.core.models import User
from kam.core.services import token_create
from kam.ledger.models import ImportBatch
from kam.ledger.services import import_create, import_run
from kam.wsgi import application
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    ContactFactory,
    ContactTieFactory,
    GroupFactory,
    StaffTieFactory,
    TeamMembershipFactory,
)

pytestmark = pytest.mark.django_db

EXAMPLES_PER_MODE = 25
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The WSGI application, minus the connection clean-up after each request.

    Django closes a connection at the end of a request when it is not in autocommit
    mode, which would end the test's transaction; Django's test client does the same.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def archive(
    account_a: Account, account_b: Account, owner: User, director: User, tmp_path: Path
) -> dict:
    """A few rows of every kind, and their ids by the parameter names that address them."""
    empty = GroupFactory(name="空集团")
    parent = GroupFactory(name="母集团")
    child = GroupFactory(name="子集团", parent=parent)
    account_a.group = child
    account_a.save()
    boss = ContactFactory(account=account_a, name="总经理")
    deputy = ContactFactory(account=account_a, name="副总", reports_to=boss)
    other = ContactFactory(account=account_b, name="对方采购")
    erased = ContactFactory(
        account=account_a, name="已删除", erased_at=datetime.datetime.now(datetime.UTC)
    )
    extra = AccountFactory(name="第三家客户", tier=4)
    member = TeamMembershipFactory(account=extra, user=owner, role=TeamRole.CO_OWNER)
    tie = ContactTieFactory(from_contact=boss, to_contact=deputy)
    staff_tie = StaffTieFactory(contact=boss, user=owner)
    billing = BillingCodeFactory(account=account_a, code="YJ-ST-1")
    basis = ConsentRecord.objects.create(
        contact=boss, basis="consent", purpose="schemathesis", obtained_on=datetime.date(2025, 1, 2)
    )
    batch = _import_a_small_file(tmp_path)
    from kam.service.services import case_open

    case = case_open(
        by=owner, account=account_a, kind="complaint", channel="phone", severity="medium",
        subject="schemathesis",
    )  # fmt: skip
    from kam.segmentation.services import run_create, run_execute

    run = run_execute(run=run_create(trigger="manual"))  # over the small import's facts
    from kam.coverage.services import plan_generate

    plan_generate(by=None, start=datetime.date(2026, 3, 2), weeks=2)
    from decimal import Decimal

    from django.utils import timezone

    from kam.planning import services as planning

    today = timezone.localdate()  # the services refuse target dates in the past
    account_plan = planning.plan_create(by=owner, account=account_a, year=today.year,
                                        kind="expand", owner=owner)  # fmt: skip
    objective = planning.objective_add(
        by=owner, plan=account_plan, metric="revenue", baseline=Decimal(100), target=Decimal(200),
        target_date=today + datetime.timedelta(days=60),
    )  # fmt: skip
    action = planning.action_add(by=owner, plan=account_plan, title="schemathesis", horizon=30,
                                 owner=owner, due_date=today + datetime.timedelta(days=10))  # fmt: skip
    from kam.planning.models import Solution

    opportunity = planning.opportunity_create(
        by=owner, account=account_a, solution=Solution.objects.order_by("position").first(),
        owner=owner, annual_revenue=Decimal(50000), probability=40,
        expected_close=today + datetime.timedelta(days=90), influences=[(boss, "economic_buyer")],
    )  # fmt: skip
    from kam.pricing import quotes as pricing_quotes
    from kam.pricing import rating
    from kam.pricing import services as pricing
    from kam.pricing.models import CardKind, RateCard

    pricing.fill_default_matrix()
    list_card = RateCard.objects.create(name="schemathesis list", kind=CardKind.LIST,
                                        effective_from=today - datetime.timedelta(days=30))  # fmt: skip
    pricing.set_first_additional_rules(list_card, [
        pricing.RuleRow("express", code, Decimal(1), Decimal(20), Decimal("0.5"), Decimal(4))
        for code in pricing.ensure_zones()
    ])  # fmt: skip
    pricing.activate_card(list_card)
    quote = pricing_quotes.quote_create(
        by=owner, account=account_a, strategy="cost_plus", discounts=[rating.Discount(Decimal(5))],
        valid_until=today + datetime.timedelta(days=30),
    )  # fmt: skip
    return {
        "account_id": [account_a.pk, account_b.pk, extra.pk],
        "contact_id": [boss.pk, deputy.pk, other.pk, erased.pk],
        "group_id": [empty.pk, parent.pk, child.pk],
        "member_id": [member.pk, *account_a.team.values_list("pk", flat=True)],
        "tie_id": [tie.pk, staff_tie.pk],
        "code": [billing.code, "YJ0591001"],
        "username": ["colleague", "owner", "director", "service"],
        "user_id": list(User.objects.order_by("pk").values_list("pk", flat=True)),
        "version": [1],
        "import_id": [batch.pk],
        "case_id": [case.pk],
        "run_id": [run.pk],
        "consent_id": [basis.pk],
        "plan_id": [account_plan.pk],
        "objective_id": [objective.pk],
        "action_id": [action.pk],
        "opportunity_id": [opportunity.pk],
        "quote_id": [quote.pk],
        "card_id": [list_card.pk, quote.card_id],
    }


def _import_a_small_file(folder: Path) -> ImportBatch:
    """One committed import (two waybills, one rejected row) so the ledger's reads find rows."""
    path = folder / "schemathesis.csv"
    path.write_text(
        "运单号,月结账号,寄件时间,始发地,目的地,产品,件数,计费重量,运费,状态\n"
        "ST0001,YJ-ST-1,2026-01-05 10:00,深圳,上海,特快,1,1.5,12.50,已签收\n"
        "ST0002,UNLINKED-1,2026-01-06 10:00,深圳,北京,标快,1,2,9.00,已签收\n"
        "ST0003,YJ-ST-1,2026-02-30 10:00,深圳,上海,特快,1,1.5,12.50,已签收\n",
        encoding="utf-8",
    )
    batch = import_create(by=None, source="cli", file_name=path.name, path=path)
    return import_run(batch=batch, path=path)


#: Request fields that carry an id, and the kind of row they name.
ID_FIELDS = {
    "account_id": "account_id", "contact_id": "contact_id", "group_id": "group_id",
    "member_id": "member_id", "tie_id": "tie_id", "code": "code", "owner": "user_id",
    "group": "group_id", "parent_id": "group_id", "reports_to_id": "contact_id",
    "from_contact_id": "contact_id", "to_contact_id": "contact_id", "username": "username",
    "version": "version", "import_id": "import_id", "case_id": "case_id",
    "run_id": "run_id", "other_id": "run_id", "consent_id": "consent_id",
    "plan_id": "plan_id", "objective_id": "objective_id", "action_id": "action_id",
    "opportunity_id": "opportunity_id", "quote_id": "quote_id", "card_id": "card_id",
}  # fmt: skip
#: Reads a persona can never make succeed: import history, segmentation runs and their
#: rules, and the coverage measures are for the department's roles.
NEVER_FOUND = {
    "owner": {
        "GET /api/v1/imports/{import_id}",
        "GET /api/v1/imports/{import_id}/rejects",
        "GET /api/v1/segmentation/runs",
        "GET /api/v1/segmentation/runs/{run_id}",
        "GET /api/v1/segmentation/runs/{run_id}/compare/{other_id}",
        "GET /api/v1/segmentation/rules",
        "GET /api/v1/coverage/measures",
        "GET /api/v1/planning/measures",  # the department's, directors' and analysts'
    },  # fmt: skip
    "director": set(),
}


def aim(values: dict | None, ids: dict, data: st.DataObject, label: str) -> None:
    """Often replace a generated id with the id of a real row (in place)."""
    if not isinstance(values, dict):
        return
    for name in list(values):
        if name not in ID_FIELDS:
            continue
        kind = ID_FIELDS[name]
        if data.draw(st.booleans(), label=f"{label}.{name} real?"):
            values[name] = data.draw(st.sampled_from(ids[kind]), label=f"{label}.{name}")


def run_operation(
    operation: Any, mode: GenerationMode, token: str, ids: dict, statuses: set[int]
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_MODE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                               HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )  # fmt: skip
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def check(case: Any, data: st.DataObject) -> None:
        if mode is GenerationMode.POSITIVE:
            aim(case.path_parameters, ids, data, "path")
            aim(case.query, ids, data, "query")
            aim(case.body, ids, data, "body")
        with transaction.atomic():
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            transaction.set_rollback(True)
        statuses.add(response.status_code)
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],  # fmt: skip
        )

    check()


#: The operations are split in halves (every other one), a test module each: this one and
#: tests/test_schemathesis_part2.py, so that two test workers run them side by side.
PARTS = 2


def check_every_operation(part: int, persona: str, archive: dict, wsgi_app: Any,
                          request: Any, caplog: Any) -> None:  # fmt: skip
    """Every ``part``-th of the API's operations, as ``persona``: no server error, every
    answer as documented, and each read aimed at real rows found something."""
    caplog.set_level(logging.CRITICAL, logger="django.request")  # thousands of 4xx lines
    user = request.getfixturevalue(persona)
    _, token = token_create(user=user, name="schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    every = [result.ok() for result in schema.get_all_operations()]
    assert len(every) >= 25
    operations = every[part::PARTS]
    failures: list[str] = []
    answered: dict[str, set[int]] = {}
    for operation in operations:
        for mode in MODES:
            statuses = answered.setdefault(f"{operation.label} [{mode.value}]", set())
            try:
                run_operation(operation, mode, token, archive, statuses)
            except (Exception, BaseExceptionGroup) as exc:  # every operation's failures
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert not failures, "\n\n".join(failures)
    # The ids aimed at real rows: every read found something.
    for operation in operations:
        if operation.method.upper() == "GET" and operation.label not in NEVER_FOUND[persona]:
            assert 200 in answered[f"{operation.label} [positive]"], operation.label


@pytest.mark.parametrize("persona", ["director", "owner"])
def test_every_operation_answers_without_server_errors_and_as_documented(
    persona: str, archive: dict, wsgi_app: Any, request: Any, caplog: Any
) -> None:
    check_every_operation(0, persona, archive, wsgi_app, request, caplog)
