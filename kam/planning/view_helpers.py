"""The pattern every planning page that writes follows, written once: a valid posted form
calls a service; a refusal (``ValidationError``, ``ApplicationError``) goes next to the
form's fields or into the page's messages, with nothing stored; success adds a message and
the caller redirects."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from kam.core.errors import ApplicationError
from kam.core.views import form_errors, refusal_messages


@dataclass
class Outcome:
    saved: bool = False
    value: Any = None  # what the service returned


def save_posted(request: HttpRequest, form: Any, call: Callable[[dict[str, Any]], Any],
                ok: str) -> Outcome:  # fmt: skip
    """On a POST with a valid ``form``: ``call(cleaned_data)``; its refusal goes next to the
    fields (the page renders again), its success adds ``ok`` to the messages."""
    if request.method != "POST" or not form.is_valid():
        return Outcome()
    try:
        value = call(form.cleaned_data)
    except ValidationError as exc:
        form_errors(form, exc)
    except ApplicationError as exc:
        form.add_error(None, str(exc.message))
    else:
        messages.success(request, ok)
        return Outcome(True, value)
    return Outcome()


def run_posted(request: HttpRequest, call: Callable[[], Any], ok: str) -> Outcome:
    """Run ``call()`` (a change posted from a page's button); its refusal becomes the page's
    messages, its success ``ok``."""
    try:
        value = call()
    except (ApplicationError, ValidationError) as exc:
        refusal_messages(request, exc)
        return Outcome()
    messages.success(request, ok)
    return Outcome(True, value)
