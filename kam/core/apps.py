from typing import Any

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

        # Every login lists its session and every logout removes it, whichever view or
        # test helper logged in (Django's own update_last_login hooks in the same way).
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_in.connect(_session_listed, dispatch_uid="kam.core.session_listed")
        user_logged_out.connect(_session_removed, dispatch_uid="kam.core.session_removed")


def _session_listed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kam.core.usersessions import session_record_login

    if request is not None and hasattr(request, "session"):
        session_record_login(request=request, user=user)


def _session_removed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    from kam.core.usersessions import session_forget

    if request is not None and hasattr(request, "session"):
        session_forget(request.session.session_key)
