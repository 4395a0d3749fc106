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
        # Its stored figures, and the unlinked codes' totals, follow an account's billing
        # codes (added, removed).
        from django.db.models.signals import post_delete, post_save

        from kam.accounts.models import BillingCode

        post_save.connect(_codes_changed, sender=BillingCode, dispatch_uid="ledger.revenue_12m")
        post_delete.connect(_codes_changed, sender=BillingCode, dispatch_uid="ledger.revenue_12m")


def _codes_changed(sender: object, instance: object, **kwargs: object) -> None:
    from django.db import transaction

    from . import selectors

    # After the commit: a code deleted with its account leaves no figure behind.
    account_id = getattr(instance, "account_id", None)
    if account_id is not None:
        transaction.on_commit(lambda: selectors.refresh_revenue_12m([account_id]))
    # A removed code's facts are unlinked again (a code added is left out by the reader;
    # its stored row goes too).
    code = getattr(instance, "code", None)
    if code:
        transaction.on_commit(lambda: selectors.refresh_unlinked_codes([code]))
