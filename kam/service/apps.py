from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "kam.service"
    label = "service"
    verbose_name = _("Service: cases and surveys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from kam.core import panels

        from . import home, views

        home.register()  # the home page's sections (kam/service/home.py)

        panels.register("account", "service.cases", views.account_service_panel, order=40)
