"""The ``kam`` console verbs: createuser, token, team, rotatekeys, genfieldkey, serve."""

import datetime
import io
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kam.accounts.models import Account, Contact, TeamMembership, TeamRole
from kam.core.management.commands import serve
from kam.core.models import ApiToken, Role, User
from kam.core.services import token_authenticate, user_create

PASSWORD = "Correct-Horse-Battery-42"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def manager(db: None) -> User:
    return user_create(username="lin", role=Role.MANAGER, password=PASSWORD, display_name="林经理")


@pytest.fixture
def account(db: None) -> Account:
    return Account.objects.create(name="福建明达电子有限公司")


# --- createuser ---------------------------------------------------------------------------


def test_createuser_creates_a_user_who_can_log_in(db: None) -> None:
    output = run(
        "createuser",
        "zhang",
        "--role",
        "director",
        "--password",
        PASSWORD,
        "--display-name",
        "张总",
        "--email",
        "zhang@carrier.example",
    )

    user = User.objects.get(username="zhang")
    assert user.role == Role.DIRECTOR
    assert user.display_name == "张总"
    assert user.email == "zhang@carrier.example"
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    assert "Created user zhang (director)" in output


def test_createuser_admin_gets_the_admin_site(db: None) -> None:
    run("createuser", "root", "--role", "admin", "--password", PASSWORD)

    assert User.objects.get(username="root").is_superuser


def test_createuser_with_an_unknown_role_names_the_roles_and_creates_nothing(db: None) -> None:
    with pytest.raises(CommandError) as error:
        run("createuser", "zhang", "--role", "boss", "--password", PASSWORD)

    message = str(error.value)
    assert "boss" in message
    assert all(role in message for role in Role.values)
    assert not User.objects.filter(username="zhang").exists()


def test_createuser_refuses_a_weak_password(db: None) -> None:
    with pytest.raises(CommandError, match="Password refused"):
        run("createuser", "zhang", "--role", "manager", "--password", "12345678")

    assert not User.objects.filter(username="zhang").exists()


def test_createuser_refuses_a_taken_name(manager: User) -> None:
    with pytest.raises(CommandError, match="already exists"):
        run("createuser", "lin", "--role", "analyst", "--password", PASSWORD)

    assert User.objects.get(username="lin").role == Role.MANAGER


def test_createuser_without_a_terminal_makes_no_usable_password(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    output = run("createuser", "script", "--role", "analyst")

    assert not User.objects.get(username="script").has_usable_password()
    assert "without a usable password" in output


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def answers(*values: str) -> Iterator[str]:
    return iter(values)


def test_createuser_asks_twice_on_a_terminal(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    typed = answers(PASSWORD, PASSWORD)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))

    run("createuser", "wang", "--role", "service")

    assert User.objects.get(username="wang").check_password(PASSWORD)


def test_createuser_stops_when_the_two_passwords_differ(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal())
    typed = answers(PASSWORD, PASSWORD + "!")
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))

    with pytest.raises(CommandError, match="differ"):
        run("createuser", "wang", "--role", "service")

    assert not User.objects.filter(username="wang").exists()


# --- token --------------------------------------------------------------------------------


def test_token_create_prints_a_token_that_authenticates_until_revoked(manager: User) -> None:
    output = run("token", "create", "nightly export", "--user", "lin")
    plain = output.strip().splitlines()[-1]

    assert token_authenticate(plain) == manager
    token = ApiToken.objects.get(user=manager)
    assert token.name == "nightly export"
    assert token.token_hash not in output and plain.startswith(token.prefix)

    listing = run("token", "list", "--user", "lin")
    assert token.prefix in listing and "nightly export" in listing

    run("token", "revoke", token.prefix)

    assert token_authenticate(plain) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert "already revoked" in run("token", "revoke", token.prefix)


def test_token_create_defaults_to_the_user_named_like_the_token(manager: User) -> None:
    plain = run("token", "create", "lin").strip().splitlines()[-1]

    assert token_authenticate(plain) == manager


def test_token_create_as_json(manager: User) -> None:
    result = json.loads(run("token", "create", "ci", "--user", "lin", "--json"))

    assert result["user"] == "lin" and result["name"] == "ci"
    assert token_authenticate(result["token"]) == manager
    assert result["token"].startswith(result["prefix"])


def test_token_create_for_an_unknown_user_fails_and_creates_nothing(db: None) -> None:
    with pytest.raises(CommandError, match="nobody"):
        run("token", "create", "ci", "--user", "nobody")

    assert not ApiToken.objects.exists()


def test_token_revoke_with_an_unknown_prefix_fails(manager: User) -> None:
    plain = run("token", "create", "ci", "--user", "lin").strip().splitlines()[-1]

    with pytest.raises(CommandError, match="No token"):
        run("token", "revoke", "kam_nothere")

    assert token_authenticate(plain) == manager


# --- team ---------------------------------------------------------------------------------


def test_team_add_puts_the_user_on_the_team(manager: User, account: Account) -> None:
    output = run("team", "add", str(account.pk), "lin", "--role", "owner")

    membership = TeamMembership.objects.get(account=account, user=manager)
    assert membership.role == TeamRole.OWNER
    assert membership.history.first().history_user is None  # made by the system
    assert "Added lin" in output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["999999", "lin", "--role", "owner"], "999999"),
        (["{account}", "nobody", "--role", "owner"], "nobody"),
        (["{account}", "lin", "--role", "boss"], "boss"),
    ],
)
def test_team_add_names_what_is_unknown_and_changes_nothing(
    manager: User, account: Account, args: list[str], named: str
) -> None:
    args = [a.format(account=account.pk) for a in args]

    with pytest.raises(CommandError, match=named) as error:
        run("team", "add", *args)

    if named == "boss":
        assert all(role in str(error.value) for role in TeamRole.values)
    assert not TeamMembership.objects.exists()


def test_team_add_refuses_a_second_owner(manager: User, account: Account) -> None:
    run("team", "add", str(account.pk), "lin", "--role", "owner")
    user_create(username="chen", role=Role.MANAGER, password=PASSWORD)

    with pytest.raises(CommandError, match="role"):
        run("team", "add", str(account.pk), "chen", "--role", "owner")

    assert list(TeamMembership.objects.values_list("user__username", flat=True)) == ["lin"]


def test_team_add_refuses_a_system_administrator(account: Account) -> None:
    user_create(username="root", role=Role.ADMIN, password=PASSWORD)

    with pytest.raises(CommandError, match="user"):
        run("team", "add", str(account.pk), "root", "--role", "service_rep")

    assert not TeamMembership.objects.exists()


def test_team_remove_takes_the_user_off(manager: User, account: Account) -> None:
    run("team", "add", str(account.pk), "lin", "--role", "co_owner")

    run("team", "remove", str(account.pk), "lin")

    assert not TeamMembership.objects.exists()
    with pytest.raises(CommandError, match="not on the team"):
        run("team", "remove", str(account.pk), "lin")


# --- rotatekeys ---------------------------------------------------------------------------


@pytest.fixture
def keys(settings: Any, db: None) -> tuple[str, str]:
    """An old key that encrypted three contacts, and a new one."""
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_KEYS = [old]
    account = Account.objects.create(name="福建明达电子有限公司")
    for i in range(3):
        Contact.objects.create(
            account=account,
            name=f"联系人{i}",
            phone_mobile=f"1391234567{i}",
            hobbies="围棋",
            birthday=datetime.date(1980, 1, i + 1),
        )
    Contact.objects.create(account=account, name="无个人信息")
    return old, new


def raw_contacts() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, phone_mobile, hobbies, birthday FROM accounts_contact ORDER BY id"
        )
        return cursor.fetchall()


def test_rotatekeys_lets_the_old_key_go(settings: Any, keys: tuple[str, str]) -> None:
    old, new = keys
    settings.FIELD_KEYS = [new, old]
    before = raw_contacts()

    output = run("rotatekeys", "--batch-size", "2")

    assert "Rotated 9 values" in output
    after = raw_contacts()
    assert all(a != b for a, b in zip(after[:3], before[:3], strict=True))
    assert after[3] == before[3] and after[3][1:] == ("", "", "")
    settings.FIELD_KEYS = [new]
    contacts = list(Contact.objects.order_by("pk"))
    assert [c.phone_mobile for c in contacts] == [
        "13912345670",
        "13912345671",
        "13912345672",
        "",
    ]
    assert contacts[2].birthday == datetime.date(1980, 1, 3)
    assert contacts[0].hobbies == "围棋"


def test_rotatekeys_dry_run_changes_nothing(settings: Any, keys: tuple[str, str]) -> None:
    old, new = keys
    settings.FIELD_KEYS = [new, old]
    before = raw_contacts()

    result = json.loads(run("rotatekeys", "--dry-run", "--json"))

    assert result["dry_run"] is True
    assert result["total"] == 9
    assert result["values"]["accounts_contact.phone_mobile"] == 3
    assert raw_contacts() == before
    settings.FIELD_KEYS = [new]
    with pytest.raises(ImproperlyConfigured):
        list(Contact.objects.all())


def test_rotatekeys_without_the_old_key_names_the_row(settings: Any, keys: tuple[str, str]) -> None:
    _, new = keys
    settings.FIELD_KEYS = [new]
    before = raw_contacts()

    with pytest.raises(CommandError, match="accounts_contact"):
        run("rotatekeys")

    assert raw_contacts() == before


# --- genfieldkey, serve -------------------------------------------------------------------


def test_genfieldkey_prints_a_new_fernet_key() -> None:
    first, second = run("genfieldkey").strip(), run("genfieldkey").strip()

    Fernet(first.encode())  # raises on anything that is not a key
    assert first != second


def test_serve_runs_gunicorn_on_the_kam_application() -> None:
    umask = os.umask(0o022)
    from kam.wsgi import application  # sets the owner-only umask (tests/core/test_deploy.py)

    os.umask(umask)  # leave the rest of the test run as it was

    server = serve.build_server(host="127.0.0.1", port=8123, workers=3, threads=2, timeout=30)

    assert server.cfg.bind == ["127.0.0.1:8123"]
    assert server.cfg.workers == 3
    assert server.cfg.threads == 2
    assert server.load() is application
    assert serve.bind_address("::1", 8000) == "[::1]:8000"


def test_serve_prints_the_url(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(serve.KamServer, "run", lambda self: started.append(self.cfg.bind))

    output = run("serve", "--port", "8124")

    assert "http://127.0.0.1:8124/" in output
    assert started == [["127.0.0.1:8124"]]


def test_serve_refuses_a_bad_port(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve.KamServer, "run", lambda self: pytest.fail("must not start"))

    with pytest.raises(CommandError, match="--port"):
        run("serve", "--port", "70000")


def test_serve_forks_its_workers_without_a_database_connection(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn preloads the application and forks: a connection the master holds (its
    checks query the database) would be shared by every worker, whose replies then
    interleave (bench/web saw "connection in transaction status INTRANS" and rows of
    another query under load on PostgreSQL). The master closes its connections last
    before it runs gunicorn, and again after loading the application."""
    events: list[str] = []
    monkeypatch.setattr(serve.connections, "close_all", lambda: events.append("close"))
    monkeypatch.setattr(serve.KamServer, "run", lambda self: events.append("run"))

    run("serve", "--port", "8125", "--no-worker")

    assert events[-2:] == ["close", "run"]
    events.clear()
    serve.build_server(host="127.0.0.1", port=8126, workers=2, threads=1, timeout=30).load()
    assert events == ["close"]
