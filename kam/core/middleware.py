"""KAM's own middleware: the request context, the second-factor gate, session activity."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from kam.core import clients, requestcontext, twofactor, usersessions


class RequestContextMiddleware:
    """Makes the client address, user agent and path of the request current
    (:mod:`kam.core.requestcontext`) while it is answered."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        context = requestcontext.RequestContext(
            client_address=clients.client_address(request),
            user_agent=clients.user_agent(request),
            path=request.get_full_path()[:300],
        )
        with requestcontext.using(context):
            return self.get_response(request)


#: Paths a session that owes its second factor may still reach (besides the gate's pages).
_OPEN_PREFIXES = ("/static/", "/i18n/", "/api/")


class TwoFactorMiddleware:
    """Until a user who must give a second factor has given it, every page sends them to
    the code page (or, without an authenticator yet, to enrolment); nothing else answers.

    The JSON API (``/api/``) is left to its own authentication, which refuses such a
    session (:class:`kam.core.api.SessionCsrfAuth`) and still accepts bearer tokens.
    Must come after ``OTPMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if twofactor.needs_verification(request) and not self._open(request.path):
            return self._to_gate(request)
        return self.get_response(request)

    @staticmethod
    def _open(path: str) -> bool:
        gate = {reverse("two_factor_verify"), reverse("two_factor_enrol"), reverse("logout")}
        return path in gate or path.startswith(_OPEN_PREFIXES)

    @staticmethod
    def _to_gate(request: HttpRequest) -> HttpResponse:
        user = request.user
        if twofactor.is_enrolled(user):
            target = reverse("two_factor_verify")
        elif twofactor.required(user):
            target = reverse("two_factor_enrol")
        else:  # pending, but the authenticator was removed meanwhile: nothing is owed
            request.session.pop(twofactor.PENDING_KEY, None)
            return HttpResponseRedirect(request.get_full_path())
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        if request.headers.get("HX-Request") == "true":  # HtmxMiddleware runs later
            # A fragment request would swap the code page into part of the page: reload instead.
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


class SessionActivityMiddleware:
    """Writes a signed-in session's "last active" at most once a minute."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # After the view: a login or logout in it has settled which session this is.
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            usersessions.session_touch(request)
        return response
