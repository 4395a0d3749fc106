"""The service app's API, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["service"])
