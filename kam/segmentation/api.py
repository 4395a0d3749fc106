"""The segmentation app's API, mounted under /api/v1/."""

from ninja import Router

router = Router(tags=["segmentation"])
