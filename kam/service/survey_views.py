"""Survey pages: campaigns (list, new, one campaign with sending, reminders and results),
results across campaigns, and the public answer page behind each unique link."""

import datetime
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from kam.core import access, rls
from kam.core.errors import ApplicationError
from kam.core.views import forbidden

from . import selectors, services, surveys
from .forms import CampaignForm
from .models import Campaign, Invitation
from .views import NOT_SERVICE, _message, _sees

CHART_SCRIPTS = ("vendor/echarts.min.js", "service/charts.js")

CAMPAIGN_PAGE_SIZE = 30
INVITATION_PAGE_SIZE = 50


def _sections(data: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], str]]:
    shown, total = len(data["by_account"]), data.get("accounts_total", 0)
    by_account = _("By account") if total <= shown else _(
        "By account (the %(shown)s lowest of %(total)s)") % {"shown": shown, "total": total}  # fmt: skip
    return [
        (by_account, data["by_account"], "results-account"),
        (
            _("By tier"),
            [
                {**g, "label": _("Tier %(n)s") % {"n": g["label"]} if g["label"] != "—" else "—"}
                for g in data["by_tier"]
            ],
            "results-tier",
        ),
        (_("By industry"), data["by_industry"], "results-industry"),
        (_("By owner"), data["by_owner"], "results-owner"),
    ]


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not _sees(request):
        return forbidden(request, NOT_SERVICE)
    rows = selectors.campaign_rows_for(request.user).order_by("-created_at", "-pk")
    page = Paginator(rows, CAMPAIGN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "service/campaign_list.html", {
        "rows": page.object_list, "page": page, "nav": "service",
        "can_manage": services.may_manage_service(request.user)})  # fmt: skip


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    if not services.may_manage_service(request.user):
        return forbidden(request, _("Only the key-account department sends surveys."))
    default_expiry = timezone.localtime() + datetime.timedelta(days=14)
    form = CampaignForm(request.POST or None, initial={
        "template": surveys.template_default().pk, "expires_at": default_expiry.strftime("%Y-%m-%dT%H:%M"),
        "name": _("Satisfaction survey %(date)s") % {"date": f"{timezone.localdate():%Y-%m}"},
    })  # fmt: skip
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            campaign = surveys.campaign_create(
                by=request.user, name=d["name"], template=d["template"], expires_at=d["expires_at"],
                tiers=d["tiers"], categories=d["categories"],
                industries=[i.pk for i in d["industries"]], owners=[u.pk for u in d["owners"]],
            )  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            from kam.accounts.forms import refuse_on_form

            refuse_on_form(form, exc)
        else:
            return redirect("service:campaign_detail", pk=campaign.pk)
    return render(request, "service/campaign_form.html", {"form": form, "nav": "service"})


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    try:
        return selectors.campaign_list_for(request.user).get(pk=pk)
    except Campaign.DoesNotExist:
        raise Http404 from None


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    user = request.user
    # Every list and count here covers only the accounts the user sees.
    invitations = selectors.campaign_invitations_for(user, campaign).order_by("account__name", "id")
    can_manage = services.may_manage_service(user)
    targets = (
        surveys.campaign_targets(campaign)
        if can_manage and campaign.status == Campaign.CampaignStatus.DRAFT
        else None
    )
    results = selectors.survey_results(user, campaign=campaign)
    page = Paginator(invitations, INVITATION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "service/campaign_detail.html", {
        "campaign": campaign, "invitations": page.object_list, "page": page,
        "invited": page.paginator.count,
        "answered": invitations.filter(answered_at__isnull=False).count(),
        "targets": targets.count() if targets is not None else None,
        "results": results, "sections": _sections(results), "nav": "service", "can_manage": can_manage,
        "expired": campaign.expires_at <= timezone.now(), "sees_contacts": access.sees_contacts(user),
    })  # fmt: skip


@login_required
@require_POST
def campaign_send(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        counts = surveys.campaign_send(by=request.user, campaign=campaign)
    except (ApplicationError, ValidationError) as exc:
        flash.error(request, _message(exc))
    else:
        flash.success(request, _("Sent to %(n)s contacts at %(a)s accounts (%(x)s contacts have no e-mail address).")
                      % {"n": counts["invited"], "a": counts["accounts"], "x": counts["without_email"]})  # fmt: skip
    return redirect("service:campaign_detail", pk=campaign.pk)


@login_required
@require_POST
def campaign_remind(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    try:
        n = surveys.campaign_remind(by=request.user, campaign=campaign)
    except (ApplicationError, ValidationError) as exc:
        flash.error(request, _message(exc))
    else:
        flash.success(request, _("Reminders sent to %(n)s contacts with a new link.") % {"n": n})
    return redirect("service:campaign_detail", pk=campaign.pk)


@login_required
def results(request: HttpRequest) -> HttpResponse:
    if not _sees(request):
        return forbidden(request, NOT_SERVICE)
    data = selectors.survey_results(request.user)
    chart = {
        "title": _("Trend over campaigns"),
        "labels": [t["campaign"] for t in data["trend"]],
        "series": [{"name": _("Average rating (1-5)"), "data": [t["average"] for t in data["trend"]]},
                   {"name": "NPS", "data": [t["nps"] for t in data["trend"]], "axis": 1}],
    }  # fmt: skip
    return render(request, "service/results.html", {"r": data, "chart": chart, "nav": "service", "sections": _sections(data),
                                                     "scripts": CHART_SCRIPTS})  # fmt: skip


# --- the public page ----------------------------------------------------------------------


def _answer_context(invitation: Invitation | None, state: str, token: str) -> dict[str, Any]:
    english = (translation.get_language() or "").startswith("en")
    context: dict[str, Any] = {"state": state, "token": token, "english": english,
                               "message": surveys.state_message(state)}  # fmt: skip
    if invitation is not None:
        template = invitation.campaign.template
        context.update(
            invitation=invitation, template=template,
            title=template.name_en if english else template.name_zh,
            intro=template.intro_en if english else template.intro_zh,
            dimensions=[{"key": d["key"], "label": d["en"] if english else d["zh"]} for d in template.dimensions],
            nps_range=range(11), rating_range=range(1, 6),
        )  # fmt: skip
    return context


@rls.unscoped  # no user to scope to: the link names its one invitation (PostgreSQL's wall)
@never_cache
@csrf_protect
@require_http_methods(["GET", "POST"])
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """Public on purpose (no login): the unique link is the credential. Answers once."""
    invitation, state = surveys.invitation_lookup(token)
    if request.method == "POST" and state == "open":
        ratings = {
            d["key"]: request.POST.get(f"rating_{d['key']}")
            for d in invitation.campaign.template.dimensions
        }  # type: ignore[union-attr]
        try:
            surveys.response_submit(token=token, ratings=ratings, nps=request.POST.get("nps"),
                                    comment=request.POST.get("comment", ""),
                                    language=translation.get_language() or "")  # fmt: skip
        except ValidationError as exc:
            context = _answer_context(invitation, state, token)
            context.update(errors=exc.message_dict, posted=request.POST)
            return render(request, "service/survey_answer.html", context, status=400)
        except ApplicationError:
            invitation, state = surveys.invitation_lookup(token)
        else:
            return render(
                request, "service/survey_answer.html", {"state": "thanks", "token": token}
            )
    status = 200 if state == "open" else (404 if state == "unknown" else 410)
    return render(
        request,
        "service/survey_answer.html",
        _answer_context(invitation, state, token),
        status=status,
    )
