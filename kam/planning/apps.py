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

        # A visit report's findings offered as opportunities (coverage does not import us).
        from . import growth_views

        panels.register("visit_report", "planning.opportunities",
                        growth_views.report_opportunity_panel)  # fmt: skip

        # The stakeholder map's warnings and account health on the account page, and the
        # latest health score as a sortable column of the account list (kam.accounts.figures).
        from kam.accounts import figures

        from . import health, health_views

        panels.register("account", "planning.health", health_views.account_health_panel, order=26)
        figures.register(figures.Figure("health_score", health.with_health_score))

        # Share of wallet and the relationship stage (kam/planning/wallet_views.py).
        panels.register("account", "planning.wallet", wallet_views.account_wallet_panel, order=26)
        panels.register("home", "planning.stage_proposals", stage_views.home_section, order=36)

        # A stage changed on the archive's account form or API joins the stage history.
        from kam.accounts.signals import account_changed

        from .stages import stage_changed_elsewhere

        account_changed.connect(stage_changed_elsewhere, dispatch_uid="kam-planning-stage")
