"""Template variables for the segmentation app's navigation entries (``segmentation/_nav.html``)."""

from django.http import HttpRequest


def nav(request: HttpRequest) -> dict[str, object]:
    return {}
