"""Deployment defaults: production refusals, `check --deploy`, no Server header, private files.

The subprocess tests run the real ``kam`` command (``python -m kam.cli``) under the
environment that docs/operations.md documents, parsed from its "Production start" block,
so that the doc and the tests cannot drift apart.
"""

import http.client
import io
import json
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from kam.core import datadir, deploy
from kam.core.management.commands import serve
from tests.ledger.conftest import good_row, write_waybills

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations.md"
#: What a shell or a service manager usually hands a process; KAM must not rely on better.
LAX_UMASK = 0o022
#: Every interface: `kam serve --host 0.0.0.0` is production unless told otherwise.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - the address under test, nothing binds it here


# --- running kam in a subprocess ------------------------------------------------------------


def clean_environment(tmp_path: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any KAM or Django setting, plus ``extra``."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAM_")
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    run_dir = tmp_path / "run"  # gunicorn's control socket goes to $XDG_RUNTIME_DIR
    run_dir.mkdir(mode=0o700, exist_ok=True)
    environment.update({"KAM_DATA_DIR": str(tmp_path / "var"), "XDG_RUNTIME_DIR": str(run_dir)})
    environment.update(extra or {})
    return environment


def kam(*args: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "kam.cli", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
        umask=LAX_UMASK,
    )  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def kam_serve(port: int, env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    """``kam serve`` on a loopback port, stopped (by its process id) when done."""
    process = subprocess.Popen(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "kam.cli", "serve", "--port", str(port), "--workers", "1",
         "--no-worker"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        umask=LAX_UMASK,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not listening(port):
            if process.poll() is not None:
                out, err = process.communicate()
                pytest.fail(f"kam serve stopped with {process.returncode}:\n{out}\n{err}")
            if time.monotonic() > deadline:
                pytest.fail("kam serve did not listen within 60 s")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory (``.../var``) made by ``kam migrate`` under a lax umask, once."""
    base = tmp_path_factory.mktemp("migrated")
    result = kam("migrate", "--no-input", env=clean_environment(base))
    assert result.returncode == 0, result.stderr
    return base / "var"


# --- the documented production environment ----------------------------------------------------


def documented_block() -> list[str]:
    """The lines of the first ``sh`` block under "## Production start" in docs/operations.md."""
    text = OPERATIONS.read_text(encoding="utf-8")
    section = text.split("## Production start", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "docs/operations.md: no ```sh block under Production start"
    return match.group(1).splitlines()


def documented_environment(tmp_path: Path) -> dict[str, str]:
    """The block's ``export`` lines as an environment, with its key files made by its own
    key lines (``(umask 077; COMMAND > PATH)``) under ``tmp_path`` instead of /etc/kam, and
    ``KAM_DATA_DIR`` under ``tmp_path``."""
    exported: dict[str, str] = {}
    key_commands: dict[str, str] = {}
    for line in documented_block():
        if line.startswith("export "):
            for word in shlex.split(line, comments=True)[1:]:
                name, _, value = word.partition("=")
                exported[name] = value
        elif made := re.fullmatch(r"\(umask 077; (.+) > (\S+)\)", line.strip()):
            key_commands[made.group(2)] = made.group(1)
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    environment = clean_environment(tmp_path)
    for name, value in exported.items():
        if name == "KAM_DATA_DIR":
            continue  # clean_environment's, under tmp_path
        if name.endswith("_FILE"):
            assert value in key_commands, f"the block never makes {value} ({name})"
            made = subprocess.run(  # noqa: S603 - the documented command, run as documented
                ["bash", "-c", key_commands[value]],  # noqa: S607 - the system's bash
                cwd=ROOT, env=clean_environment(tmp_path), capture_output=True, text=True,
                timeout=60, check=True,
            )  # fmt: skip
            path = keys / Path(value).name
            path.write_text(made.stdout, encoding="utf-8")
            value = str(path)
        environment[name] = value
    return environment


def test_the_documented_block_sets_every_production_variable(tmp_path: Path) -> None:
    environment = documented_environment(tmp_path)

    for name in ("KAM_ENVIRONMENT", "KAM_DEBUG", "KAM_SECURE", "KAM_BASE_URL",
                 "KAM_ALLOWED_HOSTS", "KAM_SECRET_KEY_FILE", "KAM_FIELD_KEY_FILE",
                 "KAM_DATABASE_URL"):  # fmt: skip
        assert name in environment, name
    assert environment["KAM_ENVIRONMENT"] == "production"
    assert len(Path(environment["KAM_SECRET_KEY_FILE"]).read_text().strip()) >= 50
    from cryptography.fernet import Fernet

    Fernet(Path(environment["KAM_FIELD_KEY_FILE"]).read_text().strip())  # a valid key


def test_check_deploy_reports_no_issue_under_the_documented_environment(tmp_path: Path) -> None:
    (command,) = [line for line in documented_block() if "kam check --deploy" in line]
    args = shlex.split(command, comments=True)[1:]  # after .venv/bin/kam
    assert args[:4] == ["check", "--deploy", "--fail-level", "WARNING"]

    environment = documented_environment(tmp_path)
    # The documented PostgreSQL role and database do not exist on a test machine (and the
    # row-level-security check connects); a SQLite file in the data directory stands in.
    environment["KAM_DATABASE_URL"] = f"sqlite:///{tmp_path / 'var' / 'kam.sqlite3'}"

    result = kam(*args, env=environment)

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
    assert "KAM:" not in result.stderr  # its var/ was created private, not tightened


def test_check_deploy_names_kam_s_own_problems_with_the_trial_defaults(tmp_path: Path) -> None:
    result = kam("check", "--deploy", env=clean_environment(tmp_path))

    for problem in ("kam.W002", "kam.W006", "kam.W007"):  # base URL, two generated keys
        assert problem in result.stderr
    assert "kam.W005" not in result.stderr  # left to Django's security.W012 / W016
    assert "security.W012" in result.stderr


def test_kam_serve_runs_in_production_with_the_documented_environment_and_no_server_header(
    tmp_path: Path, migrated: Path
) -> None:
    environment = documented_environment(tmp_path)
    # The documented PostgreSQL database does not exist here; a migrated SQLite file stands in.
    database = tmp_path / "var" / "kam.sqlite3"
    database.parent.mkdir(mode=0o700)
    shutil.copy2(migrated / "kam.sqlite3", database)
    environment["KAM_DATABASE_URL"] = f"sqlite:///{database}"
    port = free_port()
    host = environment["KAM_ALLOWED_HOSTS"].split(",")[0]
    https = {"Host": host, "X-Forwarded-Proto": "https"}

    with kam_serve(port, environment):
        page = get(port, "/login/", https)
        static = get(port, "/static/kam/kam.css", https)
        plain = get(port, "/login/", {"Host": host})
        wrong_host = get(
            port, "/login/", {"Host": "evil.example.net", "X-Forwarded-Proto": "https"}
        )

    assert (page.status, static.status, plain.status, wrong_host.status) == (200, 200, 301, 400)
    for response in (page, static, plain, wrong_host):
        assert response.getheader("Server") is None, response.getheaders()
    assert plain.getheader("Location") == f"https://{host}/login/"
    assert page.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    cookies = page.headers.get_all("Set-Cookie") or []
    assert cookies and all("; Secure" in cookie for cookie in cookies), cookies
    assert page.getheader("X-Frame-Options") == "DENY"
    assert page.getheader("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in (page.getheader("Content-Security-Policy") or "")


# --- refusals ---------------------------------------------------------------------------------


def test_kam_serve_beyond_loopback_with_trial_defaults_refuses_naming_every_problem(
    tmp_path: Path,
) -> None:
    port = free_port()
    result = kam(
        "serve", "--host", ALL_INTERFACES, "--port", str(port), "--no-worker",
        env=clean_environment(tmp_path, {"KAM_DEBUG": "true"}), timeout=60,
    )  # fmt: skip

    assert result.returncode == 1
    assert "KAM is served" not in result.stdout
    assert not listening(port)
    assert ALL_INTERFACES in result.stderr
    for variable in ("KAM_DEBUG=false", "KAM_BASE_URL", "KAM_SECURE=true", "KAM_SECRET_KEY_FILE",
                     "KAM_FIELD_KEY_FILE"):  # fmt: skip
        assert variable in result.stderr, variable
    assert "Traceback" not in result.stderr


def test_a_bare_gunicorn_import_refuses_an_unfit_production_configuration(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-c", "import kam.wsgi"],
        cwd=ROOT, env=clean_environment(tmp_path, {"KAM_ENVIRONMENT": "production"}),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "KAM_BASE_URL" in result.stderr and "KAM_ENVIRONMENT=production" in result.stderr


def test_an_unknown_environment_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = kam("check", env=clean_environment(tmp_path, {"KAM_ENVIRONMENT": "prod"}))

    assert result.returncode != 0
    assert "KAM_ENVIRONMENT='prod' is not one of: development, production" in result.stderr


@pytest.fixture
def fit(settings: Any, tmp_path: Path) -> Any:
    """Settings fit for production (each test then breaks one thing)."""
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    settings.DEBUG = False
    settings.KAM_BASE_URL = "https://kam.example.com"
    settings.ALLOWED_HOSTS = ["kam.example.com"]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    settings.KAM_GENERATED_KEYS = {}
    settings.DATA_DIR = data
    settings.KAM_ENVIRONMENT = ""
    return settings


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    binds: list[Any] = []
    monkeypatch.setattr(serve.KamServer, "run", lambda self: binds.append(self.cfg.bind))
    monkeypatch.setattr(serve.Command, "check_migrations", lambda self: None)
    return binds


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def problems() -> list[str]:
    return [p.text for p in deploy.production_problems()]


def test_fit_settings_have_no_problem(fit: Any) -> None:
    assert problems() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"DEBUG": True}, "Set KAM_DEBUG=false."),
        ({"KAM_BASE_URL": ""}, "KAM_BASE_URL is not set"),
        ({"KAM_BASE_URL": "http://kam.example.com"}, "KAM_BASE_URL=http://kam.example.com is not"),
        ({"KAM_BASE_URL": "https://kam.example.com/kam/"}, "is not an https:// address"),
        ({"KAM_BASE_URL": "https://"}, "is not an https:// address"),
        ({"KAM_BASE_URL": "https://kam.example.com:99999"}, "is not an https:// address"),
        ({"KAM_BASE_URL": "https://other.example.com"}, "Add other.example.com to KAM_ALLOWED_HOSTS"),
        ({"SESSION_COOKIE_SECURE": False}, "set KAM_SECURE=true"),
        ({"CSRF_COOKIE_SECURE": False}, "set KAM_SECURE=true"),
        ({"KAM_GENERATED_KEYS": {"KAM_SECRET_KEY": Path("/v/secret.key")}}, "Set KAM_SECRET_KEY_FILE"),
        ({"KAM_GENERATED_KEYS": {"KAM_FIELD_KEY": Path("/v/field.key")}}, "Set KAM_FIELD_KEY_FILE"),
    ],
)  # fmt: skip
def test_each_unfit_setting_is_one_problem_naming_its_variable(
    fit: Any, change: dict[str, Any], expected: str
) -> None:
    for name, value in change.items():
        setattr(fit, name, value)

    (problem,) = problems()

    assert expected in problem


def test_a_data_dir_open_to_others_is_a_problem(fit: Any) -> None:
    fit.DATA_DIR.chmod(0o755)

    (problem,) = problems()

    assert f"KAM_DATA_DIR {fit.DATA_DIR} is open to other users (mode 0755)" in problem


def test_a_production_refusal_lists_every_problem_before_gunicorn_starts(
    fit: Any, started: list[Any]
) -> None:
    fit.KAM_ENVIRONMENT = "production"
    fit.DEBUG = True
    fit.KAM_BASE_URL = ""

    with pytest.raises(CommandError) as refused:
        call_command("serve", "--port", "8125", "--no-worker")

    message = str(refused.value)
    assert message.startswith("KAM does not start in production (KAM_ENVIRONMENT=production)")
    assert "KAM_DEBUG" in message and "KAM_BASE_URL is not set" in message
    assert started == []


def test_refusals_speak_chinese_by_default(fit: Any, started: list[Any]) -> None:
    fit.KAM_ENVIRONMENT = "production"
    fit.KAM_BASE_URL = ""

    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        call_command("serve", "--port", "8125", "--no-worker")

    assert "未设置 KAM_BASE_URL" in str(refused.value)
    assert "须先解决以下问题" in str(refused.value)


def test_a_fit_production_configuration_starts(fit: Any, started: list[Any]) -> None:
    fit.KAM_ENVIRONMENT = "production"

    call_command("serve", "--host", "0.0.0.0", "--port", "8126", "--no-worker")  # noqa: S104

    assert started == [["0.0.0.0:8126"]]


def test_the_demo_on_loopback_starts_with_trial_defaults(fit: Any, started: list[Any]) -> None:
    fit.KAM_BASE_URL = ""
    fit.SESSION_COOKIE_SECURE = False
    fit.KAM_GENERATED_KEYS = {"KAM_SECRET_KEY": Path("/v/secret.key")}

    call_command("serve", "--port", "8127", "--no-worker")

    assert started == [["127.0.0.1:8127"]]


def test_development_beyond_loopback_starts_with_a_warning(fit: Any, started: list[Any]) -> None:
    fit.KAM_ENVIRONMENT = "development"
    fit.KAM_BASE_URL = ""
    err = io.StringIO()

    call_command("serve", "--host", "192.168.1.5", "--port", "8128", "--no-worker", stderr=err)

    assert started == [["192.168.1.5:8128"]]
    assert "serving on 192.168.1.5 without the production checks" in err.getvalue()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),  # noqa: S104
     ("192.168.1.5", False), ("kam.example.com", False), ("", False)],
)  # fmt: skip
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert deploy.is_loopback(host) is loopback


def test_what_production_means() -> None:
    assert deploy.in_production("production", "127.0.0.1")
    assert deploy.in_production("", "0.0.0.0")  # noqa: S104
    assert not deploy.in_production("", "127.0.0.1")
    assert not deploy.in_production("development", "0.0.0.0")  # noqa: S104


def test_check_deploy_leaves_what_django_reports_to_django(fit: Any) -> None:
    fit.DEBUG = True
    fit.SESSION_COOKIE_SECURE = False
    fit.KAM_BASE_URL = ""

    assert [m.id for m in deploy.check_production()] == ["kam.W002"]


def test_gunicorn_s_server_header_is_dropped() -> None:
    import gunicorn.http.wsgi

    original = gunicorn.http.wsgi.Response.default_headers
    try:
        serve.build_server(host="127.0.0.1", port=8129, workers=1, threads=1, timeout=30)
        request = type("Request", (), {"version": (1, 1), "should_close": lambda self: False})()
        response = gunicorn.http.wsgi.Response(request, None, None)
        response.status = "200 OK"
        response.response_length = 0

        headers = response.default_headers()
    finally:
        gunicorn.http.wsgi.Response.default_headers = original

    assert headers[0] == "HTTP/1.1 200 OK\r\n"
    assert not [h for h in headers if h.lower().startswith("server:")]
    assert any(h.startswith("Date: ") for h in headers)


# --- owner-only files -------------------------------------------------------------------------

# Run inside `kam shell` while a SQLite connection and a spilling DuckDB are open, so that
# the -wal / -shm files and DuckDB's temporary files exist when the modes are read.
MODES_SCRIPT = """
import json, os
from django.conf import settings
from django.db import connection
from kam.ledger import lake
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS probe (x integer)")
    cursor.execute("INSERT INTO probe VALUES (1)")
con = lake.connect()
con.execute("SET memory_limit = '64MB'")
con.execute("SET threads = 1")
con.execute("CREATE TEMP TABLE spill AS SELECT range AS a, md5(range::VARCHAR) AS b FROM range(3000000)")
assert con.execute("SELECT count(*) FROM duckdb_temporary_files()").fetchone()[0] > 0
modes = {}
for folder, dirs, files in os.walk(settings.DATA_DIR):
    for name in dirs + files + ([] if folder != str(settings.DATA_DIR) else ["."]):
        path = os.path.normpath(os.path.join(folder, name))
        modes[os.path.relpath(path, settings.DATA_DIR)] = os.lstat(path).st_mode
print(json.dumps({"umask": os.umask(0o077), "modes": modes}))
"""


def test_everything_kam_creates_in_its_data_dir_is_owner_only(migrated: Path) -> None:
    environment = clean_environment(migrated.parent)
    waybills = write_waybills(migrated.parent / "waybills.csv", [good_row(1), good_row(2)])

    for args in (["collectstatic", "--no-input"], ["import", "waybills", str(waybills)]):
        result = kam(*args, env=environment)
        assert result.returncode == 0, (args, result.stderr)
    probe = kam("shell", "-c", MODES_SCRIPT, env=environment)
    assert probe.returncode == 0, probe.stderr
    report = json.loads(probe.stdout.strip().splitlines()[-1])

    assert report["umask"] == 0o077
    modes: dict[str, int] = report["modes"]
    names = set(modes)
    for expected in (".", "kam.sqlite3", "kam.sqlite3-wal", "kam.sqlite3-shm", "secret.key",
                     "field.key", "static", "static/kam/kam.css", "uploads", "lake",
                     "lake/rejects", "lake/duckdb-tmp"):  # fmt: skip
        assert expected in names, expected
    assert any(n.startswith("lake/duckdb-tmp/duckdb_temp") for n in names), names
    assert any(n.startswith("lake/") and n.endswith(".parquet") for n in names), names
    wrong = {
        name: f"{stat.S_IMODE(mode):04o}"
        for name, mode in modes.items()
        if stat.S_IMODE(mode) != (0o700 if stat.S_ISDIR(mode) else 0o600)
    }
    assert wrong == {}


def test_a_data_dir_left_open_by_an_older_kam_is_tightened_once_with_a_line(
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    (data / "lake" / "waybills").mkdir(parents=True)
    (data / "kam.sqlite3").write_bytes(b"")
    (data / "lake" / "waybills" / "b1.parquet").write_bytes(b"")
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("not KAM's")
    (data / "link").symlink_to(outside)
    for path in (data, data / "lake", data / "lake" / "waybills"):
        path.chmod(0o755)
    for path in (data / "kam.sqlite3", data / "lake" / "waybills" / "b1.parquet", outside):
        path.chmod(0o644)
    environment = clean_environment(tmp_path)

    first = kam("check", env=environment)
    second = kam("check", env=environment)

    assert first.returncode == 0, first.stderr
    assert (
        f"KAM: {data} was open to other users (mode 0755); made it and everything" in first.stderr
    )
    assert "KAM:" not in second.stderr
    for path in (data, data / "lake", data / "lake" / "waybills"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (data / "kam.sqlite3", data / "lake" / "waybills" / "b1.parquet"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(outside.stat().st_mode) == 0o644  # a link is not followed


def test_the_wsgi_module_sets_the_owner_only_umask_first(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own module
        [sys.executable, "-c", "import os, kam.wsgi; print(os.umask(0))"],
        cwd=ROOT, env=clean_environment(tmp_path), capture_output=True, text=True,
        timeout=60, check=False, umask=LAX_UMASK,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(0o077)
    assert stat.S_IMODE((tmp_path / "var" / "secret.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "var" / "static").stat().st_mode) == 0o700


def test_private_dir_creates_owner_only_even_under_a_lax_umask(tmp_path: Path) -> None:
    previous = os.umask(LAX_UMASK)
    try:
        datadir.private_dir(tmp_path / "a" / "var")
    finally:
        os.umask(previous)

    assert stat.S_IMODE((tmp_path / "a" / "var").stat().st_mode) == 0o700


def test_tighten_keeps_the_owner_s_permissions_and_reports_what_it_cannot_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "tool").write_text("#!/bin/sh\n")
    (tmp_path / "tool").chmod(0o755)
    (tmp_path / "theirs").write_text("")
    (tmp_path / "theirs").chmod(0o644)
    real_chmod = os.chmod

    def chmod(path: Any, mode: int, **kwargs: Any) -> None:
        if Path(path).name == "theirs":
            raise PermissionError("not yours")
        real_chmod(path, mode, **kwargs)

    monkeypatch.setattr(os, "chmod", chmod)
    tmp_path.chmod(0o755)
    out = io.StringIO()

    datadir.private_dir(tmp_path, stream=out)

    assert stat.S_IMODE((tmp_path / "tool").stat().st_mode) == 0o700
    assert "could not make 1 of them owner-only" in out.getvalue()
    assert str(tmp_path / "theirs") in out.getvalue()
