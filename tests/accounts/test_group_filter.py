"""The account list's group filter: every group an option, rendered without a template per
option (5,000 groups made it most of the page's time), the chosen one selected."""

import pytest
from django.test import Client

from kam.accounts.forms import LongSelect
from kam.core.models import User
from tests.factories import AccountFactory, GroupFactory

pytestmark = pytest.mark.django_db


def test_the_group_filter_lists_groups_marks_the_chosen_and_filters(director: User) -> None:
    chosen = GroupFactory(name="华东<集团>")
    other = GroupFactory(name="华南集团")
    AccountFactory(name="甲公司", group=chosen)
    AccountFactory(name="乙公司", group=other)
    client = Client()
    client.force_login(director)
    html = client.get("/accounts/", {"group": chosen.pk}).content.decode()
    assert f'<option value="{chosen.pk}" selected>华东&lt;集团&gt;</option>' in html
    assert f'<option value="{other.pk}">华南集团</option>' in html
    assert 'name="group"' in html and 'class="form-select' in html and 'id="id_group"' in html
    assert "甲公司" in html and "乙公司" not in html
    bad = client.get("/accounts/", {"group": "999999"})
    assert bad.status_code == 200 and "甲公司" not in bad.content.decode()


def test_a_long_select_renders_like_a_select() -> None:
    widget = LongSelect(choices=[("", "全部"), (1, "a&b"), (2, "c")])
    html = widget.render("group", 2, {"id": "g", "class": "form-select"})
    assert html.startswith("<select ") and html.endswith("</select>")
    assert ' id="g"' in html and ' class="form-select"' in html and ' name="group"' in html
    assert html[html.index("<option") :] == (
        '<option value="">全部</option><option value="1">a&amp;b</option>'
        '<option value="2" selected>c</option></select>'
    )
