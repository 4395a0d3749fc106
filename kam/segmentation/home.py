"""The segmentation app's sections of the home page (工作台).

Managers and analysts see the new (open) alerts of the accounts they see; the key-account
department and directors the tier proposals waiting for approval; analysts the figures of
the latest segmentation run. Reads go through :mod:`kam.segmentation.selectors`."""

from django.http import HttpRequest

from kam.core.home import ITEMS, section, total_of
from kam.core.models import Role, User

from . import messages, selectors
from .models import Alert


def alerts_section(request: HttpRequest, user: User) -> str | None:
    if user.role not in (Role.MANAGER, Role.ANALYST):
        return None
    alerts = selectors.alerts_for(user).filter(status=Alert.Status.OPEN)
    rows = list(alerts.order_by("-created_at", "-id")[:ITEMS])
    for a in rows:
        a.text = messages.alert_text(a)  # type: ignore[attr-defined]
    return section(
        request, "segmentation/home/alerts.html", "alerts", rows=rows, total=total_of(alerts, rows)
    )


def proposals_section(request: HttpRequest, user: User) -> str | None:
    if user.role not in (Role.DEPARTMENT, Role.DIRECTOR) or not selectors.sees_portfolio(user):
        return None
    proposals = selectors.proposals_for(user)
    rows = list(proposals[:ITEMS])
    return section(
        request, "segmentation/home/proposals.html", "proposals",
        rows=rows, total=total_of(proposals, rows),
    )  # fmt: skip


def portfolio_section(request: HttpRequest, user: User) -> str | None:
    """The latest run's portfolio figures (stored with the run: no query over accounts)."""
    if user.role != Role.ANALYST or not selectors.sees_portfolio(user):
        return None
    run = selectors.latest_run()
    stats = run.stats.get("accounts") if run is not None and not run.stats.get("empty") else None
    return section(
        request, "segmentation/home/portfolio.html", "portfolio",
        run=run, stats=stats, months=(run.stats.get("months") if stats else None),
        tiers=sorted((stats or {}).get("tiers", {}).items()),
    )  # fmt: skip


def register() -> None:
    from kam.core import panels

    panels.register("home", "segmentation.alerts", alerts_section, order=40)
    panels.register("home", "segmentation.proposals", proposals_section, order=20)
    panels.register("home", "segmentation.portfolio", portfolio_section, order=10)
