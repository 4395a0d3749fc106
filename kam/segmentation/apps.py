from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SegmentationConfig(AppConfig):
    name = "kam.segmentation"
    label = "segmentation"
    verbose_name = _("Segmentation and account value")
    default_auto_field = "django.db.models.BigAutoField"
