"""The archive's pages, through the test client with CSRF enforced, for each persona."""

from io import BytesIO

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from kam.accounts.models import Account, Contact, TeamRole
from kam.core.models import AccessLog
from tests.conftest import CSRF_SECRET
from tests.factories import AccountFactory, ContactFactory, TeamMembershipFactory


def page_client(user, *, lang="en"):
    client = Client(enforce_csrf_checks=True, headers={"Accept-Language": lang})
    if user is not None:
        client.force_login(user)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def post(client, path, data):
    return client.post(path, {**data, "csrfmiddlewaretoken": CSRF_SECRET})


def account_form_data(account, **changes):
    data = {
        "name": account.name, "name_en": account.name_en, "credit_code": account.credit_code or "",
        "industry": account.industry_id or "", "province_code": account.province_code,
        "city_code": account.city_code, "profit_status": account.profit_status,
        "stage": account.stage, "status": account.status, "tier": account.tier or "",
        "categories": account.categories, "version": account.version,
    }  # fmt: skip
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- who sees which page -------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["director", "department", "owner", "service_rep", "analyst"])
def test_people_with_access_see_the_account_page(request, persona, account_a):
    user = request.getfixturevalue(persona)
    response = page_client(user).get(f"/accounts/{account_a.pk}/")
    assert response.status_code == 200
    assert account_a.name in response.content.decode()


@pytest.mark.parametrize("persona", ["colleague", "outsider", "admin"])
def test_others_get_404_for_the_account_page_and_its_subpages(
    request, persona, account_a, contact_a
):
    client = page_client(request.getfixturevalue(persona))
    for path in (
        f"/accounts/{account_a.pk}/", f"/accounts/{account_a.pk}/edit/",
        f"/accounts/{account_a.pk}/delete/", f"/contacts/{contact_a.pk}/",
        f"/contacts/{contact_a.pk}/edit/", f"/accounts/{account_a.pk}/contacts/new/",
    ):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 404, path
        assert account_a.name not in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_login_page(db, account_a):
    response = page_client(None).get(f"/accounts/{account_a.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_analyst_sees_figures_but_no_contacts(analyst, account_a, contact_a):
    body = page_client(analyst).get(f"/accounts/{account_a.pk}/").content.decode()
    assert contact_a.name not in body
    assert page_client(analyst).get(f"/contacts/{contact_a.pk}/").status_code == 404


def test_the_list_shows_only_the_managers_accounts(owner, account_a, account_b):
    body = page_client(owner).get("/accounts/").content.decode()
    assert account_a.name in body
    assert account_b.name not in body


def test_the_home_page_counts_the_teams_the_user_is_on(owner, account_a, account_b):
    body = page_client(owner).get("/").content.decode()
    assert "1 account on my teams" in body
    assert account_b.name not in body


# --- search, filters and sort ----------------------------------------------------------------


def test_search_by_pinyin_initials_and_billing_code(director, account_a, account_b):
    client = page_client(director)
    by_pinyin = client.get("/accounts/", {"q": "fjmd"}).content.decode()
    assert account_a.name in by_pinyin and account_b.name not in by_pinyin
    by_code = client.get("/accounts/", {"q": "yj0591001"}).content.decode()
    assert account_a.name in by_code and account_b.name not in by_code


def test_htmx_requests_get_only_the_table(director, account_a):
    response = page_client(director).get(
        "/accounts/", {"tier": "1"}, headers={"HX-Request": "true", "HX-Target": "account-table"}
    )
    body = response.content.decode()
    assert account_a.name in body
    assert "<html" not in body


def test_unknown_filter_values_are_reported_not_ignored(director, account_a):
    body = (
        page_client(director)
        .get("/accounts/", {"tier": "9", "province": "999999"})
        .content.decode()
    )
    assert "Some filters are not valid" in body
    assert account_a.name not in body


def test_sorting_by_tier_descending(director, account_a, account_b):
    body = page_client(director).get("/accounts/", {"sort": "-tier"}).content.decode()
    assert body.index(account_b.name) < body.index(account_a.name)


def test_the_list_page_costs_the_same_queries_for_5_or_30_accounts(director, owner):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert page_client(director).get("/accounts/").status_code == 200
        return len(queries)

    for _ in range(5):
        TeamMembershipFactory(account=AccountFactory(), user=owner, role=TeamRole.OWNER)
    few = count()
    for _ in range(25):
        TeamMembershipFactory(account=AccountFactory(), user=owner, role=TeamRole.OWNER)
    assert count() == few


# --- export ------------------------------------------------------------------------------------


def test_the_excel_export_holds_the_filtered_visible_accounts(owner, account_a, account_b):
    response = page_client(owner).get("/accounts/export.xlsx", {"tier": ["1", "2"]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    names = [row[1] for row in rows[1:]]
    assert names == [account_a.name]  # B is not on the owner's team
    assert rows[1][3] == account_a.credit_code


# --- editing -----------------------------------------------------------------------------------


def test_the_owner_edits_the_account_and_history_records_it(owner, account_a):
    client = page_client(owner)
    response = post(client, f"/accounts/{account_a.pk}/edit/", account_form_data(account_a, tier=2))
    assert response.status_code == 302
    account_a.refresh_from_db()
    assert account_a.tier == 2
    assert account_a.history.first().history_user == owner
    body = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert "Tier 1" in body and "Tier 2" in body  # old -> new in the change history


def test_an_invalid_credit_code_is_refused_with_a_message_and_nothing_changes(owner, account_a):
    before = Account.objects.values().get(pk=account_a.pk)
    response = post(
        page_client(owner), f"/accounts/{account_a.pk}/edit/",
        account_form_data(account_a, credit_code="91350100M000100Y44", name="改名"),
    )  # fmt: skip
    assert response.status_code == 200
    assert "The check character (the 18th) does not match" in response.content.decode()
    assert Account.objects.values().get(pk=account_a.pk) == before


def test_the_error_message_comes_in_chinese_by_default(owner, account_a):
    response = post(
        page_client(owner, lang="zh-hans"), f"/accounts/{account_a.pk}/edit/",
        account_form_data(account_a, credit_code="91350100M000100Y44"),
    )  # fmt: skip
    body = response.content.decode()
    assert "The check character (the 18th) does not match" not in body
    assert "校验" in body


def test_a_stale_form_is_refused_and_the_newer_change_survives(owner, director, account_a):
    stale = account_form_data(account_a, name_en="Stale Name")
    post(
        page_client(director),
        f"/accounts/{account_a.pk}/edit/",
        account_form_data(account_a, name_en="Newer"),
    )
    response = post(page_client(owner), f"/accounts/{account_a.pk}/edit/", stale)
    assert response.status_code == 200
    assert "Someone else changed this record" in response.content.decode()
    account_a.refresh_from_db()
    assert account_a.name_en == "Newer"


def test_a_city_outside_the_province_is_refused(owner, account_a):
    response = post(
        page_client(owner), f"/accounts/{account_a.pk}/edit/",
        account_form_data(account_a, province_code="350000", city_code="440100"),
    )  # fmt: skip
    assert "This city is not in the chosen province." in response.content.decode()
    account_a.refresh_from_db()
    assert account_a.city_code == "350100"


def test_the_service_rep_cannot_edit(service_rep, account_a):
    response = post(
        page_client(service_rep),
        f"/accounts/{account_a.pk}/edit/",
        account_form_data(account_a, tier=5),
    )
    assert response.status_code == 403
    account_a.refresh_from_db()
    assert account_a.tier == 1


def test_only_a_director_deletes_and_only_after_confirming(director, owner, account_a):
    assert post(page_client(owner), f"/accounts/{account_a.pk}/delete/", {}).status_code == 403
    confirm = page_client(director).get(f"/accounts/{account_a.pk}/delete/")
    assert confirm.status_code == 200 and Account.objects.filter(pk=account_a.pk).exists()
    assert post(page_client(director), f"/accounts/{account_a.pk}/delete/", {}).status_code == 302
    assert not Account.objects.filter(pk=account_a.pk).exists()


def test_deleting_an_account_other_apps_keep_records_of_says_why_on_its_page(
    director, owner, account_a
):
    from kam.service import services as service

    service.case_open(by=owner, account=account_a, kind="inquiry", channel="phone",
                      severity="low", subject="运费查询")  # fmt: skip
    client = page_client(director)
    response = post(client, f"/accounts/{account_a.pk}/delete/", {})
    assert response.status_code == 302 and response.url == f"/accounts/{account_a.pk}/"
    page = client.get(response.url)
    assert "service cases" in page.content.decode()
    assert Account.objects.filter(pk=account_a.pk).exists()


def test_posting_without_the_csrf_token_is_refused(owner, account_a):
    client = page_client(owner)
    response = client.post(f"/accounts/{account_a.pk}/edit/", account_form_data(account_a, tier=5))
    assert response.status_code == 403
    account_a.refresh_from_db()
    assert account_a.tier == 1


# --- contacts and personal data ----------------------------------------------------------------


def test_the_contact_page_shows_personal_data_to_the_owner_and_logs_it(owner, contact_a):
    body = page_client(owner).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert contact_a.phone_mobile in body and contact_a.hobbies in body
    log = AccessLog.objects.get(subject_id=contact_a.pk, action="view")
    assert log.user == owner and log.channel == "web"
    assert {"phone_mobile", "hobbies", "birthday"} <= set(log.fields)


def test_the_contact_page_has_no_duplicate_element_ids(owner, contact_a):
    import re
    from collections import Counter

    body = page_client(owner).get(f"/contacts/{contact_a.pk}/").content.decode()
    ids = Counter(re.findall(r'\bid="([^"]+)"', body))
    assert "tie_note" in ids and "staff_tie_note" in ids  # both tie forms are on the page
    assert [i for i, n in ids.items() if n > 1] == []


def test_the_service_rep_sees_contact_details_but_not_personal_information(service_rep, contact_a):
    body = page_client(service_rep).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert contact_a.phone_mobile in body
    assert contact_a.hobbies not in body
    assert "Withheld for your role" in body
    log = AccessLog.objects.get(subject_id=contact_a.pk)
    assert "hobbies" not in log.fields and "phone_mobile" in log.fields


def test_department_staff_off_the_team_see_no_protected_fields_and_leave_no_log(
    department, contact_a
):
    body = page_client(department).get(f"/contacts/{contact_a.pk}/").content.decode()
    assert contact_a.name in body
    assert contact_a.phone_mobile not in body and contact_a.hobbies not in body
    assert not AccessLog.objects.exists()


def test_adding_a_contact_that_reports_to_itself_is_impossible(owner, account_a, contact_a):
    response = post(
        page_client(owner), f"/contacts/{contact_a.pk}/edit/",
        {"name": contact_a.name, "reports_to": contact_a.pk, "buying_role": "other",
         "attitude": "neutral", "influence": "medium", "closeness": 3, "trust": 3, "favour": 3,
         "version": contact_a.version},
    )  # fmt: skip
    assert response.status_code == 200
    contact_a.refresh_from_db()
    assert contact_a.reports_to_id is None


def test_erasing_a_contact_needs_confirmation_and_is_logged(owner, contact_a):
    client = page_client(owner)
    assert client.get(f"/contacts/{contact_a.pk}/erase/").status_code == 200
    assert Contact.objects.get(pk=contact_a.pk).erased_at is None
    assert post(client, f"/contacts/{contact_a.pk}/erase/", {}).status_code == 302
    erased = Contact.objects.get(pk=contact_a.pk)
    assert erased.erased_at is not None and erased.hobbies == "" and erased.phone_mobile == ""
    assert AccessLog.objects.filter(subject_id=contact_a.pk, action="erase").exists()


def test_a_tie_to_a_contact_the_user_cannot_see_is_refused(owner, contact_a, contact_b):
    response = post(page_client(owner), f"/contacts/{contact_a.pk}/ties/",
                    {"to_contact": contact_b.pk, "kind": "friend"})  # fmt: skip
    assert response.status_code == 302
    assert not contact_a.ties_out.exists()


def test_a_tie_is_added_from_the_contact_page(owner, account_a, contact_a):
    other = ContactFactory(account=account_a, name="王芳")
    post(
        page_client(owner),
        f"/contacts/{contact_a.pk}/ties/",
        {"to_contact": other.pk, "kind": "colleague"},
    )
    assert contact_a.ties_out.get().to_contact == other


# --- the access log ------------------------------------------------------------------------------


def test_only_directors_read_the_access_log(director, department, owner, contact_a):
    page_client(owner).get(f"/contacts/{contact_a.pk}/")
    assert page_client(department).get("/access-log/").status_code == 404
    body = page_client(director).get("/access-log/", {"whose": contact_a.name}).content.decode()
    assert contact_a.name in body and "owner" in body


def test_the_access_log_rejects_a_reversed_date_range(director):
    body = (
        page_client(director)
        .get("/access-log/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
        .content.decode()
    )
    assert "The end date is before the start date." in body
