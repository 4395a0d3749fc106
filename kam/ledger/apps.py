from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "kam.ledger"
    label = "ledger"
    verbose_name = _("Shipment ledger")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import home, views

        home.register()  # the home page's sections (kam/ledger/home.py)

        # The account and group pages show shipments; accounts may not import the ledger.
        panels.register("account", "ledger.shipments", views.account_shipments_panel, order=10)
        panels.register("group", "ledger.shipments", views.group_shipments_panel, order=10)
        # The account list's trailing-12-month revenue (kam.accounts.figures).
        from kam.accounts import figures

        from . import selectors

        figures.register(
            figures.Figure("revenue_12m", selectors.with_revenue_12m, selectors.revenue_caption)
        )
