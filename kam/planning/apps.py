from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "kam.planning"
    label = "planning"
    verbose_name = _("Account plans")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import home, stage_views, views, wallet_views

        home.register()  # the home page's sections (kam/planning/home.py)

        # The account page shows the current plan's summary (the archive does not import us).
        panels.register("account", "planning.plan", views.account_plan_panel, order=25)
        panels.register("group", "planning.plan", views.group_plan_panel, order=25)
        # Share of wallet and the relationship stage (kam/planning/wallet_views.py).
        panels.register("account", "planning.wallet", wallet_views.account_wallet_panel, order=26)
        panels.register("home", "planning.stage_proposals", stage_views.home_section, order=36)
