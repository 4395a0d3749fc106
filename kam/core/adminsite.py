"""The Django admin site behind KAM's own login and second factor.

Its login page sends people to KAM's (``/login/``), which asks for the second factor; and
it lets in only a verified session (django-otp's ``is_verified()``), whatever the role, so
a staff flag given to someone without an authenticator opens nothing.
"""

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kam.core import twofactor


class KamAdminSite(admin.AdminSite):
    def has_permission(self, request: HttpRequest) -> bool:
        user: Any = request.user
        return bool(super().has_permission(request) and user.is_verified())

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        user: Any = request.user
        if not user.is_authenticated:
            return redirect_to_login(target, reverse("login"))
        if not user.is_verified():
            page = "two_factor_verify" if twofactor.is_enrolled(user) else "two_factor_enrol"
            return redirect(f"{reverse(page)}?{urlencode({'next': target})}")
        return render(
            request,
            "core/forbidden.html",
            {"message": _("The administration site is for system administrators.")},
            status=403,
        )
