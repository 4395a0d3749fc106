"""Helpers for the sections apps contribute to the home page (工作台).

The registry is :mod:`kam.core.panels` (page ``"home"``); each app keeps its sections in
``kam/<app>/home.py`` and registers them in its ``AppConfig.ready()``. A section renders
for the signed-in user and returns ``None`` for the roles it does not serve.
"""

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

#: How many items a section lists; its count and "all …" link cover the rest.
ITEMS = 6


def section(request: HttpRequest, template: str, key: str, **context: Any) -> str:
    """Render a section template (which extends ``core/home/_section.html``).

    Without the request: sections need no CSRF token or user, and the page's context
    processors (the unread notifications' count...) would run again for every section."""
    return render_to_string(template, {"key": key, **context})
