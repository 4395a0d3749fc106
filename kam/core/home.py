"""Helpers for the sections apps contribute to the home page (工作台).

The registry is :mod:`kam.core.panels` (page ``"home"``); each app keeps its sections in
``kam/<app>/home.py`` and registers them in its ``AppConfig.ready()``. A section renders
for the signed-in user and returns ``None`` for the roles it does not serve.
"""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string

#: How many items a section lists; its count and "all …" link cover the rest.
ITEMS = 6


def total_of(rows: QuerySet[Any], shown: list[Any]) -> int:
    """How many ``rows`` there are, where ``shown`` is ``list(rows[:ITEMS])``: when fewer
    came back, they are all (no COUNT query; most sections list only a few)."""
    return len(shown) if len(shown) < ITEMS else rows.count()


def section(request: HttpRequest, template: str, key: str, **context: Any) -> str:
    """Render a section template (which extends ``core/home/_section.html``).

    Without the request: sections need no CSRF token or user, and the page's context
    processors (the unread notifications' count...) would run again for every section."""
    return render_to_string(template, {"key": key, **context})


# The number of the user's accounts: the page's header says it, and a manager's book of
# business (kam.ledger.home) has already counted them; kept on the request, so never shown
# to another user.
_MY_ACCOUNTS = "_kam_home_my_accounts"


def remember_my_accounts(request: HttpRequest, count: int) -> None:
    """Keep ``count`` as the number of ``account_list_for(request.user)`` for this request."""
    setattr(request, _MY_ACCOUNTS, count)


def my_accounts(request: HttpRequest, count: Callable[[], int]) -> int:
    """The number a section remembered for this request, else ``count()``."""
    known = getattr(request, _MY_ACCOUNTS, None)
    return count() if known is None else int(known)
