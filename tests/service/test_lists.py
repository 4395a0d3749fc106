"""Nothing dropped: "New case" from the queue picks an account among the user's own (paged,
searchable, HTMX or plain), every service list pages and counts, the account panel says
when it shows only some open cases; and the words: a case's deadline is not a visit's
应走访日, the dashboard lists tiers in order."""

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from kam.accounts.models import Account, TeamRole
from kam.core.models import User
from kam.service import selectors, services
from kam.service.models import Campaign, Case, SurveyTemplate
from tests.factories import AccountFactory, TeamMembershipFactory

from .conftest import MONDAY

pytestmark = pytest.mark.django_db


def _client(user: Any, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def _open(by: User, account: Account, subject: str = "查询", **kwargs: Any) -> Case:
    return services.case_open(by=by, account=account, kind="inquiry", channel="phone",
                              severity="medium", subject=subject, now=MONDAY, **kwargs)  # fmt: skip


# --- the account picker ------------------------------------------------------------------


def test_new_case_from_the_queue_offers_only_the_users_accounts(
    owner: User, account_a: Account, account_b: Account
) -> None:
    queue = _client(owner).get("/service/").content.decode()
    assert 'href="/service/cases/new/"' in queue
    page = _client(owner).get("/service/cases/new/").content.decode()
    assert 'id="pick-q"' in page and account_a.name in page
    assert account_b.name not in page  # a colleague's account is not offered
    assert f'href="/service/cases/new/?account={account_a.pk}"' in page
    assert 'id="pick-count">1 account<' in page


def test_the_picker_searches_and_answers_htmx_with_the_results_only(
    owner: User, account_a: Account, account_b: Account
) -> None:
    client = _client(owner)
    found = client.get("/service/cases/new/", {"q": "明达"}).content.decode()
    assert account_a.name in found
    none = client.get("/service/cases/new/", {"q": account_b.name}).content.decode()
    assert account_b.name not in none.replace(f'value="{account_b.name}"', "")
    assert 'id="pick-empty"' in none
    partial = client.get("/service/cases/new/", {"q": "Mingda"},
                         headers={"HX-Request": "true", "HX-Target": "account-results"})  # fmt: skip
    html = partial.content.decode()
    assert account_a.name in html and "<html" not in html and 'id="pick-q"' not in html


def test_an_account_the_user_may_not_see_is_not_named_and_bad_ids_are_survived(
    owner: User, account_a: Account, account_b: Account
) -> None:
    for raw in (str(account_b.pk), "abc", "-1", "99999999999999999999"):
        page = _client(owner).get("/service/cases/new/", {"account": raw})
        html = page.content.decode()
        assert page.status_code == 200 and 'id="pick-unknown"' in html, raw
        assert account_b.name not in html
    for q in ("%", "' OR 1=1 --", "x" * 500):
        assert _client(owner).get("/service/cases/new/", {"q": q}).status_code == 200


def test_the_picker_pages_instead_of_truncating(owner: User, django_assert_max_num_queries) -> None:
    for i in range(45):
        TeamMembershipFactory(account=AccountFactory(name=f"测试客户{i:02d}有限公司"), user=owner,
                              role=TeamRole.OWNER)  # fmt: skip
    client = _client(owner)
    client.get("/service/cases/new/")
    with django_assert_max_num_queries(20) as few:
        first = client.get("/service/cases/new/").content.decode()
    baseline = len(few)
    assert 'id="pick-count">45 accounts<' in first and "Page 1 of 3" in first
    last = client.get("/service/cases/new/", {"page": 3}).content.decode()
    assert last.count('class="list-group-item') == 5
    for i in range(45, 90):
        TeamMembershipFactory(account=AccountFactory(name=f"测试客户{i:02d}有限公司"), user=owner,
                              role=TeamRole.OWNER)  # fmt: skip
    with django_assert_max_num_queries(baseline):
        client.get("/service/cases/new/")


def test_a_service_rep_opens_a_case_from_the_queue_for_their_account(
    service_rep: User, account_a: Account, owner: User, policy
) -> None:
    client = _client(service_rep)
    assert account_a.name in client.get("/service/cases/new/").content.decode()
    done = client.post("/service/cases/new/", {
        "account": account_a.pk, "kind": "request", "channel": "wechat", "severity": "medium",
        "subject": "改派送时间"})  # fmt: skip
    assert done.status_code == 302
    assert selectors.queue_for(service_rep).get().subject == "改派送时间"


# --- counts and pages --------------------------------------------------------------------


def test_the_queue_counts_and_pages_every_case(department, owner, account_a, policy) -> None:
    for i in range(33):
        _open(owner, account_a, f"查询 {i}")
    client = _client(department)
    first = client.get("/service/", {"scope": "all"}).content.decode()
    assert 'id="queue-count">33 cases<' in first and "Page 1 of 2" in first
    second = client.get("/service/", {"scope": "all", "page": 2}).content.decode()
    assert second.count("data-case=") == 3
    rows = client.get("/service/", {"scope": "all", "sort": "-opened"}).content.decode()
    assert rows.count("data-case=") == 30


def test_the_queue_filters_by_account_within_what_the_user_sees(
    department, owner, colleague, account_a, account_b, policy
) -> None:
    mine = _open(owner, account_a)
    theirs = _open(colleague, account_b, assignee=colleague)
    html = (
        _client(department)
        .get("/service/", {"scope": "all", "account": account_a.pk})
        .content.decode()
    )
    assert f'data-case="{mine.pk}"' in html and f'data-case="{theirs.pk}"' not in html
    own = (
        _client(owner).get("/service/", {"scope": "all", "account": account_b.pk}).content.decode()
    )
    assert 'id="queue-count">0 cases<' not in own or f'data-case="{theirs.pk}"' not in own
    assert f'data-case="{theirs.pk}"' not in own
    bad = _client(owner).get("/service/", {"scope": "all", "account": "x"})
    assert bad.status_code == 200


def test_the_account_panel_says_how_many_open_cases_it_leaves_out(
    director, owner, account_a, policy
) -> None:
    for i in range(12):
        _open(owner, account_a, f"查询 {i}")
    html = _client(director).get(f"/accounts/{account_a.pk}/").content.decode()
    assert 'id="panel-more"' in html and "10 of 12 open cases shown" in html
    assert f"/service/?scope=all&amp;account={account_a.pk}" in html


def test_the_campaign_list_pages_and_counts(department) -> None:
    template = SurveyTemplate.objects.create(name_zh="满意度", name_en="Satisfaction")
    import datetime

    from django.utils import timezone

    expires = timezone.now() + datetime.timedelta(days=3)
    Campaign.objects.bulk_create(
        Campaign(name=f"调查 {i:02d}", template=template, expires_at=expires) for i in range(31)
    )
    html = _client(department).get("/service/surveys/").content.decode()
    assert 'id="campaign-count">31 campaigns<' in html and "Page 1 of 2" in html


# --- words ---------------------------------------------------------------------------------


def test_a_case_deadline_is_not_a_visits_due_date(complaint, owner) -> None:
    html = _client(owner, "zh-hans").get(f"/service/cases/{complaint.pk}/").content.decode()
    assert "应走访日" not in html and "截止 2026-03-02 11:00" in html
    with translation.override("zh-hans"):
        assert translation.pgettext("visit", "due") == "应走访日"
        assert translation.pgettext("SLA deadline", "due") == "截止"
        assert translation.pgettext("follow-up", "due") == "截止"


def test_the_dashboard_lists_tiers_in_order(director, owner, policy) -> None:
    for tier, n in ((1, 1), (3, 3), (2, 2), (None, 1)):
        account = AccountFactory(tier=tier)
        TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
        for _ in range(n):
            _open(owner, account)
    html = _client(director).get("/service/dashboard/", {"days": 3650}).content.decode()
    table = html[html.index('id="by-tier"') :]
    table = table[: table.index("</table>")]
    labels = re.findall(r"<td>(Tier \d|\d|—)</td>", table)
    assert labels == ["1", "2", "3", "—"] or labels == ["Tier 1", "Tier 2", "Tier 3", "—"], labels
