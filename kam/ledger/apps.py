from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "kam.ledger"
    label = "ledger"
    verbose_name = _("Shipment ledger")
    default_auto_field = "django.db.models.BigAutoField"
