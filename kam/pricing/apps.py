from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "kam.pricing"
    label = "pricing"
    verbose_name = _("Pricing and quotes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import views

        # The account page shows the active card and recent quotes (the archive does not
        # import us).
        panels.register("account", "pricing.card", views.account_pricing_panel, order=27)
