"""Template variables for the coverage app's navigation entries (``coverage/_nav.html``)."""

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, object]:
    return {}
