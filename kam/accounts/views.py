"""The archive's pages. Thin: parse with a form, call a selector or service, render."""

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kam.core import access, panels, regions
from kam.core import home as home_sections
from kam.core.errors import ApplicationError
from kam.core.exports import xlsx_response
from kam.core.models import AccessLog
from kam.core.views import forbidden, refusal_messages

from . import figures, selectors, services
from .forms import (
    AccountFilterForm,
    AccountForm,
    BillingCodeForm,
    ContactForm,
    GroupForm,
    StaffTieForm,
    TeamMemberForm,
    TieForm,
    refuse_on_form,
)
from .models import Account, Contact, CorporateGroup
from .privacy import selectors as privacy_selectors
from .privacy.forms import CorrectionForm

PAGE_SIZE = 25
#: Scripts the account page loads itself; panels that need them too do not repeat them.
ACCOUNT_PAGE_SCRIPTS = ("vendor/echarts.min.js", "accounts/account_detail.js")


def _account(request: HttpRequest, pk: int) -> Account:
    try:
        return selectors.account_get_for(request.user, pk)
    except Account.DoesNotExist:
        raise Http404 from None


def _contact(request: HttpRequest, pk: int) -> Contact:
    try:
        return selectors.contact_get_for(request.user, pk)
    except Contact.DoesNotExist:
        raise Http404 from None


# --- home and list ----------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page (工作台): what waits for the user today, by role. The sections come
    from the apps (``kam/<app>/home.py``, registered with :mod:`kam.core.panels`); each
    counts and lists only what the user's access selectors return."""
    user = request.user
    sections = panels.render("home", request, user)
    mine = (
        home_sections.my_accounts(request, selectors.account_list_for(user).count)
        if access.sees_customer_data(user) and not access.sees_all_accounts(user)
        else None
    )
    return render(request, "accounts/home.html", {
        "sections": sections, "nav": "home", "mine": mine,
        "sees_all": access.sees_all_accounts(user),
    })  # fmt: skip


def _filter_form(request: HttpRequest) -> AccountFilterForm:
    owners = list(selectors.account_owners())
    # The list's selects send "" for "all tiers" etc.: an empty value is no filter, not an
    # invalid choice (the multiple-choice fields would refuse it).
    data = request.GET.copy()
    for key in list(data):
        values = [v for v in data.getlist(key) if v != ""]
        if values:
            data.setlist(key, values)
        else:
            del data[key]
    return AccountFilterForm(data, owners=owners)


def _filtered_accounts(request: HttpRequest, form: AccountFilterForm) -> Any:
    accounts = selectors.account_list_for(request.user)
    if form.is_valid():
        return selectors.account_search(accounts, **form.search_arguments())
    return accounts.none()


@login_required
@require_GET
def account_list(request: HttpRequest) -> HttpResponse:
    if not access.sees_customer_data(request.user):
        raise Http404
    form = _filter_form(request)
    accounts = selectors.with_list_relations(_filtered_accounts(request, form))
    page = selectors.AccountPaginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form, "page": page, "nav": "accounts", "hx_target": "#account-table",
        "sort": request.GET.get("sort", "name"),
        "can_create": access.may_manage_archive(request.user),
        "revenue_caption": next(
            (f.caption() for f in figures.figures() if f.key == "revenue_12m"), None
        ),
        # The planning app's account health score, when it registered its figure.
        "health_shown": any(f.key == "health_score" for f in figures.figures()),
    }  # fmt: skip
    if request.htmx and request.htmx.target == "account-table":
        return render(request, "accounts/_account_table.html", context)
    return render(request, "accounts/account_list.html", context)


@login_required
@require_GET
def account_export(request: HttpRequest) -> HttpResponse:
    """The filtered list as XLSX (no personal data in it)."""
    if not access.sees_customer_data(request.user):
        raise Http404
    form = _filter_form(request)
    if not form.is_valid():
        messages.error(request, _("The filters are not valid; nothing was exported."))
        return redirect("account_list")
    accounts = selectors.with_list_relations(_filtered_accounts(request, form)).prefetch_related(
        "billing_codes"
    )
    header = [
        "ID", _("Name"), _("English name"), _("Unified social credit code"), _("Industry"),
        _("Province"), _("City"), _("Tier"), _("Categories"), _("Relationship stage"),
        _("Coverage model"), _("Status"), _("Owner"), _("Employees"),
        _("Annual output value (CNY)"), _("Estimated logistics spend (CNY / year)"),
        _("Billing account codes"), _("Updated"),
    ]  # fmt: skip
    tz = ZoneInfo(settings.TIME_ZONE)
    rows = (
        [
            a.pk, a.name, a.name_en, a.credit_code or "", str(a.industry or ""), a.province_label,
            a.city_label, a.tier, "、".join(a.category_labels), a.get_stage_display(),
            a.get_coverage_model_display(), a.get_status_display(),
            str(a.owners[0].user) if a.owners else "", a.employees, a.annual_output_value,
            a.logistics_spend_estimate, ", ".join(b.code for b in a.billing_codes.all()),
            a.updated_at.astimezone(tz).replace(tzinfo=None),
        ]
        for a in accounts.iterator(chunk_size=500)
    )  # fmt: skip
    stamp = datetime.now(tz).strftime("%Y%m%d-%H%M")
    # Names typed by users may start with '=': exports.safe_cell keeps them text.
    return xlsx_response(f"kam-accounts-{stamp}.xlsx", _("Accounts"), header, rows)


@login_required
@require_GET
def region_cities(request: HttpRequest) -> HttpResponse:
    """<option>s of a province's cities, for the account form's city select (HTMX)."""
    province = request.GET.get("province_code", "")
    cities = regions.cities(province) if regions.get(province) else []
    return render(request, "accounts/_city_options.html", {"cities": cities})


# --- account page and forms -------------------------------------------------------------------


@login_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    team = list(account.team.all())
    my_role = next((m.role for m in team if m.user_id == request.user.pk), None)
    rights = selectors.access_for_team_role(request.user, my_role)
    contacts: list[Contact] = []
    chart: dict[str, Any] = {}
    if rights.sees_contacts:
        # The page shows no contact details or personal information: leave the encrypted
        # columns unread (decrypting them was a tenth of a tier-1 page's time).
        private = (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS)
        contacts = list(
            account.contacts.select_related("reports_to")
            .defer(*private, *(f"reports_to__{f}" for f in private))
            .order_by("name")
        )
        chart = {
            "root": str(account),
            "org": selectors.org_chart([c for c in contacts if c.erased_at is None]),
            "graph": selectors.account_people_graph(request.user, account, contacts),
            "labels": {"contact": _("Contact here"), "external": _("Contact elsewhere"),
                       "staff": _("Our staff")},
        }  # fmt: skip
    members = {m.user_id for m in team}
    # What other apps show here (shipments...): see kam.core.panels. Rendered first, so the
    # page reuses the context processors' variables they computed.
    rendered = panels.render("account", request, account, page_scripts=ACCOUNT_PAGE_SCRIPTS)
    return HttpResponse(panels.render_template(request, "accounts/account_detail.html", {
        "account": account, "team": team, "rights": rights, "contacts": contacts,
        "chart": chart, "history": selectors.account_history(account), "nav": "accounts",
        "team_form": TeamMemberForm(users=selectors.users_for_team_choice().exclude(pk__in=members)),
        "team_user_options": _team_user_options(members) if rights.can_manage_team else "",
        "billing_form": BillingCodeForm(), "panels": rendered,
    }))  # fmt: skip


def _team_user_options(members: set[int]) -> str:
    """The team form's people as ``<option>`` tags: the form's widget rendered a template
    per option, a tenth of the account page's time for bench/web's 100 people."""
    users = selectors.users_for_team_choice().exclude(pk__in=members)
    return format_html_join(
        "",
        '<option value="{}">{}</option>',
        ((u.pk, str(u)) for u in users.only("pk", "username", "display_name")),
    )


@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    if not access.may_manage_archive(request.user):
        raise Http404
    form = AccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_create(by=request.user, data=form.service_data())
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Account “%(name)s” created.") % {"name": account})
            return redirect("account_detail", pk=account.pk)
    return render(request, "accounts/account_form.html", {"form": form, "nav": "accounts"})


@login_required
def account_edit(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    if not selectors.account_access(request.user, account.pk).can_edit:
        return forbidden(request, _("You may not edit this account."))
    form = AccountForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.account_update(by=request.user, account=account, data=form.service_data(),
                                    version=form.cleaned_data.get("version"))  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("account_detail", pk=account.pk)
    return render(
        request, "accounts/account_form.html", {"form": form, "account": account, "nav": "accounts"}
    )


@login_required
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    if not selectors.account_access(request.user, account.pk).can_delete:
        return forbidden(request, _("Only directors may delete accounts."))
    if request.method == "POST":
        name = str(account)
        try:
            services.account_delete(by=request.user, account=account)
        except ApplicationError as exc:
            # Other apps keep records of it (cases, visits...): say so on its page.
            refusal_messages(request, exc)
            return redirect("account_detail", pk=account.pk)
        messages.success(request, _("Account “%(name)s” deleted.") % {"name": name})
        return redirect("account_list")
    return render(request, "core/confirm.html", {
        "title": _("Delete account"), "subject": account,
        "message": _("This deletes the account with its contacts, ties, team and billing codes. "
                     "It cannot be undone."),
        "cancel": reverse("account_detail", args=[account.pk]), "danger": _("Delete"),
    })  # fmt: skip


def _back_to_account(account_id: int, anchor: str = "") -> HttpResponse:
    return redirect(reverse("account_detail", args=[account_id]) + anchor)


def _report_errors(request: HttpRequest, form: Any = None, exc: Exception | None = None) -> None:
    if isinstance(exc, ValidationError | ApplicationError):
        refusal_messages(request, exc)
    elif form is not None:
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            for error in errors:
                messages.error(request, f"{label}: {error}" if label else error)


def _post_action(
    request: HttpRequest, form: Any, action: Callable[..., object], success: str
) -> None:
    """Run a service call with a valid form's data; report success or the refusal as messages."""
    if not form.is_valid():
        _report_errors(request, form)
        return
    try:
        action(**form.cleaned_data)
    except (ValidationError, ApplicationError) as exc:
        _report_errors(request, exc=exc)
    else:
        messages.success(request, success)


@login_required
@require_POST
def billing_code_add(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = BillingCodeForm(request.POST)
    _post_action(
        request,
        form,
        lambda **data: services.billing_code_add(by=request.user, account=account, **data),
        _("Billing account code added."),
    )
    return _back_to_account(account.pk, "#team")


@login_required
@require_POST
def billing_code_remove(request: HttpRequest, pk: int, code_id: int) -> HttpResponse:
    account = _account(request, pk)
    billing = account.billing_codes.filter(pk=code_id).first()
    if billing is None:
        raise Http404
    try:
        services.billing_code_remove(by=request.user, billing_code=billing)
        messages.success(
            request, _("Billing account code %(code)s removed.") % {"code": billing.code}
        )
    except ApplicationError as exc:
        _report_errors(request, exc=exc)
    return _back_to_account(account.pk, "#team")


@login_required
@require_POST
def team_add(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    form = TeamMemberForm(request.POST, users=selectors.users_for_team_choice())
    _post_action(
        request,
        form,
        lambda **data: services.team_member_add(by=request.user, account=account, **data),
        _("Team member added."),
    )
    return _back_to_account(account.pk, "#team")


@login_required
@require_POST
def team_remove(request: HttpRequest, pk: int, member_id: int) -> HttpResponse:
    account = _account(request, pk)
    membership = account.team.filter(pk=member_id).first()
    if membership is None:
        raise Http404
    try:
        services.team_member_remove(by=request.user, membership=membership)
        messages.success(request, _("%(user)s removed from the team.") % {"user": membership.user})
    except ApplicationError as exc:
        _report_errors(request, exc=exc)
    return _back_to_account(account.pk, "#team")


# --- contacts ---------------------------------------------------------------------------------


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(request, pk)
    rights = selectors.account_access(request.user, account.pk)
    if not (rights.can_edit and rights.sees_contacts):
        return forbidden(request, _("You may not add contacts here."))
    form = ContactForm(
        request.POST or None, account=account, protected_fields=rights.protected_fields
    )
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_create(
                by=request.user, account=account, data=form.service_data()
            )
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Contact “%(name)s” added.") % {"name": contact.name})
            return redirect("contact_detail", pk=contact.pk)
    return render(request, "accounts/contact_form.html", {
        "form": form, "account": account, "rights": rights, "nav": "accounts",
    })  # fmt: skip


@login_required
def contact_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    rights = selectors.account_access(request.user, contact.account_id)
    protected = [
        (name, Contact._meta.get_field(name).verbose_name, getattr(contact, name))
        for name in rights.protected_fields
    ]
    services.contacts_reveal(
        by=request.user, contacts=[contact], channel=AccessLog.Channel.WEB, path=request.path,
        fields=[name for name, _label, value in protected if value],
    )  # fmt: skip
    ties = (
        selectors.contact_ties_for(request.user)
        .filter(Q(from_contact=contact) | Q(to_contact=contact))
        .select_related("from_contact__account", "to_contact__account")
    )
    staff_ties = selectors.staff_ties_for(request.user).filter(contact=contact)
    tie_candidates = selectors.contact_tie_candidates(request.user, contact)
    return render(request, "accounts/contact_detail.html", {
        "contact": contact, "account": contact.account, "rights": rights, "protected": protected,
        "withheld": [
            Contact._meta.get_field(f).verbose_name
            for f in (*Contact.DETAIL_FIELDS, *Contact.PERSONAL_FIELDS)
            if f not in rights.protected_fields
        ],
        "ties": ties, "staff_ties": staff_ties, "nav": "accounts",
        "direct_reports": contact.direct_reports.all(),
        # Lawful basis (PIPL): in force today, and a flag when personal information has none.
        "bases": (bases := privacy_selectors.active_bases(contact)),
        "basis_missing": privacy_selectors.holds_personal_information(contact) and not bases,
        "manages_privacy": rights.sees_personal and rights.can_edit,
        "tie_form": TieForm(contacts=tie_candidates),
        "staff_tie_form": StaffTieForm(users=selectors.users_for_team_choice()),
    })  # fmt: skip


@login_required
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    account = contact.account
    rights = selectors.account_access(request.user, account.pk)
    if not (rights.can_edit and contact.erased_at is None):
        return forbidden(request, _("You may not edit this contact."))
    form = ContactForm(request.POST or None, instance=contact, account=account,
                       protected_fields=rights.protected_fields)  # fmt: skip
    correction = CorrectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and correction.is_valid():
        try:
            services.contact_update(
                by=request.user, contact=contact, data=form.service_data(),
                version=form.cleaned_data.get("version"),
                requested_by_person=correction.cleaned_data["requested"],
                reason=correction.cleaned_data["reason"],
            )  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("contact_detail", pk=contact.pk)
    elif request.method != "POST":
        services.contacts_reveal(
            by=request.user, contacts=[contact], channel=AccessLog.Channel.WEB, path=request.path,
            fields=[f for f in rights.protected_fields if getattr(contact, f)],
        )  # fmt: skip
    return render(request, "accounts/contact_form.html", {
        "form": form, "account": account, "contact": contact, "rights": rights, "nav": "accounts",
        "correction": correction,
    })  # fmt: skip


@login_required
def contact_erase(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    rights = selectors.account_access(request.user, contact.account_id)
    if not (rights.can_edit and rights.sees_personal) or contact.erased_at is not None:
        return forbidden(request, _("You may not erase this contact."))
    if request.method == "POST":
        services.contact_erase(by=request.user, contact=contact, path=request.path)
        messages.success(request, _("The contact's personal data has been erased."))
        return redirect("contact_detail", pk=contact.pk)
    return render(request, "core/confirm.html", {
        "title": _("Erase personal data"), "subject": contact,
        "message": _("This wipes the person's contact details, personal information and ties, "
                     "and replaces their name with a pseudonym everywhere: in this record and "
                     "its history, in reports, cases, survey answers, notifications and the "
                     "access log. Their role at the account stays as a business record. The "
                     "erasure is logged and cannot be undone."),
        "cancel": reverse("contact_detail", args=[contact.pk]), "danger": _("Erase"),
    })  # fmt: skip


@login_required
@require_POST
def tie_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = TieForm(request.POST, contacts=selectors.contact_list_for(request.user))
    _post_action(
        request,
        form,
        lambda **data: services.contact_tie_create(by=request.user, from_contact=contact, **data),
        _("Tie recorded."),
    )
    return redirect(reverse("contact_detail", args=[contact.pk]) + "#ties")


@login_required
@require_POST
def tie_delete(request: HttpRequest, pk: int, tie_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    tie = selectors.contact_ties_for(request.user).filter(pk=tie_id).first()
    if tie is None:
        raise Http404
    try:
        services.contact_tie_delete(by=request.user, tie=tie)
        messages.success(request, _("Tie deleted."))
    except ApplicationError as exc:
        _report_errors(request, exc=exc)
    return redirect(reverse("contact_detail", args=[contact.pk]) + "#ties")


@login_required
@require_POST
def staff_tie_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = StaffTieForm(request.POST, users=selectors.users_for_team_choice())
    _post_action(
        request,
        form,
        lambda **data: services.staff_tie_create(by=request.user, contact=contact, **data),
        _("Tie recorded."),
    )
    return redirect(reverse("contact_detail", args=[contact.pk]) + "#ties")


@login_required
@require_POST
def staff_tie_delete(request: HttpRequest, pk: int, tie_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    tie = selectors.staff_ties_for(request.user).filter(pk=tie_id, contact=contact).first()
    if tie is None:
        raise Http404
    try:
        services.staff_tie_delete(by=request.user, tie=tie)
        messages.success(request, _("Tie deleted."))
    except ApplicationError as exc:
        _report_errors(request, exc=exc)
    return redirect(reverse("contact_detail", args=[contact.pk]) + "#ties")


# --- corporate groups -------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    if not access.sees_customer_data(request.user):
        raise Http404
    q = request.GET.get("q", "").strip()[:100]
    groups = selectors.group_list_for(request.user)
    if q:
        groups = groups.filter(Q(name__icontains=q) | Q(name_en__icontains=q))
    page = Paginator(groups.order_by("name"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "accounts/group_list.html", {
        "page": page, "q": q, "nav": "groups", "can_create": access.may_manage_archive(request.user),
    })  # fmt: skip


def _group(request: HttpRequest, pk: int) -> CorporateGroup:
    group = selectors.group_list_for(request.user).filter(pk=pk).first()
    if group is None:
        raise Http404
    return group


@login_required
@require_GET
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    accounts = selectors.with_list_relations(
        selectors.account_list_for(request.user).filter(group=group).order_by("tier", "name")
    )
    chain = []
    node = group.parent
    while node is not None and len(chain) < 20:
        chain.insert(0, node)
        node = node.parent
    return render(request, "accounts/group_detail.html", {
        "group": group, "accounts": accounts, "children": group.children.all(), "chain": chain,
        "nav": "groups", "can_edit": access.may_manage_archive(request.user),
        "panels": panels.render("group", request, group),
    })  # fmt: skip


@login_required
def group_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    if not access.may_manage_archive(request.user):
        raise Http404
    group = _group(request, pk) if pk else None
    form = GroupForm(request.POST or None, instance=group)
    if request.method == "POST" and form.is_valid():
        try:
            if group is None:
                group = services.group_create(by=request.user, data=form.service_data())
            else:
                services.group_update(by=request.user, group=group, data=form.service_data(),
                                      version=form.cleaned_data.get("version"))  # fmt: skip
        except (ValidationError, ApplicationError) as exc:
            refuse_on_form(form, exc)
        else:
            messages.success(request, _("Corporate group saved."))
            return redirect("group_detail", pk=group.pk)
    return render(
        request, "accounts/group_form.html", {"form": form, "group": group, "nav": "groups"}
    )


@login_required
def group_delete(request: HttpRequest, pk: int) -> HttpResponse:
    group = _group(request, pk)
    if not access.may_manage_archive(request.user):
        raise Http404
    if request.method == "POST":
        try:
            services.group_delete(by=request.user, group=group)
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            return redirect("group_detail", pk=group.pk)
        messages.success(request, _("Corporate group deleted."))
        return redirect("group_list")
    return render(request, "core/confirm.html", {
        "title": _("Delete corporate group"), "subject": group,
        "message": _("Only an empty group can be deleted."),
        "cancel": reverse("group_detail", args=[group.pk]), "danger": _("Delete"),
    })  # fmt: skip
