"""A home section's total: no COUNT when its short list is all there is."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kam.core.home import ITEMS, total_of
from kam.core.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_short_list_is_its_own_total_and_a_full_one_is_counted():
    UserFactory.create_batch(2)
    rows = User.objects.order_by("pk")
    shown = list(rows[:ITEMS])
    with CaptureQueriesContext(connection) as queries:
        assert total_of(rows, shown) == 2
    assert len(queries) == 0
    UserFactory.create_batch(ITEMS + 1)
    shown = list(rows[:ITEMS])
    with CaptureQueriesContext(connection) as queries:
        assert total_of(rows, shown) == ITEMS + 3
    assert len(queries) == 1
