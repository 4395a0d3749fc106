from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "kam.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.db.models import Field, ForeignObject

        # Registers KAM's production checks with `kam check --deploy`.
        from kam.core import deploy  # noqa: F401

        # The second wall on PostgreSQL (kam.core.rls): its policies after every migrate,
        # its start-up check (kam check, kam serve) and the superuser warning (--deploy).
        from kam.core.rls import (
            TEAM_MODEL,
            AnyKey,
            check_row_level_security,
            check_superuser,
            install_after_migrate,
            team_changed,
        )

        post_migrate.connect(install_after_migrate, sender=self, dispatch_uid="kam-rls")
        Field.register_lookup(AnyKey)
        ForeignObject.register_lookup(AnyKey)
        # A request's team ids (kam.core.rls.team_account_ids) go stale with the team.
        post_save.connect(team_changed, sender=TEAM_MODEL, dispatch_uid="kam-rls-team-saved")
        post_delete.connect(team_changed, sender=TEAM_MODEL, dispatch_uid="kam-rls-team-deleted")
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
