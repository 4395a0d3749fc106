"""Issue 13: the coverage pages and API never name a record the caller may not see, and a
foreign id answers exactly like a missing one."""

import datetime
import re
from collections.abc import Callable
from typing import Any

import pytest

from kam.accounts.models import Account, Contact, TeamRole
from kam.core.models import User
from kam.coverage.models import FollowUp, Visit, VisitPlan, VisitReport
from tests.conftest import API, assert_error
from tests.coverage.test_views import _report_data, client_for, post

pytestmark = pytest.mark.django_db

MISSING = 987_654


def _report(account: Account, **changes: Any) -> dict[str, Any]:
    body = {"account": account.pk, "visited_on": "2026-07-15", "purpose": "回访",
            "summary": "正常", "follow_ups": []}  # fmt: skip
    body.update(changes)
    return body


def _without(content: bytes | str, *ids: int) -> str:
    """The response with the ids the caller sent blanked out, to compare two refusals."""
    text = content.decode() if isinstance(content, bytes) else content
    for i in ids:
        text = text.replace(str(i), "#")
    return text


def test_foreign_and_missing_attendees_answer_alike_and_name_no_one(
    api_as: Callable, visit: Visit, owner: User, contact_a: Contact, contact_b: Contact,
    today: datetime.date,
) -> None:  # fmt: skip
    client = api_as(owner)
    account = visit.account
    mixed = client.post("/coverage/reports",
                        _report(account, contacts=[contact_a.pk, contact_b.pk, MISSING]))  # fmt: skip
    body = assert_error(mixed, 422, "contacts")
    assert contact_b.name not in mixed.content.decode()
    assert f"{contact_b.pk}, {MISSING}" in body["errors"][0]["message"]
    # Whole numbers: MISSING (987654) contains other ids as digits (76, 65...).
    assert str(contact_a.pk) not in re.findall(r"\d+", body["errors"][0]["message"])

    foreign = client.post("/coverage/reports", _report(account, contacts=[contact_b.pk]))
    missing = client.post("/coverage/reports", _report(account, contacts=[MISSING]))
    assert foreign.status_code == missing.status_code == 422
    assert _without(foreign.content, contact_b.pk) == _without(missing.content, MISSING)
    assert not VisitReport.objects.exists()


def test_a_contact_of_an_account_seen_but_not_reported_on_is_refused_alike(
    api_as: Callable, director: User, account_a: Account, contact_b: Contact, today: datetime.date
) -> None:
    # The director sees account B's contact; still, it is no attendee of a visit to A.
    response = api_as(director).post("/coverage/reports", _report(account_a,
                                                                   contacts=[contact_b.pk]))  # fmt: skip
    body = assert_error(response, 422, "contacts")
    assert contact_b.name not in response.content.decode()
    assert str(contact_b.pk) in body["errors"][0]["message"]


def test_unknown_staff_and_follow_up_owners_are_refused_by_id(
    api_as: Callable, visit: Visit, owner: User, today: datetime.date
) -> None:
    client = api_as(owner)
    account = visit.account
    body = assert_error(client.post("/coverage/reports", _report(account, staff=[MISSING])),
                        422, "staff")  # fmt: skip
    assert str(MISSING) in body["errors"][0]["message"]
    follow = [{"title": "报价", "owner": MISSING, "due_date": "2026-07-20"}]
    body = assert_error(client.post("/coverage/reports", _report(account, follow_ups=follow)),
                        422, "follow_ups")  # fmt: skip
    assert "unknown owner" in body["errors"][0]["message"]
    assert not VisitReport.objects.exists()


def test_an_unknown_follow_up_owner_is_invalid_input_not_forbidden(
    api_as: Callable, follow_up: FollowUp, department: User
) -> None:
    response = api_as(department).patch(f"/coverage/follow-ups/{follow_up.pk}", {"owner": MISSING})
    assert_error(response, 422, "owner")
    follow_up.refresh_from_db()
    assert follow_up.owner_id != MISSING


def test_foreign_and_missing_attendees_on_the_page(
    visit: Visit, owner: User, contact_a: Contact, contact_b: Contact, today: datetime.date
) -> None:
    client = client_for(owner)
    url = f"/coverage/reports/new/?visit={visit.pk}"
    page = client.get(url).content.decode()
    assert contact_a.name in page and contact_b.name not in page
    foreign = post(client, url, _report_data(today, contacts=[str(contact_b.pk)]))
    missing = post(client, url, _report_data(today, contacts=[str(MISSING)]))
    assert foreign.status_code == missing.status_code == 200
    text = foreign.content.decode()
    assert "Attendees must be contacts of this account" in text
    assert contact_b.name not in text and str(contact_b.pk) in text
    assert _without(_contacts_error(text), contact_b.pk) == _without(
        _contacts_error(missing.content.decode()), MISSING
    )
    assert not VisitReport.objects.exists()
    ok = post(client, url, _report_data(today, contacts=[str(contact_a.pk)]))
    assert ok.status_code == 302
    assert list(VisitReport.objects.get().contacts.all()) == [contact_a]


def _contacts_error(page: str) -> str:
    match = re.search(r'id="contacts-error">(.*?)</div>', page)
    assert match, "no error under the attendees"
    return match.group(1)


@pytest.fixture
def plan_with_foreign_unserved(director: User, owner: User, account_a: Account,
                               account_b: Account) -> Any:  # fmt: skip
    """A plan in which accounts A and B are placed for their owners, while the owner's
    co-owned account and an account nobody is on go unserved (nobody covers them)."""
    from kam.coverage import services  # noqa: PLC0415
    from tests.factories import AccountFactory, TeamMembershipFactory  # noqa: PLC0415

    shared = AccountFactory(name="协办客户有限公司", tier=1)
    TeamMembershipFactory(account=shared, user=owner, role=TeamRole.CO_OWNER)
    unseen = AccountFactory(name="无人覆盖的秘密客户有限公司", tier=1)
    plan = services.plan_generate(by=director, start=datetime.date(2026, 7, 6), weeks=4)
    assert {u["account"] for u in plan.unserved} == {shared.pk, unseen.pk}
    assert Visit.objects.filter(plan=plan, account=account_b).exists()
    return shared, unseen


def test_the_plan_page_shows_a_manager_only_their_accounts(
    plan_with_foreign_unserved: tuple[Account, Account], owner: User, director: User, account_a: Account,
    account_b: Account,
) -> None:  # fmt: skip
    shared, unseen = plan_with_foreign_unserved
    page = client_for(owner).get("/coverage/plan/").content.decode()
    assert shared.name in page
    assert unseen.name not in page and account_b.name not in page
    assert "客户经理陈" not in page  # the colleague's planned visits are not counted for them
    plan = VisitPlan.objects.get()
    unserved = sum(1 for u in plan.unserved if u["account"] == shared.pk)
    placed = Visit.objects.filter(plan=plan, account=account_a).count()
    assert f'id="plan-unserved">{unserved}<' in page
    assert f'id="plan-placed">{placed}<' in page
    assert f'id="plan-due">{placed + unserved}<' in page
    csv = b"".join(client_for(owner).get("/coverage/plan/unserved.csv").streaming_content)
    assert shared.name in csv.decode() and unseen.name not in csv.decode()
    # The director still sees the whole plan.
    page = client_for(director).get("/coverage/plan/").content.decode()
    assert unseen.name in page and "客户经理陈" in page


def test_the_plan_api_counts_only_visible_accounts(
    plan_with_foreign_unserved: tuple[Account, Account],
    api_as: Callable,
    owner: User,
    account_a: Account,
) -> None:
    shared, _unseen = plan_with_foreign_unserved
    body = api_as(owner).get("/coverage/plans/latest").json()
    assert {u["account"] for u in body["unserved"]} == {shared.pk}
    placed = Visit.objects.filter(account=account_a).count()
    assert body["placed"] == placed and body["due"] == placed + len(body["unserved"])


def test_a_follow_up_is_not_patched_from_a_non_object_body(
    api_as: Callable, follow_up: FollowUp, department: User
) -> None:
    client = api_as(department)
    url = f"{API}/coverage/follow-ups/{follow_up.pk}"
    for body in ("[1, 2]", '"done"', "null"):
        response = client.client.patch(url, body, content_type="application/json",
                                       headers=client._headers(None))  # fmt: skip
        assert_error(response, 422, "body")
    assert_error(client.patch(f"/coverage/follow-ups/{follow_up.pk}", {"stauts": "done"}),
                 422, "stauts")  # fmt: skip
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.OPEN
