"""The second wall: PostgreSQL row-level security (kam.core.rls).

Every test runs on both databases and says what each should do: on PostgreSQL a query
that forgets the access rule still reads only the user's accounts; on SQLite there is no
wall (the application rule stands alone) and the middleware changes nothing.

A throwaway URLconf at the bottom holds views that "forget the selector" on purpose.
"""

import datetime
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import ResolverMatch, include, path
from django_tasks import task

from kam.accounts.models import Account, BillingCode, Contact, ContactTie, StaffTie
from kam.accounts.selectors import account_list_for
from kam.accounts.services import team_member_remove
from kam.core import rls
from kam.core.api import BearerTokenAuth
from kam.core.models import Role, User
from kam.core.services import token_create
from kam.coverage.models import Finding, Visit, VisitReport
from kam.ledger.models import AccountMonth
from tests.factories import (
    ContactFactory,
    ContactTieFactory,
    StaffTieFactory,
    TeamMembershipFactory,
    UserFactory,
)

POSTGRES = connection.vendor == "postgresql"


# --- data: one row of each kind of path on account A (the owner's) and account B ----------


def _month(code: str) -> AccountMonth:
    zero = Decimal(0)
    return AccountMonth.objects.create(
        billing_code=code, month=datetime.date(2025, 1, 1), waybills=10, pieces=10,
        weight_kg=Decimal("12.5"), revenue=Decimal("100.00"), cost=zero, margin=zero,
        cod_amount=zero, returns=0, lost=0, damaged=0, on_time=9, lanes=1,
        destination_cities=1, active_days=5,
    )  # fmt: skip


def _visit_with_report(account: Account, person: User, contact: Contact) -> Finding:
    visit = Visit.objects.create(account=account, person=person, day=datetime.date(2025, 3, 4))
    report = VisitReport.objects.create(
        visit=visit, purpose="季度回顾", summary="一切正常", submitted_by=person
    )
    report.contacts.add(contact)
    return Finding.objects.create(report=report, kind="need", severity=2, text="需要冷链")


@pytest.fixture
def world(owner, colleague, account_a, account_b, contact_a, contact_b) -> dict[str, Any]:
    """Account A (owner, service_rep on its team) and B (colleague), each with a contact,
    a billing code and its month of facts, a visit with its report, attendee and finding;
    a tie inside each account, and one across them (A's contact knows B's)."""
    BillingCode.objects.get_or_create(account=account_b, code="GZ0200001")
    _month("YJ0591001")
    _month("GZ0200001")
    _visit_with_report(account_a, owner, contact_a)
    _visit_with_report(account_b, colleague, contact_b)
    ContactTieFactory(from_contact=contact_a, to_contact=ContactFactory(account=account_a))
    ContactTieFactory(from_contact=contact_b, to_contact=ContactFactory(account=account_b))
    across = ContactTieFactory(from_contact=contact_a, to_contact=contact_b)
    StaffTieFactory(contact=contact_b, user=owner)  # the owner knows B's contact personally
    return {"a": account_a, "b": account_b, "across": across}


def _counts() -> dict[str, int]:
    """Unscoped reads of every kind of path, through the ORM and raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_contact")
        raw_contacts = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM coverage_visitreport_contacts")
        raw_attendees = cursor.fetchone()[0]
    return {
        "accounts": Account.objects.count(),
        "contacts": Contact.objects.count(),
        "raw contacts": raw_contacts,
        "contact history": Contact.history.count(),
        "account history": Account.history.count(),
        "billing codes": BillingCode.objects.count(),
        "facts": AccountMonth.objects.count(),
        "visits": Visit.objects.count(),
        "reports": VisitReport.objects.count(),
        "findings": Finding.objects.count(),
        "raw attendees": raw_attendees,
        "ties": ContactTie.objects.count(),
        "staff ties": StaffTie.objects.count(),
    }


#: What account A alone holds (the across tie starts at A's contact, so A's team sees it).
A_ONLY = {
    "accounts": 1, "contacts": 2, "raw contacts": 2, "contact history": 2,
    "account history": 1, "billing codes": 1, "facts": 1, "visits": 1, "reports": 1,
    "findings": 1, "raw attendees": 1, "ties": 2, "staff ties": 0,
}  # fmt: skip
EVERYTHING = {
    "accounts": 2, "contacts": 4, "raw contacts": 4, "contact history": 4,
    "account history": 2, "billing codes": 2, "facts": 2, "visits": 2, "reports": 2,
    "findings": 2, "raw attendees": 2, "ties": 3, "staff ties": 1,
}  # fmt: skip
NOTHING = dict.fromkeys(EVERYTHING, 0)


# --- the wall, under a user's scope ---------------------------------------------------------


def test_a_manager_reads_only_their_teams_rows_whatever_the_query(world, owner):
    assert _counts() == EVERYTHING  # the login role (tests, commands, jobs): everything
    with rls.scoped(owner):
        seen = _counts()
        names = set(Contact.objects.values_list("name", flat=True))
    if POSTGRES:
        assert seen == A_ONLY
        assert "黄丽" not in names  # account B's contact
    else:
        assert seen == EVERYTHING  # SQLite: no wall; only the selectors keep B out
    assert _counts() == EVERYTHING  # and the scope ends with its block


def test_the_service_rep_on_the_team_sees_the_same_accounts(world, service_rep):
    with rls.scoped(service_rep):
        seen = _counts()
    assert seen == (A_ONLY if POSTGRES else EVERYTHING)


def test_a_manager_on_no_team_reads_nothing(world, outsider):
    with rls.scoped(outsider):
        assert _counts() == (NOTHING if POSTGRES else EVERYTHING)


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.DEPARTMENT, Role.ANALYST])
def test_roles_that_see_every_account_read_everything(world, role):
    with rls.scoped(UserFactory(role=role)):
        assert _counts() == EVERYTHING


def test_administrators_and_anonymous_requests_read_nothing(world, admin):
    for user in (admin, None, UserFactory(role=Role.DIRECTOR, is_active=False)):
        with rls.scoped(user):
            assert _counts() == (NOTHING if POSTGRES else EVERYTHING)


@pytest.mark.parametrize("role", list(Role))
def test_the_wall_lets_through_exactly_what_the_selector_does(world, role):
    user = UserFactory(role=role)
    TeamMembershipFactory(account=world["a"], user=user)
    expected = set(account_list_for(user).values_list("pk", flat=True))
    with rls.scoped(user):
        walled = set(Account.objects.values_list("pk", flat=True))
    if POSTGRES:
        assert walled == expected
    else:
        assert walled == {world["a"].pk, world["b"].pk}


def test_writes_into_a_foreign_account_are_refused(world, owner, contact_a, contact_b):
    b = world["b"]
    with rls.scoped(owner):
        # Someone else's rows cannot be changed or deleted: to this user they do not exist.
        assert Contact.objects.filter(pk=contact_b.pk).update(name="改掉") == (0 if POSTGRES else 1)
        Visit.objects.filter(account=b).delete()
        if POSTGRES:
            # Nor can a row be put into a foreign account, or moved there.
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                Contact.objects.create(account=b, name="冒名顶替")
            with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                Contact.objects.filter(pk=contact_a.pk).update(account=b)
        # The user's own rows are theirs to change.
        assert Contact.objects.filter(pk=contact_a.pk).update(title="总经理") == 1
    assert not Contact.objects.filter(name="冒名顶替").exists()
    assert Contact.objects.get(pk=contact_a.pk).account_id == world["a"].pk
    assert Visit.objects.filter(account=b).exists() is POSTGRES


def test_unset_or_odd_settings_read_nothing(world):
    if not POSTGRES:
        assert not rls.enabled()
        return
    for user_id in [None, "", "987654321"]:  # never set, empty, a user on no team
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT set_config('role', %s, true)", [rls.role_name()])
            if user_id is not None:
                cursor.execute("SELECT set_config('kam.user_id', %s, true)", [user_id])
            assert _counts() == NOTHING, user_id
            transaction.set_rollback(True)


def test_an_owner_may_take_themselves_off_the_team(account_a, owner, session_client):
    # The history row of the removal is written after the user lost sight of the account.
    membership = account_a.team.get(user=owner)
    client = session_client(owner)
    assert client.delete(f"/accounts/{account_a.pk}/team/{membership.pk}").status_code == 204
    assert not account_a.team.filter(user=owner).exists()
    assert account_a.team.model.history.filter(id=membership.pk, history_type="-").exists()
    assert client.get(f"/accounts/{account_a.pk}").status_code == 404


# --- the team's ids, read with the settings --------------------------------------------------


def test_a_scoped_request_names_its_team_accounts_by_key(world, owner, colleague):
    assert rls.team_account_ids(owner) is None  # outside a scope: never
    with rls.scoped(owner):
        keys = rls.team_account_ids(owner)
        ids = keys.ids if keys is not None else None
        assert rls.team_account_ids(colleague) is None  # another user's scope: never
        with rls.bypass():
            assert rls.team_account_ids(owner) is None
        mine = account_list_for(owner)
        sql = str(mine.query)
        assert set(mine.values_list("pk", flat=True)) == {world["a"].pk}
    if POSTGRES:
        assert ids == [world["a"].pk]
        assert "ANY" in sql and "accounts_teammembership" not in sql
    else:  # SQLite: no scope, so the team join
        assert ids is None
        assert "accounts_teammembership" in sql


def test_a_team_change_inside_the_scope_drops_the_ids(world, owner):
    with rls.scoped(owner):
        with rls.bypass():  # as an administrator would: B's team is not the owner's to join
            joined = TeamMembershipFactory(account=world["b"], user=owner)
        # Leaving the bypass writes the settings again, and reads the team again.
        both = {world["a"].pk, world["b"].pk}
        assert set(account_list_for(owner).values_list("pk", flat=True)) == both
        if POSTGRES:
            keys = rls.team_account_ids(owner)
            assert keys is not None and set(keys.ids) == both
        # The owner leaves A's team (the service writes its history past the policies).
        team_member_remove(by=owner, membership=world["a"].team.get(user=owner))
        assert set(account_list_for(owner).values_list("pk", flat=True)) == {world["b"].pk}
        # A membership saved in the scope: the ids read with the settings may be stale.
        joined.save()
        assert rls.team_account_ids(owner) is None  # back to the team join
        assert set(account_list_for(owner).values_list("pk", flat=True)) == {world["b"].pk}


def test_the_key_lookup_matches_the_listed_keys_only(world):
    a, b = world["a"], world["b"]
    assert list(Account.objects.filter(pk__kam_any=[a.pk])) == [a]
    assert set(Account.objects.filter(pk__kam_any=[a.pk, b.pk, 0])) == {a, b}
    assert not Account.objects.filter(pk__kam_any=[]).exists()
    # Through a foreign key, and a path of two.
    assert set(
        Contact.objects.filter(account__kam_any=[b.pk]).values_list("account_id", flat=True)
    ) == {b.pk}
    assert set(Finding.objects.filter(report__visit__account__kam_any=[a.pk]).values_list(
        "report__visit__account_id", flat=True)) == {a.pk}  # fmt: skip


# --- the bypass -----------------------------------------------------------------------------


@task()
def count_contacts() -> int:
    """A job: jobs read across accounts (segmentation, SLA clocks, imports)."""
    return Contact.objects.count()


def test_a_job_run_inside_a_request_runs_under_the_bypass(world, owner):
    # The tests' immediate backend runs a job inside the enqueuing request.
    with rls.scoped(owner):
        assert count_contacts.enqueue().return_value == 4
        assert Contact.objects.count() == (2 if POSTGRES else 4)  # scoped again afterwards


def test_the_bypass_is_explicit_and_ends_with_its_block(world, owner):
    with rls.scoped(owner):
        with rls.bypass():
            assert _counts() == EVERYTHING
        assert _counts() == (A_ONLY if POSTGRES else EVERYTHING)
    with rls.bypass():  # outside a scope: nothing to lift
        assert _counts() == EVERYTHING


def test_a_failing_bypass_block_leaves_the_scope_in_force(world, owner):
    with rls.scoped(owner):
        with pytest.raises(ValueError), rls.bypass():
            raise ValueError
        assert _counts() == (A_ONLY if POSTGRES else EVERYTHING)


def test_a_bearer_token_narrows_an_anonymous_request_to_its_user(world, owner):
    _, plain = token_create(user=owner, name="rls")
    request = RequestFactory().get("/api/v1/me")
    with rls.scoped(None):  # the middleware knew no user yet
        assert Contact.objects.count() == (0 if POSTGRES else 4)
        assert BearerTokenAuth().authenticate(request, plain) == owner
        assert Contact.objects.count() == (2 if POSTGRES else 4)


def test_the_admin_site_runs_under_the_bypass_for_verified_staff_only(world, admin, owner):
    middleware = rls.RowLevelSecurityMiddleware(lambda request: HttpResponse())

    def view_as(user: User, namespace: str, *, verified: bool = True) -> int:
        request = RequestFactory().get("/admin/")
        request.session = {}
        request.user = user
        user.is_verified = lambda: verified  # what django-otp's middleware adds
        request.resolver_match = ResolverMatch(lambda r: None, (), {}, namespaces=[namespace])
        with rls.scoped(user):
            middleware.process_view(request, lambda r: None, (), {})
            return Contact.objects.count()

    assert view_as(admin, "admin") == 4
    if POSTGRES:
        assert view_as(admin, "coverage") == 0  # elsewhere an administrator sees no customer
        assert view_as(owner, "admin") == 2  # not staff: the admin site refuses them anyway
        assert view_as(admin, "admin", verified=False) == 0  # owes the second factor


# --- the middleware, through the client -------------------------------------------------------


def leaky_contacts(request: HttpRequest) -> JsonResponse:
    """A view that forgets the selector."""
    names = sorted(Contact.objects.values_list("name", flat=True))
    return JsonResponse({"names": names, "active": rls.active()})


def leaky_stream(request: HttpRequest) -> StreamingHttpResponse:
    """A download read after the view (and the middleware) returned."""

    def rows() -> Iterator[str]:
        for contact in Contact.objects.order_by("name").iterator(chunk_size=1):
            yield contact.name + "\n"

    return StreamingHttpResponse(rows(), content_type="text/plain")


@rls.unscoped
def public_link(request: HttpRequest) -> JsonResponse:
    """A public page whose secret link is the credential, looking its one record up."""
    return JsonResponse({"contacts": Contact.objects.count()})


def not_found(request: HttpRequest) -> HttpResponse:
    raise Http404


def failing_write(request: HttpRequest) -> HttpResponse:
    Contact.objects.filter(name="林志强").update(title="写了一半")
    raise RuntimeError("after a write")


urlpatterns = [
    path("leaky/", leaky_contacts),
    path("api/leaky/", leaky_contacts),  # past the second-factor gate, as the API is
    path("leaky/stream/", leaky_stream),
    path("public/", public_link),
    path("failing/", failing_write),
    path("missing/", not_found),
    path("", include("kam.urls")),  # the login and second-factor pages that middleware names
]

in_this_urlconf = pytest.mark.urls(__name__)


@in_this_urlconf
def test_a_view_that_forgets_the_selector_leaks_nothing(world, owner, colleague):
    client = Client()
    client.force_login(owner)
    body = client.get("/leaky/").json()
    if POSTGRES:
        assert body["active"] is True
        assert "林志强" in body["names"] and "黄丽" not in body["names"]
        assert len(body["names"]) == 2
    else:
        assert body == {"names": body["names"], "active": False}  # the middleware: a no-op
        assert "黄丽" in body["names"]
    client.force_login(colleague)
    names = client.get("/leaky/").json()["names"]
    assert ("林志强" in names) is (not POSTGRES)


@in_this_urlconf
def test_a_session_that_owes_its_second_factor_reads_nothing(world, department):
    client = Client()
    client.force_login_password_only(department)  # a role that must give a second factor
    assert len(client.get("/api/leaky/").json()["names"]) == (0 if POSTGRES else 4)
    client.force_login(department)  # now verified
    assert len(client.get("/api/leaky/").json()["names"]) == 4


@in_this_urlconf
def test_an_anonymous_request_reads_nothing(world):
    names = Client().get("/leaky/").json()["names"]
    assert len(names) == (0 if POSTGRES else 4)


@in_this_urlconf
def test_a_streamed_download_is_read_inside_the_scope(world, owner):
    client = Client()
    client.force_login(owner)
    response = client.get("/leaky/stream/")
    lines = b"".join(response.streaming_content).decode().split()
    assert len(lines) == (2 if POSTGRES else 4) and "林志强" in lines
    assert Contact.objects.count() == 4  # and the scope ended with the body


@in_this_urlconf
def test_a_view_marked_unscoped_reads_as_the_login_role(world):
    assert Client().get("/public/").json() == {"contacts": 4}


@in_this_urlconf
def test_the_wall_costs_a_managers_request_one_statement_and_a_directors_none(
    world, owner, director
):
    def settings_written(user: User) -> int:
        client = Client()
        client.force_login(user)
        with CaptureQueriesContext(connection) as queries:
            client.get("/leaky/")
        return sum("set_config" in q["sql"] for q in queries.captured_queries)

    # Here inside the test's transaction, a second one writes the previous values back.
    assert settings_written(owner) == (2 if POSTGRES else 0)
    assert settings_written(director) == 0


@in_this_urlconf
def test_the_scope_ends_with_the_request(world, owner):
    client = Client()
    client.force_login(owner)
    client.get("/leaky/")
    assert not rls.active()
    assert _counts() == EVERYTHING
    if POSTGRES:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('role'), current_setting('kam.user_id', true)")
            assert cursor.fetchone() in {("none", ""), ("none", None)}


@in_this_urlconf
@pytest.mark.django_db(transaction=True)
def test_a_request_is_one_transaction_that_an_error_rolls_back(owner, account_a, contact_a):
    # Here the middleware opens the transaction itself, as in production.
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    assert client.get("/failing/").status_code == 500
    contact_a.refresh_from_db()
    assert contact_a.title == ("供应链副总裁" if POSTGRES else "写了一半")
    assert client.get("/leaky/").json()["names"]  # the connection is fine afterwards
    # The 404 page (which reads the database for its navigation) renders.
    assert client.get("/missing/").status_code == 404
    if POSTGRES:
        with connection.cursor() as cursor:
            # Nothing of the request's scope stays on the (pooled) connection.
            cursor.execute(
                "SELECT current_user = session_user, coalesce(current_setting('kam.user_id', true), '')"
            )
            assert cursor.fetchone() == (True, "")


# --- which tables, the policies, the check -----------------------------------------------------


def test_every_model_that_leads_to_an_account_is_walled_or_excluded_with_a_reason():
    covered = {t.label for t in rls.scoped_tables()}
    accountable = rls.accountable_models()
    assert accountable - set(rls.EXCLUDED) == covered
    assert set(rls.EXCLUDED) <= accountable, "an exclusion for a model that leads nowhere"
    assert all(len(reason) > 40 for reason in rls.EXCLUDED.values())
    # The finder reaches every kind of path (so the comparison above is not vacuous).
    tables = {t.table: t for t in rls.scoped_tables()}
    assert {p.column for p in tables["accounts_account"].paths} == {"id"}
    assert {p.column for p in tables["accounts_historicalaccount"].paths} == {"id"}
    assert {p.column for p in tables["accounts_historicalcontact"].paths} == {"account_id"}
    assert [p.target for p in tables["coverage_finding"].paths] == ["coverage_visitreport"]
    assert [p.target for p in tables["coverage_visitreport_contacts"].paths] == [
        "accounts_contact"  # the nearer of its two paths (the report is one step further)
    ]
    assert [p.target for p in tables["accounts_contacttie"].paths] == ["accounts_contact"] * 2
    assert [p.target for p in tables["ledger_accountmonth"].paths] == ["accounts_billingcode"]
    assert "accounts_teammembership" not in tables


def test_every_walled_table_has_its_policy_in_the_database(db):
    if not POSTGRES:
        assert rls.install().policies_created == []  # nothing to install on SQLite
        assert rls.check_row_level_security() == []
        return
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid
               WHERE p.polname = %s AND c.relrowsecurity""",
            [rls.POLICY],
        )
        installed = {row[0] for row in cursor.fetchall()}
    assert installed == {t.table for t in rls.scoped_tables()}
    assert rls.check_row_level_security() == []


def test_installing_again_changes_nothing_and_drops_stale_policies(db):
    if not POSTGRES:
        assert rls.install() == rls.InstallReport()
        return
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE core_calendarday ENABLE ROW LEVEL SECURITY")
        cursor.execute(f"CREATE POLICY {rls.POLICY} ON core_calendarday USING (true)")
    report = rls.install()
    assert report.policies_created == [] and report.problems == []
    assert len(report.policies_kept) == len(rls.scoped_tables())
    assert report.policies_dropped == ["core_calendarday"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT relrowsecurity FROM pg_class WHERE relname = 'core_calendarday'")
        assert cursor.fetchone()[0] is False


def test_the_check_refuses_a_missing_or_odd_role(db):
    with override_settings(RLS_ROLE="kam_no_such_role"):
        ids = [m.id for m in rls.check_row_level_security()]
    assert ids == (["kam.E102"] if POSTGRES else [])
    with override_settings(RLS_ROLE='x"; DROP TABLE accounts_account; --'):
        ids = [m.id for m in rls.check_row_level_security()]
        assert rls.install().policies_created == []
    assert ids == (["kam.E101"] if POSTGRES else [])


def test_the_policy_reads_the_team_table_and_fails_closed_on_unset_settings():
    contact = next(t for t in rls.scoped_tables() if t.table == "accounts_contact")
    sql = rls.policy_sql(contact)
    assert sql.startswith('"account_id" IN (SELECT account_id FROM "accounts_teammembership"')
    assert "(SELECT NULLIF(current_setting('kam.user_id', true), '')::bigint)" in sql


def test_the_policies_team_lookup_reads_an_index_alone():
    """Every policy reads the user's team accounts. From an index that holds both columns
    (the user first), the planner probes a few contacts' ties by key; from the table, it
    hashed every visible contact instead (a manager's account page on a large archive)."""
    from kam.accounts.models import TeamMembership

    fields = [tuple(index.fields) for index in TeamMembership._meta.indexes]
    assert any(f and f[0] == "user" and "account" in f for f in fields)
    contact = next(t for t in rls.scoped_tables() if t.table == "accounts_contact")
    assert 'FROM "accounts_teammembership" WHERE user_id = ' in rls.policy_sql(contact)
