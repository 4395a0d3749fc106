"""Who may call the API: bearer tokens (hashed, revocable), the session with CSRF."""

import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from kam.accounts.models import CorporateGroup
from kam.core.models import ApiToken, User
from kam.core.services import token_create, token_revoke
from tests.conftest import JsonClient

pytestmark = pytest.mark.django_db


def assert_error_shape(body: dict) -> None:
    assert set(body) == {"detail", "errors"}
    assert isinstance(body["detail"], str) and body["detail"]
    assert all(set(e) == {"field", "message"} for e in body["errors"])


def test_unauthenticated_request_is_answered_401_with_the_error_shape(anon: JsonClient) -> None:
    response = anon.get("/me")
    assert response.status_code == 401
    assert_error_shape(response.json())
    assert response.json()["detail"] == "Log in or send a valid bearer token."


def test_unauthenticated_post_is_answered_401_not_a_csrf_refusal(
    session_client: Callable,
) -> None:
    response = session_client(None, csrf=False).post("/groups", {"name": "无名集团"})
    assert response.status_code == 401
    assert not CorporateGroup.objects.exists()


def test_a_bearer_token_identifies_its_user(director: User, token_client: Callable) -> None:
    response = token_client(director).get("/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": director.pk, "username": "director", "display_name": "王总监", "role": "director",
    }  # fmt: skip


def test_only_a_hash_of_the_token_is_stored(director: User) -> None:
    token, plain = token_create(user=director, name="ERP sync")
    stored = ApiToken.objects.get(pk=token.pk)
    assert plain.startswith("kam_")
    assert stored.prefix == plain[:12]
    assert stored.token_hash != plain
    assert plain not in stored.token_hash
    assert len(stored.token_hash) == 64


def test_using_a_token_records_when_it_was_last_used(director: User, client) -> None:
    token, plain = token_create(user=director, name="ERP sync")
    assert token.last_used_at is None
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert (timezone.now() - token.last_used_at).total_seconds() < 60


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_revoked_token_is_answered_401(director: User, method: str) -> None:
    token, plain = token_create(user=director, name="old script")
    token_revoke(token=token)
    call = getattr(Client(enforce_csrf_checks=True), method)
    response = call(
        "/api/v1/groups", {"name": "撤销集团"} if method == "post" else None,
        content_type="application/json", headers={"Authorization": f"Bearer {plain}"},
    )  # fmt: skip
    assert response.status_code == 401
    assert_error_shape(response.json())
    assert not CorporateGroup.objects.exists()


@pytest.mark.parametrize("plain", ["kam_not-a-token", "something-else", ""])
def test_an_unknown_token_is_answered_401(db: None, client, plain: str) -> None:
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401


def test_the_token_of_a_deactivated_user_is_answered_401(director: User, client) -> None:
    _, plain = token_create(user=director, name="script")
    director.is_active = False
    director.save()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 401


def test_a_session_reads_without_a_csrf_token(director: User, session_client: Callable) -> None:
    response = session_client(director, csrf=False).get("/me")
    assert response.status_code == 200
    assert response.json()["username"] == "director"


def test_a_session_post_without_the_csrf_token_is_refused_403(
    director: User, session_client: Callable
) -> None:
    response = session_client(director, csrf=False).post("/groups", {"name": "无令牌集团"})
    assert response.status_code == 403
    assert_error_shape(response.json())
    assert "CSRF" in response.json()["detail"]
    assert not CorporateGroup.objects.exists()


def test_a_session_post_with_the_csrf_token_is_accepted(
    director: User, session_client: Callable
) -> None:
    response = session_client(director).post("/groups", {"name": "有令牌集团"})
    assert response.status_code == 201
    assert CorporateGroup.objects.get().name == "有令牌集团"


def test_a_token_post_needs_no_csrf_token(director: User, token_client: Callable) -> None:
    response = token_client(director).post("/groups", {"name": "程序集团"})
    assert response.status_code == 201
    assert CorporateGroup.objects.filter(name="程序集团").exists()


CHINESE = re.compile(r"[\u4e00-\u9fff]")


def test_errors_come_in_the_language_the_user_asks_for(anon: JsonClient) -> None:
    english = anon.get("/me", headers={"Accept-Language": "en"}).json()["detail"]
    chinese = anon.get("/me", headers={"Accept-Language": "zh-hans"}).json()["detail"]
    assert english == "Log in or send a valid bearer token."
    assert chinese != english
    assert CHINESE.search(chinese), chinese  # needs the compiled catalogue (make messages)


def test_chinese_is_the_default_language_of_errors(director: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(director)
    body = client.get("/api/v1/accounts", {"tier": 9}).json()
    assert CHINESE.search(body["detail"]), body
    assert [e["field"] for e in body["errors"]] == ["tier"]
