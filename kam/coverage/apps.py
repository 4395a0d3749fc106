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

        # The account page's timeline shows the account's visits and follow-ups.
        panels.register("account", "coverage.visits", views.account_visits_panel, order=30)
