"""The alert rules of a run: decline, silence, lane loss and new qualifying codes.

Definitions (docs/segmentation.md):

* **decline** (accounts of class A or B): the last 3 months' revenue fell by at least ``decline_drop`` against the same
  3 months a year before (comparing like months removes the season: 11.11, Spring
  Festival); or the last month fell below the 80 % band that the previous run forecast;
* **silence**: a daily shipper (on average ``daily_shipper_days`` active days a month in the
  3 months before the last) has had no waybill for ``silence_days`` days, counted from its
  last waybill date in the lake to the lake's last day (exact dates, read-only); without
  lake files, a daily shipper with no waybill in the last month of facts;
* **lane loss** (accounts of class A or B): a lane used in at least 3 of 6 months (origin -> destination city) that held at least ``lane_loss_share`` of
  an account's revenue in the 6 months before the last two carries nothing in those two,
  while the account still ships (a sign that a competitor took it);
* **new code**: a billing code outside the archive, first seen in the last 6 months, that
  already qualifies (economic, class A among codes, or potential).
One unresolved alert per subject: a nightly run does not raise it again.
"""

import datetime
from collections import defaultdict
from typing import Any

import numpy as np
from django.db import transaction
from django.urls import reverse
from django.utils.translation import ngettext

from kam.accounts.models import TeamMembership, TeamRole
from kam.core.models import Role, User
from kam.core.notify import notify

from .models import Alert, Run, Valuation

LANE_MONTHS = 3  # a lane used in at least this many of the 6 earlier months is a regular one


def _matters(v: Valuation | None) -> bool:
    """Decline and lane-loss alerts are for the accounts that hold the revenue: class A or B."""
    return v is not None and v.abc in ("A", "B")


def _key(kind: str, account_id: int | None, code: str, subject: str) -> tuple[Any, ...]:
    return (kind, account_id, code, subject)


def raise_alerts(
    run: Run, rules: Any, data: Any, account_rows: dict[int, Valuation], codes_res: Any,
    candidates: np.ndarray,
) -> dict[str, int]:  # fmt: skip
    from . import runner

    months: list[datetime.date] = data.months
    m = len(months)
    x = data.account_matrix
    found: list[Alert] = []

    # Decline
    previous = (
        Run.objects.filter(status=Run.Status.DONE, created_at__lt=run.created_at)
        .exclude(pk=run.pk).order_by("-created_at").first()
    )  # fmt: skip
    prev_forecast: dict[int, Any] = {}
    if previous is not None:
        prev_forecast = dict(
            Valuation.objects.filter(run=previous, level="account", forecast__isnull=False)
            .values_list("account_id", "forecast")
        )  # fmt: skip
    as_of_key = f"{months[-1]:%Y-%m}"
    for i, account in enumerate(data.accounts):
        if not _matters(account_rows.get(account.pk)) or not data.account_codes.get(account.pk):
            continue
        if m >= 15:
            recent = float(x.revenue[i, m - 3 :].sum())
            prior = float(x.revenue[i, m - 15 : m - 12].sum())
            if prior > 0 and recent < prior * (1 - rules.decline_drop):
                found.append(Alert(kind=Alert.Kind.DECLINE, account=account, run=run, params={
                    "rule": "yoy", "drop": round((1 - recent / prior) * 100, 1),
                    "recent": round(recent, 2), "prior": round(prior, 2),
                    "threshold": rules.decline_drop * 100,
                    "from": f"{months[m - 3]:%Y-%m}", "to": as_of_key}))  # fmt: skip
                continue
        fc = prev_forecast.get(account.pk)
        if fc and as_of_key in fc.get("months", []):
            k = fc["months"].index(as_of_key)
            lo = fc["revenue"]["lo"][k]
            actual = float(x.revenue[i, m - 1])
            if lo > 0 and actual < lo:
                found.append(Alert(kind=Alert.Kind.DECLINE, account=account, run=run, params={
                    "rule": "band", "actual": round(actual, 2), "lo": lo, "month": as_of_key}))  # fmt: skip

    # Silence
    code_index = {c: i for i, c in enumerate(data.codes)}
    cm = data.code_matrix
    daily: dict[str, Any] = {}
    if m >= 4:
        for account in data.accounts:
            for code in data.account_codes.get(account.pk, []):
                ci = code_index.get(code)
                if (
                    ci is not None
                    and cm.active_days[ci, m - 4 : m - 1].mean() >= rules.daily_shipper_days
                ):
                    daily[code] = account
    if daily:
        recent_months = months[-2:]
        last_dates = runner.last_ship_dates(list(daily), recent_months)
        last_day = runner.lake_last_day(recent_months) if last_dates else None
        for code, account in daily.items():
            if last_day is not None:
                seen = last_dates.get(code)
                silent = (last_day - seen).days if seen else None
                if silent is None or silent >= rules.silence_days:
                    found.append(Alert(kind=Alert.Kind.SILENCE, account=account, subject=code,
                                       run=run, params={"code": code, "days": silent,
                                       "last": seen.isoformat() if seen else None,
                                       "threshold": rules.silence_days}))  # fmt: skip
            elif cm.waybills[code_index[code], m - 1] == 0:
                found.append(Alert(kind=Alert.Kind.SILENCE, account=account, subject=code, run=run,
                                   params={"code": code, "month": as_of_key, "days": None,
                                           "threshold": rules.silence_days}))  # fmt: skip

    # Lane loss
    if m >= 8:
        linked = [c for codes in data.account_codes.values() for c in codes]
        earlier = runner.lane_revenue(linked, months[m - 8], months[m - 3])
        later = runner.lane_revenue(linked, months[m - 2], months[m - 1])
        code_account = {c: a for a, codes in data.account_codes.items() for c in codes}
        lanes: dict[int, dict[tuple[str, str], float]] = defaultdict(lambda: defaultdict(float))
        recent_lanes: dict[int, set[tuple[str, str]]] = defaultdict(set)
        lane_months: dict[int, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
        for (code, o, d), (revenue, n_months) in earlier.items():
            lanes[code_account[code]][o, d] += revenue
            lane_months[code_account[code]][o, d] = max(
                lane_months[code_account[code]][o, d], n_months
            )
        for code, o, d in later:
            recent_lanes[code_account[code]].add((o, d))
        index = {a.pk: i for i, a in enumerate(data.accounts)}
        for account in data.accounts:
            i = index[account.pk]
            total = float(x.revenue[i, m - 8 : m - 2].sum())
            if (
                not _matters(account_rows.get(account.pk))
                or total <= 0
                or x.revenue[i, m - 2 :].sum() <= 0
            ):
                continue
            for (o, d), revenue in sorted(lanes.get(account.pk, {}).items(), key=lambda kv: -kv[1]):
                if (
                    revenue / total >= rules.lane_loss_share
                    and (o, d) not in recent_lanes[account.pk]
                ):
                    found.append(Alert(kind=Alert.Kind.LANE_LOSS, account=account, subject=f"{o}-{d}",
                                       run=run, params={"origin": o, "destination": d,
                                       "share": round(revenue / total * 100, 1),
                                       "from": f"{months[m - 8]:%Y-%m}", "to": f"{months[m - 3]:%Y-%m}"}))  # fmt: skip

    # New qualifying codes
    active = cm.waybills > 0
    first = np.where(active.any(axis=1), np.argmax(active, axis=1), m)
    linked_codes = {c for codes in data.account_codes.values() for c in codes}
    for ci, code in enumerate(data.codes):
        qualifies = candidates[ci] or codes_res.pareto.abc[ci] == "A"
        if qualifies and first[ci] >= m - 6 and code not in linked_codes:
            found.append(Alert(kind=Alert.Kind.NEW_CODE, code=code, run=run, params={
                "code": code, "first": f"{months[first[ci]]:%Y-%m}",
                "revenue": round(float(codes_res.figures.revenue[ci]), 2),
                "abc": str(codes_res.pareto.abc[ci])}))  # fmt: skip

    existing = {
        _key(*k) for k in Alert.objects.exclude(status=Alert.Status.RESOLVED)
        .values_list("kind", "account_id", "code", "subject")
    }  # fmt: skip
    new = []
    for alert in found:
        key = _key(alert.kind, alert.account_id, alert.code, alert.subject)
        if key not in existing:
            existing.add(key)
            new.append(alert)
    with transaction.atomic():
        Alert.objects.bulk_create(new, batch_size=1000)
        _notify(run, new)
    counts = {k: 0 for k in Alert.Kind.values}
    for alert in new:
        counts[alert.kind] += 1
    return counts


def recipients(alert: Alert, owners: dict[int, User], department: list[User]) -> list[User]:
    """The account's owner and the key-account department."""
    out = list(department)
    if alert.account_id and alert.account_id in owners:
        out.append(owners[alert.account_id])
    return out


def _notify(run: Run, alerts: list[Alert]) -> None:
    """One notification per person and run, listing their new alerts."""
    from .messages import alert_text

    if not alerts:
        return
    owners = {
        t.account_id: t.user
        for t in TeamMembership.objects.filter(
            role=TeamRole.OWNER, account_id__in={a.account_id for a in alerts if a.account_id}
        ).select_related("user")
    }
    department = list(User.objects.filter(role=Role.DEPARTMENT, is_active=True))
    per_user: dict[int, tuple[User, list[Alert]]] = {}
    for alert in alerts:
        for user in recipients(alert, owners, department):
            per_user.setdefault(user.pk, (user, []))[1].append(alert)
    url = reverse("segmentation:alerts")
    for user, mine in per_user.values():
        lines = [f"· {alert_text(a)}" for a in mine[:20]]
        if len(mine) > 20:
            lines.append("…")
        notify(
            [user],
            subject=ngettext(
                "%(n)d new key-account alert", "%(n)d new key-account alerts", len(mine)
            )
            % {"n": len(mine)},
            body="\n".join(lines),
            url=url,
            kind="segmentation.alert",
            email=run.trigger != Run.Trigger.DEMO,
        )
