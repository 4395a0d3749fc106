"""Settings come from KAM_* variables, fail loudly on bad values, and pass the deploy check."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from kam.core import env

ROOT = Path(__file__).resolve().parents[2]


def _kam(*args: str, extra_env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KAM_")
        and k not in {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update({"KAM_DATA_DIR": str(tmp_path), **extra_env})
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [sys.executable, "-m", "kam.cli", *args],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


# The documented production environment passes `check --deploy`: tests/core/test_deploy.py.


def test_deploy_check_fails_without_https_settings(tmp_path):
    result = _kam("check", "--deploy", "--fail-level", "WARNING", extra_env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "SECURE_SSL_REDIRECT" in result.stderr + result.stdout


def test_a_bad_boolean_stops_start_up_naming_the_variable(tmp_path):
    result = _kam("check", extra_env={"KAM_DEBUG": "maybe"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "KAM_DEBUG='maybe' is not a boolean" in result.stderr


def test_secrets_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("KAM_SOMETHING_FILE", str(secret))
    assert env.env_str("KAM_SOMETHING", "default") == "from-the-file"


def test_an_unreadable_secret_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_SOMETHING_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="KAM_SOMETHING_FILE"):
        env.env_str("KAM_SOMETHING", "default")


def test_a_choice_outside_its_list_is_refused_naming_the_choices(monkeypatch):
    monkeypatch.setenv("KAM_FLAVOUR", "Production")
    with pytest.raises(
        ImproperlyConfigured, match="KAM_FLAVOUR='Production' is not one of: a, production"
    ):
        env.env_choice("KAM_FLAVOUR", ("a", "production"), "")
    monkeypatch.setenv("KAM_FLAVOUR", " production ")
    assert env.env_choice("KAM_FLAVOUR", ("a", "production"), "") == "production"
    monkeypatch.setenv("KAM_FLAVOUR", "")
    assert env.env_choice("KAM_FLAVOUR", ("a", "production"), "a") == "a"


def test_a_bad_integer_is_refused(monkeypatch):
    monkeypatch.setenv("KAM_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="KAM_NUMBER='ten' is not an integer"):
        env.env_int("KAM_NUMBER", 1)


def test_generated_secrets_persist_and_are_private(tmp_path):
    path = tmp_path / "field.key"
    first = env.persistent_secret(path, "fernet")
    assert env.persistent_secret(path, "fernet") == first
    assert path.stat().st_mode & 0o077 == 0
