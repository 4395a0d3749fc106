"""Fixtures shared by the whole suite: fast hashing, a fixed field key, the personas
(the owner, colleagues in other roles, an outsider) and API clients for each of them.

Personas, after healthchecks' test base:

=============  ===================================================================
director       sees every account and every contact's personal information
department     key-account department: every account, personal data only on teams
owner          account manager, owner of ``account_a``
colleague      account manager, owner of ``account_b`` (not on A's team)
service_rep    service representative on A's team (contact details, no personal data)
analyst        figures only: accounts, no contacts
admin          system administrator: configuration, no customer data
outsider       account manager on no team at all
=============  ===================================================================
"""

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import factory.random
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import settings as hypothesis_settings

from kam.accounts.models import Account, Contact, Stage, TeamRole
from kam.core import twofactor
from kam.core.models import Role, User
from kam.core.services import token_create
from tests.factories import (
    AccountFactory,
    BillingCodeFactory,
    ContactFactory,
    IndustryFactory,
    TeamMembershipFactory,
    UserFactory,
)

API = "/api/v1"
#: A fixed Fernet key, so that no test depends on the machine's var/field.key.
TEST_FIELD_KEY = "Jr1xzLQ2b3gSUyj-wY2qRb6sd3a0cL2lQ3vLhGmJ4qI="
#: A CSRF secret (32 letters or digits) the session clients send as cookie and header.
CSRF_SECRET = "KamTestCsrfSecret0123456789abcde"

# Property tests draw the same examples on every run and machine (STYLE rule 17).
hypothesis_settings.register_profile("kam", derandomize=True, deadline=None)
hypothesis_settings.load_profile("kam")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fixed_field_key(settings: Any) -> None:
    settings.FIELD_KEYS = [TEST_FIELD_KEY]


@pytest.fixture(autouse=True)
def _lake_in_tmp(settings: Any, tmp_path: Any) -> None:
    """Each test gets its own empty lake and upload folder; background jobs run inline."""
    settings.LAKE_DIR = tmp_path / "lake"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    settings.DUCKDB_MEMORY_LIMIT = "1GB"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Tasks run at once here, so a run per import would slow every ledger test; the
    # segmentation tests switch it on where they test the hook.
    settings.SEGMENT_AFTER_IMPORT = False


#: The data migrations' seed rows (functions ``seed(apps, schema_editor)``).
SEED_MIGRATIONS = ["kam.core.migrations.0003_seed_calendar",
                   "kam.accounts.migrations.0003_seed_industries",
                   "kam.planning.migrations.0003_seed_solutions"]  # fmt: skip


def pytest_fixture_post_finalizer(fixturedef: Any, request: pytest.FixtureRequest) -> None:
    """A transactional test ends with a flush that empties every table, the migrations'
    seed rows (the working calendar, the industries) too; put them back, so that the tests
    after it do not depend on the order the suite (or a parallel worker) runs them in."""
    if fixturedef.argname != "_django_db_helper":
        return
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or marker.kwargs.get(
        "reset_sequences"))) or bool({"transactional_db", "live_server"} & set(request.fixturenames))  # fmt: skip
    if not transactional:
        return
    import importlib  # noqa: PLC0415

    from django.apps import apps  # noqa: PLC0415
    from pytest_django.plugin import blocking_manager_key  # noqa: PLC0415

    from kam.core.models import CalendarDay  # noqa: PLC0415

    with request.config.stash[blocking_manager_key].unblock():
        if CalendarDay.objects.exists():
            return
        for module in SEED_MIGRATIONS:
            importlib.import_module(module).seed(apps, None)


@pytest.fixture(autouse=True)
def _english_outside_requests() -> Iterator[None]:
    """Messages made outside a request (services, commands) in English unless a test says
    otherwise: a request's LocaleMiddleware leaves its language active in the thread, so
    without this a test's language would be that of the last page an earlier test opened."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Each test starts with an empty cache (figures kept there, such as the coverage
    dashboard's totals, would otherwise outlive the rolled-back data they came from)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _seeded_factories() -> None:
    factory.random.reseed_random("kam-tests")


@pytest.fixture(autouse=True)
def _force_login_gives_second_factor(monkeypatch: pytest.MonkeyPatch) -> None:
    """``Client.force_login`` means "logged in, nothing owed", as it skips the password.

    Roles that must use two-factor authentication (and users who set it up) get a confirmed
    authenticator if they have none, and the session is marked verified the way django-otp
    does (the device's id in the session), so the suite's personas reach every page. The
    requirement itself is tested through the real pages (tests/core/test_two_factor*.py),
    which log in with :func:`force_login_password_only` or the login form.
    """
    original = Client.force_login

    def force_login(self: Client, user: Any, backend: str | None = None) -> None:
        original(self, user, backend)
        if twofactor.asks_second_factor(user):
            device = twofactor.authenticator(user) or TOTPDevice.objects.create(
                user=user, name=twofactor.TOTP_NAME, confirmed=True
            )
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    monkeypatch.setattr(Client, "force_login", force_login)
    monkeypatch.setattr(Client, "force_login_password_only", original, raising=False)


def with_authenticator(user: User) -> User:
    """The user with a confirmed authenticator app, as the personas whose role requires one
    have (made here rather than at their first ``force_login``, which would otherwise cost
    one query more than the next and upset query-count tests)."""
    TOTPDevice.objects.create(user=user, name=twofactor.TOTP_NAME, confirmed=True)
    return user


def force_login_password_only(client: Client, user: Any) -> None:
    """Logged in with the password alone: the state between the password and the code."""
    client.force_login_password_only(user)  # type: ignore[attr-defined]
    session = client.session
    session[twofactor.PENDING_KEY] = True
    session.save()


# --- personas -----------------------------------------------------------------------------


@pytest.fixture
def director(db: None) -> User:
    return with_authenticator(
        UserFactory(username="director", display_name="王总监", role=Role.DIRECTOR)
    )


@pytest.fixture
def department(db: None) -> User:
    return with_authenticator(
        UserFactory(username="department", display_name="大客户部李", role=Role.DEPARTMENT)
    )


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory(username="owner", display_name="客户经理张", role=Role.MANAGER)


@pytest.fixture
def colleague(db: None) -> User:
    return UserFactory(username="colleague", display_name="客户经理陈", role=Role.MANAGER)


@pytest.fixture
def service_rep(db: None) -> User:
    return UserFactory(username="service", display_name="客服刘", role=Role.SERVICE)


@pytest.fixture
def analyst(db: None) -> User:
    return UserFactory(username="analyst", display_name="分析师赵", role=Role.ANALYST)


@pytest.fixture
def admin(db: None) -> User:
    return with_authenticator(
        UserFactory(username="sysadmin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    )


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(username="outsider", display_name="客户经理孙", role=Role.MANAGER)


# --- the archive around them --------------------------------------------------------------


@pytest.fixture
def account_a(owner: User, service_rep: User) -> Account:
    """福建明达电子: owned by ``owner``, served by ``service_rep``."""
    account = AccountFactory(
        name="福建明达电子有限公司",
        name_en="Fujian Mingda Electronics Co., Ltd.",
        credit_code="91350100M000100Y43",
        industry=IndustryFactory(
            code="it_electronics", name_zh="IT / 电子", name_en="IT / electronics"
        ),
        province_code="350000",
        city_code="350100",
        tier=1,
        stage=Stage.COOPERATIVE,
        is_economic=True,
        is_strategic=True,
        employees=1200,
    )
    TeamMembershipFactory(account=account, user=owner, role=TeamRole.OWNER)
    TeamMembershipFactory(account=account, user=service_rep, role=TeamRole.SERVICE_REP)
    BillingCodeFactory(account=account, code="YJ0591001")
    return account


@pytest.fixture
def account_b(colleague: User) -> Account:
    """广州远航服饰: owned by ``colleague``; nobody else above is on its team."""
    account = AccountFactory(
        name="广州远航服饰有限公司",
        name_en="Guangzhou Yuanhang Apparel Co., Ltd.",
        industry=IndustryFactory(code="apparel", name_zh="服装", name_en="Apparel"),
        province_code="440000",
        city_code="440100",
        tier=2,
        stage=Stage.BASIC,
        is_potential=True,
        employees=300,
    )
    TeamMembershipFactory(account=account, user=colleague, role=TeamRole.OWNER)
    return account


@pytest.fixture
def contact_a(account_a: Account) -> Contact:
    return ContactFactory(
        account=account_a,
        name="林志强",
        title="供应链副总裁",
        phone_mobile="13912345678",
        email="lin.zhiqiang@mingda.example",
        wechat="linzq_mingda",
        hobbies="围棋与茶道",
        birthday=datetime.date(1975, 9, 3),
    )


@pytest.fixture
def contact_b(account_b: Account) -> Contact:
    return ContactFactory(account=account_b, name="黄丽", title="物流经理")


# --- clients ------------------------------------------------------------------------------


class JsonClient:
    """Django's test client with CSRF enforced, speaking JSON to the API.

    Session clients send the CSRF cookie and header unless ``csrf=False``; token clients
    send ``Authorization: Bearer``. Requests ask for English unless told otherwise.
    """

    def __init__(self, client: Client, *, csrf: bool) -> None:
        self.client = client
        self.csrf = csrf

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = {"Accept-Language": "en"}
        if self.csrf:
            out["X-CSRFToken"] = CSRF_SECRET
        out.update(headers or {})
        return out

    def get(self, path: str, params: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.get(API + path, params, headers=self._headers(headers))

    def post(self, path: str, body: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.post(
            API + path, body or {}, content_type="application/json", headers=self._headers(headers)
        )

    def patch(self, path: str, body: Any, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.patch(
            API + path, body, content_type="application/json", headers=self._headers(headers)
        )

    def delete(self, path: str, *, headers: dict[str, str] | None = None) -> Any:
        return self.client.delete(API + path, headers=self._headers(headers))


@pytest.fixture
def session_client(db: None) -> Callable[..., JsonClient]:
    """``session_client(user, csrf=True)``: logged in through the session, CSRF enforced."""

    def make(user: User | None, *, csrf: bool = True) -> JsonClient:
        client = Client(enforce_csrf_checks=True)
        if user is not None:
            client.force_login(user)
        if csrf:
            client.cookies[django_settings.CSRF_COOKIE_NAME] = CSRF_SECRET
        return JsonClient(client, csrf=csrf)

    return make


@pytest.fixture
def token_client(db: None) -> Callable[..., JsonClient]:
    """``token_client(user)``: a program with a fresh bearer token of ``user``."""

    def make(user: User) -> JsonClient:
        _, plain = token_create(user=user, name=f"tests for {user.username}")
        client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {plain}"})
        return JsonClient(client, csrf=False)

    return make


@pytest.fixture(params=["session", "token"])
def api_as(request: Any, session_client: Callable, token_client: Callable) -> Callable:
    """``api_as(user)`` once through the session and once with a bearer token."""
    return session_client if request.param == "session" else token_client


@pytest.fixture
def anon(session_client: Callable[..., JsonClient]) -> JsonClient:
    return session_client(None)


def assert_error(response: Any, status: int, *fields: str) -> dict:
    """The response has ``status``, the one error shape, and names each of ``fields``."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(set(e) == {"field", "message"} and e["message"] for e in body["errors"])
    named = {e["field"] for e in body["errors"]}
    for field in fields:
        assert any(n == field or n.startswith(f"{field}.") for n in named), (field, named)
    return body
