from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "kam.pricing"
    label = "pricing"
    verbose_name = _("Pricing and quotes")
    default_auto_field = "django.db.models.BigAutoField"
