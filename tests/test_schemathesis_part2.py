"""schemathesis, the second half of the API's operations (see tests/test_schemathesis.py):
a module of its own, so that a second test worker runs it beside the first half."""

from typing import Any

import pytest

from tests.test_schemathesis import archive, check_every_operation, wsgi_app

pytestmark = pytest.mark.django_db
__all__ = ["archive", "wsgi_app"]  # the fixtures, for this module's test


@pytest.mark.parametrize("persona", ["director", "owner"])
def test_every_operation_answers_without_server_errors_and_as_documented(
    persona: str, archive: dict, wsgi_app: Any, request: Any, caplog: Any
) -> None:
    check_every_operation(1, persona, archive, wsgi_app, request, caplog)
