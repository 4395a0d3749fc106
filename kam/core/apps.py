from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kam.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Registers KAM's production checks with `kam check --deploy`.
        from kam.core import deploy  # noqa: F401

        # The second wall on PostgreSQL (kam.core.rls): its policies after every migrate,
        # its start-up check (kam check, kam serve) and the superuser warning (--deploy).
        from kam.core.rls import check_row_level_security, check_superuser, install_after_migrate

        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="kam-rls")
        checks.register(check_row_level_security)
        checks.register(check_superuser, checks.Tags.security, deploy=True)
