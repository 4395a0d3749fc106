"""The ``money`` template filter: CNY with separators, the minus sign before the currency."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from kam.core.templatetags.kam import money
from kam.segmentation import messages


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("-872.07"), "\u2212¥872.07"),
        (Decimal("-1234567.5"), "\u2212¥1,234,567.50"),
        ("-0.50", "\u2212¥0.50"),
        (-3, "\u2212¥3.00"),
        (Decimal("-0.001"), "¥0.00"),  # rounds to nothing: no sign
        (Decimal("872.07"), "¥872.07"),
        (0, "¥0.00"),
        (None, ""),
        ("", ""),
        ("n/a", "n/a"),  # not a number: shown as given
    ],
)
def test_money(value, shown):
    assert money(value) == shown


def test_a_loss_in_a_template_and_in_a_message():
    html = Template("{% load kam %}{{ v|money }}").render(Context({"v": Decimal("-872.07")}))
    assert html == "\u2212¥872.07" and "¥-" not in html
    assert messages.money(-872.07) == "\u2212¥872.07"
    assert messages.money(None) == "—"
