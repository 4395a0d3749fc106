"""Panels that other apps contribute to the account and group pages.

Dependencies run ``core <- accounts <- ledger <- ...``: the archive may not import the apps
built on it, yet its pages show their figures (shipments, tiers, visits...). So an app
registers a panel here in its ``AppConfig.ready()``, and the archive's views ask this
registry for the rendered panels of a page.

The home page (工作台) works the same way: each app registers its sections of the ``"home"``
page in ``kam/<app>/home.py``; there ``obj`` is the signed-in user, and a section returns
``None`` for roles it does not serve. Every count and list in a section comes from the
user's access selectors.

A visit report's page (coverage) shows the ``"visit_report"`` panels; there ``obj`` is the
report, fetched through the user's access rules (planning offers its findings as
opportunities there).

A panel is a callable ``(request, obj) -> HTML | Content | None``; ``obj`` is the account
or group the page shows, which the view has already fetched through the user's access
rules, so a panel only narrows further (``None`` renders nothing). A panel that needs
scripts returns :class:`Content`; each script is loaded once per page, after the page's own.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.http import HttpRequest
from django.template import engines
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from kam.core import memo

Page = Literal["account", "group", "home", "visit_report"]


@dataclass(frozen=True)
class Content:
    html: str
    scripts: tuple[str, ...] = ()  # static paths, in load order


Render = Callable[[HttpRequest, Any], "str | Content | None"]


@dataclass(frozen=True)
class Panel:
    key: str
    render: Render
    order: int = 100


@dataclass
class Rendered:
    """What a page outputs: the panels' HTML in order, and the scripts they need."""

    html: list[SafeString] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.html)


_PANELS: dict[Page, dict[str, Panel]] = {"account": {}, "group": {}, "home": {}, "visit_report": {}}


def register(page: Page, key: str, render: Render, *, order: int = 100) -> None:
    """Add (or replace, by ``key``) a panel of ``page``."""
    _PANELS[page][key] = Panel(key, render, order)


def unregister(page: Page, key: str) -> None:
    _PANELS[page].pop(key, None)


def panels(page: Page) -> list[Panel]:
    return sorted(_PANELS[page].values(), key=lambda p: (p.order, p.key))


def render(
    page: Page, request: HttpRequest, obj: Any, *, page_scripts: Iterable[str] = ()
) -> Rendered:
    """Render the panels of ``page`` for ``obj``. Scripts the page loads itself
    (``page_scripts``) are not repeated."""
    out = Rendered()
    seen = set(page_scripts)
    # The panels share the page's facts (kam.core.memo): the ledger's latest month...
    with memo.page_scope():
        for panel in panels(page):
            content = panel.render(request, obj)
            if content is None:
                continue
            if not isinstance(content, Content):
                content = Content(content)
            if not content.html:
                continue
            # Panels return rendered templates (escaped where needed), not user input.
            out.html.append(mark_safe(content.html))  # noqa: S308
            for script in content.scripts:
                if script not in seen:
                    seen.add(script)
                    out.scripts.append(script)
    return out


_SHARED = "_kam_panel_context"


def render_template(request: HttpRequest, template_name: str, context: dict[str, Any]) -> str:
    """``render_to_string(template_name, context, request=request)`` for a panel: the
    template context processors' variables (CSRF token, navigation rights, the unread
    notifications' count...) are computed once per request and shared by all its panels,
    not again for each (a COUNT query and the rights each time). As with ``request=``, the
    processors' variables win over ``context``'s."""
    shared = getattr(request, _SHARED, None)
    if shared is None:
        shared = {}
        for processor in engines["django"].engine.template_context_processors:  # type: ignore[attr-defined]
            shared.update(processor(request))
        setattr(request, _SHARED, shared)
    return render_to_string(template_name, {**context, **shared})
