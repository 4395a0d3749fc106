"""Template variables for the service app's navigation entries (``service/_nav.html``)."""

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, object]:
    return {}
