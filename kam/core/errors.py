"""The application's error types.

Services raise :class:`django.core.exceptions.ValidationError` (field by field) for bad
input and :class:`ApplicationError` for business refusals; views and the API map both
to a message in the user's language.
"""

from django.utils.functional import Promise


class ApplicationError(Exception):
    """A business refusal. ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str | Promise, *, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class ConflictError(ApplicationError):
    """The record changed since the caller read it (optimistic concurrency)."""

    status = 409


class PermissionDeniedError(ApplicationError):
    status = 403
