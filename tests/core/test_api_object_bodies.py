"""Issue 13: a request body that is not a JSON object is refused (422, naming the body) by
every operation that takes one; before, ninja read such a body as an object with every
field missing, and operations whose fields all have defaults acted on it."""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from kam.api import api
from kam.core.models import User
from kam.segmentation.models import RuleSet
from tests import catalogues
from tests.conftest import API, CSRF_SECRET, JsonClient, assert_error

pytestmark = pytest.mark.django_db

NOT_OBJECTS = ["garbage", [1, 2], 5, True, None]


def _send(client: JsonClient, method: str, path: str, body: Any) -> Any:
    return client.client.generic(
        method.upper(), API + path, json.dumps(body), content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET, "Accept-Language": "en"},
    )  # fmt: skip


def _object_body_operations() -> list[tuple[str, str]]:
    """Every operation whose JSON body is an object schema (the waybill push takes an
    array or NDJSON and is checked by the import)."""
    out = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema", {})
            if "$ref" in schema or schema.get("type") == "object":
                out.append((method, re.sub(r"\{[^}]+\}", "1", path.removeprefix(API))))
    return out


def test_every_operation_with_an_object_body_refuses_other_json(
    session_client: Callable[..., JsonClient], director: User
) -> None:
    operations = _object_body_operations()
    assert len(operations) > 20  # the walk found the API's operations
    client = session_client(director)
    wrong = []
    for method, path in operations:
        for body in NOT_OBJECTS:
            response = _send(client, method, path, body)
            errors = response.json().get("errors", [])
            if response.status_code != 422 or [e["field"] for e in errors] != ["body"]:
                wrong.append((method, path, body, response.status_code, errors))
    assert wrong == []


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_rules_are_not_saved_from_a_non_object_body(
    api_as: Callable, director: User, body: Any
) -> None:
    before = RuleSet.objects.count()
    response = _send(api_as(director), "post", "/segmentation/rules", body)
    error = assert_error(response, 422, "body")["errors"][0]["message"]
    assert error.startswith("Expected a JSON object")
    assert RuleSet.objects.count() == before


def test_a_misspelt_rule_is_refused_not_saved_as_an_unchanged_version(
    api_as: Callable, director: User
) -> None:
    before = RuleSet.objects.count()
    response = api_as(director).post("/segmentation/rules", {"economic_treshold": 1})
    assert_error(response, 422, "economic_treshold")
    assert RuleSet.objects.count() == before


def test_the_message_is_in_the_users_language(
    session_client: Callable[..., JsonClient], director: User
) -> None:
    catalogues.compile_stale()
    catalogues.reset_caches()
    client = session_client(director)
    response = client.client.post(
        API + "/segmentation/rules", "[1, 2]", content_type="application/json",
        headers={"Accept-Language": "zh-hans", "X-CSRFToken": CSRF_SECRET},
    )  # fmt: skip
    assert_error(response, 422, "body")
    assert response.json()["errors"][0]["message"] == "应为 JSON 对象（{…}），而不是数组。"
