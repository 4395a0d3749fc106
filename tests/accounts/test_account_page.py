"""The account page's cheaper parts show what they showed before: the team form's people as
plain options, and the panels rendered with the request's template variables computed once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.accounts import selectors
from kam.core.models import Role
from tests.accounts.test_query_counts import grow_people
from tests.accounts.test_views import page_client
from tests.factories import UserFactory


def test_the_team_form_offers_the_active_people_off_the_team_escaped(
    director, owner, colleague, account_a
):
    UserFactory(username="gone", display_name="离职人员", role=Role.MANAGER, is_active=False)
    UserFactory(username="admin2", display_name="管理员乙", role=Role.ADMIN)
    odd = UserFactory(username="odd", display_name="<b>李</b>", role=Role.MANAGER)
    body = page_client(director).get(f"/accounts/{account_a.pk}/").content.decode()
    select = body[
        body.index('<select name="user"') : body.index(
            "</select>", body.index('<select name="user"')
        )
    ]
    assert '<option value="" selected>Choose a person…</option>' in select
    assert f'<option value="{colleague.pk}">客户经理陈</option>' in select
    assert f'<option value="{odd.pk}">&lt;b&gt;李&lt;/b&gt;</option>' in select
    assert f'value="{owner.pk}"' not in select  # on the team already
    assert "离职人员" not in select and "管理员乙" not in select


def test_the_panels_share_one_count_of_unread_notifications_and_keep_their_csrf_tokens(
    owner, account_a
):
    client = page_client(owner)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(f"/accounts/{account_a.pk}/").content.decode()
    counts = [q["sql"] for q in queries if '"core_notification"' in q["sql"]]
    assert len(counts) == 1, counts
    assert body.count('name="csrfmiddlewaretoken"') >= 2


def test_the_page_decrypts_no_contact_details_it_does_not_show(
    owner, account_a, account_b, monkeypatch
):
    """Contacts' phones, e-mail and personal information are encrypted; the account page
    shows none of them, so it leaves them unread (decrypting them was a tenth of a tier-1
    page's time). Their names, titles and the people graph still show."""
    from kam.core import crypto
    from tests.factories import ContactFactory, ContactTieFactory

    boss = ContactFactory(account=account_a, name="总经理王", phone_mobile="13800000000",
                          hobbies="高尔夫", email="wang@example.com")  # fmt: skip
    ContactTieFactory(
        from_contact=ContactFactory(
            account=account_a, name="采购李", reports_to=boss, wechat="li-wx", family="两个孩子"
        ),  # fmt: skip
        to_contact=ContactFactory(account=account_b, name="外部赵", phone_office="010-1"),
    )
    calls: list[str] = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: calls.append(token) or real(token))
    body = page_client(owner).get(f"/accounts/{account_a.pk}/").content.decode()
    assert "总经理王" in body and "采购李" in body
    assert "13800000000" not in body and "高尔夫" not in body
    assert calls == []


#: The account page's queries on the test database, panels included (issue 14: ten to
#: fourteen more before the panels were handed what the view knew and stopped reading twice).
ACCOUNT_PAGE_QUERIES = {"director": 39, "department": 39, "owner": 39, "service_rep": 36}


@pytest.mark.parametrize("persona", sorted(ACCOUNT_PAGE_QUERIES))
def test_the_account_page_asks_each_question_once(
    persona, account_a, account_b, contact_a, request
):
    """The panels do not ask again whether the user sees the account (the view fetched it
    through the access selectors), nor read the ledger's latest month, the stakeholders or
    the coverage rules twice; and the count does not grow with the account's people."""
    user = request.getfixturevalue(persona)
    client = page_client(user)
    url = f"/accounts/{account_a.pk}/"
    client.get(url)  # sessions, content types and caches are warm
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    sqls = [q["sql"] for q in queries]
    visibility = [s for s in sqls if s.startswith('SELECT 1 AS "a" FROM "accounts_account"')]
    assert visibility == []
    assert sum('MAX("ledger_lakefile"."month")' in s for s in sqls) <= 1
    assert sum(s.startswith('SELECT "planning_coveragerules"') for s in sqls) <= 1
    assert sum('FROM "coverage_visitreport_contacts"' in s for s in sqls) <= 1
    # On PostgreSQL a scoped user's request also sets the wall's role and user
    # (kam.core.rls): at the start, and around the shipments panel's read of the facts.
    wall = [s for s in sqls if s.startswith("SELECT current_setting('role')")]
    assert len(wall) <= 4, wall
    sqls = [s for s in sqls if s not in wall]
    assert len(sqls) <= ACCOUNT_PAGE_QUERIES[persona], sqls
    grow_people(account_a, account_b, [request.getfixturevalue("colleague"), user], 6)
    with CaptureQueriesContext(connection) as grown:
        assert client.get(url).status_code == 200
    assert len(grown) <= len(sqls) + len(wall), [q["sql"] for q in grown]


def test_an_account_fetched_for_one_user_answers_only_for_that_user(owner, colleague, account_a):
    """The panels' shortcut: an account the view fetched for the owner is visible to the
    owner without a query; anyone else is checked against the access selectors."""
    account = selectors.account_get_for(owner, account_a.pk)
    with CaptureQueriesContext(connection) as queries:
        assert selectors.account_visible(owner, account)
    assert len(queries) == 0
    assert not selectors.account_visible(colleague, account)
    assert selectors.account_visible(owner, account_a.pk)
    assert not selectors.account_visible(colleague, account_a.pk)
