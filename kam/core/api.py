"""Authentication, the error shape and the ``/me`` endpoint of the JSON API."""

from typing import Annotated, Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.schema import DjangoGetter
from ninja.security import HttpBearer, SessionAuth
from pydantic import AfterValidator, BaseModel, field_validator, model_validator
from pydantic_core import PydanticCustomError

from kam.core import rls, twofactor
from kam.core.errors import ApplicationError
from kam.core.models import User
from kam.core.services import token_authenticate

#: A row id in a path, query or body. The bound is what the database's 64-bit keys hold:
#: a larger number is refused with 422 instead of overflowing the database driver.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _no_nul(value: str) -> str:
    # PostgreSQL cannot store or compare text with NUL characters; refuse them as input.
    if "\x00" in value:
        raise ValueError(_("NUL characters are not allowed."))
    return value


#: Text in a path or query parameter (request bodies use :class:`InSchema`).
Text = Annotated[str, AfterValidator(_no_nul)]


class InSchema(Schema):
    """Base of request schemas: an object (a JSON ``{...}``), and no string may contain a
    NUL character."""

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, value: Any) -> Any:
        # ninja reads attributes off anything that is not a dict, so a body of "garbage" or
        # [1, 2] would pass as an object whose every field is missing: with defaults for
        # all fields, a request nobody meant. (ninja's own validator has wrapped the input
        # in a DjangoGetter by now.)
        raw = value._obj if isinstance(value, DjangoGetter) else value
        if isinstance(raw, dict | BaseModel):
            return value
        if isinstance(raw, str):
            message = _("Expected a JSON object ({…}), not a string.")
        elif isinstance(raw, list):
            message = _("Expected a JSON object ({…}), not an array.")
        elif isinstance(raw, bool):
            message = _("Expected a JSON object ({…}), not true or false.")
        elif isinstance(raw, int | float):
            message = _("Expected a JSON object ({…}), not a number.")
        elif raw is None:
            message = _("Expected a JSON object ({…}), not null.")
        else:
            message = _("Expected a JSON object ({…}).")
        raise PydanticCustomError("not_an_object", message)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_in_text(cls, value: Any) -> Any:
        return _no_nul(value) if isinstance(value, str) else value


class Page(Schema):
    """The paging part of every list response (the items come beside it)."""

    count: int
    page: int
    page_size: int


class PageQuery(Schema):
    """``?page=&page_size=`` of list operations."""

    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=500)


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
            # The middleware scoped the request before the token was read (kam.core.rls).
            rls.scope_to(user)
        return user


class SessionCsrfAuth(SessionAuth):
    """The browser's session; unsafe methods need the CSRF token (ninja checks it)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # Without a session cookie there is nothing to protect: answer 401 (log in), not a
        # CSRF refusal, e.g. for a program whose bearer token was revoked.
        if not request.COOKIES.get(self.param_name):
            return None
        try:
            return super()._get_key(request)
        except HttpError:
            raise HttpError(403, _("CSRF check failed: reload the page and try again.")) from None

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        # A session that logged in with the password but still owes its second factor
        # is not a login for the API either (bearer tokens, tried first, are unaffected).
        user = super().authenticate(request, key)
        if user and twofactor.needs_verification(request):
            raise HttpError(
                401, _("Finish logging in with your two-factor code in the browser first.")
            )
        return user


class FieldError(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = []


def _error(api: NinjaAPI, request: HttpRequest, status: int, detail: str,
           errors: list[dict[str, str]] | None = None) -> HttpResponse:  # fmt: skip
    return api.create_response(request, {"detail": detail, "errors": errors or []}, status=status)


def _loc(loc: Any) -> str:
    # ninja prefixes the parameter source ("body", "query", "path") and the schema name.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "payload", "filters")]
    if not parts and loc and loc[0] == "body":
        return "body"  # the body as a whole (e.g. not an object)
    return ".".join(parts) or "request"


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(NinjaValidationError)
    def ninja_validation(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = [{"field": _loc(e.get("loc", ())), "message": str(e.get("msg", ""))}
                  for e in exc.errors]  # fmt: skip
        return _error(api, request, 422, _("The request has invalid values."), errors)

    @api.exception_handler(ValidationError)
    def django_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            errors = [{"field": field, "message": str(m)}
                      for field, msgs in exc.message_dict.items() for m in msgs]  # fmt: skip
        else:
            errors = [{"field": "request", "message": str(m)} for m in exc.messages]
        return _error(api, request, 422, _("The request has invalid values."), errors)

    @api.exception_handler(ApplicationError)
    def application_error(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
        errors = [{"field": exc.field, "message": str(exc.message)}] if exc.field else []
        return _error(api, request, exc.status, str(exc.message), errors)

    @api.exception_handler(ObjectDoesNotExist)
    def not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
        return _error(api, request, 404, _("Not found."))

    @api.exception_handler(Http404)
    def http404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _error(api, request, 404, _("Not found."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _error(api, request, 401, _("Log in or send a valid bearer token."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return _error(api, request, exc.status_code, str(exc))


router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str


@router.get("/me", response={200: MeOut, 401: ErrorOut}, summary="Who am I")
def me(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]
