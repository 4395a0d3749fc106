"""Pages of the stakeholder map, the coverage rules and account health. Thin: the account
comes through the user's access rules (a foreign id answers 404 like a missing one), the
reads are :mod:`.stakeholders`, :mod:`.rules` and :mod:`.health`."""

import datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from kam.accounts.models import Account
from kam.accounts.selectors import account_get_for
from kam.core import access, panels
from kam.core.errors import PermissionDeniedError
from kam.core.models import User
from kam.core.views import forbidden

from . import health, rules, selectors
from .forms import Styled
from .models import HEALTH_PARTS, AccountPlan, CoverageRules
from .stakeholders import AccountPeople, people_for


def _account(request: HttpRequest, pk: int) -> Account:
    if not selectors.sees_plans(request.user):
        raise Http404
    try:
        return account_get_for(request.user, pk)
    except Account.DoesNotExist:
        raise Http404 from None


def stakeholder_context(user: User, accounts: list[Account], *, today: datetime.date,
                        people: dict[int, AccountPeople] | None = None,
                        coverage: CoverageRules | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Per account (already checked against ``user``'s access): its map and warnings.
    Four queries for the people and one for the rules, whatever the number of accounts
    (none when the caller passes them: ``people_for(ids, today=today)``, ``rules_get()``)."""
    if people is None:
        people = people_for([a.pk for a in accounts], today=today)
    if coverage is None:
        coverage = rules.rules_get()
    names = access.sees_contacts(user)
    return [{
        "account": a, "people": people[a.pk], "names": names,
        "warnings": rules.warnings_for(people[a.pk], tier=a.tier, rules=coverage, today=today),
    } for a in accounts]  # fmt: skip


def _chart(view: health.HealthView) -> dict[str, Any]:
    return {"days": [d.isoformat() for d, _s in view.history],
            "scores": [s for _d, s in view.history], "label": _("Health")}  # fmt: skip


@login_required
@require_GET
def account_stakeholders(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    today = timezone.localdate()
    block = stakeholder_context(request.user, [account], today=today)[0]
    return render(request, "planning/stakeholder_map.html", {
        **block, "today": today, "columns": AccountPeople.columns(), "nav": "planning",
    })  # fmt: skip


@login_required
@require_GET
def account_health(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    today = timezone.localdate()
    view = health.account_health(account, today=today)
    return render(request, "planning/health_account.html", {
        "account": account, "health": view, "chart": _chart(view), "today": today,
        "history": list(reversed(view.history))[:24], "nav": "planning",
    })  # fmt: skip


# --- the directors' settings ------------------------------------------------------------------


class RulesForm(Styled):
    no_decision_maker = forms.BooleanField(required=False, label=gettext_lazy(
        "Warn when no decision maker is known"))  # fmt: skip
    no_coach = forms.BooleanField(required=False, label=gettext_lazy(
        "Warn when there is no coach (内线)"))  # fmt: skip
    opponent = forms.BooleanField(required=False, label=gettext_lazy(
        "Warn about an opponent with high influence"))  # fmt: skip
    stale_contact = forms.BooleanField(required=False, label=gettext_lazy(
        "Warn about a key contact not met lately"))  # fmt: skip
    stale_days = forms.IntegerField(label=gettext_lazy("Not met lately after (days, 7–730)"))
    no_sponsor = forms.BooleanField(required=False, label=gettext_lazy(
        "Warn when we have no executive sponsor"))  # fmt: skip
    sponsor_max_tier = forms.IntegerField(label=gettext_lazy(
        "An executive sponsor is needed up to tier (1–5)"))  # fmt: skip

    def _style(self) -> None:
        super()._style()
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs["class"] = "form-check-input"


class HealthSettingsForm(Styled):
    drop_alert = forms.IntegerField(label=gettext_lazy("Alert on a drop of (points, 1–100)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = health.part_labels()
        for part in HEALTH_PARTS:
            self.fields[f"w_{part}"] = forms.IntegerField(label=labels[part])
        self.order_fields([*(f"w_{p}" for p in HEALTH_PARTS), "drop_alert"])
        self._style()


def _errors(form: Any, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        for error in errors:
            form.add_error(name if name in form.fields else None, error)


@login_required
def coverage_rules(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    can_edit = selectors.may_edit_policy(request.user)
    current = rules.rules_get()
    initial = {name: getattr(current, name) for name in RulesForm.base_fields}
    form = RulesForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        if form.is_valid():
            try:
                rules.rules_set(by=request.user, values=dict(form.cleaned_data))
            except ValidationError as exc:
                _errors(form, exc)
            except PermissionDeniedError as exc:
                return forbidden(request, str(exc.message))
            else:
                messages.success(request, _("Stakeholder rules saved."))
                return redirect("planning:coverage_rules")
    return render(request, "planning/stakeholder_rules.html", {
        "form": form, "rules": current, "can_edit": can_edit, "nav": "planning",
    })  # fmt: skip


@login_required
def health_settings(request: HttpRequest) -> HttpResponse:
    if not selectors.sees_plans(request.user):
        raise Http404
    can_edit = selectors.may_edit_policy(request.user)
    current = health.settings_get()
    initial = {f"w_{p}": w for p, w in current.weights.items()} | {"drop_alert": current.drop_alert}
    form = HealthSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not can_edit:
            return forbidden(request, _("You may not do this."))
        if form.is_valid():
            d = form.cleaned_data
            try:
                health.settings_set(by=request.user, drop_alert=d["drop_alert"],
                                    weights={p: d[f"w_{p}"] for p in HEALTH_PARTS})  # fmt: skip
            except ValidationError as exc:
                _errors(form, exc)
            except PermissionDeniedError as exc:
                return forbidden(request, str(exc.message))
            else:
                messages.success(request, _("Health settings saved."))
                return redirect("planning:health_settings")
    labels = health.part_labels()
    return render(request, "planning/health_settings.html", {
        "form": form, "can_edit": can_edit, "nav": "planning", "drop_alert": current.drop_alert,
        "weights": [(labels[p], w) for p, w in current.weights.items()],
    })  # fmt: skip


# --- the account page's panel and the plan page's block -----------------------------------------


def account_health_panel(request: HttpRequest, account: Account) -> panels.Content | None:
    """The account page: its health with each part explained, and the stakeholder
    warnings."""
    user = request.user
    if not access.is_active_user(user) or not selectors.sees_plans(user):
        return None
    today = timezone.localdate()
    # The map's people and rules serve the health computed now too (no snapshot yet).
    people = people_for([account.pk], today=today)
    coverage = rules.rules_get()
    view = health.account_health(
        account, today=today, history_days=120, people=people, rules=coverage
    )
    block = stakeholder_context(user, [account], today=today, people=people, coverage=coverage)[0]
    html = panels.render_template(request, "planning/_health_panel.html", {
        "account": account, "health": view, "chart": _chart(view), **block,
        "json_id": f"health-data-{account.pk}",
    })  # fmt: skip
    return panels.Content(html, scripts=("vendor/echarts.min.js", "planning/health.js"))


def plan_stakeholders(user: User, plan: AccountPlan) -> list[dict[str, Any]]:
    """The plan page's stakeholder maps: its account's, or those of the group's accounts
    the user sees (the first 20 by tier)."""
    accounts = selectors.plan_accounts(plan)
    if not access.sees_all_accounts(user):
        from kam.accounts.selectors import account_scope_q  # noqa: PLC0415

        accounts = accounts.filter(account_scope_q(user, "pk"))
    shown = list(accounts.order_by("tier", "name", "pk")[:20])
    return stakeholder_context(user, shown, today=timezone.localdate())
