"""Logging in and everything about it: the password, the second factor, one's own security
page, and the administrators' pages for lockouts and other users' logins."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView, PasswordChangeView
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_totp.models import TOTPDevice

from kam.core import access, lockout, twofactor, useragent, usersessions
from kam.core.models import Role, SecurityEvent, User, UserSession
from kam.core.security_events import security_event_record, security_events_of

# --- helpers ---------------------------------------------------------------------------------


def _next(request: HttpRequest, default: str = "home") -> str:
    """The page to go to afterwards: ``next`` if it stays inside KAM, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def device_label(user_agent: str) -> str:
    """ "Chrome · Windows", in the user's language where a part is unknown."""
    device = useragent.parse(user_agent)
    browser = device.browser or _("Unknown browser")
    if device.system:
        return _("%(browser)s on %(system)s") % {"browser": browser, "system": device.system}
    return browser


def _session_rows(rows: QuerySet[UserSession], current_key: str | None) -> list[dict[str, Any]]:
    return [
        {"row": row, "device": device_label(row.user_agent),
         "mobile": useragent.parse(row.user_agent).mobile,
         "current": row.session_key == current_key}
        for row in rows
    ]  # fmt: skip


def _confirm(request: HttpRequest, *, title: str, subject: str, message: str, danger: str,
             cancel: str, hidden: dict[str, str] | None = None) -> HttpResponse:  # fmt: skip
    return render(request, "core/confirm.html", {
        "title": title, "subject": subject, "message": message, "danger": danger,
        "cancel": cancel, "hidden": hidden or {},
    })  # fmt: skip


# --- the password --------------------------------------------------------------------------


class KamLoginView(LoginView):
    """Django's login (with django-axes' lockout in its authentication backends), then the
    second factor for those who owe one."""

    template_name = "core/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        response = super().form_valid(form)  # logs in; kam.core.apps lists the session
        if twofactor.asks_second_factor(user):
            self.request.session[twofactor.PENDING_KEY] = True
            page = "two_factor_verify" if twofactor.is_enrolled(user) else "two_factor_enrol"
            return redirect(f"{reverse(page)}?{_query_next(self.get_success_url())}")
        lockout.failures_forget(user.get_username())
        return response


def _query_next(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


class KamPasswordChangeView(PasswordChangeView):
    """Django's password change; this session stays logged in (under a new key), every other
    session of the user ends (Django would refuse them at their next request anyway)."""

    template_name = "core/password_change.html"
    success_url = reverse_lazy("security")

    def form_valid(self, form: Any) -> HttpResponse:
        old_key = self.request.session.session_key
        response = super().form_valid(form)
        user: User = self.request.user  # type: ignore[assignment]
        usersessions.session_rekeyed(request=self.request, old_key=old_key)
        usersessions.sessions_end_all(user=user, by=user, keep=self.request.session.session_key)
        security_event_record(by=user, user=user, kind=SecurityEvent.Kind.PASSWORD_CHANGED)
        messages.success(self.request, _("Your password is changed; your other sessions ended."))
        return response

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "nav": "security"}


# --- the second factor ----------------------------------------------------------------------


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=40,
        error_messages={"required": gettext_lazy("Enter the code.")},
    )


def _locked_out(request: HttpRequest, username: str) -> HttpResponse:
    """The lockout page, after ending the half-logged-in session."""
    lock = lockout.lockout_for(username, request.axes_ip_address)  # type: ignore[attr-defined]
    auth_logout(request)
    return render(request, "core/locked_out.html", {"until": lock.until if lock else None},
                  status=429)  # fmt: skip


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The code after the password: six digits from the authenticator, or a recovery code.
    Wrong codes count toward the lockout like wrong passwords."""
    user: User = request.user  # type: ignore[assignment]
    if not twofactor.needs_verification(request):
        return redirect(_next(request))
    if not twofactor.is_enrolled(user):
        return redirect(f"{reverse('two_factor_enrol')}?{_query_next(_next(request))}")
    username = user.get_username()
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if lockout.is_locked(request, username):
            return _locked_out(request, username)
        if form.is_valid():
            check = twofactor.code_verify(user=user, code=form.cleaned_data["code"])
            if check.device is not None:
                twofactor.session_verify(request, check.device)
                lockout.failures_forget(username)
                if check.recovery:
                    left = twofactor.recovery_codes_left(user)
                    messages.warning(request, ngettext(
                        "You logged in with a recovery code. %(n)d code is left: make new ones on your security page.",
                        "You logged in with a recovery code. %(n)d codes are left: make new ones on your security page.",
                        left) % {"n": left})  # fmt: skip
                return redirect(_next(request))
            if check.wait_seconds:
                form.add_error("code", ngettext(
                    "Too many wrong codes: wait %(n)d second and try again.",
                    "Too many wrong codes: wait %(n)d seconds and try again.",
                    check.wait_seconds) % {"n": check.wait_seconds})  # fmt: skip
            else:
                lockout.failure_record(request, username)
                if getattr(request, "axes_locked_out", False):
                    return _locked_out(request, username)
                form.add_error("code", _(
                    "This code is not right. Enter the six digits your authenticator app shows "
                    "now, or one of your recovery codes."))  # fmt: skip
    return render(request, "core/two_factor_verify.html", {
        "form": form, "next": _next(request), "required": twofactor.required(user),
    })  # fmt: skip


@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator: scan the QR code (or type the key), confirm with a code.

    A user who already has one reaches this only from a verified session (to replace it):
    otherwise the password alone could register a second authenticator."""
    user: User = request.user  # type: ignore[assignment]
    if twofactor.is_enrolled(user) and not user.is_verified():  # type: ignore[attr-defined]
        return redirect(f"{reverse('two_factor_verify')}?{_query_next(_next(request))}")
    device: TOTPDevice = twofactor.enrolment_start(user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = twofactor.enrolment_confirm(
            request=request, user=user, device=device, code=form.cleaned_data["code"]
        )
        if codes is not None:
            request.session[twofactor.NEW_CODES_KEY] = codes
            lockout.failures_forget(user.get_username())
            messages.success(request, _("Two-factor authentication is on."))
            return redirect(f"{reverse('recovery_codes')}?{_query_next(_next(request))}")
        form.add_error("code", _(
            "This code does not match. Check that the app shows an entry for KAM and type the "
            "six digits it shows now (the code changes every 30 seconds)."))  # fmt: skip
    return render(request, "core/two_factor_enrol.html", {
        "form": form, "next": _next(request), "qr": twofactor.qr_data_uri(device),
        "secret": twofactor.secret_for_typing(device), "required": twofactor.required(user),
        "replacing": twofactor.is_enrolled(user),
    })  # fmt: skip


@login_required
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes, shown this once."""
    codes = request.session.pop(twofactor.NEW_CODES_KEY, None)
    if not codes:
        messages.info(request, _("Recovery codes are shown only once, right after they are made. "
                                 "Make new ones if you have lost them."))  # fmt: skip
        return redirect("security")
    return render(request, "core/recovery_codes.html", {"codes": codes, "next": _next(request)})


# --- one's own security page -------------------------------------------------------------------


@login_required
def security(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    device = twofactor.authenticator(user)
    return render(request, "core/security.html", {
        "nav": "security",
        "device": device,
        "required": twofactor.required(user),
        "codes_left": twofactor.recovery_codes_left(user) if device else 0,
        "sessions": _session_rows(usersessions.sessions_of(user), request.session.session_key),
        "events": security_events_of(user, limit=10),
    })  # fmt: skip


def _verified(request: HttpRequest) -> bool:
    return bool(request.user.is_verified())  # type: ignore[union-attr]


@login_required
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not twofactor.is_enrolled(user) or not _verified(request):
        raise Http404
    if request.method == "POST":
        request.session[twofactor.NEW_CODES_KEY] = twofactor.recovery_codes_renew(user=user)
        return redirect(f"{reverse('recovery_codes')}?{_query_next(reverse('security'))}")
    return _confirm(
        request, title=_("New recovery codes"), subject=str(user),
        message=_("Your present recovery codes stop working and ten new ones are shown once."),
        danger=_("Make new codes"), cancel=reverse("security"),
    )  # fmt: skip


@login_required
def two_factor_remove(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not twofactor.is_enrolled(user) or not _verified(request):
        raise Http404
    if twofactor.required(user):
        messages.error(request, _("Your role must log in with two-factor authentication; you "
                                  "can replace your authenticator but not turn it off."))  # fmt: skip
        return redirect("security")
    if request.method == "POST":
        twofactor.two_factor_remove(user=user, by=user)
        messages.success(request, _("Two-factor authentication is off."))
        return redirect("security")
    return _confirm(
        request, title=_("Turn off two-factor authentication"), subject=str(user),
        message=_("Your password alone will log you in. Your authenticator entry and "
                  "recovery codes stop working."),
        danger=_("Turn off"), cancel=reverse("security"),
    )  # fmt: skip


@login_required
@require_POST
def session_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End one of one's own sessions (an administrator: anyone's)."""
    user: User = request.user  # type: ignore[assignment]
    rows = UserSession.objects.all() if access.may_manage_logins(user) else user.login_sessions
    row = get_object_or_404(rows, pk=pk)
    if row.session_key == request.session.session_key:
        messages.error(request, _("This is the session you are using: log out instead."))
    else:
        usersessions.session_end(row=row, by=user)
        messages.success(request, _("The session is ended; that browser is logged out."))
    if row.user_id != user.pk:
        return redirect("user_security", pk=row.user_id)
    return redirect("security")


@login_required
@require_POST
def sessions_end_others(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    n = usersessions.sessions_end_all(user=user, by=user, keep=request.session.session_key)
    messages.success(request, ngettext("%(n)d other session ended.",
                                       "%(n)d other sessions ended.", n) % {"n": n})  # fmt: skip
    return redirect("security")


# --- administrators: lockouts -------------------------------------------------------------------


class UnlockForm(forms.Form):
    rule = forms.ChoiceField(choices=[("username_address", ""), ("username", ""), ("address", "")])
    username = forms.CharField(required=False, max_length=255)
    address = forms.GenericIPAddressField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rule = data.get("rule")
        if rule in ("username_address", "username") and not data.get("username"):
            self.add_error("username", _("Give the user name to unlock."))
        if rule in ("username_address", "address") and not data.get("address"):
            self.add_error("address", _("Give the address to unlock."))
        return data


@login_required
def lockouts(request: HttpRequest) -> HttpResponse:
    if not access.may_unlock_logins(request.user):  # type: ignore[arg-type]
        raise Http404
    return render(request, "core/lockouts.html", {
        "nav": "lockouts", "locks": lockout.lockouts_current(), "rules": lockout.rules(),
        "minutes": int(lockout.cooloff().total_seconds() // 60),
    })  # fmt: skip


@login_required
def lockout_unlock(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_unlock_logins(user):
        raise Http404
    form = UnlockForm(request.POST or request.GET)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("lockouts")
    data = form.cleaned_data
    rule = lockout.rule(data["rule"])
    username = data["username"] if "username" in rule.fields else None
    address = data["address"] if "ip_address" in rule.fields else None
    subject = " · ".join(v for v in (username, address) if v)
    if request.method == "POST":
        lockout.lockout_release(by=user, rule_key=rule.key, username=username, address=address)
        messages.success(request, _("Unlocked: %(subject)s.") % {"subject": subject})
        return redirect("lockouts")
    return _confirm(
        request, title=_("Unlock"), subject=subject,
        message=_("%(rule)s: its failed log-ins are forgotten and the lock ends now.")
        % {"rule": rule.label},
        danger=_("Unlock"), cancel=reverse("lockouts"),
        hidden={"rule": rule.key, "username": username or "", "address": address or ""},
    )  # fmt: skip


# --- administrators: other users' logins ----------------------------------------------------------


@login_required
def users_security(request: HttpRequest) -> HttpResponse:
    if not access.may_manage_logins(request.user):  # type: ignore[arg-type]
        raise Http404
    query = (request.GET.get("q") or "").strip()[:150]
    now = timezone.now()
    users = User.objects.annotate(
        enrolled=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        session_count=Count("login_sessions", filter=Q(login_sessions__expires_at__gt=now)),
    ).order_by("username")
    if query:
        users = users.filter(Q(username__icontains=query) | Q(display_name__icontains=query))
    rows = [{"user": u, "required": twofactor.required(u)} for u in users[:500]]
    return render(request, "core/users_security.html", {
        "nav": "users_security", "rows": rows, "q": query, "roles": Role,
    })  # fmt: skip


@login_required
def user_security(request: HttpRequest, pk: int) -> HttpResponse:
    if not access.may_manage_logins(request.user):  # type: ignore[arg-type]
        raise Http404
    subject = get_object_or_404(User, pk=pk)
    device = twofactor.authenticator(subject)
    return render(request, "core/user_security.html", {
        "nav": "users_security", "subject": subject, "device": device,
        "required": twofactor.required(subject),
        "codes_left": twofactor.recovery_codes_left(subject) if device else 0,
        "sessions": _session_rows(usersessions.sessions_of(subject), request.session.session_key),
        "events": security_events_of(subject, limit=20),
    })  # fmt: skip


@login_required
def user_two_factor_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """A lost phone: remove the user's authenticator and codes, end their sessions; they
    set it up again at their next login."""
    user: User = request.user  # type: ignore[assignment]
    if not access.may_manage_logins(user):
        raise Http404
    subject = get_object_or_404(User, pk=pk)
    if subject.pk == user.pk:
        messages.error(
            request, _("Reset your own two-factor authentication on your security page.")
        )
        return redirect("user_security", pk=pk)
    if request.method == "POST":
        twofactor.two_factor_remove(user=subject, by=user)
        ended = usersessions.sessions_end_all(user=subject, by=user)
        messages.success(request, ngettext(
            "Two-factor authentication of %(user)s is reset and %(n)d session ended; they set it up again at their next login.",
            "Two-factor authentication of %(user)s is reset and %(n)d sessions ended; they set it up again at their next login.",
            ended) % {"user": subject, "n": ended})  # fmt: skip
        return redirect("user_security", pk=pk)
    return _confirm(
        request, title=_("Reset two-factor authentication"), subject=f"{subject} ({subject.username})",
        message=_("Their authenticator and recovery codes stop working and all their sessions "
                  "end. At their next login they set up a new authenticator. Do this only when "
                  "you are sure who is asking."),
        danger=_("Reset"), cancel=reverse("user_security", args=[pk]),
    )  # fmt: skip


@login_required
@require_POST
def user_sessions_end(request: HttpRequest, pk: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if not access.may_manage_logins(user):
        raise Http404
    subject = get_object_or_404(User, pk=pk)
    keep = request.session.session_key if subject.pk == user.pk else None
    n = usersessions.sessions_end_all(user=subject, by=user, keep=keep)
    messages.success(request, ngettext("%(n)d session ended.", "%(n)d sessions ended.", n)
                     % {"n": n})  # fmt: skip
    return redirect("user_security", pk=pk)
