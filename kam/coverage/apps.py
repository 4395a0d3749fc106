from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverageConfig(AppConfig):
    name = "kam.coverage"
    label = "coverage"
    verbose_name = _("Coverage and visits")
    default_auto_field = "django.db.models.BigAutoField"
