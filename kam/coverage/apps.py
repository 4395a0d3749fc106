from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoverageConfig(AppConfig):
    name = "kam.coverage"
    label = "coverage"
    verbose_name = _("Coverage and visits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import home, views

        home.register()  # the home page's sections (kam/coverage/home.py)

        # The portfolio's coverage totals are kept a minute; what they read moves them on.
        from django.db.models.signals import post_delete, post_save

        from .selectors import coverage_changed

        for model in ("coverage.Visit", "coverage.Assignment", "coverage.PolicyVersion",
                      "coverage.PolicyRule", "accounts.Account", "accounts.TeamMembership",
                      "core.User"):  # fmt: skip
            for signal in (post_save, post_delete):
                signal.connect(coverage_changed, sender=model, dispatch_uid=f"kam-cov-{model}")

        # The account page's timeline shows the account's visits and follow-ups.
        panels.register("account", "coverage.visits", views.account_visits_panel, order=30)
